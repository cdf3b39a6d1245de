//! Training settings: one struct, [`TrainConfig`], that is both the command line of
//! `trainer train` and the run folder's `config.json`, and its `cpu` and `paper` presets.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{ArgMatches, Args};
use quantnas_core::arch::{Arch, Bits};
use serde::{Deserialize, Serialize};

use crate::backend::{BackendKind, DEVICE_HELP};
use crate::data::download::div2k_train_dir;
pub use crate::settings::Preset;
use crate::settings::{self, fill_ungiven};

/// Everything a training run depends on: the options of `trainer train` (their defaults
/// are the `cpu` preset's) and the run folder's `config.json`. The network comes from
/// `--arch`/`--bits` (see [`TrainConfig::resolve`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Args)]
pub struct TrainConfig {
    /// The network.
    #[arg(skip = cpu().arch)]
    pub arch: Arch,
    /// Settings to start from: every option not given takes the preset's value.
    #[arg(long, value_enum, default_value_t = Preset::Cpu, hide_possible_values = true,
          long_help = preset_help())]
    pub preset: Preset,
    /// Optimiser steps.
    #[arg(long, default_value_t = cpu().steps)]
    pub steps: u64,
    /// Samples per step.
    #[arg(long, default_value_t = cpu().batch)]
    pub batch: usize,
    /// LR patch side in pixels (the HR patch is 4× that).
    #[arg(long, default_value_t = cpu().patch)]
    pub patch: usize,
    /// Peak learning rate (Adam, cosine decay to the preset's floor over the run).
    #[arg(long, default_value_t = cpu().lr)]
    pub lr: f64,
    /// Learning rate at the end of the cosine schedule.
    #[arg(skip = cpu().lr_min)]
    pub lr_min: f64,
    /// Global gradient-norm clip.
    #[arg(skip = cpu().grad_clip)]
    pub grad_clip: f32,
    /// Seed of the initial weights and the data stream.
    #[arg(long, default_value_t = cpu().seed)]
    pub seed: u64,
    /// Validate on --val-data and checkpoint every N steps.
    #[arg(long, default_value_t = cpu().eval_every)]
    pub eval_every: u64,
    /// Folder of training images (searched recursively), e.g. DIV2K_train_HR.
    #[arg(long, default_value_os_t = cpu().train_data)]
    pub train_data: PathBuf,
    /// Folder of validation images (picks the best checkpoint; never a test set).
    #[arg(long, default_value_os_t = cpu().val_data)]
    pub val_data: PathBuf,
    /// Data loader threads.
    #[arg(long, default_value_t = cpu().workers)]
    pub workers: usize,
    /// Where to compute: cpu, cuda, cuda:N, wgpu or auto (see --help).
    #[arg(long = "device", alias = "backend", value_name = "DEVICE",
          default_value_t = cpu().backend, long_help = DEVICE_HELP)]
    pub backend: BackendKind,
}

/// Retraining steps of a searched genotype on the cpu preset (`trainer pipeline`'s
/// default; 1789 s on two idle cores for the bundled 2.91 GBitOps genotype, ≈0.26 s per
/// step).
pub const GENOTYPE_CPU_STEPS: u64 = 7000;

/// Peak learning rate of a searched genotype's retraining on the cpu preset. The spec's
/// 1e-4 is for 300k steps; over a few thousand, 600-step trials of two searched genotypes
/// gave validation PSNR 26.88 / 27.41 / 28.02 dB at 1e-3 / 2e-3 / 4e-3 and 27.12 / 27.47 /
/// 27.17 at 2e-3 / 4e-3 / 8e-3 (Set5, then the validation set).
pub const GENOTYPE_CPU_LR: f64 = 4e-3;

fn cpu() -> TrainConfig {
    TrainConfig::preset(Arch::Espcn { bits: Bits::B8 }, Preset::Cpu)
}

fn preset_help() -> String {
    let q = Arch::Espcn { bits: Bits::B8 };
    settings::preset_help(
        "Settings to start from; every option not given takes the preset's value. \
         (paper's --lr is 1e-3 for a full-precision network.)",
        &[
            ("cpu", cpu()),
            ("paper", TrainConfig::preset(q, Preset::Paper)),
        ],
        &["lr_min", "grad_clip"],
    )
}

/// Parses `--arch` and `--bits` (see [`crate::archspec::resolve_arch`]): a fixed network
/// name or an architecture/genotype JSON file; `bits` defaults to 8 for fixed networks.
///
/// # Errors
/// An unknown name, an unreadable or invalid file, or bits outside 4/8/32.
pub fn parse_arch(arch: &str, bits: Option<u32>) -> Result<Arch> {
    crate::archspec::resolve_arch(arch, bits)
}

