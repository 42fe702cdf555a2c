//! Argument types shared by several subcommands.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A duration on the command line: `5s`, `500ms`, `2m`, `1h30m` (humantime syntax) or a bare
/// number of seconds (`5`, `0.5`). One type for every duration option, so all accept the same.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DurationArg(pub Duration);

impl FromStr for DurationArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Ok(secs) = t.parse::<f64>() {
            if !secs.is_finite() || secs < 0.0 {
                return Err(format!("{s:?} is not a duration: seconds must be a non-negative number"));
            }
            return Ok(DurationArg(Duration::from_secs_f64(secs)));
        }
        humantime::parse_duration(t)
            .map(DurationArg)
            .map_err(|e| format!("{s:?} is not a duration ({e}); write e.g. 5s, 500ms, 2m or a number of seconds"))
    }
}

impl fmt::Display for DurationArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl DurationArg {
    pub fn secs_f64(self) -> f64 {
        self.0.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_and_bare_seconds() {
        let d = |s: &str| s.parse::<DurationArg>().map(|d| d.0);
        assert_eq!(d("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(d("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(d("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(d("5"), Ok(Duration::from_secs(5)));
        assert_eq!(d("0.25"), Ok(Duration::from_millis(250)));
        assert!(d("-1").is_err());
        assert!(d("fast").unwrap_err().contains("5s, 500ms"));
    }
}

/// Overrides of a profile's phase lengths and load rate, shared by `run` and `hunt` (which
/// writes them into every runbook it draws, so the runbook replays as run).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PhaseOverrides {
    /// Override the warm-up phase (e.g. 5s, 500ms, or seconds).
    #[arg(long)]
    pub warmup: Option<DurationArg>,
    /// Override the post-procedure phase (e.g. 5s, 500ms, or seconds).
    #[arg(long)]
    pub post: Option<DurationArg>,
    /// Override the load rate (ops/s).
    #[arg(long)]
    pub rate: Option<u32>,
}
