//! Hostile and broken model files: every one is rejected with the error that says what is
//! wrong, never a panic, a huge allocation or a hang.
//!
//! The corpus `tests/corpus/broken/*.qnm` is generated deterministically by [`corpus`]
//! from a random ESPCN 4-bit model; `QNM_WRITE_CORPUS=1 cargo test -p quantnas-core --test
//! errors` rewrites it. The test checks that the files on disk are the generated ones and
//! that every file there, including any added by hand, is rejected.

use std::path::PathBuf;

use quantnas_core::arch::{Arch, Bits};
use quantnas_core::model::{MAX_FILE_LEN, MAX_JSON_LEN, Model, ModelError, crc32, reseal};

type Check = fn(&ModelError) -> bool;

fn base() -> Vec<u8> {
    Model::random(Arch::Espcn { bits: Bits::B4 }, 1)
        .expect("model")
        .to_bytes()
        .expect("bytes")
}

fn json_len(file: &[u8]) -> usize {
    u32::from_le_bytes([file[20], file[21], file[22], file[23]]) as usize
}

/// The JSON header and the bytes after it (record count and records, no checksum).
fn parts(file: &[u8]) -> (String, Vec<u8>) {
    let j = json_len(file);
    let json = String::from_utf8(file[24..24 + j].to_vec()).expect("utf-8");
    (json, file[24 + j..file.len() - 4].to_vec())
}

/// A well-formed container (right length, right checksum) around `json` and `tail`.
fn assemble(json: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut f = b"QNASMDL\0".to_vec();
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&0u64.to_le_bytes());
    f.extend_from_slice(&(json.len() as u32).to_le_bytes());
    f.extend_from_slice(json);
    f.extend_from_slice(tail);
    reseal(&mut f);
    f
}

/// `base` with `edit` applied to its body, resealed so the checksum still matches.
fn edited(base: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut body = base[..base.len() - 4].to_vec();
    edit(&mut body);
    reseal(&mut body);
    body
}

/// Offset of the first record (the one of `conv1`, a 4-bit conv): tag u8, node u32,
/// bits u8, cout u32, cin/groups u32, kh u8, kw u8, act step f32, steps f32 × 64, codes.
fn first_record(file: &[u8]) -> usize {
    24 + json_len(file) + 4
}

