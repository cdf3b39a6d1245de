//! The training loop: data stream, steps, periodic validation, checkpoints, metrics,
//! progress bar, and resuming a killed run.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::checkpoint::{self, TrainState};
use super::config::TrainConfig;
use super::run_dir::RunDir;
use super::step::{Learner, StepStats};
use super::validate::{ValImage, load_val, validate};
use crate::data::{ImageCache, Loader, LoaderConfig};
use crate::imageio::save_png;
use crate::nn::{Network, Upscaler};

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

/// Options of a training session that are not part of the run's settings.
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// Show a progress bar.
    pub progress: bool,
    /// Stop after this many steps in this session (tests simulate a kill with it).
    pub stop_after: Option<u64>,
}

fn network(config: &TrainConfig) -> Result<(Network, Learner)> {
    let device = config.backend.autodiff_device()?;
    let model = Network::init(&config.arch.graph(), config.seed, &device)?;
    let learner = Learner::new(model.clone(), device, config.grad_clip);
    Ok((model, learner))
}

/// Starts a new run in `run`.
///
/// # Errors
/// See [`fit`].
pub fn start(run: &Path, config: &TrainConfig, session: &Session) -> Result<RunSummary> {
    let dir = RunDir::create(run, config)?;
    let (_, learner) = network(config)?;
    fit(
        dir,
        config,
        learner,
        TrainState {
            best_psnr: f64::NEG_INFINITY,
            ..Default::default()
        },
        session,
    )
}

/// Continues the run in `run` from its `last` checkpoint.
///
/// # Errors
/// A folder that is not a run or has no checkpoint yet, then see [`fit`].
pub fn resume(run: &Path, session: &Session) -> Result<RunSummary> {
    let (dir, config) = RunDir::open(run)?;
    let (model, mut learner) = network(&config)?;
    let (model, optim, state) = checkpoint::load(run, "last", model, Some(learner.optim))
        .with_context(|| format!("resuming {}", run.display()))?;
    learner.model = model;
    learner.optim = optim.unwrap_or_else(super::step::adam);
    fit(dir, &config, learner, state, session)
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
        config.backend.name(),
        learner.model.parameter_count()
    ));
    let bar = if session.progress {
        ProgressBar::new(config.steps)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_position(state.step);
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
                bar.abandon_with_message("diverged");
                anyhow::bail!(msg);
            }
        };
        state.step += 1;
        loss_sum += f64::from(loss);
        norm_sum += f64::from(grad_norm);
        count += 1;
        let e = ema.map_or(loss, |m| 0.95 * m + 0.05 * loss);
        ema = Some(e);
        bar.set_position(state.step);
        bar.set_message(format!("loss {e:.4} {val_msg}"));
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
                dir.log(&format!(
                    "step {} loss {:.5} val PSNR {p:.3} SSIM {s:.4}{} ({:.0} s)",
                    state.step,
                    loss_sum / count as f64,
                    if best { " best" } else { "" },
                    state.elapsed_s
                ));
                if best {
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
        }
    }
    bar.finish_with_message(format!(
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
