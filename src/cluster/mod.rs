//! The db layer: ZooKeeper servers in Docker containers, their zoo.cfg, and readiness.
//!
//! [`Backend`] is the seam procedures use (Docker's [`Cluster`] and the in-memory [`fake`]).
//! [`Cluster`] owns one run's network, volumes and containers (all labelled `zkchaos.run=<id>`)
//! and offers the operations procedures need: start, stop, kill, restart with a new config,
//! pause, wipe data, and `srvr` polling through the 127.0.0.1-published client ports.
//! [`config`] renders zoo.cfg files purely; [`fourlw`] speaks four-letter words; [`names`] holds
//! labels and object names; [`image`] knows the two supported image layouts; [`cleanup`]
//! removes objects by label; [`monitor`] polls every server's mode into `monitor.csv`.

pub mod backend;
pub mod cleanup;
pub mod config;
pub mod container;
pub mod docker;
pub mod docker_backend;
pub mod engine;
pub mod error;
pub mod fake;
pub mod fourlw;
pub mod image;
pub mod monitor;
pub mod names;
pub mod netfault;
pub mod offline;

pub use backend::{AdminSession, Backend, Capabilities, Netem};
pub use cleanup::{find_leftovers, remove_all, remove_run, warn_leftovers, Leftover, TeardownReport};
pub use config::{ConfigMode, RenderedConfig, ZooCfg};
pub use docker::{connect_docker, Cluster, ClusterSpec};
pub use engine::{connect_engines, memory_preflight, Engine};
pub use error::ClusterError;
pub use fourlw::{four_letter, parse_conf_membership, parse_srvr, srvr, FourLwError, Membership, SrvrInfo};
pub use image::{ImageKind, ImageSpec};
