//! Writing a run's derived files — `summary.json`, `timeline.csv`, `charts/`, `report.html` and
//! `metrics.om` (OpenMetrics) — from its recorded
//! files. The live run calls [`write_results`] once recording has stopped; `zkchaos analyze`
//! calls [`analyze_dir`], which also recomputes `timeline.csv` and says whether the stored
//! summary was reproduced.

use super::build::summary_of;
use super::figures::{run_figures, RunFigures};
use crate::analysis::last_time_us;
use super::charts::overlay::Annotations;
use super::charts::run::{LatencyChart, ModeChart, ThroughputChart};
use super::charts::{save, ChartFiles};
use crate::record::load::{load_run, RunData, CHARTS_DIR, SUMMARY_FILE, TIMELINE_FILE};
use crate::record::{RunDir, RunStatus};
use super::summary::Summary;
use super::ReportError;
use crate::analysis::write_timeline_csv;
use std::path::{Path, PathBuf};

/// Build the summary from the files in `dir`, write `summary.json` and the charts.
pub fn write_results(dir: &RunDir) -> Result<Summary, ReportError> {
    let data = load_run(dir.path())?;
    let figures = run_figures(&data)?;
    let summary = summary_of(&data, &figures);
    write_summary(dir, &summary)?;
    let charts = write_run_charts(&data, &figures, &dir.file(CHARTS_DIR))?;
    write_pages(dir, &data, &figures, &summary, &charts)?;
    Ok(summary)
}

pub use crate::record::files::{OPENMETRICS_FILE, REPORT_FILE};

/// The OpenMetrics exposition of a run (what `metrics.om` holds).
pub fn openmetrics_text(data: &RunData, figures: &RunFigures, summary: &Summary) -> String {
    super::openmetrics::render(&series(data, figures, summary))
}

fn series<'a>(data: &'a RunData, figures: &'a RunFigures, summary: &'a Summary) -> super::openmetrics::RunSeries<'a> {
    super::openmetrics::RunSeries {
        summary,
        rows: &figures.events.timeline,
        samples: &data.samples,
        interval_us: u64::from(data.plan.load.interval_ms.max(1)) * 1000,
        epoch_unix_ms: data.meta.as_ref().map(|m| m.epoch_unix_ms).unwrap_or(0),
    }
}

/// `fmt::Write` onto a file, keeping the first I/O error.
struct FmtIo<'a, W: std::io::Write>(&'a mut W, Option<std::io::Error>);

impl<W: std::io::Write> std::fmt::Write for FmtIo<'_, W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        match self.0.write_all(s.as_bytes()) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.1.get_or_insert(e);
                Err(std::fmt::Error)
            }
        }
    }
}

/// Write `report.html` (verdicts, figures, charts inline, steps, links) and `metrics.om`.
pub fn write_pages(
    dir: &RunDir,
    data: &RunData,
    figures: &RunFigures,
    summary: &Summary,
    charts: &[ChartFiles],
) -> Result<(), ReportError> {
    let listed = |sub: &Path, prefix: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(sub)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| format!("{prefix}{}", e.file_name().to_string_lossy())).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let logs = listed(&dir.file(crate::record::files::LOGS_DIR), "logs/");
    let files: Vec<String> = listed(dir.path(), "")
        .into_iter()
        .filter(|f| !f.starts_with('.') && f != REPORT_FILE && dir.file(f).is_file())
        .collect();
    let svgs: Vec<PathBuf> = charts.iter().map(|c| c.svg.clone()).collect();
    let page = super::html::run_report(summary, &svgs, &logs, &files)?;
    dir.write_text(REPORT_FILE, &page)?;
    // Streamed to the file: an hour's exposition is tens of MB.
    dir.guard(crate::record::rundir::write_atomic_with(&dir.file(OPENMETRICS_FILE), |w| {
        let out = super::openmetrics::render_into(&series(data, figures, summary), FmtIo(w, None));
        out.1.map_or(Ok(()), Err)
    }))?;
    Ok(())
}

/// Write `summary.json` in its canonical serialisation.
pub fn write_summary(dir: &RunDir, summary: &Summary) -> Result<(), ReportError> {
    let text = summary
        .to_canonical_json()
        .map_err(|source| ReportError::Serialize { what: SUMMARY_FILE.into(), source })?;
    Ok(dir.write_text(SUMMARY_FILE, &text)?)
}

/// Title context shared by the run's charts.
fn subtitle(data: &RunData) -> String {
    let p = &data.plan;
    let to = p.procedure.target_size(p.cluster.size);
    let sizes = if to == p.cluster.size { format!("{} servers", to) } else { format!("{} → {} servers", p.cluster.size, to) };
    let started = data.meta.as_ref().map(|m| m.started_at.as_str()).unwrap_or("");
    // The version the servers reported (`srvr`), not the image tag.
    let version = data
        .meta
        .as_ref()
        .and_then(|m| m.zookeeper_version.as_deref())
        .map(|v| format!(" · ZooKeeper {v}"))
        .unwrap_or_default();
    let models = data.meta.as_ref().and_then(|m| m.models.as_ref()).map(|m| format!(" · {}", m.short())).unwrap_or_default();
    format!(
        "profile {} · strategy {} · {sizes}{version}{models} · {} ops/s intended · run {} {started}",
        p.name,
        p.procedure.strategy(),
        p.load.rate,
        data.run_id
    )
}

