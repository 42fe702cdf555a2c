//! OpenMetrics text exposition of one run (`metrics.om` in the run directory, and
//! `zkchaos export --format openmetrics <run dir>`), so a run can be looked at in Grafana next to
//! the ZooKeeper servers' own metrics.
//!
//! Time series carry absolute timestamps (the run's epoch from `meta.json` + the interval start),
//! which is what `promtool tsdb create-blocks-from openmetrics metrics.om <dir>` backfills into a
//! Prometheus TSDB. Every sample is labelled with `run`, `profile` and `strategy`.
//!
//! Families (all gauges; OpenMetrics requires a family's samples to be contiguous and, per label
//! set, in time order — [`render`] writes them so):
//! - `zkchaos_interval_ops{kind,outcome}`: operations completed in each `timeline.csv` interval
//!   (`ok`, `fail`, `indeterminate`), per second;
//! - `zkchaos_interval_latency_seconds{kind,quantile}`: p50/p99/max of the interval's successful
//!   operations (absent where there was none, as in `timeline.csv`);
//! - `zkchaos_server_leader{server}` and `zkchaos_server_serving{server}`: 1/0 per monitor sample;
//! - run figures from `summary.json`, stamped at the run's end: `zkchaos_outage_seconds{class}`,
//!   `zkchaos_error_ratio`, `zkchaos_converge_seconds`, `zkchaos_latency_seconds{kind,quantile}`,
//!   `zkchaos_check_pass{check}` (1 PASS, 0 FAIL; absent when UNKNOWN), `zkchaos_ops{outcome}`.

use super::summary::Summary;
use crate::check::Verdict;
use crate::record::timeline::TimelineRow;
use crate::record::{ModeSample, ServerMode};
use std::fmt::Write;

/// What the exposition is built from.
pub struct RunSeries<'a> {
    pub summary: &'a Summary,
    pub rows: &'a [TimelineRow],
    pub samples: &'a [ModeSample],
    pub interval_us: u64,
    /// Unix time of the run's epoch (time 0 of every `*_us`), milliseconds.
    pub epoch_unix_ms: i64,
}

/// Escape a label value (backslash, double quote, newline).
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A float as OpenMetrics writes it (`NaN`, `+Inf` are never produced here).
fn num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

struct Writer<W: Write> {
    out: W,
    base: String,
}

impl<W: Write> Writer<W> {
    fn family(&mut self, name: &str, unit: &str, help: &str) {
        let _ = writeln!(self.out, "# TYPE {name} gauge");
        if !unit.is_empty() {
            let _ = writeln!(self.out, "# UNIT {name} {unit}");
        }
        let _ = writeln!(self.out, "# HELP {name} {help}");
    }
    /// One sample; `labels` are added after the run labels; `ts_ms` in Unix milliseconds.
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64, ts_ms: i64) {
        let mut l = self.base.clone();
        for (k, v) in labels {
            let _ = write!(l, ",{k}=\"{}\"", esc(v));
        }
        let _ =
            writeln!(self.out, "{name}{{{l}}} {} {}.{:03}", num(value), ts_ms.div_euclid(1000), ts_ms.rem_euclid(1000));
    }
}

/// The exposition text, ending in `# EOF`.
pub fn render(r: &RunSeries<'_>) -> String {
    render_into(r, String::new())
}

/// [`render`] into `out` (e.g. a file, so an hour's exposition is never held whole).
pub fn render_into<W: Write>(r: &RunSeries<'_>, out: W) -> W {
    let s = r.summary;
    let base = format!("run=\"{}\",profile=\"{}\",strategy=\"{}\"", esc(&s.run_id), esc(&s.profile), esc(&s.strategy));
    let mut w = Writer { out, base };
    interval_families(&mut w, r);
    server_families(&mut w, r);
    run_families(&mut w, r);
    let _ = w.out.write_str("# EOF\n");
    w.out
}

/// Unix milliseconds of `us` after the run's epoch.
fn at(r: &RunSeries<'_>, us: u64) -> i64 {
    r.epoch_unix_ms + (us / 1000) as i64
}

