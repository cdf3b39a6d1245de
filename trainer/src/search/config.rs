//! Search settings: one struct, [`SearchConfig`], that is both the command line of
//! `trainer search` and the run folder's `config.json`, and its `cpu` and `paper` presets.

use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use clap::builder::TypedValueParser;
use clap::{ArgMatches, Args};
use quantnas_core::arch::{Bits, Genotype, Residual, SearchSpace, Slot};
use serde::{Deserialize, Serialize};

use super::alphas::SearchBits;
use super::bitmixer::{MixMode, SanDelta};
use super::noise::NoisePlace;
use crate::backend::{BackendKind, DEVICE_HELP};
use crate::data::download::div2k_train_dir;
use crate::settings::{self, Preset, fill_ungiven};

/// Everything a search depends on: the options of `trainer search` (their defaults are
/// the `cpu` preset's) and the run folder's `config.json` (what `--resume` reads back).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Args)]
pub struct SearchConfig {
    /// Settings to start from: every option not given takes the preset's value.
    #[arg(long, value_enum, default_value_t = Preset::Cpu, hide_possible_values = true,
          long_help = preset_help())]
    pub preset: Preset,
    /// Search space: basic-b (small lists, for quantized search), basic-a (big lists, for
    /// full-precision search) or rfdn.
    #[arg(long, default_value_t = cpu().space)]
    pub space: SearchSpace,
    /// Bit widths to search over, e.g. `4,8`; `32` alone is a full-precision search (its
    /// --entropy-coef default is then 10× the preset's, as in the paper).
    #[arg(long, default_value_t = cpu().bits)]
    pub bits: String,
    /// How bit widths are mixed: san (noise), shared (direct quantization, "w/o SAN"),
    /// independent (one weight copy per width).
    #[arg(long, value_enum, default_value_t = cpu().mode)]
    pub mode: MixMode,
    /// SAN's noise scale: `step` (the quantizer's own step) or `range` (the reference
    /// code's (max−min)/(2^b−1)).
    #[arg(long, value_enum, default_value_t = cpu().san_delta)]
    pub san_delta: SanDelta,
    /// Residual wrapping: adq, adadm, batchnorm or none (spec §4).
    #[arg(long, default_value_t = cpu().adq, value_parser = residual_parser())]
    pub adq: Residual,
    /// BitOps penalty η (larger: cheaper networks).
    #[arg(long, default_value_t = cpu().penalty)]
    pub penalty: f64,
    /// Peak entropy coefficient of the μ(t) schedule.
    #[arg(long, default_value_t = cpu().entropy_coef)]
    pub entropy_coef: f64,
    /// Epochs E (checkpoints, validation and the entropy schedule follow them).
    #[arg(long, default_value_t = cpu().epochs)]
    pub epochs: usize,
    /// Iterations (alpha step + weight step) per epoch.
    #[arg(long, default_value_t = cpu().iters_per_epoch)]
    pub iters_per_epoch: usize,
    /// Samples per batch (each of the alpha and the weight batch).
    #[arg(long, default_value_t = cpu().batch)]
    pub batch: usize,
    /// LR crop side in pixels (the HR crop is 4× that).
    #[arg(long, default_value_t = cpu().lr_size)]
    pub lr_size: usize,
    /// Alpha learning rate (Adam, β = (0.5, 0.999)).
    #[arg(long, default_value_t = cpu().alpha_lr)]
    pub alpha_lr: f64,
    /// Peak weight learning rate (Adam, cosine decay to 0).
    #[arg(long, default_value_t = cpu().weight_lr)]
    pub weight_lr: f64,
    /// Weight gradient-norm clip.
    #[arg(skip = cpu().grad_clip)]
    pub grad_clip: f32,
    /// Seed of weights, data stream and noise.
    #[arg(long, default_value_t = cpu().seed)]
    pub seed: u64,
    /// Training images, split into two disjoint halves (weights / alphas).
    #[arg(long, default_value_os_t = cpu().train_data)]
    pub train_data: PathBuf,
    /// Validation images (centre crops scored each epoch; never a test set).
    #[arg(long, default_value_os_t = cpu().val_data)]
    pub val_data: PathBuf,
    /// LR side of the validation centre crops.
    #[arg(skip = cpu().val_crop)]
    pub val_crop: usize,
    /// Data loader threads.
    #[arg(long, default_value_t = cpu().workers)]
    pub workers: usize,
    /// BitOps budget in GBitOps at 32×32 LR. While the argmax genotype is above it the
    /// penalty doubles for the next epoch (at most 64×); an argmax still above it at the end
    /// is moved to cheaper choices, the least alpha given up per BitOps saved first (the
    /// plain argmax is kept as `genotype_argmax.json`, the moves are in the log; see
    /// [`super::budget`]). None by default: the penalty alone sets the cost, as in the
    /// paper.
    #[arg(long)]
    #[serde(default)]
    pub max_gbitops: Option<f64>,
    /// Search only the bit widths of this genotype's network (a genotype JSON file of the
    /// same --space and --adq, e.g. a full-precision search's `genotype.json`): every slot
    /// offers only the op the genotype chose. With `--mode shared` this is EdMIPS over that
    /// network, the second stage of the two-fold baseline (spec §9).
    #[arg(long, value_name = "GENOTYPE")]
    // Absent when unset: the config.json (and study folder hash) of every other search
    // stays what it was before the option existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_ops: Option<PathBuf>,
    /// Where to compute: cpu, cuda, cuda:N, wgpu or auto (see --help).
    #[arg(long = "device", value_name = "DEVICE", default_value_t = cpu().backend,
          long_help = DEVICE_HELP)]
    // Absent for flex, as for fix_ops: CPU runs keep their config.json and folder names.
    #[serde(default, skip_serializing_if = "BackendKind::is_flex")]
    pub backend: BackendKind,
    /// Where SAN's noise is drawn: auto (the host for cpu, the device for a GPU), host (the
    /// same values on every device; a GPU gets them uploaded) or device (burn's generator
    /// on the GPU: nothing crosses from the host, but the values, and so possibly the
    /// genotype, are the backend's own; a seeded run still repeats itself there).
    #[arg(long, value_enum, default_value_t = cpu().noise)]
    // Absent for auto, as for backend.
    #[serde(default, skip_serializing_if = "NoisePlace::is_auto")]
    pub noise: NoisePlace,
}

