//! A study plan: a TOML list of experiments, each expanded into one run per seed with
//! fully resolved settings.
//!
//! ```toml
//! [defaults]                  # under every experiment's tables (optional)
//! datasets = ["data/Set5", "data/Set14", "data/B100"]
//! search = { epochs = 10 }    # fields of `SearchConfig` (`trainer search`'s settings)
//! retrain = {}                # fields of `RetrainArgs` (the pipeline's retraining)
//! train = {}                  # fields of `TrainConfig` (`trainer train`'s settings)
//!
//! [[experiment]]
//! name = "quantnas"
//! method = "quantnas"         # search + retraining + evaluation (`trainer pipeline`)
//! seeds = [1, 2, 3]
//! search = { penalty = 3e-2 }
//!
//! [[experiment]]
//! name = "espcn-8"
//! method = "uniform"          # retraining + evaluation of a fixed network (`trainer train`)
//! arch = "espcn"
//! bits = 8
//! ```
//! The tables override the commands' own settings structs field by field, starting from
//! the preset their `preset` field names (cpu by default), so a plan says only what
//! differs from `trainer pipeline` / `trainer train`; a field those structs do not have
//! is refused, and so is a value they would refuse.

use std::path::PathBuf;

use anyhow::{Context, Result, bail, ensure};
use quantnas_core::arch::{Arch, Bits, Genotype, Residual, SearchSpace, rfdn_genotype};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use toml::Table;

use super::name::run_folder;
use super::random::sample;
use super::timing::TimingPlan;
use crate::backend::BackendKind;
use crate::pipeline::{PipelineConfig, TEST_SETS, check_test_sets};
use crate::search::config::SearchConfig;
use crate::settings::Preset;
use crate::train::config::TrainConfig;

/// The plans bundled with the binary (`trainer study --plan NAME`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Bundled {
    /// The issue-16 grid on this project's 2-core CPU machines (hours; see its comments).
    Cpu,
    /// Minuscule sizes, seconds in all: what the tests run.
    Tiny,
}

impl Bundled {
    /// The plan's TOML text.
    pub fn text(self) -> &'static str {
        match self {
            Bundled::Cpu => include_str!("../../plans/cpu.toml"),
            Bundled::Tiny => include_str!("../../plans/tiny.toml"),
        }
    }
}

/// How a run finds its network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// QuantNAS search of ops and bits, then retraining (`trainer pipeline`); the variant
    /// is in the search settings (mode, residual, entropy, bits).
    Quantnas,
    /// A fixed network at uniform bits, retrained with LSQ + HWGQ (`trainer train`).
    Uniform,
    /// A random op and width per slot at a BitOps target ([`super::random`]), retrained
    /// as the pipeline retrains a searched network.
    Random,
    /// The two-fold baseline (spec §9): a full-precision op search, then a bit-only
    /// search over the network it found (EdMIPS: shared weights, direct quantization),
    /// retrained and evaluated as the pipeline does.
    TwoFold,
    /// EdMIPS (spec §9): a bit-only search over a fixed network (shared weights, direct
    /// quantization), retrained and evaluated as the pipeline does.
    Edmips,
}

impl Method {
    /// The name in plans and `results.json`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Quantnas => "quantnas",
            Method::Uniform => "uniform",
            Method::Random => "random",
            Method::TwoFold => "two-fold",
            Method::Edmips => "edmips",
        }
    }
}

/// What one run does, fully resolved: the folder name hashes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Job {
    /// `trainer pipeline` with these settings.
    Pipeline(PipelineConfig),
    /// The two-fold baseline: the full-precision search `ops` (in `RUN/ops`), then
    /// `trainer pipeline` with `bits`, whose search gets `fix_ops` = the first search's
    /// `genotype.json` when it runs (unset here: the folder name hashes these settings
    /// and cannot depend on the folder).
    TwoFold {
        /// The first stage: op search, full precision (boxed: the largest variant).
        ops: Box<SearchConfig>,
        /// The second stage: bit-only search over the found ops, retraining, evaluation.
        bits: PipelineConfig,
    },
    /// EdMIPS: `trainer pipeline` with `bits`, whose search gets `fix_ops` = `network`
    /// written to `RUN/network.json` when it runs (the folder name hashes the network,
    /// not a path).
    Edmips {
        /// The fixed network, a genotype of the space it is searched in.
        network: Genotype,
        /// The bit-only search over its ops, retraining, evaluation.
        bits: PipelineConfig,
    },
    /// `trainer train` with these settings, then export and evaluation on `datasets`.
    Train {
        /// The training.
        train: TrainConfig,
        /// Test sets.
        datasets: Vec<PathBuf>,
    },
}

