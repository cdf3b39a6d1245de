//! `trainer study` end to end on the bundled tiny plan: it runs every run and writes the
//! results, report and plot; a second invocation skips every finished run (it says so
//! and touches none of their files); a run whose last stages were lost is finished again
//! to the same numbers; the same seed gives the same entry in another study folder; bad
//! plans are refused with the field named.
#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use common::{repo, temp_dir};
use serde_json::Value;

/// Runs the trainer binary in the repository root (the plans' data paths are relative
/// to it).
fn trainer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .current_dir(repo(""))
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn study(plan: &[&str], dir: &Path) -> String {
    let mut args = vec!["study"];
    args.extend_from_slice(plan);
    args.extend(["--out", dir.to_str().unwrap(), "--quiet"]);
    ok(&trainer(&args))
}

/// Modification times of every run's `run.json` and `model.qnm`.
fn stamps(dir: &Path) -> Vec<(PathBuf, SystemTime)> {
    let mut v = Vec::new();
    for run in fs::read_dir(dir.join("runs")).unwrap() {
        let run = run.unwrap().path();
        for f in ["run.json", "model.qnm"] {
            let p = run.join(f);
            v.push((p.clone(), fs::metadata(&p).unwrap().modified().unwrap()));
        }
    }
    v.sort();
    v
}

/// The genotype of a `results.json` entry.
fn read_entry_genotype(e: &Value) -> quantnas_core::arch::Genotype {
    quantnas_core::arch::Genotype::from_json(&e["genotype"].to_string()).unwrap()
}

