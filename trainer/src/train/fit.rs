//! The training loop: data stream, steps, periodic validation, checkpoints, metrics,
//! progress, and resuming a run killed at any moment.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};

use super::config::TrainConfig;
use super::folder::{self, METRICS_HEADER, TrainState};
use super::step::{Learner, StepStats};
use super::validate::{ValImage, load_val, validate};
use crate::data::{ImageCache, Loader, LoaderConfig};
use crate::imageio::save_png;
use crate::nn::{Network, Upscaler};
use crate::run::dir::{LOG_FILE, METRICS_FILE, RunDir, cut_csv, cut_log};
use crate::run::progress::{Progress, ProgressMode};
use crate::run::{Session, checkpoint};

/// Validation images saved as samples at each validation.
const SAMPLES: usize = 2;

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// Steps done.
    pub steps: u64,
    /// Best validation PSNR (dB) and its step.
    pub best_psnr: f64,
    /// Step of the best checkpoint.
    pub best_step: u64,
    /// Total training wall time (seconds, all sessions).
    pub elapsed_s: f64,
}

fn network(config: &TrainConfig) -> Result<(Network, Learner)> {
    let device = config.backend.autodiff_device()?;
    let model = Network::init(&config.arch.graph(), config.seed, &device)?;
    let learner = Learner::new(model.clone(), device, config.grad_clip);
    Ok((model, learner))
}

fn fresh_state() -> TrainState {
    TrainState {
        best_psnr: f64::NEG_INFINITY,
        ..Default::default()
    }
}

/// Starts a new run in `run` (a folder that does not exist, is empty, or holds only what a
/// start killed before writing its config left).
///
/// # Errors
/// A folder with a run in it, then see [`fit`].
pub fn start(run: &Path, config: &TrainConfig, session: &Session) -> Result<RunSummary> {
    let dir = folder::create(run, config)?;
    let (_, learner) = network(config)?;
    fit(dir, config, learner, fresh_state(), session)
}

/// Continues the run in `run` from its `last` checkpoint, or starts it afresh when a kill
/// came before the first one. Whatever the killed session wrote after its checkpoint (log
/// lines, metrics rows, samples) is cut back first, so the run folder ends
/// as an uninterrupted run's would. A finished run returns at once.
///
/// # Errors
/// A folder that is not a run (no `config.json`) or a checkpoint that does not load, then
/// see [`fit`].
pub fn resume(run: &Path, session: &Session) -> Result<RunSummary> {
    let config = folder::read_config(run)?;
    let (model, mut learner) = network(&config)?;
    let resumed = if checkpoint::find(run, "last").is_ok() {
        let (model, optim, state) = folder::load(run, "last", model, Some(learner.optim))
            .with_context(|| format!("resuming {}", run.display()))?;
        learner.model = model;
        learner.optim = optim.unwrap_or_else(super::step::adam);
        Some(state)
    } else {
        None
    };
    let state = cut_back(run, resumed.as_ref())?;
    let mut dir = RunDir::open(run)?;
    match &resumed {
        Some(s) => dir.log(&format!("resumed from the checkpoint at step {}", s.step)),
        None => dir.log("resumed with no checkpoint yet: starting afresh"),
    }
    fit(dir, &config, learner, state, session)
}

/// Cuts the run folder back to checkpoint `state` (`None`: to a run that has not
/// started) and returns the state to continue from.
fn cut_back(run: &Path, state: Option<&TrainState>) -> Result<TrainState> {
    let step = state.map_or(0, |s| s.step);
    cut_csv(&run.join(METRICS_FILE), METRICS_HEADER, step)?;
    cut_log(&run.join(LOG_FILE), state.map_or(Some(0), |s| s.log_len))?;
    // Samples of validations after the checkpoint are made again when the run gets there.
    if let Ok(entries) = std::fs::read_dir(run.join("samples")) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let at = name
                .strip_prefix("step")
                .and_then(|r| r.split('_').next())
                .and_then(|n| n.parse::<u64>().ok());
            if at.is_some_and(|a| a > step) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    // With no `last`, a `best` (a kill between the first two saves) belongs to the
    // session being replaced. A `best` newer than `last` (the same kill later on) is kept:
    // the run saves it again, bit for bit, when it gets there.
    if state.is_none() {
        checkpoint::remove(run, "best")?;
        checkpoint::remove(run, "last")?;
    }
    Ok(state.cloned().unwrap_or_else(fresh_state))
}

fn csv(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.6}")).unwrap_or_default()
}

