//! The trainer's stride-1 convolution on plain `f32` slices in NCHW order: the forward
//! pass and both gradients, each an im2col of one band of output rows followed by one
//! matrix product per group (the `gemm` crate, one thread per band).
//!
//! Why not burn-flex's conv: it repacks every input NCHW → NHWC and every weight in a
//! single-threaded pass before its parallel part, zeroes each im2col tile, and computes the
//! input gradient as a transposed conv (a col2im scatter). Here nothing is repacked, a 1×1
//! conv reads its input in place, and the input gradient is an ordinary conv of the output
//! gradient with the flipped, transposed kernel (true only at stride 1, which is every conv
//! this project trains; others fall back to burn).
//!
//! Determinism: the bands depend on the shapes only (never on the thread count), every
//! output element is written by one band, and the weight gradient sums its per-band parts
//! in band order, so the result is the same for any number of threads
//! ([`Parallel::Serial`] is the twin the tests hold the threaded path to, bit for bit).
//!
//! Unsafe code: `gemm` takes raw pointers and strides, and the bands write disjoint parts of
//! one output buffer from several threads. Each block says why it is sound.
#![allow(unsafe_code)]

use rayon::prelude::*;

/// Output pixels per band: the im2col buffer of a band holds `cin·kh·kw × BAND_PIXELS`
/// floats (3.2 MB for a 5×5 conv of 32 channels), small enough to stay in cache-friendly
/// sizes yet large enough for the products to run at full speed.
const BAND_PIXELS: usize = 4096;

/// At least this many bands per call (when the rows allow), so that a batch smaller than
/// the thread count still keeps every thread busy. A constant, not the thread count: the
/// bands decide the weight gradient's summation order.
const MIN_BANDS: usize = 8;

/// The shape of one stride-1, dilation-1 convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Batch size.
    pub n: usize,
    /// Input channels.
    pub cin: usize,
    /// Input height and width.
    pub h: usize,
    pub w: usize,
    /// Output channels.
    pub cout: usize,
    /// Kernel height and width.
    pub kh: usize,
    pub kw: usize,
    /// Zero padding on each side, rows and columns.
    pub pad_h: usize,
    pub pad_w: usize,
    /// Channel groups (divides `cin` and `cout`).
    pub groups: usize,
}

impl Geometry {
    /// Output height.
    pub fn oh(&self) -> usize {
        self.h + 2 * self.pad_h + 1 - self.kh
    }

    /// Output width.
    pub fn ow(&self) -> usize {
        self.w + 2 * self.pad_w + 1 - self.kw
    }

    /// Whether every size is usable: non-empty, groups dividing both channel counts, a
    /// kernel that fits the padded input, and padding below the kernel size (so the input
    /// gradient is itself a conv with non-negative padding).
    pub fn is_valid(&self) -> bool {
        let positive = [
            self.n,
            self.cin,
            self.h,
            self.w,
            self.cout,
            self.kh,
            self.kw,
            self.groups,
        ];
        positive.iter().all(|&v| v > 0)
            && self.cin.is_multiple_of(self.groups)
            && self.cout.is_multiple_of(self.groups)
            && self.kh <= self.h + 2 * self.pad_h
            && self.kw <= self.w + 2 * self.pad_w
            && self.pad_h < self.kh
            && self.pad_w < self.kw
    }

    /// Elements of the input, weight and output tensors.
    pub fn x_len(&self) -> usize {
        self.n * self.cin * self.h * self.w
    }
    pub fn w_len(&self) -> usize {
        self.cout * self.cin_g() * self.kh * self.kw
    }
    pub fn y_len(&self) -> usize {
        self.n * self.cout * self.oh() * self.ow()
    }

    fn cin_g(&self) -> usize {
        self.cin / self.groups
    }
    fn cout_g(&self) -> usize {
        self.cout / self.groups
    }
    fn taps(&self) -> usize {
        self.kh * self.kw
    }

