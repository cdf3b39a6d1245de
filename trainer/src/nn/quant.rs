//! Fake quantizers with straight-through gradients (spec §3): LSQ for weights, HWGQ for
//! activations. Both round with `quantnas-core`'s one rule,
//! [`round_code`](quantnas_core::arch::round_code) (ties away from
//! zero), so a weight trained at code k is exported as code k (`core::model::weight_code`)
//! and an activation the trainer quantizes to code k is code k in the engine
//! (`core::engine::hwgq_code`).
//!
//! Until this rule was shared, training rounded ties to even (burn's `round`, as PyTorch)
//! while export and the engine rounded them away from zero. The bundled models were trained
//! that way; their files and reported numbers are the engine's and do not change, but a
//! retraining now differs from the old runs wherever a quotient lands exactly on k + ½
//! (never for 8-bit image inputs; rare, but not impossible, deeper in the network).
//!
//! Both are written with the usual trick `x + (f(x) − x).detach()`: the forward value is
//! `f(x)`, the gradient is that of the identity. burn has no quantization-aware training of
//! its own (its quantization is post-training only), so these are plain tensor expressions
//! and work on any backend, with or without autodiff.

use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use quantnas_core::arch::{Bits, round_code_nonneg};

/// [`round_code`](quantnas_core::arch::round_code) element-wise, as tensor ops: `sign(x)·(⌊|x|⌋ + [|x| − ⌊|x|⌋ ≥ ½])`.
///
/// Not burn's `round`, which rounds ties to even (as PyTorch): core exports and runs codes
/// rounded away from zero, and training must see the same codes. The fraction
/// `|x| − ⌊|x|⌋` is exact in `f32` (`⌊|x|⌋` is 0 or within a factor 2 of `|x|`), so this
/// equals `round_code` on every finite value (tested).
///
/// # Shapes
/// Any; the output has the input's shape.
pub fn round_code_tensor<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let a = x.clone().abs();
    let whole = a.clone().floor();
    let up = (a - whole.clone()).greater_equal_elem(0.5).float();
    (whole + up) * x.sign()
}

/// `round(x)` forward with the project's rule ([`round_code_tensor`]), identity gradient.
///
/// # Shapes
/// Any; the output has the input's shape.
pub fn round_ste<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.clone() + (round_code_tensor(x.clone()) - x).detach()
}

/// The value of `x` with its gradient multiplied by `scale` (LSQ's gradient scaling of
/// the step size).
pub fn grad_scale<const D: usize>(x: Tensor<D>, scale: f32) -> Tensor<D> {
    let scaled = x.clone().mul_scalar(scale);
    scaled.clone() + (x - scaled).detach()
}

/// Clamp limit of the HWGQ quantizer at `bits`: `step·(2^b − 1)`; `None` at 32 bits.
pub fn activation_clip(bits: Bits) -> Option<f32> {
    bits.activation_step()
        .map(|s| s * bits.activation_max_code() as f32)
}

/// The input activation of a conv: the HWGQ quantizer at 2 to 8 bits, ReLU at 32.
///
/// HWGQ: `y = clamp(x, 0, step·(2^b−1))`, `q = round(y/step)·step` with the fixed step of
/// [`Bits::activation_step`]. The gradient is 1 strictly inside the clip range and 0 outside
/// (burn's clamp passes the gradient where `0 ≤ x ≤ max`).
///
/// On the CPU backends it is written as `x·m + r` with the mask `m = [0 ≤ x ≤ clip]` and a constant `r`, both from
/// one pass over the values ([`straight_through_parts`]): the forward value is the
/// quantized one, the gradient `m`. Composed from burn ops (clamp = two compares and two
/// masked fills, then divide, round, multiply and the straight-through sum) the quantizer
/// was ≈ 13 passes over the tensor per forward and backward; this is 5, with bit-identical
/// values and gradients (tested against the composed form). On a GPU the composed form
/// itself runs ([`straight_through_composed`]): the host pass would download every
/// activation and upload the result, a round trip per conv and step.
///
/// # Shapes
/// Any; the output has the input's shape.
pub fn input_activation<const D: usize>(x: Tensor<D>, bits: Bits) -> Tensor<D> {
    match (bits.activation_step(), activation_clip(bits)) {
        (Some(step), Some(clip)) if !in_host_memory(&x.device()) => {
            straight_through_composed(x, clip, StraightThrough::Round { step }, None)
        }
        (Some(step), Some(clip)) => {
            let parts =
                straight_through_parts(&x, &[(clip, StraightThrough::Round { step })], None);
            match parts.into_iter().next() {
                Some((m, r)) => x * m + r,
                None => unreachable!("one target, one result"),
            }
        }
        _ => relu(x),
    }
}

