//! The search loop (spec §6): alternating alpha and weight steps on the two halves of the
//! training images, per-epoch validation, logs and plots, atomic checkpoints and resume.
//!
//! Run folder:
//! ```text
//! RUN/config.json            resolved SearchConfig (what --resume reads)
//! RUN/log.txt, metrics.csv   one metrics row per epoch
//! RUN/alphas.csv             epoch,slot,op,bits,alpha,prob for every (op, bit) of every slot
//! RUN/alphas.svg             softmax of every slot over the epochs (paper Fig. 9)
//! RUN/genotypes/epoch_E.json the argmax genotype after each epoch
//! RUN/genotype.json, .svg    the final genotype and its picture (paper Fig. 17/18)
//! RUN/checkpoints/last/      supernet, alphas, both optimisers, state.json
//! ```
//!
//! A search killed at any moment resumes (`--resume RUN`) from its last checkpoint, or
//! starts afresh if it had none; the log, `metrics.csv` and the per-epoch genotypes are cut
//! back to the checkpoint first. `genotype.json` is written last and atomically: when it
//! exists, the search is finished.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::module::Module;
use burn::tensor::{Tensor, TensorData};
use quantnas_core::arch::{Arch, Genotype, SCALE, Slot};
use quantnas_core::cost::{REPORT_LR_SIDE, cost, reported_bitops};
use quantnas_core::metrics::score_sr;
use serde::{Deserialize, Serialize};

use super::alphas::{decisiveness, derive_genotype};
use super::bitmixer::MixContext;
use super::budget::within_budget;
use super::config::SearchConfig;
use super::draw;
use super::noise::NoiseSource;
use super::penalty::BitOpsPenalty;
use super::schedule::entropy_weight_at;
use super::step::{IterParams, IterStats, SearchLearner};
use crate::data::{ImageCache, Loader, LoaderConfig, patch};
use crate::run::Session;
use crate::run::checkpoint::{
    STATE_FILE, find, load_module, load_optim, remove, save_module, save_optim, write_atomic,
};
use crate::run::dir::{
    LOG_FILE, METRICS_FILE, RunDir, cut_csv, cut_log, read_config_as, write_file_atomic,
};
use crate::run::progress::{Progress, ProgressMode};
use crate::train::validate::{ValImage, load_val};

/// Metrics columns, one row per epoch.
pub const METRICS_HEADER: &str = "epoch,iter,alpha_l1,weight_l1,hw,entropy,mu,val_psnr,weighted_gbitops,argmax_gbitops,max_prob,elapsed_s";

/// Where a search stands (saved with every checkpoint).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchState {
    /// Iterations done.
    pub iter: usize,
    /// Epochs done.
    pub epoch: usize,
    /// Wall time over all sessions (seconds).
    pub elapsed_s: f64,
    /// Per-epoch softmax probabilities of every slot (for the alpha plot).
    pub prob_history: Vec<Vec<Vec<f32>>>,
    /// Bytes of `log.txt` when this checkpoint was written: a resume cuts the log back to
    /// it (absent in checkpoints written before it was recorded).
    #[serde(default)]
    pub log_len: Option<u64>,
    /// Doublings of the penalty in force (see `budget_feedback`); 0 in checkpoints of
    /// searches without a budget or written before it existed.
    #[serde(default)]
    pub penalty_doublings: u32,
}

/// The most doublings of the penalty the budget feedback applies (η·2⁶ = 64 η).
const MAX_PENALTY_DOUBLINGS: u32 = 6;

/// The penalty's feedback on the budget, applied at the end of every epoch: while the
/// argmax genotype is above the budget the penalty doubles for the next epoch, once it is
/// within it halves back towards the configured η. A search whose argmax stays within the
/// budget (or without one) is never touched; one that drifts above it is pushed back while
/// the weights can still follow, instead of being cut after the search by moves its
/// weights never trained for. Returns the log line when the penalty changed.
fn budget_feedback(config: &SearchConfig, state: &mut SearchState, argmax: f64) -> Option<String> {
    let max = config.max_gbitops?;
    let before = state.penalty_doublings;
    let above = argmax > (max * 1e9).floor();
    if above {
        state.penalty_doublings = (before + 1).min(MAX_PENALTY_DOUBLINGS);
    } else {
        state.penalty_doublings = before.saturating_sub(1);
    }
    (state.penalty_doublings != before).then(|| {
        format!(
            "argmax {:.3} GBitOps {} the {max} GBitOps budget: penalty η {} for the next epoch",
            argmax / 1e9,
            if above { "above" } else { "within" },
            config.penalty * f64::from(1u32 << state.penalty_doublings)
        )
    })
}

