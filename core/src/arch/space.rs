//! Search spaces (spec §2.2–2.3): their slots and the candidate ops of each slot.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::ArchError;
use super::op::Op;

/// Block width C of the Basic space.
pub const BASIC_WIDTH: usize = 36;
/// Number of body cells of the Basic space (they share one genotype).
pub const BASIC_CELLS: usize = 3;
/// Block width C of the RFDN space.
pub const RFDN_WIDTH: usize = 48;
/// Number of RFDB-like cells of the RFDN space (each with its own genotype).
pub const RFDN_CELLS: usize = 4;
/// Upscaling factor of every network here.
pub const SCALE: usize = 4;

/// A search space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SearchSpace {
    /// Basic space with the big candidate lists (full-precision search, App. J-B).
    #[serde(rename = "basic-a")]
    BasicA,
    /// Basic space with the small candidate lists (quantized search, App. J-C).
    #[serde(rename = "basic-b")]
    BasicB,
    /// RFDN-like space, 4 cells with their own slots.
    #[serde(rename = "rfdn")]
    Rfdn,
}

/// One searchable layer position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Stable name, e.g. `body.skip` or `cell2.body1`.
    pub name: String,
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Block width used by multi-conv ops.
    pub width: usize,
    /// Candidate ops, in the order their alphas are laid out.
    pub candidates: Vec<Op>,
}

impl Slot {
    fn new(name: String, cin: usize, cout: usize, width: usize, candidates: &[Op]) -> Slot {
        Slot {
            name,
            cin,
            cout,
            width,
            candidates: candidates.to_vec(),
        }
    }

    /// Position of `op` in the candidate list.
    pub fn index_of(&self, op: &Op) -> Option<usize> {
        self.candidates.iter().position(|c| c == op)
    }
}

const fn s(k: usize) -> Op {
    Op::simple(k)
}
const fn g3(k: usize) -> Op {
    Op::grouped(k, 3)
}
const fn g2(k: usize) -> Op {
    Op::grouped(k, 2)
}

const B_HEAD: [Op; 4] = [s(3), s(5), g3(3), g3(5)];
const B_BODY: [Op; 4] = [Op::separable(5), Op::separable(3), s(3), s(5)];
const B_SKIP: [Op; 3] = [s(1), s(3), s(5)];
const B_UPSAMPLE: [Op; 4] = [Op::separable(5), Op::separable(3), s(3), s(5)];
const B_TAIL: [Op; 3] = [s(1), s(3), s(5)];

const A_HEAD_TAIL: [Op; 8] = [
    s(3),
    s(5),
    Op::growth2(5),
    Op::growth2(3),
    g3(3),
    g3(5),
    g3(1),
    s(1),
];
const A_BODY: [Op; 7] = [
    s(3),
    s(5),
    g3(3),
    g3(5),
    Op::decenc(3),
    Op::decenc(5),
    g3(1),
];
const A_SKIP: [Op; 4] = [Op::decenc(3), Op::decenc(5), s(3), s(5)];
const A_UPSAMPLE: [Op; 12] = [
    Op::separable(5),
    Op::separable(3),
    s(3),
    s(5),
    Op::growth2(5),
    Op::growth2(3),
    Op::decenc(3),
    Op::decenc(5),
    g3(3),
    g3(5),
    g3(1),
    s(1),
];

const R_BODY: [Op; 9] = [
    s(1),
    s(3),
    s(5),
    Op::growth1(1),
    Op::growth1(3),
    Op::growth1(5),
    g2(1),
    g2(3),
    g2(5),
];
const R_TAIL: [Op; 6] = [
    s(1),
    s(3),
    s(5),
    Op::growth1(1),
    Op::growth1(3),
    Op::growth1(5),
];

impl SearchSpace {
    /// Every space.
    pub const ALL: [SearchSpace; 3] = [SearchSpace::BasicA, SearchSpace::BasicB, SearchSpace::Rfdn];

