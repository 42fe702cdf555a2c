//! `report.md` and `report.html` of a sweep, for a capacity planner to hand on: the answer table
//! first, then sentences per size, the curves, the USL fits, and the machine it was measured on.
//!
//! The report is built once as a list of [`Block`]s and rendered twice (Markdown and HTML), so
//! the two files always say the same thing.

use super::results::{CapacityRow, SweepSummary};
use super::sweep::State;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// A piece of the report.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(u8, String),
    Para(String),
    Table(Vec<String>, Vec<Vec<String>>),
    Image(String, String),
}

fn fmt_ops(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1}k", v / 1000.0)
    } else {
        format!("{v:.0}")
    }
}

/// The cell for one point: the rate, or why there is none.
pub fn cell(c: &CapacityRow) -> String {
    let mut s = match (c.max_sustainable_ops, c.result.as_str()) {
        (Some(v), "at-least") => format!("≥ {}", fmt_ops(v)),
        (Some(v), _) => fmt_ops(v),
        (None, "none") => "< floor".into(),
        (None, _) => "unstable".into(),
    };
    if c.reps > 1 {
        if let (Some(a), Some(b)) = (c.min_ops, c.max_ops) {
            let _ = write!(s, " ({}–{})", fmt_ops(a), fmt_ops(b));
        }
    }
    if c.max_sustainable_ops.is_some() && !c.confirmed {
        s.push_str(" unconfirmed");
    }
    if c.driver_limited {
        s.push_str(" †");
    }
    s
}

fn mb(bytes: Option<u64>) -> String {
    bytes.map(|b| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)).unwrap_or_else(|| "unknown".into())
}

