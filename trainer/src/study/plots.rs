//! The report's SVG plots (plotters' SVG backend).

use std::path::Path;

use anyhow::{Context, Result};
use plotters::prelude::*;

use super::results::{Entry, Setup};
use super::timing::Timing;
use crate::run::dir::write_file_atomic;

/// A labelled series of `(x, y)` points.
type Series = (String, Vec<(f64, f64)>);

/// File name of the PSNR–BitOps plot in the study folder.
pub const PARETO_SVG: &str = "set14_vs_gbitops.svg";

/// Points `(gbitops, psnr)` that no other point beats on both (fewer or equal BitOps and
/// higher PSNR), by increasing BitOps.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut sorted = points.to_vec();
    // Equal BitOps: the better PSNR first, so the worse one is dropped.
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let mut front: Vec<(f64, f64)> = Vec::new();
    for p in sorted {
        if front.last().is_none_or(|l| p.1 > l.1) {
            front.push(p);
        }
    }
    front
}

/// The series of the plot: one per method (QuantNAS's variants each apart), in order of
/// first appearance, with their runs' `(gbitops, set14 psnr)`.
fn series(entries: &[Entry]) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for e in entries {
        let Some(s) = e.set14 else { continue };
        let config = &e.setup;
        let label = match config.method {
            super::plan::Method::Quantnas => config.label(),
            other => other.name().to_string(),
        };
        match out.iter_mut().find(|(l, _)| *l == label) {
            Some((_, v)) => v.push((e.gbitops, s.psnr)),
            None => out.push((label, vec![(e.gbitops, s.psnr)])),
        }
    }
    out
}

/// A range around `v` with some room at both ends.
fn span(v: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let lo = v.clone().fold(f64::INFINITY, f64::min);
    let hi = v.fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(0.05);
    (lo - pad, hi + pad)
}

/// Set14 PSNR against GBitOps at 32×32, every run a point, each method's Pareto front a
/// line; written to `dir/`[`PARETO_SVG`].
///
/// # Errors
/// An unwritable file, or a drawing error.
pub fn pareto_plot(dir: &Path, entries: &[Entry]) -> Result<()> {
    let chart = Chart {
        caption: "x4 Set14 PSNR vs GBitOps @ 32×32 LR",
        x_desc: "GBitOps at 32×32 LR",
        y_desc: "Set14 Y-PSNR (dB)",
        points: true,
    };
    draw(
        &dir.join(PARETO_SVG),
        &chart,
        &series(entries),
        pareto_front,
    )
}

/// File name of the alpha-dynamics plot in the study folder.
pub const ALPHAS_SVG: &str = "alpha_dynamics.svg";

/// The epochs' mean largest softmax probability of every QuantNAS search with SAN, ADQ
/// and bits {4, 8} (the entropy coefficient and penalty free), from its `metrics.csv`: how
/// fast the alphas settle on one choice with and without entropy regularisation (the
/// paper's Fig. 9 shows the alphas themselves; each run's `search/alphas.svg` has them).
///
/// # Errors
/// An unreadable `metrics.csv`.
fn alpha_series(study: &Path, entries: &[Entry]) -> Result<Vec<Series>> {
    let mut out = Vec::new();
    for e in entries {
        let c = &e.setup;
        let varied_entropy_only = Setup {
            entropy: Some(1.0),
            ..c.clone()
        }
        .is_headline();
        if !varied_entropy_only {
            continue;
        }
        let Some(run) = Path::new(&e.model).parent() else {
            continue;
        };
        let file = study.join(run).join("search").join("metrics.csv");
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
        let col = |name: &str| header.iter().position(|h| *h == name);
        let (Some(ep), Some(mp)) = (col("epoch"), col("max_prob")) else {
            anyhow::bail!("{} has no epoch and max_prob columns", file.display());
        };
        let mut pts = Vec::new();
        for line in lines {
            let f: Vec<&str> = line.split(',').collect();
            let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
            if let (Some(x), Some(y)) = (num(ep), num(mp)) {
                pts.push((x, y));
            }
        }
        let label = format!(
            "entropy {} η={} seed {}",
            c.entropy.unwrap_or(0.0),
            c.penalty.unwrap_or(0.0),
            e.seed
        );
        out.push((label, pts));
    }
    Ok(out)
}