    /// The geometry of the input gradient seen as a conv: the output gradient convolved
    /// with the flipped, transposed kernel ([`transposed_kernel`]) and padding `k − 1 − p`.
    fn input_gradient(&self) -> Geometry {
        Geometry {
            n: self.n,
            cin: self.cout,
            h: self.oh(),
            w: self.ow(),
            cout: self.cin,
            kh: self.kh,
            kw: self.kw,
            pad_h: self.kh - 1 - self.pad_h,
            pad_w: self.kw - 1 - self.pad_w,
            groups: self.groups,
        }
    }

    /// Whether the conv reads its input as is (1×1, no padding): no im2col needed.
    fn is_pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.pad_h == 0 && self.pad_w == 0
    }

    /// The bands of output rows, in order: every sample's rows cut into equal runs.
    fn bands(&self) -> Vec<Band> {
        let (oh, ow) = (self.oh(), self.ow());
        let by_size = (oh * ow).div_ceil(BAND_PIXELS);
        let by_count = MIN_BANDS.div_ceil(self.n);
        let per_sample = by_size.max(by_count).min(oh);
        let rows = oh.div_ceil(per_sample);
        (0..self.n)
            .flat_map(|sample| {
                (0..oh).step_by(rows).map(move |r0| Band {
                    sample,
                    r0,
                    r1: (r0 + rows).min(oh),
                })
            })
            .collect()
    }
}

/// One sample's output rows `r0..r1`.
#[derive(Clone, Copy, Debug)]
struct Band {
    sample: usize,
    r0: usize,
    r1: usize,
}

/// How the bands are spread over threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parallel {
    /// Over rayon's pool (the trainer's setting).
    Threads,
    /// One after another on the calling thread: the twin of `Threads`.
    Serial,
}

/// A raw pointer to shared output that bands write disjoint parts of.
#[derive(Clone, Copy)]
struct SharedMut(*mut f32);
// SAFETY: every band writes only its own output rows (see `for_each_band`'s callers), so
// no two threads touch the same element.
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

impl SharedMut {
    /// The element `offset` floats past the start.
    ///
    /// # Safety
    /// `offset` must lie inside the buffer.
    unsafe fn at(self, offset: usize) -> *mut f32 {
        // SAFETY: forwarded from the caller.
        unsafe { self.0.add(offset) }
    }
}

