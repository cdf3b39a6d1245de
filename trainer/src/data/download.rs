//! `trainer data download div2k`: fetches the DIV2K HR archives from their official
//! address, checks them and unpacks them.
//!
//! Checks, in order: the HTTP status; the byte count against the server's
//! `Content-Length` (a cut connection fails here); the SHA-256 of the archive against a
//! pinned value when one is known or given (`--sha256`); the CRC-32 of every member while
//! unpacking (stored in the zip, checked by the reader); the number of images unpacked.
//! The archive's SHA-256 is always printed and written to `SHA256SUMS` in the output
//! folder, so a later run (or a colleague) can pin it.
//!
//! Unpacking refuses member names that would leave the output folder.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

/// Where DIV2K lives.
pub const DIV2K_BASE: &str = "http://data.vision.ee.ethz.ch/cvl/DIV2K/";

/// Where `trainer data download div2k` unpacks by default.
pub const DIV2K_DEFAULT_OUT: &str = "data/DIV2K";

/// The training images of a default DIV2K download: the `paper` presets' training data.
pub fn div2k_train_dir() -> PathBuf {
    Path::new(DIV2K_DEFAULT_OUT).join(DIV2K[0].folder)
}

/// One downloadable archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Archive {
    /// File name, appended to the base address.
    pub file: &'static str,
    /// Folder the archive unpacks into.
    pub folder: &'static str,
    /// PNG images it holds.
    pub images: usize,
    /// Pinned SHA-256 (lower-case hex), if known. None is pinned in this build: the
    /// values could not be confirmed offline; pass `--sha256` to pin one.
    pub sha256: Option<&'static str>,
}

/// The DIV2K HR archives: 800 training and 100 validation images.
pub const DIV2K: [Archive; 2] = [
    Archive {
        file: "DIV2K_train_HR.zip",
        folder: "DIV2K_train_HR",
        images: 800,
        sha256: None,
    },
    Archive {
        file: "DIV2K_valid_HR.zip",
        folder: "DIV2K_valid_HR",
        images: 100,
        sha256: None,
    },
];

/// What a download produced.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The folder the images were unpacked into.
    pub folder: PathBuf,
    /// Bytes downloaded.
    pub bytes: u64,
    /// SHA-256 of the archive.
    pub sha256: String,
    /// Images unpacked.
    pub images: usize,
}

