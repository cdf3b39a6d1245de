//! QAT training of fixed networks and derived genotypes (spec §7): settings and presets,
//! the run folder, checkpoints, the step, the loop and resuming.

pub mod cli;
pub mod clip;
pub mod config;
pub mod fit;
pub mod folder;
pub mod step;
pub mod validate;

pub use crate::run::Session;
pub use config::{Preset, TrainConfig, parse_arch};
pub use fit::{RunSummary, resume, start};
pub use step::{Learner, StepStats};