/// A thread's reusable buffers: the im2col matrix and its transpose. Kept per thread
/// across calls (rayon's workers live as long as the process), so a step allocates and
/// zero-fills them once instead of once per conv.
#[derive(Default)]
struct Scratch {
    cols: Vec<f32>,
    cols_t: Vec<f32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// `buf[..len]`, grown (never shrunk) as needed; its old contents are left as they are.
fn at_least(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    &mut buf[..len]
}

fn for_each_band<F>(bands: &[Band], parallel: Parallel, f: F)
where
    F: Fn(&mut Scratch, usize, Band) + Sync,
{
    let run = |i: usize, band: Band| SCRATCH.with(|s| f(&mut s.borrow_mut(), i, band));
    match parallel {
        Parallel::Threads => bands.par_iter().enumerate().for_each(|(i, &b)| run(i, b)),
        Parallel::Serial => bands.iter().enumerate().for_each(|(i, &b)| run(i, b)),
    }
}

/// An output of `len` floats that the bands fill without zeroing it first (zero-filling
/// multi-megabyte outputs was a measurable share of a step): `fill` gets a pointer to the
/// uninitialised storage and must write every element.
fn filled_by(len: usize, fill: impl FnOnce(SharedMut)) -> Vec<f32> {
    let mut v: Vec<f32> = Vec::with_capacity(len);
    fill(SharedMut(v.spare_capacity_mut().as_mut_ptr().cast()));
    // SAFETY: `fill` wrote all `len` elements (each caller's bands and groups tile its
    // output exactly; the geometry tests check the tiling).
    unsafe { v.set_len(len) };
    v
}

/// `dst[c·rows + r] = src[r·stride + c]` for the `rows × cols` matrix at the start of `src`:
/// eight source rows at a time, so that every read stream and every write run is sequential.
fn transpose(src: &[f32], stride: usize, rows: usize, cols: usize, dst: &mut [f32]) {
    for r0 in (0..rows).step_by(8) {
        let n = (rows - r0).min(8);
        let lane = |i: usize| {
            let r = r0 + i.min(n - 1);
            &src[r * stride..r * stride + cols]
        };
        let lanes: [&[f32]; 8] = std::array::from_fn(lane);
        for (c, d) in dst.chunks_exact_mut(rows).take(cols).enumerate() {
            if n == 8 {
                if let Ok(d) = <&mut [f32; 8]>::try_from(&mut d[r0..r0 + 8]) {
                    *d = std::array::from_fn(|i| lanes[i][c]);
                }
            } else {
                for (i, v) in d[r0..r0 + n].iter_mut().enumerate() {
                    *v = lanes[i][c];
                }
            }
        }
    }
}

/// The weight gradient's im2col, pixel-major: `col_t[p][(ky·kw + kx)·cin + c]` for the
/// band's output pixels `p`, read from `xt`, the input rows `iy0..` channels last
/// (`xt[((iy − iy0)·w + ix)·cin + c]`). For a fixed pixel and kernel row the `kw·cin`
/// values are one run of `xt`, so the build is a few long copies per pixel.
fn im2col_channels_last(xt: &[f32], iy0: usize, g: &Geometry, band: Band, col_t: &mut [f32]) {
    let (h, w, ow, cin) = (g.h, g.w, g.ow(), g.cin);
    let rows = g.taps() * cin;
    let run = g.kw * cin;
    for (p, dst) in col_t.chunks_exact_mut(rows).enumerate() {
        let (oy, ox) = (band.r0 + p / ow, p % ow);
        // Kernel columns whose input column lies inside the image.
        let lo = g.pad_w.saturating_sub(ox).min(g.kw);
        let hi = (w + g.pad_w).saturating_sub(ox).min(g.kw).max(lo);
        for (ky, seg) in dst.chunks_exact_mut(run).enumerate() {
            let iy = oy + ky;
            if iy < g.pad_h || iy - g.pad_h >= h {
                seg.fill(0.0);
                continue;
            }
            let start = ((iy - g.pad_h - iy0) * w + ox + lo - g.pad_w) * cin;
            seg[..lo * cin].fill(0.0);
            seg[lo * cin..hi * cin].copy_from_slice(&xt[start..start + (hi - lo) * cin]);
            seg[hi * cin..].fill(0.0);
        }
    }
}

/// Fills `col` (`cin·kh·kw` rows × the band's pixels) with the band's receptive fields:
/// row `(c, ky, kx)` holds `x[c, oy + ky − pad_h, ox + kx − pad_w]` for every output pixel
/// `(oy, ox)` of the band, zero outside the input.
fn im2col(x_sample: &[f32], g: &Geometry, band: Band, col: &mut [f32]) {
    let (h, w, ow) = (g.h, g.w, g.ow());
    let pixels = (band.r1 - band.r0) * ow;
    for c in 0..g.cin {
        let plane = &x_sample[c * h * w..(c + 1) * h * w];
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let row = (c * g.kh + ky) * g.kw + kx;
                let dst = &mut col[row * pixels..(row + 1) * pixels];
                // Output columns whose input column lies inside the image.
                let lo = g.pad_w.saturating_sub(kx).min(ow);
                let hi = (w + g.pad_w).saturating_sub(kx).min(ow).max(lo);
                for (oy, seg) in (band.r0..band.r1).zip(dst.chunks_exact_mut(ow)) {
                    let iy = oy + ky;
                    if iy < g.pad_h || iy - g.pad_h >= h {
                        seg.fill(0.0);
                        continue;
                    }
                    let src_row = &plane[(iy - g.pad_h) * w..(iy - g.pad_h + 1) * w];
                    seg[..lo].fill(0.0);
                    let ix0 = lo + kx - g.pad_w;
                    seg[lo..hi].copy_from_slice(&src_row[ix0..ix0 + (hi - lo)]);
                    seg[hi..].fill(0.0);
                }
            }
        }
    }
}