/// Draw the per-run charts into `out` (throughput, latency, modes), PNG and SVG.
pub fn write_run_charts(data: &RunData, figures: &RunFigures, out: &Path) -> Result<Vec<ChartFiles>, ReportError> {
    let rows = &figures.events.timeline;
    let interval_us = u64::from(data.plan.load.interval_ms.max(1)) * 1000;
    let end_s = last_time_us(data, figures.events.event_window.1) as f64 / 1e6;
    let x_max = end_s.max(1.0) * 1.01;
    let ann = Annotations::from_marks(&data.marks, &crate::check::analyze_modes(&data.samples, &crate::check::HarnessFaults::from_marks(&data.marks)).leader_change_times_us, end_s);
    let sub = subtitle(data);
    let throughput = ThroughputChart::from_rows("Throughput by outcome", &sub, rows, interval_us, ann.clone());
    let rate = (data.plan.load.mode == crate::plan::LoadMode::Open).then_some(f64::from(data.plan.load.rate));
    let throughput = ThroughputChart { x_max, intended_rate: rate, ..throughput };
    let latency = LatencyChart::from_rows(
        "Latency from intended start, per interval (successful operations)",
        &sub,
        rows,
        x_max,
        ann.clone(),
    );
    let poll_s = f64::from(data.plan.monitor.interval_ms.max(1)) / 1e3;
    let modes = ModeChart::from_samples("Server modes (srvr monitor)", &sub, &data.samples, poll_s, x_max, ann);
    Ok(vec![save(&throughput, out)?, save(&latency, out)?, save(&modes, out)?])
}

/// What `zkchaos analyze` found.
#[derive(Debug, Clone)]
pub struct AnalyzeOutcome {
    pub summary: Summary,
    pub status: RunStatus,
    /// `None`: no summary was stored before; `Some(true)`: reproduced byte for byte.
    pub matched: Option<bool>,
    /// Top-level summary fields whose values differed from the stored summary.
    pub differing: Vec<String>,
    pub charts: Vec<PathBuf>,
}

/// Recompute `summary.json`, `timeline.csv` and `charts/` of the run in `path` (no Docker).
pub fn analyze_dir(path: &Path) -> Result<AnalyzeOutcome, ReportError> {
    let dir = RunDir::open(path)?;
    let status = dir.status()?;
    let data = load_run(dir.path())?;
    let figures = run_figures(&data)?;
    let summary = summary_of(&data, &figures);
    let text = summary
        .to_canonical_json()
        .map_err(|source| ReportError::Serialize { what: SUMMARY_FILE.into(), source })?;

    let stored_path = dir.file(SUMMARY_FILE);
    let (matched, differing) = match std::fs::read_to_string(&stored_path) {
        Ok(old) if old == text => (Some(true), Vec::new()),
        Ok(old) => (Some(false), differing_fields(&old, &text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, Vec::new()),
        Err(source) => return Err(ReportError::Read { path: stored_path, source }),
    };
    dir.write_text(SUMMARY_FILE, &text)?;
    write_timeline_csv(&dir.file(TIMELINE_FILE), &figures.events.timeline)
        .map_err(|e| ReportError::Parse { path: dir.file(TIMELINE_FILE), detail: e.to_string() })?;
    let charts = write_run_charts(&data, &figures, &dir.file(CHARTS_DIR))?;
    write_pages(&dir, &data, &figures, &summary, &charts)?;
    let charts = charts.into_iter().flat_map(|c| [c.png, c.svg]).collect();
    Ok(AnalyzeOutcome { summary, status, matched, differing, charts })
}

/// Top-level keys whose values differ between the stored and the new summary text. Both are
/// parsed the same way: serde_json's default float parsing is not exact, so comparing a parsed
/// text with an unparsed value would report differences that are not there.
fn differing_fields(old: &str, new: &str) -> Vec<String> {
    let Ok(serde_json::Value::Object(old)) = serde_json::from_str::<serde_json::Value>(old) else {
        return vec!["(stored summary.json is not a JSON object)".into()];
    };
    let Ok(serde_json::Value::Object(new)) = serde_json::from_str::<serde_json::Value>(new) else { return Vec::new() };
    let mut keys: Vec<String> = old.keys().chain(new.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().filter(|k| old.get(k) != new.get(k)).collect()
}

/// What the live run calls once recording has stopped (every exit path): the same as
/// [`write_results`]; the caller sets the status afterwards.
pub fn finish_run(dir: &RunDir) -> Result<Summary, ReportError> {
    write_results(dir)
}