/// What a finished search hands back.
#[derive(Clone, Debug)]
pub struct SearchOutcome {
    /// The run folder.
    pub run: PathBuf,
    /// The derived genotype.
    pub genotype: Genotype,
    /// Its BitOps at 32×32 LR.
    pub bitops: u64,
    /// Its parameters.
    pub params: u64,
    /// Mean over slots of the largest softmax probability.
    pub max_prob: f64,
    /// Wall time of the whole search (all sessions).
    pub elapsed_s: f64,
}

const CKPT: &str = "last";

fn stream_seed(seed: u64, stream: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream
}

fn save(run: &Path, l: &SearchLearner, state: &SearchState) -> Result<()> {
    write_atomic(run, CKPT, |tmp| {
        save_module(&l.net, &tmp.join("supernet.bpk"))?;
        save_module(&l.alphas, &tmp.join("alphas.bpk"))?;
        save_optim(&l.weight_optim, &tmp.join("weight_optim.bpk"))?;
        save_optim(&l.alpha_optim, &tmp.join("alpha_optim.bpk"))?;
        fs::write(tmp.join(STATE_FILE), serde_json::to_string_pretty(state)?)
            .context("writing state.json")
    })
}

fn load(run: &Path, mut l: SearchLearner) -> Result<(SearchLearner, SearchState)> {
    let d = find(run, CKPT)?;
    l.net = load_module(l.net, &d.join("supernet.bpk"))?;
    l.alphas = load_module(l.alphas, &d.join("alphas.bpk"))?;
    l.weight_optim = load_optim(l.weight_optim, &d.join("weight_optim.bpk"))?;
    l.alpha_optim = load_optim(l.alpha_optim, &d.join("alpha_optim.bpk"))?;
    let text = fs::read_to_string(d.join(STATE_FILE)).context("reading state.json")?;
    Ok((
        l,
        serde_json::from_str(&text).context("parsing state.json")?,
    ))
}

/// Centre crops of the validation images (LR side `crop`), made once.
fn val_crops(set: &[ValImage], crop: usize) -> Vec<ValImage> {
    set.iter()
        .filter(|v| v.lr.width >= crop && v.lr.height >= crop)
        .map(|v| {
            let (x, y) = ((v.lr.width - crop) / 2, (v.lr.height - crop) / 2);
            ValImage {
                name: v.name.clone(),
                lr: patch::crop(&v.lr, x, y, crop),
                hr: patch::crop(&v.hr, x * SCALE, y * SCALE, crop * SCALE),
                gray: v.gray,
            }
        })
        .collect()
}

/// Mean PSNR of the supernet (no noise, running statistics) on the validation crops.
fn validate(l: &SearchLearner, crops: &[ValImage]) -> Result<f64> {
    if crops.is_empty() {
        return Ok(f64::NAN);
    }
    let device = l.device.clone().inner();
    let net = l.net.valid().to_device(&device);
    let probs: Vec<Tensor<1>> = l.alphas.valid().to_device(&device).probs();
    let ctx = MixContext {
        noise: false,
        ..l.ctx.clone()
    };
    let mut sum = 0.0;
    for v in crops {
        let p = v.lr.to_planes();
        let x = Tensor::<4>::from_data(TensorData::new(p.data, [1, 3, p.height, p.width]), &device);
        let y = net.forward(x, &probs, &ctx);
        let [_, c, h, w] = y.dims();
        let data = y
            .into_data()
            .try_into_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let sr = quantnas_core::image::Planes::new(c, h, w, data)?.to_rgb8_rounded()?;
        sum += score_sr(&sr, &v.hr, v.gray, SCALE)?.psnr;
    }
    Ok(sum / crops.len() as f64)
}