/// `dst := lhs · rhs`, single-threaded, row-major strides.
///
/// # Safety
/// The pointers must address `m × k`, `k × n` and `m × n` matrices with the given row and
/// column strides, and `dst` must not overlap the others.
#[allow(clippy::too_many_arguments)]
unsafe fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_rs: usize,
    lhs: *const f32,
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: *const f32,
    rhs_rs: usize,
    rhs_cs: usize,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rs as isize,
            false,
            lhs,
            lhs_cs as isize,
            lhs_rs as isize,
            rhs,
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Where a band's im2col matrix lives: in the scratch buffer, or (1×1 convs) in the input.
struct Columns {
    ptr: *const f32,
    /// Distance between rows (input channels · taps) in floats.
    row_stride: usize,
}

fn columns(x: &[f32], g: &Geometry, band: Band, scratch: &mut Vec<f32>) -> Columns {
    let sample = &x[band.sample * g.cin * g.h * g.w..(band.sample + 1) * g.cin * g.h * g.w];
    if g.is_pointwise() {
        return Columns {
            ptr: sample[band.r0 * g.w..].as_ptr(),
            row_stride: g.h * g.w,
        };
    }
    let pixels = (band.r1 - band.r0) * g.ow();
    let col = at_least(scratch, g.cin * g.taps() * pixels);
    im2col(sample, g, band, col);
    Columns {
        ptr: scratch.as_ptr(),
        row_stride: pixels,
    }
}

/// The forward conv: `y[n, o] = Σ_c W[o, c] ⋆ x[n, c]` (cross-correlation, no bias).
///
/// # Panics
/// If the slice lengths do not match `g` or `g` is not [`Geometry::is_valid`].
pub fn forward(x: &[f32], weight: &[f32], g: &Geometry, parallel: Parallel) -> Vec<f32> {
    assert!(g.is_valid(), "invalid conv geometry {g:?}");
    assert_eq!(x.len(), g.x_len(), "input length");
    assert_eq!(weight.len(), g.w_len(), "weight length");
    let (oh, ow) = (g.oh(), g.ow());
    let (cin_g, cout_g, k) = (g.cin_g(), g.cout_g(), g.cin_g() * g.taps());
    filled_by(g.y_len(), |out| {
        for_each_band(&g.bands(), parallel, |scratch, _, band| {
            let cols = columns(x, g, band, &mut scratch.cols);
            let pixels = (band.r1 - band.r0) * ow;
            for group in 0..g.groups {
                // SAFETY: the weight block is cout_g × k (row stride k); the columns block is
                // k × pixels starting at the group's first input channel; the destination is
                // this band's rows of the group's output channels, written by this band only.
                unsafe {
                    let dst = out.at(((band.sample * g.cout + group * cout_g) * oh + band.r0) * ow);
                    matmul(
                        cout_g,
                        pixels,
                        k,
                        dst,
                        oh * ow,
                        weight.as_ptr().add(group * cout_g * k),
                        k,
                        1,
                        cols.ptr.add(group * cin_g * g.taps() * cols.row_stride),
                        cols.row_stride,
                        1,
                    );
                }
            }
        });
    })
}

/// The kernel of the input gradient: `W'[c, o, ky, kx] = W[o, c, kh−1−ky, kw−1−kx]` within
/// each group (`[cin, cout/groups, kh, kw]`).
fn transposed_kernel(weight: &[f32], g: &Geometry) -> Vec<f32> {
    let (cin_g, cout_g, taps) = (g.cin_g(), g.cout_g(), g.taps());
    let mut t = vec![0.0f32; weight.len()];
    for group in 0..g.groups {
        for o in 0..cout_g {
            for c in 0..cin_g {
                let src = ((group * cout_g + o) * cin_g + c) * taps;
                let dst = ((group * cin_g + c) * cout_g + o) * taps;
                for tap in 0..taps {
                    t[dst + tap] = weight[src + taps - 1 - tap];
                }
            }
        }
    }
    t
}

