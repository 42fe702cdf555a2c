//! zkchaos: chaos-and-load testing for Apache ZooKeeper.
//!
//! The parts follow Jepsen's architecture, named for this domain; data flows one way through
//! them and a module imports only modules of lower layers. The map, kept true by
//! `scripts/layers.py`, is `docs/design.md`; bottom layer first:
//!
//! 1. [`error`]: the crate's error and exit codes;
//! 2. [`plan`]: the validated scenario; [`profile`] parses and validates TOML into it;
//! 3. [`record`]: the history (events, marks, monitor samples, read-backs) and the run
//!    directory's one owner ([`record::RunDir`], file names in [`record::files`]);
//! 4. [`analysis`]: figures derived from the record (pure); [`check`]: verdicts (pure);
//! 5. act: [`cluster`] (the db: containers, zoo.cfg, the mode monitor), [`workload`] (generator +
//!    client: open-loop load, the read-back), [`procedure`] (the nemesis: expansions, runbooks and
//!    faults, emitting timeline marks);
//! 6. [`report`]: summary assembly, console, charts, HTML, comparisons;
//! 7. over stored summaries: [`stats`] (medians, order-statistic intervals, exact rank tests), [`gate`]
//!    (verdicts for CI), [`suite`] (suite files and their entries), [`capacity`] (sweeps);
//! 8. [`runner`]: one run's lifecycle (phases, recorded load, progress, the `ensemble` helper);
//!    [`hunt`]: seeded fault schedules, rates with exact intervals, shrinking (it runs runbooks
//!    through a runner it is given);
//! 9. [`commands`]: one module per subcommand: clap arguments, calling the layers above (the
//!    only place that knows the command line).

pub mod agents;
pub mod analysis;
pub mod check;
pub mod cluster;
pub mod commands;
pub mod error;
pub mod gate;
pub mod hunt;
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
