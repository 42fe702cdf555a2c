//! The sweep file (`zkchaos sweep <sweep.toml>`): axes, objective, steps, CPU budget, and their expansion into
//! points.
//!
//! A sweep file is TOML with a top-level `repeat` (so the profile loader's bundled-profile test
//! skips it, as it skips suite files) and an `[axes]` table. Every table rejects unknown keys;
//! [`SweepFile::validate`] returns one sentence naming the field, the value, and what would be
//! valid. [`SweepFile::points`] expands the axes into the cross product, grouped as the
//! orchestrator runs them: one ensemble per (image, size), its `steady` and `degraded` points in
//! the order `[ensemble] order` gives for the repetition ([`super::schedule`]).

use super::schedule::EnsembleSchedule;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The state of the ensemble while a point is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Every server up.
    Steady,
    /// One follower stopped (the ensemble still has a quorum).
    Degraded,
    /// The load measured while a reconfig expansion to `size + 2` runs (a fresh ensemble per step).
    Expanding,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Steady => "steady",
            State::Degraded => "degraded",
            State::Expanding => "expanding",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The whole sweep file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    /// Names the output directory `results/sweeps/<name>/<timestamp>/`.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Repetitions of every point (each its own closed-loop levels and shuffled curve; the
    /// curve is fitted to every repetition's steps together).
    pub repeat: u32,
    /// Seed of the operation mix (each step uses it, so the mix is the same at every rate).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Results root; the sweep goes to `<results>/sweeps/<name>/<timestamp>/`.
    #[serde(default = "default_results")]
    pub results: String,
    pub axes: Axes,
    #[serde(default)]
    pub objective: Objective,
    #[serde(default)]
    pub steps: Steps,
    #[serde(default)]
    pub closed_loop: ClosedLoop,
    #[serde(default)]
    pub driver: DriverLimits,
    /// The CPU budget of every server container and the load driver's own CPU.
    #[serde(default)]
    pub cpu: CpuBudget,
    /// The state order on a shared ensemble, and the discarded warm-up and settle time before
    /// measuring on a fresh ensemble or after a state change.
    #[serde(default)]
    pub ensemble: EnsembleSchedule,
    /// JVM heap per server, MiB.
    #[serde(default = "default_heap")]
    pub heap_mb: u32,
    /// Keys `/zkchaos/keys/k<i>` read and written.
    #[serde(default = "default_keys")]
    pub keys: u32,
}

fn default_seed() -> u64 {
    1
}
fn default_results() -> String {
    "results".into()
}
fn default_heap() -> u32 {
    256
}
fn default_keys() -> u32 {
    100
}

/// What is swept. Reads are `get`, writes are `set` (a read ratio of 80 is `get=80,set=20`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axes {
    pub size: Vec<u32>,
    pub read_pct: Vec<u32>,
    #[serde(default = "default_states")]
    pub state: Vec<State>,
    #[serde(default = "default_value_size")]
    pub value_size: Vec<u32>,
    #[serde(default = "default_sessions")]
    pub sessions: Vec<u32>,
    #[serde(default = "default_images")]
    pub image: Vec<String>,
}

fn default_states() -> Vec<State> {
    vec![State::Steady]
}
fn default_value_size() -> Vec<u32> {
    vec![100]
}
fn default_sessions() -> Vec<u32> {
    vec![4]
}
fn default_images() -> Vec<String> {
    vec!["zkchaos/zookeeper:3.8.0".into()]
}

/// The latency objective a step must meet to count as sustainable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Objective {
    /// p99 of all issued operations (failures included), from each op's intended start, ms.
    pub p99_ms: f64,
    /// Failed + indeterminate operations over all issued, as a fraction (0.001 = 0.1 %).
    pub max_error_rate: f64,
}

impl Default for Objective {
    fn default() -> Self {
        Objective { p99_ms: 20.0, max_error_rate: 0.001 }
    }
}

/// The open-loop steps of a point's curve (see [`super::curve`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Steps {
    /// Rates per round, spread geometrically over the range and held in a shuffled order.
    pub count: u32,
    /// The range, as fractions of the point's closed-loop saturation throughput.
    pub low: f64,
    pub high: f64,
    /// Fixed range ends, ops/s (both non-zero: used instead of `low`/`high`).
    pub low_rate: u32,
    pub high_rate: u32,
    /// Never offer less / more than this, ops/s.
    pub min_rate: u32,
    pub max_rate: u32,
    /// Unmeasured load before each step's window, s.
    pub warmup_s: f64,
    /// The measured window of each step, s.
    pub measure_s: f64,
    /// The answer is the rate where the objective is met with this probability.
    pub level: f64,
    /// Bootstrap resamples of the interval, and its confidence.
    pub bootstrap: u32,
    pub ci_level: f64,
    /// Steps of one further round past the range when the first round only bounded the answer
    /// (0 = none); it reaches up to ×3 (or down to ÷3) of the range's end.
    pub extend: u32,
}