/// Whether `device` keeps its tensors in host memory (flex, ndarray): there the one-pass
/// host forms of the quantizers apply ([`straight_through_parts`]); elsewhere (CUDA, wgpu)
/// they would move every activation to the host and back, so the composed tensor
/// expressions ([`straight_through_composed`]) run on the device instead.
pub fn in_host_memory(device: &Device) -> bool {
    // Device equality ignores autodiff: an autodiff flex device is flex.
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)] // the ndarray backend is deprecated upstream, still selectable
    if *device == Device::ndarray() {
        return true;
    }
    *device == Device::flex()
}

/// One `(clip, kind)` target of [`straight_through_parts`] as the composed burn expression,
/// with `y = clamp(x, 0, clip)`: `y + (round(y/step)·step − y).detach()` for
/// [`StraightThrough::Round`], `y + z·σ` for [`StraightThrough::Noise`] (`z` the
/// standard-normal noise, a constant). The plain twin of the host pass, which equals it bit
/// for bit in values and gradients (tested), and the form that runs on GPU devices.
///
/// # Panics
/// A `Noise` target without `z`.
///
/// # Shapes
/// `x` and `z` alike; the output has their shape.
pub fn straight_through_composed<const D: usize>(
    x: Tensor<D>,
    clip: f32,
    kind: StraightThrough,
    z: Option<Tensor<D>>,
) -> Tensor<D> {
    let y = x.clamp(0.0, clip);
    match kind {
        StraightThrough::Round { step } => {
            let q = round_code_tensor(y.clone().div_scalar(step)).mul_scalar(step);
            y.clone() + (q - y).detach()
        }
        StraightThrough::Noise { sigma } => match z {
            Some(z) => y + z.mul_scalar(sigma),
            None => panic!("a noise target needs its noise"),
        },
    }
}

/// What a clipped activation becomes in [`straight_through_parts`].
#[derive(Clone, Copy, Debug)]
pub enum StraightThrough {
    /// HWGQ: `round(y/step)·step`, the straight-through sum `y + (q − y)` of the composed form.
    Round {
        /// The fixed step.
        step: f32,
    },
    /// SAN: `y + z·sigma` with z the standard-normal noise (a constant).
    Noise {
        /// Δ/2.
        sigma: f32,
    },
}

/// Elements per parallel work item of [`straight_through_parts`]; the noise source is
/// asked for one chunk of this size at a time.
pub const PARTS_CHUNK: usize = 1 << 15;

/// Standard-normal noise by chunk: `fill(index, out)` writes the values of elements
/// `index·PARTS_CHUNK …`.
pub type NoiseFill<'a> = &'a (dyn Fn(usize, &mut [f32]) + Sync);

