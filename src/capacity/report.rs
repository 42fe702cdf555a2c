//! `report.md` and `report.html` of a sweep, for a capacity planner to hand on: the answer table
//! first, then sentences per size, the curves, the USL fits, and the machine it was measured on.
//!
//! The report is built once as a list of [`Block`]s and rendered twice (Markdown and HTML), so
//! the two files always say the same thing.

use super::physics::{describe, CheckStatus};
use super::results::{CapacityRow, SweepSummary, WarmupRecord};
use super::schedule::{StateOrder, WARMUP_SLICE_S};
use super::sweep::{Point, State};
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

/// The cell for one point: the offered rate with its interval, or the bound; `‡` when a physics
/// check involving the point is inconsistent.
pub fn cell(c: &CapacityRow, inconsistent: bool) -> String {
    let mut s = describe(&c.answer);
    if inconsistent {
        s.push_str(" ‡");
    }
    s
}

fn mb(bytes: Option<u64>) -> String {
    bytes.map(|b| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)).unwrap_or_else(|| "unknown".into())
}

fn objective(s: &SweepSummary) -> String {
    let o = &s.objective;
    format!("p99 of all issued operations ≤ {} ms and error rate ≤ {} %", o.p99_ms, o.max_error_rate * 100.0)
}

/// The CPU split, in words.
pub fn budget_text(s: &SweepSummary) -> String {
    let c = &s.cpu_budget;
    let servers = match c.quota() {
        None => "no quota: the servers compete for the host's CPUs (states and sizes do not compare)".to_string(),
        Some(q) => format!("{q} CPU per ZooKeeper container (Docker CPU quota)"),
    };
    let set = c.server_cpuset.as_ref().map(|s| format!(", on host CPU(s) {s}")).unwrap_or_default();
    format!("{servers}{set}")
}

/// The driver's share, in words.
pub fn driver_text(s: &SweepSummary) -> String {
    let d = &s.driver;
    let used = match (d.cpu_cores_median, d.cpu_cores_max) {
        (Some(m), Some(x)) => format!("; it used {m:.2} cores per step (median over {} steps), {x:.2} at most", d.steps),
        _ => String::new(),
    };
    format!("{}{used}; a step at ≥ {:.2} cores counts as driver-limited", d.note, d.limit_cores)
}

/// Build the report.
pub fn blocks(s: &SweepSummary, chart_stems: &[String]) -> Vec<Block> {
    let mut b = intro(s);
    b.extend(answer(s));
    b.extend(physics(s));
    b.extend(notes(s));
    b.extend(warmups(s));
    b.push(Block::Heading(2, "Curves".into()));
    for stem in chart_stems.iter().filter(|s| !s.starts_with("usl-")) {
        b.push(Block::Image(format!("charts/{stem}.svg"), stem.clone()));
    }
    b.extend(usl_section(s, chart_stems));
    b.extend(machine(s));
    b
}

fn intro(s: &SweepSummary) -> Vec<Block> {
    let st = &s.sweep.steps;
    let mut b = vec![Block::Heading(1, format!("Capacity sweep `{}`", s.name))];
    if !s.description.is_empty() {
        b.push(Block::Para(s.description.clone()));
    }
    b.push(Block::Para(format!(
        "**Sustainable offered rate** under the objective: {}. Each point is {} short open-loop steps \
         ({} s warm-up, {} s measured) at rates spread from {}, held in a \
         shuffled order (seed recorded per repetition), each judged against the objective; the probability of \
         meeting it is fitted against the offered rate (monotone, isotonic) and the answer is the offered rate \
         met with probability ≥ {}, with a {} % bootstrap interval over steps ({} resamples). Steps where the \
         load driver fell behind are excluded and counted. {} repetition(s) per point, fitted together.",
        objective(s),
        st.count,
        st.warmup_s,
        st.measure_s,
        if st.low_rate > 0 {
            format!("{} to {} ops/s", st.low_rate, st.high_rate)
        } else {
            format!("{} to {} × its closed-loop saturation", st.low, st.high)
        },
        st.level,
        st.ci_level * 100.0,
        st.bootstrap,
        s.sweep.repeat
    )));
    b.push(Block::Para(format!(
        "**Equal servers**: {}. **Load driver**: {}. Servers and the driver share one machine: absolute \
         figures are this host's; the ratios between sizes, mixes and states are the point.",
        budget_text(s),
        driver_text(s)
    )));
    b.push(Block::Para(ensemble_text(s)));
    if !s.complete {
        b.push(Block::Para(format!("**Incomplete sweep**: {}", s.error.clone().unwrap_or_else(|| "stopped early".into()))));
    }
    b
}

