//! The names of a run directory's files, each spelled once. Everything that writes or reads a
//! run directory ([`super::RunDir`], the recorder, the monitor, the process sampler, the
//! read-back, the report, `zkchaos load`, `analyze`, the gate) takes its names from here.
//!
//! | file | written by | holds |
//! |---|---|---|
//! | `status` | the runner | `running`, `complete` or `aborted: <why>` |
//! | `profile.toml`, `plan.json`, `meta.json` | the runner (`zkchaos load`: plan, meta) | the input, the validated plan, host and versions |
//! | `events.csv.gz`, `timeline.csv`, `marks.json`, `latency-<kind>.hlog` | the recorder | every operation, per-interval series, procedure marks, histograms |
//! | `monitor.csv` | the mode monitor | server-mode samples |
//! | `process.csv` | the process sampler | the harness's own footprint |
//! | `readback.json.gz`, `mntr.json` | the runner's read-back phase | what every server holds at the end |
//! | `logs/zk<N>.log` | the runner (from the engines) | server logs |
//! | `agents.json` | the runner, with load agents | each agent's operations, lag, CPU and end (finished, lost) |
//! | `summary.json`, `charts/`, `report.html`, `metrics.om` | the report | derived figures and drawings |

/// The run's status: `running`, `complete` or `aborted: <why>`.
pub const STATUS_FILE: &str = "status";
/// Name of the link to the newest run in a group directory.
pub const LATEST_LINK: &str = "latest";
/// The profile as given (TOML text).
pub const PROFILE_FILE: &str = "profile.toml";
pub const PLAN_FILE: &str = "plan.json";
pub const META_FILE: &str = "meta.json";
pub const EVENTS_FILE: &str = "events.csv.gz";
pub const MARKS_FILE: &str = "marks.json";
pub const MONITOR_FILE: &str = "monitor.csv";
pub const TIMELINE_FILE: &str = "timeline.csv";
pub const PROCESS_FILE: &str = "process.csv";
pub const MNTR_FILE: &str = "mntr.json";
/// Where the read-backs are written.
pub const READBACK_FILE: &str = READBACK_FILES[0];
/// Read-backs for the audit; the plain `.json` spelling is accepted too.
pub const READBACK_FILES: [&str; 2] = ["readback.json.gz", "readback.json"];
pub const SUMMARY_FILE: &str = "summary.json";
/// Per-agent accounts of a run with load agents (`agents::run`).
pub const AGENTS_FILE: &str = "agents.json";
/// `zkchaos load`'s summary.
pub const LOAD_SUMMARY_FILE: &str = "load-summary.json";
pub const CHARTS_DIR: &str = "charts";
/// Server logs, `zk<N>.log` each.
pub const LOGS_DIR: &str = "logs";
/// The self-contained HTML report.
pub const REPORT_FILE: &str = "report.html";
/// Time series and figures as OpenMetrics text.
pub const OPENMETRICS_FILE: &str = "metrics.om";

/// The HdrHistogram interval log of one operation kind, `latency-<kind>.hlog`.
pub fn hlog_file(kind: &str) -> String {
    format!("latency-{kind}.hlog")
}