/// Every broken file, with the error it must produce.
fn corpus() -> Vec<(&'static str, Vec<u8>, Check)> {
    let b = base();
    let r0 = first_record(&b);
    let (json, tail) = parts(&b);
    let mut cases: Vec<(&'static str, Vec<u8>, Check)> = vec![
        ("empty", vec![], |e| {
            matches!(e, ModelError::Truncated { what: "magic", .. })
        }),
        ("short_magic", b"QNASM".to_vec(), |e| {
            matches!(e, ModelError::Truncated { what: "magic", .. })
        }),
        (
            "bad_magic",
            [b"PNG\0\0\0\0\0".as_slice(), &b[8..]].concat(),
            |e| matches!(e, ModelError::BadMagic { .. }),
        ),
        (
            "future_version",
            {
                let mut f = b.clone();
                f[8] = 2;
                f
            },
            |e| {
                matches!(
                    e,
                    ModelError::UnsupportedVersion {
                        found: 2,
                        supported: 1
                    }
                )
            },
        ),
        ("no_length", b[..16].to_vec(), |e| {
            matches!(
                e,
                ModelError::Truncated {
                    what: "file length",
                    ..
                }
            )
        }),
        ("cut_in_half", b[..b.len() / 2].to_vec(), |e| {
            matches!(e, ModelError::LengthMismatch { .. })
        }),
        ("padded", [b.as_slice(), &[0u8; 3]].concat(), |e| {
            matches!(e, ModelError::LengthMismatch { .. })
        }),
        (
            "huge_length",
            {
                let mut f = b.clone();
                f[12..20].copy_from_slice(&(MAX_FILE_LEN + 1).to_le_bytes());
                f
            },
            |e| {
                matches!(
                    e,
                    ModelError::OverLimit {
                        what: "file length",
                        ..
                    }
                )
            },
        ),
        (
            "tiny_container",
            {
                let mut f = b[..24].to_vec();
                f[12..20].copy_from_slice(&24u64.to_le_bytes());
                f
            },
            |e| {
                matches!(
                    e,
                    ModelError::Truncated {
                        what: "JSON header length and checksum",
                        ..
                    }
                )
            },
        ),
        (
            "flipped_bit",
            {
                let mut f = b.clone();
                let n = f.len();
                f[n - 100] ^= 0x10;
                f
            },
            |e| matches!(e, ModelError::Checksum { .. }),
        ),
        (
            "bad_checksum",
            {
                let mut f = b.clone();
                let n = f.len();
                f[n - 1] ^= 0xFF;
                f
            },
            |e| matches!(e, ModelError::Checksum { .. }),
        ),
        (
            "json_over_limit",
            edited(&b, |f| {
                f[20..24].copy_from_slice(&((MAX_JSON_LEN + 1) as u32).to_le_bytes())
            }),
            |e| {
                matches!(
                    e,
                    ModelError::OverLimit {
                        what: "JSON header length",
                        ..
                    }
                )
            },
        ),
        (
            "json_past_eof",
            edited(&b, |f| {
                let n = f.len() as u32;
                f[20..24].copy_from_slice(&n.to_le_bytes())
            }),
            |e| {
                matches!(
                    e,
                    ModelError::Truncated {
                        what: "JSON header",
                        ..
                    }
                )
            },
        ),
        (
            "json_not_json",
            assemble(b"{\"format\": \"quantnas-model\", \"name\": ", &tail),
            |e| matches!(e, ModelError::HeaderJson { .. }),
        ),
        (
            "json_not_utf8",
            assemble(&[0xFF, 0xFE, b'{', b'}'], &tail),
            |e| matches!(e, ModelError::HeaderJson { .. }),
        ),
        (
            "json_wrong_format",
            assemble(
                json.replace("quantnas-model", "quantnas-genotype")
                    .as_bytes(),
                &tail,
            ),
            |e| matches!(e, ModelError::HeaderFormat { .. }),
        ),
        (
            "json_unknown_field",
            assemble(json.replacen('{', "{\"extra\": 1, ", 1).as_bytes(), &tail),
            |e| matches!(e, ModelError::HeaderJson { .. }),
        ),
        (
            "json_bad_bits",
            assemble(json.replace("\"bits\":4", "\"bits\":5").as_bytes(), &tail),
            |e| matches!(e, ModelError::HeaderJson { .. }),
        ),
        (
            "json_unknown_arch",
            assemble(json.replace("\"espcn\"", "\"vgg\"").as_bytes(), &tail),
            |e| matches!(e, ModelError::HeaderJson { .. }),
        ),
        (
            "json_deep_nesting",
            {
                let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
                assemble(
                    json.replace("\"meta\":{", &format!("\"meta\":{{\"x\":{deep},"))
                        .as_bytes(),
                    &tail,
                )
            },
            |e| matches!(e, ModelError::HeaderJson { .. }),
        ),
        (
            "other_arch",
            assemble(json.replace("\"espcn\"", "\"srresnet\"").as_bytes(), &tail),
            |e| {
                matches!(
                    e,
                    ModelError::RecordCount {
                        expected: 37,
                        got: 3
                    }
                )
            },
        ),
        (
            "other_bits",
            assemble(json.replace("\"bits\":4", "\"bits\":8").as_bytes(), &tail),
            |e| {
                matches!(
                    e,
                    ModelError::Shape {
                        what: "bit width",
                        expected: 8,
                        got: 4,
                        ..
                    }
                )
            },
        ),
        ("records_missing", edited(&b, |f| f.truncate(r0 - 4)), |e| {
            matches!(
                e,
                ModelError::Truncated {
                    what: "record count",
                    ..
                }
            )
        }),
        ("record_count_wrong", edited(&b, |f| f[r0 - 4] = 4), |e| {
            matches!(
                e,
                ModelError::RecordCount {
                    expected: 3,
                    got: 4
                }
            )
        }),
        (
            "record_count_huge",
            edited(&b, |f| {
                f[r0 - 4..r0].copy_from_slice(&u32::MAX.to_le_bytes())
            }),
            |e| {
                matches!(
                    e,
                    ModelError::OverLimit {
                        what: "record count",
                        ..
                    }
                )
            },
        ),
        ("record_cut", edited(&b, |f| f.truncate(r0 + 500)), |e| {
            matches!(
                e,
                ModelError::Truncated {
                    what: "nibble-packed weight codes",
                    ..
                }
            )
        }),
        (
            "record_bad_tag",
            edited(&b, |f| f[r0] = 9),
            |e| matches!(e, ModelError::RecordKind { got, .. } if got == "unknown tag 9"),
        ),
        ("record_float_for_4bit", edited(&b, |f| f[r0] = 2), |e| {
            matches!(
                e,
                ModelError::RecordKind {
                    expected: "quantized conv",
                    ..
                }
            )
        }),
        ("record_wrong_node", edited(&b, |f| f[r0 + 1] = 7), |e| {
            matches!(
                e,
                ModelError::RecordNode {
                    expected: 1,
                    got: 7,
                    ..
                }
            )
        }),
        ("record_wrong_bits", edited(&b, |f| f[r0 + 5] = 8), |e| {
            matches!(
                e,
                ModelError::Shape {
                    what: "bit width",
                    ..
                }
            )
        }),
        ("record_wrong_cout", edited(&b, |f| f[r0 + 6] = 65), |e| {
            matches!(
                e,
                ModelError::Shape {
                    what: "cout",
                    expected: 64,
                    got: 65,
                    ..
                }
            )
        }),
        (
            "record_huge_cout",
            edited(&b, |f| {
                f[r0 + 6..r0 + 10].copy_from_slice(&u32::MAX.to_le_bytes())
            }),
            |e| matches!(e, ModelError::OverLimit { what: "cout", .. }),
        ),
        ("record_wrong_kernel", edited(&b, |f| f[r0 + 14] = 3), |e| {
            matches!(
                e,
                ModelError::Shape {
                    what: "kernel height",
                    ..
                }
            )
        }),
        (
            "record_nan_act_step",
            edited(&b, |f| {
                f[r0 + 16..r0 + 20].copy_from_slice(&f32::NAN.to_le_bytes())
            }),
            |e| {
                matches!(
                    e,
                    ModelError::BadValue {
                        what: "act_step",
                        ..
                    }
                )
            },
        ),
        (
            "record_zero_act_step",
            edited(&b, |f| {
                f[r0 + 16..r0 + 20].copy_from_slice(&0f32.to_le_bytes())
            }),
            |e| {
                matches!(
                    e,
                    ModelError::BadValue {
                        what: "act_step",
                        ..
                    }
                )
            },
        ),
        (
            "record_negative_step",
            edited(&b, |f| {
                f[r0 + 24..r0 + 28].copy_from_slice(&(-1f32).to_le_bytes())
            }),
            |e| {
                matches!(
                    e,
                    ModelError::BadValue {
                        what: "weight_steps",
                        index: 1,
                        ..
                    }
                )
            },
        ),
        (
            "record_inf_step",
            edited(&b, |f| {
                f[r0 + 20..r0 + 24].copy_from_slice(&f32::INFINITY.to_le_bytes())
            }),
            |e| {
                matches!(
                    e,
                    ModelError::BadValue {
                        what: "weight_steps",
                        index: 0,
                        ..
                    }
                )
            },
        ),
        (
            "trailing_bytes",
            edited(&b, |f| f.extend_from_slice(&[0; 5])),
            |e| matches!(e, ModelError::TrailingBytes { count: 5, .. }),
        ),
    ];
    // A hand-written container whose first record claims a conv far bigger than the file.
    let mut hostile = 1u32.to_le_bytes().to_vec();
    hostile.extend_from_slice(&[1, 1, 0, 0, 0, 4]);
    hostile.extend_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    cases.push(("hostile_sizes", assemble(json.as_bytes(), &hostile), |e| {
        matches!(
            e,
            ModelError::RecordCount { .. } | ModelError::OverLimit { .. }
        )
    }));
    cases
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/broken")
}

