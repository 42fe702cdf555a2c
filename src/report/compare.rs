//! `zkchaos compare`: runs side by side per strategy, with the spread over repetitions.
//!
//! Inputs are run directories or directories above them (a profile directory, or the results
//! root): every run directory found below is used once (the `latest` link is not followed), and
//! runs whose status is not `complete` or that have no `summary.json` are skipped, saying why.
//! Output: `comparison.md` (tables, links to charts), `comparison.html` (one self-contained file
//! with the SVG charts inline) and the charts, PNG and SVG.

use super::charts::compare::{median, verdict_cell, BarsChart, PercentileChart, VerdictChart};
use super::charts::style::{fmt_ms, fmt_us, C_BLUE, C_ORANGE, C_VERMILION, C_GREEN};
use super::charts::{save, ChartFiles};
use super::summary::read_summary;
use crate::record::load::{load_run, SUMMARY_FILE};
use crate::record::rundir::{write_atomic, RunDir, RunStatus, LATEST_LINK};
use super::summary::Summary;
use super::ReportError;
use crate::check::Verdict;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One run taken into the comparison.
#[derive(Debug, Clone)]
pub struct ComparedRun {
    pub dir: PathBuf,
    pub summary: Summary,
    /// Latency of every issued read and write over the impact window (None: no events recorded).
    pub read_hist: Option<hdrhistogram::Histogram<u64>>,
    pub write_hist: Option<hdrhistogram::Histogram<u64>>,
}

/// What `compare` wrote and skipped.
#[derive(Debug, Clone)]
pub struct CompareOutcome {
    pub runs: usize,
    /// `<dir>: <why>` for every run left out.
    pub skipped: Vec<String>,
    pub markdown: PathBuf,
    pub html: PathBuf,
    pub charts: Vec<ChartFiles>,
    /// The key-figure table as plain text.
    pub console: String,
}

/// Find every run directory at or below `input` (depth ≤ 3, symlinks not followed).
pub fn find_run_dirs(input: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut out = Vec::new();
    walk(input, 0, &mut out)?;
    out.sort();
    out.dedup();
    Ok(out)
}

fn is_run_dir(p: &Path) -> bool {
    p.join(crate::record::files::STATUS_FILE).is_file() || p.join(crate::record::files::PLAN_FILE).is_file()
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), ReportError> {
    if is_run_dir(dir) {
        out.push(std::fs::canonicalize(dir).map_err(|source| ReportError::Read { path: dir.to_path_buf(), source })?);
        return Ok(());
    }
    if depth >= 3 {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|source| ReportError::Read { path: dir.to_path_buf(), source })?;
    for entry in entries {
        let entry = entry.map_err(|source| ReportError::Read { path: dir.to_path_buf(), source })?;
        let ft = entry.file_type().map_err(|source| ReportError::Read { path: entry.path(), source })?;
        if ft.is_dir() && !ft.is_symlink() && entry.file_name() != LATEST_LINK {
            walk(&entry.path(), depth + 1, out)?;
        }
    }
    Ok(())
}

/// Label of a run's group: the strategy, plus the sizes when runs of different sizes are mixed
/// (and the profile when one strategy comes from several profiles, see [`compare`]).
fn group_key(s: &Summary, mixed_sizes: bool) -> String {
    if mixed_sizes {
        format!("{} {}→{}", s.strategy, s.from_size, s.to_size)
    } else {
        s.strategy.clone()
    }
}