impl Job {
    /// What trains and evaluates the run's network in the end: a pipeline (the second
    /// stage of two-fold and EdMIPS runs) or a training.
    pub fn last_stage(&self) -> LastStage<'_> {
        match self {
            Job::Pipeline(c) | Job::TwoFold { bits: c, .. } | Job::Edmips { bits: c, .. } => {
                LastStage::Pipeline(c)
            }
            Job::Train { train, datasets } => LastStage::Train { train, datasets },
        }
    }

    /// The test sets the run reports.
    pub fn datasets(&self) -> &[PathBuf] {
        match self.last_stage() {
            LastStage::Pipeline(c) => &c.datasets,
            LastStage::Train { datasets, .. } => datasets,
        }
    }

    /// Makes every stage compute on `device`.
    pub fn set_device(&mut self, device: BackendKind) {
        match self {
            Job::Pipeline(c) | Job::Edmips { bits: c, .. } => c.search.backend = device,
            Job::TwoFold { ops, bits } => {
                ops.backend = device;
                bits.search.backend = device;
            }
            Job::Train { train, .. } => train.backend = device,
        }
    }

    /// The seed of weights, data and noise.
    pub fn seed(&self) -> u64 {
        match self.last_stage() {
            LastStage::Pipeline(c) => c.search.seed,
            LastStage::Train { train, .. } => train.seed,
        }
    }
}

/// See [`Job::last_stage`].
#[derive(Clone, Copy, Debug)]
pub enum LastStage<'a> {
    /// `trainer pipeline`: search, retraining, evaluation.
    Pipeline(&'a PipelineConfig),
    /// `trainer train`, then export and evaluation on `datasets`.
    Train {
        /// The training.
        train: &'a TrainConfig,
        /// Test sets.
        datasets: &'a [PathBuf],
    },
}

/// One run of a plan: an experiment at one seed.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// `EXPERIMENT-sSEED`.
    pub name: String,
    /// The experiment's method.
    pub method: Method,
    /// The seed of weights, data and noise.
    pub seed: u64,
    /// What it does.
    pub job: Job,
    /// Its folder under `DIR/runs/`, named from its settings.
    pub folder: String,
    /// `random`: what its network was drawn from.
    pub drawn: Option<Drawn>,
}

/// What a random run's network was drawn from.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawn {
    /// The widths drawn from (the search's `bits`).
    pub bits: String,
    /// The BitOps target.
    pub target_gbitops: f64,
}

/// A plan file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    /// Put under every experiment (all but `name`, `method`, `arch` and `bits`).
    #[serde(default)]
    defaults: Experiment,
    #[serde(rename = "experiment", default)]
    experiments: Vec<Experiment>,
    /// The search-step timing (paper Fig. 8), if the plan asks for it.
    #[serde(default)]
    timing: Option<TimingPlan>,
}

/// One experiment as written, or the plan's defaults; each key of a settings table is a
/// field of the struct named in its comment.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Experiment {
    /// Readable name (letters, digits, `-`, `_`, `.`); unique in the plan.
    name: Option<String>,
    method: Option<Method>,
    /// One run per seed (default: the settings' own seed).
    seeds: Option<Vec<u64>>,
    /// `uniform`: the fixed network (`espcn`, `srresnet`, `rfdn`).
    arch: Option<String>,
    /// `uniform`: bits of every layer (2, 3, 4, 8 or 32).
    bits: Option<u32>,
    /// `random`: the BitOps the drawn network should cost, in GBitOps at 32×32 LR.
    target_gbitops: Option<f64>,
    /// [`SearchConfig`]; of a two-fold experiment, its second (bit-only) search.
    #[serde(default)]
    search: Table,
    /// `two-fold`: [`SearchConfig`] of the first (full-precision op) search, over
    /// `[defaults]`'s `search` with `space = "basic-a"`, `bits = "32"` and no budget.
    #[serde(default)]
    ops_search: Table,
    /// [`crate::pipeline::RetrainArgs`].
    #[serde(default)]
    retrain: Table,
    /// [`TrainConfig`].
    #[serde(default)]
    train: Table,
    /// Test sets (default: the pipeline's, Set5, Set14 and B100).
    datasets: Option<Vec<PathBuf>>,
}

