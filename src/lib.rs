//! zkchaos: chaos-and-load testing for Apache ZooKeeper.
//!
//! The parts follow Jepsen's architecture, named for this domain (see `STYLE.md`):
//! [`cluster`] (the db: containers and zoo.cfg), [`workload`] (generator + client: open-loop
//! load), [`procedure`] (the nemesis: expansion procedures and faults, emitting timeline marks),
//! [`record`] (the history: events, marks, monitor samples and the recorder task),
//! [`analysis`] (figures derived from recorded events), [`check`] (safety checkers),
//! [`report`] (results directory, summary, charts, comparisons). [`run`] ties them together.
//!
//! Data flows one way: profile → [`plan::Plan`] → cluster + workload + procedure →
//! events/marks → checks → results on disk → charts and comparisons.

pub mod analysis;
pub mod check;
pub mod cli;
pub mod cluster;
pub mod error;
pub mod plan;
pub mod procedure;
pub mod profile;
pub mod record;
pub mod report;
pub mod run;
pub mod test_hooks;
pub mod workload;

pub mod gate;
pub mod stats;
pub mod suite;

pub use error::{Error, Result};

use cli::{Cli, Command, ImageCommand};

/// Log to stderr; `RUST_LOG=zkchaos=debug` for more.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("zkchaos=info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

/// Run one command; returns the process exit code.
pub async fn dispatch(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Run(args) => gate::commands::run(args).await,
        Command::Load(args) => workload::commands::load(args).await,
        Command::Image(ImageCommand::Build { tag, force }) => cluster::commands::image_build(&tag, force).await,
        Command::Cluster(cmd) => cluster::commands::cluster(cmd).await,
        Command::Clean(args) => cluster::commands::clean(args).await,
        Command::Compare(args) => report::commands::compare(args).await,
        Command::Analyze(args) => report::commands::analyze(args).await,
        Command::Bench(args) => workload::bench::bench(args).await,
        Command::Suite(args) => suite::commands::suite(args).await,
        Command::Gate(args) => gate::commands::gate(args).await,
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("zkchaos: {e}");
            e.exit_code()
        }
    }
}