/// Compare the runs found under `inputs`; write results into `out`.
pub fn compare(inputs: &[PathBuf], out: &Path) -> Result<CompareOutcome, ReportError> {
    let (runs, skipped) = load_compared(inputs)?;
    let groups = group_runs(&runs);
    std::fs::create_dir_all(out).map_err(|source| ReportError::CreateDir { path: out.to_path_buf(), source })?;
    let names: Vec<String> = groups.keys().cloned().collect();
    let subtitle = format!(
        "{} runs, {} strategies; procedure start → load stop; bars: median over repetitions, dots: each repetition",
        runs.len(),
        names.len()
    );
    let failed: Vec<bool> = groups.values().map(|rs| rs.iter().any(|r| safety_failed(&r.summary))).collect();
    let [outage, errors, converge] = bar_charts(&groups, &subtitle, &failed);
    let cdf = percentile_chart(&groups, &failed, runs.len());
    let verdicts = VerdictChart {
        title: "Safety verdicts per strategy (worst over repetitions)".into(),
        rows: groups
            .iter()
            .map(|(n, rs)| {
                (
                    n.clone(),
                    rs.iter().map(|r| r.summary.checks.data_loss.verdict).collect(),
                    rs.iter().map(|r| r.summary.checks.single_leader.verdict).collect(),
                )
            })
            .collect(),
    };
    let charts = vec![
        save(&outage, out)?,
        save(&errors, out)?,
        save(&converge, out)?,
        save(&cdf, out)?,
        save(&verdicts, out)?,
    ];

    let table = key_table(&groups);
    let md = markdown(&table, &groups, &skipped, &charts);
    let html = html(&table, &groups, &skipped, &charts)?;
    let md_path = out.join("comparison.md");
    let html_path = out.join("comparison.html");
    write_atomic(&md_path, md.as_bytes())?;
    write_atomic(&html_path, html.as_bytes())?;
    let figures = super::compare_data::ComparisonFigures::from_groups(&groups, &skipped);
    write_atomic(&out.join(super::compare_data::JSON_FILE), figures.to_json().as_bytes())?;
    write_atomic(&out.join(super::compare_data::CSV_FILE), figures.to_csv().as_bytes())?;
    Ok(CompareOutcome { runs: runs.len(), skipped, markdown: md_path, html: html_path, charts, console: plain(&table) })
}

/// Every complete run with a summary under `inputs`, and `<dir>: <why>` for the others.
fn load_compared(inputs: &[PathBuf]) -> Result<(Vec<ComparedRun>, Vec<String>), ReportError> {
    let mut dirs = Vec::new();
    for i in inputs {
        dirs.extend(find_run_dirs(i)?);
    }
    dirs.sort();
    dirs.dedup();
    let mut skipped = Vec::new();
    let mut runs = Vec::new();
    for d in dirs {
        let rd = RunDir::open(&d)?;
        match rd.status()? {
            RunStatus::Complete => {}
            other => {
                skipped.push(format!("{}: status is `{other}`, not complete", d.display()));
                continue;
            }
        }
        let summary = match read_summary(&rd.file(SUMMARY_FILE)) {
            Ok(s) => s,
            Err(e) => {
                skipped.push(format!("{}: {e}", d.display()));
                continue;
            }
        };
        // The percentile plot needs the raw events; a run without them still counts elsewhere.
        let (read_hist, write_hist) = impact_histograms(&d).unwrap_or((None, None));
        runs.push(ComparedRun { dir: d, summary, read_hist, write_hist });
    }
    if runs.is_empty() {
        let why = if skipped.is_empty() { "no run directories found".to_string() } else { skipped.join("; ") };
        return Err(ReportError::NothingToCompare(why));
    }
    Ok((runs, skipped))
}

type ClassHists = (Option<hdrhistogram::Histogram<u64>>, Option<hdrhistogram::Histogram<u64>>);

/// Latency of every issued operation (a strategy that fails fast must not draw a better curve)
/// over the impact window, reads and writes apart; streamed, only the histograms are held.
fn impact_histograms(d: &Path) -> Option<ClassHists> {
    let data = load_run(d).ok()?;
    let last_mark = data.marks.iter().map(|m| m.at_us).max().unwrap_or(0);
    let w = crate::analysis::windows::impact_window(&data.marks, last_mark)?;
    let mut acc = crate::analysis::stream::stats::StatsAcc::new(Some(w));
    match &data.events {
        crate::record::load::Events::File(p) => crate::record::for_each_event(p, |e| acc.observe(&e)).ok()?,
        crate::record::load::Events::Memory(v) => v.iter().for_each(|e| acc.observe(e)),
    }
    Some(class_histograms(acc.all_hist))
}

/// Runs grouped per strategy (and per profile where one strategy comes from several profiles).
fn group_runs(runs: &[ComparedRun]) -> BTreeMap<String, Vec<&ComparedRun>> {
    let mixed = {
        let mut sizes: Vec<(u32, u32)> = runs.iter().map(|r| (r.summary.from_size, r.summary.to_size)).collect();
        sizes.sort();
        sizes.dedup();
        sizes.len() > 1
    };
    // Runs of one strategy from different profiles (a suite's matrix over images or settings)
    // are different entries: those groups are named by profile too.
    let mut profiles_of: BTreeMap<String, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for r in runs {
        profiles_of.entry(group_key(&r.summary, mixed)).or_default().insert(r.summary.profile.as_str());
    }
    let mut groups: BTreeMap<String, Vec<&ComparedRun>> = BTreeMap::new();
    for r in runs {
        let key = group_key(&r.summary, mixed);
        let key = if profiles_of[&key].len() > 1 { format!("{key} ({})", r.summary.profile) } else { key };
        groups.entry(key).or_default().push(r);
    }
    groups
}

