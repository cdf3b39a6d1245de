//! The bridge from burn's dispatch tensors to burn-flex primitives, for the trainer's own
//! ops (today the convolution): each runs its kernels on flex tensors, records
//! itself for burn-autodiff with its own backward step, and leaves every other backend to
//! burn's ops.

use std::borrow::Cow;

use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Flex};
use burn::tensor::{Shape, Tensor, TensorData};

/// burn-flex under burn-autodiff without gradient checkpointing: the trainer's device.
pub type FlexAutodiff = Autodiff<Flex, NoCheckpointing>;

/// Where two tensors live, for an op that handles flex itself.
// Built and matched at once, never stored: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Operands<const D: usize, const E: usize> {
    /// Both on the autodiff flex device.
    Tracked(FloatTensor<FlexAutodiff>, FloatTensor<FlexAutodiff>),
    /// Both on the plain flex device.
    Plain(FlexTensor, FlexTensor),
    /// Anywhere else (another backend, or one of each): given back unchanged.
    Other(Tensor<D>, Tensor<E>),
}

impl<const D: usize, const E: usize> Operands<D, E> {
    /// Sorts `a` and `b` by device (clones are reference counts, not copies).
    pub fn of(a: Tensor<D>, b: Tensor<E>) -> Self {
        if let (Ok(pa), Ok(pb)) = (
            a.clone().try_into_primitive::<FlexAutodiff>(),
            b.clone().try_into_primitive::<FlexAutodiff>(),
        ) {
            return Operands::Tracked(pa, pb);
        }
        if let (Ok(pa), Ok(pb)) = (
            a.clone().try_into_primitive::<Flex>(),
            b.clone().try_into_primitive::<Flex>(),
        ) {
            return Operands::Plain(pa, pb);
        }
        Operands::Other(a, b)
    }
}

/// The tensor's f32 values in row-major order (copied only when not contiguous).
///
/// # Panics
/// If the tensor is not f32 (callers check the dtype first).
pub fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(
            t.to_contiguous()
                .as_slice::<f32>()
                .expect("an f32 tensor made contiguous has a slice")
                .to_vec(),
        ),
    }
}

/// A flex tensor of `shape` holding `values` (moved, not copied).
pub fn flex_tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, Shape::new(shape)))
}