type Key<'a> = (&'a str, u32, u32, u32, u32);

fn key(p: &Point) -> Key<'_> {
    (p.image.as_str(), p.size, p.read_pct, p.value_size, p.sessions)
}

/// The answer table: one row per (image, size, read ratio), one column per state.
fn answer(s: &SweepSummary) -> Vec<Block> {
    let states: Vec<State> = [State::Steady, State::Degraded, State::Expanding]
        .into_iter()
        .filter(|st| s.capacity.iter().any(|c| c.point.state == *st))
        .collect();
    let images: BTreeSet<&str> = s.capacity.iter().map(|c| c.point.image.as_str()).collect();
    let flagged: BTreeSet<&Point> = s
        .physics
        .iter()
        .filter(|c| c.status == CheckStatus::Inconsistent)
        .flat_map(|c| [&c.small, &c.large])
        .collect();
    let mut header = vec!["servers".to_string(), "reads".to_string()];
    if images.len() > 1 {
        header.insert(0, "image".into());
    }
    header.extend(states.iter().map(|st| format!("{st}: offered ops/s [CI]")));
    header.push("steady: achieved ok ops/s".into());
    header.push("closed-loop saturation".into());
    let mut keys: Vec<Key> = s.capacity.iter().map(|c| key(&c.point)).collect();
    keys.sort_by(|a, b| (a.0, a.1, std::cmp::Reverse(a.2), a.3, a.4).cmp(&(b.0, b.1, std::cmp::Reverse(b.2), b.3, b.4)));
    keys.dedup();
    let mut rows = Vec::new();
    for k in &keys {
        let find = |st: State| s.capacity.iter().find(|c| key(&c.point) == *k && c.point.state == st);
        let mut row = vec![k.1.to_string(), format!("{} %", k.2)];
        if images.len() > 1 {
            row.insert(0, k.0.to_string());
        }
        for st in &states {
            row.push(find(*st).map(|c| cell(c, flagged.contains(&c.point))).unwrap_or_else(|| "n/a".into()));
        }
        let steady = find(State::Steady);
        row.push(steady.and_then(|c| c.answer.achieved_ops).map(fmt_ops).unwrap_or_else(|| "–".into()));
        row.push(steady.and_then(|c| c.answer.saturation_ops).map(fmt_ops).unwrap_or_else(|| "–".into()));
        rows.push(row);
    }
    let with_number = s.capacity.iter().filter(|c| c.answer.offered_ops.is_some()).count();
    vec![
        Block::Heading(2, "Answer".into()),
        Block::Table(header, rows),
        Block::Para(format!(
            "{with_number} of {} points have a number or an explicit bound. Offered ops/s: the schedule's rate \
             (what a client population asks for); achieved: successful completions per second of the highest \
             passing step at or below the answer. `[a–b]`: bootstrap interval. `≥ x`: even the highest rate \
             measured met the objective; `≥ x (driver-limited)`: steps above x measured the load driver, not \
             ZooKeeper. `< x`: even the lowest rate missed it. `no data`: every step was driver-limited or failed \
             to run. ‡: a physics check below is inconsistent for this point. `n/a`: not measured (degraded needs \
             at least 2 servers). Closed-loop saturation: ok ops/s at the largest concurrency level (it ignores \
             the objective).",
            s.capacity.len()
        )),
    ]
}

