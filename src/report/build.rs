//! [`build_summary`]: every figure of `summary.json`, computed from a run's recorded inputs with
//! the analysis functions ([`crate::analysis`]) and the safety checkers ([`crate::check`]).
//!
//! Pure and deterministic (maps are ordered, nothing depends on the clock), so `zkchaos analyze`
//! reproduces the live run's `summary.json` byte for byte.

use crate::record::RunData;
use super::summary::*;
use crate::analysis::{self, latency, OutageFigures};
use crate::check::{self, Verdict};
use crate::plan::{LoadMode, ProcedurePlan, ReconfigAuth};
use crate::record::{labels, MarkKind, OpEvent};
use std::collections::BTreeMap;

/// Compute the summary of a run from its recorded inputs only.
pub fn build_summary(d: &RunData) -> Summary {
    let plan = &d.plan;
    let events = &d.events;
    let phases = analysis::phase_windows(&d.marks);
    // Outages are measured up to the load stop (in-flight operations that time out after it
    // must not stretch the last gap); the same rule as `zkchaos load`.
    let window = analysis::load_window(events, &d.marks);

    let threshold = analysis::default_threshold_ms(events, window);
    let whole = analysis::outages(events, window, threshold);
    let counts = analysis::counts(events);
    let poll_ms = f64::from(plan.monitor.interval_ms);
    let service = analysis::service_outage(&d.samples, window);
    let reconnect = service
        .filter(|o| o.longest_ms > 0.0 && o.to_us < window.1)
        .and_then(|o| analysis::reconnect_after(events, o.to_us, window.1));
    let history = check::version_history(events);

    let mut phase_map = BTreeMap::new();
    for (name, w) in [("warmup", phases.warmup), ("procedure", phases.procedure), ("post", phases.post)] {
        if let Some(w) = w {
            phase_map.insert(name.to_string(), phase_summary(events, w, threshold));
        }
    }
    // The warm-up's outages are the run's noise floor: already computed for its phase summary.
    let baseline: Option<OutageMs> = phase_map.get("warmup").map(|p: &PhaseSummary| p.outage_ms.clone());

    let leaders = check::analyze_modes(&d.samples);
    let data_loss = match &d.readbacks {
        // Without events there is no list of acknowledged writes: nothing was checked.
        Some(_) if !plan.load.events => CheckSummary {
            verdict: Verdict::Unknown,
            detail: "load.events = false: no operation was recorded, so no acknowledged write could be checked".into(),
            figures: BTreeMap::new(),
        },
        Some(rb) => {
            let report = check::audit(events, rb);
            let mut figures = figures_of(&report);
            figures.insert("version_regressions".into(), history.version_regressions.into());
            // A write that returned a version not above one already acknowledged: the key's
            // history went backwards (a rollback later overwritten), which the final-state audit
            // alone cannot see.
            let (verdict, detail) = if history.version_regressions > 0 {
                let line = format!(
                    "DATA LOSS: {} acknowledged writes were rolled back (a later write returned a version not above one already acknowledged)",
                    history.version_regressions
                );
                let detail = if report.verdict == Verdict::Fail { format!("{}; {line}", report.headline()) } else { line };
                (Verdict::Fail, detail)
            } else {
                (report.verdict, report.headline())
            };
            CheckSummary { verdict, detail, figures }
        }
        None => CheckSummary {
            verdict: Verdict::Unknown,
            detail: "no read-back was stored (the run ended before the audit), so acknowledged writes were not checked"
                .into(),
            figures: BTreeMap::new(),
        },
    };
    let single_leader =
        CheckSummary { verdict: leaders.verdict, detail: leaders.headline(), figures: figures_of(&leaders) };
    let verdict = data_loss.verdict.combine(single_leader.verdict);

    let from_size = plan.cluster.size;
    let mut notes = d.notes.clone();
    if events.is_empty() {
        notes.push("no operations were recorded".into());
    }
    if phases.procedure.is_some() && !d.marks.iter().any(|m| m.label == labels::PHASE_PROCEDURE && m.kind == MarkKind::End) {
        notes.push("the procedure phase never ended (run interrupted?)".into());
    }
    let to_size = plan.procedure.target_size(from_size);
    if to_size != from_size && analysis::converge_ms(&d.marks).is_none() && phases.procedure.is_some() {
        notes.push(format!("the ensemble was not seen to converge to {to_size} servers"));
    }
    let outage = outage_ms(events, window, threshold, &whole);
    if let Some(b) = &baseline {
        for (class, o, base) in [("read", outage.read, b.read), ("write", outage.write, b.write)] {
            if let (Some(o), Some(base)) = (o, base) {
                if o < 2.0 * base {
                    notes.push(format!(
                        "the longest {class} gap ({o:.0} ms) is not clearly above the warm-up's longest {class} gap ({base:.0} ms): within this run's noise"
                    ));
                }
            }
        }
    }
    if plan.load.mode == LoadMode::Closed {
        notes.push("closed-loop load: latency is measured per request and NOT corrected for coordinated omission".into());
    }
    if plan.load.weight(crate::plan::OpKind::Create) == 0 && plan.load.weight(crate::plan::OpKind::Multi) == 0 {
        notes.push("the mix has no create: the strongest lost-write detector (sequential znodes) is off".into());
    }

    Summary {
        schema_version: SCHEMA_VERSION,
        run_id: d.run_id.clone(),
        profile: plan.name.clone(),
        strategy: plan.procedure.strategy(),
        from_size,
        to_size,
        seed: plan.seed,
        started_at: d.meta.as_ref().map(|m| m.started_at.clone()).unwrap_or_default(),
        duration_s: analysis::last_time_us(d) as f64 / 1e6,
        load: LoadSummary {
            mode: match plan.load.mode {
                LoadMode::Open => "open".into(),
                LoadMode::Closed => "closed".into(),
            },
            intended_rate: plan.load.rate,
            sessions: plan.load.sessions,
            interval_ms: plan.load.interval_ms,
            op_timeout_ms: plan.load.op_timeout_ms,
            reconnect: plan.load.reconnect.as_str().into(),
        },
        ops: ops_summary(&counts),
        errors_by_class: counts.by_class.clone(),
        error_rate: error_rate(&counts),
        outage_ms: outage,
        outage_baseline_ms: baseline.unwrap_or_default(),
        service_outage_ms: service.map(|o| o.longest_ms),
        service_outage_resolution_ms: service.map(|_| poll_ms),
        reconnect_ms: reconnect,
        outage_resolution_ms: OutageResolution {
            read: whole.resolution_ms.read,
            write: whole.resolution_ms.write,
        },
        outage_at_ms: OutageMs {
            any: whole.any.map(|o| o.longest_from_us as f64 / 1e3),
            read: whole.read.map(|o| o.longest_from_us as f64 / 1e3),
            write: whole.write.map(|o| o.longest_from_us as f64 / 1e3),
            ..OutageMs::default()
        },
        outage_gaps: outage_gaps(&whole),
        latency_us: latency_map(latency::histograms_by_kind(events, None)),
        latency_all_us: latency_map(latency::histograms_all_by_kind(events, None)),
        schedule_lag_us: latency::lag_quantiles(events, None),
        phases: phase_map,
        procedure: analysis::procedure_steps(&d.marks),
        converge_ms: analysis::converge_ms(&d.marks),
        settle_ms: analysis::settle_ms(&d.marks),
        leader_changes: leaders.leader_changes,
        checks: Checks {
            data_loss,
            single_leader,
            stale_reads: StaleReadsSummary {
                count: history.stale_reads,
                reads_checked: history.reads_checked,
                worst_lag_versions: history.worst_lag_versions,
                worst_lag_ms: history.worst_lag_ms,
            },
        },
        auth: match &plan.procedure {
            ProcedurePlan::ReconfigExpand { auth: ReconfigAuth::SuperDigest, .. } => Some("super-digest".into()),
            ProcedurePlan::ReconfigExpand { auth: ReconfigAuth::SkipAcl, .. } => Some("skip-acl: insecure".into()),
            _ => None,
        },
        verdict,
        notes,
        process: ProcessSummary::of(&d.process),
    }
}

