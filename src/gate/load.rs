//! Reading runs for the gate: every run directory at or below a run, profile or suite directory,
//! grouped by profile name. Figures are read from the raw `summary.json` value, leniently: a field
//! added by a newer zkchaos (`outage_ms.per_session`) is used when present, and a field that is
//! missing becomes a "cannot judge" for the checks that need it rather than an error for the run.
//! Figures are over the impact window (`impact`), and per cycle (`cycles[]`) when present.

use super::{EntryRuns, Figure, RunFigures};
use crate::check::Verdict;
use crate::record::load::SUMMARY_FILE;
use crate::report::summary::SCHEMA_VERSION;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why runs could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("`{}` does not exist{hint}", path.display())]
    Absent { path: PathBuf, hint: String },
    #[error("no run directories (with plan.json or status) at or below `{}`", path.display())]
    NoRuns { path: PathBuf },
}

impl From<LoadError> for crate::Error {
    fn from(e: LoadError) -> Self {
        crate::Error::bad_input(e.to_string())
    }
}

/// Figures of one run from its summary JSON (the value as written to `summary.json`).
pub fn figures_from_json(dir: &Path, status: &str, summary: &Value) -> RunFigures {
    let mut r = RunFigures {
        dir: dir.to_path_buf(),
        status: status.to_string(),
        data_loss: Verdict::Unknown,
        single_leader: Verdict::Unknown,
        other_safety: BTreeMap::new(),
        values: BTreeMap::new(),
        cycle_values: BTreeMap::new(),
        problem: None,
    };
    let version = summary.get("schema_version").and_then(Value::as_u64);
    if version != Some(u64::from(SCHEMA_VERSION)) {
        r.problem = Some(format!(
            "summary schema_version {}, this zkchaos reads {SCHEMA_VERSION}; re-create it with `zkchaos analyze {}`",
            version.map_or("absent".to_string(), |v| v.to_string()),
            dir.display()
        ));
        return r;
    }
    let verdict = |name: &str| -> Option<Verdict> {
        serde_json::from_value(summary.get("checks")?.get(name)?.get("verdict")?.clone()).ok()
    };
    match (verdict("data_loss"), verdict("single_leader")) {
        (Some(d), Some(s)) => {
            r.data_loss = d;
            r.single_leader = s;
        }
        _ => {
            r.problem = Some("summary.json lacks checks.data_loss.verdict or checks.single_leader.verdict".into());
            return r;
        }
    }
    // Every other check with a verdict is safety too (stale reads are counted, never judged).
    if let Some(checks) = summary.get("checks").and_then(Value::as_object) {
        for name in checks.keys().filter(|n| !["data_loss", "single_leader", "stale_reads"].contains(&n.as_str())) {
            if let Some(v) = verdict(name) {
                r.other_safety.insert(name.clone(), v);
            }
        }
    }
    // Every figure is over the procedure's impact window (procedure start → load stop), and
    // per cycle over the cycle windows when the procedure repeated.
    let impact = summary.get("impact");
    for figure in Figure::ALL {
        let raw = match figure {
            Figure::ConvergeMs => summary.get("converge_ms"),
            _ => impact.and_then(|w| window_figure(w, figure)),
        };
        let Some(raw) = raw else { continue }; // missing: the checks that need it say so
        r.values.insert(figure, value_of(figure, raw));
        let cycles = summary.get("cycles").and_then(Value::as_array);
        let per_cycle: Vec<f64> = cycles
            .into_iter()
            .flatten()
            .filter_map(|c| if figure == Figure::ConvergeMs { c.get("converge_ms") } else { window_figure(c, figure) })
            .filter_map(|v| value_of(figure, v))
            .collect();
        if !per_cycle.is_empty() {
            r.cycle_values.insert(figure, per_cycle);
        }
    }
    r
}

/// A figure's raw value in a window object (`impact` or one of `cycles`).
fn window_figure(w: &Value, figure: Figure) -> Option<&Value> {
    match figure {
        Figure::P99Ms => lookup(w, "latency_all_us.all.p99"),
        Figure::ConvergeMs => None,
        _ => lookup(w, figure.window_path()),
    }
}

