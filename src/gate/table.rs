//! The `[gate]` table of a suite or profile: the same settings as the command-line options.

use serde::Deserialize;
use std::path::PathBuf;

/// A suite file's `[gate]` table: the same settings as the command-line options, which win.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateTable {
    pub max_outage_ms: Option<OutageLimits>,
    pub max_error_rate: Option<f64>,
    pub max_p99_ms: Option<f64>,
    pub max_converge_ms: Option<f64>,
    /// Relative to the current directory.
    pub baseline: Option<PathBuf>,
    /// `"20%"` or `0.2`.
    pub tolerance: Option<toml::Value>,
    pub alpha: Option<f64>,
    pub min_repeats: Option<usize>,
    pub strict: Option<bool>,
    pub allow_unknown: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutageLimits {
    pub read: Option<f64>,
    pub write: Option<f64>,
}