/// The gradient of the loss with respect to the conv's input, from the output's gradient.
///
/// # Panics
/// As [`forward`], with `dy` of the output's length.
pub fn input_gradient(dy: &[f32], weight: &[f32], g: &Geometry, parallel: Parallel) -> Vec<f32> {
    assert!(g.is_valid(), "invalid conv geometry {g:?}");
    assert_eq!(dy.len(), g.y_len(), "output gradient length");
    forward(
        dy,
        &transposed_kernel(weight, g),
        &g.input_gradient(),
        parallel,
    )
}

/// The gradient of the loss with respect to the conv's weights, from its input and the
/// output's gradient: `dW[o, c] = Σ_n dy[n, o] ⋆ x[n, c]`, summed band by band in order.
///
/// # Panics
/// As [`forward`], with `dy` of the output's length.
pub fn weight_gradient(x: &[f32], dy: &[f32], g: &Geometry, parallel: Parallel) -> Vec<f32> {
    assert!(g.is_valid(), "invalid conv geometry {g:?}");
    assert_eq!(x.len(), g.x_len(), "input length");
    assert_eq!(dy.len(), g.y_len(), "output gradient length");
    if g.groups > 1 {
        return weight_gradient_grouped(x, dy, g, parallel);
    }
    let bands = g.bands();
    let w_len = g.w_len();
    let (h, w, oh, ow, cin, taps) = (g.h, g.w, g.oh(), g.ow(), g.cin, g.taps());
    let parts = filled_by(bands.len() * w_len, |out| {
        for_each_band(&bands, parallel, |scratch, i, band| {
            let pixels = (band.r1 - band.r0) * ow;
            // The input rows this band reads, channels last.
            let iy0 = band.r0.saturating_sub(g.pad_h);
            let iy1 = (band.r1 + g.kh - 1).saturating_sub(g.pad_h).min(h);
            let sample = &x[band.sample * cin * h * w..(band.sample + 1) * cin * h * w];
            let xt = at_least(&mut scratch.cols, (iy1 - iy0) * w * cin);
            transpose(&sample[iy0 * w..], h * w, cin, (iy1 - iy0) * w, xt);
            let cols_t: &[f32] = if g.is_pointwise() {
                xt
            } else {
                let c = at_least(&mut scratch.cols_t, pixels * taps * cin);
                im2col_channels_last(xt, iy0, g, band, c);
                c
            };
            // SAFETY: lhs is the band's rows of the output gradient (cout × pixels, row
            // stride oh·ow); rhs is the pixel-major columns (pixels × taps·cin); dst is band
            // i's own part (cout × taps·cin).
            unsafe {
                matmul(
                    g.cout,
                    taps * cin,
                    pixels,
                    out.at(i * w_len),
                    taps * cin,
                    dy.as_ptr().add((band.sample * g.cout * oh + band.r0) * ow),
                    oh * ow,
                    1,
                    cols_t.as_ptr(),
                    taps * cin,
                    1,
                );
            }
        });
    });
    // The parts hold (tap, channel) columns; the weight is in (channel, tap) order.
    sum_parts(&parts, w_len, parallel, |j| {
        let (o, c, tap) = (j / (cin * taps), j / taps % cin, j % taps);
        o * cin * taps + tap * cin + c
    })
}

/// Weight element `j` = the sum, in band order, of element `at(j)` of every band's part
/// (`parts` holds the parts one after another, `w_len` floats each).
fn sum_parts(
    parts: &[f32],
    w_len: usize,
    parallel: Parallel,
    at: impl Fn(usize) -> usize + Sync,
) -> Vec<f32> {
    let mut dw = vec![0.0f32; w_len];
    let sum = |(j, d): (usize, &mut f32)| *d = parts[at(j)..].iter().step_by(w_len).sum();
    match parallel {
        Parallel::Threads => dw.par_iter_mut().enumerate().for_each(sum),
        Parallel::Serial => dw.iter_mut().enumerate().for_each(sum),
    }
    dw
}