/// Build the report.
pub fn blocks(s: &SweepSummary, chart_stems: &[String]) -> Vec<Block> {
    let mut b = Vec::new();
    let o = &s.objective;
    let objective =
        format!("p99 of all issued operations ≤ {} ms and error rate ≤ {} %", o.p99_ms, o.max_error_rate * 100.0);
    b.push(Block::Heading(1, format!("Capacity sweep `{}`", s.name)));
    if !s.description.is_empty() {
        b.push(Block::Para(s.description.clone()));
    }
    b.push(Block::Para(format!(
        "**Maximum sustainable throughput** (ok ops/s) under the objective: {objective}. Open-loop load, \
         geometric ramp then bisection to {} %, the found rate held again to confirm it. {} repetition(s) per \
         point: the median, with min–max in brackets when repeated.",
        s.sweep.ramp.resolution * 100.0,
        s.sweep.repeat
    )));
    b.push(Block::Para(
        "**Servers and the load generator share one machine here**, so absolute figures are lower bounds: \
         the ratios between sizes, mixes and states are the point."
            .into(),
    ));
    if !s.complete {
        b.push(Block::Para(format!(
            "**Incomplete sweep**: {}",
            s.error.clone().unwrap_or_else(|| "stopped early".into())
        )));
    }

    // The answer table: one row per (image, size, read ratio), one column per state.
    b.push(Block::Heading(2, "Answer".into()));
    let states: Vec<State> = [State::Steady, State::Degraded, State::Expanding]
        .into_iter()
        .filter(|st| s.capacity.iter().any(|c| c.state == *st))
        .collect();
    let images: BTreeSet<&str> = s.capacity.iter().map(|c| c.image.as_str()).collect();
    let mut header = vec!["servers".to_string(), "reads".to_string()];
    if images.len() > 1 {
        header.insert(0, "image".into());
    }
    header.extend(states.iter().map(|st| format!("{st} ops/s")));
    header.push("closed-loop saturation".into());
    let mut keys: Vec<(&str, u32, u32, u32, u32)> =
        s.capacity.iter().map(|c| (c.image.as_str(), c.size, c.read_pct, c.value_size, c.sessions)).collect();
    keys.sort_by(|a, b| {
        (a.0, a.1, std::cmp::Reverse(a.2), a.3, a.4).cmp(&(b.0, b.1, std::cmp::Reverse(b.2), b.3, b.4))
    });
    keys.dedup();
    let mut rows = Vec::new();
    for k in &keys {
        let find = |st: State| {
            s.capacity
                .iter()
                .find(|c| (c.image.as_str(), c.size, c.read_pct, c.value_size, c.sessions) == *k && c.state == st)
        };
        let mut row = vec![k.1.to_string(), format!("{} %", k.2)];
        if images.len() > 1 {
            row.insert(0, k.0.to_string());
        }
        for st in &states {
            row.push(find(*st).map(cell).unwrap_or_else(|| "n/a".into()));
        }
        row.push(find(State::Steady).and_then(|c| c.saturation_ops).map(fmt_ops).unwrap_or_else(|| "–".into()));
        rows.push(row);
    }
    b.push(Block::Table(header, rows));
    b.push(Block::Para(
        "`unstable`: the confirmation failed or the results were non-monotonic, so no number is given. \
         `< floor`: even the ramp's lowest rate missed the objective. `≥`: the ramp's ceiling met it. \
         † a step the search counted as failed was driver-limited (the load driver fell behind its \
         schedule): that number may be the driver's limit, not ZooKeeper's. `n/a`: not measured \
         (degraded needs at least 2 servers). Closed-loop saturation: ok ops/s at the largest \
         concurrency level, for reference (it ignores the latency objective)."
            .into(),
    ));
    let unstable = s.capacity.iter().filter(|c| c.max_sustainable_ops.is_none() && c.result != "none").count();
    if unstable > 0 {
        let load = |l: Option<[f64; 3]>| l.map(|l| format!("{:.1}", l[0])).unwrap_or_else(|| "?".into());
        b.push(Block::Para(format!(
            "{unstable} of {} points gave no stable number (load average {} at the start, {} at the end, on {}              cores): repeated steps disagreed, which on a shared host usually measures the host. Rerun on a              quieter machine, with longer steps, or with `repeat` > 1.",
            s.capacity.len(),
            load(s.machine.load_average_start),
            load(s.machine.load_average_end),
            s.machine.cores
        )));
    }
    for line in sentences(s, &objective) {
        b.push(Block::Para(line));
    }
    if !s.skipped.is_empty() {
        b.push(Block::Para(format!("Not measured: {}.", s.skipped.join("; "))));
    }
    let notes: Vec<Vec<String>> = s
        .capacity
        .iter()
        .filter(|c| !c.note.is_empty())
        .map(|c| vec![format!("{} servers, {} % reads, {}", c.size, c.read_pct, c.state), c.note.clone()])
        .collect();
    if !notes.is_empty() {
        b.push(Block::Heading(3, "Why some points have no number".into()));
        b.push(Block::Table(vec!["point".into(), "reason".into()], notes));
    }

    b.push(Block::Heading(2, "Curves".into()));
    for stem in chart_stems.iter().filter(|s| !s.starts_with("usl-")) {
        b.push(Block::Image(format!("charts/{stem}.svg"), stem.clone()));
    }
    let fits: Vec<Vec<String>> = s
        .points
        .iter()
        .filter_map(|p| p.usl.as_ref().map(|f| (p, f)))
        .map(|(p, f)| {
            vec![
                p.point.size.to_string(),
                format!("{} %", p.point.read_pct),
                format!("{:.4}", f.sigma),
                format!("{:.6}", f.kappa),
                f.peak_n
                    .map(|n| format!("{n:.0}{}", if f.peak_in_range { "" } else { " (outside the measured range)" }))
                    .unwrap_or_else(|| "none (κ = 0)".into()),
                f.peak_x.map(fmt_ops).unwrap_or_else(|| "–".into()),
                format!("{:.3}", f.r2),
                f.residuals.iter().map(|r| format!("{:.0}:{:+.0}", r.n, r.residual)).collect::<Vec<_>>().join(" "),
                f.poor.clone().unwrap_or_else(|| "ok".into()),
            ]
        })
        .collect();
    if !fits.is_empty() {
        b.push(Block::Heading(2, "Universal Scalability Law".into()));
        b.push(Block::Para(
            "Closed-loop ok ops/s against requests in flight, steady state, fitted to \
             X(N) = λN / (1 + σ(N−1) + κN(N−1)): σ is contention, κ coherency; the peak is at \
             N* = √((1−σ)/κ). Residuals are observed − fitted, per concurrency level."
                .into(),
        ));
        b.push(Block::Table(
            ["servers", "reads", "σ", "κ", "peak N*", "peak ops/s", "R²", "residuals N:ops/s", "fit"]
                .map(String::from)
                .to_vec(),
            fits,
        ));
        for stem in chart_stems.iter().filter(|s| s.starts_with("usl-")) {
            b.push(Block::Image(format!("charts/{stem}.svg"), stem.clone()));
        }
    }

    b.push(Block::Heading(2, "Machine".into()));
    let m = &s.machine;
    let load = |l: Option<[f64; 3]>| {
        l.map(|l| format!("{:.2} / {:.2} / {:.2}", l[0], l[1], l[2])).unwrap_or_else(|| "unknown".into())
    };
    let budget = match (&s.cpu_budget.server_cpus, &s.cpu_budget.server_cpuset) {
        (None, None) => "none: servers and the load generator compete for every core".to_string(),
        (cpus, set) => format!(
            "{}{}",
            cpus.map(|c| format!("{c} CPU per server (Docker CPU quota)")).unwrap_or_default(),
            set.as_ref().map(|s| format!(", cpuset {s}")).unwrap_or_default()
        ),
    };
    let versions = m
        .zookeeper_versions
        .iter()
        .map(|(i, v)| format!("{i} (ZooKeeper {})", v.clone().unwrap_or_else(|| "?".into())))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = vec![
        vec!["host".into(), m.hostname.clone().unwrap_or_default()],
        vec!["cores".into(), m.cores.to_string()],
        vec!["memory".into(), mb(m.memory_bytes)],
        vec!["os / arch".into(), format!("{} / {}", m.os, m.arch)],
        vec!["load average at start (1/5/15 min)".into(), load(m.load_average_start)],
        vec!["load average at end".into(), load(m.load_average_end)],
        vec!["shared with".into(), "the load generator (this process) and whatever else ran on the host; the load averages above show how busy it was".into()],
        vec!["server CPU budget".into(), budget],
        vec!["Docker".into(), m.docker_version.clone().unwrap_or_else(|| "unknown".into())],
        vec!["images".into(), versions],
        vec!["zkchaos".into(), format!("{} {}", m.zkchaos_version, m.git_commit.clone().unwrap_or_default())],
        vec!["started".into(), s.started_at.clone()],
        vec!["wall time".into(), format!("{:.0} s", s.wall_s)],
    ];
    b.push(Block::Table(vec!["".into(), "".into()], rows));
    b
}

