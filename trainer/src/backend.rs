//! The compute backends the trainer can run on. burn 0.22 picks the backend from the
//! device at run time; `flex` (pure Rust, SIMD, rayon) is the default, `ndarray` is
//! deprecated upstream and only compiled in with the `ndarray` cargo feature.

use anyhow::Result;
use burn::tensor::Device;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// A CPU backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// burn's flex backend (default; ≈20× faster than ndarray per training step here).
    Flex,
    /// burn's ndarray backend (deprecated upstream; needs `--features ndarray`).
    Ndarray,
}

impl BackendKind {
    /// The backends compiled into this build.
    pub fn available() -> Vec<BackendKind> {
        let mut v = vec![BackendKind::Flex];
        if cfg!(feature = "ndarray") {
            v.push(BackendKind::Ndarray);
        }
        v
    }

    /// Name as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Flex => "flex",
            BackendKind::Ndarray => "ndarray",
        }
    }

    /// The plain (inference) device.
    ///
    /// # Errors
    /// `ndarray` in a build without the `ndarray` feature.
    pub fn device(self) -> Result<Device> {
        match self {
            BackendKind::Flex => Ok(Device::flex()),
            // Deprecated upstream; kept selectable for the backend comparison.
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            BackendKind::Ndarray => Ok(Device::ndarray()),
            #[cfg(not(feature = "ndarray"))]
            BackendKind::Ndarray => anyhow::bail!(
                "this trainer was built without the ndarray backend; rebuild with `--features ndarray`"
            ),
        }
    }

    /// The training (autodiff) device.
    ///
    /// # Errors
    /// As [`BackendKind::device`].
    pub fn autodiff_device(self) -> Result<Device> {
        Ok(self.device()?.autodiff())
    }
}