    /// Name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            SearchSpace::BasicA => "basic-a",
            SearchSpace::BasicB => "basic-b",
            SearchSpace::Rfdn => "rfdn",
        }
    }

    /// Block width C.
    pub fn width(self) -> usize {
        match self {
            SearchSpace::BasicA | SearchSpace::BasicB => BASIC_WIDTH,
            SearchSpace::Rfdn => RFDN_WIDTH,
        }
    }

    /// Every op some slot of this space offers, each once, in order of first appearance
    /// (slot by slot, candidate by candidate).
    pub fn ops(self) -> Vec<Op> {
        let mut ops: Vec<Op> = Vec::new();
        for op in self.slots().into_iter().flat_map(|s| s.candidates) {
            if !ops.contains(&op) {
                ops.push(op);
            }
        }
        ops
    }

    /// The slots of this space with slot `s` offering only `candidates[s]`, in that order
    /// (the alpha layout of a search over them): e.g. one op per slot, the ops a
    /// full-precision search found, for a bit-only search over that network (spec §9,
    /// two-fold). Cells that share a slot share its list.
    ///
    /// # Errors
    /// A list count that is not the space's slot count, an empty list, an op listed twice
    /// or one that is not a candidate of its slot.
    pub fn slots_with(self, candidates: &[Vec<Op>]) -> Result<Vec<Slot>, ArchError> {
        let mut slots = self.slots();
        if let Some(missing) = slots.get(candidates.len()) {
            return Err(ArchError::MissingSlot {
                space: self.name(),
                expected: slots.len(),
                got: candidates.len(),
                missing: missing.name.clone(),
            });
        }
        if candidates.len() > slots.len() {
            return Err(ArchError::ExtraSlot {
                space: self.name(),
                expected: slots.len(),
                got: candidates.len(),
                extra: format!("#{}", slots.len()),
            });
        }
        for (slot, list) in slots.iter_mut().zip(candidates) {
            if list.is_empty() {
                return Err(ArchError::Candidates {
                    slot: slot.name.clone(),
                    reason: "no candidate ops",
                });
            }
            for (i, op) in list.iter().enumerate() {
                if list[..i].contains(op) {
                    return Err(ArchError::Candidates {
                        slot: slot.name.clone(),
                        reason: "an op is listed twice",
                    });
                }
                if slot.index_of(op).is_none() {
                    return Err(ArchError::OpNotInSlot {
                        slot: slot.name.clone(),
                        op: op.name(),
                        space: self.name(),
                    });
                }
            }
            slot.candidates = list.clone();
        }
        Ok(slots)
    }

    /// The slots of this space, in genotype order.
    pub fn slots(self) -> Vec<Slot> {
        let c = self.width();
        let out = 3 * SCALE * SCALE;
        match self {
            SearchSpace::BasicA | SearchSpace::BasicB => {
                let a = self == SearchSpace::BasicA;
                let lists: [&[Op]; 5] = if a {
                    [&A_HEAD_TAIL, &A_BODY, &A_SKIP, &A_UPSAMPLE, &A_HEAD_TAIL]
                } else {
                    [&B_HEAD, &B_BODY, &B_SKIP, &B_UPSAMPLE, &B_TAIL]
                };
                let [head, body, skip, up, tail] = lists;
                alloc::vec![
                    Slot::new("head.h1".into(), 3, c, c, head),
                    Slot::new("head.h2".into(), c, c, c, head),
                    Slot::new("body.body1".into(), c, c, c, body),
                    Slot::new("body.body2".into(), c, c, c, body),
                    Slot::new("body.skip".into(), c, c, c, skip),
                    Slot::new("upsample".into(), c, out, c, up),
                    Slot::new("tail.t1".into(), 3, c, c, tail),
                    Slot::new("tail.t2".into(), c, 3, c, tail),
                ]
            }
            SearchSpace::Rfdn => {
                let half = c / 2;
                let mut slots = Vec::new();
                for cell in 0..RFDN_CELLS {
                    for i in 0..3 {
                        slots.push(Slot::new(
                            format!("cell{cell}.skip{i}"),
                            c,
                            half,
                            c,
                            &R_BODY,
                        ));
                        slots.push(Slot::new(format!("cell{cell}.body{i}"), c, c, c, &R_BODY));
                    }
                    slots.push(Slot::new(format!("cell{cell}.body3"), c, half, c, &R_BODY));
                }
                slots.push(Slot::new("upsample".into(), c, out, c, &R_BODY));
                slots.push(Slot::new("tail".into(), 3, 3, c, &R_TAIL));
                slots
            }
        }
    }
}

