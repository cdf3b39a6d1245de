//! The training loop end to end on tiny data: a killed-and-resumed run reaches exactly
//! the state of an uninterrupted one; a non-finite loss stops a step without touching
//! the model.
#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

use std::fs;
use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use quantnas_core::image::RgbImage8;
use trainer::data::Batch;
use trainer::nn::{Network, Upscaler};
use trainer::train::folder;
use trainer::train::{Learner, Session, TrainConfig, parse_arch, resume, start};

mod common;
use common::{temp_path, tiny_train};

fn load_last(run: &Path, config: &TrainConfig) -> Network {
    let m = Network::init(&config.arch.graph(), 99, &Device::flex()).unwrap();
    folder::load(run, "last", m, None).unwrap().0
}

fn params(m: &Network) -> Vec<f32> {
    let mut v = Vec::new();
    for c in &m.fixed.convs {
        v.extend(c.weight.val().into_data().try_into_vec::<f32>().unwrap());
        if let Some(s) = c.steps() {
            v.extend(s.into_data().try_into_vec::<f32>().unwrap());
        }
    }
    v
}

#[test]
fn resume_reaches_the_uninterrupted_state() {
    let root = temp_path("resume");
    let config = tiny_train(&root, 6, 3);
    let quiet = Session::default();
    let full = start(&root.join("full"), &config, &quiet).unwrap();
    assert_eq!(full.steps, 6);
    let killed = start(
        &root.join("killed"),
        &config,
        &Session {
            stop_after: Some(4),
            ..quiet.clone()
        },
    )
    .unwrap();
    assert_eq!(killed.steps, 4);
    // Steps after the last checkpoint (3) are lost with the "kill" and redone.
    let resumed = resume(&root.join("killed"), &quiet).unwrap();
    assert_eq!(resumed.steps, 6);
    let (a, b) = (
        load_last(&root.join("full"), &config),
        load_last(&root.join("killed"), &config),
    );
    let (pa, pb) = (params(&a), params(&b));
    assert!(!pa.is_empty());
    assert_eq!(pa, pb, "weights and LSQ steps after resume");
    let fresh = params(&Network::init(&config.arch.graph(), config.seed, &Device::flex()).unwrap());
    assert_ne!(pa, fresh, "training changed the weights");
    assert_eq!(full.best_psnr, resumed.best_psnr);
    // The run folder has everything the issue asks for.
    for f in [
        "config.json",
        "log.txt",
        "metrics.csv",
        "checkpoints/best/model.bpk",
        "checkpoints/last/optim.bpk",
    ] {
        assert!(root.join("full").join(f).is_file(), "{f}");
    }
    assert!(fs::read_dir(root.join("full/samples")).unwrap().count() > 0);
    // A new run refuses an existing folder.
    assert!(start(&root.join("full"), &config, &quiet).is_err());
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn non_finite_loss_stops_the_step() {
    let dev = Device::flex().autodiff();
    let arch = parse_arch("espcn", Some(8)).unwrap();
    let model = Network::init(&arch.graph(), 3, &dev).unwrap();
    let before = params(&model);
    let mut learner = Learner::new(model, dev, 5.0);
    let mut lr = vec![0.5f32; 3 * 4 * 4];
    lr[0] = f32::NAN;
    let batch = Batch {
        index: 0,
        n: 1,
        lr_size: 4,
        hr_size: 16,
        lr,
        hr: vec![f32::NAN; 3 * 16 * 16],
    };
    let e = learner.step(&batch, 1e-3).unwrap_err();
    assert!(format!("{e}").contains("loss became NaN"), "{e}");
    assert_eq!(params(&learner.model), before);
}

#[test]
fn upscaler_matches_batch_forward() {
    let dev = Device::flex();
    let arch = parse_arch("espcn", Some(4)).unwrap();
    let model = Network::init(&arch.graph(), 3, &dev).unwrap();
    let img = RgbImage8::new(5, 4, (0..60).map(|v| (v * 4) as u8).collect()).unwrap();
    let up = Upscaler::new(&model, &dev);
    let sr = up.upscale(&img).unwrap();
    assert_eq!((sr.width, sr.height), (20, 16));
    let x = Tensor::<4>::from_data(TensorData::new(img.to_planes().data, [1, 3, 4, 5]), &dev);
    let y = model.forward(x).into_data().try_into_vec::<f32>().unwrap();
    let p = up.forward_planes(&img.to_planes()).unwrap();
    assert_eq!(p.data, y);
}
