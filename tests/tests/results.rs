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
