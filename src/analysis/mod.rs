//! Figures derived from recorded data: pure functions over [`OpEvent`]s and [`Mark`]s, so a
//! stored run can be re-analysed without Docker and checkers can be tested on literal histories.
//!
//! - [`outage`]: longest interval without a successful completion, per class, exact;
//! - [`latency`]: per-kind quantiles and histograms (coordinated omission explained there);
//! - [`phases`]: phase windows from `phase:<name>` marks;
//! - [`windows`]: the impact window (procedure start → load stop) and cycle windows, the
//!   windows every judged figure is over;
//! - [`counts`]: operation counts by outcome and error class, achieved rate;
//! - [`run`]: event window, run length, kinds in play, procedure steps, convergence time;
//! - [`server_log`]: each server's log counted (levels, message classes, exceptions) — evidence;
//! - [`elections`]: each election from the monitor, next to what the servers logged about it.
//!
//! Timeline aggregation (`timeline.csv`) lives in [`crate::record::timeline`], shared with the
//! recorder; it is re-exported here.
//!
//! [`OpEvent`]: crate::record::OpEvent
//! [`Mark`]: crate::record::Mark

pub mod counts;
pub mod elections;
pub mod latency;
pub mod outage;
pub mod phases;
pub mod run;
pub mod server_log;
pub mod service;
pub mod stream;
pub mod windows;

pub use counts::{counts, OpCounts};
pub use latency::{histograms_by_kind, lag_quantiles, quantiles_by_kind, Quantiles};
pub use outage::{default_threshold_ms, outages, per_kind, per_session, Outage, OutageFigures, SessionOutages};
pub use phases::{phase_windows, Phases};
pub use run::{converge_ms, event_window, last_time_us, load_window, procedure_steps, settle_ms};
pub use service::{reconnect_after, service_outage, ServiceOutage, Spread};
pub use crate::record::timeline::{timeline, write_timeline_csv, TimelineRow};