fn physics(s: &SweepSummary) -> Vec<Block> {
    if s.physics.is_empty() {
        return Vec::new();
    }
    let label = |p: &Point| format!("{} servers, {} % reads, {}", p.size, p.read_pct, p.state);
    let rows = s
        .physics
        .iter()
        .map(|c| {
            let status = match c.status {
                CheckStatus::Holds => "holds",
                CheckStatus::Inconsistent => "**inconsistent**",
                CheckStatus::Unknown => "unknown",
            };
            vec![
                c.rule.clone(),
                format!("{}: {}", label(&c.small), c.small_text),
                format!("{}: {}", label(&c.large), c.large_text),
                status.to_string(),
                c.detail.clone(),
            ]
        })
        .collect();
    let bad = s.physics.iter().filter(|c| c.status == CheckStatus::Inconsistent).count();
    vec![
        Block::Heading(2, "Physics checks".into()),
        Block::Para(format!(
            "Orders ZooKeeper's design implies (ATC'10 Table 1: with equal servers, reads grow and writes fall \
             with the ensemble size): {bad} of {} inconsistent. An inconsistent pair is not a finding about \
             ZooKeeper: host noise exceeded the effect; both intervals are shown.",
            s.physics.len()
        )),
        Block::Table(["check", "expected smaller", "expected larger", "status", "detail"].map(String::from).to_vec(), rows),
    ]
}

fn notes(s: &SweepSummary) -> Vec<Block> {
    let mut b: Vec<Block> = sentences(s).into_iter().map(Block::Para).collect();
    if !s.skipped.is_empty() {
        b.push(Block::Para(format!("Not measured: {}.", s.skipped.join("; "))));
    }
    let notes: Vec<Vec<String>> = s
        .capacity
        .iter()
        .filter(|c| !c.answer.note.is_empty())
        .map(|c| vec![c.point.label(), c.answer.note.clone()])
        .collect();
    if !notes.is_empty() {
        b.push(Block::Heading(3, "Excluded steps and errors".into()));
        b.push(Block::Table(vec!["point".into(), "note".into()], notes));
    }
    b
}

/// The state order and the discarded warm-up, in words.
pub fn ensemble_text(s: &SweepSummary) -> String {
    let en = &s.sweep.ensemble;
    let order = match en.order {
        StateOrder::SteadyFirst => "steady first, then one follower stopped for degraded",
        StateOrder::DegradedFirst => "one follower stopped first for degraded, then started again for steady",
        StateOrder::Alternate => "alternating by repetition (even: steady first; odd: degraded first, the follower then started again)",
    };
    let warm = if en.warmup_s == 0.0 && en.rewarm_s == 0.0 {
        "no warm-up: the first steps of each state meet the ensemble as it was left (a fresh ensemble's JVMs cold)".to_string()
    } else {
        format!(
            "{} s of discarded closed-loop load ({} in flight, {} % reads) on every fresh ensemble and after a \
             follower is started again, {} s after one is stopped, each after {} s of idle settle time{}{}; none of it \
             counts in any figure (section \"Warm-ups (discarded)\")",
            en.warmup_s,
            en.warmup_in_flight,
            en.warmup_read_pct,
            en.rewarm_s,
            en.settle_s,
            if en.plateau_pct > 0.0 {
                format!(
                    ", extended 5 s at a time until one slice's ok ops/s is within {} % of the one before (at most {} s more)",
                    en.plateau_pct, en.extend_max_s
                )
            } else {
                String::new()
            },
            if en.lift_quota { ", with the servers' CPU quota lifted (put back before anything is measured)" } else { "" }
        )
    };
    format!("**Shared ensembles**: each repetition starts one ensemble per size for its steady and degraded points, {order}; {warm}.")
}

/// `60`, `60 + 15`: the warm-up's length and its extension, s.
fn warmup_length(r: &WarmupRecord) -> String {
    if r.extended_s > 0.0 {
        format!("{} + {}", r.seconds, r.extended_s)
    } else {
        format!("{}", r.seconds)
    }
}

/// ` (levelled)`, ` (still changing)`, or nothing when levelling was not asked for.
fn levelling(r: &WarmupRecord) -> &'static str {
    match r.levelled {
        Some(true) => " (levelled)",
        Some(false) => " (still changing)",
        None => "",
    }
}