/// The value in the figure's unit: convergence null is never (infinitely slow), p99 µs → ms.
fn value_of(figure: Figure, raw: &Value) -> Option<f64> {
    match (figure, raw) {
        (Figure::ConvergeMs, Value::Null) => Some(f64::INFINITY),
        (Figure::P99Ms, v) => v.as_f64().map(|us| us / 1000.0),
        (_, v) => v.as_f64(),
    }
}

/// `a.b.c` inside a JSON value.
fn lookup<'a>(v: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(v, |v, k| v.get(k))
}

/// One run directory: its summary's figures, or the reason it cannot be judged.
pub fn load_run_figures(dir: &Path) -> RunFigures {
    let status = std::fs::read_to_string(dir.join(crate::record::rundir::STATUS_FILE))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown (no status file)".into());
    let path = dir.join(SUMMARY_FILE);
    let parsed = std::fs::read(&path)
        .map_err(|e| format!("cannot read {}: {e} (run status: {status})", path.display()))
        .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| format!("{} is not JSON: {e}", path.display())));
    match parsed {
        Ok(v) => figures_from_json(dir, &status, &v),
        Err(problem) => RunFigures {
            dir: dir.to_path_buf(),
            status,
            data_loss: Verdict::Unknown,
            single_leader: Verdict::Unknown,
            other_safety: BTreeMap::new(),
            values: BTreeMap::new(),
            cycle_values: BTreeMap::new(),
            problem: Some(problem),
        },
    }
}

/// Entry (profile) name of a run: the summary's `profile`, else plan.json's `name`, else the
/// parent directory's name.
fn entry_name(dir: &Path) -> String {
    let from = |file: &str, key: &str| -> Option<String> {
        let v: Value = serde_json::from_slice(&std::fs::read(dir.join(file)).ok()?).ok()?;
        v.get(key)?.as_str().map(str::to_string)
    };
    from(SUMMARY_FILE, "profile")
        .or_else(|| from(crate::record::files::PLAN_FILE, "name"))
        .or_else(|| dir.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// Every run at or below `dir`, grouped by entry name (sorted by name; runs sorted by directory,
/// which starts with the UTC timestamp).
pub fn load_entries(dir: &Path) -> Result<Vec<EntryRuns>, LoadError> {
    if !dir.exists() {
        return Err(LoadError::Absent { path: dir.to_path_buf(), hint: String::new() });
    }
    let mut dirs = Vec::new();
    walk(dir, 0, &mut dirs);
    dirs.sort();
    if dirs.is_empty() {
        return Err(LoadError::NoRuns { path: dir.to_path_buf() });
    }
    let mut groups: BTreeMap<String, Vec<RunFigures>> = BTreeMap::new();
    for d in dirs {
        groups.entry(entry_name(&d)).or_default().push(load_run_figures(&d));
    }
    Ok(groups.into_iter().map(|(name, runs)| EntryRuns { name, runs }).collect())
}

/// How deep below the given directory runs are looked for: `<root>/suites/<name>/<timestamp>/
/// <profile>/<run>` is 5 levels.
const MAX_DEPTH: usize = 6;

/// Run directories (with `plan.json` or `status`) at or below `dir`; symlinks (the `latest` links)
/// are not followed. Unreadable directories are passed over.
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if dir.join(crate::record::files::PLAN_FILE).is_file() || dir.join(crate::record::rundir::STATUS_FILE).is_file() {
        out.push(dir.to_path_buf());
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir() && !t.is_symlink()) {
            walk(&entry.path(), depth + 1, out);
        }
    }
}

/// Load the given run directories (e.g. those a `zkchaos run` just made).
pub fn load_dirs(dirs: &[PathBuf]) -> Vec<EntryRuns> {
    let mut groups: BTreeMap<String, Vec<RunFigures>> = BTreeMap::new();
    for d in dirs {
        groups.entry(entry_name(d)).or_default().push(load_run_figures(d));
    }
    groups.into_iter().map(|(name, runs)| EntryRuns { name, runs }).collect()
}
