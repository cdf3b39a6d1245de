//! The integer inference engine: runs a [`Model`] on an image.
//!
//! Nodes run in graph order. Each intermediate tensor is dropped right after its last
//! reader ([`Graph::last_use`]), element-wise ops (add, mul, batch norm, ADQ, sigmoid)
//! write into an input that dies with them instead of allocating, and a conv whose readers
//! are all quantized convs of the same step writes one-byte activation codes instead of
//! `f32`. Peak memory is therefore a few live tensors, not one per layer
//! ([`RunStats::peak_bytes`] reports it).

use alloc::vec;
use alloc::vec::Vec;

use crate::arch::{Graph, NodeId, NodeKind};
use crate::cost::{CostReport, cost};
use crate::image::{Planes, RgbImage8};
use crate::model::{ConvParams, LayerBits, MAX_NODES, Model, ModelError, NodeParams};

use super::bilinear::resize;
use super::conv::Geometry;
use super::dot::Isa;
use super::float_conv::{FloatConv, FloatSums};
use super::int_conv::{IntConv, OutMode};
use super::ops;
use super::pool::Pool;
use super::ref_exec;
use super::tensor::{Data, Tensor};
use super::threads::Threads;

/// Largest LR input accepted, in pixels: 1024×1024 (the ×4 output is 4096×4096). Stops a
/// huge image from exhausting memory (the widest tensors hold 36–64 channels of it).
pub const MAX_INPUT_PIXELS: usize = 1024 * 1024;

/// What one run used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Largest sum of live tensor buffers plus the conv scratch in use at any moment,
    /// input and output images included, in bytes.
    pub peak_bytes: usize,
}

/// Per-node prepared parameters.
#[derive(Clone, Debug)]
enum Prepared {
    None,
    Int(IntConv),
    Float(FloatConv),
    BatchNorm { scale: Vec<f32>, shift: Vec<f32> },
    Adq { gamma: f32, beta: f32 },
}

/// A model prepared for inference: weights packed for the kernels, memory plan made.
#[derive(Clone, Debug)]
pub struct Engine {
    model: Model,
    graph: Graph,
    prepared: Vec<Prepared>,
    /// How each conv writes its output.
    modes: Vec<OutMode>,
    /// Per node: the factor of the pixel shuffle an integer conv writes its output
    /// through (its one reader is that shuffle, which then only passes it on), else 1.
    shuffled: Vec<usize>,
    last_use: Vec<NodeId>,
    /// The instruction set the integer convs run on.
    isa: Isa,
    /// The threads they run on.
    threads: Threads,
    /// Buffers of the last run, for the next (shared by clones; taken whole by a run and
    /// put back after it, so concurrent runs never wait on each other).
    #[cfg(feature = "std")]
    pool: alloc::sync::Arc<std::sync::Mutex<Pool>>,
}

