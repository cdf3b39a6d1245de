//! `trainer data`: dataset management commands.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};

use super::download::{DIV2K, DIV2K_BASE, DIV2K_DEFAULT_OUT, download};

/// Dataset commands.
#[derive(Debug, Clone, Subcommand)]
pub enum DataCommand {
    /// Download and unpack a training set (DIV2K HR from its official address).
    ///
    /// Checks the HTTP status, the byte count against Content-Length, the SHA-256 (when
    /// pinned or given with --sha256; always printed and saved to OUT/SHA256SUMS), every
    /// member's CRC-32 and the image count. Train afterwards with
    /// `trainer train --train-data OUT/DIV2K_train_HR ...`.
    ///
    /// Example: `trainer data download div2k --out data/DIV2K` (3.5 GB for the training split).
    Download(DownloadArgs),
}

/// Known downloadable datasets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DatasetName {
    /// DIV2K high-resolution images (800 train, 100 validation; Agustsson & Timofte 2017).
    Div2k,
}

/// Which part of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Split {
    /// Training images only.
    Train,
    /// Validation images only.
    Valid,
    /// Both.
    All,
}

/// Options of `trainer data download`.
#[derive(Debug, Clone, Args)]
pub struct DownloadArgs {
    /// Dataset to fetch.
    #[arg(value_enum)]
    pub dataset: DatasetName,
    /// Folder to unpack into.
    #[arg(long, default_value = DIV2K_DEFAULT_OUT)]
    pub out: PathBuf,
    /// Which split.
    #[arg(long, value_enum, default_value = "train")]
    pub split: Split,
    /// Address the archives are fetched from (a mirror, or a local server in tests).
    #[arg(long, default_value = DIV2K_BASE)]
    pub base_url: String,
    /// Expected SHA-256 of the archive (one split only).
    #[arg(long)]
    pub sha256: Option<String>,
    /// Keep the zip archive after unpacking.
    #[arg(long)]
    pub keep_archive: bool,
}

/// Runs `trainer data`.
///
/// # Errors
/// A failed download or check (the message says which).
pub fn run(cmd: &DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Download(a) => {
            let archives: Vec<_> = match a.split {
                Split::Train => vec![DIV2K[0].clone()],
                Split::Valid => vec![DIV2K[1].clone()],
                Split::All => DIV2K.to_vec(),
            };
            if a.sha256.is_some() && archives.len() > 1 {
                bail!("--sha256 checks one archive; pick --split train or --split valid");
            }
            let base = if a.base_url.ends_with('/') {
                a.base_url.clone()
            } else {
                format!("{}/", a.base_url)
            };
            for ar in &archives {
                println!("downloading {base}{}", ar.file);
                let f = download(&base, ar, &a.out, a.sha256.as_deref(), a.keep_archive, true)?;
                println!(
                    "{}: {} bytes, sha256 {}, {} images in {}",
                    ar.file,
                    f.bytes,
                    f.sha256,
                    f.images,
                    f.folder.display()
                );
            }
            Ok(())
        }
    }
}
