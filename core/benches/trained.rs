//! `cargo bench -p quantnas-core --bench trained`: the bundled trained models
//! (`web/models/*.qnm`), then random weights, on every integer conv kernel this CPU runs
//! and on the engine's own `f32` path (the same network at 32 bits on the dequantized
//! weights), interleaved in rounds so that machine noise hits every variant alike.
//!
//! Prints, per model, the median time of each variant, its MAC rate, and the median over
//! rounds of its time ÷ the `f32` path's time in the same round.
//!
//! Options (after `--`): `--size N` (LR side, default 256), `--rounds R` (default 7),
//! `--threads 1,2` (thread counts of the best kernel, default 1 and 2), `--json FILE`.

use std::time::Instant;

use quantnas_core::arch::{Arch, Bits};
use quantnas_core::engine::{Engine, FloatSums, Isa};
use quantnas_core::model::Model;

#[path = "common/pattern.rs"]
mod pattern;

struct Opts {
    size: usize,
    rounds: usize,
    threads: Vec<usize>,
    json: Option<String>,
}

fn opts() -> Opts {
    let mut o = Opts {
        size: 256,
        rounds: 7,
        threads: vec![1, 2],
        json: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let val = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--size" => o.size = val.parse().expect("--size N"),
            "--rounds" => o.rounds = val.parse().expect("--rounds R"),
            "--threads" => {
                o.threads = val
                    .split(',')
                    .map(|t| t.parse().expect("--threads 1,2"))
                    .collect()
            }
            "--json" => o.json = Some(val),
            // cargo bench passes `--bench`; anything else is a filter we do not use.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

struct Variant {
    name: String,
    engine: Engine,
    threads: usize,
    ms: Vec<f64>,
}

fn bench_model(name: &str, model: Model, o: &Opts, out: &mut Vec<serde_json::Value>) {
    let x = pattern::image(o.size, o.size);
    let base = Engine::new(model.clone()).expect("engine");
    let macs = base.cost(o.size, o.size).expect("cost").macs;
    let mut variants = vec![Variant {
        name: "f32 path".into(),
        engine: Engine::new(model.float_twin().expect("float twin"))
            .expect("f32 engine")
            .with_float_sums(FloatSums::F32),
        threads: 1,
        ms: vec![],
    }];
    for isa in Isa::available() {
        variants.push(Variant {
            name: format!("int {isa}"),
            engine: base.clone().with_isa(isa).expect("isa"),
            threads: 1,
            ms: vec![],
        });
    }
    for &t in o.threads.iter().filter(|&&t| t > 1) {
        variants.push(Variant {
            name: format!("int {} ×{t} threads", Isa::best()),
            engine: base.clone().with_threads(t),
            threads: t,
            ms: vec![],
        });
    }
    // One untimed run each (page faults, caches), then interleaved rounds.
    for v in &variants {
        v.engine.upscale_planes(&x).expect("run");
    }
    for _ in 0..o.rounds {
        for v in &mut variants {
            let t = Instant::now();
            std::hint::black_box(v.engine.upscale_planes(&x).expect("run"));
            v.ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let f32_ms = variants[0].ms.clone();
    println!(
        "{name}: {n}x{n} -> {}x{} ({:.3} GMAC), {} rounds",
        4 * o.size,
        4 * o.size,
        macs as f64 / 1e9,
        o.rounds,
        n = o.size
    );
    println!(
        "  {:<28} {:>9} {:>9} {:>16}",
        "variant", "median ms", "GMAC/s", "÷ f32 path (med)"
    );
    for v in &mut variants {
        let mut ratio: Vec<f64> = v.ms.iter().zip(&f32_ms).map(|(a, b)| a / b).collect();
        let ratio = median(&mut ratio);
        let ms = median(&mut v.ms.clone());
        let gmacs = macs as f64 / (ms * 1e-3) / 1e9;
        println!("  {:<28} {ms:>9.1} {gmacs:>9.1} {ratio:>16.3}", v.name);
        out.push(serde_json::json!({
            "model": name, "size": o.size, "variant": v.name, "threads": v.threads,
            "median_ms": ms, "gmacs": gmacs, "ratio_to_f32": ratio, "ms": v.ms,
        }));
    }
}

fn main() {
    let o = opts();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/models");
    let mut out = Vec::new();
    for file in ["espcn-8bit.qnm", "quantnas-basic-b-mixed48.qnm"] {
        let path = format!("{root}/{file}");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let model = Model::from_bytes(&bytes).expect("bundled model");
        bench_model(&format!("{file} (trained)"), model, &o, &mut out);
    }
    let random = Model::random(Arch::Espcn { bits: Bits::B8 }, 7).expect("random model");
    bench_model("espcn 8-bit (random weights)", random, &o, &mut out);
    if let Some(path) = &o.json {
        std::fs::write(path, serde_json::to_string_pretty(&out).expect("json")).expect("write");
    }
}