impl Engine {
    /// Validates `model` and prepares it.
    pub fn new(model: Model) -> Result<Engine, ModelError> {
        model.validate()?;
        let graph = model.arch.graph();
        if graph.nodes.len() > MAX_NODES {
            return Err(ModelError::OverLimit {
                what: "graph node count",
                offset: 0,
                got: graph.nodes.len() as u64,
                max: MAX_NODES as u64,
            });
        }
        let specs = model.specs()?;
        let mut prepared = vec![Prepared::None; graph.nodes.len()];
        for ((id, _), params) in specs.iter().zip(&model.params) {
            prepared[*id] = match (&graph.nodes[*id].kind, params) {
                (
                    NodeKind::Conv(c),
                    NodeParams::Conv(ConvParams::Quantized {
                        bits,
                        codes,
                        weight_steps,
                        act_step,
                    }),
                ) => {
                    let g = Geometry::of(c);
                    // |w·a| ≤ 2^(b−1)·(2^b − 1); the i32 sum of kk of them must not wrap.
                    let per_mac = u64::from(bits.activation_max_code()) << (bits.get() - 1);
                    if g.kk() as u64 * per_mac > i32::MAX as u64 {
                        return Err(ModelError::OverLimit {
                            what: "weights per output channel (i32 accumulator range)",
                            offset: 0,
                            got: g.kk() as u64,
                            max: i32::MAX as u64 / per_mac,
                        });
                    }
                    Prepared::Int(IntConv::new(g, *bits, codes, weight_steps, *act_step))
                }
                (NodeKind::Conv(c), NodeParams::Conv(ConvParams::Float { weights })) => {
                    Prepared::Float(FloatConv::new(Geometry::of(c), weights, FloatSums::F64))
                }
                (_, NodeParams::BatchNorm { scale, shift }) => Prepared::BatchNorm {
                    scale: scale.clone(),
                    shift: shift.clone(),
                },
                (_, NodeParams::Adq { gamma, beta }) => Prepared::Adq {
                    gamma: *gamma,
                    beta: *beta,
                },
                // `validate` matched every parameter to its node kind.
                _ => Prepared::None,
            };
        }
        let mut readers: Vec<Vec<NodeId>> = vec![Vec::new(); graph.nodes.len()];
        for (i, node) in graph.nodes.iter().enumerate() {
            for j in node.kind.inputs() {
                readers[j].push(i);
            }
        }
        // The quantizers that eventually read node i: pixel shuffles are looked through
        // (a permutation commutes with the element-wise quantizer); any other reader, or
        // a float conv, needs floats.
        fn quantizers(
            i: NodeId,
            graph: &Graph,
            readers: &[Vec<NodeId>],
            prepared: &[Prepared],
            out: &mut Vec<Option<(f32, u8)>>,
        ) {
            for &r in &readers[i] {
                match (&graph.nodes[r].kind, &prepared[r]) {
                    (NodeKind::Conv(_), Prepared::Int(k)) => {
                        out.push(Some((k.act_step, k.max_code)))
                    }
                    (NodeKind::PixelShuffle { .. }, _) if r != graph.output => {
                        quantizers(r, graph, readers, prepared, out)
                    }
                    _ => out.push(None),
                }
            }
        }
        let modes = (0..graph.nodes.len())
            .map(|i| {
                if !matches!(prepared[i], Prepared::Int(_) | Prepared::Float(_))
                    || i == graph.output
                {
                    return OutMode::F32;
                }
                let mut q = Vec::new();
                quantizers(i, &graph, &readers, &prepared, &mut q);
                match q.first() {
                    Some(&Some((step, max))) if q.iter().all(|x| *x == q[0]) => {
                        OutMode::Codes { step, max }
                    }
                    _ => OutMode::F32,
                }
            })
            .collect();
        let shuffled = (0..graph.nodes.len())
            .map(|i| match (&prepared[i], readers[i].as_slice()) {
                (Prepared::Int(k), &[s]) if i != graph.output && k.geom.tiled() => {
                    match graph.nodes[s].kind {
                        NodeKind::PixelShuffle { input, factor } if input == i => factor,
                        _ => 1,
                    }
                }
                _ => 1,
            })
            .collect();
        let last_use = graph.last_use();
        Ok(Engine {
            model,
            graph,
            prepared,
            modes,
            shuffled,
            last_use,
            isa: Isa::best(),
            threads: Threads::default(),
            #[cfg(feature = "std")]
            pool: Default::default(),
        })
    }

    /// The same engine with the integer convs' output rows split over `n` threads of a
    /// pool of its own (1: the calling thread only, the default). The output is
    /// bit-identical for every `n`.
    ///
    /// # Panics
    /// If the operating system cannot start the threads.
    #[cfg(feature = "threads")]
    pub fn with_threads(mut self, n: usize) -> Engine {
        self.threads = Threads::new(n);
        self
    }

    /// How many threads the integer convs use.
    pub fn threads(&self) -> usize {
        self.threads.count()
    }

    /// The same engine on another integer conv kernel (benches and tests compare them;
    /// every kernel gives the same bits). [`Isa::best`] is the default.
    ///
    /// # Errors
    /// [`ModelError::IsaUnavailable`] when this CPU or build cannot run `isa`.
    pub fn with_isa(mut self, isa: Isa) -> Result<Engine, ModelError> {
        if !isa.is_available() {
            return Err(ModelError::IsaUnavailable { isa });
        }
        self.isa = isa;
        Ok(self)
    }