fn cpu() -> SearchConfig {
    SearchConfig::preset(Preset::Cpu)
}

fn preset_help() -> String {
    settings::preset_help(
        "Settings to start from; every option not given takes the preset's value.",
        &[
            ("cpu", cpu()),
            ("paper", SearchConfig::preset(Preset::Paper)),
        ],
        &["grad_clip", "val_crop"],
    )
}

/// `--adq`'s parser: core's names of the residual modes.
fn residual_parser() -> impl TypedValueParser<Value = Residual> {
    clap::builder::PossibleValuesParser::new(Residual::ALL.map(Residual::name))
        .try_map(|s| s.parse::<Residual>())
}

impl SearchConfig {
    /// The preset's settings for a quantized search of Basic space B.
    ///
    /// `cpu` fits in 10 minutes on 2 cores (≈3 minutes on two idle cores): 10 epochs of
    /// 25 iterations of 8 crops of 16×16 LR. With 250 alpha steps instead of the paper's
    /// tens of thousands, the alpha learning rate is scaled up (3e-4 → 4e-2) and so is the
    /// entropy coefficient (1e-4 → 2e-2), keeping the paper's schedule shape over the
    /// shorter run. Against that faster alpha dynamics the BitOps term needs a larger η
    /// than the paper's: runs with the earlier polar-method SAN noise gave 3.62 GBitOps at
    /// η = 5e-3, 3.94 at 1e-2, 3.36 at 3e-2 and 2.47 at 1e-1 (mean max probability
    /// 0.87–0.78); with the current ziggurat noise 3e-2 gives 2.91 (0.765; the other values
    /// were not re-run). The preset uses 3e-2: at 1e-1 every slot went to 4 bits, the head
    /// and upsample convs included, and that network retrained worse than one with an 8-bit
    /// upsample conv (Set5 25.67 vs 26.41 dB after 600 QAT steps, same settings). Seeds 1–3
    /// reach 2.91, 3.70 and 2.51 GBitOps at 3e-2; cutting seed 2's to 3 after the search cost
    /// 0.8 dB on Set14 (`docs/pipeline-cpu/README.md`), so no budget is set by default.
    /// (Alpha lr and entropy from a sweep over {0.03, 0.04, 0.06} × {0.01, 0.02, 0.05}.)
    pub fn preset(preset: Preset) -> Self {
        let base = SearchConfig {
            preset,
            space: SearchSpace::BasicB,
            bits: "4,8".into(),
            mode: MixMode::San,
            san_delta: SanDelta::Step,
            adq: Residual::Adq,
            penalty: 1e-4,
            entropy_coef: 1e-4,
            epochs: 20,
            iters_per_epoch: 500,
            batch: 16,
            lr_size: 32,
            alpha_lr: 3e-4,
            weight_lr: 1e-3,
            grad_clip: 5.0,
            seed: 1,
            train_data: PathBuf::from("data/T91"),
            val_data: PathBuf::from("data/Val"),
            val_crop: 48,
            workers: 2,
            max_gbitops: None,
            fix_ops: None,
            backend: BackendKind::Flex,
            noise: NoisePlace::Auto,
        };
        match preset {
            // The reference code's search shape (batch 32 of 45×45 LR crops, ≈ 78 k
            // iterations) on DIV2K: ≈ 3.4 GiB of device memory (twice the 1691 MiB measured
            // at batch 16, BENCHMARKS.md), well inside a 24 GB card.
            Preset::Paper => SearchConfig {
                batch: 32,
                lr_size: 45,
                iters_per_epoch: 3900,
                workers: 4,
                train_data: div2k_train_dir(),
                ..base
            },
            Preset::Cpu => SearchConfig {
                epochs: 10,
                iters_per_epoch: 25,
                batch: 8,
                lr_size: 16,
                alpha_lr: 4e-2,
                weight_lr: 2e-3,
                entropy_coef: 2e-2,
                penalty: 3e-2,
                val_crop: 32,
                ..base
            },
        }
    }