/// Cuts the search folder back to checkpoint `state` (`None`: to a search that has not
/// started), so the resumed session writes each row and file once.
fn cut_back(run: &Path, state: Option<&SearchState>) -> Result<()> {
    let epoch = state.map_or(0, |s| s.epoch);
    cut_csv(&run.join(METRICS_FILE), METRICS_HEADER, epoch as u64)?;
    cut_log(&run.join(LOG_FILE), state.map_or(Some(0), |s| s.log_len))?;
    if let Ok(entries) = fs::read_dir(run.join("genotypes")) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let at = name
                .strip_prefix("epoch_")
                .and_then(|r| r.strip_suffix(".json"))
                .and_then(|n| n.parse::<usize>().ok());
            if at.is_some_and(|a| a > epoch) {
                fs::remove_file(e.path())
                    .with_context(|| format!("cannot remove {}", e.path().display()))?;
            }
        }
    }
    if state.is_none() {
        remove(run, CKPT)?;
        for f in ["alphas.csv", "alphas.svg"] {
            let p = run.join(f);
            if p.exists() {
                fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
            }
        }
    }
    Ok(())
}

/// Starts a new search in `run` (with `config`), or continues the one there (`None`):
/// from its last checkpoint, afresh if a kill came before the first, or (a finished
/// search) straight to writing its result. Returns `None` when the session stopped early
/// at `session.stop_after`.
///
/// # Errors
/// Bad settings or data, a folder that is not a search (`None`) or already holds one
/// (`Some`), a diverged run (the last checkpoint is kept), unwritable files.
pub fn search(
    run: &Path,
    config: Option<&SearchConfig>,
    session: &Session,
) -> Result<Option<SearchOutcome>> {
    let (config, slots, mut dir): (SearchConfig, _, RunDir) = match config {
        // The slots first: a bad --fix-ops leaves no run folder behind.
        Some(c) => (
            c.clone(),
            c.slots()?,
            RunDir::create(run, c, METRICS_HEADER)?,
        ),
        None => {
            let c: SearchConfig = read_config_as(run)?;
            let slots = c.slots()?;
            (c, slots, RunDir::open(run)?)
        }
    };
    let bits = config.search_bits()?;
    let device = config.backend.autodiff_device()?;
    let noise = config.noise.on(&device);
    let ctx = MixContext {
        mode: config.mode,
        delta: config.san_delta,
        bits: bits.0.clone(),
        noise: true,
        rng: NoiseSource::at(noise, config.seed),
    };
    let fresh = SearchLearner::new(
        config.space,
        config.residual(),
        &slots,
        ctx,
        config.seed,
        config.lr_size,
        &device,
    )?;
    let (mut learner, mut state) = if find(run, CKPT).is_ok() {
        let (l, s) = load(run, fresh).with_context(|| format!("resuming {}", run.display()))?;
        cut_back(run, Some(&s))?;
        dir.log(&format!(
            "resumed at iteration {} (epoch {})",
            s.iter, s.epoch
        ));
        (l, s)
    } else {
        // A new search, or one killed before its first checkpoint: from the start.
        cut_back(run, None)?;
        dir.log(&format!(
            "search started: {}",
            serde_json::to_string(&config)?
        ));
        (fresh, SearchState::default())
    };
    dir.log(&format!(
        "session on {} (SAN noise drawn on the {})",
        config.backend.describe(&device),
        noise.name()
    ));

    let (weight_half, alpha_half) = ImageCache::open(&config.train_data)?.split_alternate()?;
    let loader_cfg = |stream: u64| LoaderConfig {
        batch: config.batch,
        lr_size: config.lr_size,
        scale: SCALE,
        augment: true,
        seed: stream_seed(config.seed, stream),
        workers: config.workers.max(1),
        prefetch: 2,
    };
    let mut weight_loader = Loader::start(Arc::new(weight_half), loader_cfg(1), state.iter as u64)?;
    let mut alpha_loader = Loader::start(Arc::new(alpha_half), loader_cfg(2), state.iter as u64)?;
    let crops = val_crops(&load_val(&config.val_data)?, config.val_crop);

    let total = config.total_iters();
    let bar = Progress::new(
        ProgressMode::auto(session.progress),
        "search",
        total as u64,
        state.iter as u64,
    );
    let started = Instant::now();
    let elapsed_before = state.elapsed_s;
    let mut sums = IterStats::default();
    let mut n_in_epoch = 0usize;
    let first_iter = state.iter;
    while state.iter < total {
        let it = state.iter;
        let mu = config.entropy_coef * entropy_weight_at(it, total, config.epochs);
        let p = IterParams {
            alpha_lr: config.alpha_lr,
            weight_lr: config.weight_lr_at(it),
            eta: config.penalty * f64::from(1u32 << state.penalty_doublings),
            mu,
            grad_clip: config.grad_clip,
        };
        // The noise depends only on (seed, iteration): a resumed run draws the same noise
        // as an uninterrupted one.
        learner
            .ctx
            .rng
            .reseed(stream_seed(config.seed, 1000 + it as u64));
        let (ab, wb) = (alpha_loader.next_batch()?, weight_loader.next_batch()?);
        let s = learner.iterate(&ab, &wb, p).with_context(|| {
            format!(
                "search diverged at iteration {it}; the last checkpoint in {} is intact",
                run.display()
            )
        })?;
        accumulate(&mut sums, &s);
        n_in_epoch += 1;
        state.iter += 1;
        bar.set(state.iter as u64, || {
            format!("L1 {:.4}  hw {:.3}  H {:.2}", s.weight_l1, s.hw, s.entropy)
        });
        if state.iter % config.iters_per_epoch == 0 || state.iter == total {
            state.elapsed_s = elapsed_before + started.elapsed().as_secs_f64();
            end_epoch(
                &config, &slots, &mut dir, &learner, &mut state, &crops, &sums, n_in_epoch, mu,
                &bar,
            )?;
            // After the epoch's row and log line: a resume from it keeps both.
            state.log_len = dir.log_len();
            save(run, &learner, &state)?;
            sums = IterStats::default();
            n_in_epoch = 0;
            let done = (state.iter - first_iter) as u64;
            if session.stop_after.is_some_and(|n| done >= n) && state.iter < total {
                dir.log(&format!(
                    "session stopped at iteration {} as asked",
                    state.iter
                ));
                return Ok(None);
            }
        }
    }
    bar.finish(&format!("{} epochs", state.epoch));
    finish(&config, &slots, &mut dir, &learner, &state).map(Some)
}