    /// The instruction set the integer convs run on.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// The same engine with its 32-bit convs summing in `sums`. [`FloatSums::F64`], the
    /// default, is the model's definition; [`FloatSums::F32`] is faster and differs from
    /// it by `f32` rounding (the benches use it for their "f32 path" peer).
    pub fn with_float_sums(mut self, sums: FloatSums) -> Engine {
        for p in &mut self.prepared {
            if let Prepared::Float(k) = p {
                *k = k.with_sums(sums);
            }
        }
        self
    }

    /// Parses a model file and prepares it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Engine, ModelError> {
        Engine::new(Model::from_bytes(bytes)?)
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The network graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Bit width of every conv, in graph order.
    pub fn layer_bits(&self) -> Vec<LayerBits> {
        self.model.layer_bits()
    }

    /// Parameters, MACs, BitOps and per-layer costs for an LR input of `h`×`w`.
    pub fn cost(&self, h: usize, w: usize) -> Result<CostReport, ModelError> {
        Ok(cost(&self.graph, h, w)?)
    }

    /// Checks that an input of this shape can run.
    pub fn check_input(&self, channels: usize, h: usize, w: usize) -> Result<(), ModelError> {
        check_input(&self.graph, channels, h, w)
    }

    /// Upscales an 8-bit RGB image ×4 on the integer path: `/255`, run, clamp to [0, 1],
    /// `×255`, round.
    pub fn upscale(&self, image: &RgbImage8) -> Result<RgbImage8, ModelError> {
        // Checked before the float copy is made.
        self.check_input(3, image.height, image.width)?;
        Ok(self.upscale_planes(&image.to_planes())?.to_rgb8_rounded()?)
    }

    /// Upscales an RGB image in [0, 1] on the integer path; the output is unclamped.
    pub fn upscale_planes(&self, x: &Planes) -> Result<Planes, ModelError> {
        Ok(self.upscale_planes_stats(x)?.0)
    }

    /// [`upscale_planes`](Self::upscale_planes) with the memory it used.
    pub fn upscale_planes_stats(&self, x: &Planes) -> Result<(Planes, RunStats), ModelError> {
        self.check_input(x.channels, x.height, x.width)?;
        let mut pool = self.take_pool();
        let mut data = pool.f32_overwritten(x.data.len());
        data.copy_from_slice(&x.data);
        let input = Tensor::f32(x.channels, x.height, x.width, data);
        let run = self.run(input, &mut pool);
        self.put_pool(pool);
        let (out, peak_bytes) = run?;
        let planes = Planes {
            channels: out.c,
            height: out.h,
            width: out.w,
            data: out.into_values(),
        };
        Ok((
            planes,
            RunStats {
                peak_bytes: peak_bytes + x.data.capacity() * 4,
            },
        ))
    }

    /// Upscales an 8-bit RGB image with the fake-quant reference executor.
    pub fn upscale_reference(&self, image: &RgbImage8) -> Result<RgbImage8, ModelError> {
        self.check_input(3, image.height, image.width)?;
        Ok(self
            .upscale_planes_reference(&image.to_planes())?
            .to_rgb8_rounded()?)
    }

    /// Runs the fake-quant reference executor (clear, slow; for checking the integer path).
    pub fn upscale_planes_reference(&self, x: &Planes) -> Result<Planes, ModelError> {
        self.check_input(x.channels, x.height, x.width)?;
        Ok(ref_exec::run(&self.graph, &self.model, x))
    }

    /// Runs the graph; returns the output and the peak bytes of live tensors and scratch.
    ///
    /// # Errors
    /// [`ModelError::Internal`] when an invariant of `Engine::new`'s plan is broken (a node
    /// read after it was freed, a conv without prepared weights, codes where floats are
    /// needed): a bug, reported instead of computing on an empty tensor.
    /// The buffers kept from earlier runs (none without `std`).
    fn take_pool(&self) -> Pool {
        #[cfg(feature = "std")]
        if let Ok(mut p) = self.pool.lock() {
            return core::mem::take(&mut *p);
        }
        Pool::default()
    }