    /// Replaces every value the user did not give (see [`settings::given`]) with the
    /// preset's; a full-precision search (`--bits 32`) defaults to 10× the preset's
    /// entropy coefficient, as the paper's full-precision runs do; then checks the result.
    ///
    /// # Errors
    /// Settings that cannot work (see [`SearchConfig::validate`]).
    pub fn resolve(&mut self, m: &ArgMatches) -> Result<()> {
        let p = SearchConfig::preset(self.preset);
        fill_ungiven!(
            m,
            self,
            p,
            [
                space,
                bits,
                mode,
                san_delta,
                adq,
                penalty,
                entropy_coef,
                epochs,
                iters_per_epoch,
                batch,
                lr_size,
                alpha_lr,
                weight_lr,
                grad_clip,
                seed,
                train_data,
                val_data,
                val_crop,
                workers,
                max_gbitops,
                fix_ops,
                noise
            ]
        );
        self.backend = self.backend.resolve()?;
        self.finish_preset(settings::given(m, "entropy_coef"))
    }

    /// What follows filling in the preset (shared with settings built without a command
    /// line, `trainer study`'s): a full-precision search whose entropy coefficient was not
    /// given uses 10× the preset's, as the paper's full-precision runs do; then the check.
    ///
    /// # Errors
    /// As [`SearchConfig::validate`].
    pub fn finish_preset(&mut self, entropy_given: bool) -> Result<()> {
        if self.search_bits()?.0 == [Bits::B32] && !entropy_given {
            self.entropy_coef *= 10.0;
        }
        self.validate()
    }

    /// Parsed bit widths.
    ///
    /// # Errors
    /// A malformed list.
    pub fn search_bits(&self) -> Result<SearchBits> {
        SearchBits::parse(&self.bits)
    }

