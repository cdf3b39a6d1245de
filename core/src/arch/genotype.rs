//! A genotype: the op and bit width chosen for every slot of a search space.
//!
//! JSON form (validated on load, errors name the slot):
//! ```json
//! {"format": "quantnas-genotype", "version": 1, "space": "basic-b", "residual": "adq",
//!  "slots": [{"slot": "head.h1", "op": "simple_3x3", "bits": 8}, ...]}
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::bits::Bits;
use super::error::ArchError;
use super::op::Op;
use super::space::{Residual, SearchSpace, Slot};

/// The `format` field of genotype files.
pub const GENOTYPE_FORMAT: &str = "quantnas-genotype";
/// The genotype file version this build writes and reads.
pub const GENOTYPE_VERSION: u32 = 1;

/// What a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Choice {
    /// The chosen op (one of the slot's candidates).
    pub op: Op,
    /// Its bit width.
    pub bits: Bits,
}

/// Op and bits per slot of a space, plus the residual wrapping used around cells.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "GenotypeFile", into = "GenotypeFile")]
pub struct Genotype {
    /// The space the slots belong to.
    pub space: SearchSpace,
    /// Residual wrapping (ADQ by default).
    pub residual: Residual,
    /// One choice per slot, in `space.slots()` order.
    pub choices: Vec<Choice>,
}

#[derive(Serialize, Deserialize)]
struct SlotEntry {
    slot: String,
    op: String,
    bits: u32,
}

#[derive(Serialize, Deserialize)]
struct GenotypeFile {
    format: String,
    version: u32,
    space: SearchSpace,
    #[serde(default)]
    residual: Residual,
    slots: Vec<SlotEntry>,
}

impl From<Genotype> for GenotypeFile {
    fn from(g: Genotype) -> Self {
        let slots = g
            .space
            .slots()
            .into_iter()
            .zip(&g.choices)
            .map(|(slot, c)| SlotEntry {
                slot: slot.name,
                op: c.op.name(),
                bits: c.bits.get(),
            })
            .collect();
        GenotypeFile {
            format: GENOTYPE_FORMAT.to_string(),
            version: GENOTYPE_VERSION,
            space: g.space,
            residual: g.residual,
            slots,
        }
    }
}

impl TryFrom<GenotypeFile> for Genotype {
    type Error = ArchError;

    fn try_from(file: GenotypeFile) -> Result<Self, Self::Error> {
        if file.format != GENOTYPE_FORMAT || file.version != GENOTYPE_VERSION {
            return Err(ArchError::Format {
                format: file.format,
                version: file.version,
            });
        }
        let space = file.space;
        let slots = space.slots();
        let mut choices = Vec::with_capacity(slots.len());
        for (index, entry) in file.slots.iter().enumerate() {
            let Some(slot) = slots.get(index) else {
                return Err(ArchError::ExtraSlot {
                    space: space.name(),
                    expected: slots.len(),
                    got: file.slots.len(),
                    extra: entry.slot.clone(),
                });
            };
            if entry.slot != slot.name {
                return Err(ArchError::SlotName {
                    index,
                    expected: slot.name.clone(),
                    got: entry.slot.clone(),
                });
            }
            let op: Op = entry.op.parse().map_err(|_| ArchError::UnknownOp {
                slot: slot.name.clone(),
                op: entry.op.clone(),
            })?;
            let bits = Bits::new(entry.bits).ok_or(ArchError::BadBits {
                slot: slot.name.clone(),
                bits: entry.bits,
            })?;
            choices.push(Choice { op, bits });
        }
        if let Some(missing) = slots.get(file.slots.len()) {
            return Err(ArchError::MissingSlot {
                space: space.name(),
                expected: slots.len(),
                got: file.slots.len(),
                missing: missing.name.clone(),
            });
        }
        let g = Genotype {
            space,
            residual: file.residual,
            choices,
        };
        g.validate()?;
        Ok(g)
    }
}

impl Genotype {
    /// A genotype with the same choice in every slot; fails if that op is not a candidate
    /// everywhere.
    pub fn uniform(
        space: SearchSpace,
        residual: Residual,
        op: Op,
        bits: Bits,
    ) -> Result<Self, ArchError> {
        let choices = space.slots().iter().map(|_| Choice { op, bits }).collect();
        let g = Genotype {
            space,
            residual,
            choices,
        };
        g.validate()?;
        Ok(g)
    }

    /// Candidate `index` (modulo each slot's list length) of every slot, at `bits`: always
    /// a member of the space, for tests, examples and uniform baselines.
    pub fn nth_candidates(
        space: SearchSpace,
        residual: Residual,
        index: usize,
        bits: Bits,
    ) -> Self {
        let choices = space
            .slots()
            .iter()
            .map(|s| Choice {
                op: s.candidates[index % s.candidates.len()],
                bits,
            })
            .collect();
        Genotype {
            space,
            residual,
            choices,
        }
    }

    /// Each slot's chosen op as a one-op candidate list: the slots of
    /// [`SearchSpace::slots_with`] (and [`crate::arch::supernet_with`]) that search only
    /// the bit widths of this network.
    pub fn chosen_ops(&self) -> Vec<Vec<Op>> {
        self.choices.iter().map(|c| alloc::vec![c.op]).collect()
    }