impl Default for Steps {
    fn default() -> Self {
        Steps {
            count: 10,
            low: 0.3,
            high: 1.3,
            low_rate: 0,
            high_rate: 0,
            min_rate: 20,
            max_rate: 100_000,
            warmup_s: 0.5,
            measure_s: 2.0,
            level: 0.9,
            bootstrap: 1000,
            ci_level: 0.9,
            extend: 5,
        }
    }
}

/// Closed-loop steps: the saturation reference and the data of the USL fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClosedLoop {
    /// Concurrency levels, measured in `steady` state (the USL fit needs 6 or more); `degraded`
    /// and `expanding` points measure only the largest, as their saturation reference.
    pub in_flight: Vec<u32>,
    pub warmup_s: f64,
    pub measure_s: f64,
}

impl Default for ClosedLoop {
    fn default() -> Self {
        ClosedLoop { in_flight: vec![1, 2, 4, 8, 16, 32, 64], warmup_s: 0.5, measure_s: 1.5 }
    }
}

/// When a step says more about the load driver than about ZooKeeper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DriverLimits {
    /// Schedule lag (actual − intended start) p99 above this marks an open-loop step
    /// driver-limited, ms.
    pub max_lag_p99_ms: f64,
    /// Issued rate below this fraction of the offered rate marks an open-loop step driver-limited.
    pub min_issued_fraction: f64,
    /// The driver's process CPU at or above this marks any step (open or closed loop)
    /// driver-limited, cores (0.9 of the one CPU it is pinned to, by default).
    pub max_cpu_cores: f64,
}

impl Default for DriverLimits {
    fn default() -> Self {
        DriverLimits { max_lag_p99_ms: 5.0, min_issued_fraction: 0.95, max_cpu_cores: 0.9 }
    }
}

/// Equal servers: a fixed CPU quota per ZooKeeper container (profile key `cluster.cpus`, Docker
/// `NanoCPUs`), optionally confined to host CPUs (`cluster.cpuset`), and the load driver pinned to
/// a CPU of its own, so that a stopped server frees nothing for the others and sizes compare
/// like separate hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CpuBudget {
    /// CPUs per server (e.g. 0.2); 0 = no quota (servers share the host: states and sizes do
    /// not compare).
    pub server_cpus: f64,
    /// Host CPUs the servers may run on (Docker cpuset syntax, e.g. "1"); absent = any.
    pub server_cpuset: Option<String>,
    /// Host CPU every thread of the load driver is pinned to; absent = not pinned.
    pub driver_cpu: Option<usize>,
}

impl Default for CpuBudget {
    fn default() -> Self {
        CpuBudget { server_cpus: 0.2, server_cpuset: None, driver_cpu: None }
    }
}

impl CpuBudget {
    /// The quota as the cluster layer takes it (`None` = no quota).
    pub fn quota(&self) -> Option<f64> {
        (self.server_cpus > 0.0).then_some(self.server_cpus)
    }
}

/// One point of the sweep: what is measured, not how often.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Point {
    pub image: String,
    pub size: u32,
    pub state: State,
    pub read_pct: u32,
    pub value_size: u32,
    pub sessions: u32,
}

impl Point {
    /// A short label: `3 servers, 80 % reads, degraded`.
    pub fn label(&self) -> String {
        format!("{} servers, {} % reads, {}", self.size, self.read_pct, self.state)
    }
}

/// Why a sweep file cannot be used: field, value, what is wrong and what would be valid.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("cannot read sweep file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("sweep file {path}: {detail}")]
    Parse { path: String, detail: String },
    #[error("sweep file {path}: `{field} = {value}` {reason}")]
    Invalid { path: String, field: String, value: String, reason: String },
}

impl From<SweepError> for crate::Error {
    fn from(e: SweepError) -> Self {
        crate::Error::bad_input(e)
    }
}

