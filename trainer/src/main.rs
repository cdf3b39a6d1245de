//! `trainer` command line.
fn main() {}