fn ops_summary(c: &analysis::OpCounts) -> OpsSummary {
    OpsSummary {
        total: c.total,
        ok: c.ok,
        fail: c.fail,
        indeterminate: c.indeterminate,
        achieved_rate: c.achieved_rate,
        ok_rate: c.ok_rate,
    }
}

fn error_rate(c: &analysis::OpCounts) -> f64 {
    if c.total == 0 {
        0.0
    } else {
        (c.fail + c.indeterminate) as f64 / c.total as f64
    }
}

fn outage_ms(events: &[OpEvent], window: (u64, u64), threshold: f64, f: &OutageFigures) -> OutageMs {
    OutageMs {
        any: f.any.map(|o| o.longest_ms),
        read: f.read.map(|o| o.longest_ms),
        write: f.write.map(|o| o.longest_ms),
        per_session: analysis::per_session(events, window, threshold)
            .map(|s| analysis::Spread { max: s.max, median: s.median }),
        per_kind: analysis::per_kind(events, window, threshold).into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    }
}

fn outage_gaps(f: &OutageFigures) -> OutageGaps {
    let n = |o: Option<analysis::Outage>| o.map(|o| o.gaps_over_threshold).unwrap_or(0);
    OutageGaps { threshold_ms: f.threshold_ms, any: n(f.any), read: n(f.read), write: n(f.write) }
}