    /// Keeps a run's buffers for the next.
    fn put_pool(&self, pool: Pool) {
        #[cfg(feature = "std")]
        if let Ok(mut p) = self.pool.lock() {
            *p = pool;
        }
        #[cfg(not(feature = "std"))]
        drop(pool);
    }

    fn run(&self, input: Tensor, pool: &mut Pool) -> Result<(Tensor, usize), ModelError> {
        let n = self.graph.nodes.len();
        let mut vals: Vec<Option<Tensor>> = (0..n).map(|_| None).collect();
        let mut input = Some(input);
        let mut live = 0usize;
        let mut peak = 0usize;
        for i in 0..n {
            let dies = |j: NodeId| self.last_use[j] == i;
            let mut scratch = 0;
            let mut reused = 0;
            let out = match &self.graph.nodes[i].kind {
                NodeKind::Input { .. } => input
                    .take()
                    .ok_or(ModelError::Internal("the graph has a second input node"))?,
                NodeKind::Conv(c) => {
                    let x = get(&vals, c.input)?;
                    let (t, s) = match &self.prepared[i] {
                        Prepared::Int(k) => k.run(
                            x,
                            self.modes[i],
                            self.isa,
                            &self.threads,
                            pool,
                            self.shuffled[i],
                        ),
                        Prepared::Float(k) => k.run(x, self.modes[i]),
                        _ => return Err(ModelError::Internal("a conv without prepared weights")),
                    };
                    scratch = s;
                    t
                }
                NodeKind::Add { a, b } | NodeKind::Mul { a, b } => {
                    let is_add = matches!(self.graph.nodes[i].kind, NodeKind::Add { .. });
                    // Write into whichever operand dies here (both ops are commutative).
                    let (dst, src) = if dies(*a) && a != b {
                        (take(&mut vals, *a, &mut reused)?, *b)
                    } else if dies(*b) && a != b {
                        (take(&mut vals, *b, &mut reused)?, *a)
                    } else {
                        (self.owned(&mut vals, *a, false, &mut reused, pool)?, *b)
                    };
                    let mut dst = dst;
                    let src = floats(get(&vals, src)?)?;
                    let v = floats_mut(&mut dst)?;
                    // Element-wise, so any split over the threads gives the same bits.
                    self.threads.for_pieces(v, 1, |at, d| {
                        let s = &src[at..][..d.len()];
                        if is_add {
                            ops::add_assign(d, s)
                        } else {
                            ops::mul_assign(d, s)
                        }
                    });
                    dst
                }
                NodeKind::Concat { inputs } => {
                    let ts = inputs
                        .iter()
                        .map(|&j| get(&vals, j))
                        .collect::<Result<Vec<&Tensor>, _>>()?;
                    ops::concat(&ts)
                }
                // The conv before wrote its output shuffled already.
                NodeKind::PixelShuffle { input, .. } if self.shuffled[*input] > 1 => {
                    take(&mut vals, *input, &mut reused)?
                }
                NodeKind::PixelShuffle { input, factor } => {
                    ops::pixel_shuffle(get(&vals, *input)?, *factor, pool)
                }
                NodeKind::Tile { input, times } => ops::tile(get(&vals, *input)?, *times),
                NodeKind::BatchNorm { input } => {
                    let Prepared::BatchNorm { scale, shift } = &self.prepared[i] else {
                        return Err(ModelError::Internal("a batch norm without parameters"));
                    };
                    if dies(*input) {
                        let mut t = take(&mut vals, *input, &mut reused)?;
                        let plane = t.plane();
                        // Pieces of whole channels.
                        self.threads
                            .for_pieces(floats_mut(&mut t)?, plane, |at, d| {
                                let c = at / plane.max(1);
                                ops::batch_norm_assign(d, plane, &scale[c..], &shift[c..])
                            });
                        t
                    } else {
                        // The input lives on (an ADQ skip): normalise into a new buffer
                        // instead of copying it first.
                        let x = get(&vals, *input)?;
                        let mut v = pool.empty_f32(x.values().len());
                        ops::batch_norm_into(floats(x)?, x.plane(), scale, shift, &mut v);
                        Tensor::f32(x.c, x.h, x.w, v)
                    }
                }
                NodeKind::Adq { branch, skip } => {
                    let Prepared::Adq { gamma, beta } = &self.prepared[i] else {
                        return Err(ModelError::Internal("an ADQ node without parameters"));
                    };
                    let factor = ops::adq_factor(floats(get(&vals, *skip)?)?, *gamma, *beta);
                    let mut t = self.owned(
                        &mut vals,
                        *branch,
                        dies(*branch) && branch != skip,
                        &mut reused,
                        pool,
                    )?;
                    let skip = floats(get(&vals, *skip)?)?;
                    self.threads.for_pieces(floats_mut(&mut t)?, 1, |at, d| {
                        ops::adq_assign(d, &skip[at..][..d.len()], factor)
                    });
                    t
                }
                NodeKind::MaxPool {
                    input,
                    kernel,
                    stride,
                } => ops::max_pool(get(&vals, *input)?, *kernel, *stride),
                NodeKind::ResizeBilinear { input, like } => {
                    let l = get(&vals, *like)?;
                    resize(get(&vals, *input)?, l.h, l.w)
                }
                NodeKind::Sigmoid { input } => {
                    let mut t = self.owned(&mut vals, *input, dies(*input), &mut reused, pool)?;
                    ops::sigmoid_assign(floats_mut(&mut t)?);
                    t
                }
                // `Engine::new` rejects supernets.
                NodeKind::Mixed(_) => return Err(ModelError::Internal("a supernet slot")),
            };
            live = live - reused + out.bytes();
            peak = peak.max(live + scratch);
            vals[i] = Some(out);
            for j in self.graph.nodes[i].kind.inputs() {
                if dies(j)
                    && let Some(t) = vals[j].take()
                {
                    live -= t.bytes();
                    pool.put(t.data);
                }
            }
        }
        let out = vals[self.graph.output]
            .take()
            .ok_or(ModelError::Internal("the output was freed before the end"))?;
        Ok((out, peak))
    }