/// Downloads `url` to `dest` (through `dest.partial`, renamed when complete), checking the
/// length against `Content-Length`; returns the byte count and SHA-256.
///
/// # Errors
/// Network errors, a non-200 status, a short body, or a file that cannot be written.
pub fn fetch(url: &str, dest: &Path, progress: bool) -> Result<(u64, String)> {
    let resp = ureq::get(url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    if resp.status() != 200 {
        bail!("GET {url}: HTTP {}", resp.status());
    }
    let expected: Option<u64> = resp
        .header("Content-Length")
        .and_then(|v| v.trim().parse().ok());
    let partial = dest.with_extension("partial");
    let mut out = BufWriter::new(
        File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?,
    );
    let bar = if progress {
        ProgressBar::new(expected.unwrap_or(0))
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(
        dest.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    let mut reader = resp.into_reader();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .with_context(|| format!("reading {url}"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .with_context(|| format!("writing {}", partial.display()))?;
        total += n as u64;
        bar.set_position(total);
    }
    out.flush()
        .with_context(|| format!("writing {}", partial.display()))?;
    drop(out);
    bar.finish_and_clear();
    if let Some(len) = expected
        && len != total
    {
        bail!("{url}: got {total} bytes, the server announced {len} (connection cut?)");
    }
    fs::rename(&partial, dest)
        .with_context(|| format!("renaming {} to {}", partial.display(), dest.display()))?;
    Ok((total, hex(&hasher.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Unpacks a zip into `dir`, verifying every member's CRC-32; returns the number of
/// image files written.
///
/// # Errors
/// A corrupt archive, a CRC mismatch, or a member path escaping `dir`.
pub fn unzip(archive: &Path, dir: &Path) -> Result<usize> {
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .with_context(|| format!("{} is not a zip archive", archive.display()))?;
    let mut images = 0;
    for i in 0..zip.len() {
        let mut member = zip
            .by_index(i)
            .with_context(|| format!("{}: member {i}", archive.display()))?;
        let Some(rel) = member.enclosed_name().map(Path::to_path_buf) else {
            bail!(
                "{}: member {:?} would be written outside the output folder",
                archive.display(),
                member.name()
            );
        };
        let path = dir.join(&rel);
        if member.is_dir() {
            fs::create_dir_all(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let mut out =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        // Reading to the end makes the zip reader compare the CRC-32.
        std::io::copy(&mut member, &mut out).with_context(|| {
            format!(
                "{}: unpacking {} (corrupt or CRC mismatch)",
                archive.display(),
                rel.display()
            )
        })?;
        if rel
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"))
        {
            images += 1;
        }
    }
    Ok(images)
}

/// Downloads `archive` from `base` into `out_dir`, verifies it and unpacks it to
/// `out_dir/<folder>`; the archive is deleted afterwards unless `keep` is set.
///
/// # Errors
/// Any failed check (see the module documentation); the message says which.
pub fn download(
    base: &str,
    archive: &Archive,
    out_dir: &Path,
    sha256: Option<&str>,
    keep: bool,
    progress: bool,
) -> Result<Fetched> {
    fs::create_dir_all(out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let folder = out_dir.join(archive.folder);
    let url = format!("{}{}", base, archive.file);
    let zip_path = out_dir.join(archive.file);
    let (bytes, digest) = fetch(&url, &zip_path, progress)?;
    if let Some(want) = sha256.or(archive.sha256)
        && !want.eq_ignore_ascii_case(&digest)
    {
        bail!("{}: SHA-256 is {digest}, expected {want}", archive.file);
    }
    let sums = out_dir.join("SHA256SUMS");
    let mut text = fs::read_to_string(&sums).unwrap_or_default();
    text.push_str(&format!("{digest}  {}\n", archive.file));
    fs::write(&sums, text).with_context(|| format!("cannot write {}", sums.display()))?;
    let images = unzip(&zip_path, out_dir)?;
    if images != archive.images {
        bail!(
            "{}: unpacked {images} images, expected {}",
            archive.file,
            archive.images
        );
    }
    if !keep {
        fs::remove_file(&zip_path)
            .with_context(|| format!("cannot remove {}", zip_path.display()))?;
    }
    Ok(Fetched {
        folder,
        bytes,
        sha256: digest,
        images,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    /// A zip with `n` tiny PNG members under `folder/`.
    fn small_zip(folder: &str, n: usize) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::FileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for i in 0..n {
                let mut png = Vec::new();
                image::RgbImage::from_pixel(4, 3, image::Rgb([i as u8, 2, 3]))
                    .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                    .unwrap();
                w.start_file(format!("{folder}/{i:04}.png"), opts).unwrap();
                w.write_all(&png).unwrap();
            }
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    /// Serves `body` (with a `Content-Length` of `announce`) to `requests` GETs on
    /// 127.0.0.1, then stops; returns the base address.
    fn serve(body: Vec<u8>, announce: usize, requests: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(requests) {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap() > 2 {
                    line.clear();
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {announce}\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        format!("http://{addr}/")
    }

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("quantnas-dl-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn downloads_checks_and_unpacks() {
        let body = small_zip("SMALL_HR", 3);
        let want = hex(&Sha256::digest(&body));
        let base = serve(body.clone(), body.len(), 2);
        let archive = Archive {
            file: "small.zip",
            folder: "SMALL_HR",
            images: 3,
            sha256: None,
        };
        let dir = tmp("ok");
        let got = download(&base, &archive, &dir, Some(&want), false, false).unwrap();
        assert_eq!((got.images, got.bytes as usize), (3, body.len()));
        assert_eq!(got.sha256, want);
        assert!(dir.join("SMALL_HR/0002.png").is_file());
        assert!(!dir.join("small.zip").exists(), "archive removed");
        assert!(
            fs::read_to_string(dir.join("SHA256SUMS"))
                .unwrap()
                .contains(&want)
        );
        // A wrong pinned checksum is refused.
        let e = download(&base, &archive, &tmp("bad-sum"), Some("00"), false, false).unwrap_err();
        assert!(format!("{e:#}").contains("SHA-256"), "{e:#}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn short_body_and_wrong_count_fail() {
        let body = small_zip("SMALL_HR", 2);
        let base = serve(body.clone(), body.len() + 10, 1);
        let archive = Archive {
            file: "small.zip",
            folder: "SMALL_HR",
            images: 2,
            sha256: None,
        };
        let e = download(&base, &archive, &tmp("short"), None, false, false).unwrap_err();
        assert!(
            format!("{e:#}").contains("bytes") || format!("{e:#}").contains("reading"),
            "{e:#}"
        );
        let base = serve(body.clone(), body.len(), 1);
        let archive = Archive {
            images: 5,
            ..archive
        };
        let e = download(&base, &archive, &tmp("count"), None, false, false).unwrap_err();
        assert!(format!("{e:#}").contains("expected 5"), "{e:#}");
    }
}