    /// Checks slot count and that every op is a candidate of its slot.
    pub fn validate(&self) -> Result<(), ArchError> {
        let slots = self.space.slots();
        if self.choices.len() < slots.len() {
            return Err(ArchError::MissingSlot {
                space: self.space.name(),
                expected: slots.len(),
                got: self.choices.len(),
                missing: slots[self.choices.len()].name.clone(),
            });
        }
        if self.choices.len() > slots.len() {
            return Err(ArchError::ExtraSlot {
                space: self.space.name(),
                expected: slots.len(),
                got: self.choices.len(),
                extra: alloc::format!("#{}", slots.len()),
            });
        }
        for (slot, choice) in slots.iter().zip(&self.choices) {
            if slot.index_of(&choice.op).is_none() {
                return Err(ArchError::OpNotInSlot {
                    slot: slot.name.clone(),
                    op: choice.op.name(),
                    space: self.space.name(),
                });
            }
        }
        Ok(())
    }

    /// Slots paired with their choices.
    pub fn slots(&self) -> impl Iterator<Item = (Slot, Choice)> + '_ {
        self.space
            .slots()
            .into_iter()
            .zip(self.choices.iter().copied())
    }

    /// Parses and validates genotype JSON.
    pub fn from_json(text: &str) -> Result<Self, ArchError> {
        let file: GenotypeFile = serde_json::from_str(text).map_err(|e| ArchError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        Genotype::try_from(file)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_string_pretty(&GenotypeFile::from(self.clone())).unwrap_or_default()
    }

    /// The distinct bit widths used.
    pub fn bit_widths(&self) -> Vec<Bits> {
        let mut b: Vec<Bits> = self.choices.iter().map(|c| c.bits).collect();
        b.sort();
        b.dedup();
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn sample() -> Genotype {
        let slots = SearchSpace::BasicB.slots();
        let choices = slots
            .iter()
            .enumerate()
            .map(|(i, s)| Choice {
                op: s.candidates[i % s.candidates.len()],
                bits: if i % 2 == 0 { Bits::B4 } else { Bits::B8 },
            })
            .collect();
        Genotype {
            space: SearchSpace::BasicB,
            residual: Residual::Adq,
            choices,
        }
    }

    #[test]
    fn json_round_trip() {
        let g = sample();
        let text = g.to_json();
        assert!(text.contains("\"head.h1\""));
        assert_eq!(Genotype::from_json(&text), Ok(g.clone()));
        let via_serde: Genotype = serde_json::from_str(&text).expect("serde path");
        assert_eq!(via_serde, g);
        for space in SearchSpace::ALL {
            let g = Genotype::uniform(
                space,
                Residual::None,
                space.slots()[0].candidates[1],
                Bits::B8,
            );
            // Not every op is a candidate everywhere; when it is, it round-trips.
            if let Ok(g) = g {
                assert_eq!(Genotype::from_json(&g.to_json()), Ok(g));
            }
        }
    }

    fn edit(from: &str, to: &str) -> Result<Genotype, ArchError> {
        let text = sample().to_json();
        assert!(text.contains(from), "{from}");
        Genotype::from_json(&text.replacen(from, to, 1))
    }

    #[test]
    fn validation_errors_name_the_slot() {
        let e = edit("\"op\": \"simple_3x3\"", "\"op\": \"simple_7x9\"").unwrap_err();
        assert!(
            matches!(&e, ArchError::UnknownOp { slot, .. } if slot == "head.h1"),
            "{e}"
        );
        let e = edit("\"bits\": 8", "\"bits\": 16").unwrap_err();
        assert!(
            matches!(&e, ArchError::BadBits { slot, bits: 16 } if slot == "head.h2"),
            "{e}"
        );
        // growth2 exists but is not a candidate of space B.
        let e = edit("\"op\": \"simple_3x3\"", "\"op\": \"growth2_3x3\"").unwrap_err();
        assert!(
            matches!(&e, ArchError::OpNotInSlot { slot, .. } if slot == "head.h1"),
            "{e}"
        );
        let e = edit("\"head.h2\"", "\"head.hx\"").unwrap_err();
        assert!(matches!(&e, ArchError::SlotName { index: 1, .. }), "{e}");
        let e = edit("\"basic-b\"", "\"basic-q\"").unwrap_err();
        assert!(matches!(e, ArchError::Json { .. }), "{e}");
    }

    #[test]
    fn slot_count_mismatch_is_an_error() {
        let mut g = sample();
        g.choices.pop();
        let text = serde_json::to_string(&GenotypeFile {
            format: GENOTYPE_FORMAT.into(),
            version: 1,
            space: g.space,
            residual: g.residual,
            slots: g
                .space
                .slots()
                .into_iter()
                .zip(&g.choices)
                .map(|(s, c)| SlotEntry {
                    slot: s.name,
                    op: c.op.name(),
                    bits: c.bits.get(),
                })
                .collect(),
        })
        .expect("json");
        let e = Genotype::from_json(&text).unwrap_err();
        assert!(
            matches!(&e, ArchError::MissingSlot { missing, expected: 8, got: 7, .. } if missing == "tail.t2"),
            "{e}"
        );
        let rfdn_text = text.replace("basic-b", "rfdn");
        let e = Genotype::from_json(&rfdn_text).unwrap_err();
        assert!(
            matches!(e, ArchError::SlotName { index: 0, .. }),
            "{}",
            format!("{e}")
        );
    }
}
