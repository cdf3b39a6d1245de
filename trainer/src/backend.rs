//! Where the trainer computes. burn 0.22 picks the backend from the device at run time, so
//! one binary holds every backend it was built with: `flex` (pure Rust, SIMD, rayon; the
//! default), `ndarray` (deprecated upstream; cargo feature `ndarray`), CUDA (feature `cuda`:
//! builds without a CUDA toolkit, needs only the NVIDIA driver and NVRTC at run time) and
//! wgpu (feature `wgpu`: Vulkan, Metal or DX12; Mesa's software Vulkan driver in CI).

use std::fmt;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use burn::tensor::{Device, Tensor, Transaction};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A backend and, for a GPU, which device: `--device` on the command line, `backend` in a
/// run's `config.json` (written resolved: never `auto`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// burn's flex backend on the CPU (`cpu` or `flex`; default).
    #[default]
    Flex,
    /// burn's ndarray backend on the CPU (deprecated upstream; needs `--features ndarray`).
    Ndarray,
    /// The CUDA device of this index (`cuda` is `cuda:0`; needs `--features cuda`).
    Cuda(usize),
    /// wgpu's default adapter (needs `--features wgpu`).
    Wgpu,
    /// The first GPU this build can reach, else flex; resolved before a run starts.
    Auto,
}

/// What `--device` accepts, for help texts.
pub const DEVICE_HELP: &str = "Where to compute: cpu (burn's flex backend), cuda[:N] (needs a \
    build with --features cuda), wgpu (--features wgpu; Vulkan, Metal or DX12), auto (the \
    first GPU found, else cpu) or ndarray (--features ndarray). The run's config.json and \
    log name the device that ran";

impl BackendKind {
    /// The CPU backends compiled into this build (what benches time by default).
    pub fn available() -> Vec<BackendKind> {
        let mut v = vec![BackendKind::Flex];
        if cfg!(feature = "ndarray") {
            v.push(BackendKind::Ndarray);
        }
        v
    }

    /// Name as on the command line and in `config.json` (`flex`, `cuda:1`, …).
    pub fn name(self) -> String {
        self.to_string()
    }

    /// Whether this is the default (`config.json` of a search leaves it out then, so the
    /// files and study folder names of CPU runs stay what they were before devices).
    pub fn is_flex(&self) -> bool {
        *self == BackendKind::Flex
    }

    /// `auto` made concrete, and a GPU checked to exist: the first CUDA device (when NVRTC
    /// loads too), else the first wgpu adapter that is a card (not a software rasterizer),
    /// else flex.
    ///
    /// # Errors
    /// A backend this build lacks, or a GPU that is not there.
    pub fn resolve(self) -> Result<BackendKind> {
        match self {
            BackendKind::Auto => Ok(first_gpu().unwrap_or(BackendKind::Flex)),
            BackendKind::Flex => Ok(self),
            BackendKind::Ndarray => {
                if cfg!(feature = "ndarray") {
                    Ok(self)
                } else {
                    bail!(
                        "this trainer was built without the ndarray backend; rebuild with `--features ndarray`"
                    )
                }
            }
            BackendKind::Cuda(i) => {
                let found = cuda_devices()?;
                if i >= found {
                    bail!(
                        "no CUDA device {i}: {found} found (the NVIDIA driver must be installed; \
                         `--device auto` falls back to the CPU)"
                    );
                }
                nvrtc_loads()?;
                Ok(self)
            }
            BackendKind::Wgpu => {
                if wgpu_adapters()? == 0 {
                    bail!(
                        "no wgpu adapter found: install a Vulkan driver (on Debian without a \
                         GPU, Mesa's software one: `apt-get install mesa-vulkan-drivers`)"
                    );
                }
                Ok(self)
            }
        }
    }

    /// The plain (inference) device. Checks the device again even for a kind a config
    /// already resolved: a run resumed from its `config.json` may be on another machine,
    /// and a missing GPU should be a clear error there, not a panic inside burn.
    ///
    /// # Errors
    /// As [`BackendKind::resolve`].
    pub fn device(self) -> Result<Device> {
        let device = match self.resolve()? {
            BackendKind::Flex | BackendKind::Auto => Device::flex(),
            // Deprecated upstream; kept selectable for the backend comparison.
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            BackendKind::Ndarray => Device::ndarray(),
            #[cfg(feature = "cuda")]
            BackendKind::Cuda(i) => Device::cuda(i),
            #[cfg(feature = "wgpu")]
            BackendKind::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
            #[allow(unreachable_patterns)] // resolve refused what this build lacks
            other => bail!("{other} is not compiled into this trainer"),
        };
        Ok(device)
    }

