//! Times the integer engine for benchmark drivers in other languages (e.g.
//! `scripts/bench-ort.py`, which interleaves it with ONNX Runtime in one run).
//!
//! `engine_timer MODEL.qnm [--size N] [--threads T] [--isa NAME] [--f32]`
//! loads the model, then reads standard input: each line `run` upscales an N×N synthetic
//! image once and prints the milliseconds it took; end of input exits. `--f32` times the
//! engine's own `f32` path on the same weights instead.
//!
//! `engine_timer MODEL.qnm --dump-convs` prints the model's convs as JSON (name, shape,
//! padding, bits, input step, dequantized weights), for building the same network
//! elsewhere.

use std::io::{BufRead, Write};
use std::time::Instant;

use quantnas_core::arch::NodeKind;
use quantnas_core::engine::{Engine, Isa};
use quantnas_core::model::{ConvParams, Model, NodeParams};

#[path = "../benches/common/pattern.rs"]
mod pattern;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn dump(model: &Model) {
    let graph = model.graph();
    let specs = model.specs().expect("specs");
    let convs: Vec<serde_json::Value> = specs
        .iter()
        .zip(&model.params)
        .filter_map(|((id, _), p)| {
            let node = &graph.nodes[*id];
            match (&node.kind, p) {
                (NodeKind::Conv(c), NodeParams::Conv(cp)) => {
                    let act_step = match cp {
                        ConvParams::Quantized { act_step, .. } => Some(*act_step),
                        ConvParams::Float { .. } => None,
                    };
                    Some(serde_json::json!({
                        "name": node.name, "input": c.input, "cin": c.shape.cin,
                        "cout": c.shape.cout, "kh": c.shape.kh, "kw": c.shape.kw,
                        "groups": c.shape.groups, "stride": c.stride,
                        "padding": [c.padding.0, c.padding.1], "bits": cp.bits().get(),
                        "act_step": act_step, "weights": cp.dequantized(),
                    }))
                }
                _ => None,
            }
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({ "arch": model.arch, "convs": convs })
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .expect("usage: engine_timer MODEL.qnm [options]");
    let bytes = std::fs::read(path).expect("model file");
    let mut model = Model::from_bytes(&bytes).expect("model");
    if args.iter().any(|a| a == "--dump-convs") {
        return dump(&model);
    }
    if args.iter().any(|a| a == "--f32") {
        model = model.float_twin().expect("f32 twin");
    }
    let side: usize = arg(&args, "--size").map_or(256, |s| s.parse().expect("--size N"));
    let threads: usize = arg(&args, "--threads").map_or(1, |s| s.parse().expect("--threads T"));
    let mut engine = Engine::new(model).expect("engine").with_threads(threads);
    if let Some(name) = arg(&args, "--isa") {
        let isa = Isa::from_name(&name).expect("unknown --isa");
        engine = engine.with_isa(isa).expect("isa");
    }
    let x = pattern::image(side, side);
    eprintln!(
        "engine_timer: {} kernel, {} thread(s)",
        engine.isa(),
        engine.threads()
    );
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        if line.expect("stdin").trim() != "run" {
            continue;
        }
        let t = Instant::now();
        std::hint::black_box(engine.upscale_planes(&x).expect("run"));
        let mut out = stdout.lock();
        writeln!(out, "{:.3}", t.elapsed().as_secs_f64() * 1e3).expect("stdout");
        out.flush().expect("stdout");
    }
}
