//! The synthetic input of every engine bench and timer (`benches/infer.rs`,
//! `benches/trained.rs`, `examples/engine_timer.rs`), defined once so that they all time
//! the same image; `web/tests/ort/bench-worker.js` builds the same values in JavaScript.

use quantnas_core::image::Planes;

/// A smooth RGB test image in [0, 1], `h`×`w` (timing does not depend on the content).
pub fn image(h: usize, w: usize) -> Planes {
    let mut data = Vec::with_capacity(3 * h * w);
    for c in 0..3 {
        for y in 0..h {
            for x in 0..w {
                data.push(
                    0.5 + 0.45 * ((x as f32 * 0.05 + c as f32).sin() * (y as f32 * 0.07).cos()),
                );
            }
        }
    }
    Planes::new(3, h, w, data).expect("image")
}