/// Outage, error-rate and convergence bars, each figure over the impact window.
fn bar_charts(groups: &BTreeMap<String, Vec<&ComparedRun>>, subtitle: &str, failed: &[bool]) -> [BarsChart; 3] {
    use super::compare_data::{impact_error_rate, impact_outage};
    let names: Vec<String> = groups.keys().cloned().collect();
    let per = |f: &dyn Fn(&Summary) -> Option<f64>| -> Vec<Vec<Option<f64>>> {
        groups.values().map(|rs| rs.iter().map(|r| f(&r.summary)).collect()).collect()
    };
    let zip2 = |a: Vec<Vec<Option<f64>>>, b: Vec<Vec<Option<f64>>>| -> Vec<Vec<Vec<Option<f64>>>> {
        a.into_iter().zip(b).map(|(x, y)| vec![x, y]).collect()
    };
    let one = |a: Vec<Vec<Option<f64>>>| -> Vec<Vec<Vec<Option<f64>>>> { a.into_iter().map(|x| vec![x]).collect() };
    let bars = |stem: &str, title: &str, y: &str, log: bool| BarsChart {
        stem: stem.into(),
        title: title.into(),
        subtitle: subtitle.into(),
        y_desc: y.into(),
        groups: names.clone(),
        failed: failed.to_vec(),
        log,
        value_fmt: fmt_ms,
        series: Vec::new(),
        values: Vec::new(),
        none_label: String::new(),
    };
    let outage = BarsChart {
        series: vec![("read".into(), C_BLUE), ("write".into(), C_VERMILION)],
        values: zip2(per(&|s| impact_outage(s, |o| o.read)), per(&|s| impact_outage(s, |o| o.write))),
        none_label: "no ops".into(),
        ..bars("outage", "Longest client outage per strategy", "longest gap without a successful op (ms)", true)
    };
    let errors = BarsChart {
        value_fmt: fmt_pct,
        series: vec![("error rate".into(), C_ORANGE)],
        values: one(per(&|s| impact_error_rate(s).map(|r| 100.0 * r))),
        ..bars("error_rate", "Error rate per strategy", "failed + indeterminate of issued operations (%)", true)
    };
    let converge = BarsChart {
        value_fmt: fmt_s,
        series: vec![("convergence".into(), C_GREEN)],
        values: one(per(&|s| s.converge_ms.map(|ms| ms as f64 / 1000.0))),
        none_label: "never".into(),
        ..bars("convergence", "Time to converge per strategy", "procedure start → target membership (s)", false)
    };
    [outage, errors, converge]
}

/// Latency by percentile, pooled per strategy over its repetitions, reads and writes apart.
fn percentile_chart(groups: &BTreeMap<String, Vec<&ComparedRun>>, failed: &[bool], runs: usize) -> PercentileChart {
    let pooled = |rs: &[&ComparedRun], pick: &dyn Fn(&ComparedRun) -> Option<&hdrhistogram::Histogram<u64>>| {
        let mut acc: Option<hdrhistogram::Histogram<u64>> = None;
        for h in rs.iter().filter_map(|r| pick(r)) {
            match acc.as_mut() {
                None => acc = Some(h.clone()),
                Some(p) => {
                    let _ = p.add(h);
                }
            }
        }
        acc
    };
    let series: Vec<super::charts::compare::PercentileSeries> = groups
        .iter()
        .zip(failed)
        .map(|((name, rs), f)| {
            (name.clone(), *f, vec![pooled(rs, &|r| r.read_hist.as_ref()), pooled(rs, &|r| r.write_hist.as_ref())])
        })
        .collect();
    PercentileChart::from_histograms(
        "Latency by percentile, procedure start → load stop",
        &format!(
            "every issued operation (failures at their time to error, timeouts at the operation timeout) from the intended start, repetitions pooled per strategy ({runs} runs); dashed: safety FAIL"
        ),
        &["reads", "writes"],
        &series,
    )
}

/// A safety check (data loss, two leaders, lingering ephemerals) FAILed in this run.
pub fn safety_failed(s: &Summary) -> bool {
    s.checks.data_loss.verdict == Verdict::Fail
        || s.checks.single_leader.verdict == Verdict::Fail
        || s.checks.ephemerals.as_ref().is_some_and(|e| e.verdict == Verdict::Fail)
}

