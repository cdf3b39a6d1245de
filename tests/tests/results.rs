//! The numbers people read come from evaluation files, and only from test sets.
//!
//! README's results table names each row's evaluation files (`web/models/STEM`, read as
//! `STEM.<dataset>.json`, the output of `trainer eval --json`); every PSNR / SSIM cell must
//! equal the file's mean rounded as printed, and every GBitOps cell the model's cost from
//! core. No reported dataset may be the one a model picked its checkpoint on (the `.qnm`
//! metadata's `val_data`): that cell must read `—`. The page's manifest carries no figures
//! of its own.
#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use quantnas_core::cost::{REPORT_LR_SIDE, cost};
use quantnas_core::model::Model;
use serde_json::Value;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The rows of the first markdown table after `## Results`, as cells.
fn results_table(readme: &str) -> Vec<Vec<String>> {
    let section = readme
        .split("\n## Results")
        .nth(1)
        .expect("README has a ## Results section");
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// The dataset a column reports (`Set14 ×4 PSNR / SSIM` → `Set14`).
fn column_dataset(header: &str) -> Option<&str> {
    header
        .contains("PSNR")
        .then(|| header.split_whitespace().next())
        .flatten()
}

/// `web/models/STEM` named in backticks in a row's first cell.
fn row_stem(cell: &str) -> Option<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .find(|s| s.starts_with("web/models/") && !s.contains('.'))
        .map(str::to_string)
}

#[test]
fn readme_results_are_the_evaluation_files() {
    let rows = results_table(&read(&repo("README.md")));
    let (header, body) = rows.split_first().expect("a header row");
    let body = &body[1..]; // the |---| row
    let sets: Vec<(usize, &str)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| column_dataset(h).map(|d| (i, d)))
        .collect();
    assert!(!sets.is_empty(), "no PSNR column in {header:?}");
    let gbitops_col = header.iter().position(|h| h.contains("GBitOps"));
    let mut checked = 0;
    for row in body {
        let stem = row_stem(&row[0])
            .unwrap_or_else(|| panic!("row {:?} names no `web/models/STEM`", row[0]));
        let qnm = repo(&format!("{stem}.qnm"));
        let model = qnm
            .is_file()
            .then(|| Model::from_bytes(&std::fs::read(&qnm).unwrap()).unwrap());
        for &(col, set) in &sets {
            let val = model
                .as_ref()
                .and_then(|m| m.meta["val_data"].as_str())
                .unwrap_or("");
            if val.ends_with(set) {
                assert_eq!(
                    row[col], "—",
                    "{stem} picked its checkpoint on {val}: {set} is not a test set for it"
                );
                continue;
            }
            let file = repo(&format!("{stem}.{}.json", set.to_lowercase()));
            let eval: Value = serde_json::from_str(&read(&file)).unwrap();
            let (psnr, ssim) = (
                eval["mean_psnr"].as_f64().unwrap(),
                eval["mean_ssim"].as_f64().unwrap(),
            );
            assert_eq!(
                row[col],
                format!("{psnr:.2} / {ssim:.4}"),
                "{stem} on {set}: README vs {}",
                file.display()
            );
            let dataset = eval["dataset"].as_str().unwrap();
            assert!(
                dataset.ends_with(set),
                "{} evaluates {dataset}, not {set}",
                file.display()
            );
            checked += 1;
        }
        if let (Some(col), Some(m)) = (gbitops_col, &model) {
            let g = cost(&m.arch.graph(), REPORT_LR_SIDE, REPORT_LR_SIDE)
                .unwrap()
                .bitops as f64
                / 1e9;
            assert_eq!(row[col], format!("{g:.2}"), "{stem}: GBitOps @32×32");
        }
    }
    assert!(checked >= 6, "only {checked} cells checked");
}

#[test]
fn the_manifest_has_no_figures_of_its_own() {
    let manifest: Value = serde_json::from_str(&read(&repo("web/models/manifest.json"))).unwrap();
    for m in manifest["models"].as_array().unwrap() {
        let d = m["description"].as_str().unwrap();
        assert!(
            !d.contains(" dB"),
            "{}: PSNR figures belong in the evaluation files, not the description: {d}",
            m["file"]
        );
    }
}

