//! Charts, PNG and SVG: per run (`charts/` in the run directory) and per comparison.
//!
//! Chart data is computed into plain structs first; drawing only maps them to pixels, with one
//! embedded font and one fixed palette ([`style`]). Drawing errors are returned, never unwrapped.

pub mod overlay;
pub mod compare;
pub mod run;
pub mod style;

pub use style::{save, Chart, ChartFiles};
