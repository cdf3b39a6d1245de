//! The study's search-step timing (the paper's Fig. 8): milliseconds per search iteration
//! of SAN, shared weights and independent weights as the number of searched bit widths
//! grows, measured by `trainer bench search-step`'s own code with the modes interleaved
//! round by round.
//!
//! A timing depends on the machine, not on seeds, so it is measured once and kept in
//! `DIR/`[`TIMING_FILE`] with the settings and the machine it ran on; later invocations
//! (and `--report-only`) read it back, so the same study folder gives the same report.
//! Delete the file, or change the plan's `[timing]`, to measure again.

use std::path::Path;

use anyhow::{Context, Result};
use quantnas_core::arch::{Residual, SearchSpace};
use serde::{Deserialize, Serialize};

use crate::backend::BackendKind;
use crate::bench::search_step::{SearchStepArgs, measure};
use crate::run::dir::write_file_atomic;
use crate::search::alphas::SearchBits;
use crate::search::bitmixer::MixMode;
use crate::search::noise::NoisePlace;

/// File of the timing in the study folder.
pub const TIMING_FILE: &str = "search_timing.json";

/// The plan's `[timing]` table: what to time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingPlan {
    /// Searched bit sets, each as `--bits` spells it (`"2,3,4,8"`), by growing size.
    pub bits: Vec<String>,
    /// Samples per batch.
    pub batch: usize,
    /// LR crop side.
    pub lr_size: usize,
    /// Timed iterations per mode and bit set (6 or more give a 95 % interval).
    pub iters: usize,
    /// Untimed warm-up iterations per mode and bit set.
    #[serde(default = "one")]
    pub warmup: usize,
}

fn one() -> usize {
    1
}

impl TimingPlan {
    /// Checks every bit set parses.
    ///
    /// # Errors
    /// A bit set `--bits` would refuse, none at all, or no timed iteration.
    pub fn check(&self) -> Result<()> {
        anyhow::ensure!(!self.bits.is_empty(), "[timing] needs at least one bit set");
        anyhow::ensure!(self.iters > 0, "[timing] iters must be at least 1");
        for b in &self.bits {
            SearchBits::parse(b).with_context(|| format!("[timing] bits {b:?}"))?;
        }
        Ok(())
    }
}

/// One timed mode at one bit set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimingRow {
    /// The searched widths, as `--bits` spells them.
    pub bits: String,
    /// How many.
    pub widths: usize,
    /// `san`, `shared` or `independent`.
    pub mode: String,
    /// Mean milliseconds per search iteration (alpha step + weight step).
    pub ms_per_iter: f64,
    /// Median over rounds of its time ÷ shared's in the same round.
    pub vs_shared: f64,
    /// 95 % interval of that median (from 6 rounds on).
    pub vs_shared_ci95: Option<(f64, f64)>,
}

/// A measured timing, as kept in [`TIMING_FILE`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// What was timed.
    pub settings: TimingPlan,
    /// The search space and residual of the timed supernet.
    pub space: String,
    /// Residual wrapping of the timed supernet.
    pub residual: String,
    /// Where: the CPU model and the threads the process could use.
    pub machine: String,
    /// One row per bit set and mode, bit sets in plan order.
    pub rows: Vec<TimingRow>,
}

/// The modes the paper's figure compares, shared (the reference) first.
const MODES: [MixMode; 3] = [MixMode::Shared, MixMode::San, MixMode::Independent];

/// The timing of `plan` kept in `dir`, measured now when absent or of other settings;
/// `measure_missing` false only reads (`--report-only`).
///
/// # Errors
/// An unreadable or corrupt timing file, or a failed measurement.
pub fn load_or_measure(
    dir: &Path,
    plan: &TimingPlan,
    measure_missing: bool,
) -> Result<Option<Timing>> {
    let path = dir.join(TIMING_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let kept: Timing = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a study timing", path.display()))?;
        if kept.settings == *plan {
            return Ok(Some(kept));
        }
        eprintln!(
            "study: {} was measured with other [timing] settings; measuring again",
            path.display()
        );
    }
    if !measure_missing {
        return Ok(None);
    }
    let t = time(plan)?;
    let text = serde_json::to_string_pretty(&t)?;
    write_file_atomic(&path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(Some(t))
}

/// Measures every bit set of `plan` on this machine's CPU (flex).
fn time(plan: &TimingPlan) -> Result<Timing> {
    let (space, residual) = (SearchSpace::BasicB, Residual::Adq);
    let mut rows = Vec::new();
    for (i, bits) in plan.bits.iter().enumerate() {
        eprintln!(
            "study: timing search iterations, bits {{{bits}}} ({}/{})",
            i + 1,
            plan.bits.len()
        );
        let args = SearchStepArgs {
            mode: MODES.to_vec(),
            bits: bits.clone(),
            space,
            adq: residual,
            batch: plan.batch,
            lr_size: plan.lr_size,
            iters: plan.iters,
            warmup: plan.warmup,
            fp_floor: false,
            backend: vec![BackendKind::Flex],
            noise: NoisePlace::Auto,
            json: false,
        };
        let (timings, _) = measure(&args)?;
        let widths = SearchBits::parse(bits)?.len();
        for (m, t) in MODES.iter().zip(timings) {
            rows.push(TimingRow {
                bits: bits.clone(),
                widths,
                mode: m.name(),
                ms_per_iter: t.ms_per_iter,
                vs_shared: t.ratio,
                vs_shared_ci95: t.ratio_ci,
            });
        }
    }
    Ok(Timing {
        settings: plan.clone(),
        space: space.name().to_string(),
        residual: residual.name().to_string(),
        machine: machine(),
        rows,
    })
}

/// The CPU model (Linux's `/proc/cpuinfo`) and the threads available.
fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    format!("{model}, {threads} threads, flex")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_bit_set_is_refused() {
        let mut p = TimingPlan {
            bits: vec![],
            batch: 1,
            lr_size: 8,
            iters: 6,
            warmup: 1,
        };
        assert!(p.check().is_err(), "no bit set");
        p.bits = vec!["4,8".into(), "4,5".into()];
        let e = format!("{:#}", p.check().unwrap_err());
        assert!(e.contains("\"4,5\"") && e.contains("bit width 5"), "{e}");
    }
}
