//! The command layer: one module per subcommand, each holding its clap arguments and the
//! orchestration that wires the library's layers together for that command.
//!
//! Everything below this layer is a library with one-way dependencies (see README "Design"):
//! `plan` → `cluster` / `workload` / `procedure` → `record` → `analysis` → `check` → `report`.
//! Only this layer knows about the command line, signals, and which layers a command needs.
//! [`dispatch`] runs one parsed command and maps its error to the exit code.

pub mod analyze;
pub mod args;
pub mod bench;
pub mod clean;
pub mod cluster;
pub mod compare;
pub mod completions;
pub mod export;
pub mod gate;
pub mod image;
pub mod load;
pub mod run;
pub mod suite;
pub mod sweep;

use clap::{Parser, Subcommand};

/// Exit codes, as README documents them.
pub const EXIT_CODES_HELP: &str = "Exit codes: 0 success; 1 a run failed; 2 bad input or environment \
(profile error, missing path, no Docker engine, image missing, port in use, not enough memory); \
3 the run completed but a safety check failed (data loss or two writable leaders); 130 interrupted.";

#[derive(Debug, Parser)]
#[command(
    name = "zkchaos",
    version,
    about = "Chaos-and-load testing for Apache ZooKeeper ensembles: measures what expansion costs clients",
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a profile: start an ensemble, drive load, run the procedure, check, write results.
    Run(run::RunArgs),
    /// Drive load alone against any ensemble (yours too) and write results.
    Load(load::LoadArgs),
    /// Build or inspect the ZooKeeper image.
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// Start, inspect or remove an ensemble for manual exploration.
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Remove every container, network and volume labelled by zkchaos (or one run's).
    Clean(clean::CleanArgs),
    /// Compare runs: tables and charts per strategy.
    Compare(compare::CompareArgs),
    /// Recompute summary, timeline and charts of a stored run (or load run), without Docker.
    Analyze(analyze::AnalyzeArgs),
    /// Measure the load driver itself (schedule lag, CPU per op, saturation, memory).
    Bench(bench::BenchArgs),
    /// Run a suite: several profiles (or variants of one), repeated and interleaved, with statistics.
    Suite(suite::SuiteArgs),
    /// Judge stored runs for CI: safety verdicts, limits, and a baseline comparison.
    Gate(gate::GateArgs),
    /// Print a run's time series and figures in another format (OpenMetrics text for Prometheus/Grafana).
    Export(export::ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff), or write one page per subcommand into a directory.
    Manpage(completions::ManpageArgs),
    /// Capacity planning: maximum sustainable throughput per ensemble size, mix and state.
    Sweep(sweep::SweepArgs),
}

/// Log to stderr; `RUST_LOG=zkchaos=debug` for more.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("zkchaos=info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

/// Run one command; returns the process exit code.
pub async fn dispatch(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Run(args) if args.profiles.is_empty() => Err(crate::Error::bad_input(format!(
            "no profile given: `zkchaos run <profile.toml>...`; {}",
            crate::profile::bundled_hint()
        ))),
        Command::Run(args) => run::run(args).await,
        Command::Load(args) => load::load(args).await,
        Command::Image(cmd) => image::image(cmd).await,
        Command::Cluster(cmd) => cluster::cluster(cmd).await,
        Command::Clean(args) => clean::clean(args).await,
        Command::Compare(args) => compare::compare(args).await,
        Command::Analyze(args) => analyze::analyze(args).await,
        Command::Bench(args) => bench::bench(args).await,
        Command::Suite(args) => suite::suite(args).await,
        Command::Gate(args) => gate::gate(args).await,
        Command::Export(args) => export::export(args).await,
        Command::Completions(args) => completions::completions(args),
        Command::Manpage(args) => completions::manpage(args),
        Command::Sweep(args) => sweep::sweep(args).await,
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("zkchaos: {}", e.chain_message());
            e.exit_code()
        }
    }
}
