//! Parameter-free graph operations with the exact conventions of `quantnas-core`'s
//! integer engine: pixel shuffle layout, channel tiling, bilinear resize with half-pixel
//! centres, max pooling without padding.

use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor, TensorData};
use quantnas_core::engine::bilinear::weights;

/// Depth-to-space: `out[c, y·r+i, x·r+j] = in[c·r²+i·r+j, y, x]` (as PyTorch and burn's
/// `PixelShuffle`).
///
/// # Shapes
/// `[n, c·r², h, w] → [n, c, h·r, w·r]`
pub fn pixel_shuffle(x: Tensor<4>, r: usize) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let oc = c / (r * r);
    x.reshape([n, oc, r, r, h, w])
        .permute([0, 1, 4, 2, 5, 3])
        .reshape([n, oc, h * r, w * r])
}

/// The input repeated `times` along channels: channel k is input channel k mod c.
///
/// # Shapes
/// `[n, c, h, w] → [n, c·times, h, w]`
pub fn tile(x: Tensor<4>, times: usize) -> Tensor<4> {
    x.repeat_dim(1, times)
}

/// Max pooling, square window `kernel`, `stride`, no padding, floor mode.
///
/// # Shapes
/// `[n, c, h, w] → [n, c, (h−k)/s+1, (w−k)/s+1]`
pub fn max_pool(x: Tensor<4>, kernel: usize, stride: usize) -> Tensor<4> {
    let mut o = MaxPoolOptions::new([kernel, kernel]);
    o.stride = [stride, stride];
    max_pool2d(x, o)
}

/// Bilinear interpolation taps along one axis, half-pixel centres (PyTorch
/// `align_corners=False`, no antialiasing): for output `d` the output is
/// `(1−λ)·x[i0] + λ·x[i1]`. These are the taps of `quantnas-core`'s engine
/// ([`quantnas_core::engine::bilinear::weights`]), so both interpolate identically.
pub fn bilinear_taps(in_len: usize, out_len: usize) -> Vec<(usize, usize, f32)> {
    weights(in_len, out_len)
        .into_iter()
        .map(|t| (t.i0, t.i1, t.lambda))
        .collect()
}

/// The interpolation matrix `[out, in]` of [`bilinear_taps`].
pub fn bilinear_matrix(in_len: usize, out_len: usize) -> Vec<f32> {
    let mut m = vec![0.0f32; out_len * in_len];
    for (o, (i0, i1, l)) in bilinear_taps(in_len, out_len).into_iter().enumerate() {
        m[o * in_len + i0] += 1.0 - l;
        m[o * in_len + i1] += l;
    }
    m
}

/// Bilinear resize to `oh × ow` as two matrix products, `A_h · x · A_wᵀ`.
///
/// # Shapes
/// `[n, c, h, w] → [n, c, oh, ow]`
pub fn resize_bilinear(x: Tensor<4>, oh: usize, ow: usize) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let dev: Device = x.device();
    let ah = Tensor::<2>::from_data(TensorData::new(bilinear_matrix(h, oh), [oh, h]), &dev);
    let awt =
        Tensor::<2>::from_data(TensorData::new(bilinear_matrix(w, ow), [ow, w]), &dev).transpose();
    let rows = x.reshape([n * c * h, w]).matmul(awt); // [n·c·h, ow]
    let rows = rows.reshape([n * c, h, ow]);
    let ah = ah.unsqueeze::<3>().repeat_dim(0, n * c); // [n·c, oh, h]
    ah.matmul(rows).reshape([n, c, oh, ow])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    fn data(t: Tensor<4>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    #[test]
    fn pixel_shuffle_layout() {
        let d = Device::flex();
        let (r, c, h, w) = (2usize, 2usize, 2usize, 3usize);
        let vals: Vec<f32> = (0..c * r * r * h * w).map(|v| v as f32).collect();
        let x = Tensor::<4>::from_data(TensorData::new(vals.clone(), [1, c * r * r, h, w]), &d);
        let out = data(pixel_shuffle(x, r));
        let (oh, ow) = (h * r, w * r);
        for ch in 0..c {
            for y in 0..h {
                for xx in 0..w {
                    for i in 0..r {
                        for j in 0..r {
                            let src = vals[((ch * r * r + i * r + j) * h + y) * w + xx];
                            let dst = out[(ch * oh + y * r + i) * ow + xx * r + j];
                            assert_eq!(src, dst);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn tile_repeats_channels() {
        let d = Device::flex();
        let x = Tensor::<4>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0], [1, 3, 1, 1]), &d);
        assert_eq!(data(tile(x, 2)), vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn bilinear_half_pixel() {
        // 2 → 4: sources −0.25 (clamped to 0), 0.25, 0.75, 1.25 (i1 clamped).
        let t = bilinear_taps(2, 4);
        assert_eq!(t[0], (0, 1, 0.0));
        assert_eq!(t[1], (0, 1, 0.25));
        assert_eq!(t[2], (0, 1, 0.75));
        assert_eq!(t[3], (1, 1, 0.25));
        let d = Device::flex();
        let x = Tensor::<4>::from_data(
            TensorData::new(vec![0.0f32, 4.0, 8.0, 12.0], [1, 1, 2, 2]),
            &d,
        );
        let y = data(resize_bilinear(x, 4, 4));
        // Row 1 of the output: 0.25 of the way from row 0 to row 1 of the input.
        let row1: Vec<f32> = y[4..8].to_vec();
        assert_eq!(row1, vec![2.0, 3.0, 5.0, 6.0]);
    }

    #[test]
    fn max_pool_no_padding() {
        let d = Device::flex();
        let x = Tensor::<4>::from_data(
            TensorData::new((0..25).map(|v| v as f32).collect::<Vec<_>>(), [1, 1, 5, 5]),
            &d,
        );
        // kernel 3 stride 2 on 5×5: 2×2 output, maxima at the windows' bottom-right.
        assert_eq!(data(max_pool(x, 3, 2)), vec![12.0, 14.0, 22.0, 24.0]);
    }
}