/// [`weight_gradient`] for grouped convs: the columns row-major per group (rare in the
/// spaces, so gemm's own packing of the transposed read is accepted).
fn weight_gradient_grouped(x: &[f32], dy: &[f32], g: &Geometry, parallel: Parallel) -> Vec<f32> {
    let bands = g.bands();
    let w_len = g.w_len();
    let (oh, ow) = (g.oh(), g.ow());
    let (cin_g, cout_g, k) = (g.cin_g(), g.cout_g(), g.cin_g() * g.taps());
    let parts = filled_by(bands.len() * w_len, |out| {
        for_each_band(&bands, parallel, |scratch, i, band| {
            let cols = columns(x, g, band, &mut scratch.cols);
            let pixels = (band.r1 - band.r0) * ow;
            for group in 0..g.groups {
                // SAFETY: lhs is the band's rows of the group's output gradient (cout_g ×
                // pixels, row stride oh·ow); rhs is the group's columns read transposed
                // (pixels × k: element (p, r) at r·row_stride + p); dst is band i's own
                // part (cout_g × k), which the groups tile.
                unsafe {
                    matmul(
                        cout_g,
                        k,
                        pixels,
                        out.at(i * w_len + group * cout_g * k),
                        k,
                        dy.as_ptr()
                            .add(((band.sample * g.cout + group * cout_g) * oh + band.r0) * ow),
                        oh * ow,
                        1,
                        cols.ptr.add(group * cin_g * g.taps() * cols.row_stride),
                        1,
                        cols.row_stride,
                    );
                }
            }
        });
    });
    sum_parts(&parts, w_len, parallel, |j| j)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    /// Calls `f(x index, weight index, output index)` for every product of the conv's
    /// definition: the plain twin of all three kernels.
    fn each_product(g: &Geometry, mut f: impl FnMut(usize, usize, usize)) {
        let (oh, ow, cin_g, cout_g) = (g.oh(), g.ow(), g.cin_g(), g.cout_g());
        for n in 0..g.n {
            for o in 0..g.cout {
                let ci0 = o / cout_g * cin_g;
                for oy in 0..oh {
                    for ox in 0..ow {
                        let yi = ((n * g.cout + o) * oh + oy) * ow + ox;
                        for c in 0..cin_g {
                            for ky in 0..g.kh {
                                for kx in 0..g.kw {
                                    let (iy, ix) = (oy + ky, ox + kx);
                                    if iy < g.pad_h || ix < g.pad_w {
                                        continue;
                                    }
                                    let (iy, ix) = (iy - g.pad_h, ix - g.pad_w);
                                    if iy >= g.h || ix >= g.w {
                                        continue;
                                    }
                                    let xi = ((n * g.cin + ci0 + c) * g.h + iy) * g.w + ix;
                                    let wi = ((o * cin_g + c) * g.kh + ky) * g.kw + kx;
                                    f(xi, wi, yi);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The definitions summed in f64: output, input gradient, weight gradient.
    fn direct(x: &[f32], w: &[f32], dy: &[f32], g: &Geometry) -> [Vec<f64>; 3] {
        let (mut y, mut dx, mut dw) = (
            vec![0.0f64; g.y_len()],
            vec![0.0f64; g.x_len()],
            vec![0.0f64; g.w_len()],
        );
        each_product(g, |xi, wi, yi| {
            let (xv, wv, dyv) = (f64::from(x[xi]), f64::from(w[wi]), f64::from(dy[yi]));
            y[yi] += xv * wv;
            dx[xi] += dyv * wv;
            dw[wi] += dyv * xv;
        });
        [y, dx, dw]
    }

    fn random(len: usize, rng: &mut StdRng) -> Vec<f32> {
        (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    }

    /// Every kernel shape of the search spaces, groups, asymmetric padding, a batch of one
    /// and an image taller than one band.
    pub(crate) fn cases() -> Vec<Geometry> {
        let base = Geometry {
            n: 3,
            cin: 6,
            h: 7,
            w: 9,
            cout: 9,
            kh: 3,
            kw: 3,
            pad_h: 1,
            pad_w: 1,
            groups: 1,
        };
        // "Same" padding for a kh × kw kernel, as the spaces use.
        let same = |kh: usize, kw: usize| Geometry {
            kh,
            kw,
            pad_h: kh / 2,
            pad_w: kw / 2,
            ..base
        };
        let tall = |g: Geometry| Geometry {
            n: 1,
            h: 70,
            w: 65,
            ..g
        };
        vec![
            base,
            same(1, 1),
            tall(same(1, 1)),
            same(5, 5),
            same(5, 1),
            same(3, 1),
            same(1, 3),
            Geometry { groups: 3, ..base },
            Geometry {
                groups: 3,
                ..same(5, 5)
            },
            Geometry {
                pad_h: 0,
                pad_w: 0,
                ..base
            },
            Geometry {
                cin: 3,
                cout: 4,
                ..tall(base)
            },
            Geometry {
                n: 1,
                h: 1,
                w: 1,
                ..base
            },
        ]
    }

    fn assert_close(got: &[f32], want: &[f64], what: &str, g: &Geometry) {
        assert_eq!(got.len(), want.len());
        let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        for (i, (&a, &b)) in got.iter().zip(want).enumerate() {
            assert!(
                (f64::from(a) - b).abs() <= 1e-5 * scale,
                "{what} {g:?} element {i}: {a} vs {b}"
            );
        }
    }

    /// Random input, weights and output gradient for `g`.
    fn operands(g: &Geometry, rng: &mut StdRng) -> [Vec<f32>; 3] {
        [g.x_len(), g.w_len(), g.y_len()].map(|len| random(len, rng))
    }

    /// The three kernels: output, input gradient, weight gradient.
    fn kernels(ops: &[Vec<f32>; 3], g: &Geometry, parallel: Parallel) -> [Vec<f32>; 3] {
        let [x, w, dy] = ops;
        [
            forward(x, w, g, parallel),
            input_gradient(dy, w, g, parallel),
            weight_gradient(x, dy, g, parallel),
        ]
    }

    #[test]
    fn forward_and_gradients_equal_the_definitions() {
        let mut rng = StdRng::seed_from_u64(1);
        for g in cases() {
            let ops = operands(&g, &mut rng);
            let want = direct(&ops[0], &ops[1], &ops[2], &g);
            let got = kernels(&ops, &g, Parallel::Threads);
            for ((what, got), want) in ["y", "dx", "dw"].iter().zip(&got).zip(&want) {
                assert_close(got, want, what, &g);
            }
        }
    }

    #[test]
    fn threads_and_serial_agree_bit_for_bit() {
        let mut rng = StdRng::seed_from_u64(3);
        for g in cases() {
            let ops = operands(&g, &mut rng);
            let bits = |v: &[Vec<f32>; 3]| {
                v.clone()
                    .map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
            };
            let (t, s) = (
                kernels(&ops, &g, Parallel::Threads),
                kernels(&ops, &g, Parallel::Serial),
            );
            assert_eq!(bits(&t), bits(&s), "{g:?}");
        }
    }

    #[test]
    fn bands_cover_every_row_once_whatever_the_shape() {
        for g in cases() {
            let bands = g.bands();
            for n in 0..g.n {
                let rows: Vec<usize> = bands
                    .iter()
                    .filter(|b| b.sample == n)
                    .flat_map(|b| b.r0..b.r1)
                    .collect();
                assert_eq!(rows, (0..g.oh()).collect::<Vec<_>>(), "{g:?}");
            }
        }
        let g = Geometry {
            n: 1,
            ..cases()[10]
        };
        assert!(g.bands().len() >= MIN_BANDS.min(g.oh()));
    }

    #[test]
    fn unusable_geometries_are_refused() {
        let base = cases()[0];
        for bad in [
            Geometry { groups: 4, ..base },
            Geometry { n: 0, ..base },
            Geometry { pad_h: 3, ..base },
            Geometry { kh: 11, ..base },
        ] {
            assert!(!bad.is_valid(), "{bad:?}");
        }
    }
}
