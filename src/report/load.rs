//! Reading a run directory back: [`RunData`] is everything recorded, nothing derived.
//!
//! Both the live run and `zkchaos analyze` build the summary from `load_run(dir)`, so the two
//! cannot disagree. Files of an aborted run may be missing or cut short: what is missing is noted
//! (and makes the affected check UNKNOWN) instead of failing, except `plan.json`, without which
//! nothing can be interpreted.

use super::meta::RunMeta;
use super::ReportError;
use crate::check::ServerReadback;
use crate::plan::Plan;
use crate::record::{Mark, MarkKind, ModeSample, OpEvent};
use std::path::Path;

pub const PLAN_FILE: &str = "plan.json";
pub const META_FILE: &str = "meta.json";
pub const EVENTS_FILE: &str = "events.csv.gz";
pub const MARKS_FILE: &str = "marks.json";
pub const MONITOR_FILE: &str = "monitor.csv";
/// Read-backs for the audit; the plain `.json` spelling is accepted too.
pub const READBACK_FILES: [&str; 2] = ["readback.json.gz", "readback.json"];
pub const SUMMARY_FILE: &str = "summary.json";
pub const TIMELINE_FILE: &str = "timeline.csv";
pub const CHARTS_DIR: &str = "charts";

/// The recorded inputs of one run.
#[derive(Debug, Clone)]
pub struct RunData {
    pub plan: Plan,
    /// Absent if the run died before writing it.
    pub meta: Option<RunMeta>,
    /// Short id (from `meta.json`, else the directory name).
    pub run_id: String,
    pub events: Vec<OpEvent>,
    pub marks: Vec<Mark>,
    pub samples: Vec<ModeSample>,
    /// `None` when no read-back was stored (the audit is then UNKNOWN).
    pub readbacks: Option<Vec<ServerReadback>>,
    /// From the start of `phase:procedure` to the `converged` mark, ms.
    pub converge_ms: Option<u64>,
    /// What was missing or cut short, in words (goes to the summary's notes).
    pub notes: Vec<String>,
}

impl RunData {
    /// Assemble from in-memory parts (tests, or a caller that has not written files).
    pub fn new(
        plan: Plan,
        meta: Option<RunMeta>,
        events: Vec<OpEvent>,
        marks: Vec<Mark>,
        samples: Vec<ModeSample>,
        readbacks: Option<Vec<ServerReadback>>,
    ) -> RunData {
        let run_id = meta.as_ref().map(|m| m.run_id.clone()).unwrap_or_default();
        let converge_ms = converge_ms(&marks);
        RunData { plan, meta, run_id, events, marks, samples, readbacks, converge_ms, notes: Vec::new() }
    }
}

/// From the start of the procedure phase to the first `converged` mark after it, ms.
pub fn converge_ms(marks: &[Mark]) -> Option<u64> {
    let start = marks.iter().find(|m| m.label == "phase:procedure" && m.kind == MarkKind::Start)?.at_us;
    let conv = marks.iter().filter(|m| m.label == "converged" && m.at_us >= start).map(|m| m.at_us).min()?;
    Some((conv - start) / 1000)
}

/// Read every recorded file of the run in `dir`.
pub fn load_run(dir: &Path) -> Result<RunData, ReportError> {
    let plan_path = dir.join(PLAN_FILE);
    if !plan_path.is_file() {
        return Err(ReportError::Missing {
            path: plan_path,
            what: "the run's plan; is this a zkchaos run directory (results/<profile>/<timestamp>-<id>)?".into(),
        });
    }
    let plan: Plan = read_json(&plan_path)?;
    let mut notes = Vec::new();

    let meta = present(dir, META_FILE, "start time and environment unknown", &mut notes)
        .map(|p| read_json::<RunMeta>(&p))
        .transpose()?;
    let events = present(dir, EVENTS_FILE, "no per-operation figures", &mut notes)
        .map(|p| parsed(&p, crate::record::read_events(&p)))
        .transpose()?
        .unwrap_or_default();
    let marks = present(dir, MARKS_FILE, "no phases or procedure steps", &mut notes)
        .map(|p| parsed(&p, crate::record::read_marks(&p)))
        .transpose()?
        .unwrap_or_default();
    let samples = present(dir, MONITOR_FILE, "leadership cannot be judged", &mut notes)
        .map(|p| parsed(&p, crate::check::read_monitor_csv(&p)))
        .transpose()?
        .unwrap_or_default();

    let mut readbacks = None;
    for name in READBACK_FILES {
        let p = dir.join(name);
        if p.is_file() {
            readbacks = Some(parsed(&p, crate::check::load_readbacks(&p))?);
            break;
        }
    }
    if readbacks.is_none() {
        notes.push("no read-back stored: acknowledged writes could not be audited".to_string());
    }

    let mut data = RunData::new(plan, meta, events, marks, samples, readbacks);
    if data.run_id.is_empty() {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        data.run_id = name.rsplit('-').next().unwrap_or(&name).to_string();
    }
    data.notes = notes;
    Ok(data)
}

/// `dir/name` if it exists; otherwise "<name> missing: <consequence>" goes to `notes` (a partial
/// run is still analysed without it).
fn present(dir: &Path, name: &str, consequence: &str, notes: &mut Vec<String>) -> Option<std::path::PathBuf> {
    let path = dir.join(name);
    if path.is_file() {
        Some(path)
    } else {
        notes.push(format!("{name} missing: {consequence}"));
        None
    }
}

/// A reader's result, its error naming the file.
fn parsed<T, E: std::fmt::Display>(path: &Path, r: Result<T, E>) -> Result<T, ReportError> {
    r.map_err(|e| ReportError::Parse { path: path.to_path_buf(), detail: e.to_string() })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ReportError> {
    let bytes = std::fs::read(path).map_err(|source| ReportError::Read { path: path.to_path_buf(), source })?;
    serde_json::from_slice(&bytes).map_err(|e| ReportError::Parse { path: path.to_path_buf(), detail: e.to_string() })
}

/// Read a stored `summary.json`.
pub fn read_summary(path: &Path) -> Result<super::summary::Summary, ReportError> {
    let value: serde_json::Value = read_json(path)?;
    let version = value.get("schema_version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version != u64::from(super::summary::SCHEMA_VERSION) {
        return Err(ReportError::Parse {
            path: path.to_path_buf(),
            detail: format!(
                "summary schema_version {version}, this zkchaos reads {}; re-create it with `zkchaos analyze <run dir>`",
                super::summary::SCHEMA_VERSION
            ),
        });
    }
    serde_json::from_value(value).map_err(|e| ReportError::Parse { path: path.to_path_buf(), detail: e.to_string() })
}
