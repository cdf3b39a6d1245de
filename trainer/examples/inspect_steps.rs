#![allow(clippy::unwrap_used, missing_docs)]
use burn::tensor::Device;
fn main() {
    let run = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let (net, _, st) = trainer::export::load_run(&run, "last", &Device::flex()).unwrap();
    println!("step {}", st.step);
    for c in &net.convs {
        let s = c.steps().unwrap().into_data().try_into_vec::<f32>().unwrap();
        let w = c.weight.val().into_data().try_into_vec::<f32>().unwrap();
        let neg = s.iter().filter(|v| **v <= 0.0).count();
        let mean_abs_w = w.iter().map(|v| v.abs()).sum::<f32>() / w.len() as f32;
        let smin = s.iter().cloned().fold(f32::MAX, f32::min);
        let smax = s.iter().cloned().fold(f32::MIN, f32::max);
        println!("conv: {} steps, {neg} <= 0, min {smin:.5} max {smax:.5}, mean|w| {mean_abs_w:.4}", s.len());
    }
}
