//! `trainer search --fix-ops GENOTYPE`: a bit-only search over a given network (the second
//! stage of the two-fold baseline), run through the binary at a tiny size.

use quantnas_core::arch::{Bits, Genotype, Residual, SearchSpace};

mod common;
use common::{temp_dir, tiny_search_cli as tiny_search, trainer_bin as trainer};

#[test]
fn fix_ops_searches_only_the_bit_widths_of_the_given_network() {
    let dir = temp_dir("fix-ops");
    // A full-precision genotype of Basic A (the first stage's kind of result): candidate 3
    // of every slot, which no plain Basic A argmax of zero alphas would pick.
    let found = Genotype::nth_candidates(SearchSpace::BasicA, Residual::Adq, 3, Bits::B32);
    let fixed = dir.join("found.json");
    std::fs::write(&fixed, found.to_json()).expect("write genotype");
    let fixed_s = fixed.to_str().expect("utf-8 path");

    let run = dir.join("bits");
    let o = tiny_search(
        &run,
        &[
            "--space",
            "basic-a",
            "--bits",
            "4,8",
            "--mode",
            "shared",
            "--fix-ops",
            fixed_s,
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = Genotype::from_json(
        &std::fs::read_to_string(run.join("genotype.json")).expect("genotype.json"),
    )
    .expect("valid genotype");
    assert_eq!(got.space, SearchSpace::BasicA);
    for (g, f) in got.choices.iter().zip(&found.choices) {
        assert_eq!(g.op, f.op, "the ops are the given network's");
        assert!(matches!(g.bits, Bits::B4 | Bits::B8), "{}", g.bits);
    }
    // Each slot has one op at two widths: two alphas per slot in alphas.csv's last epoch.
    let csv = std::fs::read_to_string(run.join("alphas.csv")).expect("alphas.csv");
    let last: Vec<&str> = csv.lines().filter(|l| l.starts_with("2,")).collect();
    assert_eq!(last.len(), 2 * SearchSpace::BasicA.slots().len(), "{csv}");
    // The setting is in config.json, and a resume of the finished search reads it back.
    let config = std::fs::read_to_string(run.join("config.json")).expect("config.json");
    let v: serde_json::Value = serde_json::from_str(&config).expect("json");
    assert_eq!(v["fix_ops"].as_str(), Some(fixed_s), "{config}");
    let run_s = run.to_str().expect("utf-8 path");
    let o = trainer(&["search", "--quiet", "--resume", run_s]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let again = std::fs::read_to_string(run.join("genotype.json")).expect("genotype.json");
    assert_eq!(Genotype::from_json(&again).expect("valid"), got);

    // A genotype of another space, or another residual mode, is refused before any run
    // folder is made.
    for (extra, what) in [
        (&["--space", "basic-b"][..], "space basic-b"),
        (&["--space", "basic-a", "--adq", "none"][..], "--adq none"),
    ] {
        let bad = dir.join("bad");
        let mut args = extra.to_vec();
        args.extend_from_slice(&["--fix-ops", fixed_s]);
        let o = tiny_search(&bad, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert!(
            err.contains("--fix-ops") && err.contains("basic-a") && err.contains(what),
            "{err}"
        );
        assert!(!bad.exists(), "no run folder for refused settings");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
