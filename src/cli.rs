//! Command-line interface: clap definitions and dispatch to the library.
//!
//! Each subcommand's arguments are a plain struct so the module that implements the command
//! takes exactly what it needs and can be called in-process from tests.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "zkchaos", version, about = "Chaos-and-load testing for Apache ZooKeeper ensembles: measures what expansion costs clients")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a profile: start an ensemble, drive load, run the procedure, check, write results.
    Run(RunArgs),
    /// Drive load alone against any ensemble (yours too) and write results.
    Load(LoadArgs),
    /// Build or inspect the ZooKeeper image.
    #[command(subcommand)]
    Image(ImageCommand),
    /// Start, inspect or remove an ensemble for manual exploration.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Remove every container, network and volume labelled by zkchaos (or one run's).
    Clean(CleanArgs),
    /// Compare runs: tables and charts per strategy.
    Compare(CompareArgs),
    /// Recompute summary, timeline and charts of a stored run, without Docker.
    Analyze(AnalyzeArgs),
    /// Measure the load driver itself (schedule lag, CPU per op, saturation, memory).
    Bench(BenchArgs),
    /// Run a suite: several profiles (or variants of one), repeated and interleaved, with statistics.
    Suite(SuiteArgs),
    /// Judge stored runs for CI: safety verdicts, limits, and a baseline comparison.
    Gate(GateArgs),
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Profile files (TOML); several run one after another.
    #[arg(required = true)]
    pub profiles: Vec<PathBuf>,
    /// Seed for the operation mix (overrides the profile's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Results root directory.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Leave containers, network and volumes in place after the run (prints how to remove them).
    #[arg(long)]
    pub keep: bool,
    /// Override phase durations (seconds) — handy for quick trials and tests.
    #[arg(long)]
    pub warmup: Option<f64>,
    #[arg(long)]
    pub post: Option<f64>,
    /// Override the load rate (ops/s).
    #[arg(long)]
    pub rate: Option<u32>,
    /// Judge the runs afterwards (as `zkchaos gate` does) when any of these is given.
    #[command(flatten)]
    pub gate: GateOpts,
}

#[derive(Debug, Args, Clone)]
pub struct LoadArgs {
    /// Comma-separated host:port list, e.g. 127.0.0.1:2181,127.0.0.1:2182.
    #[arg(long)]
    pub connect: String,
    /// Intended operations per second (open loop).
    #[arg(long, default_value_t = 1000)]
    pub rate: u32,
    /// How long to run, e.g. 60s, 2m.
    #[arg(long, default_value = "30s")]
    pub duration: humantime::Duration,
    /// Operation mix as weights, e.g. get=80,set=10,create=10.
    #[arg(long)]
    pub mix: Option<String>,
    /// Closed loop with this many requests in flight instead of a fixed rate.
    #[arg(long)]
    pub closed: Option<u32>,
    #[arg(long, default_value_t = 4)]
    pub sessions: u32,
    #[arg(long, default_value_t = 100)]
    pub keys: u32,
    #[arg(long, default_value_t = 100)]
    pub value_size: u32,
    #[arg(long, default_value = "2s")]
    pub op_timeout: humantime::Duration,
    #[arg(long, default_value = "10s")]
    pub session_timeout: humantime::Duration,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Results root directory (files go to <results>/load/<timestamp>-<id>/).
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
}

#[derive(Debug, Subcommand, Clone)]
pub enum ImageCommand {
    /// Build the image from Debian packages (no registry needed). Idempotent.
    Build {
        #[arg(long, default_value = "zkchaos/zookeeper:3.8.0")]
        tag: String,
        /// Rebuild even if the image exists.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand, Clone)]
pub enum ClusterCommand {
    /// Start an N-server ensemble and print its connect string.
    Up {
        #[arg(long, default_value_t = 3)]
        size: u32,
        #[arg(long, default_value = "zkchaos/zookeeper:3.8.0")]
        image: String,
        /// Start with dynamic configuration (reconfig enabled).
        #[arg(long)]
        dynamic: bool,
    },
    /// Show the servers of running ensembles.
    Status {
        #[arg(long)]
        run: Option<String>,
    },
    /// Remove an ensemble started with `cluster up`.
    Down {
        #[arg(long)]
        run: Option<String>,
    },
}

#[derive(Debug, Args, Clone)]
pub struct CleanArgs {
    /// Only this run's objects.
    #[arg(long)]
    pub run: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct CompareArgs {
    /// Run directories, or profile directories (every run below them).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[arg(long, default_value = "results/comparison")]
    pub out: PathBuf,
}

#[derive(Debug, Args, Clone)]
pub struct AnalyzeArgs {
    pub run_dir: PathBuf,
}

#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    /// Connect string of an ensemble to measure against; a 3-server ensemble is started if absent.
    #[arg(long)]
    pub connect: Option<String>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Which measurements: lag,cpu,saturation,memory (memory runs 10 minutes).
    #[arg(long, default_value = "lag,cpu,saturation")]
    pub only: String,
}

/// Thresholds and outputs of the CI gate, shared by `gate`, `run` and `suite`.
#[derive(Debug, Args, Clone, Default)]
pub struct GateOpts {
    /// Limit on the median longest outage in the procedure phase, e.g. read=2000,write=2000 (ms).
    #[arg(long, value_name = "read=MS,write=MS")]
    pub max_outage_ms: Option<String>,
    /// Limit on the median error rate in the procedure phase (fraction, e.g. 0.01).
    #[arg(long, value_name = "FRACTION")]
    pub max_error_rate: Option<f64>,
    /// Limit on the median p99 latency in the procedure phase (ms).
    #[arg(long, value_name = "MS")]
    pub max_p99_ms: Option<f64>,
    /// Limit on the median time to converge (ms); a run that never converged exceeds any limit.
    #[arg(long, value_name = "MS")]
    pub max_converge_ms: Option<f64>,
    /// Stored suite or run directory to compare against (entries matched by profile name).
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// Allowed worsening of a median against the baseline, e.g. 20% or 0.2 [default: 20%].
    #[arg(long, value_name = "PERCENT")]
    pub tolerance: Option<String>,
    /// Significance level of the Mann-Whitney U test [default: 0.05].
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Runs needed on each side for the rank test; fewer → weak comparison [default: 3].
    #[arg(long, value_name = "N")]
    pub min_repeats: Option<usize>,
    /// With fewer than --min-repeats runs, cannot judge (exit 2) instead of the weak comparison.
    #[arg(long)]
    pub strict: bool,
    /// Accept UNKNOWN safety verdicts instead of exiting 2.
    #[arg(long)]
    pub allow_unknown: bool,
    /// Write the verdicts as JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the verdicts as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct SuiteArgs {
    /// Suite file (TOML): entries, repetitions, optional [gate].
    pub suite: PathBuf,
    /// Results root (the suite goes to <results>/suites/<name>/<timestamp>/); overrides the file's.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// One plain line per run start and end instead of a progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Check the suite file and every entry's profile, print the run order, run nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub gate: GateOpts,
}

#[derive(Debug, Args, Clone)]
pub struct GateArgs {
    /// A run directory, or a directory above runs (a suite directory, a profile directory).
    pub dir: PathBuf,
    /// A/A calibration: split each entry's runs into two halves N times and report how often the
    /// baseline rule fires although nothing changed (the false-alarm rate).
    #[arg(long, value_name = "N")]
    pub calibrate: Option<usize>,
    #[command(flatten)]
    pub gate: GateOpts,
}
