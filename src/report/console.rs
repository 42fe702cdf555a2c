//! The summary as the console shows it at the end of a run (and after `zkchaos analyze`):
//! a short table of the figures, and the safety verdicts in words a user cannot miss.

use super::charts::style::{fmt_ms, fmt_us};
use super::summary::{CheckSummary, Quantiles, Summary};
use crate::check::Verdict;
use std::fmt::Write as _;

/// Render `s` as plain text (no colour codes, so it can be logged or piped).
pub fn render_console(s: &Summary) -> String {
    let mut o = String::new();
    let _ = write_console(&mut o, s);
    o
}

fn write_console(o: &mut String, s: &Summary) -> std::fmt::Result {
    header(o, s)?;
    figures(o, s)?;
    latency_table(o, s)?;
    checks(o, s)?;
    verdict(o, s)
}

/// Run, profile, strategy, sizes, load and models.
fn header(o: &mut String, s: &Summary) -> std::fmt::Result {
    let sizes = if s.from_size == s.to_size {
        format!("{} servers", s.from_size)
    } else {
        format!("{} → {} servers", s.from_size, s.to_size)
    };
    let seed = s.seed.map(|x| format!(", seed {x}")).unwrap_or_default();
    writeln!(o, "zkchaos run {}: profile {}, strategy {}, {sizes}{seed}", s.run_id, s.profile, s.strategy)?;
    writeln!(
        o,
        "  started {}, {:.1} s; {} load {} ops/s over {} sessions",
        if s.started_at.is_empty() { "(unknown)" } else { &s.started_at },
        s.duration_s,
        s.load.mode,
        s.load.intended_rate,
        s.load.sessions
    )?;
    writeln!(o, "  {}", s.models_line())?;
    writeln!(o)?;
    Ok(())
}

/// Operations, errors, outages, service outage, the procedure phase, convergence, reconfig.
fn figures(o: &mut String, s: &Summary) -> std::fmt::Result {
    let pct = |n: u64| if s.ops.total == 0 { 0.0 } else { 100.0 * n as f64 / s.ops.total as f64 };
    writeln!(
        o,
        "  operations    {} total, {} ok ({:.2} %), {} failed, {} indeterminate; {:.1} ops/s issued",
        s.ops.total,
        s.ops.ok,
        pct(s.ops.ok),
        s.ops.fail,
        s.ops.indeterminate,
        s.ops.achieved_rate
    )?;
    if s.errors_by_class.is_empty() {
        writeln!(o, "  errors        none")?;
    } else {
        let mut v: Vec<(&String, &u64)> = s.errors_by_class.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = v.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(o, "  errors        {} (error rate {:.3} %)", parts.join(", "), 100.0 * s.error_rate)?;
    }
    let res = |r: Option<f64>| r.map(|x| format!("resolution {}", fmt_ms(x))).unwrap_or_else(|| "no ops".into());
    let out = |x: Option<f64>| x.map(fmt_ms).unwrap_or_else(|| "n/a".into());
    writeln!(
        o,
        "  outage        read {} ({}), write {} ({}), any {}; {} gap(s) > {}",
        out(s.outage_ms.read),
        res(s.outage_resolution_ms.read),
        out(s.outage_ms.write),
        res(s.outage_resolution_ms.write),
        out(s.outage_ms.any),
        s.outage_gaps.any,
        fmt_ms(s.outage_gaps.threshold_ms)
    )?;
    if let Some(ps) = &s.outage_ms.per_session {
        writeln!(o, "  per session   longest gap of one session: max {}, median {}", fmt_ms(ps.max), fmt_ms(ps.median))?;
    }
    if s.outage_baseline_ms.any.is_some() {
        writeln!(
            o,
            "  noise floor   warm-up's longest gaps: read {}, write {} (an outage below twice these is noise)",
            out(s.outage_baseline_ms.read),
            out(s.outage_baseline_ms.write)
        )?;
    }
    if let Some(svc) = s.service_outage_ms {
        let reconnect = s
            .reconnect_ms
            .map(|r| format!("; sessions reconnected {} (median) to {} (max) after it returned", fmt_ms(r.median), fmt_ms(r.max)))
            .unwrap_or_default();
        writeln!(
            o,
            "  service       longest time with no server leading {} (resolution {}){reconnect}",
            fmt_ms(svc),
            fmt_ms(s.service_outage_resolution_ms.unwrap_or(0.0))
        )?;
    }
    if let Some(p) = s.phases.get("procedure") {
        writeln!(
            o,
            "  in procedure  read {}, write {} longest outage{}; error rate {:.3} %",
            out(p.outage_ms.read),
            out(p.outage_ms.write),
            p.outage_ms.per_session.map(|ps| format!(", one session {}", fmt_ms(ps.max))).unwrap_or_default(),
            100.0 * p.error_rate
        )?;
    }
    let converge = match s.converge_ms {
        Some(ms) => format!("{} after the procedure started", fmt_ms(ms as f64)),
        None if s.from_size == s.to_size => "n/a (no membership change)".to_string(),
        None => "NEVER (did not reach the target membership)".to_string(),
    };
    let settle = s.settle_ms.map(|ms| format!(", {} after its last step", fmt_ms(ms as f64))).unwrap_or_default();
    writeln!(o, "  convergence   {converge}{settle}; {} leader change(s)", s.leader_changes)?;
    if s.procedure.reconfig_attempts > 0 {
        writeln!(
            o,
            "  reconfig      {} attempt(s), {} failed{}",
            s.procedure.reconfig_attempts,
            s.procedure.reconfig_failures,
            s.auth.as_deref().map(|a| format!("; auth {a}")).unwrap_or_default()
        )?;
    }
    writeln!(o)?;
    Ok(())
}