    /// The training (autodiff) device.
    ///
    /// # Errors
    /// As [`BackendKind::resolve`].
    pub fn autodiff_device(self) -> Result<Device> {
        Ok(self.device()?.autodiff())
    }

    /// The device for logs: the name and, for a GPU, the part (`cuda:0 (NVIDIA H200)`).
    pub fn describe(self, device: &Device) -> String {
        #[cfg(any(feature = "cuda", feature = "wgpu"))]
        if matches!(self, BackendKind::Cuda(_) | BackendKind::Wgpu)
            && let Some(id) = device.identity()
        {
            return format!("{self} ({})", id.name);
        }
        let _ = device;
        self.to_string()
    }
}

/// Reads one-element tensors back from their device, all in one transaction: a GPU's queue
/// drains once for all of them (a search iteration's six statistics cost one wait, not six).
/// A kernel that failed on a GPU (most often an allocation: a batch or crop too big for the
/// device, or on wgpu for its largest buffer) surfaces here, as an error instead of burn's
/// panic.
///
/// # Errors
/// The device's failure, with a hint.
pub fn read_scalars<const N: usize>(ts: [Tensor<1>; N]) -> Result<[f32; N]> {
    const HINT: &str = "reading a result back from the device failed (out of device memory? a \
                        smaller --batch, --lr-size or --patch needs less)";
    let data = ts
        .into_iter()
        // A transaction reads tensors of one backend: a loss (autodiff) and a gradient norm
        // (computed on the gradients, inner backend) only meet there.
        .map(Tensor::inner)
        .fold(Transaction::default(), Transaction::register)
        .try_execute()
        .context(HINT)?;
    let mut out = [0.0f32; N];
    for (o, d) in out.iter_mut().zip(data) {
        *o = d
            .convert::<f32>()
            .as_slice::<f32>()
            .ok()
            .and_then(|v| v.first().copied())
            .context("the device returned an empty result")?;
    }
    Ok(out)
}

/// CUDA devices on this machine (0 without a driver, or in a build without CUDA).
#[allow(clippy::unnecessary_wraps)] // fallible in a build with CUDA
fn cuda_devices() -> Result<usize> {
    #[cfg(feature = "cuda")]
    {
        Ok(Device::enumerate(burn::tensor::DeviceType::Cuda).len())
    }
    #[cfg(not(feature = "cuda"))]
    bail!("this trainer was built without CUDA; rebuild with `--features cuda`")
}

/// Whether NVRTC, which compiles every kernel of cubecl-cuda, loads. The driver can be there
/// without it (NVRTC ships with the CUDA toolkit, not the driver), and cubecl-cuda would then
/// panic at the first kernel, in the middle of a run.
///
/// # Errors
/// None of the names cudarc (and so cubecl-cuda) looks for loads.
#[cfg(feature = "cuda")]
fn nvrtc_loads() -> Result<()> {
    // SAFETY: loads and unloads a shared library by name; NVRTC runs no code when loaded.
    #[allow(unsafe_code)]
    let present = unsafe { cudarc::nvrtc::sys::is_culib_present() };
    if present {
        return Ok(());
    }
    let names = cudarc::get_lib_name_candidates("nvrtc");
    bail!(
        "the CUDA device is there but NVRTC, which compiles its kernels, is not: none of \
         {names:?} loads. Install CUDA's NVRTC (the CUDA toolkit, or `pip install \
         nvidia-cuda-nvrtc`) and add the folder holding libnvrtc.so.* to LD_LIBRARY_PATH"
    )
}

#[cfg(not(feature = "cuda"))]
#[allow(clippy::unnecessary_wraps)] // fallible in a build with CUDA
fn nvrtc_loads() -> Result<()> {
    Ok(())
}

/// wgpu adapters this build reaches (0 without a driver).
#[allow(clippy::unnecessary_wraps)] // fallible in a build without wgpu
fn wgpu_adapters() -> Result<usize> {
    #[cfg(feature = "wgpu")]
    {
        Ok(Device::enumerate(burn::tensor::DeviceType::Wgpu).len())
    }
    #[cfg(not(feature = "wgpu"))]
    bail!("this trainer was built without wgpu; rebuild with `--features wgpu`")
}