impl Experiment {
    /// `self` (the defaults) with `over`'s keys put on top.
    fn under(&self, over: &Experiment) -> Experiment {
        let merge = |a: &Table, b: &Table| {
            let mut t = a.clone();
            t.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
            t
        };
        Experiment {
            search: merge(&self.search, &over.search),
            ops_search: merge(&self.ops_search, &over.ops_search),
            retrain: merge(&self.retrain, &over.retrain),
            train: merge(&self.train, &over.train),
            datasets: over.datasets.clone().or_else(|| self.datasets.clone()),
            seeds: over.seeds.clone().or_else(|| self.seeds.clone()),
            ..over.clone()
        }
    }
}

/// A parsed plan: its runs, in plan order.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Every run.
    pub runs: Vec<RunSpec>,
    /// What to time after the runs (the plan's `[timing]`).
    pub timing: Option<TimingPlan>,
}

impl Plan {
    /// Parses and resolves a plan; `origin` names it in errors.
    ///
    /// # Errors
    /// Malformed TOML, an unknown field, a value the commands would refuse, two
    /// experiments of one name or two runs of the same settings.
    pub fn parse(text: &str, origin: &str) -> Result<Plan> {
        Plan::parse_on(text, origin, BackendKind::Flex)
    }

    /// [`Plan::parse`] with every run computing on `device` (resolved: not `auto`). A run
    /// on another device than flex is another run: its settings, so its folder, say where
    /// it computes, and its numbers are that device's.
    ///
    /// # Errors
    /// As [`Plan::parse`].
    pub fn parse_on(text: &str, origin: &str, device: BackendKind) -> Result<Plan> {
        let file: PlanFile =
            toml::from_str(text).with_context(|| format!("reading plan {origin}"))?;
        ensure!(
            !file.experiments.is_empty(),
            "plan {origin} has no [[experiment]]"
        );
        let d = &file.defaults;
        if let Some(k) = [
            ("name", d.name.is_some()),
            ("method", d.method.is_some()),
            ("arch", d.arch.is_some()),
            ("bits", d.bits.is_some()),
            ("target_gbitops", d.target_gbitops.is_some()),
        ]
        .iter()
        .find_map(|(k, set)| set.then_some(k))
        {
            bail!("plan {origin}: [defaults] cannot set `{k}` (each experiment says its own)");
        }
        let mut runs: Vec<RunSpec> = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        for (i, e) in file.experiments.iter().enumerate() {
            let (Some(name), Some(method)) = (&e.name, e.method) else {
                bail!(
                    "plan {origin}: experiment {} needs a `name` and a `method`",
                    i + 1
                );
            };
            ensure!(
                names.insert(name.clone()),
                "plan {origin}: two experiments are named {name:?}"
            );
            let more = expand(name, method, e, &d.under(e), device)
                .with_context(|| format!("plan {origin}, experiment {name:?}"))?;
            for r in more {
                if let Some(same) = runs.iter().find(|o| o.method == r.method && o.job == r.job) {
                    bail!(
                        "plan {origin}: runs {} and {} have the same settings",
                        same.name,
                        r.name
                    );
                }
                runs.push(r);
            }
        }
        if let Some(t) = &file.timing {
            t.check().with_context(|| format!("plan {origin}"))?;
        }
        Ok(Plan {
            runs,
            timing: file.timing,
        })
    }
}

/// Checks an experiment's name: it names folders.
fn check_name(name: &str) -> Result<()> {
    ensure!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !name.starts_with('.'),
        "name {name:?} must be letters, digits, '-', '_' or '.' (it names the run folders)"
    );
    Ok(())
}