/// Trains from `state.step` to `config.steps`.
///
/// # Errors
/// Unreadable data, a non-finite loss (the message names the last good checkpoint), or
/// files that cannot be written.
pub fn fit(
    mut dir: RunDir,
    config: &TrainConfig,
    mut learner: Learner,
    mut state: TrainState,
    session: &Session,
) -> Result<RunSummary> {
    let cache = Arc::new(ImageCache::open(&config.train_data)?);
    let val = load_val(&config.val_data)?;
    let loader_cfg = LoaderConfig {
        batch: config.batch,
        lr_size: config.patch,
        scale: quantnas_core::arch::SCALE,
        augment: true,
        seed: config.seed,
        workers: config.workers,
        prefetch: 4,
    };
    let mut loader = Loader::start(cache, loader_cfg, state.step)?;
    let plain = config.backend.device()?;
    dir.log(&format!(
        "session start at step {} of {}: {} on {}, {} parameters",
        state.step,
        config.steps,
        config.arch.name(),
        config.backend.describe(&plain),
        learner.model.parameter_count()
    ));
    let bar = Progress::new(
        ProgressMode::auto(session.progress),
        "train",
        config.steps,
        state.step,
    );
    let t0 = Instant::now();
    let elapsed0 = state.elapsed_s;
    let (mut loss_sum, mut norm_sum, mut count) = (0.0f64, 0.0f64, 0u64);
    let mut ema: Option<f32> = None;
    let mut val_msg = String::from("val -");
    let first = state.step;
    while state.step < config.steps {
        if session.stop_after.is_some_and(|n| state.step - first >= n) {
            break;
        }
        let batch = loader.next_batch()?;
        let lr = config.lr_at(state.step);
        let StepStats { loss, grad_norm } = match learner.step(&batch, lr) {
            Ok(s) => s,
            Err(e) => {
                let last = checkpoint::find(&dir.path, "last")
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| "none yet".into());
                let msg = format!(
                    "stopped at step {}: {e:#}. The last good checkpoint is kept ({last}); try a lower --lr or --resume with a new run",
                    state.step + 1
                );
                dir.log(&msg);
                bar.abandon("diverged");
                anyhow::bail!(msg);
            }
        };
        state.step += 1;
        loss_sum += f64::from(loss);
        norm_sum += f64::from(grad_norm);
        count += 1;
        let e = ema.map_or(loss, |m| 0.95 * m + 0.05 * loss);
        ema = Some(e);
        bar.set(state.step, || format!("loss {e:.4} {val_msg}"));
        let at_eval = state.step.is_multiple_of(config.eval_every) || state.step == config.steps;
        if state.step.is_multiple_of(50) || at_eval {
            state.elapsed_s = elapsed0 + t0.elapsed().as_secs_f64();
            let (mut vp, mut vs) = (None, None);
            if at_eval {
                let up = Upscaler::new(&learner.model, &plain);
                let (p, s, outs) = validate(&up, &val)?;
                save_samples(&dir.path, state.step, &val, &outs)?;
                vp = Some(p);
                vs = Some(s);
                val_msg = format!("val {p:.2} dB");
                let best = p > state.best_psnr;
                if best {
                    state.best_psnr = p;
                    state.best_step = state.step;
                }
                let line = format!(
                    "step {} loss {:.5} val PSNR {p:.3} SSIM {s:.4}{} ({:.0} s)",
                    state.step,
                    loss_sum / count as f64,
                    if best { " best" } else { "" },
                    state.elapsed_s
                );
                dir.log(&line);
                bar.println(&line);
            }
            dir.metrics_row(&format!(
                "{},{:.3e},{:.6},{:.4},{},{},{:.1}",
                state.step,
                lr,
                loss_sum / count.max(1) as f64,
                norm_sum / count.max(1) as f64,
                csv(vp),
                csv(vs),
                state.elapsed_s
            ))?;
            (loss_sum, norm_sum, count) = (0.0, 0.0, 0);
            // Checkpoints come after this step's log line and metrics row: a resume from
            // them keeps both and cuts whatever came later.
            if at_eval {
                state.log_len = dir.log_len();
                if state.best_step == state.step {
                    checkpoint::save(&dir.path, "best", &learner.model, None, &state)?;
                }
                checkpoint::save(
                    &dir.path,
                    "last",
                    &learner.model,
                    Some(&learner.optim),
                    &state,
                )?;
            }
        }
    }
    bar.finish(&format!(
        "best {:.3} dB at step {}",
        state.best_psnr, state.best_step
    ));
    state.elapsed_s = elapsed0 + t0.elapsed().as_secs_f64();
    dir.log(&format!(
        "session end at step {} ({:.0} s in all)",
        state.step, state.elapsed_s
    ));
    Ok(RunSummary {
        steps: state.step,
        best_psnr: state.best_psnr,
        best_step: state.best_step,
        elapsed_s: state.elapsed_s,
    })
}

fn save_samples(
    run: &Path,
    step: u64,
    val: &[ValImage],
    outs: &[quantnas_core::image::RgbImage8],
) -> Result<()> {
    for (v, sr) in val.iter().zip(outs).take(SAMPLES) {
        save_png(
            &run.join("samples")
                .join(format!("step{step:06}_{}.png", v.name)),
            sr,
        )?;
    }
    Ok(())
}