/// The first GPU `auto` takes: CUDA, then a wgpu adapter that is a card (a software
/// rasterizer such as lavapipe runs, but slower than flex, so `auto` never picks it).
fn first_gpu() -> Option<BackendKind> {
    if cuda_devices().is_ok_and(|n| n > 0) && nvrtc_loads().is_ok() {
        return Some(BackendKind::Cuda(0));
    }
    #[cfg(feature = "wgpu")]
    {
        let card = Device::enumerate(burn::tensor::DeviceType::Wgpu)
            .iter()
            .any(|d| d.identity().is_some_and(|id| id.physical.is_some()));
        if card {
            return Some(BackendKind::Wgpu);
        }
    }
    None
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendKind::Flex => f.write_str("flex"),
            BackendKind::Ndarray => f.write_str("ndarray"),
            BackendKind::Cuda(i) => write!(f, "cuda:{i}"),
            BackendKind::Wgpu => f.write_str("wgpu"),
            BackendKind::Auto => f.write_str("auto"),
        }
    }
}

impl FromStr for BackendKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "cpu" | "flex" => BackendKind::Flex,
            "ndarray" => BackendKind::Ndarray,
            "cuda" => BackendKind::Cuda(0),
            "wgpu" => BackendKind::Wgpu,
            "auto" => BackendKind::Auto,
            _ => match lower.strip_prefix("cuda:").map(str::parse) {
                Some(Ok(i)) => BackendKind::Cuda(i),
                _ => {
                    return Err(format!(
                        "unknown device `{s}`: expected cpu, cuda, cuda:N, wgpu, auto or ndarray"
                    ));
                }
            },
        })
    }
}

impl Serialize for BackendKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BackendKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_cpu_is_flex() {
        for b in [
            BackendKind::Flex,
            BackendKind::Ndarray,
            BackendKind::Cuda(0),
            BackendKind::Cuda(3),
            BackendKind::Wgpu,
            BackendKind::Auto,
        ] {
            assert_eq!(b.name().parse::<BackendKind>().unwrap(), b);
            let json = serde_json::to_string(&b).unwrap();
            assert_eq!(serde_json::from_str::<BackendKind>(&json).unwrap(), b);
        }
        assert_eq!("cpu".parse::<BackendKind>().unwrap(), BackendKind::Flex);
        assert_eq!("CUDA".parse::<BackendKind>().unwrap(), BackendKind::Cuda(0));
        // What config.json files written before devices existed hold.
        assert_eq!(
            serde_json::from_str::<BackendKind>("\"flex\"").unwrap(),
            BackendKind::Flex
        );
        for bad in ["gpu", "cuda:", "cuda:x", "cuda:-1", ""] {
            let e = bad.parse::<BackendKind>().unwrap_err();
            assert!(e.contains("expected cpu, cuda"), "{bad}: {e}");
        }
    }

    #[test]
    fn auto_resolves_to_something_that_runs() {
        let b = BackendKind::Auto.resolve().unwrap();
        assert_ne!(b, BackendKind::Auto);
        let d = b.device().unwrap();
        let t = burn::tensor::Tensor::<1>::from_floats([1.0, 2.0], &d);
        assert_eq!(t.sum().into_scalar::<f32>(), 3.0);
    }

    #[test]
    fn scalars_read_together_come_back_in_order() {
        let d = Device::flex();
        let t = Tensor::<1>::from_floats([1.5, -2.0, 4.0], &d);
        let got = read_scalars([
            t.clone().max(),
            t.clone().min(),
            t.clone().sum(),
            t.slice(1..2).mul_scalar(f32::NAN),
        ])
        .unwrap();
        assert_eq!(got[..3], [4.0, -2.0, 3.5]);
        assert!(got[3].is_nan());
        assert_eq!(read_scalars::<0>([]).unwrap(), [0.0f32; 0]);
        let a = Device::flex().autodiff();
        let tracked = Tensor::<1>::from_floats([2.0], &a).require_grad();
        let plain = Tensor::<1>::from_floats([3.0], &a).inner();
        assert_eq!(read_scalars([tracked, plain]).unwrap(), [2.0, 3.0]);
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn a_backend_not_built_in_says_how_to_get_it() {
        let e = BackendKind::Cuda(0).device().unwrap_err().to_string();
        assert!(e.contains("--features cuda"), "{e}");
    }
}