/// The runs of experiment `e`, `o` being it over the plan's defaults.
fn expand(
    name: &str,
    method: Method,
    e: &Experiment,
    o: &Experiment,
    device: BackendKind,
) -> Result<Vec<RunSpec>> {
    check_name(name)?;
    let datasets = o
        .datasets
        .clone()
        .unwrap_or_else(|| TEST_SETS.iter().map(PathBuf::from).collect());
    ensure!(!datasets.is_empty(), "datasets must not be empty");
    if method != Method::TwoFold {
        ensure!(
            e.ops_search.is_empty(),
            "[ops_search] is the first search of a two-fold experiment; a {} experiment has none",
            method.name()
        );
    }
    let seed_key = match method {
        Method::Quantnas | Method::Random | Method::TwoFold | Method::Edmips => {
            // EdMIPS names its fixed network; the widths it searches are [search] bits.
            let arch = method != Method::Edmips && e.arch.is_some();
            refuse_keys(method, &[("arch", arch), ("bits", e.bits.is_some())])?;
            if method != Method::Random {
                refuse_keys(method, &[("target_gbitops", e.target_gbitops.is_some())])?;
            }
            // The plan's [defaults] may hold tables for either method; an experiment's own
            // tables must be its method's.
            ensure!(
                e.train.is_empty(),
                "a {} experiment retrains with [retrain], not [train]",
                method.name()
            );
            &o.search
        }
        Method::Uniform => {
            refuse_keys(method, &[("target_gbitops", e.target_gbitops.is_some())])?;
            ensure!(
                e.search.is_empty() && e.retrain.is_empty(),
                "a uniform experiment has no search: set [train], not [search] or [retrain]"
            );
            &o.train
        }
    };
    let seeds = match &o.seeds {
        Some(s) => {
            ensure!(
                !seed_key.contains_key("seed"),
                "give `seeds` or a `seed` field, not both"
            );
            ensure!(!s.is_empty(), "seeds must not be empty");
            s.iter().map(|&s| Some(s)).collect()
        }
        None => vec![None],
    };
    let mut runs = Vec::new();
    for seed in seeds {
        let mut drawn = None;
        let job = match method {
            Method::Quantnas => Job::Pipeline(pipeline_config(o, seed, &datasets)?),
            Method::TwoFold => two_fold(e, o, seed, &datasets)?,
            Method::Edmips => edmips(e, o, seed, &datasets)?,
            Method::Random => {
                let Some(target) = o.target_gbitops else {
                    bail!("a random experiment needs `target_gbitops`");
                };
                // The search's settings say the space, widths, residual, seed and data;
                // the retraining is the pipeline's.
                let c = pipeline_config(o, seed, &datasets)?;
                let s = &c.search;
                let g = sample(s.space, s.adq, &s.search_bits()?.0, target, s.seed)?;
                let arch = Arch::Genotype { genotype: g };
                drawn = Some(Drawn {
                    bits: s.bits.clone(),
                    target_gbitops: target,
                });
                Job::Train {
                    train: c.retrain.config(&arch, s)?,
                    datasets: datasets.clone(),
                }
            }
            Method::Uniform => {
                let (Some(arch), Some(bits)) = (&o.arch, o.bits) else {
                    bail!("a uniform experiment needs `arch` and `bits`");
                };
                let train = train_config(&o.train, arch, bits, seed)?;
                check_test_sets(&datasets, &train.val_data)?;
                Job::Train {
                    train,
                    datasets: datasets.clone(),
                }
            }
        };
        let mut job = job;
        job.set_device(device);
        let seed = job.seed();
        runs.push(RunSpec {
            name: format!("{name}-s{seed}"),
            method,
            seed,
            folder: run_folder(name, seed, &(method, &job))?,
            job,
            drawn,
        });
    }
    Ok(runs)
}

/// Refuses the keys given that `method` has no use for.
fn refuse_keys(method: Method, keys: &[(&str, bool)]) -> Result<()> {
    if let Some((k, _)) = keys.iter().find(|(_, given)| *given) {
        bail!("a {} experiment has no `{k}`", method.name());
    }
    Ok(())
}