/// For each `(clip, kind)` target, the mask `m = [0 ≤ x ≤ clip]` and the constant `r` for
/// which `x·m + r` has, element for element, the value of the composed burn expression
/// (with `y = clamp(x, 0, clip)`): `y + (q − y).detach()` for [`StraightThrough::Round`],
/// `y + z·σ` for [`StraightThrough::Noise`]; and the gradient of burn's clamp, `m`.
///
/// One parallel pass on the host for every target at once: `x` is read once and, with
/// `noise`, each chunk of noise is generated inside the pass and shared by the targets
/// (SAN's one draw per input for every bit width) instead of being written out and read
/// back. No tensor returned carries a gradient.
///
/// # Panics
/// If `x` is not an f32 tensor, or a `Noise` target comes without `noise`.
pub fn straight_through_parts<const D: usize>(
    x: &Tensor<D>,
    targets: &[(f32, StraightThrough)],
    noise: Option<NoiseFill<'_>>,
) -> Vec<(Tensor<D>, Tensor<D>)> {
    use rayon::prelude::*;
    let shape = x.shape();
    let device = x.device();
    let values = x
        .clone()
        .detach()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap_or_else(|e| panic!("activation tensor is not f32: {e:?}"));
    let n = values.len();
    let noisy = targets
        .iter()
        .any(|(_, k)| matches!(k, StraightThrough::Noise { .. }));
    assert!(
        !noisy || noise.is_some(),
        "a noise target needs a noise source"
    );
    let mut outputs: Vec<Vec<f32>> = (0..2 * targets.len()).map(|_| vec![0.0f32; n]).collect();
    // Per chunk, its slice of every output (mask, rest, mask, rest, …).
    let mut per_chunk: Vec<Vec<&mut [f32]>> =
        (0..n.div_ceil(PARTS_CHUNK)).map(|_| Vec::new()).collect();
    for out in &mut outputs {
        for (c, slice) in out.chunks_mut(PARTS_CHUNK).enumerate() {
            per_chunk[c].push(slice);
        }
    }
    per_chunk
        .into_par_iter()
        .enumerate()
        .for_each(|(c, mut slices)| {
            let start = c * PARTS_CHUNK;
            let xs = &values[start..(start + PARTS_CHUNK).min(n)];
            NOISE_SCRATCH.with_borrow_mut(|scratch| {
                let z: &[f32] = match (noisy, noise) {
                    (true, Some(fill)) => {
                        // A per-thread buffer: a fresh zeroed one per chunk cost as much
                        // memset as the generator took time.
                        scratch.resize(xs.len(), 0.0);
                        fill(c, scratch);
                        scratch
                    }
                    _ => &[],
                };
                parts_of_chunk(xs, z, targets, &mut slices);
            });
        });
    let mut it = outputs.into_iter();
    let mut parts = Vec::with_capacity(targets.len());
    while let (Some(m), Some(r)) = (it.next(), it.next()) {
        parts.push((
            Tensor::from_data(TensorData::new(m, shape.clone()), &device),
            Tensor::from_data(TensorData::new(r, shape.clone()), &device),
        ));
    }
    parts
}

