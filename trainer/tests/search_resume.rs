//! A search killed after a checkpoint and resumed ends exactly where an uninterrupted
//! search with the same seed ends.

use std::path::{Path, PathBuf};

use trainer::search::config::{SearchConfig, SearchOverrides};
use trainer::search::run::{Session, search};
use trainer::train::config::Preset;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

fn tiny() -> SearchConfig {
    let o = SearchOverrides {
        epochs: Some(3),
        iters_per_epoch: Some(2),
        batch: Some(2),
        lr_size: Some(8),
        train_data: Some(repo("data/Set5")),
        val_data: Some(repo("data/Set5")),
        workers: Some(1),
        seed: Some(11),
        ..Default::default()
    };
    let mut c = SearchConfig::resolve(Preset::Cpu, &o).expect("config");
    c.val_crop = 8;
    c
}

/// A session without progress output that runs to the end.
fn quiet() -> Session {
    Session {
        quiet: true,
        stop_at: None,
    }
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("qn-search-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn resumed_search_equals_uninterrupted() {
    let config = tiny();
    let quiet = quiet();
    let a = temp("a");
    let full = search(&a, Some(&config), &quiet)
        .expect("search")
        .expect("finished");

    let b = temp("b");
    let first = search(
        &b,
        Some(&config),
        &Session {
            quiet: true,
            stop_at: Some(2),
        },
    )
    .expect("first session");
    assert!(first.is_none(), "the first session stops after epoch 1");
    let resumed = search(&b, None, &quiet).expect("resume").expect("finished");

    assert_eq!(resumed.genotype, full.genotype);
    // alphas.csv holds every slot's softmax after each epoch and the final raw alphas:
    // bit for bit the same.
    let read = |run: &Path, f: &str| std::fs::read_to_string(run.join(f)).expect(f);
    let (ca, cb) = (read(&a, "alphas.csv"), read(&b, "alphas.csv"));
    assert_eq!(ca.lines().count(), cb.lines().count());
    for (i, (la, lb)) in ca.lines().zip(cb.lines()).enumerate() {
        assert_eq!(la, lb, "alphas.csv line {}", i + 1);
    }
    // metrics.csv: one row per epoch, the same in every column but the wall time.
    let rows = |run: &Path| -> Vec<String> {
        read(run, "metrics.csv")
            .lines()
            .map(|l| match l.rsplit_once(',') {
                Some((head, _elapsed)) => head.to_string(),
                None => l.to_string(),
            })
            .collect()
    };
    let (ra, rb) = (rows(&a), rows(&b));
    assert!(
        ra[0].ends_with("max_prob"),
        "the last column is the wall time: {}",
        ra[0]
    );
    assert_eq!(ra.len(), 1 + 3, "header and one row per epoch");
    assert_eq!(ra, rb);
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn bad_settings_are_clear_errors() {
    let o = SearchOverrides {
        train_data: Some(repo("no/such/folder")),
        ..Default::default()
    };
    let config = SearchConfig::resolve(Preset::Cpu, &o).expect("config resolves");
    let run = temp("bad");
    let err = search(&run, Some(&config), &quiet()).expect_err("missing data");
    assert!(format!("{err:#}").contains("no/such/folder"), "{err:#}");
    let _ = std::fs::remove_dir_all(&run);
}

#[test]
fn same_seed_same_search() {
    let config = tiny();
    let quiet = quiet();
    let (a, b) = (temp("det-a"), temp("det-b"));
    search(&a, Some(&config), &quiet).expect("a");
    search(&b, Some(&config), &quiet).expect("b");
    let csv = |run: &Path| std::fs::read_to_string(run.join("alphas.csv")).expect("csv");
    assert_eq!(csv(&a), csv(&b));
}

#[test]
fn a_bitops_budget_moves_the_argmax_under_it() {
    let quiet = quiet();
    let free = temp("budget-free");
    let argmax = search(&free, Some(&tiny()), &quiet)
        .expect("search")
        .expect("finished");
    // One BitOp under the argmax: at least one slot has to move.
    let mut config = tiny();
    config.max_gbitops = Some((argmax.bitops - 1) as f64 / 1e9);
    let run = temp("budget");
    let got = search(&run, Some(&config), &quiet)
        .expect("search")
        .expect("finished");
    assert!(
        got.bitops < argmax.bitops,
        "{} vs {}",
        got.bitops,
        argmax.bitops
    );
    assert_ne!(got.genotype, argmax.genotype);
    let kept = std::fs::read_to_string(run.join("genotype_argmax.json")).expect("argmax kept");
    assert_eq!(
        quantnas_core::arch::Genotype::from_json(&kept).expect("valid"),
        argmax.genotype
    );
    let log = std::fs::read_to_string(run.join("log.txt")).expect("log");
    assert!(log.contains("budget"), "the moves are logged");
    // A budget must be positive.
    config.max_gbitops = Some(0.0);
    assert!(config.validate().is_err());
    let _ = std::fs::remove_dir_all(&free);
    let _ = std::fs::remove_dir_all(&run);
}
