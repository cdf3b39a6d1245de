//! A search killed after a checkpoint and resumed ends exactly where an uninterrupted
//! search with the same seed ends.

use std::path::Path;

use trainer::run::Session;
use trainer::search::config::SearchConfig;
use trainer::search::run::search;
use trainer::settings::Preset;

mod common;
use common::{repo, temp_path, tiny_search};

/// A session without progress output that runs to the end.
fn quiet() -> Session {
    Session::default()
}

#[test]
fn resumed_search_equals_uninterrupted() {
    let config = tiny_search(11);
    let quiet = quiet();
    let a = temp_path("a");
    let full = search(&a, Some(&config), &quiet)
        .expect("search")
        .expect("finished");

    let b = temp_path("b");
    let first = search(
        &b,
        Some(&config),
        &Session {
            progress: false,
            stop_after: Some(2),
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
    let config = SearchConfig {
        train_data: repo("no/such/folder"),
        ..SearchConfig::preset(Preset::Cpu)
    };
    let run = temp_path("bad");
    let err = search(&run, Some(&config), &quiet()).expect_err("missing data");
    assert!(format!("{err:#}").contains("no/such/folder"), "{err:#}");
    let _ = std::fs::remove_dir_all(&run);
}

#[test]
fn same_seed_same_search() {
    let config = tiny_search(11);
    let quiet = quiet();
    let (a, b) = (temp_path("det-a"), temp_path("det-b"));
    search(&a, Some(&config), &quiet).expect("a");
    search(&b, Some(&config), &quiet).expect("b");
    let csv = |run: &Path| std::fs::read_to_string(run.join("alphas.csv")).expect("csv");
    assert_eq!(csv(&a), csv(&b));
}

#[test]
fn a_bitops_budget_moves_the_argmax_under_it() {
    let quiet = quiet();
    let free = temp_path("budget-free");
    let argmax = search(&free, Some(&tiny_search(11)), &quiet)
        .expect("search")
        .expect("finished");
    // One BitOp under the argmax: at least one slot has to move.
    let mut config = tiny_search(11);
    config.max_gbitops = Some((argmax.bitops - 1) as f64 / 1e9);
    let run = temp_path("budget");
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
    // The budgeted search's own argmax (the budget's feedback on the penalty may have
    // moved it from the free search's) is kept, and it is above the budget.
    let kept = std::fs::read_to_string(run.join("genotype_argmax.json")).expect("argmax kept");
    let kept = quantnas_core::arch::Genotype::from_json(&kept).expect("valid");
    let kept_bitops = quantnas_core::cost::reported_bitops(&kept.graph()).expect("cost");
    let budget = argmax.bitops - 1;
    assert!(kept_bitops > budget, "{kept_bitops} vs budget {budget}");
    let log = std::fs::read_to_string(run.join("log.txt")).expect("log");
    assert!(log.contains("budget"), "the moves are logged");
    // A budget must be positive.
    config.max_gbitops = Some(0.0);
    assert!(config.validate().is_err());
    let _ = std::fs::remove_dir_all(&free);
    let _ = std::fs::remove_dir_all(&run);
}