impl fmt::Display for SearchSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SearchSpace {
    type Err = ArchError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        from_name(s, "search space", &SearchSpace::ALL, |sp| sp.name())
    }
}

/// The one of `all` whose name is `s`.
fn from_name<T: Copy>(
    s: &str,
    what: &'static str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<T, ArchError> {
    all.iter()
        .copied()
        .find(|&v| name(v) == s)
        .ok_or_else(|| ArchError::UnknownName {
            what,
            name: s.into(),
            expected: all.iter().map(|&v| name(v)).collect::<Vec<_>>().join(", "),
        })
}

/// How a residual branch f with input x is wrapped (spec §4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Residual {
    /// ADQ: f(BN(x))·(γ·σ(x) + β) + x.
    #[default]
    Adq,
    /// AdaDM: BN(f(BN(x)))·(γ·σ(x) + β) + x.
    AdaDm,
    /// f(BN(x)) + x.
    BatchNorm,
    /// f(x) + x.
    None,
}

impl Residual {
    /// Every option.
    pub const ALL: [Residual; 4] = [
        Residual::Adq,
        Residual::AdaDm,
        Residual::BatchNorm,
        Residual::None,
    ];

    /// Name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Residual::Adq => "adq",
            Residual::AdaDm => "adadm",
            Residual::BatchNorm => "batchnorm",
            Residual::None => "none",
        }
    }
}

impl fmt::Display for Residual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Residual {
    type Err = ArchError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        from_name(s, "residual mode", &Residual::ALL, |r| r.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_space_lists_each_offered_op_once() {
        for space in SearchSpace::ALL {
            let ops = space.ops();
            for (i, op) in ops.iter().enumerate() {
                assert!(!ops[..i].contains(op), "{space}: {} twice", op.name());
            }
            for slot in space.slots() {
                assert!(slot.candidates.iter().all(|c| ops.contains(c)), "{space}");
            }
        }
        assert_eq!(SearchSpace::BasicA.ops().len(), 12);
    }

    #[test]
    fn slot_and_op_counts_match_the_spec() {
        let b = SearchSpace::BasicB.slots();
        assert_eq!(b.len(), 8);
        let counts: Vec<usize> = b.iter().map(|s| s.candidates.len()).collect();
        assert_eq!(counts, [4, 4, 4, 4, 3, 4, 3, 3]);
        let a = SearchSpace::BasicA.slots();
        let counts: Vec<usize> = a.iter().map(|s| s.candidates.len()).collect();
        assert_eq!(counts, [8, 8, 7, 7, 4, 12, 8, 8]);
        let r = SearchSpace::Rfdn.slots();
        assert_eq!(r.len(), 30);
        assert!(r[..29].iter().all(|s| s.candidates.len() == 9));
        assert_eq!(r[29].candidates.len(), 6);
        assert_eq!(r[0].name, "cell0.skip0");
        assert_eq!(r[6].name, "cell0.body3");
    }

    #[test]
    fn every_candidate_fits_its_slot() {
        for space in SearchSpace::ALL {
            for slot in space.slots() {
                for op in &slot.candidates {
                    assert!(
                        op.fits(slot.cin, slot.cout, slot.width),
                        "{space} {} {op}",
                        slot.name
                    );
                }
            }
        }
    }
}