/// Latency from the intended start per kind, all issued operations.
fn latency_table(o: &mut String, s: &Summary) -> std::fmt::Result {
    writeln!(o, "  latency from intended start, ALL ISSUED operations (failures and timeouts included)")?;
    writeln!(o, "                                 count       p50       p99     p99.9       max")?;
    // Kinds first, then all of them together.
    let rows =
        s.latency_all_us.iter().filter(|(k, _)| *k != "all").chain(s.latency_all_us.iter().filter(|(k, _)| *k == "all"));
    let row = |o: &mut String, label: &str, q: &Quantiles| {
        writeln!(
            o,
            "    {label:<26} {:>9} {:>9} {:>9} {:>9} {:>9}",
            q.count,
            fmt_us(q.p50 as f64),
            fmt_us(q.p99 as f64),
            fmt_us(q.p999 as f64),
            fmt_us(q.max as f64)
        )
    };
    for (kind, q) in rows {
        row(o, kind, q)?;
    }
    if let Some(q) = s.phases.get("procedure").and_then(|p| p.latency_all_us.get("all")) {
        row(o, "all, procedure phase", q)?;
    }
    if let Some(q) = s.latency_us.get("all") {
        row(o, "all, successful only", q)?;
    }
    writeln!(o)?;
    Ok(())
}

/// One line per safety check, divergence per server, server-side evidence.
fn checks(o: &mut String, s: &Summary) -> std::fmt::Result {
    writeln!(o, "  checks")?;
    check_line(o, "data loss", &s.checks.data_loss)?;
    check_line(o, "single leader", &s.checks.single_leader)?;
    if let Some(e) = &s.checks.ephemerals {
        check_line(o, "ephemerals", e)?;
    }
    check_line(o, "digest", &s.checks.digest)?;
    let sr = &s.checks.stale_reads;
    writeln!(
        o,
        "    {:<14} {:<8} {} of {} reads saw a version older than one already acknowledged{} (allowed for follower reads; not a failure)",
        "stale reads",
        sr.count,
        sr.count,
        sr.reads_checked,
        if sr.count > 0 { format!(" (worst: {} versions, {} behind)", sr.worst_lag_versions, fmt_ms(sr.worst_lag_ms)) } else { String::new() }
    )?;
    writeln!(o)?;
    divergence_lines(o, s)?;
    super::evidence::console(o, s)?;
    Ok(())
}

/// The loud lines of failed checks, the verdict in words, the notes.
fn verdict(o: &mut String, s: &Summary) -> std::fmt::Result {
    if s.checks.data_loss.verdict == Verdict::Fail {
        writeln!(o, "  !!! {}", loud("DATA LOSS", &s.checks.data_loss.detail))?;
    }
    if s.checks.single_leader.verdict == Verdict::Fail {
        writeln!(o, "  !!! {}", loud("TWO LEADERS", &s.checks.single_leader.detail))?;
    }
    if let Some(e) = s.checks.ephemerals.as_ref().filter(|e| e.verdict == Verdict::Fail) {
        writeln!(o, "  !!! {}", loud("LINGERING EPHEMERALS", &e.detail))?;
    }
    if s.checks.digest.verdict == Verdict::Fail {
        writeln!(o, "  !!! {}", loud("DIGEST MISMATCH", &s.checks.digest.detail))?;
    }
    let words = match s.verdict {
        Verdict::Pass => "PASS: no acknowledged write lost, never more than one leader, no digest mismatch counted",
        Verdict::Fail => "FAIL: a safety check failed (see above)",
        Verdict::Unknown => "UNKNOWN: a safety check could not decide (see above)",
    };
    writeln!(o, "  VERDICT {words}")?;
    for n in &s.notes {
        writeln!(o, "    - {n}")?;
    }
    Ok(())
}

/// One line per server: what differs there (or `none`), so a divergent server stands out.
fn divergence_lines(o: &mut String, s: &Summary) -> std::fmt::Result {
    if s.divergence.is_empty() {
        return Ok(());
    }
    writeln!(o, "  divergence per server")?;
    for (server, d) in &s.divergence {
        let what = if !d.readable {
            "not read (unknown)".to_string()
        } else {
            let mut parts = Vec::new();
            for (n, label) in [
                (d.missing_acknowledged_writes, "acknowledged writes missing"),
                (d.stale_acknowledged_writes, "acknowledged writes stale"),
                (d.undone_deletes, "acknowledged deletes undone"),
                (d.lingering_ephemerals.unwrap_or(0), "ephemeral nodes outlived their session"),
                (d.digest_mismatches.unwrap_or(0), "digest mismatches counted"),
            ] {
                if n > 0 {
                    parts.push(format!("{n} {label}"));
                }
            }
            if parts.is_empty() {
                "none".to_string()
            } else {
                format!("DIVERGES: {}", parts.join(", "))
            }
        };
        writeln!(o, "    {server:<14} {what}")?;
    }
    writeln!(o)
}

fn check_line(o: &mut String, name: &str, c: &CheckSummary) -> std::fmt::Result {
    writeln!(o, "    {name:<14} {:<8} {}", c.verdict.as_str(), c.detail)
}

/// `PREFIX: detail`, unless the checker's own words already say it loudly.
fn loud(prefix: &str, detail: &str) -> String {
    if detail.chars().take_while(|c| !c.is_lowercase()).count() >= 4 {
        detail.to_string()
    } else {
        format!("{prefix}: {detail}")
    }
}
