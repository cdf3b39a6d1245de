//! `trainer cost`: parameters, MACs and BitOps of a network, with the per-layer table.

use anyhow::Context;
use clap::Args;
use quantnas_core::cost::{CostReport, cost};

use crate::archspec::resolve_arch;

/// Print params, MACs and BitOps of an architecture at an LR input size.
///
/// BitOps = Σ MACs · weight bits · activation bits over all convolutions (32-bit layers
/// count 32·32). Published tables report BitOps at a 32×32 LR input (the default).
#[derive(Debug, Args)]
pub struct CostArgs {
    /// `espcn`, `srresnet`, `rfdn` or a genotype JSON file.
    #[arg(long)]
    pub arch: String,
    /// Bit width of every layer (fixed nets default to 8; overrides a genotype's bits).
    #[arg(long)]
    pub bits: Option<u32>,
    /// LR input side in pixels.
    #[arg(long, default_value_t = 32)]
    pub lr_size: usize,
    /// Print one JSON object (`params`, `macs`, `bitops`, `layers`, …) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the subcommand.
pub fn run(args: &CostArgs) -> anyhow::Result<()> {
    let arch = resolve_arch(&args.arch, args.bits)?;
    let report =
        cost(&arch.graph(), args.lr_size, args.lr_size).context("cannot cost this input size")?;
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["arch"] = serde_json::to_value(&arch)?;
        v["name"] = arch.name().into();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", table(&arch.name(), &report));
    }
    Ok(())
}

/// Human-readable cost table.
pub fn table(name: &str, r: &CostReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "{name} at {}x{} LR", r.lr_height, r.lr_width);
    let _ = writeln!(
        s,
        "{:<28} {:<22} {:<20} {:>4} {:>14} {:>16}",
        "layer", "op", "kernel", "bits", "MACs", "BitOps"
    );
    for l in &r.layers {
        let _ = writeln!(
            s,
            "{:<28} {:<22} {:<20} {:>4} {:>14} {:>16}",
            l.name, l.op, l.kernel, l.bits, l.macs, l.bitops
        );
    }
    let _ = writeln!(
        s,
        "params {}  MACs {} ({:.3} G)  BitOps {} ({:.3} G)",
        r.params,
        r.macs,
        r.macs as f64 / 1e9,
        r.bitops,
        r.bitops as f64 / 1e9
    );
    s
}