/// One line: what a warm-up followed, how long it was, and how the ensemble warmed.
pub fn warmup_text(r: &WarmupRecord) -> String {
    let mut s = format!("after {}: settled {} s, then ", r.after, r.settle_s);
    if r.seconds == 0.0 {
        s.push_str("no warm-up");
        return s;
    }
    s.push_str(&format!("{} s{} of discarded closed-loop load ({} in flight, {} % reads)", warmup_length(r), levelling(r), r.in_flight, r.read_pct));
    if r.quota_lifted {
        s.push_str(", CPU quota lifted");
    }
    if let (Some(a), Some(b)) = (r.slices.first(), r.slices.last()) {
        s.push_str(&format!(
            ": ok {:.0} → {:.0} ops/s, p99 {:.1} → {:.1} ms (first → last slice of ≤ {WARMUP_SLICE_S} s)",
            a.ok_ops, b.ok_ops, a.p99_ms, b.p99_ms
        ));
    }
    if let Some(e) = &r.error {
        s.push_str(&format!("; {e}"));
    }
    s
}

fn load_text(l: Option<[f64; 3]>) -> String {
    l.map(|l| format!("{:.2} / {:.2} / {:.2}", l[0], l[1], l[2])).unwrap_or_else(|| "unknown".into())
}

/// Every discarded warm-up: what it followed, and its first and last slice.
fn warmups(s: &SweepSummary) -> Vec<Block> {
    if s.warmups.is_empty() {
        return Vec::new();
    }
    let slice = |r: &WarmupRecord, f: fn(&super::results::WarmupSlice) -> String| match (r.slices.first(), r.slices.last()) {
        (Some(a), Some(b)) => format!("{} → {}", f(a), f(b)),
        _ => r.error.clone().unwrap_or_else(|| "–".into()),
    };
    let rows = s
        .warmups
        .iter()
        .map(|r| {
            vec![
                r.rep.to_string(),
                r.size.to_string(),
                r.after.clone(),
                r.state.to_string(),
                format!("{}", r.settle_s),
                if r.seconds == 0.0 { "none".into() } else { format!("{}{}{}", warmup_length(r), levelling(r), if r.quota_lifted { ", quota lifted" } else { "" }) },
                format!("{} / {} %", r.in_flight, r.read_pct),
                slice(r, |x| format!("{:.0}", x.ok_ops)),
                slice(r, |x| format!("{:.1}", x.p99_ms)),
                load_text(r.load_average),
            ]
        })
        .collect();
    vec![
        Block::Heading(2, "Warm-ups (discarded)".into()),
        Block::Para(format!(
            "Closed-loop load held before the first measured step of a state and thrown away; its ok ops/s and p99 \
             are shown for the first and the last slice (≤ {WARMUP_SLICE_S} s each; every slice is in summary.json \
             `warmups`), so a rising throughput or a falling p99 shows the ensemble still warming when it began."
        )),
        Block::Table(
            ["rep", "servers", "after", "then measured", "settle s", "warm-up s", "in flight / reads", "ok ops/s", "p99 ms", "load average"]
                .map(String::from)
                .to_vec(),
            rows,
        ),
    ]
}

fn usl_section(s: &SweepSummary, chart_stems: &[String]) -> Vec<Block> {
    let fits: Vec<Vec<String>> = s
        .points
        .iter()
        .filter_map(|p| p.usl.as_ref().map(|f| (p, f)))
        .map(|(p, f)| {
            vec![
                p.point.size.to_string(),
                format!("{} %", p.point.read_pct),
                f.residuals.len().to_string(),
                format!("{:.4}", f.sigma),
                format!("{:.6}", f.kappa),
                f.peak_n
                    .map(|n| format!("{n:.0}{}", if f.peak_in_range { "" } else { " (outside the measured range)" }))
                    .unwrap_or_else(|| "none (κ = 0)".into()),
                f.peak_x.map(fmt_ops).unwrap_or_else(|| "–".into()),
                format!("{:.3}", f.r2),
                f.residuals.iter().map(|r| format!("{:.0}:{:+.0}", r.n, r.residual)).collect::<Vec<_>>().join(" "),
                f.poor.as_ref().map(|p| format!("**poor fit**: {p}")).unwrap_or_else(|| "ok".into()),
            ]
        })
        .collect();
    if fits.is_empty() {
        return Vec::new();
    }
    let mut b = vec![
        Block::Heading(2, "Universal Scalability Law".into()),
        Block::Para(format!(
            "Closed-loop ok ops/s against requests in flight, steady state, driver-limited levels excluded, \
             fitted to X(N) = λN / (1 + σ(N−1) + κN(N−1)): σ is contention, κ coherency; the peak is at \
             N* = √((1−σ)/κ). Residuals are observed − fitted, per level. A fit is poor below {} levels or \
             at R² < 0.9.",
            super::usl::MIN_LEVELS
        )),
        Block::Table(
            ["servers", "reads", "levels", "σ", "κ", "peak N*", "peak ops/s", "R²", "residuals N:ops/s", "fit"]
                .map(String::from)
                .to_vec(),
            fits,
        ),
    ];
    for stem in chart_stems.iter().filter(|s| s.starts_with("usl-")) {
        b.push(Block::Image(format!("charts/{stem}.svg"), stem.clone()));
    }
    b
}