/// The preset a table names (cpu when it names none).
fn preset_of(table: &Table, what: &str) -> Result<Preset> {
    match table.get("preset") {
        Some(v) => v
            .clone()
            .try_into()
            .with_context(|| format!("[{what}] preset: expected \"cpu\" or \"paper\"")),
        None => Ok(Preset::Cpu),
    }
}

/// A pipeline's settings: the search preset with `o.search` on top, then the retraining
/// preset for it with `o.retrain` on top; the rules `trainer pipeline` applies to
/// options not given apply to fields not set (no BitOps budget, full-precision entropy).
fn pipeline_config(
    o: &Experiment,
    seed: Option<u64>,
    datasets: &[PathBuf],
) -> Result<PipelineConfig> {
    let mut search: SearchConfig = overlay(
        &SearchConfig::preset(preset_of(&o.search, "search")?),
        &o.search,
        "search",
    )?;
    if let Some(s) = seed {
        search.seed = s;
    }
    search
        .finish_preset(o.search.contains_key("entropy_coef"))
        .context("[search]")?;
    let retrain = overlay(
        &PipelineConfig::retrain_preset(&search)?,
        &o.retrain,
        "retrain",
    )?;
    let config = PipelineConfig {
        search,
        retrain,
        datasets: datasets.to_vec(),
    };
    config.validate()?;
    // The retraining's own checks, on a stand-in network (the real one is found later).
    config
        .retrain
        .config(&Arch::Espcn { bits: Bits::B8 }, &config.search)
        .context("[retrain]")?;
    Ok(config)
}

