//! Writes the seed corpus of the `model_file` target: valid files of small models, each
//! in both modes (see the target's docs). Usage: `cargo run --bin make_seeds -- DIR`.

use quantnas_core::arch::{Arch, Bits, Choice, Genotype, Residual, SearchSpace, rfdn_genotype};
use quantnas_core::model::Model;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: make_seeds DIR")?;
    std::fs::create_dir_all(&dir)?;
    let basic = |space: SearchSpace, residual| {
        let choices = space
            .slots()
            .iter()
            .enumerate()
            .map(|(i, s)| Choice {
                op: s.candidates[i % s.candidates.len()],
                bits: Bits::ALL[i % 3],
            })
            .collect();
        Arch::Genotype {
            genotype: Genotype {
                space,
                residual,
                choices,
            },
        }
    };
    let archs = [
        ("espcn4", Arch::Espcn { bits: Bits::B4 }),
        ("espcn8", Arch::Espcn { bits: Bits::B8 }),
        ("espcn32", Arch::Espcn { bits: Bits::B32 }),
        ("basic_b", basic(SearchSpace::BasicB, Residual::Adq)),
        ("basic_a", basic(SearchSpace::BasicA, Residual::AdaDm)),
        (
            "rfdn4",
            Arch::Genotype {
                genotype: rfdn_genotype(Bits::B4),
            },
        ),
    ];
    for (name, arch) in archs {
        let bytes = Model::random(arch, 1)?.to_bytes()?;
        let mut raw = vec![0u8];
        raw.extend_from_slice(&bytes);
        std::fs::write(format!("{dir}/{name}_raw.bin"), raw)?;
        let mut open = vec![1u8];
        open.extend_from_slice(&bytes[..bytes.len() - 4]);
        std::fs::write(format!("{dir}/{name}_resealed.bin"), open)?;
        println!("{name}: {} bytes", bytes.len());
    }
    Ok(())
}