thread_local! {
    /// Noise of the chunk a thread is working on in [`straight_through_parts`].
    static NOISE_SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// One chunk of [`straight_through_parts`]: `slices` holds the chunk's part of every output
/// (mask, rest, mask, rest, …), `z` its noise (empty without noise targets).
fn parts_of_chunk(
    xs: &[f32],
    z: &[f32],
    targets: &[(f32, StraightThrough)],
    slices: &mut [&mut [f32]],
) {
    for (t, &(clip, kind)) in targets.iter().enumerate() {
        let (head, tail) = slices.split_at_mut(2 * t + 1);
        let (m, r) = (&mut head[2 * t], &mut tail[0]);
        match kind {
            StraightThrough::Noise { sigma } => {
                for (((m, r), &v), &z) in m.iter_mut().zip(r.iter_mut()).zip(xs).zip(z) {
                    // Inside: x·1 + z·σ; outside: ±0 + (y + z·σ). Both as composed.
                    let noise = z * sigma;
                    let y = v.clamp(0.0, clip);
                    (*m, *r) = split(v, clip, noise, y + noise);
                }
            }
            StraightThrough::Round { step } => {
                for ((m, r), &v) in m.iter_mut().zip(r.iter_mut()).zip(xs) {
                    let y = v.clamp(0.0, clip);
                    let q = round_code_nonneg(y / step) * step;
                    // Inside y = x: x·1 + (q − x); outside ±0 + (y + (q − y)).
                    (*m, *r) = split(v, clip, q - v, y + (q - y));
                }
            }
        }
    }
}

/// `(1, inside)` for `0 ≤ v ≤ clip`, `(0, outside)` otherwise; NaN keeps NaN (in `r`, as
/// the composed clamp does) so a diverging run is still caught.
#[inline(always)]
fn split(v: f32, clip: f32, inside: f32, outside: f32) -> (f32, f32) {
    if v >= 0.0 && v <= clip {
        (1.0, inside)
    } else if v.is_nan() {
        (0.0, v)
    } else {
        (0.0, outside)
    }
}

/// LSQ gradient scale of the step size: `1/√(q_p·numel(W))`.
pub fn lsq_grad_scale(bits: Bits, weight_count: usize) -> f32 {
    let (_, qp) = bits.weight_code_range();
    1.0 / ((qp as f32) * weight_count as f32).sqrt()
}

/// LSQ initial step per output channel: `2·mean(|W_c|)/√q_p` (weights laid out
/// `[cout, cin/groups, kh, kw]`, row-major). A channel of zeros gets a tiny positive step so
/// that the division stays finite.
pub fn lsq_init_steps(weight: &[f32], cout: usize, bits: Bits) -> Vec<f32> {
    let per = weight.len() / cout.max(1);
    let (_, qp) = bits.weight_code_range();
    weight
        .chunks(per.max(1))
        .take(cout)
        .map(|c| {
            let mean = c.iter().map(|v| v.abs()).sum::<f32>() / per as f32;
            (2.0 * mean / (qp as f32).sqrt()).max(1e-8)
        })
        .collect()
}

/// The LSQ fake-quantized weight: `round(clamp(W/s_c, q_n, q_p))·s_c`, per output
/// channel, rounding straight-through, the gradient of `s` scaled by
/// [`lsq_grad_scale`].
///
/// # Shapes
/// `weight`: `[cout, cin/groups, kh, kw]`, `step`: `[cout]`; output like `weight`.
pub fn lsq_weight(weight: Tensor<4>, step: Tensor<1>, bits: Bits) -> Tensor<4> {
    let [cout, ..] = weight.dims();
    let (qn, qp) = bits.weight_code_range();
    let g = lsq_grad_scale(bits, weight.shape().num_elements());
    let s = grad_scale(step, g).reshape([cout, 1, 1, 1]);
    let codes = round_ste((weight / s.clone()).clamp(qn as f32, qp as f32));
    codes * s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};
    use quantnas_core::arch::round_code;

    fn dev() -> Device {
        Device::flex().autodiff()
    }

    fn vec1(t: Tensor<1>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    #[test]
    fn hwgq_values_and_ste_at_the_clip() {
        let d = dev();
        let step = Bits::B4.activation_step().unwrap();
        let max = step * 15.0;
        // Below 0, inside (rounding down, rounding up), above the clip.
        let xs = [-0.5f32, 0.3 * step, 2.7 * step, max + 0.1];
        let x = Tensor::<1>::from_data(TensorData::new(xs.to_vec(), [4]), &d).require_grad();
        let y = input_activation(x.clone(), Bits::B4);
        let got = vec1(y.clone().detach());
        let want = [0.0, 0.0, 3.0 * step, max];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
        }
        let grads = y.sum().backward();
        let gx = vec1(x.grad(&grads).unwrap());
        assert_eq!(
            gx,
            vec![0.0, 1.0, 1.0, 0.0],
            "straight through inside the clip only"
        );
    }

    /// Values and gradient of `x·m + r` against the composed burn expression, bit for bit.
    fn assert_same_as_composed(
        xs: &[f32],
        fused: impl Fn(Tensor<1>) -> Tensor<1>,
        composed: impl Fn(Tensor<1>) -> Tensor<1>,
    ) {
        let d = dev();
        let run = |f: &dyn Fn(Tensor<1>) -> Tensor<1>| {
            let x =
                Tensor::<1>::from_data(TensorData::new(xs.to_vec(), [xs.len()]), &d).require_grad();
            let y = f(x.clone());
            let v = vec1(y.clone().detach());
            let g = vec1(x.grad(&y.sum().backward()).unwrap());
            (v, g)
        };
        let (va, ga) = run(&fused);
        let (vb, gb) = run(&composed);
        for (i, (a, b)) in va.iter().zip(&vb).enumerate() {
            assert!(
                a.to_bits() == b.to_bits() || (a == b) || (a.is_nan() && b.is_nan()),
                "x = {}: {a} vs {b}",
                xs[i]
            );
        }
        assert_eq!(ga, gb, "gradients");
    }

    fn test_values(clip: f32, step: f32) -> Vec<f32> {
        let mut xs: Vec<f32> = (0..70_000)
            .map(|i| (i as f32 * 0.618_034).sin() * (clip + 1.0) + 0.3)
            .collect();
        // exact ties, the clip edges, zero, both signs of zero
        xs.extend([
            0.5 * step,
            2.5 * step,
            3.5 * step,
            clip,
            0.0,
            -0.0,
            clip + 1e-3,
            -1e-3,
        ]);
        xs
    }

    #[test]
    fn fused_hwgq_equals_the_composed_quantizer() {
        for bits in Bits::ALL.into_iter().filter(|b| b.is_quantized()) {
            let step = bits.activation_step().unwrap();
            let clip = activation_clip(bits).unwrap();
            assert_same_as_composed(
                &test_values(clip, step),
                |x| input_activation(x, bits),
                |x| straight_through_composed(x, clip, StraightThrough::Round { step }, None),
            );
        }
    }

    #[test]
    fn fused_noise_equals_clamp_plus_noise() {
        let clip = activation_clip(Bits::B4).unwrap();
        let sigma = Bits::B4.activation_step().unwrap() * 0.5;
        let xs = test_values(clip, 2.0 * sigma);
        let z: Vec<f32> = (0..xs.len())
            .map(|i| (i as f32 * 1.37).cos() * 2.0)
            .collect();
        let d = dev();
        let zt = Tensor::<1>::from_data(TensorData::new(z.clone(), [z.len()]), &d);
        assert_same_as_composed(
            &xs,
            |x| {
                // Chunk by chunk, as a noise source hands it out.
                let fill = |c: usize, out: &mut [f32]| {
                    let start = c * PARTS_CHUNK;
                    out.copy_from_slice(&z[start..start + out.len()]);
                };
                let target = [(clip, StraightThrough::Noise { sigma })];
                let parts = straight_through_parts(&x, &target, Some(&fill));
                let (m, r) = parts.into_iter().next().unwrap();
                x * m + r
            },
            |x| {
                straight_through_composed(
                    x,
                    clip,
                    StraightThrough::Noise { sigma },
                    Some(zt.clone()),
                )
            },
        );
    }

    #[test]
    fn several_targets_in_one_pass_equal_one_at_a_time() {
        let d = dev();
        let xs = test_values(5.0, 0.02);
        let x = Tensor::<1>::from_data(TensorData::new(xs.clone(), [xs.len()]), &d);
        let targets: Vec<(f32, StraightThrough)> = [Bits::B4, Bits::B8]
            .iter()
            .map(|b| {
                let step = b.activation_step().unwrap();
                (
                    activation_clip(*b).unwrap(),
                    StraightThrough::Round { step },
                )
            })
            .collect();
        let both = straight_through_parts(&x, &targets, None);
        for (t, target) in targets.iter().enumerate() {
            let one = straight_through_parts(&x, std::slice::from_ref(target), None);
            assert_eq!(vec1(both[t].0.clone()), vec1(one[0].0.clone()), "mask {t}");
            assert_eq!(vec1(both[t].1.clone()), vec1(one[0].1.clone()), "rest {t}");
        }
    }

    #[test]
    fn nan_stays_nan() {
        let d = dev();
        let x = Tensor::<1>::from_data(TensorData::new(vec![f32::NAN, 1.0], [2]), &d);
        let y = vec1(input_activation(x, Bits::B8));
        assert!(y[0].is_nan() && y[1].is_finite(), "{y:?}");
    }

    #[test]
    fn relu_at_32_bits() {
        let d = dev();
        let x = Tensor::<1>::from_data(TensorData::new(vec![-1.0f32, 7.5], [2]), &d);
        assert_eq!(vec1(input_activation(x, Bits::B32)), vec![0.0, 7.5]);
    }

    #[test]
    fn lsq_values_and_gradients() {
        let d = dev();
        // One channel, 4-bit: codes in [-8, 7], step 0.5.
        let ws = vec![0.26f32, -0.74, 10.0, -10.0];
        let w =
            Tensor::<4>::from_data(TensorData::new(ws.clone(), [1, 1, 2, 2]), &d).require_grad();
        let s = Tensor::<1>::from_data(TensorData::new(vec![0.5f32], [1]), &d).require_grad();
        let q = lsq_weight(w.clone(), s.clone(), Bits::B4);
        let got = q
            .clone()
            .detach()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(got, vec![0.5, -0.5, 3.5, -4.0]);
        let grads = q.sum().backward();
        // dq/dW = 1 inside the range, 0 where clamped.
        let gw = w
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(gw, vec![1.0, 1.0, 0.0, 0.0]);
        // dq/ds = round(W/s) − W/s inside, q_p or q_n outside; times 1/√(q_p·numel).
        let expect = ((1.0 - 0.52) + (-1.0 + 1.48) + 7.0 - 8.0) * lsq_grad_scale(Bits::B4, 4);
        let gs = vec1(s.grad(&grads).unwrap())[0];
        assert!((gs - expect).abs() < 1e-5, "{gs} vs {expect}");
    }

    #[test]
    fn rounding_is_cores_rule_not_burns() {
        let d = dev();
        let mut xs: Vec<f32> = vec![
            0.5,
            -0.5,
            1.5,
            2.5,
            -2.5,
            7.5,
            -7.5,
            127.5,
            0.49999997,
            -0.49999997,
            2.4999998,
            0.0,
            -0.0,
            8_388_607.5,
            1e30,
            -1e30,
        ];
        xs.extend((0..20_000).map(|i| (i as f32 * 0.618_034).sin() * 300.0));
        xs.extend((-600..600).map(|k| k as f32 * 0.5));
        let x = Tensor::<1>::from_data(TensorData::new(xs.clone(), [xs.len()]), &d);
        let got = vec1(round_code_tensor(x.clone()));
        let ste = vec1(round_ste(x));
        for ((v, g), s) in xs.iter().zip(&got).zip(&ste) {
            assert_eq!(*g, round_code(*v), "{v}");
            assert_eq!(*s, round_code(*v), "{v}");
        }
        // burn's own round is ties to even: the reason the trainer does not use it.
        let two_and_half = Tensor::<1>::from_data(TensorData::new(vec![2.5f32], [1]), &d);
        assert_eq!(vec1(two_and_half.round()), [2.0]);
        // The fused HWGQ pass rounds ties away from zero too: 2.5 steps is code 3.
        let step = 0.25f32;
        let ys = [2.5 * step, 0.5 * step, 1.5 * step];
        let x = Tensor::<1>::from_data(TensorData::new(ys.to_vec(), [3]), &d);
        let target = [(15.0 * step, StraightThrough::Round { step })];
        let (m, r) = straight_through_parts(&x, &target, None)
            .into_iter()
            .next()
            .unwrap();
        assert_eq!(vec1(x * m + r), [3.0 * step, step, 2.0 * step]);
    }

    #[test]
    fn lsq_init_rule() {
        // mean |W| = 0.5, q_p = 127 at 8 bits.
        let s = lsq_init_steps(&[0.5, -0.5, 1.0, 0.0], 2, Bits::B8);
        assert!((s[0] - 1.0 / 127f32.sqrt()).abs() < 1e-7);
        assert!((s[1] - 1.0 / 127f32.sqrt()).abs() < 1e-7);
    }
}