/// The alpha-dynamics plot (`alpha_series`), written to `dir/`[`ALPHAS_SVG`].
///
/// # Errors
/// An unreadable `metrics.csv`, an unwritable file, or a drawing error.
pub fn alpha_plot(dir: &Path, entries: &[Entry]) -> Result<()> {
    let chart = Chart {
        caption: "Search: mean largest softmax probability per epoch",
        x_desc: "epoch",
        y_desc: "mean max softmax over slots",
        points: false,
    };
    draw(
        &dir.join(ALPHAS_SVG),
        &chart,
        &alpha_series(dir, entries)?,
        <[(f64, f64)]>::to_vec,
    )
}

/// File name of the search-step timing plot in the study folder.
pub const TIMING_SVG: &str = "search_timing.svg";

/// Milliseconds per search iteration against the number of searched bit widths, one
/// series per mixing mode (the paper's Fig. 8), written to `dir/`[`TIMING_SVG`].
///
/// # Errors
/// An unwritable file, or a drawing error.
pub fn timing_plot(dir: &Path, timing: &Timing) -> Result<()> {
    let mut all: Vec<Series> = Vec::new();
    for r in &timing.rows {
        let p = (r.widths as f64, r.ms_per_iter);
        match all.iter_mut().find(|(l, _)| *l == r.mode) {
            Some((_, v)) => v.push(p),
            None => all.push((r.mode.clone(), vec![p])),
        }
    }
    let chart = Chart {
        caption: "Search iteration time vs searched bit widths",
        x_desc: "number of searched bit widths",
        y_desc: "ms per search iteration",
        points: true,
    };
    draw(&dir.join(TIMING_SVG), &chart, &all, <[(f64, f64)]>::to_vec)
}

/// Titles of a plot, and whether its series are points (else lines).
struct Chart {
    caption: &'static str,
    x_desc: &'static str,
    y_desc: &'static str,
    points: bool,
}

/// Draws `all` (labelled series of points) to `path`: points with the line `line` makes
/// of each series (when it has two points or more), or lines alone.
fn draw(
    path: &Path,
    chart: &Chart,
    all: &[Series],
    line: impl Fn(&[(f64, f64)]) -> Vec<(f64, f64)>,
) -> Result<()> {
    let points = || all.iter().flat_map(|(_, v)| v.iter().copied());
    let (x0, x1) = span(points().map(|p| p.0));
    let (y0, y1) = span(points().map(|p| p.1));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (820, 540)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut c = ChartBuilder::on(&root)
            .caption(chart.caption, ("sans-serif", 20))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        c.configure_mesh()
            .x_desc(chart.x_desc)
            .y_desc(chart.y_desc)
            .draw()?;
        for (i, (label, pts)) in all.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let l = line(pts);
            if chart.points {
                c.draw_series(
                    pts.iter()
                        .map(|&(x, y)| Circle::new((x, y), 4, color.filled())),
                )?
                .label(label.as_str())
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
                if l.len() > 1 {
                    c.draw_series(LineSeries::new(l, color.stroke_width(2)))?;
                }
            } else {
                c.draw_series(LineSeries::new(l, color.stroke_width(2)))?
                    .label(label.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                    });
            }
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
        root.present()?;
    }
    write_file_atomic(path, svg.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_keeps_what_nothing_beats() {
        let f = pareto_front(&[
            (2.0, 27.0),
            (1.0, 26.0),
            (3.0, 26.5),
            (2.0, 26.8),
            (4.0, 27.5),
        ]);
        assert_eq!(f, [(1.0, 26.0), (2.0, 27.0), (4.0, 27.5)]);
    }
}
