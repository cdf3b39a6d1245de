//! What a SIGKILL can leave behind, made in-process, and the resume that must recover from
//! it: no checkpoint yet, a half-written checkpoint, rows and files written after the last
//! checkpoint, a folder a start left before its config, a retraining of another genotype.
//! (`scripts/kill-resume.sh` kills real processes at several moments.)
#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

use std::fs;
use std::path::Path;

use trainer::run::dir::{cut_csv, cut_log, has_config};
use trainer::search::run::search;
use trainer::train::folder::{METRICS_HEADER, create, read_config};
use trainer::train::{Session, TrainConfig, parse_arch, resume, start};

mod common;
use common::{repo, temp_dir, tiny_search, tiny_train};

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// metrics.csv without its last column (the wall time).
fn metrics(run: &Path) -> Vec<String> {
    read(&run.join("metrics.csv"))
        .lines()
        .map(|l| l.rsplit_once(',').map_or(l, |(h, _)| h).to_string())
        .collect()
}

/// The tensor data of a burnpack file: what follows its header ("NRUB", u16 version, u32
/// metadata length, metadata), whose parameter ids are random in every process.
fn tensors(p: &Path) -> Vec<u8> {
    let b = fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert_eq!(&b[..4], b"NRUB", "{}", p.display());
    let meta = u32::from_le_bytes(b[6..10].try_into().unwrap()) as usize;
    b[10 + meta..].to_vec()
}

/// The run in `run` equals the uninterrupted `full`: metrics rows and checkpoint weights
/// (the optimiser file is keyed by those random ids: its tensors come in another order).
fn same_run(full: &Path, run: &Path) {
    assert_eq!(
        metrics(full),
        metrics(run),
        "metrics.csv of {}",
        run.display()
    );
    for f in ["checkpoints/last/model.bpk", "checkpoints/best/model.bpk"] {
        assert!(
            tensors(&full.join(f)) == tensors(&run.join(f)),
            "{f} of {}",
            run.display()
        );
    }
}

fn stopped(run: &Path, config: &TrainConfig, after: u64) {
    let s = Session {
        stop_after: Some(after),
        ..Session::default()
    };
    assert_eq!(start(run, config, &s).unwrap().steps, after);
}