    /// The value of `j` to modify: taken if it dies here, else a copy.
    fn owned(
        &self,
        vals: &mut [Option<Tensor>],
        j: NodeId,
        dies: bool,
        reused: &mut usize,
        pool: &mut Pool,
    ) -> Result<Tensor, ModelError> {
        if dies {
            take(vals, j, reused)
        } else {
            let t = get(vals, j)?;
            Ok(Tensor {
                c: t.c,
                h: t.h,
                w: t.w,
                data: pool.copy_of(&t.data),
            })
        }
    }
}

/// The live value of node `j`. Graph order and [`Graph::last_use`] guarantee it was
/// computed and not yet dropped; an error if not.
fn get(vals: &[Option<Tensor>], j: NodeId) -> Result<&Tensor, ModelError> {
    vals[j].as_ref().ok_or(ModelError::Internal(
        "a node read before it ran or after it was freed",
    ))
}

/// Takes the value of `j`, counting its bytes as reused by the new output.
fn take(vals: &mut [Option<Tensor>], j: NodeId, reused: &mut usize) -> Result<Tensor, ModelError> {
    let t = vals[j].take().ok_or(ModelError::Internal(
        "a node taken before it ran or after it was freed",
    ))?;
    *reused += t.bytes();
    Ok(t)
}

/// The float values of a tensor that an element-wise op reads. `Engine::new` stores codes
/// only for tensors that quantized convs alone read, so codes here are a broken plan.
fn floats(t: &Tensor) -> Result<&[f32], ModelError> {
    match &t.data {
        Data::F32(v) => Ok(v),
        Data::Codes(_) => Err(ModelError::Internal("activation codes read as floats")),
    }
}