/// Whether any layer of the network is quantized.
fn quantized(arch: &Arch) -> bool {
    arch.graph().convs().any(|(_, _, c)| c.bits.is_quantized())
}

impl TrainConfig {
    /// The preset's settings for `arch`.
    pub fn preset(arch: Arch, preset: Preset) -> Self {
        let q = quantized(&arch);
        let base = TrainConfig {
            arch,
            preset,
            steps: 10_000,
            batch: 16,
            patch: 24,
            lr: 1e-3,
            lr_min: 1e-6,
            grad_clip: 5.0,
            seed: 1,
            eval_every: 1000,
            train_data: PathBuf::from("data/T91"),
            val_data: PathBuf::from("data/Val"),
            workers: 1,
            backend: BackendKind::Flex,
        };
        match preset {
            Preset::Cpu => base,
            // On DIV2K (`trainer data download div2k`), as the paper.
            Preset::Paper => TrainConfig {
                train_data: div2k_train_dir(),
                steps: 300_000,
                patch: 48,
                lr: if q { 1e-4 } else { 1e-3 },
                lr_min: 0.0,
                eval_every: 5000,
                workers: 2,
                ..base
            },
        }
    }

    /// Sets the network, replaces every value the user did not give (see
    /// [`settings::given`]) with the preset's for that network, and checks the result.
    ///
    /// # Errors
    /// A zero step count, batch or patch, a non-positive learning rate, or a patch too
    /// small for the network (RFDN's ESA needs 15 LR pixels).
    pub fn resolve(&mut self, arch: Arch, m: &ArgMatches) -> Result<()> {
        let p = TrainConfig::preset(arch.clone(), self.preset);
        self.arch = arch;
        fill_ungiven!(
            m,
            self,
            p,
            [
                steps, batch, patch, lr, lr_min, grad_clip, seed, eval_every, train_data, val_data,
                workers, backend
            ]
        );
        self.backend = self.backend.resolve()?;
        self.validate()
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// As [`TrainConfig::resolve`].
    pub fn validate(&self) -> Result<()> {
        if self.steps == 0 || self.batch == 0 || self.patch == 0 || self.eval_every == 0 {
            bail!("--steps, --batch, --patch and --eval-every must be positive");
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            bail!("--lr must be positive, got {}", self.lr);
        }
        let min = self.arch.graph().min_input_side();
        if self.patch < min {
            bail!(
                "--patch {} is too small for {}: it needs at least {min} LR pixels",
                self.patch,
                self.arch.name()
            );
        }
        Ok(())
    }

    /// Learning rate at `step` (0-based): cosine from `lr` to `lr_min` over `steps`.
    pub fn lr_at(&self, step: u64) -> f64 {
        let t = step as f64 / self.steps.max(1) as f64;
        self.lr_min + 0.5 * (self.lr - self.lr_min) * (1.0 + (std::f64::consts::PI * t).cos())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use clap::{Command, FromArgMatches};

    /// `trainer train ARGS` for `arch`, resolved.
    fn from_args(arch: &Arch, args: &[&str]) -> Result<TrainConfig> {
        let m = TrainConfig::augment_args(Command::new("train"))
            .try_get_matches_from(std::iter::once("train").chain(args.iter().copied()))?;
        let mut c = TrainConfig::from_arg_matches(&m)?;
        c.resolve(arch.clone(), &m)?;
        Ok(c)
    }

    #[test]
    fn presets_and_overrides() {
        let arch = parse_arch("espcn", Some(8)).unwrap();
        // Every field is in `resolve`'s list: a preset alone gives exactly that preset.
        assert_eq!(
            from_args(&arch, &["--preset", "paper"]).unwrap(),
            TrainConfig::preset(arch.clone(), Preset::Paper)
        );
        let c = from_args(&arch, &["--steps", "10"]).unwrap();
        assert_eq!((c.steps, c.batch, c.patch), (10, 16, 24));
        assert!((c.lr_at(0) - 1e-3).abs() < 1e-12);
        assert!((c.lr_at(10) - 1e-6).abs() < 1e-12);
        let p = from_args(&arch, &["--preset", "paper", "--batch", "4"]).unwrap();
        assert_eq!((p.lr, p.batch, p.steps), (1e-4, 4, 300_000));
        let fp = from_args(
            &parse_arch("espcn", Some(32)).unwrap(),
            &["--preset", "paper"],
        );
        assert_eq!(fp.unwrap().lr, 1e-3);
        assert!(parse_arch("espcn", Some(16)).is_err());
        assert!(parse_arch("vgg", Some(8)).is_err());
        let rfdn = parse_arch("rfdn", Some(8)).unwrap();
        assert!(from_args(&rfdn, &["--patch", "12"]).is_err());
        assert!(from_args(&arch, &["--lr", "-1"]).is_err());
    }
}
