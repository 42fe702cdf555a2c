//! zkchaos: chaos-and-load testing for Apache ZooKeeper.
//!
//! The parts follow Jepsen's architecture, named for this domain (see `STYLE.md`), and data flows
//! one way through them; no module imports one listed after it:
//!
//! 1. [`plan`] (+ [`profile`], which parses TOML into it): the validated scenario;
//! 2. act: [`cluster`] (the db: containers, zoo.cfg, the mode monitor), [`workload`] (generator +
//!    client: open-loop load, the read-back), [`procedure`] (the nemesis: expansions and faults,
//!    emitting timeline marks);
//! 3. [`record`]: the history (events, marks, monitor samples, read-backs, the run directory);
//! 4. [`analysis`]: figures derived from the record (pure);
//! 5. [`check`]: verdicts derived from the record (pure);
//! 6. [`report`]: summary assembly, console, charts, comparisons; then [`stats`] (medians,
//!    order-statistic intervals, exact rank tests), [`suite`] (suite files and their entries) and [`gate`]
//!    (verdicts for CI) over stored summaries;
//! 7. [`runner`]: the run lifecycle (phases, recorded load, progress) that `run` and `suite` call;
//! 8. [`commands`]: one module per subcommand, wiring the layers (the only place that knows the
//!    command line).

pub mod analysis;
pub mod check;
pub mod cluster;
pub mod commands;
pub mod error;
pub mod gate;
pub mod capacity;
pub mod plan;
pub mod procedure;
pub mod profile;
pub mod record;
pub mod report;
pub mod runner;
pub mod stats;
pub mod suite;
pub mod workload;

pub use error::{Error, Result};