/// [`floats`], to modify in place.
fn floats_mut(t: &mut Tensor) -> Result<&mut [f32], ModelError> {
    match &mut t.data {
        Data::F32(v) => Ok(v),
        Data::Codes(_) => Err(ModelError::Internal("activation codes written as floats")),
    }
}

/// Checks an input shape against the graph and [`MAX_INPUT_PIXELS`].
pub(crate) fn check_input(
    graph: &Graph,
    channels: usize,
    h: usize,
    w: usize,
) -> Result<(), ModelError> {
    let (min_height, min_width) = graph.min_input_size();
    if channels != 3 || h < min_height || w < min_width {
        return Err(ModelError::BadInput {
            channels,
            height: h,
            width: w,
            min_height,
            min_width,
        });
    }
    if h.saturating_mul(w) > MAX_INPUT_PIXELS {
        return Err(ModelError::InputTooLarge {
            height: h,
            width: w,
            max: MAX_INPUT_PIXELS,
        });
    }
    graph.shapes(h, w)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{Arch, Bits, Genotype, Residual, SearchSpace};
    use crate::image::Planes;

    fn engine(arch: Arch) -> Engine {
        Engine::new(Model::random(arch, 1).expect("model")).expect("engine")
    }

    fn internal(e: &Engine) -> bool {
        matches!(
            e.upscale_planes(&Planes::zeros(3, 6, 5)),
            Err(ModelError::Internal(_))
        )
    }

    /// Each broken plan is reported, where the executor used to compute on an empty
    /// tensor, copy a conv's input through, or skip the op.
    #[test]
    fn a_broken_plan_is_an_error_not_an_empty_tensor() {
        let good = engine(Arch::SrResNet { bits: Bits::B8 });
        assert!(good.upscale_planes(&Planes::zeros(3, 6, 5)).is_ok());

        // A conv whose weights were never prepared.
        let mut e = good.clone();
        let (conv, ..) = e.graph.convs().next().expect("a conv");
        e.prepared[conv] = Prepared::None;
        assert!(internal(&e));

        // Codes where a residual add needs floats.
        let mut e = good.clone();
        let (a, b) = e
            .graph
            .nodes
            .iter()
            .find_map(|n| match n.kind {
                NodeKind::Add { a, b } => Some((a, b)),
                _ => None,
            })
            .expect("an add");
        for j in [a, b] {
            if matches!(e.prepared[j], Prepared::Int(_)) {
                e.modes[j] = OutMode::Codes {
                    step: 0.1,
                    max: 255,
                };
            }
        }
        assert!(internal(&e));

        // A node freed by its first reader though the add reads it later (the skip input).
        let mut e = good.clone();
        let add = e
            .graph
            .nodes
            .iter()
            .position(|n| matches!(n.kind, NodeKind::Add { .. }))
            .expect("an add");
        let early = [a, b].into_iter().find_map(|j| {
            let first = e
                .graph
                .nodes
                .iter()
                .position(|n| n.kind.inputs().contains(&j))?;
            (first < add).then_some((j, first))
        });
        let (j, first) = early.expect("a residual input read before the add");
        e.last_use[j] = first;
        assert!(internal(&e));

        // ADQ and batch norm without their parameters.
        for (residual, kind) in [(Residual::Adq, "adq"), (Residual::BatchNorm, "batch norm")] {
            let g = Genotype::nth_candidates(SearchSpace::BasicB, residual, 0, Bits::B8);
            let good = engine(Arch::Genotype { genotype: g });
            assert!(good.upscale_planes(&Planes::zeros(3, 6, 5)).is_ok());
            let mut e = good.clone();
            let i = e
                .graph
                .nodes
                .iter()
                .position(|n| match kind {
                    "adq" => matches!(n.kind, NodeKind::Adq { .. }),
                    _ => matches!(n.kind, NodeKind::BatchNorm { .. }),
                })
                .expect(kind);
            e.prepared[i] = Prepared::None;
            assert!(internal(&e), "{kind}");
        }
    }
}
