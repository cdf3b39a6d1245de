//! The parameters of a graph's fixed nodes — convs, batch norms, ADQ scalars — held the
//! same way by child networks ([`super::Network`]) and the supernet (whose slots keep
//! their mixers beside these), so that building, running and exporting them is written
//! once.

use anyhow::{Context, Result};
use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig};
use burn::tensor::{Device, Tensor};
use quantnas_core::arch::{ConvNode, NodeKind, Shape};

use super::adq::Adq;
use super::qconv::QConv;

/// Batch norm epsilon (PyTorch's and burn's default); export folds with the same value.
pub const BN_EPS: f64 = 1e-5;
/// Batch norm running-statistics momentum (PyTorch's and burn's default).
pub const BN_MOMENTUM: f64 = 0.1;

/// Where the parameters of a graph node live in [`FixedParams`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamSlot {
    /// No parameters.
    None,
    /// Index into [`FixedParams::convs`].
    Conv(usize),
    /// Index into [`FixedParams::norms`].
    Norm(usize),
    /// Index into [`FixedParams::adqs`].
    Adq(usize),
}

/// Fixed-node parameters, each list in graph order.
#[derive(Module, Debug)]
pub struct FixedParams {
    /// Conv nodes.
    pub convs: Vec<QConv>,
    /// Batch-norm nodes.
    pub norms: Vec<BatchNorm>,
    /// ADQ nodes.
    pub adqs: Vec<Adq>,
}

impl FixedParams {
    /// No parameters yet.
    pub fn empty() -> Self {
        FixedParams {
            convs: Vec::new(),
            norms: Vec::new(),
            adqs: Vec::new(),
        }
    }

    /// Adds the parameters of a node of kind `kind`, if it has fixed ones: a conv made by
    /// `conv`, a fresh batch norm over its input's channels (from `shapes`), a fresh ADQ.
    /// Returns where they went ([`ParamSlot::None`] for every other kind, supernet slots
    /// included).
    ///
    /// # Errors
    /// A batch norm whose input has no shape in `shapes` (a broken graph invariant).
    pub fn add(
        &mut self,
        kind: &NodeKind,
        shapes: &[Shape],
        conv: impl FnOnce(&ConvNode) -> QConv,
        device: &Device,
    ) -> Result<ParamSlot> {
        Ok(match kind {
            NodeKind::Conv(c) => {
                self.convs.push(conv(c));
                ParamSlot::Conv(self.convs.len() - 1)
            }
            NodeKind::BatchNorm { input } => {
                let ch = shapes
                    .get(*input)
                    .with_context(|| format!("batch norm input {input} has no shape"))?
                    .c;
                self.norms.push(
                    BatchNormConfig::new(ch)
                        .with_epsilon(BN_EPS)
                        .with_momentum(BN_MOMENTUM)
                        .init(device),
                );
                ParamSlot::Norm(self.norms.len() - 1)
            }
            NodeKind::Adq { .. } => {
                self.adqs.push(Adq::init(device));
                ParamSlot::Adq(self.adqs.len() - 1)
            }
            _ => ParamSlot::None,
        })
    }

    /// Runs the node whose parameters are at `p`, taking its inputs from `next` in
    /// `NodeKind::inputs()` order; `None` for [`ParamSlot::None`].
    pub fn forward(&self, p: ParamSlot, next: &mut impl FnMut() -> Tensor<4>) -> Option<Tensor<4>> {
        Some(match p {
            ParamSlot::Conv(k) => self.convs[k].forward(next()),
            ParamSlot::Norm(k) => self.norms[k].forward(next()),
            ParamSlot::Adq(k) => {
                let branch = next();
                self.adqs[k].forward(branch, next())
            }
            ParamSlot::None => return None,
        })
    }

    /// Makes the batch norms' running statistics current. burn's `RunningState::value` may
    /// lag one update behind; evaluation, checkpoints and export call this first so that
    /// they all see the same statistics.
    pub fn sync_running_stats(&self) {
        for bn in &self.norms {
            let _ = bn.running_mean.value_sync();
            let _ = bn.running_var.value_sync();
        }
    }
}

/// Record paths of checkpoints written before the fixed parameters had their own module
/// (`convs.K…`, `norms.K…`, `adqs.K…` at the top of a network or supernet), mapped to
/// today's (`fixed.convs.K…`, …); `None` for a path that needs no change.
pub fn legacy_path(path: &str) -> Option<String> {
    ["convs.", "norms.", "adqs."]
        .iter()
        .any(|p| path.starts_with(p))
        .then(|| format!("fixed.{path}"))
}