    /// The searched slots: the space's, or with `--fix-ops` each offering only that
    /// genotype's op.
    ///
    /// # Errors
    /// A `--fix-ops` file that cannot be read or parsed, or whose space or residual mode is
    /// not this search's.
    pub fn slots(&self) -> Result<Vec<Slot>> {
        let Some(path) = &self.fix_ops else {
            return Ok(self.space.slots());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read --fix-ops {}", path.display()))?;
        let g = Genotype::from_json(&text)
            .with_context(|| format!("--fix-ops {} is not a genotype", path.display()))?;
        ensure!(
            g.space == self.space && g.residual == self.adq,
            "--fix-ops {} is a genotype of space {} with --adq {}, but this search is over \
             space {} with --adq {}",
            path.display(),
            g.space,
            g.residual,
            self.space,
            self.adq
        );
        Ok(self.space.slots_with(&g.chosen_ops())?)
    }

    /// Residual wrapping.
    pub fn residual(&self) -> Residual {
        self.adq
    }

    /// Total iterations.
    pub fn total_iters(&self) -> usize {
        self.epochs * self.iters_per_epoch
    }

    /// Checks that the settings can run.
    ///
    /// # Errors
    /// The first setting that cannot work, named.
    pub fn validate(&self) -> Result<()> {
        self.search_bits()?;
        if let Some(b) = self.max_gbitops {
            ensure!(
                b > 0.0 && b.is_finite(),
                "--max-gbitops must be positive, got {b}"
            );
        }
        ensure!(self.epochs >= 1, "--epochs must be at least 1");
        ensure!(
            self.iters_per_epoch >= 1,
            "--iters-per-epoch must be at least 1"
        );
        ensure!(self.batch >= 1, "--batch must be at least 1");
        let min = if self.space == SearchSpace::Rfdn {
            15
        } else {
            4
        };
        ensure!(
            self.lr_size >= min,
            "--lr-size {} is too small for space {} (at least {min})",
            self.lr_size,
            self.space
        );
        ensure!(
            self.val_crop >= min,
            "validation crops must be at least {min} px"
        );
        for (name, v) in [
            ("--penalty", self.penalty),
            ("--entropy-coef", self.entropy_coef),
        ] {
            ensure!(
                v.is_finite() && v >= 0.0,
                "{name} must be a finite number ≥ 0, got {v}"
            );
        }
        for (name, v) in [
            ("--alpha-lr", self.alpha_lr),
            ("--weight-lr", self.weight_lr),
        ] {
            ensure!(
                v.is_finite() && v > 0.0,
                "{name} must be a finite number > 0, got {v}"
            );
        }
        Ok(())
    }

    /// Weight learning rate at iteration `it` (cosine decay to 0).
    pub fn weight_lr_at(&self, it: usize) -> f64 {
        let t = it as f64 / self.total_iters().max(1) as f64;
        0.5 * self.weight_lr * (1.0 + (std::f64::consts::PI * t).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Command, FromArgMatches};

    /// `trainer search ARGS`, resolved.
    pub(crate) fn from_args(args: &[&str]) -> Result<SearchConfig> {
        let m = SearchConfig::augment_args(Command::new("search"))
            .try_get_matches_from(std::iter::once("search").chain(args.iter().copied()))?;
        let mut c = SearchConfig::from_arg_matches(&m)?;
        c.resolve(&m)?;
        Ok(c)
    }

    #[test]
    fn presets_fill_what_is_not_given() {
        assert_eq!(from_args(&[]).expect("defaults"), cpu());
        // Every field is in `resolve`'s list: a preset alone gives exactly that preset.
        let paper = from_args(&["--preset", "paper"]).expect("paper");
        assert_eq!(paper, SearchConfig::preset(Preset::Paper));
        let c = from_args(&["--preset", "paper", "--batch", "3"]).expect("valid");
        let paper = SearchConfig::preset(Preset::Paper);
        assert_eq!(
            (c.batch, c.epochs, c.lr_size),
            (3, paper.epochs, paper.lr_size)
        );
        let c = from_args(&["--adq", "batchnorm"]).expect("valid");
        assert_eq!(c.residual(), Residual::BatchNorm);
        assert!(from_args(&["--adq", "bn"]).is_err());
    }

    #[test]
    fn the_noise_place_is_saved_only_when_given() {
        // `auto` is left out, so the config.json of every run before `--noise` existed (and
        // its study folder hash) stays as it was.
        let c = from_args(&[]).expect("defaults");
        assert_eq!(c.noise, NoisePlace::Auto);
        assert!(!serde_json::to_string(&c).unwrap().contains("noise"));
        let c = from_args(&["--noise", "host"]).expect("valid");
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""noise":"host""#), "{json}");
        assert_eq!(serde_json::from_str::<SearchConfig>(&json).unwrap(), c);
        assert!(from_args(&["--noise", "gpu"]).is_err());
    }

    #[test]
    fn overrides_and_validation() {
        let c = from_args(&["--preset", "paper", "--penalty", "0", "--bits", "32"]).expect("valid");
        assert_eq!(c.penalty, 0.0);
        assert!(
            (c.entropy_coef - 1e-3).abs() < 1e-12,
            "full precision uses 1e-3"
        );
        let c = from_args(&["--bits", "32", "--entropy-coef", "0.5"]).expect("valid");
        assert_eq!(c.entropy_coef, 0.5, "a given coefficient is kept");
        assert!(from_args(&["--penalty", "NaN"]).is_err());
        assert!(from_args(&["--space", "rfdn", "--lr-size", "12"]).is_err());
        let c = cpu();
        assert!((c.weight_lr_at(0) - c.weight_lr).abs() < 1e-12);
        assert!(c.weight_lr_at(c.total_iters()) < 1e-12);
    }
}
