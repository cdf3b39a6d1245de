//! The engine's intermediate values: `C×H×W` planes of `f32`, or of activation codes
//! when every reader of a conv's output quantizes it the same way.

use alloc::vec::Vec;

/// Values of a tensor.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Data {
    /// Plain values.
    F32(Vec<f32>),
    /// HWGQ codes of the values, for the step and width of the convs that read them.
    Codes(Vec<u8>),
}

/// A `C×H×W` tensor, CHW order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tensor {
    /// Channels.
    pub c: usize,
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
    /// `c·h·w` values.
    pub data: Data,
}

impl Tensor {
    /// A float tensor.
    pub fn f32(c: usize, h: usize, w: usize, data: Vec<f32>) -> Tensor {
        debug_assert_eq!(data.len(), c * h * w);
        Tensor {
            c,
            h,
            w,
            data: Data::F32(data),
        }
    }

    /// Pixels per channel.
    pub fn plane(&self) -> usize {
        self.h * self.w
    }

    /// Bytes held by the values.
    pub fn bytes(&self) -> usize {
        match &self.data {
            Data::F32(v) => v.capacity() * 4,
            Data::Codes(v) => v.capacity(),
        }
    }

    /// The float values (empty for codes, which only convs read).
    pub fn values(&self) -> &[f32] {
        match &self.data {
            Data::F32(v) => v,
            Data::Codes(_) => &[],
        }
    }

    /// The float values, taken out of the tensor.
    pub fn into_values(self) -> Vec<f32> {
        match self.data {
            Data::F32(v) => v,
            Data::Codes(_) => Vec::new(),
        }
    }
}
