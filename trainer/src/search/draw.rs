//! Pictures and tables of a search: the alpha softmax over epochs (paper Fig. 9), the
//! genotype as a network diagram coloured by bit width (paper Fig. 17/18), and the
//! `alphas.csv` table. Plain SVG written by hand: no plotting dependency.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use quantnas_core::arch::{Bits, Genotype, Slot};
use quantnas_core::cost::CostReport;

use super::alphas::SearchBits;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Rewrites `alphas.csv` with every epoch so far: `epoch,slot,op,bits,prob` rows, plus the
/// raw alpha of the latest epoch in column `alpha` (empty for earlier epochs).
///
/// # Errors
/// An unwritable file.
pub fn write_alpha_csv(
    path: &Path,
    slots: &[Slot],
    bits: &SearchBits,
    history: &[Vec<Vec<f32>>],
    alphas: &[Vec<f32>],
    epoch: usize,
) -> Result<()> {
    let mut s = String::from("epoch,slot,op,bits,alpha,prob\n");
    for (e, probs) in history.iter().enumerate() {
        let last = e + 1 == epoch;
        for (slot, p) in slots.iter().zip(probs) {
            for (i, prob) in p.iter().enumerate() {
                let op = slot.candidates[i / bits.len()];
                let b = bits.0[i % bits.len()];
                let alpha = if last {
                    format!(
                        "{:.6}",
                        alphas[slots.iter().position(|x| x.name == slot.name).unwrap_or(0)][i]
                    )
                } else {
                    String::new()
                };
                let _ = writeln!(
                    s,
                    "{},{},{},{},{},{:.6}",
                    e + 1,
                    slot.name,
                    op,
                    b,
                    alpha,
                    prob
                );
            }
        }
    }
    std::fs::write(path, s).with_context(|| format!("cannot write {}", path.display()))
}

/// Small multiples, one panel per slot: the probability of each (op, bit) pair over the
/// epochs; line colour = op, dashes = bit width.
pub fn alpha_plot(slots: &[Slot], bits: &SearchBits, history: &[Vec<Vec<f32>>]) -> String {
    const PALETTE: [&str; 12] = [
        "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
        "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6",
    ];
    let cols = 4usize.min(slots.len().max(1));
    let rows = slots.len().div_ceil(cols);
    let (pw, ph) = (260.0, 170.0);
    let (w, h) = (cols as f64 * pw + 20.0, rows as f64 * ph + 40.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="10">"#
    );
    let _ = write!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><text x="10" y="18" font-size="14">Softmax of the alphas per slot over the epochs (solid: first bit width, dashed: others)</text>"#
    );
    let epochs = history.len();
    for (k, slot) in slots.iter().enumerate() {
        let (ox, oy) = (10.0 + (k % cols) as f64 * pw, 30.0 + (k / cols) as f64 * ph);
        let (iw, ih) = (pw - 120.0, ph - 45.0);
        let _ = write!(
            s,
            r#"<g transform="translate({ox},{oy})"><text x="0" y="10" font-weight="bold">{}</text>"#,
            escape(&slot.name)
        );
        let _ = write!(
            s,
            r##"<rect x="0" y="16" width="{iw}" height="{ih}" fill="none" stroke="#999"/>"##
        );
        let n = slot.candidates.len() * bits.len();
        for i in 0..n {
            let colour = PALETTE[(i / bits.len()) % PALETTE.len()];
            let dash = if i % bits.len() == 0 {
                ""
            } else {
                r#" stroke-dasharray="4 2""#
            };
            let pts: Vec<String> = history
                .iter()
                .enumerate()
                .map(|(e, probs)| {
                    let x = if epochs > 1 {
                        e as f64 / (epochs - 1) as f64 * iw
                    } else {
                        iw / 2.0
                    };
                    let p = probs.get(k).and_then(|p| p.get(i)).copied().unwrap_or(0.0) as f64;
                    format!("{x:.1},{:.1}", 16.0 + ih - p * ih)
                })
                .collect();
            let _ = write!(
                s,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5"{dash} points="{}"/>"#,
                pts.join(" ")
            );
        }
        for (o, op) in slot.candidates.iter().enumerate() {
            let y = 24.0 + o as f64 * 11.0;
            let _ = write!(
                s,
                r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="2"/><text x="{}" y="{}">{}</text>"#,
                iw + 6.0,
                iw + 18.0,
                PALETTE[o % PALETTE.len()],
                iw + 21.0,
                y + 3.0,
                escape(&op.name())
            );
        }
        let _ = write!(
            s,
            r#"<text x="0" y="{}">0</text><text x="{}" y="{}">epoch {epochs}</text></g>"#,
            ph - 16.0,
            iw - 40.0,
            ph - 16.0
        );
    }
    s.push_str("</svg>");
    s
}

