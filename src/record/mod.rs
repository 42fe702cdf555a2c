//! The history: what a run records, and the recorder task that owns all aggregates.

pub mod event;

pub use event::*;