/// Per interval (timeline.csv): operations by outcome, latency quantiles, per kind.
fn interval_families<W: Write>(w: &mut Writer<W>, r: &RunSeries<'_>) {
    let at = |us: u64| at(r, us);
    let interval_s = r.interval_us.max(1) as f64 / 1e6;
    let mut kinds: Vec<String> = r.rows.iter().map(|x| x.kind.to_string()).collect();
    kinds.sort();
    kinds.dedup();

    w.family(
        "zkchaos_interval_ops",
        "",
        "Operations completed in the interval, per second, by outcome (timeline.csv).",
    );
    for kind in &kinds {
        for outcome in ["ok", "fail", "indeterminate"] {
            for row in r.rows.iter().filter(|x| x.kind.to_string() == *kind) {
                let n = match outcome {
                    "ok" => row.ok,
                    "fail" => row.fail,
                    _ => row.indeterminate,
                };
                w.sample(
                    "zkchaos_interval_ops",
                    &[("kind", kind), ("outcome", outcome)],
                    n as f64 / interval_s,
                    at(row.t_start_us),
                );
            }
        }
    }
    w.family(
        "zkchaos_interval_latency_seconds",
        "seconds",
        "Latency from the intended start of the interval's successful operations (quantile 1 = max).",
    );
    for kind in &kinds {
        for (q, pick) in [("0.5", 0usize), ("0.99", 1), ("1", 2)] {
            for row in r.rows.iter().filter(|x| x.kind.to_string() == *kind && x.ok > 0) {
                let us = [row.p50_us, row.p99_us, row.max_us][pick];
                w.sample(
                    "zkchaos_interval_latency_seconds",
                    &[("kind", kind), ("quantile", q)],
                    us as f64 / 1e6,
                    at(row.t_start_us),
                );
            }
        }
    }
}

/// Per server, from the monitor: leader (or standalone) and serving, 0 or 1.
fn server_families<W: Write>(w: &mut Writer<W>, r: &RunSeries<'_>) {
    let at = |us: u64| at(r, us);
    let mut servers: Vec<u32> = r.samples.iter().map(|x| x.server).collect();
    servers.sort_unstable();
    servers.dedup();
    for (name, help, pred) in [
        (
            "zkchaos_server_leader",
            "1 when the monitor saw the server as leader or standalone.",
            (|m: ServerMode| m.is_authority()) as fn(ServerMode) -> bool,
        ),
        ("zkchaos_server_serving", "1 when the server answered srvr and was serving.", |m: ServerMode| m.is_serving()),
    ] {
        w.family(name, "", help);
        for id in &servers {
            let label = format!("zk{id}");
            let mut own: Vec<&ModeSample> = r.samples.iter().filter(|x| x.server == *id).collect();
            own.sort_by_key(|x| x.at_us);
            let mut last_ts = i64::MIN;
            for m in own {
                let ts = at(m.at_us);
                if ts <= last_ts {
                    continue; // timestamps must increase per series (ms resolution)
                }
                last_ts = ts;
                w.sample(name, &[("server", &label)], f64::from(u8::from(pred(m.mode))), ts);
            }
        }
    }
}

/// Whole-run figures and verdicts, stamped at the run's end.
fn run_families<W: Write>(w: &mut Writer<W>, r: &RunSeries<'_>) {
    let s = r.summary;
    let end = r.epoch_unix_ms + (s.duration_s * 1000.0).round() as i64;
    w.family(
        "zkchaos_outage_seconds",
        "seconds",
        "Longest gap without a successful operation of the class, whole run.",
    );
    for (class, v) in [("any", s.outage_ms.any), ("read", s.outage_ms.read), ("write", s.outage_ms.write)] {
        if let Some(ms) = v {
            w.sample("zkchaos_outage_seconds", &[("class", class)], ms / 1000.0, end);
        }
    }
    w.family("zkchaos_error_ratio", "ratio", "(failed + indeterminate) / issued operations, whole run.");
    w.sample("zkchaos_error_ratio", &[], s.error_rate, end);
    w.family("zkchaos_ops", "", "Operations issued in the run, by outcome.");
    for (outcome, n) in [("ok", s.ops.ok), ("fail", s.ops.fail), ("indeterminate", s.ops.indeterminate)] {
        w.sample("zkchaos_ops", &[("outcome", outcome)], n as f64, end);
    }
    w.family(
        "zkchaos_converge_seconds",
        "seconds",
        "Procedure start to the target membership (absent if it never converged).",
    );
    if let Some(ms) = s.converge_ms {
        w.sample("zkchaos_converge_seconds", &[], ms as f64 / 1000.0, end);
    }
    w.family(
        "zkchaos_latency_seconds",
        "seconds",
        "Latency from the intended start of successful operations, whole run.",
    );
    for (kind, q) in &s.latency_us {
        for (name, us) in [("0.5", q.p50), ("0.99", q.p99), ("0.999", q.p999), ("1", q.max)] {
            w.sample("zkchaos_latency_seconds", &[("kind", kind), ("quantile", name)], us as f64 / 1e6, end);
        }
    }
    w.family("zkchaos_check_pass", "", "Safety check verdict: 1 PASS, 0 FAIL (absent when UNKNOWN).");
    for (check, v) in s.checks.safety_verdicts() {
        match v {
            Verdict::Pass => w.sample("zkchaos_check_pass", &[("check", check)], 1.0, end),
            Verdict::Fail => w.sample("zkchaos_check_pass", &[("check", check)], 0.0, end),
            Verdict::Unknown => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_and_numbers_are_escaped_and_plain() {
        assert_eq!(esc("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.25), "0.25");
    }
}