impl SweepFile {
    /// Read and validate a sweep file.
    pub fn load(path: &std::path::Path) -> Result<(SweepFile, String), SweepError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SweepError::Read { path: p.clone(), source })?;
        let file = SweepFile::parse(&text, &p)?;
        Ok((file, text))
    }

    pub fn parse(text: &str, source_name: &str) -> Result<SweepFile, SweepError> {
        let file: SweepFile =
            toml::from_str(text).map_err(|e| SweepError::Parse { path: source_name.into(), detail: e.to_string() })?;
        file.validate(source_name)?;
        Ok(file)
    }

    pub fn validate(&self, source_name: &str) -> Result<(), SweepError> {
        let bad = |field: &str, value: String, reason: &str| SweepError::Invalid {
            path: source_name.into(),
            field: field.into(),
            value,
            reason: reason.into(),
        };
        if self.name.is_empty()
            || !self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(bad(
                "name",
                format!("{:?}", self.name),
                "must be non-empty letters, digits, '-', '_' or '.' (it names a directory)",
            ));
        }
        if self.repeat == 0 || self.repeat > 20 {
            return Err(bad("repeat", self.repeat.to_string(), "must be between 1 and 20"));
        }
        let a = &self.axes;
        for (field, empty) in [
            ("axes.size", a.size.is_empty()),
            ("axes.read_pct", a.read_pct.is_empty()),
            ("axes.state", a.state.is_empty()),
            ("axes.value_size", a.value_size.is_empty()),
            ("axes.sessions", a.sessions.is_empty()),
            ("axes.image", a.image.is_empty()),
        ] {
            if empty {
                return Err(bad(field, "[]".into(), "must list at least one value"));
            }
        }
        if let Some(s) = a.size.iter().find(|s| **s == 0 || **s > 9) {
            return Err(bad("axes.size", s.to_string(), "must be between 1 and 9 servers"));
        }
        if a.state.contains(&State::Expanding) && a.size.iter().any(|s| s + 2 > 9) {
            return Err(bad(
                "axes.size",
                format!("{:?}", a.size),
                "with state `expanding` (to size + 2) every size must be at most 7",
            ));
        }
        if let Some(r) = a.read_pct.iter().find(|r| **r > 100) {
            return Err(bad("axes.read_pct", r.to_string(), "must be a percentage between 0 and 100"));
        }
        if let Some(v) = a.value_size.iter().find(|v| **v == 0 || **v > 1_000_000) {
            return Err(bad("axes.value_size", v.to_string(), "must be between 1 and 1000000 bytes"));
        }
        if let Some(v) = a.sessions.iter().find(|v| **v == 0 || **v > 256) {
            return Err(bad("axes.sessions", v.to_string(), "must be between 1 and 256"));
        }
        let o = &self.objective;
        if !(o.p99_ms > 0.0 && o.p99_ms.is_finite()) {
            return Err(bad("objective.p99_ms", o.p99_ms.to_string(), "must be a positive number of milliseconds"));
        }
        if !(0.0..1.0).contains(&o.max_error_rate) {
            return Err(bad(
                "objective.max_error_rate",
                o.max_error_rate.to_string(),
                "must be a fraction in [0, 1), e.g. 0.001 for 0.1 %",
            ));
        }
        self.validate_steps(&bad)?;
        self.validate_cpu(&bad)?;
        self.ensemble.validate(&bad)?;
        if self.heap_mb < 64 {
            return Err(bad("heap_mb", self.heap_mb.to_string(), "must be at least 64 MiB"));
        }
        if self.keys == 0 {
            return Err(bad("keys", "0".into(), "must be at least 1"));
        }
        Ok(())
    }

    fn validate_steps(&self, bad: &dyn Fn(&str, String, &str) -> SweepError) -> Result<(), SweepError> {
        let r = &self.steps;
        if !(3..=200).contains(&r.count) {
            return Err(bad("steps.count", r.count.to_string(), "must be 3–200 rates per round (e.g. 10)"));
        }
        if !(r.low > 0.0 && r.low < r.high && r.high <= 20.0) {
            return Err(bad("steps.low", format!("{} (high {})", r.low, r.high), "must be fractions of the saturation throughput with 0 < low < high ≤ 20, e.g. low = 0.3, high = 1.3"));
        }
        if (r.low_rate == 0) != (r.high_rate == 0) || (r.low_rate > 0 && r.low_rate >= r.high_rate) {
            return Err(bad("steps.low_rate", format!("{} (high_rate {})", r.low_rate, r.high_rate), "give both low_rate < high_rate in ops/s, or neither (the range then follows the closed-loop saturation)"));
        }
        if r.min_rate == 0 || r.min_rate >= r.max_rate {
            return Err(bad("steps.min_rate", r.min_rate.to_string(), "must be positive and below steps.max_rate"));
        }
        if !(0.5..=600.0).contains(&r.measure_s) || !(0.0..=600.0).contains(&r.warmup_s) {
            return Err(bad("steps.measure_s", r.measure_s.to_string(), "must be 0.5–600 s (and steps.warmup_s 0–600 s)"));
        }
        if !(r.level > 0.5 && r.level < 1.0) {
            return Err(bad("steps.level", r.level.to_string(), "must be a probability in (0.5, 1), e.g. 0.9"));
        }
        if !(r.ci_level > 0.0 && r.ci_level < 1.0) || r.bootstrap > 100_000 {
            return Err(bad("steps.ci_level", format!("{} (bootstrap {})", r.ci_level, r.bootstrap), "must be a confidence in (0, 1), e.g. 0.9, with bootstrap ≤ 100000 resamples"));
        }
        if r.extend > 100 {
            return Err(bad("steps.extend", r.extend.to_string(), "must be 0–100 steps"));
        }
        let c = &self.closed_loop;
        if c.in_flight.iter().any(|n| *n == 0 || *n > 4096) {
            return Err(bad("closed_loop.in_flight", format!("{:?}", c.in_flight), "must list levels between 1 and 4096"));
        }
        if !(0.5..=600.0).contains(&c.measure_s) || !(0.0..=600.0).contains(&c.warmup_s) {
            return Err(bad("closed_loop.measure_s", c.measure_s.to_string(), "must be 0.5–600 s (and closed_loop.warmup_s 0–600 s)"));
        }
        if r.low_rate == 0 && c.in_flight.is_empty() {
            return Err(bad("steps.low_rate", "0".into(), "(auto) needs closed_loop.in_flight levels to find the saturation; give low_rate and high_rate or levels"));
        }
        Ok(())
    }

    /// The largest ensemble the sweep starts (an `expanding` point grows to size + 2).
    pub fn largest_ensemble(&self) -> u32 {
        let grow = if self.axes.state.contains(&State::Expanding) { 2 } else { 0 };
        self.axes.size.iter().map(|s| s + grow).max().unwrap_or(1)
    }

    fn validate_cpu(&self, bad: &dyn Fn(&str, String, &str) -> SweepError) -> Result<(), SweepError> {
        let cpu = &self.cpu;
        if !(cpu.server_cpus == 0.0 || (0.01..=64.0).contains(&cpu.server_cpus)) {
            return Err(bad("cpu.server_cpus", cpu.server_cpus.to_string(), "must be 0 (no quota) or 0.01–64 CPUs per server, e.g. 0.2"));
        }
        let Some(set) = &cpu.server_cpuset else { return Ok(()) };
        let cpus = crate::profile::cpuset_cpus(set).map_err(|why| {
            bad("cpu.server_cpuset", format!("{set:?}"), &format!("is not a CPU set: {why}; use Docker's --cpuset-cpus syntax, e.g. \"1\" or \"1-3\""))
        })?;
        let need = cpu.server_cpus * f64::from(self.largest_ensemble());
        if need > cpus.len() as f64 + 1e-9 {
            return Err(bad(
                "cpu.server_cpus",
                cpu.server_cpus.to_string(),
                &format!("× {} servers = {need:.2} CPUs exceeds the {} CPU(s) of cpu.server_cpuset {set:?}: a quota the CPUs cannot grant is no budget; lower server_cpus or widen the cpuset", self.largest_ensemble(), cpus.len()),
            ));
        }
        if let Some(d) = cpu.driver_cpu.filter(|d| cpus.contains(&(*d as u32))) {
            return Err(bad("cpu.driver_cpu", d.to_string(), &format!("is one of the servers' CPUs ({set:?}): the driver needs a CPU of its own")));
        }
        Ok(())
    }

    /// Every point, grouped as run: per image and size (one ensemble), steady for every mix, value
    /// size and session count, then degraded (run in the order `ensemble.order` gives the
    /// repetition), then expanding. `degraded` for one server (nothing
    /// to lose but the whole service) is skipped; [`SweepFile::skipped`] lists it.
    pub fn points(&self) -> Vec<Point> {
        let a = &self.axes;
        let mut out = Vec::new();
        for image in &a.image {
            for &size in &a.size {
                for state in [State::Steady, State::Degraded, State::Expanding] {
                    if !a.state.contains(&state) || (state == State::Degraded && size < 2) {
                        continue;
                    }
                    for &read_pct in &a.read_pct {
                        for &value_size in &a.value_size {
                            for &sessions in &a.sessions {
                                out.push(Point { image: image.clone(), size, state, read_pct, value_size, sessions });
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// Axis combinations that are not measured, with why.
    pub fn skipped(&self) -> Vec<String> {
        let a = &self.axes;
        if a.state.contains(&State::Degraded) && a.size.contains(&1) {
            vec!["degraded × 1 server: stopping the only server leaves nothing to measure".into()]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICK: &str = r#"
name = "q"
repeat = 1
[axes]
size = [1, 3]
read_pct = [100, 0]
state = ["steady", "degraded"]
"#;

    #[test]
    fn expands_in_run_order_and_skips_degraded_single_server() {
        let f = SweepFile::parse(QUICK, "q.toml").unwrap();
        let p = f.points();
        let labels: Vec<String> = p.iter().map(Point::label).collect();
        assert_eq!(
            labels,
            [
                "1 servers, 100 % reads, steady",
                "1 servers, 0 % reads, steady",
                "3 servers, 100 % reads, steady",
                "3 servers, 0 % reads, steady",
                "3 servers, 100 % reads, degraded",
                "3 servers, 0 % reads, degraded",
            ]
        );
        assert_eq!(f.skipped().len(), 1);
        assert_eq!(p[0].image, "zkchaos/zookeeper:3.8.0");
        assert_eq!(f.objective, Objective::default());
    }

    #[test]
    fn errors_name_the_field() {
        let e = SweepFile::parse(&QUICK.replace("[100, 0]", "[100, 120]"), "q.toml").unwrap_err().to_string();
        assert!(e.contains("axes.read_pct = 120"), "{e}");
        let e = SweepFile::parse(&format!("{QUICK}\n[steps]\ncount = 1\n"), "q.toml").unwrap_err().to_string();
        assert!(e.contains("steps.count"), "{e}");
        let e = SweepFile::parse(&format!("{QUICK}\n[steps]\ncont = 2\n"), "q.toml").unwrap_err().to_string();
        assert!(e.contains("cont"), "{e}");
        // A budget the cpuset cannot grant, and a driver CPU inside the servers' set.
        let e = SweepFile::parse(&format!("{QUICK}\n[cpu]\nserver_cpus = 0.5\nserver_cpuset = \"1\"\n"), "q.toml").unwrap_err().to_string();
        assert!(e.contains("cpu.server_cpus = 0.5") && e.contains("1.50 CPUs exceeds"), "{e}");
        let e = SweepFile::parse(&format!("{QUICK}\n[cpu]\nserver_cpus = 0.3\nserver_cpuset = \"1\"\ndriver_cpu = 1\n"), "q.toml").unwrap_err().to_string();
        assert!(e.contains("cpu.driver_cpu = 1"), "{e}");
        let e = SweepFile::parse(&format!("{QUICK}\n[cpu]\nserver_cpuset = \"2-1\"\n"), "q.toml").unwrap_err().to_string();
        assert!(e.contains("cpu.server_cpuset"), "{e}");
        let e = SweepFile::parse(&QUICK.replace("\"degraded\"", "\"broken\""), "q.toml").unwrap_err().to_string();
        assert!(e.contains("broken"), "{e}");
        let e = SweepFile::parse(&format!("{QUICK}\n[ensemble]\nsettle_s = 700\n"), "q.toml").unwrap_err().to_string();
        assert!(e.contains("ensemble.settle_s = 700"), "{e}");
        let e = SweepFile::parse(&format!("{QUICK}\n[ensemble]\norder = \"random\"\n"), "q.toml").unwrap_err().to_string();
        assert!(e.contains("random") && e.contains("alternate"), "{e}");
        let e = SweepFile::parse(&format!("{QUICK}\n[ensemble]\nwarmup = 3\n"), "q.toml").unwrap_err().to_string();
        assert!(e.contains("warmup"), "{e}");
    }

    #[test]
    fn bundled_sweeps_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
        for stem in ["capacity-quick", "capacity-full"] {
            let path = dir.join(format!("{stem}.toml"));
            let (f, _) = SweepFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(f.name, stem);
            assert!(!f.points().is_empty());
        }
    }
}
