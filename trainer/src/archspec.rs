//! Resolves the `--arch` / `--bits` command-line pair into a core [`Arch`].

use std::path::Path;

use anyhow::{Context, bail};
use quantnas_core::arch::{Arch, Bits, Choice, Genotype};

/// Parses `--bits` as given on the command line.
pub fn parse_bits(bits: u32) -> anyhow::Result<Bits> {
    Bits::try_from(bits).context("--bits")
}

/// `spec` is `espcn`, `srresnet`, `rfdn` or the path of a genotype JSON file (or of an
/// `Arch` JSON as written in run folders). For a fixed network `bits` defaults to 8; for a
/// genotype, `bits` (if given) overrides every slot, which turns a searched mixed-precision
/// genotype into its uniform-precision twin.
pub fn resolve_arch(spec: &str, bits: Option<u32>) -> anyhow::Result<Arch> {
    let bits = bits.map(parse_bits).transpose()?;
    let path = Path::new(spec);
    if spec.ends_with(".json") || path.is_file() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read architecture file {spec}"))?;
        let arch =
            parse_arch_json(&text).with_context(|| format!("invalid architecture file {spec}"))?;
        return Ok(match (arch, bits) {
            (Arch::Genotype { mut genotype }, Some(b)) => {
                genotype.choices = genotype
                    .choices
                    .iter()
                    .map(|c| Choice { op: c.op, bits: b })
                    .collect();
                Arch::Genotype { genotype }
            }
            (Arch::Genotype { genotype }, None) => Arch::Genotype { genotype },
            (fixed, None) => fixed,
            (fixed, Some(b)) => Arch::fixed(fixed_name(&fixed), b)?,
        });
    }
    match Arch::fixed(spec, bits.unwrap_or(Bits::B8)) {
        Ok(a) => Ok(a),
        Err(e) => bail!("{e}; no file named `{spec}` exists either"),
    }
}

fn fixed_name(arch: &Arch) -> &'static str {
    match arch {
        Arch::Espcn { .. } => "espcn",
        Arch::SrResNet { .. } => "srresnet",
        Arch::Rfdn { .. } => "rfdn",
        Arch::Genotype { .. } => "genotype",
    }
}

/// A genotype file, or an `Arch` object (`{"kind": "espcn", "bits": 8}`).
pub fn parse_arch_json(text: &str) -> anyhow::Result<Arch> {
    let value: serde_json::Value = serde_json::from_str(text).context("not valid JSON")?;
    if value.get("kind").is_some() {
        return serde_json::from_value(value).context("not a valid architecture object");
    }
    Ok(Genotype::from_json(text)?.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quantnas_core::arch::{Residual, SearchSpace};

    #[test]
    fn fixed_names_and_bits() {
        assert_eq!(
            resolve_arch("espcn", None).expect("espcn"),
            Arch::Espcn { bits: Bits::B8 }
        );
        assert_eq!(
            resolve_arch("RFDN", Some(4)).expect("rfdn"),
            Arch::Rfdn { bits: Bits::B4 }
        );
        assert!(resolve_arch("espcn", Some(5)).is_err());
        let e = resolve_arch("vgg", None).expect_err("unknown");
        assert!(format!("{e:#}").contains("vgg"));
    }

    #[test]
    fn genotype_files_and_bit_override() {
        let g = Genotype::nth_candidates(SearchSpace::BasicB, Residual::Adq, 0, Bits::B4);
        let path = std::env::temp_dir().join(format!("qn-archspec-{}.json", std::process::id()));
        std::fs::write(&path, g.to_json()).expect("write");
        let spec = path.to_string_lossy().to_string();
        let Arch::Genotype { genotype } = resolve_arch(&spec, Some(8)).expect("load") else {
            panic!("kind")
        };
        assert!(genotype.choices.iter().all(|c| c.bits == Bits::B8));
        std::fs::write(&path, "{\"format\": 3}").expect("write");
        assert!(resolve_arch(&spec, None).is_err());
        std::fs::remove_file(&path).ok();
        assert!(resolve_arch("/no/such/genotype.json", None).is_err());
    }
}