/// A score in `results.json` (`{psnr, ssim}` or null).
fn score(v: &Value) -> Option<(f64, f64)> {
    Some((v["psnr"].as_f64()?, v["ssim"].as_f64()?))
}

/// The study's results.json: every entry's model is committed, costs what the entry says
/// (core's counting) and re-evaluates, on core's engine, to the entry's Set5 and Set14
/// scores (B100 too for the models the page bundles, below: it is most of the time).
#[test]
fn every_study_model_re_evaluates_to_its_results_entry() {
    let study = repo("docs/study");
    let runs: Vec<Value> = serde_json::from_str(&read(&study.join("results.json"))).unwrap();
    assert!(!runs.is_empty());
    for e in &runs {
        let name = e["name"].as_str().unwrap();
        let qnm = study.join(e["model"].as_str().unwrap());
        let model = Model::from_bytes(&std::fs::read(&qnm).unwrap()).unwrap();
        let g = cost(&model.arch.graph(), REPORT_LR_SIDE, REPORT_LR_SIDE)
            .unwrap()
            .bitops as f64
            / 1e9;
        assert!(
            (g - e["gbitops"].as_f64().unwrap()).abs() < 1e-9,
            "{name}: {g} GBitOps"
        );
        for set in ["Set5", "Set14"] {
            let Some((psnr, ssim)) = score(&e[set.to_lowercase()]) else {
                continue;
            };
            let r = trainer::eval::evaluate(
                qnm.to_str().unwrap(),
                &repo(&format!("data/{set}")),
                quantnas_core::arch::SCALE,
            )
            .unwrap();
            assert!(
                (r.mean_psnr - psnr).abs() < 1e-9 && (r.mean_ssim - ssim).abs() < 1e-9,
                "{name} on {set}: {} / {} re-evaluated, {psnr} / {ssim} in results.json",
                r.mean_psnr,
                r.mean_ssim
            );
        }
    }
}

/// The page's study networks (`web/models/study-*`, from `trainer study --publish`) are
/// the study's own files: the same model bytes, evaluation files of the same scores (B100
/// re-evaluated here), and the study's results.json beside them.
#[test]
fn the_pages_study_networks_are_the_studys() {
    let study = repo("docs/study");
    let runs: Vec<Value> = serde_json::from_str(&read(&study.join("results.json"))).unwrap();
    assert_eq!(
        read(&repo("web/models/results.json")),
        read(&study.join("results.json")),
        "web/models/results.json is not docs/study's (trainer study --publish web/models)"
    );
    let manifest: Value = serde_json::from_str(&read(&repo("web/models/manifest.json"))).unwrap();
    let mut bundled = 0;
    for m in manifest["models"].as_array().unwrap() {
        let file = m["file"].as_str().unwrap();
        let Some(name) = file
            .strip_prefix("study-")
            .and_then(|f| f.strip_suffix(".qnm"))
        else {
            continue;
        };
        let e = runs
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{file} is no run of docs/study/results.json"));
        let qnm = study.join(e["model"].as_str().unwrap());
        assert!(
            std::fs::read(repo(&format!("web/models/{file}"))).unwrap()
                == std::fs::read(&qnm).unwrap(),
            "{file} differs from {}",
            qnm.display()
        );
        for set in ["Set5", "Set14", "B100"] {
            let Some((psnr, ssim)) = score(&e[set.to_lowercase()]) else {
                continue;
            };
            let eval: Value = serde_json::from_str(&read(&repo(&format!(
                "web/models/study-{name}.{}.json",
                set.to_lowercase()
            ))))
            .unwrap();
            assert_eq!(
                (eval["mean_psnr"].as_f64(), eval["mean_ssim"].as_f64()),
                (Some(psnr), Some(ssim)),
                "{file} on {set}"
            );
        }
        if let Some((psnr, _)) = score(&e["b100"]) {
            let r = trainer::eval::evaluate(
                qnm.to_str().unwrap(),
                &repo("data/B100"),
                quantnas_core::arch::SCALE,
            )
            .unwrap();
            assert!((r.mean_psnr - psnr).abs() < 1e-9, "{name} on B100");
        }
        bundled += 1;
    }
    assert!(bundled >= 4, "only {bundled} study networks in the page");
}