#[test]
fn cut_csv_keeps_the_header_and_rows_up_to_the_step() {
    let dir = temp_dir("csv");
    let p = dir.join("m.csv");
    fs::write(&p, "step,x\n50,a\n100,b\n150,c\n1").unwrap();
    cut_csv(&p, "step,x", 100).unwrap();
    assert_eq!(read(&p), "step,x\n50,a\n100,b\n");
    // Idempotent, and a partial last line (a kill mid-write) goes even when in range.
    fs::write(&p, "step,x\n50,a\n10").unwrap();
    cut_csv(&p, "step,x", 100).unwrap();
    assert_eq!(read(&p), "step,x\n50,a\n");
    cut_csv(&p, "step,x", 0).unwrap();
    assert_eq!(read(&p), "step,x\n");
    // A file a kill kept from being written gets its header.
    let missing = dir.join("none.csv");
    cut_csv(&missing, METRICS_HEADER, 7).unwrap();
    assert_eq!(read(&missing), format!("{METRICS_HEADER}\n"));
    // The log is cut to a byte length; `None` (an old checkpoint) keeps it.
    let log = dir.join("log.txt");
    fs::write(&log, "one\ntwo\n").unwrap();
    cut_log(&log, None).unwrap();
    assert_eq!(read(&log), "one\ntwo\n");
    cut_log(&log, Some(4)).unwrap();
    assert_eq!(read(&log), "one\n");
    cut_log(&dir.join("no-log.txt"), Some(0)).unwrap();
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn train_resumes_from_whatever_a_kill_left() {
    let root = temp_dir("train");
    let config = tiny_train(&root, 110, 40);
    let quiet = Session::default();
    let full = root.join("full");
    assert_eq!(start(&full, &config, &quiet).unwrap().steps, 110);
    assert_eq!(
        metrics(&full)
            .iter()
            .skip(1)
            .map(|r| r.split(',').next().unwrap().to_string())
            .collect::<Vec<_>>(),
        ["40", "50", "80", "100", "110"]
    );

    // Killed before the first checkpoint, after a metrics row: starts afresh, the row is
    // written once.
    let early = root.join("early");
    stopped(&early, &config, 35);
    assert!(!early.join("checkpoints/last").exists());
    fs::write(
        early.join("metrics.csv"),
        format!("{METRICS_HEADER}\n30,1e-3,0.1,0.2,,,0.5\n34,1"),
    )
    .unwrap();
    assert_eq!(resume(&early, &quiet).unwrap().steps, 110);
    same_run(&full, &early);
    let log = read(&early.join("log.txt"));
    assert_eq!(log.matches("session start at step 0 ").count(), 1, "{log}");

    // Killed after a row written past the last checkpoint (100, checkpoint at 80), with a
    // sample of a later validation: both are cut.
    let late = root.join("late");
    stopped(&late, &config, 105);
    fs::write(late.join("samples/step000120_0.png"), b"x").unwrap();
    assert_eq!(resume(&late, &quiet).unwrap().steps, 110);
    same_run(&full, &late);
    assert!(!late.join("samples/step000120_0.png").exists());
    let log = read(&late.join("log.txt"));
    assert!(!log.contains("session end at step 105"), "{log}");
    assert!(
        log.contains("resumed from the checkpoint at step 80"),
        "{log}"
    );

    // Killed while saving: the previous checkpoint is `.last.old` (between the two
    // renames) next to a half-written `.last.tmp`; the torn copy is never read.
    let torn = root.join("torn");
    stopped(&torn, &config, 85);
    let ck = torn.join("checkpoints");
    fs::rename(ck.join("last"), ck.join(".last.old")).unwrap();
    fs::create_dir_all(ck.join(".last.tmp")).unwrap();
    fs::write(ck.join(".last.tmp/model.bpk"), b"half").unwrap();
    assert_eq!(resume(&torn, &quiet).unwrap().steps, 110);
    same_run(&full, &torn);
    assert!(!ck.join(".last.old").exists() && !ck.join(".last.tmp").exists());

    // Killed during the very first save: only a half-written `.last.tmp`, no checkpoint.
    let first = root.join("first");
    stopped(&first, &config, 30);
    let ck = first.join("checkpoints");
    fs::create_dir_all(ck.join(".last.tmp")).unwrap();
    fs::write(ck.join(".last.tmp/model.bpk"), b"half").unwrap();
    assert_eq!(resume(&first, &quiet).unwrap().steps, 110);
    same_run(&full, &first);

    // A finished run: resuming it changes nothing.
    let before = metrics(&full);
    assert_eq!(resume(&full, &quiet).unwrap().steps, 110);
    assert_eq!(metrics(&full), before);

    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_start_killed_before_its_config_can_be_run_again() {
    let root = temp_dir("blank");
    let config = tiny_train(&root, 110, 40);
    let run = root.join("run");
    // What a start leaves before config.json is in place.
    fs::create_dir_all(run.join("checkpoints")).unwrap();
    fs::create_dir_all(run.join("samples")).unwrap();
    fs::write(run.join(".config.json.tmp"), b"{\"arch\":").unwrap();
    assert!(!has_config(&run));
    let e = resume(&run, &Session::default()).unwrap_err();
    assert!(format!("{e:#}").contains("not a run folder"), "{e:#}");
    create(&run, &config).unwrap();
    assert_eq!(read_config(&run).unwrap(), config);
    // Once it holds a run, a new start refuses it.
    let e = create(&run, &config).unwrap_err();
    assert!(format!("{e:#}").contains("--resume"), "{e:#}");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn search_resumes_from_whatever_a_kill_left() {
    let config = tiny_search(5);
    let quiet = Session::default();
    let stop1 = Session {
        progress: false,
        stop_after: Some(2),
    };
    let root = temp_dir("search");
    let full = root.join("full");
    let want = search(&full, Some(&config), &quiet).unwrap().unwrap();
    let files = |run: &Path| {
        let mut v = vec![metrics(run), vec![read(&run.join("alphas.csv"))]];
        v.push(vec![read(&run.join("genotype.json"))]);
        let mut g: Vec<String> = fs::read_dir(run.join("genotypes"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        g.sort();
        v.push(g);
        v
    };

    // Killed after epoch 2's row and genotype but before its checkpoint (epoch 1's).
    let late = root.join("late");
    assert!(search(&late, Some(&config), &stop1).unwrap().is_none());
    let row = metrics(&full)[2].clone() + ",1.0\n";
    let mut m = read(&late.join("metrics.csv"));
    m.push_str(&row);
    fs::write(late.join("metrics.csv"), m).unwrap();
    fs::write(late.join("genotypes/epoch_002.json"), "{").unwrap();
    let got = search(&late, None, &quiet).unwrap().unwrap();
    assert_eq!(got.genotype, want.genotype);
    assert_eq!(files(&full), files(&late));

    // Killed before the first checkpoint (its files written, the checkpoint not yet).
    let early = root.join("early");
    assert!(search(&early, Some(&config), &stop1).unwrap().is_none());
    fs::remove_dir_all(early.join("checkpoints/last")).unwrap();
    let got = search(&early, None, &quiet).unwrap().unwrap();
    assert_eq!(got.genotype, want.genotype);
    assert_eq!(files(&full), files(&early));
    let log = read(&early.join("log.txt"));
    assert_eq!(log.matches("search started").count(), 1, "{log}");

    // A finished search: resuming it gives the same result and rows.
    let again = search(&full, None, &quiet).unwrap().unwrap();
    assert_eq!(again.genotype, want.genotype);
    assert_eq!(files(&full)[0], metrics(&late));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn pipeline_refuses_a_retraining_of_another_genotype() {
    let root = temp_dir("pipeline");
    let genotype = repo("web/models/quantnas-basic-b-mixed48.genotype.json");
    let arch = parse_arch(&genotype.to_string_lossy(), None).unwrap();
    let mut config = tiny_train(&root, 110, 40);
    config.arch = arch.clone();
    let train = root.join("retrain");
    create(&train, &config).unwrap();
    trainer::pipeline::check_train_arch(&train, &arch).unwrap();
    // The same genotype at other bit widths is another network.
    let other = parse_arch(&genotype.to_string_lossy(), Some(8)).unwrap();
    assert_ne!(other, arch);
    let e = trainer::pipeline::check_train_arch(&train, &other).unwrap_err();
    assert!(
        format!("{e:#}").contains("not the search's genotype"),
        "{e:#}"
    );
    let espcn = parse_arch("espcn", Some(8)).unwrap();
    assert!(trainer::pipeline::check_train_arch(&train, &espcn).is_err());
    fs::remove_dir_all(&root).unwrap();
}
