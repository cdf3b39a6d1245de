//! `trainer` command line: one subcommand per task, each delegating to its module's `run`.

use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
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
    Study(trainer::study::StudyArgs),
    Eval(eval::EvalArgs),
    Cost(cost::CostArgs),
    Train(train::cli::TrainArgs),
    Export(export::ExportArgs),
    Upscale(trainer::upscale::UpscaleArgs),
    /// Dataset commands: download DIV2K.
    #[command(subcommand)]
    Data(data::cli::DataCommand),
    /// Benchmarks: a training step, a search iteration, SAN's noise, an upscale on core's
    /// engine, each against its variants in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// `m`: the subcommand's matches, which tell the settings what the user gave (presets
/// fill the rest).
fn run(cli: Cli, m: &ArgMatches) -> anyhow::Result<()> {
    match cli.command {
        Command::Search(args) => trainer::search::cli::run(&args, m),
        Command::Pipeline(args) => trainer::pipeline::run(&args, m),
        Command::Study(args) => trainer::study::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Cost(args) => cost::run(&args),
        Command::Train(args) => train::cli::run(&args, m),
        Command::Bench(cmd) => bench::run(&cmd),
        Command::Export(args) => export::run(&args),
        Command::Upscale(args) => trainer::upscale::run(&args).map(drop),
        Command::Data(cmd) => data::cli::run(&cmd),
    }
}

fn main() -> ExitCode {
    trainer::malloc::keep_freed_memory();
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let sub = matches.subcommand().map_or(&matches, |(_, m)| m);
    match run(cli, sub) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
