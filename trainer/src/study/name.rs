//! Run folder names: readable, and unique to the settings, so that a finished run is
//! found again by the next invocation and a changed setting gets a folder of its own.

use anyhow::Result;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Hex digits of the settings hash in a folder name (32 bits: a clash within one study is
/// practically impossible, and the plan parser would refuse it).
const HASH_DIGITS: usize = 8;

/// `EXPERIMENT-sSEED-HASH`, HASH being the first digits of the SHA-256 of `settings` (a
/// run's method and resolved settings) as JSON (field order is the structs', so it is
/// stable; a settings struct that gains a field gives every run a new folder, as it should:
/// the old runs were made without it).
///
/// # Errors
/// Settings that cannot be serialised (none in practice).
pub fn run_folder(experiment: &str, seed: u64, settings: &impl Serialize) -> Result<String> {
    Ok(format!("{experiment}-s{seed}-{}", settings_hash(settings)?))
}

/// The first [`HASH_DIGITS`] hex digits of the SHA-256 of `value`'s JSON.
fn settings_hash<T: Serialize>(value: &T) -> Result<String> {
    let digest = Sha256::digest(serde_json::to_vec(value)?);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(hex[..HASH_DIGITS].to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn the_hash_follows_the_settings() {
        let a = settings_hash(&("x", 1)).unwrap();
        assert_eq!(a.len(), HASH_DIGITS);
        assert_eq!(a, settings_hash(&("x", 1)).unwrap());
        assert_ne!(a, settings_hash(&("x", 2)).unwrap());
    }
}
