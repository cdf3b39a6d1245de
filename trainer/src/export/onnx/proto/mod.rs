//! The ONNX protobuf messages: `prost` types generated from the vendored
//! `trainer/proto/onnx.proto` (onnx 1.23.2) by `scripts/gen-onnx-proto.sh`.
//!
//! Generated once and committed, because the pure-Rust protobuf compiler that writes them
//! (`protox` + `prost-build`) would add minutes to every cold build for a file that changes
//! only with the `.proto`. `generated_proto_is_current` checks the pair still matches.

#[allow(clippy::all, missing_docs)]
mod onnx;

pub use onnx::*;

/// SHA-256 of the `.proto` the generated types came from, as their header records it.
pub fn generated_from_sha256() -> Option<&'static str> {
    include_str!("onnx.rs")
        .lines()
        .find_map(|l| l.strip_prefix("// proto-sha256: "))
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    /// The committed Rust types were generated from the vendored `.proto` as it is now:
    /// replacing the `.proto` without rerunning the generator fails here.
    #[test]
    fn generated_proto_is_current() {
        let proto = include_bytes!("../../../../proto/onnx.proto");
        let sha: String = Sha256::digest(proto)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            super::generated_from_sha256(),
            Some(sha.as_str()),
            "trainer/proto/onnx.proto changed: run scripts/gen-onnx-proto.sh"
        );
    }
}