#[test]
fn the_tiny_study_runs_skips_resumes_and_reproduces() {
    let root = temp_dir("study");
    let a = root.join("a");
    let first = study(&["--plan", "tiny"], &a);
    assert_eq!(first.matches("finished ").count(), 7, "{first}");

    let text = fs::read_to_string(a.join("results.json")).unwrap();
    let results: Vec<Value> = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = results
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "quantnas-s1",
            "quantnas-s2",
            "quantnas-shared-s1",
            "espcn-8-s1",
            "random-s1",
            "two-fold-s1",
            "edmips-rfdn-s1"
        ]
    );
    for e in &results {
        for key in [
            "method", "space", "bits", "mode", "residual", "penalty", "entropy", "seed",
            "genotype", "model", "gbitops", "params", "set5", "set14", "b100",
        ] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
        assert!(a.join(e["model"].as_str().unwrap()).is_file());
        assert!(e["set14"]["psnr"].as_f64().unwrap() > 0.0);
        assert!(e["gbitops"].as_f64().unwrap() > 0.0);
        // The tiny plan evaluates Set5 and Set14 only.
        assert!(e["b100"].is_null());
    }
    assert_eq!(results[2]["mode"], "shared");
    assert_eq!(results[3]["method"], "uniform");
    assert!(results[3]["genotype"].is_null());
    // The random network was drawn at its target (within 2 %) and keeps its genotype.
    assert_eq!(results[4]["method"], "random");
    assert!((results[4]["gbitops"].as_f64().unwrap() / 2.5 - 1.0).abs() <= 0.02);
    assert!(results[4]["genotype"]["slots"].is_array());
    // Two-fold: the bit-only search kept the full-precision search's ops, at 4 and 8 bits.
    assert_eq!(results[5]["method"], "two-fold");
    assert_eq!(results[5]["space"], "basic-a");
    assert_eq!(results[5]["mode"], "shared");
    let run = a
        .join(results[5]["model"].as_str().unwrap())
        .parent()
        .unwrap()
        .to_path_buf();
    let read = |p: &Path| {
        quantnas_core::arch::Genotype::from_json(&fs::read_to_string(p).unwrap()).unwrap()
    };
    let (ops, found) = (
        read(&run.join("ops/genotype.json")),
        read(&run.join("search/genotype.json")),
    );
    assert_eq!(found, read_entry_genotype(&results[5]));
    for (o, f) in ops.choices.iter().zip(&found.choices) {
        assert_eq!((o.op, o.bits.get()), (f.op, 32));
        assert!([4, 8].contains(&f.bits.get()), "{}", f.bits);
    }
    // EdMIPS: the bit-only search kept RFDN's ops, at 4 and 8 bits.
    assert_eq!(results[6]["method"], "edmips");
    assert_eq!(results[6]["space"], "rfdn");
    assert_eq!(results[6]["mode"], "shared");
    let rfdn = quantnas_core::arch::rfdn_genotype(quantnas_core::arch::Bits::B8);
    let found = read_entry_genotype(&results[6]);
    assert_eq!(found.choices.len(), rfdn.choices.len());
    for (o, f) in rfdn.choices.iter().zip(&found.choices) {
        assert_eq!(o.op, f.op);
        assert!([4, 8].contains(&f.bits.get()), "{}", f.bits);
    }
    // The numbers are the run's evaluation file's.
    let model = a.join(results[0]["model"].as_str().unwrap());
    let eval: Value = serde_json::from_str(
        &fs::read_to_string(model.parent().unwrap().join("eval/Set14.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(eval["mean_psnr"], results[0]["set14"]["psnr"]);
    let report = fs::read_to_string(a.join("report.md")).unwrap();
    assert!(report.contains("## Claims"), "{report}");
    // Bicubic's published Set5 figure (28.42 dB; this project's evaluation gives 28.43).
    assert!(report.contains("Set5 28.4"), "{report}");
    assert!(
        report.contains("| holds |")
            || report.contains("does not hold at this scale")
            || report.contains("within the seeds' spread: no verdict")
    );
    assert!(report.contains("not run yet"));
    let svg = fs::read_to_string(a.join("set14_vs_gbitops.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.matches("<circle").count() >= 5);
    // The two headline searches' alpha dynamics, one line each.
    let alphas = fs::read_to_string(a.join("alpha_dynamics.svg")).unwrap();
    assert!(alphas.matches("<polyline").count() >= 2, "{alphas}");
    assert!(report.contains("(alpha_dynamics.svg)"));
    // Fig. 8: every mode timed at each of the plan's bit sets, drawn, in the report and
    // in the claims table (a verdict or an undecided one, never "not run").
    let timing_text = fs::read_to_string(a.join("search_timing.json")).unwrap();
    let timing: Value = serde_json::from_str(&timing_text).unwrap();
    let rows = timing["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6, "{timing_text}");
    for (r, (bits, widths)) in rows.iter().zip([
        ("4", 1),
        ("4", 1),
        ("4", 1),
        ("2,3,4,8", 4),
        ("2,3,4,8", 4),
        ("2,3,4,8", 4),
    ]) {
        assert_eq!(
            (r["bits"].as_str().unwrap(), r["widths"].as_u64().unwrap()),
            (bits, widths)
        );
        assert!(r["ms_per_iter"].as_f64().unwrap() > 0.0, "{r}");
    }
    assert_eq!(rows[0]["mode"], "shared");
    assert_eq!(rows[0]["vs_shared"], 1.0);
    let plot = fs::read_to_string(a.join("search_timing.svg")).unwrap();
    assert_eq!(
        plot.matches("<circle").count(),
        6 + 3,
        "six points, three legend marks"
    );
    assert!(report.contains("## Search step time vs searched bit widths (Fig. 8)"));
    let fig8 = report
        .lines()
        .find(|l| l.starts_with("| SAN is up to 30 %"))
        .expect("the Fig. 8 claim");
    assert!(
        fig8.contains("bits {2,3,4,8}") && !fig8.ends_with("not run yet |"),
        "{fig8}"
    );

    // Again: every run is skipped, no run's files are written, the timing is kept.
    let before = stamps(&a);
    let second = study(&["--plan", "tiny"], &a);
    assert_eq!(second.matches("skipped ").count(), 7, "{second}");
    assert!(!second.contains("finished "), "{second}");
    assert_eq!(stamps(&a), before);
    assert_eq!(fs::read_to_string(a.join("results.json")).unwrap(), text);
    // (measured again, its milliseconds would differ)
    assert_eq!(
        fs::read_to_string(a.join("search_timing.json")).unwrap(),
        timing_text
    );

    // A run that lost its last stages (as after a kill between training and its results
    // entry) is finished again, to the same numbers.
    let uniform = a.join(results[3]["model"].as_str().unwrap());
    let uniform = uniform.parent().unwrap();
    fs::remove_file(uniform.join("run.json")).unwrap();
    fs::remove_file(uniform.join("model.qnm")).unwrap();
    // ... and its git-ignored folders, as a clone of a committed run folder has it: it
    // trains again from its first step.
    for sub in ["checkpoints", "samples"] {
        fs::remove_dir_all(uniform.join("train").join(sub)).unwrap();
    }
    // The report of the runs finished so far names the one to come; nothing runs.
    let partial = study(&["--plan", "tiny", "--report-only"], &a);
    assert!(
        partial.contains("report of 6 finished runs of 7"),
        "{partial}"
    );
    assert!(!uniform.join("run.json").exists());
    let report = fs::read_to_string(a.join("report.md")).unwrap();
    assert!(
        report.contains("6 of 7 runs finished; not run yet: espcn-8-s1"),
        "{report}"
    );
    let listed: Vec<Value> =
        serde_json::from_str(&fs::read_to_string(a.join("results.json")).unwrap()).unwrap();
    assert_eq!(listed.len(), 6);
    assert!(listed.iter().all(|e| e["name"] != "espcn-8-s1"));
    let third = study(&["--plan", "tiny"], &a);
    assert_eq!(third.matches("skipped ").count(), 6, "{third}");
    assert!(third.contains("finished espcn-8-s1"), "{third}");
    assert_eq!(fs::read_to_string(a.join("results.json")).unwrap(), text);

    // Published for the page: the headline front and the uniform run, with their
    // evaluation files, listed after the page's own networks; an old publication goes.
    let models = root.join("models");
    fs::create_dir_all(&models).unwrap();
    fs::write(
        models.join("manifest.json"),
        r#"{"format":"quantnas-web-models","version":1,"models":[{"file":"own.qnm","title":"own","description":"d"},{"file":"study-old.qnm","title":"old","description":"d"}]}"#,
    )
    .unwrap();
    fs::write(models.join("study-old.qnm"), b"old").unwrap();
    // Left by an earlier publication that was killed: overwritten, not kept.
    fs::write(models.join("study-espcn-8-s1.qnm"), b"stale").unwrap();
    let out = study(
        &[
            "--plan",
            "tiny",
            "--report-only",
            "--publish",
            models.to_str().unwrap(),
        ],
        &a,
    );
    assert!(out.contains("published "), "{out}");
    assert!(!models.join("study-old.qnm").exists());
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(models.join("manifest.json")).unwrap()).unwrap();
    let files: Vec<&str> = manifest["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["file"].as_str().unwrap())
        .collect();
    assert_eq!(files[0], "own.qnm");
    assert!(files.contains(&"study-espcn-8-s1.qnm"), "{files:?}");
    assert!(
        files.iter().any(|f| f.starts_with("study-quantnas-s")),
        "{files:?}"
    );
    assert!(
        !files.contains(&"study-quantnas-shared-s1.qnm"),
        "{files:?}"
    );
    for f in &files[1..] {
        let name = f.trim_start_matches("study-").trim_end_matches(".qnm");
        let e = results.iter().find(|e| e["name"] == name).unwrap();
        assert_eq!(
            fs::read(models.join(f)).unwrap(),
            fs::read(a.join(e["model"].as_str().unwrap())).unwrap()
        );
        let eval: Value = serde_json::from_str(
            &fs::read_to_string(models.join(format!("study-{name}.set14.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(eval["mean_psnr"], e["set14"]["psnr"]);
    }
    assert_eq!(
        fs::read_to_string(models.join("results.json")).unwrap(),
        text
    );

    // The same seed in another study folder: the same entry (the first experiment of the
    // tiny plan, alone).
    let tiny = fs::read_to_string(repo("trainer/plans/tiny.toml")).unwrap();
    let cut = tiny.match_indices("[[experiment]]").nth(1).unwrap().0;
    let one = tiny[..cut].replace("seeds = [1, 2]", "seeds = [1]");
    let plan = root.join("one.toml");
    fs::write(&plan, one).unwrap();
    let b = root.join("b");
    study(&[plan.to_str().unwrap()], &b);
    let again: Vec<Value> =
        serde_json::from_str(&fs::read_to_string(b.join("results.json")).unwrap()).unwrap();
    assert_eq!(again, results[..1].to_vec());
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn bad_plans_are_refused_with_the_field_named() {
    let root = temp_dir("study-bad");
    let cases = [
        (
            "[[experiment]]\nname = \"q\"\nmethod = \"quantnas\"\nsearch = { penalti = 0.1 }\n",
            "unknown field `penalti` in [search]",
        ),
        (
            "[[experiment]]\nname = \"q\"\nmethod = \"quantnas\"\nseed = 3\n",
            "unknown field `seed`",
        ),
        (
            "[[experiment]]\nname = \"q\"\nmethod = \"quantnas\"\nsearch = { mode = \"sane\" }\n",
            "invalid value for `mode` in [search]",
        ),
        (
            "[[experiment]]\nname = \"q\"\nmethod = \"quantnas\"\nsearch = { epochs = 0 }\n",
            "--epochs must be at least 1",
        ),
        (
            "[[experiment]]\nname = \"e\"\nmethod = \"uniform\"\narch = \"espcn\"\nbits = 6\n",
            "bits",
        ),
        (
            "[[experiment]]\nname = \"r\"\nmethod = \"random\"\n",
            "needs `target_gbitops`",
        ),
        (
            "[[experiment]]\nname = \"e\"\nmethod = \"edmips\"\narch = \"espcn\"\n",
            "EdMIPS over espcn is not available",
        ),
        (
            "[[experiment]]\nname = \"e\"\nmethod = \"edmips\"\n",
            "needs `arch`",
        ),
        (
            "[[experiment]]\nname = \"e\"\nmethod = \"edmips\"\narch = \"rfdn\"\nsearch = { space = \"basic-b\" }\n",
            "[search] space: an edmips search is over the fixed network",
        ),
    ];
    for (i, (plan, message)) in cases.iter().enumerate() {
        let file = root.join(format!("bad{i}.toml"));
        fs::write(&file, plan).unwrap();
        let out = trainer(&[
            "study",
            file.to_str().unwrap(),
            "--out",
            root.join("out").to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "accepted {plan}");
        assert!(err.contains(message), "{plan}: {err}");
        assert!(!root.join("out").exists(), "a refused plan ran nothing");
    }
    let _ = fs::remove_dir_all(&root);
}
