//! `report.html`: one self-contained page per run directory — the verdicts first in plain words,
//! then the key figures, the charts (SVG inline), the procedure's step table and links to the
//! server logs and recorded files. Also the page frame shared with `comparison.html` (viewport
//! meta, a table wrapper that scrolls instead of overflowing at 800 px, right-aligned numbers).

use super::charts::style::{fmt_ms, fmt_us};
use super::summary::Summary;
use super::ReportError;
use crate::check::Verdict;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Escape text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `<!DOCTYPE html>` … `<body>` with the shared style.
pub fn page_head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title>\n<style>\
         body{{font-family:'DejaVu Sans',sans-serif;margin:1em auto;padding:0 1em;color:#282828;max-width:1250px;line-height:1.4}}\
         .wrap{{overflow-x:auto;max-width:100%}}\
         table{{border-collapse:collapse;margin:0.6em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}\
         td.num,th.num{{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}}\
         th{{background:#eee}}.PASS{{background:#d5f0e6}}.FAIL{{background:#f7d4c2;font-weight:bold}}.UNKNOWN{{background:#fbe9bf}}\
         .verdict{{padding:0.6em 1em;margin:0.4em 0;border-radius:4px}}\
         figure{{margin:1.5em 0}}figcaption{{color:#555;font-size:0.95em}}svg{{max-width:100%;height:auto}}\
         code{{font-size:0.9em}}</style></head><body>\n",
        esc(title)
    )
}

/// A cell is numeric when it starts with a digit (possibly signed) or is `n/a`.
pub fn is_numeric_cell(c: &str) -> bool {
    let c = c.trim_start_matches(['-', '+', '<', '≥', '~']);
    c.starts_with(|ch: char| ch.is_ascii_digit()) || c == "n/a"
}

/// An HTML table in an overflow wrapper; numeric cells right-aligned, verdict cells coloured.
pub fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut o = String::from("<div class=\"wrap\"><table><tr>");
    // A column is numeric when every body cell in it is.
    let numeric: Vec<bool> = (0..header.len())
        .map(|i| !rows.is_empty() && rows.iter().all(|r| r.get(i).is_some_and(|c| is_numeric_cell(c))))
        .collect();
    for (h, n) in header.iter().zip(&numeric) {
        let _ = write!(o, "<th{}>{}</th>", if *n { " class=\"num\"" } else { "" }, esc(h));
    }
    o.push_str("</tr>\n");
    for r in rows {
        o.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let verdict = ["PASS", "FAIL", "UNKNOWN"].into_iter().find(|v| c.starts_with(v));
            let class = match (verdict, numeric.get(i).copied().unwrap_or(false)) {
                (Some(v), _) => format!(" class=\"{v}\""),
                (None, true) => " class=\"num\"".into(),
                (None, false) => String::new(),
            };
            let _ = write!(o, "<td{class}>{}</td>", esc(c));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table></div>\n");
    o
}

/// An SVG chart file inlined as a figure with a caption saying what it shows.
pub fn figure(svg_path: &Path, caption: &str) -> Result<String, ReportError> {
    let svg = std::fs::read_to_string(svg_path)
        .map_err(|source| ReportError::Read { path: svg_path.to_path_buf(), source })?;
    let svg = svg.trim_start_matches(|ch| ch != '<');
    let svg = if svg.starts_with("<?xml") { svg.split_once("?>").map(|x| x.1).unwrap_or(svg) } else { svg };
    Ok(format!("<figure>{svg}<figcaption>{}</figcaption></figure>\n", esc(caption)))
}

/// What each per-run chart shows, by file stem.
pub fn run_chart_caption(stem: &str) -> &'static str {
    match stem {
        "throughput" => "Operations completed per second, stacked by outcome (successful, then each error class). \
                         Shaded: the procedure phase; numbered dashed lines: procedure steps (listed in the step table).",
        "latency" => "Latency from each operation's intended start, per interval and operation kind: p50, p99 and max \
                      of the successful operations (log scale; gaps where nothing succeeded).",
        "modes" => "What each server answered to the srvr monitor over time (leader, follower, not serving, down).",
        _ => "",
    }
}

fn verdict_words(check: &str, v: Verdict) -> &'static str {
    match (check, v) {
        ("data_loss", Verdict::Pass) => "No acknowledged write was lost.",
        ("data_loss", Verdict::Fail) => "DATA LOSS: acknowledged writes are missing.",
        ("data_loss", Verdict::Unknown) => "Could not decide whether acknowledged writes were lost.",
        ("ephemerals", Verdict::Pass) => "No ephemeral node outlived its session on any server.",
        ("ephemerals", Verdict::Fail) => "LINGERING EPHEMERALS: a server still holds nodes of an ended session.",
        ("ephemerals", Verdict::Unknown) => "Could not decide whether ephemeral nodes outlived their sessions.",
        ("digest", Verdict::Pass) => "No server counted a data-tree digest mismatch (zk_digest_mismatches_count = 0).",
        ("digest", Verdict::Fail) => "DIGEST MISMATCH: a server's data tree diverged from the leader's.",
        ("digest", Verdict::Unknown) => {
            "The digest could not be judged on every server (reported; it does not make the run UNKNOWN)."
        }
        (_, Verdict::Pass) => "Never more than one writable leader.",
        (_, Verdict::Fail) => {
            "TWO WRITABLE AUTHORITIES at once (two leaders, or a standalone server next to a leader)."
        }
        (_, Verdict::Unknown) => "Could not decide whether there were two leaders.",
    }
}

fn opt_ms(v: Option<f64>) -> String {
    v.map(fmt_ms).unwrap_or_else(|| "n/a".into())
}

/// The page for one run. `charts`: SVG files to inline (in order); `logs`: server log files,
/// linked relative to the run directory.
pub fn run_report(s: &Summary, charts: &[PathBuf], logs: &[String], files: &[String]) -> Result<String, ReportError> {
    let mut o = page_head(&format!("zkchaos run {} — {}", s.run_id, s.profile));
    let _ = writeln!(
        o,
        "<h1>{} <small>({})</small></h1>\n<p>run <code>{}</code> · started {} · {} → {} servers · {} ops/s intended · seed {}</p>",
        esc(&s.profile),
        esc(&s.strategy),
        esc(&s.run_id),
        esc(&s.started_at),
        s.from_size,
        s.to_size,
        s.load.intended_rate,
        s.seed.map(|x| x.to_string()).unwrap_or_else(|| "random".into())
    );
    let _ = writeln!(o, "<p>{}</p>", esc(&s.models_line()));
    let _ = writeln!(o, "<h2>Verdict: {}</h2>", s.verdict.as_str());
    let checks = [("data_loss", &s.checks.data_loss), ("single_leader", &s.checks.single_leader), ("digest", &s.checks.digest)];
    for (name, check) in checks.into_iter().chain(s.checks.ephemerals.as_ref().map(|c| ("ephemerals", c))) {
        let _ = writeln!(
            o,
            "<div class=\"verdict {}\"><b>{}: {}</b> — {} <br><small>{}</small></div>",
            check.verdict.as_str(),
            name,
            check.verdict.as_str(),
            verdict_words(name, check.verdict),
            esc(&check.detail)
        );
    }
    divergence_table(&mut o, s);
    if !s.notes.is_empty() {
        let _ = writeln!(o, "<ul>{}</ul>", s.notes.iter().map(|n| format!("<li>{}</li>", esc(n))).collect::<String>());
    }

    figures_tables(&mut o, s);

    let _ = writeln!(o, "<h2>Charts</h2>");
    for svg in charts {
        let stem = svg.file_stem().map(|x| x.to_string_lossy().into_owned()).unwrap_or_default();
        let caption = format!("{stem}: {}", run_chart_caption(&stem));
        o.push_str(&figure(svg, &caption)?);
    }

    steps_table(&mut o, s);

    o.push_str(&super::evidence::html(s));

    let _ = writeln!(o, "<h2>Files</h2><p>Server logs: {}</p>", link_list(logs));
    let _ = writeln!(o, "<p>Recorded: {} (columns in docs/results.md)</p>", link_list(files));
    let _ = writeln!(o, "</body></html>");
    Ok(o)
}

/// What differs on each server, when anything was judged per server.
fn divergence_table(o: &mut String, s: &Summary) {
    if s.divergence.is_empty() {
        return;
    }
    let _ = writeln!(o, "<h2>Divergence per server</h2>");
    let count = |readable: bool, n: Option<u64>| match (readable, n) {
        (false, _) => "not read".to_string(),
        (true, Some(n)) => n.to_string(),
        (true, None) => "n/a".to_string(),
    };
    let rows: Vec<Vec<String>> = s
        .divergence
        .iter()
        .map(|(server, d)| {
            vec![
                server.clone(),
                count(d.readable, Some(d.missing_acknowledged_writes)),
                count(d.readable, Some(d.stale_acknowledged_writes)),
                count(d.readable, Some(d.undone_deletes)),
                count(d.readable, d.lingering_ephemerals),
                d.digest_mismatches.map_or("n/a".to_string(), |n| n.to_string()),
                if !d.readable { "UNKNOWN" } else if d.diverges() { "DIVERGES" } else { "none" }.to_string(),
            ]
        })
        .collect();
    let head = ["server", "missing writes", "stale writes", "undone deletes", "lingering ephemerals", "digest mismatches", "divergence"];
    o.push_str(&table(&head.map(String::from), &rows));
}

/// The headline figures and the latency table per scope and kind.
fn figures_tables(o: &mut String, s: &Summary) {
    let _ = writeln!(o, "<h2>Figures</h2>");
    let conv = s.converge_ms.map(|x| fmt_ms(x as f64)).unwrap_or_else(|| "never".into());
    let rows = vec![
        vec!["operations issued".into(), s.ops.total.to_string()],
        vec![
            "successful / failed / indeterminate".into(),
            format!("{} / {} / {}", s.ops.ok, s.ops.fail, s.ops.indeterminate),
        ],
        vec!["error rate".into(), format!("{:.3} %", 100.0 * s.error_rate)],
        vec!["longest outage, any op".into(), opt_ms(s.outage_ms.any)],
        vec!["longest outage, reads".into(), opt_ms(s.outage_ms.read)],
        vec!["longest outage, writes".into(), opt_ms(s.outage_ms.write)],
        vec![
            "outage resolution (read / write)".into(),
            format!("{} / {}", opt_ms(s.outage_resolution_ms.read), opt_ms(s.outage_resolution_ms.write)),
        ],
        vec!["procedure start → converged".into(), conv],
        vec!["leader changes".into(), s.leader_changes.to_string()],
    ];
    o.push_str(&table(&["figure".into(), "value".into()], &rows));

    o.push_str(&latency_table(s));
    o.push_str(&impact_table(s));
}

/// One row per procedure step.
fn steps_table(o: &mut String, s: &Summary) {
    let _ = writeln!(o, "<h2>Procedure steps</h2>");
    if s.procedure.steps.is_empty() {
        let _ = writeln!(o, "<p>No procedure steps were recorded.</p>");
    } else {
        let rows: Vec<Vec<String>> = s
            .procedure
            .steps
            .iter()
            .enumerate()
            .map(|(i, st)| {
                vec![
                    (i + 1).to_string(),
                    format!("{:.2} s", st.at_ms / 1000.0),
                    st.label.clone(),
                    st.duration_ms.map(fmt_ms).unwrap_or_else(|| "—".into()),
                    st.detail.clone().unwrap_or_default(),
                ]
            })
            .collect();
        let h: Vec<String> = ["#", "at", "step", "duration", "detail"].map(String::from).to_vec();
        o.push_str(&table(&h, &rows));
    }
}

/// Latency quantiles of successful operations, whole run and per phase.
fn latency_table(s: &Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "<h3>Latency from the intended start (successful operations)</h3>");
    let mut lat_rows = Vec::new();
    for (scope, map) in std::iter::once(("whole run".to_string(), &s.latency_us))
        .chain(s.phases.iter().map(|(p, ph)| (p.clone(), &ph.latency_us)))
    {
        for (kind, q) in map {
            lat_rows.push(vec![
                scope.clone(),
                kind.clone(),
                q.count.to_string(),
                fmt_us(q.p50 as f64),
                fmt_us(q.p99 as f64),
                fmt_us(q.p999 as f64),
                fmt_us(q.max as f64),
            ]);
        }
    }
    let h: Vec<String> = ["scope", "kind", "count", "p50", "p99", "p99.9", "max"].map(String::from).to_vec();
    o.push_str(&table(&h, &lat_rows));
    o
}

/// The impact window's figures (what the gate and suite statistics judge) and, for a repeated
/// procedure, each cycle's.
fn impact_table(s: &Summary) -> String {
    let Some(impact) = &s.impact else { return String::new() };
    let mut o = String::from("<h2>Impact window and cycles</h2>\n<p>Impact window: procedure start → load stop \
        (the window of the gate and the suite statistics); each cycle: its start → the next cycle's start (the last: \
        the load stop). p99: every issued operation, from the intended start.</p>\n");
    let row = |name: String, p: &super::summary::PhaseSummary, conv: Option<f64>, elect: Option<f64>| {
        vec![
            name,
            format!("{:.2}–{:.2} s", p.start_ms / 1000.0, p.end_ms / 1000.0),
            opt_ms(p.outage_ms.read),
            opt_ms(p.outage_ms.write),
            opt_ms(p.outage_ms.per_session.map(|x| x.max)),
            format!("{:.3} %", p.error_rate * 100.0),
            p.latency_all_us.get("all").map(|q| fmt_us(q.p99 as f64)).unwrap_or_else(|| "—".into()),
            opt_ms(conv),
            opt_ms(elect),
        ]
    };
    let mut rows = vec![row("impact".into(), impact, s.converge_ms.map(|x| x as f64), None)];
    for c in &s.cycles {
        rows.push(row(format!("cycle {}", c.cycle), &c.figures, c.converge_ms, c.election_ms));
    }
    let h: Vec<String> =
        ["window", "span", "outage read", "outage write", "one session (max)", "error rate", "p99 all issued", "converged after", "election"]
            .map(String::from)
            .to_vec();
    o.push_str(&table(&h, &rows));
    o
}

fn link_list(paths: &[String]) -> String {
    if paths.is_empty() {
        return "none".into();
    }
    paths.iter().map(|p| format!("<a href=\"{0}\">{0}</a>", esc(p))).collect::<Vec<_>>().join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_columns_are_right_aligned_and_verdicts_coloured() {
        let h = vec!["strategy".to_string(), "outage".to_string(), "loss".to_string()];
        let rows = vec![vec!["reconfig".to_string(), "32 ms (30–40 ms)".to_string(), "PASS 1/1".to_string()]];
        let t = table(&h, &rows);
        assert!(t.starts_with("<div class=\"wrap\">"), "{t}");
        assert!(t.contains("<th class=\"num\">outage</th>"), "{t}");
        assert!(t.contains("<td class=\"num\">32 ms (30–40 ms)</td>"), "{t}");
        assert!(t.contains("<td class=\"PASS\">PASS 1/1</td>"), "{t}");
        assert!(t.contains("<td>reconfig</td>"), "{t}");
    }

    #[test]
    fn head_has_viewport_and_text_is_escaped() {
        assert!(page_head("a<b").contains("name=\"viewport\""));
        assert!(page_head("a<b").contains("<title>a&lt;b</title>"));
        assert_eq!(esc("\"&"), "&quot;&amp;");
    }
}