/// Split per-kind histograms into (reads, writes).
fn class_histograms(
    hists: BTreeMap<crate::record::OpKind, hdrhistogram::Histogram<u64>>,
) -> (Option<hdrhistogram::Histogram<u64>>, Option<hdrhistogram::Histogram<u64>>) {
    let (mut reads, mut writes): (Option<hdrhistogram::Histogram<u64>>, Option<hdrhistogram::Histogram<u64>>) = (None, None);
    for (kind, h) in hists {
        let slot = if kind.is_write() { &mut writes } else { &mut reads };
        match slot.as_mut() {
            None => *slot = Some(h),
            Some(acc) => {
                let _ = acc.add(&h);
            }
        }
    }
    (reads, writes)
}

fn fmt_pct(x: f64) -> String {
    format!("{x:.3} %")
}

fn fmt_s(x: f64) -> String {
    format!("{x:.1} s")
}

/// What each comparison chart shows, by file stem.
fn chart_caption(stem: &str) -> &'static str {
    match stem {
        "outage" => "Longest gap without a successful read (blue) or write (red) per strategy: bar = median over                      repetitions (value written on it), dot = one repetition; log scale, zeros on the floor.                      Shaded with \"safety FAIL\": a repetition lost data or had two leaders.",
        "error_rate" => "Failed + indeterminate operations as a share of all issued, per strategy (log scale, zeros on the floor).",
        "convergence" => "Time from the procedure's start until the ensemble had its target membership.",
        "latency_cdf" => "Latency from the intended start by percentile (HdrHistogram's plot: x = 1/(1−q), so the tail                           gets room), procedure start → load stop, reads and writes apart; every issued operation (failures at their time to error, timeouts at the operation timeout).                           Dashed lines: strategies with a safety FAIL.",
        "verdicts" => "Safety verdicts per strategy: the worst over repetitions and how many repetitions had it.",
        _ => "",
    }
}

/// Rows of the key-figure table: header then one row per strategy, cells as text.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// `median (min–max)` of the present values, formatted; `n/a` if none.
fn spread(v: &[Option<f64>], fmt: &dyn Fn(f64) -> String) -> String {
    let present: Vec<f64> = v.iter().flatten().copied().collect();
    let missing = v.len() - present.len();
    let Some(m) = median(&present) else { return "n/a".into() };
    let lo = present.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (flo, fhi) = (fmt(lo), fmt(hi));
    let mut s = if present.len() > 1 && flo != fhi { format!("{} ({flo}–{fhi})", fmt(m)) } else { fmt(m) };
    if missing > 0 {
        let _ = write!(s, " +{missing} n/a");
    }
    s
}

/// The key figures, each over the impact window (service outage and reconnect: the load window;
/// convergence: procedure start → target membership).
fn key_table(groups: &BTreeMap<String, Vec<&ComparedRun>>) -> Table {
    use super::compare_data::{impact_error_rate, impact_outage};
    let header = [
        "strategy",
        "runs",
        "outage read",
        "outage write",
        "error rate",
        "one session (max)",
        "service outage",
        "client reconnect after it (max)",
        "p99 all issued",
        "p99.9 all issued",
        "convergence",
        "leader changes",
        "data loss",
        "single leader",
    ]
    .map(String::from)
    .to_vec();
    let pct = |x: f64| format!("{x:.3} %");
    let us = |x: f64| fmt_us(x);
    let ms = |x: f64| fmt_ms(x);
    let int = |x: f64| format!("{x:.0}");
    let rows = groups
        .iter()
        .map(|(name, rs)| {
            let col = |f: &dyn Fn(&Summary) -> Option<f64>| -> Vec<Option<f64>> { rs.iter().map(|r| f(&r.summary)).collect() };
            let proc_q = |s: &Summary| super::compare_data::impact_all_issued(s);
            let loss: Vec<Verdict> = rs.iter().map(|r| r.summary.checks.data_loss.verdict).collect();
            let lead: Vec<Verdict> = rs.iter().map(|r| r.summary.checks.single_leader.verdict).collect();
            vec![
                name.clone(),
                rs.len().to_string(),
                spread(&col(&|s| impact_outage(s, |o| o.read)), &ms),
                spread(&col(&|s| impact_outage(s, |o| o.write)), &ms),
                spread(&col(&|s| impact_error_rate(s).map(|r| 100.0 * r)), &pct),
                spread(&col(&|s| impact_outage(s, |o| o.per_session.map(|p| p.max))), &ms),
                spread(&col(&|s| s.service_outage_ms), &ms),
                spread(&col(&|s| s.reconnect_ms.as_ref().map(|r| r.max)), &ms),
                spread(&col(&|s| proc_q(s).map(|q| q.p99 as f64)), &us),
                spread(&col(&|s| proc_q(s).map(|q| q.p999 as f64)), &us),
                spread(&col(&|s| s.converge_ms.map(|x| x as f64)), &ms),
                spread(&col(&|s| Some(f64::from(s.leader_changes))), &int),
                verdict_cell(&loss).1,
                verdict_cell(&lead).1,
            ]
        })
        .collect();
    Table { header, rows }
}