fn machine(s: &SweepSummary) -> Vec<Block> {
    let m = &s.machine;
    let load = load_text;
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
        vec!["shared with".into(), "the load driver (this process) and whatever else ran on the host; the load averages above show how busy it was".into()],
        vec!["server CPU budget".into(), budget_text(s)],
        vec!["load driver".into(), driver_text(s)],
        vec!["Docker".into(), m.docker_version.clone().unwrap_or_else(|| "unknown".into())],
        vec!["images".into(), versions],
        vec!["zkchaos".into(), format!("{} {}", m.zkchaos_version, m.git_commit.clone().unwrap_or_default())],
        vec!["started".into(), s.started_at.clone()],
        vec![
            "wall time".into(),
            match &s.planned {
                Some(p) => format!("{:.0} s (planned {:.0}–{:.0} s)", s.wall_s, p.seconds, p.seconds_max),
                None => format!("{:.0} s", s.wall_s),
            },
        ],
    ];
    vec![Block::Heading(2, "Machine".into()), Block::Table(vec!["".into(), "".into()], rows)]
}

/// "3 servers sustain X offered ops/s at 0 % reads; with one follower stopped, Y (−Z %)."
pub(super) fn sentences(s: &SweepSummary) -> Vec<String> {
    let mut out = Vec::new();
    for c in s.capacity.iter().filter(|c| c.point.state == State::Steady && c.answer.result == "rate") {
        let Some(v) = c.answer.offered_ops else { continue };
        let p = &c.point;
        let mut line = format!("{} servers sustain {} offered ops/s at {} % reads", p.size, describe(&c.answer), p.read_pct);
        for st in [State::Degraded, State::Expanding] {
            let Some(o) = s.capacity.iter().find(|o| o.point == Point { state: st, ..p.clone() }) else { continue };
            let what = if st == State::Degraded {
                "with one follower stopped".to_string()
            } else {
                format!("during a {}→{} reconfig", p.size, p.size + 2)
            };
            match (o.answer.result.as_str(), o.answer.offered_ops) {
                // A change the physics checks call inconsistent is host noise, not a finding:
                // no percentage is stated for it.
                ("rate", Some(_)) if inconsistent_pair(s, p, &o.point) => {
                    let _ = write!(line, "; {what}, {} ‡ (inconsistent with the steady figure: not a finding)", describe(&o.answer));
                }
                ("rate", Some(w)) => {
                    let _ = write!(line, "; {what}, {} ({:+.0} %)", describe(&o.answer), (w / v - 1.0) * 100.0);
                }
                _ => {
                    let _ = write!(line, "; {what}, {}", describe(&o.answer));
                }
            }
        }
        line.push('.');
        out.push(line);
    }
    out
}

/// Whether a physics check between these two points is inconsistent.
fn inconsistent_pair(s: &SweepSummary, a: &Point, b: &Point) -> bool {
    s.physics.iter().any(|c| {
        c.status == super::physics::CheckStatus::Inconsistent
            && ((&c.small == a && &c.large == b) || (&c.small == b && &c.large == a))
    })
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
