//! The convolution every trainer module calls: [`conv2d`] runs this crate's own kernels
//! ([`kernel`]) on burn-flex tensors, recorded for burn-autodiff with its own backward
//! step, and falls back to burn's `conv2d` for any other backend, dtype or geometry.

pub mod kernel;

use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Tensor};

use super::flex::{FlexAutodiff, Operands, flex_tensor, values};
use kernel::{Geometry, Parallel};

/// A bias-free 2-D convolution, `[n, cin, h, w] ⋆ [cout, cin/groups, kh, kw]`.
///
/// Stride 1, dilation 1 and padding below the kernel size on f32 flex tensors (every conv
/// the search spaces build) take [`kernel`]'s path; anything else takes burn's.
pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, options: ConvOptions<2>) -> Tensor<4> {
    let Some(g) = geometry(&x, &weight, &options) else {
        return burn::tensor::module::conv2d(x, weight, None, options);
    };
    match Operands::of(x, weight) {
        Operands::Tracked(x, w) => Tensor::from_primitive::<FlexAutodiff>(tracked(x, w, g)),
        Operands::Plain(x, w) => Tensor::from_primitive::<Flex>(untracked(&x, &w, &g)),
        Operands::Other(x, w) => burn::tensor::module::conv2d(x, w, None, options),
    }
}

/// The kernel's geometry for this call, or `None` where it does not apply.
fn geometry(x: &Tensor<4>, weight: &Tensor<4>, options: &ConvOptions<2>) -> Option<Geometry> {
    if x.dtype() != DType::F32 || weight.dtype() != DType::F32 {
        return None;
    }
    if options.stride != [1, 1] || options.dilation != [1, 1] || options.is_asymmetric() {
        return None;
    }
    let [n, cin, h, w] = x.dims();
    let [cout, cin_g, kh, kw] = weight.dims();
    let [pad_h, pad_w] = options.padding_begin();
    let g = Geometry {
        n,
        cin,
        h,
        w,
        cout,
        kh,
        kw,
        pad_h,
        pad_w,
        groups: options.groups,
    };
    (g.is_valid() && cin_g * options.groups == cin).then_some(g)
}

fn untracked(x: &FlexTensor, weight: &FlexTensor, g: &Geometry) -> FlexTensor {
    let y = kernel::forward(&values(x), &values(weight), g, Parallel::Threads);
    flex_tensor(y, [g.n, g.cout, g.oh(), g.ow()])
}

/// The conv's backward step: both gradients from the saved input and weight.
#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 2> for ConvBackward {
    type State = (FlexTensor, FlexTensor, Geometry);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, weight, g) = ops.state;
        let dy = values(&dy);
        if let Some(node) = node_x {
            let dx = kernel::input_gradient(&dy, &values(&weight), &g, Parallel::Threads);
            grads.register::<Flex>(node.id, flex_tensor(dx, [g.n, g.cin, g.h, g.w]));
        }
        if let Some(node) = node_w {
            let dw = kernel::weight_gradient(&values(&x), &dy, &g, Parallel::Threads);
            let shape = [g.cout, g.cin / g.groups, g.kh, g.kw];
            grads.register::<Flex>(node.id, flex_tensor(dw, shape));
        }
    }
}

fn tracked(
    x: FloatTensor<FlexAutodiff>,
    weight: FloatTensor<FlexAutodiff>,
    g: Geometry,
) -> FloatTensor<FlexAutodiff> {
    let prep = ConvBackward
        .prepare::<NoCheckpointing>([x.node(), weight.node()])
        .compute_bound()
        .stateful();
    let y = untracked(x.primitive(), weight.primitive(), &g);
    match prep {
        OpsKind::Tracked(prep) => {
            prep.finish((x.primitive().clone(), weight.primitive().clone(), g), y)
        }
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

    fn grads_of(
        conv: impl Fn(Tensor<4>, Tensor<4>) -> Tensor<4>,
        x: &Tensor<4>,
        w: &Tensor<4>,
        dy: &Tensor<4>,
    ) -> [Vec<f32>; 3] {
        let x = x.clone().require_grad();
        let w = w.clone().require_grad();
        let y = conv(x.clone(), w.clone());
        let grads = (y.clone() * dy.clone()).sum().backward();
        let v = |t: Tensor<4>| t.into_data().try_into_vec::<f32>().expect("f32");
        [
            v(y),
            v(x.grad(&grads).expect("x grad")),
            v(w.grad(&grads).expect("w grad")),
        ]
    }

    /// On the autodiff device the output and both gradients match burn's own conv (to
    /// f32 rounding; the summation orders differ), for every kernel shape of the spaces.
    #[test]
    fn matches_burns_conv_forward_and_backward() {
        let device = Device::flex().autodiff();
        for g in kernel::tests::cases() {
            let opts = ConvOptions::new([1, 1], [g.pad_h, g.pad_w], [1, 1], g.groups);
            let normal = Distribution::Normal(0.0, 1.0);
            let x = Tensor::<4>::random([g.n, g.cin, g.h, g.w], normal, &device);
            let w = Tensor::<4>::random([g.cout, g.cin / g.groups, g.kh, g.kw], normal, &device);
            let dy = Tensor::<4>::random([g.n, g.cout, g.oh(), g.ow()], normal, &device);
            let ours = grads_of(|x, w| conv2d(x, w, opts.clone()), &x, &w, &dy);
            let burns = grads_of(
                |x, w| burn::tensor::module::conv2d(x, w, None, opts.clone()),
                &x,
                &w,
                &dy,
            );
            for (what, (a, b)) in ["y", "dx", "dw"].iter().zip(ours.iter().zip(&burns)) {
                let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
                for (i, (p, q)) in a.iter().zip(b).enumerate() {
                    assert!(
                        (p - q).abs() <= 2e-5 * scale,
                        "{what} {g:?} [{i}]: {p} vs {q}"
                    );
                }
            }
        }
    }

    /// Without autodiff the same kernel runs, and strided convs still work (burn's path).
    #[test]
    fn plain_device_and_strided_fallback() {
        let device = Device::flex();
        let x = Tensor::<4>::random([2, 3, 9, 8], Distribution::Normal(0.0, 1.0), &device);
        let w = Tensor::<4>::random([4, 3, 3, 3], Distribution::Normal(0.0, 1.0), &device);
        for stride in [1, 2] {
            let opts = ConvOptions::new([stride; 2], [1, 1], [1, 1], 1);
            let a = conv2d(x.clone(), w.clone(), opts.clone());
            let b = burn::tensor::module::conv2d(x.clone(), w.clone(), None, opts);
            assert_eq!(a.dims(), b.dims());
            let diff = (a - b).abs().max().into_scalar::<f32>();
            assert!(diff < 1e-4, "stride {stride}: {diff}");
        }
    }
}