/// "At p99 ≤ 20 ms, 3 servers sustain X ops/s at 0 % reads; with one follower stopped, Y (−Z %)."
fn sentences(s: &SweepSummary, objective: &str) -> Vec<String> {
    let mut out = Vec::new();
    for c in s.capacity.iter().filter(|c| c.state == State::Steady) {
        let Some(v) = c.max_sustainable_ops else { continue };
        let mut line =
            format!("With {objective}, {} servers sustain {} ops/s at {} % reads", c.size, fmt_ops(v), c.read_pct);
        for st in [State::Degraded, State::Expanding] {
            let other = s.capacity.iter().find(|o| {
                o.state == st
                    && o.size == c.size
                    && o.read_pct == c.read_pct
                    && o.image == c.image
                    && o.value_size == c.value_size
                    && o.sessions == c.sessions
            });
            if let Some(o) = other {
                let what = if st == State::Degraded {
                    "with one follower stopped".to_string()
                } else {
                    format!("during a {}→{} reconfig", c.size, c.size + 2)
                };
                match o.max_sustainable_ops {
                    Some(w) => {
                        let _ = write!(line, "; {what}, {} ({:+.0} %)", fmt_ops(w), (w / v - 1.0) * 100.0);
                    }
                    None => {
                        let _ = write!(line, "; {what}, no stable number");
                    }
                }
            }
        }
        line.push('.');
        out.push(line);
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Inline Markdown subset used by the blocks: `**bold**` and `` `code` ``.
fn inline_html(s: &str) -> String {
    let mut out = String::new();
    let mut bold = false;
    let mut code = false;
    let e = esc(s);
    let mut rest = e.as_str();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("**") {
            out.push_str(if bold { "</strong>" } else { "<strong>" });
            bold = !bold;
            rest = r;
        } else if let Some(r) = rest.strip_prefix('`') {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
            rest = r;
        } else {
            let ch = rest.chars().next().unwrap_or(' ');
            out.push(ch);
            rest = &rest[ch.len_utf8()..];
        }
    }
    out
}

pub fn render_md(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Heading(l, t) => {
                let _ = writeln!(out, "{} {t}\n", "#".repeat(*l as usize));
            }
            Block::Para(t) => {
                let _ = writeln!(out, "{t}\n");
            }
            Block::Table(h, rows) => {
                let _ = writeln!(out, "| {} |", h.join(" | "));
                let _ = writeln!(out, "|{}|", h.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
                for r in rows {
                    let _ = writeln!(
                        out,
                        "| {} |",
                        r.iter().map(|c| c.replace('|', "\\|")).collect::<Vec<_>>().join(" | ")
                    );
                }
                out.push('\n');
            }
            Block::Image(src, alt) => {
                let _ = writeln!(out, "![{alt}]({src})\n");
            }
        }
    }
    out
}

pub fn render_html(title: &str, blocks: &[Block]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\
         body{{font-family:sans-serif;max-width:1250px;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}\
         th{{background:#f3f3f3}}img{{max-width:100%;border:1px solid #eee;margin:.5em 0}}</style></head><body>\n",
        esc(title)
    );
    for b in blocks {
        match b {
            Block::Heading(l, t) => {
                let _ = writeln!(out, "<h{l}>{}</h{l}>", inline_html(t));
            }
            Block::Para(t) => {
                let _ = writeln!(out, "<p>{}</p>", inline_html(t));
            }
            Block::Table(h, rows) => {
                out.push_str("<table>\n<tr>");
                for c in h {
                    let _ = write!(out, "<th>{}</th>", inline_html(c));
                }
                out.push_str("</tr>\n");
                for r in rows {
                    out.push_str("<tr>");
                    for c in r {
                        let _ = write!(out, "<td>{}</td>", inline_html(c));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
            Block::Image(src, alt) => {
                let _ = writeln!(out, "<p><img src=\"{}\" alt=\"{}\"></p>", esc(src), esc(alt));
            }
        }
    }
    out.push_str("</body></html>\n");
    out
}