/// The genotype as a chain of boxes, one per slot, coloured by bit width, with the op
/// name, the slot's share of BitOps, and the totals.
pub fn genotype_svg(g: &Genotype, report: &CostReport) -> String {
    let slots: Vec<_> = g.slots().collect();
    let per_row = 4usize;
    let (bw, bh, gap) = (190.0, 54.0, 26.0);
    let rows = slots.len().div_ceil(per_row);
    let (w, h) = (
        per_row as f64 * (bw + gap) + 20.0,
        rows as f64 * (bh + gap) + 90.0,
    );
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><text x="10" y="20" font-size="15">{} genotype ({}): {:.3} GBitOps @32×32, {} params</text>"#,
        g.space,
        g.residual.name(),
        report.bitops as f64 / 1e9,
        report.params
    );
    for (i, (slot, choice)) in slots.iter().enumerate() {
        let (x, y) = (
            10.0 + (i % per_row) as f64 * (bw + gap),
            36.0 + (i / per_row) as f64 * (bh + gap),
        );
        let share: u64 = report
            .layers
            .iter()
            .filter(|l| l.slot == Some(i))
            .map(|l| l.bitops)
            .sum();
        let _ = write!(
            s,
            r#"<rect x="{x}" y="{y}" width="{bw}" height="{bh}" rx="6" fill="{}" fill-opacity="0.85"/><text x="{}" y="{}" fill="white" font-weight="bold">{}</text><text x="{}" y="{}" fill="white">{} · {} bit</text><text x="{}" y="{}" fill="white" font-size="10">{:.1}% of BitOps</text>"#,
            choice.bits.colour(),
            x + 8.0,
            y + 16.0,
            escape(&slot.name),
            x + 8.0,
            y + 32.0,
            escape(&choice.op.name()),
            choice.bits,
            x + 8.0,
            y + 47.0,
            100.0 * share as f64 / report.bitops.max(1) as f64
        );
        if i + 1 < slots.len() && (i + 1) % per_row != 0 {
            let _ = write!(
                s,
                r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#444" stroke-width="2"/>"##,
                x + bw,
                y + bh / 2.0,
                x + bw + gap,
                y + bh / 2.0
            );
        }
    }
    let ly = h - 30.0;
    for (k, b) in [Bits::B4, Bits::B8, Bits::B32].iter().enumerate() {
        let x = 10.0 + k as f64 * 110.0;
        let _ = write!(
            s,
            r#"<rect x="{x}" y="{ly}" width="16" height="16" fill="{}"/><text x="{}" y="{}">{} bit</text>"#,
            b.colour(),
            x + 22.0,
            ly + 13.0,
            b
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use quantnas_core::arch::{Residual, SearchSpace};
    use quantnas_core::cost::cost;

    #[test]
    fn pictures_are_well_formed_and_shares_add_up() {
        let space = SearchSpace::BasicB;
        let g = Genotype::nth_candidates(space, Residual::Adq, 1, Bits::B4);
        let r = cost(&g.graph(), 32, 32).expect("cost");
        let svg = genotype_svg(&g, &r);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 1 + 8 + 3);
        // Every layer is attributed to exactly one slot box: the shares sum to 100 %.
        let total: u64 = (0..space.slots().len())
            .map(|i| {
                r.layers
                    .iter()
                    .filter(|l| l.slot == Some(i))
                    .map(|l| l.bitops)
                    .sum::<u64>()
            })
            .sum();
        assert_eq!(total, r.bitops);
        let bits = SearchBits::parse("4,8").expect("bits");
        let hist = vec![
            space
                .slots()
                .iter()
                .map(|s| vec![1.0 / (2 * s.candidates.len()) as f32; 2 * s.candidates.len()])
                .collect::<Vec<_>>();
            3
        ];
        let plot = alpha_plot(&space.slots(), &bits, &hist);
        assert_eq!(
            plot.matches("<polyline").count(),
            space
                .slots()
                .iter()
                .map(|s| 2 * s.candidates.len())
                .sum::<usize>()
        );
    }
}