#[test]
fn every_broken_file_says_what_is_wrong() {
    for (name, bytes, check) in corpus() {
        match Model::from_bytes(&bytes) {
            Ok(_) => panic!("{name}: accepted"),
            Err(e) => {
                assert!(check(&e), "{name}: unexpected error {e:?}");
                // The message is readable and names a place or a value.
                assert!(!e.to_string().is_empty(), "{name}");
            }
        }
    }
}

#[test]
fn corpus_on_disk_is_generated_and_rejected() {
    let dir = corpus_dir();
    let cases = corpus();
    if std::env::var_os("QNM_WRITE_CORPUS").is_some() {
        std::fs::create_dir_all(&dir).expect("corpus dir");
        for (name, bytes, _) in &cases {
            std::fs::write(dir.join(format!("{name}.qnm")), bytes).expect("write corpus");
        }
    }
    for (name, bytes, _) in &cases {
        let on_disk = std::fs::read(dir.join(format!("{name}.qnm"))).unwrap_or_else(|e| {
            panic!("{name}.qnm: {e}; run with QNM_WRITE_CORPUS=1 to regenerate")
        });
        assert!(
            on_disk == *bytes,
            "{name}.qnm differs from the generated file; rerun with QNM_WRITE_CORPUS=1"
        );
    }
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|x| x == "qnm") {
            let bytes = std::fs::read(&path).expect("read");
            assert!(
                Model::from_bytes(&bytes).is_err(),
                "{} was accepted",
                path.display()
            );
            seen += 1;
        }
    }
    assert!(seen >= cases.len());
}

#[test]
fn every_truncation_and_every_single_bit_flip_is_rejected() {
    let b = base();
    // Every prefix (a sample of cut points keeps the test fast in debug builds).
    for cut in (0..b.len()).step_by(97).chain(b.len() - 8..b.len()) {
        assert!(Model::from_bytes(&b[..cut]).is_err(), "prefix {cut}");
    }
    // Every bit of the header region, then a sample of the rest: CRC-32 detects all.
    for i in (0..b.len()).filter(|i| *i < 400 || i % 131 == 0) {
        for bit in 0..8 {
            let mut f = b.clone();
            f[i] ^= 1 << bit;
            assert!(Model::from_bytes(&f).is_err(), "flip byte {i} bit {bit}");
        }
    }
}

#[test]
fn crc_is_the_standard_one() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
}
