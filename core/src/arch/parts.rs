//! A genotype described by part (head, body, cells, upsample, tail), for pictures of it:
//! which slots each part holds, and what a drawing of the slots alone leaves out (cells
//! that repeat, the residual wrapping, fixed layers, the pixel shuffle). Written next to
//! the builder so that a picture cannot claim a structure the graph does not have.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use super::bits::Bits;
use super::genotype::Genotype;
use super::space::{BASIC_CELLS, RFDN_CELLS, Residual, SCALE, SearchSpace};

/// One part of a child network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Part {
    /// `head`, `body`, `cell0`, …, `upsample`, `tail`: the first component of its slots'
    /// names.
    pub name: String,
    /// Indices of its slots in `space.slots()` (and in the genotype's choices).
    pub slots: Vec<usize>,
    /// What the part does beyond its slots; `None` when the slots are all there is.
    pub note: Option<String>,
}

impl Residual {
    /// How a branch f of input x is wrapped, for people (spec §4).
    pub fn describe(self) -> &'static str {
        match self {
            Residual::Adq => "ADQ residual f(BN(x))·(γ·σ(x)+β) + x",
            Residual::AdaDm => "AdaDM residual BN(f(BN(x)))·(γ·σ(x)+β) + x",
            Residual::BatchNorm => "batch-norm residual f(BN(x)) + x",
            Residual::None => "plain residual f(x) + x",
        }
    }
}

/// The part a slot belongs to: its name up to the first `.`.
fn part_of(slot: &str) -> &str {
    slot.split_once('.').map_or(slot, |(part, _)| part)
}

/// The note of `part` in `space` with residual mode `residual`, as the builder wires it.
fn note(space: SearchSpace, residual: Residual, part: &str) -> Option<String> {
    let wrap = residual.describe();
    let fixed = Bits::B8;
    match (space, part) {
        (SearchSpace::BasicA | SearchSpace::BasicB, "body") => Some(format!(
            "×{BASIC_CELLS} cells sharing these slots (body1 → body2, plus skip); each cell, and the whole body, {wrap}"
        )),
        (SearchSpace::BasicA | SearchSpace::BasicB, "tail") => {
            Some(format!("{wrap} around the tail"))
        }
        (SearchSpace::Rfdn, "upsample") => Some(format!(
            "after a fixed 1×1 fusion of the {RFDN_CELLS} cells, a fixed 3×3 conv ({fixed}-bit) and the global skip; then PixelShuffle ×{SCALE}"
        )),
        (_, "upsample") => Some(format!("then PixelShuffle ×{SCALE}")),
        (SearchSpace::Rfdn, "tail") => {
            Some(format!("{} around the tail", Residual::None.describe()))
        }
        (SearchSpace::Rfdn, cell) if cell.starts_with("cell") => Some(format!(
            "+ fixed 1×1 fusion and ESA ({fixed}-bit); {wrap} around the cell"
        )),
        _ => None,
    }
}

impl Genotype {
    /// The parts of this genotype's network, in slot order; every slot is in exactly one.
    pub fn parts(&self) -> Vec<Part> {
        let mut parts: Vec<Part> = Vec::new();
        for (index, slot) in self.space.slots().iter().enumerate() {
            let name = part_of(&slot.name);
            match parts.last_mut() {
                Some(last) if last.name == name => last.slots.push(index),
                _ => parts.push(Part {
                    name: String::from(name),
                    slots: alloc::vec![index],
                    note: note(self.space, self.residual, name),
                }),
            }
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{NodeKind, SearchSpace};

    #[test]
    fn parts_cover_every_slot_once_in_order() {
        for space in SearchSpace::ALL {
            for residual in Residual::ALL {
                let g = Genotype::nth_candidates(space, residual, 0, Bits::B8);
                let flat: Vec<usize> = g.parts().iter().flat_map(|p| p.slots.clone()).collect();
                let all: Vec<usize> = (0..space.slots().len()).collect();
                assert_eq!(flat, all, "{space} {residual:?}");
            }
        }
        let names: Vec<String> =
            Genotype::nth_candidates(SearchSpace::BasicB, Residual::Adq, 0, Bits::B4)
                .parts()
                .into_iter()
                .map(|p| p.name)
                .collect();
        assert_eq!(names, ["head", "body", "upsample", "tail"]);
        let rfdn = Genotype::nth_candidates(SearchSpace::Rfdn, Residual::None, 0, Bits::B4).parts();
        assert_eq!(rfdn.len(), RFDN_CELLS + 2);
    }

    #[test]
    fn notes_follow_the_residual_mode_and_the_graph() {
        for residual in Residual::ALL {
            let g = Genotype::nth_candidates(SearchSpace::BasicB, residual, 1, Bits::B4);
            let parts = g.parts();
            let body = parts[1].note.clone().expect("body note");
            assert!(body.contains(residual.describe()), "{body}");
            assert_eq!(body.contains("ADQ"), residual == Residual::Adq, "{body}");
            // The cell count the note states is the graph's.
            let graph = g.graph();
            let cells = graph
                .nodes
                .iter()
                .filter(|n| n.name.starts_with("cell") && n.name.ends_with(".sum"))
                .count();
            assert_eq!(cells, BASIC_CELLS);
            assert!(body.starts_with(&format!("×{cells} cells")), "{body}");
            // ADQ wraps every cell, the body and the tail: as many ADQ nodes as the notes
            // say, and none in the other modes.
            let adq = graph
                .nodes
                .iter()
                .filter(|n| matches!(n.kind, NodeKind::Adq { .. }))
                .count();
            let wrapped = if matches!(residual, Residual::Adq | Residual::AdaDm) {
                cells + 2
            } else {
                0
            };
            assert_eq!(adq, wrapped, "{residual:?}");
            assert!(
                parts[3]
                    .note
                    .as_deref()
                    .is_some_and(|n| n.contains(residual.describe()))
            );
        }
    }
}
