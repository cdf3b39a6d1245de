//! Training data: image folders decoded once and cached, random HR/LR patch pairs, the
//! background loader that batches them, and the DIV2K download.

pub mod cache;
pub mod cli;
pub mod download;
pub mod loader;
pub mod patch;

pub use cache::ImageCache;
pub use loader::{Batch, Loader, LoaderConfig};
pub use patch::{Augment, Patch, make_patch};