fn accumulate(sum: &mut IterStats, s: &IterStats) {
    sum.alpha_l1 += s.alpha_l1;
    sum.weight_l1 += s.weight_l1;
    sum.hw += s.hw;
    sum.entropy += s.entropy;
}

#[allow(clippy::too_many_arguments)] // one call site, all of the loop's state
fn end_epoch(
    config: &SearchConfig,
    slots: &[Slot],
    dir: &mut RunDir,
    l: &SearchLearner,
    state: &mut SearchState,
    crops: &[ValImage],
    sums: &IterStats,
    n: usize,
    mu: f64,
    bar: &Progress,
) -> Result<()> {
    state.epoch += 1;
    let bits = config.search_bits()?;
    let values = l.alphas.values()?;
    let probs = l.alphas.prob_values()?;
    state.prob_history.push(probs.clone());
    let genotype = derive_genotype(config.space, config.residual(), slots, &bits, &values)?;
    let penalty32 = BitOpsPenalty::new(
        &l.net.graph,
        slots.len(),
        &bits,
        REPORT_LR_SIDE,
        REPORT_LR_SIDE,
    )?;
    let fixed: u64 = cost(&genotype.graph(), REPORT_LR_SIDE, REPORT_LR_SIDE)?
        .layers
        .iter()
        .filter(|c| !c.searchable)
        .map(|c| c.bitops)
        .sum();
    let weighted = penalty32.expected_bitops(&probs) + fixed as f64;
    let argmax = reported_bitops(&genotype.graph())? as f64;
    let max_prob = decisiveness(&probs);
    let psnr = validate(l, crops)?;
    let n = n.max(1) as f32;
    dir.metrics_row(&format!(
        "{},{},{:.6},{:.6},{:.6},{:.4},{:.3e},{:.3},{:.4},{:.4},{:.4},{:.1}",
        state.epoch,
        state.iter,
        sums.alpha_l1 / n,
        sums.weight_l1 / n,
        sums.hw / n,
        sums.entropy / n,
        mu,
        psnr,
        weighted / 1e9,
        argmax / 1e9,
        max_prob,
        state.elapsed_s
    ))?;
    let gdir = dir.path.join("genotypes");
    fs::create_dir_all(&gdir).with_context(|| format!("cannot create {}", gdir.display()))?;
    fs::write(
        gdir.join(format!("epoch_{:03}.json", state.epoch)),
        genotype.to_json(),
    )?;
    draw::write_alpha_csv(
        &dir.path.join("alphas.csv"),
        slots,
        &bits,
        &state.prob_history,
        &values,
        state.epoch,
    )?;
    fs::write(
        dir.path.join("alphas.svg"),
        draw::alpha_plot(slots, &bits, &state.prob_history),
    )?;
    let line = format!(
        "epoch {}/{}: val PSNR {psnr:.2} dB, BitOps weighted {:.2} G argmax {:.2} G, mean max prob {max_prob:.3}",
        state.epoch,
        config.epochs,
        weighted / 1e9,
        argmax / 1e9
    );
    dir.log(&line);
    bar.println(&line);
    if let Some(change) = budget_feedback(config, state, argmax) {
        dir.log(&change);
        bar.println(&change);
    }
    Ok(())
}