/// Quantiles per kind plus `all`.
fn latency_map(hists: BTreeMap<crate::plan::OpKind, hdrhistogram::Histogram<u64>>) -> BTreeMap<String, Quantiles> {
    let mut out: BTreeMap<String, Quantiles> =
        hists.iter().map(|(k, h)| (k.as_str().to_string(), Quantiles::from_histogram(h))).collect();
    let mut all: Option<hdrhistogram::Histogram<u64>> = None;
    for h in hists.values() {
        match all.as_mut() {
            None => all = Some(h.clone()),
            // Auto-resizing histograms of one precision: `add` cannot fail on range.
            Some(a) => {
                let _ = a.add(h);
            }
        }
    }
    if let Some(a) = all {
        out.insert("all".into(), Quantiles::from_histogram(&a));
    }
    out
}

fn phase_summary(events: &[OpEvent], w: (u64, u64), threshold: f64) -> PhaseSummary {
    let inside: Vec<OpEvent> = events.iter().filter(|e| e.intended_us >= w.0 && e.intended_us < w.1).cloned().collect();
    let c = analysis::counts(&inside);
    let o = analysis::outages(events, w, threshold);
    PhaseSummary {
        start_ms: w.0 as f64 / 1e3,
        end_ms: w.1 as f64 / 1e3,
        ops: ops_summary(&c),
        errors_by_class: c.by_class.clone(),
        error_rate: error_rate(&c),
        outage_ms: outage_ms(events, w, threshold, &o),
        outage_gaps: outage_gaps(&o),
        latency_us: latency_map(latency::histograms_by_kind(events, Some(w))),
        latency_all_us: latency_map(latency::histograms_all_by_kind(events, Some(w))),
    }
}

/// A checker report as JSON figures, without its `verdict` (the summary has its own).
fn figures_of<T: serde::Serialize>(report: &T) -> BTreeMap<String, serde_json::Value> {
    match serde_json::to_value(report) {
        Ok(serde_json::Value::Object(map)) => map.into_iter().filter(|(k, _)| k != "verdict").collect(),
        _ => BTreeMap::new(),
    }
}