fn plain(t: &Table) -> String {
    let mut widths: Vec<usize> = t.header.iter().map(|h| h.chars().count()).collect();
    for r in &t.rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut o = String::new();
    for r in std::iter::once(&t.header).chain(&t.rows) {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(o, "{}", cells.join("  ").trim_end());
    }
    o
}

fn rel(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn markdown(t: &Table, groups: &BTreeMap<String, Vec<&ComparedRun>>, skipped: &[String], charts: &[ChartFiles]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# zkchaos comparison\n");
    let _ = writeln!(
        o,
        "Figures per strategy: median over repetitions, with (min–max) when there are several. \
         Outage, error rate and p99 are over the impact window, procedure start → load stop (service outage and reconnect: the whole load window); \
         outage = longest gap without a successful operation of that kind; p99 = every issued operation, from the intended start. \
         Every figure per repetition, for scripts: [comparison.json](comparison.json), [comparison.csv](comparison.csv).\n"
    );
    let _ = writeln!(o, "| {} |", t.header.join(" | "));
    let _ = writeln!(o, "|{}|", t.header.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
    for r in &t.rows {
        let _ = writeln!(o, "| {} |", r.join(" | "));
    }
    let _ = writeln!(o, "\n## Charts\n");
    for c in charts {
        let name = rel(&c.png);
        let _ = writeln!(o, "- [{name}]({name}) ([SVG]({}))\n\n  ![{name}]({name})\n", rel(&c.svg));
    }
    let _ = writeln!(o, "## Runs\n");
    for (name, rs) in groups {
        for r in rs {
            let _ = writeln!(o, "- {name}: `{}` ({})", r.dir.display(), r.summary.verdict);
        }
    }
    if !skipped.is_empty() {
        let _ = writeln!(o, "\n## Skipped\n");
        for s in skipped {
            let _ = writeln!(o, "- {s}");
        }
    }
    o
}

use super::html::{esc, figure, page_head, table as html_table};

fn html(
    t: &Table,
    groups: &BTreeMap<String, Vec<&ComparedRun>>,
    skipped: &[String],
    charts: &[ChartFiles],
) -> Result<String, ReportError> {
    let mut o = page_head("zkchaos comparison");
    let _ = writeln!(o, "<h1>zkchaos comparison</h1>");
    let _ = writeln!(
        o,
        "<p>Median over repetitions, (min–max) when there are several. Outage, error rate and p99: procedure start → load stop. Outage: longest gap without a successful \
         operation of that kind. Latency measured from the intended start. Every figure per repetition: \
         <a href=\"comparison.json\">comparison.json</a>, <a href=\"comparison.csv\">comparison.csv</a>.</p>"
    );
    o.push_str(&html_table(&t.header, &t.rows));
    for c in charts {
        let stem = c.png.file_stem().map(|x| x.to_string_lossy().into_owned()).unwrap_or_default();
        o.push_str(&figure(&c.svg, &format!("{}: {}", rel(&c.png), chart_caption(&stem)))?);
    }
    let _ = writeln!(o, "<h2>Runs</h2><ul>");
    for (name, rs) in groups {
        for r in rs {
            let _ = writeln!(
                o,
                "<li>{}: <code>{}</code> ({}) — <a href=\"{}\">report</a></li>",
                esc(name),
                esc(&r.dir.display().to_string()),
                r.summary.verdict,
                esc(&r.dir.join(crate::record::files::REPORT_FILE).display().to_string())
            );
        }
    }
    let _ = writeln!(o, "</ul>");
    if !skipped.is_empty() {
        let _ = writeln!(o, "<h2>Skipped</h2><ul>");
        for s in skipped {
            let _ = writeln!(o, "<li>{}</li>", esc(s));
        }
        let _ = writeln!(o, "</ul>");
    }
    let _ = writeln!(o, "</body></html>");
    Ok(o)
}
