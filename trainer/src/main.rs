//! `trainer` command line: one subcommand per task, each delegating to its module's `run`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use trainer::{bench, cost, data, eval, export, train};

/// QuantNAS for x4 super-resolution: search, retrain, evaluate and export.
///
/// Every subcommand has its own help: `trainer <COMMAND> --help`.
#[derive(Debug, Parser)]
#[command(name = "trainer", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    // Help text comes from each Args struct's doc comment.
    Search(trainer::search::cli::SearchArgs),
    Pipeline(trainer::pipeline::PipelineArgs),
    Eval(eval::EvalArgs),
    Cost(cost::CostArgs),
    Train(train::cli::TrainArgs),
    Export(export::ExportArgs),
    /// Dataset commands: download DIV2K.
    #[command(subcommand)]
    Data(data::cli::DataCommand),
    /// Benchmarks: a training step, a search iteration, SAN's noise, an upscale on core's
    /// engine, each against its variants in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Search(args) => trainer::search::cli::run(&args),
        Command::Pipeline(args) => trainer::pipeline::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Cost(args) => cost::run(&args),
        Command::Train(args) => train::cli::run(&args),
        Command::Bench(cmd) => bench::run(&cmd),
        Command::Export(args) => export::run(&args),
        Command::Data(cmd) => data::cli::run(&cmd),
    }
}

fn main() -> ExitCode {
    trainer::malloc::keep_freed_memory();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
