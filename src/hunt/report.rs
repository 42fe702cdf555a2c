//! `hunt.md` and `hunt.html`: the rates per image and per verdict with their intervals, the
//! failing schedules first (with their runbooks), then every trial, then the shrink. Pure text
//! from a [`HuntReport`].

use super::tally::HuntReport;
use std::fmt::Write;
use std::path::Path;

fn load(l: Option<[f64; 3]>) -> String {
    l.map(|l| format!("{:.2} / {:.2} / {:.2}", l[0], l[1], l[2])).unwrap_or_else(|| "unknown".into())
}

/// The rates table (image × verdict), one row per image.
fn rates_md(r: &HuntReport, out: &mut String) {
    let verdicts: std::collections::BTreeSet<&String> = r.rates.iter().flat_map(|i| i.by_verdict.keys()).collect();
    let _ = write!(out, "| image | any safety FAIL (95 % CI) |");
    for v in &verdicts {
        let _ = write!(out, " {v} |");
    }
    let _ = writeln!(out, " UNKNOWN | ERROR | first failure |");
    let _ = writeln!(out, "|{}", "---|".repeat(verdicts.len() + 5));
    for i in &r.rates {
        let _ = write!(out, "| {} | {} |", i.image, i.any.show());
        for v in &verdicts {
            let _ = write!(out, " {} |", i.by_verdict.get(*v).map(|r| r.show()).unwrap_or_else(|| "—".into()));
        }
        let first = i.first_failure.map(|f| format!("trial {} after {:.1} min", f.trial, f.after_s / 60.0)).unwrap_or_else(|| "none".into());
        let _ = writeln!(out, " {} | {} | {first} |", i.unknown, i.errors);
    }
}

/// `hunt.md`.
pub fn markdown(r: &HuntReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# zkchaos hunt: {}\n", r.source);
    let _ = writeln!(
        out,
        "Status **{}**; hunt seed {}; {} run(s) of {} planned trial(s) × {} image(s) in {:.1} min; {} mode. Host: {} cores, load average {} at the start, {} at the last write.\n",
        r.status,
        r.hunt_seed,
        r.trials.len(),
        r.trials_planned.unwrap_or(0),
        r.images.len(),
        r.elapsed_s / 60.0,
        r.mode,
        r.cores,
        load(r.load_at_start),
        load(r.load_now)
    );
    let _ = writeln!(out, "A trial FAILs when any safety check of its run FAILed; rates count decided trials (FAIL + PASS); intervals are exact Clopper-Pearson 95 %.\n");
    rates_md(r, &mut out);
    let failing: Vec<_> = r.trials.iter().filter(|t| t.failed()).collect();
    let _ = writeln!(out, "\n## Failing schedules ({})\n", failing.len());
    for t in &failing {
        let bad: Vec<&str> = t.verdicts.iter().filter(|(_, v)| v.as_str() == "FAIL").map(|(k, _)| k.as_str()).collect();
        let _ = writeln!(out, "- trial {} on {}: FAIL {} — `{}` — {}", t.trial, t.image, bad.join(", "), t.runbook, t.schedule.join("; "));
    }
    let _ = writeln!(out, "\n## Trials\n\n| trial | image | outcome | verdicts | min | runbook | run |\n|---|---|---|---|---|---|---|");
    for t in &r.trials {
        let v: Vec<String> = t.verdicts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let what = if t.outcome == "ERROR" { t.error.clone().unwrap_or_default() } else { v.join(", ") };
        let _ = writeln!(out, "| {} | {} | {} | {} | {:.1} | `{}` | {} |", t.trial, t.image, t.outcome, what.replace('|', "/"), t.duration_s / 60.0, t.runbook, t.run_dir.as_deref().unwrap_or("—"));
    }
    if let Some(s) = &r.shrink {
        let _ = writeln!(out, "\n## Shrink\n\n`{}` on {}: {} steps → `{}`, {} steps ({}; {} candidate(s), {} run(s), {:.1} of {:.1} min). Rate of the smallest: {} (replays stop at the first failure, so this over-states it).\n", s.original, s.image, s.original_steps, s.smallest, s.smallest_steps, s.stopped, s.candidates_tried, s.runs, s.spent_s / 60.0, s.budget_s / 60.0, s.smallest_rate.map(|r| r.show()).unwrap_or_else(|| "—".into()));
        for (i, p) in s.path.iter().enumerate() {
            let _ = writeln!(out, "{}. {p}", i + 1);
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `hunt.html`: the failing schedules on top with their runbooks, then the Markdown report.
pub fn html(r: &HuntReport, dir: &Path) -> String {
    let mut out = String::from("<!doctype html><meta charset=\"utf-8\"><title>zkchaos hunt</title><style>body{font-family:sans-serif;max-width:70em;margin:auto}pre{background:#f4f4f4;padding:.5em;overflow:auto}.fail{color:#b00}</style>\n");
    let _ = writeln!(out, "<h1>zkchaos hunt: {}</h1>", esc(&r.source));
    let failing: Vec<_> = r.trials.iter().filter(|t| t.failed()).collect();
    let _ = writeln!(out, "<h2 class=\"fail\">Failing schedules ({})</h2>", failing.len());
    for t in failing {
        let bad: Vec<&str> = t.verdicts.iter().filter(|(_, v)| v.as_str() == "FAIL").map(|(k, _)| k.as_str()).collect();
        let _ = writeln!(out, "<h3>trial {} on {}: FAIL {}</h3><p>run: {}</p>", t.trial, esc(&t.image), esc(&bad.join(", ")), esc(t.run_dir.as_deref().unwrap_or("—")));
        let text = std::fs::read_to_string(dir.join(&t.runbook)).unwrap_or_else(|_| format!("({} not readable)", t.runbook));
        let _ = writeln!(out, "<pre>{}</pre>", esc(&text));
    }
    let _ = writeln!(out, "<h2>Report</h2><pre>{}</pre>", esc(&markdown(r)));
    out
}
