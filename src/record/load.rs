//! Reading a run directory back: [`RunData`] is everything recorded, nothing derived.
//! `zkchaos analyze` re-enters the pipeline here.
//!
//! Both the live run and `zkchaos analyze` build the summary from `load_run(dir)`, so the two
//! cannot disagree. Files of an aborted run may be missing or cut short: what is missing is noted
//! (and makes the affected check UNKNOWN) instead of failing, except `plan.json`, without which
//! nothing can be interpreted.

use super::meta::RunMeta;
use super::readback::ServerReadback;
use super::RecordError;
use crate::plan::Plan;
use super::{Mark, MntrScrape, ModeSample, OpEvent};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use super::files::{
    CHARTS_DIR, EVENTS_FILE, LOGS_DIR, MARKS_FILE, META_FILE, MONITOR_FILE, PLAN_FILE, READBACK_FILES, SUMMARY_FILE, TIMELINE_FILE,
};

/// The recorded inputs of one run.
#[derive(Debug, Clone)]
pub struct RunData {
    pub plan: Plan,
    /// Absent if the run died before writing it.
    pub meta: Option<RunMeta>,
    /// Short id (from `meta.json`, else the directory name).
    pub run_id: String,
    /// The operations: streamed from `events.csv.gz` by the analysis, never all held by
    /// [`load_run`] (an hour at 2,000 ops/s is 7.2 M events).
    pub events: Events,
    pub marks: Vec<Mark>,
    pub samples: Vec<ModeSample>,
    /// `None` when no read-back was stored (the audit is then UNKNOWN).
    pub readbacks: Option<Vec<ServerReadback>>,
    /// The harness's own RSS and descriptors (`process.csv`; empty for runs made before it).
    pub process: Vec<super::ProcessSample>,
    /// Each server's log (`logs/zk<N>.log`), streamed by the analysis; empty if none was saved.
    pub server_logs: BTreeMap<u32, ServerLog>,
    /// The end-of-run `mntr`/`srvr` answers (`mntr.json`); `None` when not stored.
    pub mntr: Option<Vec<MntrScrape>>,
    /// The load agents (`agents.json`); `None` when the load ran in the control process.
    pub agents: Option<Vec<super::RecordedAgent>>,
    /// What was missing or cut short, in words (goes to the summary's notes).
    pub notes: Vec<String>,
}

impl RunData {
    /// Assemble from in-memory parts (tests, or a caller that has not written files).
    pub fn new(
        plan: Plan,
        meta: Option<RunMeta>,
        events: Events,
        marks: Vec<Mark>,
        samples: Vec<ModeSample>,
        readbacks: Option<Vec<ServerReadback>>,
    ) -> RunData {
        let run_id = meta.as_ref().map(|m| m.run_id.clone()).unwrap_or_default();
        RunData {
            plan,
            meta,
            run_id,
            events,
            marks,
            samples,
            readbacks,
            process: Vec::new(),
            server_logs: BTreeMap::new(),
            mntr: None,
            agents: None,
            notes: Vec::new(),
        }
    }
}

/// Where a run's events are.
#[derive(Debug, Clone)]
pub enum Events {
    /// An `events.csv.gz` (or `events.csv`) to stream.
    File(std::path::PathBuf),
    /// Held in memory (tests, or a caller that has not written files).
    Memory(Vec<OpEvent>),
}

/// Where one server's log is.
#[derive(Debug, Clone)]
pub enum ServerLog {
    /// `logs/zk<N>.log`, streamed line by line.
    File(PathBuf),
    /// Held in memory (tests).
    Text(String),
}

impl ServerLog {
    /// Every line, in order (invalid UTF-8 replaced), without holding the file.
    pub fn for_each_line(&self, mut f: impl FnMut(&str)) -> Result<(), RecordError> {
        match self {
            ServerLog::Text(t) => t.lines().for_each(f),
            ServerLog::File(path) => {
                use std::io::BufRead;
                let file = std::fs::File::open(path).map_err(|source| RecordError::Open { path: path.clone(), source })?;
                let mut r = std::io::BufReader::new(file);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    let n = r.read_until(b'\n', &mut buf).map_err(|source| RecordError::Read { path: path.clone(), source })?;
                    if n == 0 {
                        break;
                    }
                    f(&String::from_utf8_lossy(&buf));
                }
            }
        }
        Ok(())
    }
}

/// `logs/zk<N>.log` files below `dir`, by server id.
pub fn server_logs_in(dir: &Path) -> BTreeMap<u32, ServerLog> {
    let Ok(rd) = std::fs::read_dir(dir.join(LOGS_DIR)) else { return BTreeMap::new() };
    rd.filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = name.strip_prefix("zk")?.strip_suffix(".log")?.parse().ok()?;
            Some((id, ServerLog::File(e.path())))
        })
        .collect()
}

/// Read the recorded files of the run in `dir` (events stay on disk: [`Events::File`]).
pub fn load_run(dir: &Path) -> Result<RunData, RecordError> {
    let plan_path = dir.join(PLAN_FILE);
    if !plan_path.is_file() {
        return Err(RecordError::Missing {
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
        .map(Events::File)
        .unwrap_or(Events::Memory(Vec::new()));
    let marks = present(dir, MARKS_FILE, "no phases or procedure steps", &mut notes)
        .map(|p| parsed(&p, super::read_marks(&p)))
        .transpose()?
        .unwrap_or_default();
    let samples = present(dir, MONITOR_FILE, "leadership cannot be judged", &mut notes)
        .map(|p| parsed(&p, super::read_monitor_csv(&p)))
        .transpose()?
        .unwrap_or_default();

    let mut readbacks = None;
    for name in READBACK_FILES {
        let p = dir.join(name);
        if p.is_file() {
            readbacks = Some(parsed(&p, super::load_readbacks(&p))?);
            break;
        }
    }
    if readbacks.is_none() {
        notes.push("no read-back stored: acknowledged writes could not be audited".to_string());
    }

    let process_path = dir.join(super::process::PROCESS_FILE);
    let process =
        if process_path.is_file() { parsed(&process_path, super::read_process_csv(&process_path))? } else { Vec::new() };

    let mntr_path = dir.join(super::MNTR_FILE);
    let mntr = if mntr_path.is_file() { Some(super::load_mntr(&mntr_path)?) } else { None };

    let mut data = RunData::new(plan, meta, events, marks, samples, readbacks);
    data.process = process;
    data.server_logs = server_logs_in(dir);
    data.mntr = mntr;
    let agents_path = dir.join(super::files::AGENTS_FILE);
    if agents_path.is_file() {
        data.agents = Some(super::load_agents(&agents_path)?);
    }
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
fn parsed<T, E: std::fmt::Display>(path: &Path, r: Result<T, E>) -> Result<T, RecordError> {
    r.map_err(|e| RecordError::Parse { path: path.to_path_buf(), detail: e.to_string() })
}

pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, RecordError> {
    let bytes = std::fs::read(path).map_err(|source| RecordError::Read { path: path.to_path_buf(), source })?;
    serde_json::from_slice(&bytes).map_err(|e| RecordError::Parse { path: path.to_path_buf(), detail: e.to_string() })
}

