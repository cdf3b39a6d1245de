//! The QuantNAS search (spec §2–§6): alphas, the BitOps and entropy terms, the supernet
//! with its mixing modes, the alternating loop and the derivation of a genotype.

pub mod alphas;
pub mod bitmixer;
pub mod budget;
pub mod cli;
pub mod config;
pub mod draw;
pub mod noise;
pub mod penalty;
pub mod run;
pub mod schedule;
pub mod step;
pub mod supernet;
pub mod ziggurat;