fn finish(
    config: &SearchConfig,
    slots: &[Slot],
    dir: &mut RunDir,
    l: &SearchLearner,
    state: &SearchState,
) -> Result<SearchOutcome> {
    let bits = config.search_bits()?;
    let values = l.alphas.values()?;
    let mut genotype = derive_genotype(config.space, config.residual(), slots, &bits, &values)?;
    if let Some(max) = config.max_gbitops {
        let (budgeted, moves) =
            within_budget(&genotype, slots, &bits, &values, (max * 1e9).floor() as u64)?;
        if !moves.is_empty() {
            fs::write(dir.path.join("genotype_argmax.json"), genotype.to_json())?;
            dir.log(&format!(
                "argmax genotype above the {max} GBitOps budget ({:.3}); moved {}",
                reported_bitops(&genotype.graph())? as f64 / 1e9,
                moves.join("; ")
            ));
            genotype = budgeted;
        }
    }
    let report = cost(&genotype.graph(), REPORT_LR_SIDE, REPORT_LR_SIDE)?;
    fs::write(
        dir.path.join("genotype.svg"),
        draw::genotype_svg(&genotype, &report),
    )?;
    let arch = Arch::from(genotype.clone());
    fs::write(
        dir.path.join("cost.json"),
        serde_json::to_string_pretty(&serde_json::json!({"arch": arch, "cost": report}))?,
    )?;
    let max_prob = decisiveness(&l.alphas.prob_values()?);
    dir.log(&format!(
        "search finished: BitOps@32x32 {:.3} G, params {}, mean max prob {max_prob:.3}, {:.0} s",
        report.bitops as f64 / 1e9,
        report.params,
        state.elapsed_s
    ));
    // Last and atomically: its presence tells `trainer pipeline` the search is done.
    write_file_atomic(
        &dir.path.join("genotype.json"),
        genotype.to_json().as_bytes(),
    )?;
    Ok(SearchOutcome {
        run: dir.path.clone(),
        genotype,
        bitops: report.bitops,
        params: report.params,
        max_prob,
        elapsed_s: state.elapsed_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Preset;

    #[test]
    fn budget_feedback_doubles_above_the_budget_and_eases_back_within_it() {
        let mut config = SearchConfig::preset(Preset::Cpu);
        let mut state = SearchState::default();
        // Without a budget nothing changes, whatever the cost.
        assert_eq!(budget_feedback(&config, &mut state, 1e12), None);
        assert_eq!(state.penalty_doublings, 0);
        config.max_gbitops = Some(3.0);
        // Within budget at the configured η: untouched (such searches are unchanged).
        assert_eq!(budget_feedback(&config, &mut state, 3e9), None);
        assert_eq!(state.penalty_doublings, 0);
        let line = budget_feedback(&config, &mut state, 3.7e9).expect("a change");
        assert_eq!(state.penalty_doublings, 1);
        assert!(line.contains("above") && line.contains("η 0.06"), "{line}");
        for _ in 0..10 {
            budget_feedback(&config, &mut state, 3.7e9);
        }
        assert_eq!(state.penalty_doublings, MAX_PENALTY_DOUBLINGS);
        let line = budget_feedback(&config, &mut state, 2.9e9).expect("a change");
        assert_eq!(state.penalty_doublings, MAX_PENALTY_DOUBLINGS - 1);
        assert!(line.contains("within"), "{line}");
    }
}