/// A two-fold run (`e` as written, `o` over the defaults): the first search is
/// `[defaults].search` with `space = "basic-a"`, `bits = "32"` and no BitOps budget, then
/// `ops_search` on top (the full-precision entropy rule applies); the second is the
/// pipeline of `search` over `mode = "shared"`, in the first search's space and residual
/// mode (so `search` cannot set those).
fn two_fold(
    e: &Experiment,
    o: &Experiment,
    seed: Option<u64>,
    datasets: &[PathBuf],
) -> Result<Job> {
    if let Some(k) = ["space", "adq", "fix_ops"]
        .into_iter()
        .find(|k| e.search.contains_key(*k))
    {
        bail!(
            "[search] {k}: the second search of a two-fold experiment is over the first \
             one's network (set space and adq in [ops_search])"
        );
    }
    ensure!(
        !o.ops_search.contains_key("fix_ops"),
        "[ops_search] fix_ops: the first search of a two-fold experiment searches ops"
    );
    let mut first = o.search.clone();
    first.remove("max_gbitops");
    first.insert("space".into(), "basic-a".into());
    first.insert("bits".into(), "32".into());
    first.extend(o.ops_search.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut ops: SearchConfig = overlay(
        &SearchConfig::preset(preset_of(&first, "ops_search")?),
        &first,
        "ops_search",
    )?;
    if let Some(s) = seed {
        ops.seed = s;
    }
    ops.finish_preset(first.contains_key("entropy_coef"))
        .context("[ops_search]")?;
    let bits = bit_search(o, ops.space, ops.adq, seed, datasets)?;
    Ok(Job::TwoFold {
        ops: Box::new(ops),
        bits,
    })
}

/// An EdMIPS run (`e` as written, `o` over the defaults): the pipeline of `search` over
/// `mode = "shared"`, in the space and residual mode of the fixed network `arch` (so
/// `search` cannot set those), every slot offering only that network's op, with no
/// BitOps budget unless `search` sets one.
fn edmips(e: &Experiment, o: &Experiment, seed: Option<u64>, datasets: &[PathBuf]) -> Result<Job> {
    let Some(arch) = &o.arch else {
        bail!(
            "an edmips experiment needs `arch`: the fixed network whose bit widths it searches (rfdn)"
        );
    };
    let network = fixed_genotype(arch)?;
    if let Some(k) = ["space", "adq", "fix_ops"]
        .into_iter()
        .find(|k| e.search.contains_key(*k))
    {
        bail!("[search] {k}: an edmips search is over the fixed network `arch` = {arch:?}");
    }
    let bits = bit_search(o, network.space, network.residual, seed, datasets)?;
    Ok(Job::Edmips { network, bits })
}

/// The bit-only search of a fixed network's ops (the second stage of two-fold and
/// EdMIPS) and its retraining: the pipeline of `o.search` over `mode = "shared"` (EdMIPS
/// shares weights across widths), in the network's `space` and `residual` mode.
fn bit_search(
    o: &Experiment,
    space: SearchSpace,
    residual: Residual,
    seed: Option<u64>,
    datasets: &[PathBuf],
) -> Result<PipelineConfig> {
    let mut over = o.clone();
    over.search = Table::new();
    over.search.insert("mode".into(), "shared".into());
    over.search.extend(o.search.clone());
    over.search.insert("space".into(), space.name().into());
    over.search.insert("adq".into(), residual.name().into());
    pipeline_config(&over, seed, datasets)
}

/// A fixed network as a genotype of a search space, which a bit-only search needs.
fn fixed_genotype(arch: &str) -> Result<Genotype> {
    match arch.to_ascii_lowercase().as_str() {
        // The widths are searched; the genotype gives the ops only.
        "rfdn" => Ok(rfdn_genotype(Bits::B32)),
        "espcn" | "srresnet" => bail!(
            "EdMIPS over {arch} is not available: only RFDN is a genotype of one of this \
             project's search spaces, and a bit-only search needs its network's slots \
             (ESPCN and SRResNet have per-network, not per-layer, bit widths)"
        ),
        _ => bail!("unknown fixed network `arch` = {arch:?} (edmips: rfdn)"),
    }
}

/// A uniform network's training: the preset for it with `table` on top.
fn train_config(table: &Table, arch: &str, bits: u32, seed: Option<u64>) -> Result<TrainConfig> {
    ensure!(
        !table.contains_key("arch"),
        "[train] arch: set the network with the experiment's `arch` and `bits`"
    );
    let arch = crate::archspec::resolve_arch(arch, Some(bits))?;
    let mut train = overlay(
        &TrainConfig::preset(arch, preset_of(table, "train")?),
        table,
        "train",
    )?;
    if let Some(s) = seed {
        train.seed = s;
    }
    train.validate().context("[train]")?;
    Ok(train)
}

/// `base` with the fields in `table` replaced, through the struct's own serde: a key the
/// struct does not serialize is an unknown field, a value its type refuses is invalid.
///
/// # Errors
/// An unknown field (the known ones listed) or a value of the wrong type.
pub fn overlay<T: Serialize + DeserializeOwned>(base: &T, table: &Table, what: &str) -> Result<T> {
    let serde_json::Value::Object(mut fields) = serde_json::to_value(base)? else {
        bail!("[{what}] settings are not a table");
    };
    for (key, value) in table {
        if !fields.contains_key(key) {
            let known: Vec<&str> = fields.keys().map(String::as_str).collect();
            bail!(
                "unknown field `{key}` in [{what}]; its fields are: {}",
                known.join(", ")
            );
        }
        let v = serde_json::to_value(value)
            .with_context(|| format!("[{what}] {key}: cannot be read"))?;
        let mut one = fields.clone();
        one.insert(key.clone(), v);
        // Checked one field at a time, so the error names the field.
        serde_json::from_value::<T>(serde_json::Value::Object(one.clone()))
            .with_context(|| format!("invalid value for `{key}` in [{what}]: {value}"))?;
        fields = one;
    }
    serde_json::from_value(serde_json::Value::Object(fields))
        .with_context(|| format!("invalid [{what}] settings"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use quantnas_core::arch::SearchSpace;

    #[test]
    fn bundled_plans_resolve() {
        for b in [Bundled::Cpu, Bundled::Tiny] {
            let p = Plan::parse(b.text(), "bundled").unwrap();
            assert!(!p.runs.is_empty());
        }
    }

    /// Two experiments over defaults, one of them at two seeds; a full-precision search;
    /// a uniform baseline at the paper preset.
    const PLAN: &str = r#"
        [defaults]
        search = { epochs = 2 }
        [[experiment]]
        name = "q"
        method = "quantnas"
        seeds = [4, 5]
        search = { penalty = 0.1, adq = "batchnorm" }
        retrain = { train_steps = 30 }
        [[experiment]]
        name = "fp"
        method = "quantnas"
        search = { bits = "32" }
        [[experiment]]
        name = "e"
        method = "uniform"
        arch = "espcn"
        bits = 4
        train = { steps = 7, preset = "paper" }
        "#;

    #[test]
    fn fields_override_the_presets_and_seeds_expand() {
        let p = Plan::parse(PLAN, "test").unwrap();
        assert_eq!(p.runs.len(), 4);
        let Job::Pipeline(c) = &p.runs[1].job else {
            panic!("a pipeline")
        };
        let cpu = SearchConfig::preset(Preset::Cpu);
        assert_eq!(c.search.epochs, 2);
        assert_eq!(c.search.penalty, 0.1);
        assert_eq!(c.search.seed, 5);
        assert_eq!(c.search.batch, cpu.batch);
        assert_eq!(c.search.max_gbitops, None, "no budget unless asked for");
        assert_eq!(c.retrain.train_steps, 30);
        assert_eq!(p.runs[1].name, "q-s5");
        assert_ne!(p.runs[0].folder, p.runs[1].folder);
        let Job::Train { train, .. } = &p.runs[3].job else {
            panic!("a training")
        };
        assert_eq!((train.steps, train.seed), (7, 1));
        assert_eq!(train.arch, Arch::Espcn { bits: Bits::B4 });
    }

    /// A plan's experiment resolves to what the command line of `trainer pipeline` or
    /// `trainer train` with the same settings resolves to.
    #[test]
    fn experiments_equal_their_commands() {
        use clap::{Args, Command, FromArgMatches};
        let p = Plan::parse(PLAN, "test").unwrap();
        let pipeline = |argv: &[&str]| {
            let m = crate::pipeline::PipelineArgs::augment_args(Command::new("pipeline"))
                .try_get_matches_from(std::iter::once("pipeline").chain(argv.iter().copied()))
                .unwrap();
            let args = crate::pipeline::PipelineArgs::from_arg_matches(&m).unwrap();
            Job::Pipeline(PipelineConfig::resolve(&args, &m).unwrap())
        };
        let q = ["--epochs", "2", "--penalty", "0.1", "--adq", "batchnorm"];
        let q4 = [&q[..], &["--seed", "4", "--train-steps", "30"]].concat();
        assert_eq!(p.runs[0].job, pipeline(&q4));
        // The full-precision search takes 10× the entropy coefficient, as on the command line.
        assert_eq!(p.runs[2].job, pipeline(&["--epochs", "2", "--bits", "32"]));
        let argv = ["train", "--steps", "7", "--preset", "paper"];
        let m = TrainConfig::augment_args(Command::new("train"))
            .try_get_matches_from(argv)
            .unwrap();
        let mut cli = TrainConfig::from_arg_matches(&m).unwrap();
        cli.resolve(Arch::Espcn { bits: Bits::B4 }, &m).unwrap();
        let Job::Train { train, .. } = &p.runs[3].job else {
            panic!("a training")
        };
        assert_eq!(train, &cli);
    }

    /// A plan of one experiment named `x` (`body` its other lines); errors in full.
    fn one_experiment(body: &str) -> Result<Plan, String> {
        Plan::parse(&format!("[[experiment]]\nname = \"x\"\n{body}"), "t")
            .map_err(|e| format!("{e:#}"))
    }

    /// A two-fold experiment's stages are `trainer search --space basic-a --bits 32` and
    /// `trainer pipeline --space basic-a --mode shared` (+ `--fix-ops` when it runs),
    /// both over the plan's defaults.
    #[test]
    fn two_fold_stages_equal_their_commands() {
        use clap::{Args, Command, FromArgMatches};
        let text = r#"
            [defaults]
            search = { epochs = 2, max_gbitops = 50.0 }
            [[experiment]]
            name = "tf"
            method = "two-fold"
            seeds = [3]
            ops_search = { penalty = 0.0 }
            search = { penalty = 0.1 }
            "#;
        let p = Plan::parse(text, "test").unwrap();
        let Job::TwoFold { ops, bits } = &p.runs[0].job else {
            panic!("a two-fold job")
        };
        assert_eq!(p.runs[0].method.name(), "two-fold");
        let m = SearchConfig::augment_args(Command::new("search"))
            .try_get_matches_from([
                "search",
                "--space",
                "basic-a",
                "--bits",
                "32",
                "--epochs",
                "2",
                "--penalty",
                "0",
                "--seed",
                "3",
            ])
            .unwrap();
        let mut cli = SearchConfig::from_arg_matches(&m).unwrap();
        cli.resolve(&m).unwrap();
        assert_eq!(**ops, cli, "no budget on the full-precision search");
        let m = crate::pipeline::PipelineArgs::augment_args(Command::new("pipeline"))
            .try_get_matches_from([
                "pipeline",
                "--space",
                "basic-a",
                "--mode",
                "shared",
                "--epochs",
                "2",
                "--max-gbitops",
                "50",
                "--penalty",
                "0.1",
                "--seed",
                "3",
            ])
            .unwrap();
        let args = crate::pipeline::PipelineArgs::from_arg_matches(&m).unwrap();
        assert_eq!(bits, &PipelineConfig::resolve(&args, &m).unwrap());
        assert_eq!(
            bits.search.fix_ops, None,
            "set when the first stage has run"
        );

        let plan = one_experiment;
        for (body, want) in [
            (
                "method = \"two-fold\"\nsearch = { space = \"basic-b\" }",
                "[search] space: the second search of a two-fold experiment is over the first",
            ),
            (
                "method = \"two-fold\"\nops_search = { fix_ops = \"g.json\" }",
                "[ops_search] fix_ops",
            ),
            (
                "method = \"quantnas\"\nops_search = { epochs = 1 }",
                "a quantnas experiment has none",
            ),
            (
                "method = \"two-fold\"\nops_search = { epoch = 1 }",
                "unknown field `epoch` in [ops_search]",
            ),
        ] {
            let e = plan(body).unwrap_err();
            assert!(e.contains(want), "{body}: {e}");
        }
        // The first stage may search another space; the second follows it.
        let p =
            plan("method = \"two-fold\"\nops_search = { space = \"rfdn\", lr_size = 16 }").unwrap();
        let Job::TwoFold { ops, bits } = &p.runs[0].job else {
            panic!("a two-fold job")
        };
        assert_eq!(
            (ops.space, bits.search.space),
            (SearchSpace::Rfdn, SearchSpace::Rfdn)
        );
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused() {
        let plan = one_experiment;
        let e = plan("method = \"quantnas\"\nsearch = { penalti = 1 }").unwrap_err();
        assert!(e.contains("unknown field `penalti` in [search]"), "{e}");
        let e = plan("method = \"quantnas\"\ncolour = 1").unwrap_err();
        assert!(e.contains("unknown field `colour`"), "{e}");
        let e = plan("method = \"quantnas\"\nsearch = { adq = \"bn\" }").unwrap_err();
        assert!(e.contains("invalid value for `adq`"), "{e}");
        let e = plan("method = \"quantnas\"\nsearch = { penalty = -1.0 }").unwrap_err();
        assert!(e.contains("penalty"), "{e}");
        let e = plan("method = \"grid\"").unwrap_err();
        assert!(e.contains("method"), "{e}");
        let e = plan("method = \"edmips\"").unwrap_err();
        assert!(e.contains("needs `arch`"), "{e}");
        let e = plan("method = \"uniform\"\narch = \"espcn\"\nbits = 5").unwrap_err();
        assert!(e.contains("bits"), "{e}");
        assert!(plan("method = \"uniform\"\narch = \"espcn\"").is_err());
        let e = plan("method = \"quantnas\"\nseeds = [1]\nsearch = { seed = 2 }").unwrap_err();
        assert!(e.contains("not both"), "{e}");
        let e = plan("method = \"quantnas\"\n[[experiment]]\nname = \"y\"\nmethod = \"quantnas\"")
            .unwrap_err();
        assert!(e.contains("same settings"), "{e}");
    }
}
