//! Writes the seed corpora of every target under `ROOT/<target>/`: valid files of small
//! models for `model_file` and `model_parse` (each in both modes, see the targets' docs),
//! genotype JSON for `genotype_json`, and images, models and architecture JSON for
//! `wasm_entry`. Usage: `cargo run --bin make_seeds -- ROOT` (e.g. `fuzz/corpus`).

use std::path::Path;

use quantnas_core::arch::{Arch, Bits, Choice, Genotype, Residual, SearchSpace, rfdn_genotype};
use quantnas_core::model::Model;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), bytes)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::args().nth(1).ok_or("usage: make_seeds ROOT")?;
    let root = Path::new(&root);
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
        Genotype {
            space,
            residual,
            choices,
        }
    };
    let genotypes = [
        ("basic_b", basic(SearchSpace::BasicB, Residual::Adq)),
        ("basic_a", basic(SearchSpace::BasicA, Residual::AdaDm)),
        ("rfdn4", rfdn_genotype(Bits::B4)),
    ];
    let mut archs = vec![
        ("espcn4", Arch::Espcn { bits: Bits::B4 }),
        ("espcn8", Arch::Espcn { bits: Bits::B8 }),
        ("espcn32", Arch::Espcn { bits: Bits::B32 }),
    ];
    for (name, genotype) in &genotypes {
        let json = genotype.to_json();
        write(
            &root.join("genotype_json"),
            &format!("{name}.json"),
            json.as_bytes(),
        )?;
        archs.push((
            name,
            Arch::Genotype {
                genotype: genotype.clone(),
            },
        ));
    }
    let wasm = root.join("wasm_entry");
    for (name, arch) in &archs {
        let bytes = Model::random(arch.clone(), 1)?.to_bytes()?;
        let sealed = &bytes[..bytes.len() - 4];
        for target in ["model_file", "model_parse"] {
            let dir = root.join(target);
            write(
                &dir,
                &format!("{name}_raw.bin"),
                &[&[0u8][..], &bytes].concat(),
            )?;
            write(
                &dir,
                &format!("{name}_resealed.bin"),
                &[&[1u8][..], sealed].concat(),
            )?;
        }
        // wasm_entry: 1 (model), mode, cost height, cost width, file.
        write(
            &wasm,
            &format!("model_{name}_raw.bin"),
            &[&[1, 0, 3, 5][..], &bytes].concat(),
        )?;
        write(
            &wasm,
            &format!("model_{name}_resealed.bin"),
            &[&[1, 1, 3, 5][..], sealed].concat(),
        )?;
        // wasm_entry: 2 (arch), height, width, bits, architecture JSON.
        let json = serde_json::to_string(arch)?;
        write(
            &wasm,
            &format!("arch_{name}.bin"),
            &[&[2, 32, 24, 8][..], json.as_bytes()].concat(),
        )?;
        println!("{name}: {} bytes", bytes.len());
    }
    // wasm_entry: 0 (image), width, height, flags, s0, s1, RGBA. Exact 12x12 bytes at
    // scales 4 (128/32) and 1/4; gray 40x40 repeated from 16 bytes at 1/s0 = 1/3; 20x20
    // with an odd scale from raw bits.
    let rgba: Vec<u8> = (0..12 * 12 * 4).map(|i| (i * 37 % 251) as u8).collect();
    write(
        &wasm,
        "image_12_x4.bin",
        &[&[0, 12, 12, 0, 128, 0][..], &rgba].concat(),
    )?;
    write(
        &wasm,
        "image_12_x025.bin",
        &[&[0, 12, 12, 2, 4, 0][..], &rgba].concat(),
    )?;
    let gray: Vec<u8> = (0..4u8)
        .flat_map(|v| [v * 60, v * 60, v * 60, 255])
        .collect();
    write(
        &wasm,
        "image_40_gray.bin",
        &[&[0, 40, 40, 3, 3, 0][..], &gray].concat(),
    )?;
    write(
        &wasm,
        "image_20_bits.bin",
        &[&[0, 20, 20, 7, 0x40, 0x3f][..], &rgba[..64]].concat(),
    )?;
    Ok(())
}
