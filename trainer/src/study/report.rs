//! `report.md`: every run, the configurations' means over seeds, the plots and the
//! claims table, all from the results entries and the kept search-step timing (measured
//! once, read back after), so the same runs give the same report.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use super::claims::{claims, groups, seed_noise};
use super::plots::{ALPHAS_SVG, PARETO_SVG, TIMING_SVG};
use super::results::{Entry, Score};
use super::timing::{TIMING_FILE, Timing};
use crate::run::dir::write_file_atomic;

/// `PSNR / SSIM` or — .
fn cell(s: Option<Score>) -> String {
    s.map_or_else(|| "—".into(), |s| format!("{:.2} / {:.4}", s.psnr, s.ssim))
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "—".into(), |v| v.to_string())
}

/// The report's markdown for the finished `entries` of the plan `origin`, whose runs
/// `pending` have not finished yet; `bicubic`: the reference's score on each test set the
/// runs used.
pub fn markdown(
    origin: &str,
    entries: &[Entry],
    pending: &[&str],
    bicubic: &[(String, Score)],
    timing: Option<&Timing>,
) -> String {
    let mut md = String::from("# QuantNAS study\n\n");
    let progress = if pending.is_empty() {
        format!("{} runs", entries.len())
    } else {
        format!(
            "{} of {} runs finished; not run yet: {} (the same command continues with them)",
            entries.len(),
            entries.len() + pending.len(),
            pending.join(", ")
        )
    };
    let _ = writeln!(
        md,
        "Plan: {origin}. {progress}. PSNR / SSIM: x4 Y channel, exported integer model on core's engine; GBitOps at 32×32 LR (core's cost counting). Machine-readable: `results.json`.\n"
    );
    let refs: Vec<String> = bicubic
        .iter()
        .map(|(set, s)| format!("{set} {}", cell(Some(*s))))
        .collect();
    let _ = writeln!(md, "Bicubic (MATLAB `imresize`): {}.\n", refs.join(", "));
    md += "## Claims (spec §10)\n\n| claim | this study (Set14 PSNR @ GBitOps) | verdict |\n|---|---|---|\n";
    for c in claims(entries, timing) {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            c.claim,
            c.evidence,
            c.verdict.text()
        );
    }
    let noise = seed_noise(&groups(entries));
    let _ = writeln!(
        md,
        "\nA difference of at most σ = {noise:.2} dB, the pooled standard deviation of Set14 PSNR over the configurations run with several seeds, is within the seeds' spread: a claim holds only where every comparison goes its way by more than that."
    );
    let _ = writeln!(
        md,
        "Comparisons are of configurations that differ in the one setting the claim is about; over several seeds, of their means. At this scale (CPU presets, minutes instead of a GPU-day), compare orderings, not the paper's absolute numbers.\n\n## Set14 PSNR vs BitOps\n\n![Set14 PSNR vs GBitOps]({PARETO_SVG})\n\nEach method's Pareto front is a line (QuantNAS's variants apart).\n\n## Alpha dynamics (with and without entropy regularisation)\n\n![mean max softmax per epoch]({ALPHAS_SVG})\n\nThe mean over slots of the largest softmax probability after each search epoch, for the searches with SAN, ADQ and bits {{4, 8}}; each run's `search/alphas.svg` draws its alphas.\n"
    );
    if let Some(t) = timing {
        md += &timing_section(t);
    }
    let set14_bicubic = bicubic
        .iter()
        .find(|(set, _)| set.eq_ignore_ascii_case("set14"))
        .map(|(_, s)| s.psnr);
    md += "## Configurations (mean ± std over seeds)\n\n| configuration | η | seeds | GBitOps | Set14 PSNR | vs bicubic |\n|---|---|---|---|---|---|\n";
    for g in groups(entries) {
        let psnr = g
            .set14
            .map_or_else(|| "—".into(), |(m, s)| format!("{m:.2} ± {s:.2}"));
        let seeds: Vec<String> = g.seeds.iter().map(u64::to_string).collect();
        let gain = match (g.set14, set14_bicubic) {
            (Some((m, _)), Some(b)) => format!("{:+.2} dB", m - b),
            _ => "—".into(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.3} | {psnr} | {gain} |",
            g.config.label(),
            opt(g.config.penalty),
            seeds.join(", "),
            g.gbitops
        );
    }
    md += "\n## Runs\n\n| run | method | space | bits | mode | residual | η | entropy | seed | GBitOps | params | Set5 | Set14 | B100 | model |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for e in entries {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.3} | {} | {} | {} | {} | `{}` |",
            e.name,
            e.setup.method.name(),
            e.setup.space,
            e.setup.bits,
            opt(e.setup.mode.map(super::claims::mode_name)),
            opt(e.setup.residual),
            opt(e.setup.penalty),
            opt(e.setup.entropy),
            e.seed,
            e.gbitops,
            e.params,
            cell(e.set5),
            cell(e.set14),
            cell(e.b100),
            e.model
        );
    }
    md
}

/// The Fig. 8 section: the plot and a table of the kept timing.
fn timing_section(t: &Timing) -> String {
    let s = &t.settings;
    let mut md = format!(
        "## Search step time vs searched bit widths (Fig. 8)\n\n![ms per search iteration]({TIMING_SVG})\n\nOne search iteration (alpha step + weight step) of the {} supernet with {}, batch {} at {}×{} LR, {} timed iterations after {} warm-up per mode and bit set, the modes interleaved round by round (`trainer bench search-step`'s code), on {}. Measured once and kept in `{TIMING_FILE}`; machine time, not seeds, so it is not remeasured when the study runs again.\n\n| bits | widths | mode | ms / iter | vs shared (median per round) | 95 % interval |\n|---|---|---|---|---|---|\n",
        t.space, t.residual, s.batch, s.lr_size, s.lr_size, s.iters, s.warmup, t.machine
    );
    for r in &t.rows {
        let ci = r
            .vs_shared_ci95
            .map_or_else(|| "—".into(), |(a, b)| format!("{a:.3}–{b:.3}"));
        let _ = writeln!(
            md,
            "| {{{}}} | {} | {} | {:.0} | {:.3} | {ci} |",
            r.bits, r.widths, r.mode, r.ms_per_iter, r.vs_shared
        );
    }
    md.push('\n');
    md
}

/// Writes `dir/report.md` (see [`markdown`]).
///
/// # Errors
/// An unwritable file.
pub fn write(
    dir: &Path,
    origin: &str,
    entries: &[Entry],
    pending: &[&str],
    bicubic: &[(String, Score)],
    timing: Option<&Timing>,
) -> Result<()> {
    let path = dir.join("report.md");
    write_file_atomic(
        &path,
        markdown(origin, entries, pending, bicubic, timing).as_bytes(),
    )
    .with_context(|| format!("writing {}", path.display()))
}
