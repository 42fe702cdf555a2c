//! [`build_summary`]: every figure of `summary.json`, computed from a run's recorded inputs with
//! the analysis accumulators (one streaming pass over the events, [`super::figures`]) and the
//! safety checkers ([`crate::check`]).
//!
//! Pure and deterministic (maps are ordered, nothing depends on the clock), so `zkchaos analyze`
//! reproduces the live run's `summary.json` byte for byte.

use super::figures::{run_figures, RunFigures};
use super::summary::*;
use crate::analysis::stream::WindowFigures;
use crate::analysis::{self, OutageFigures};
use crate::check::{self, Verdict};
use crate::plan::{LoadMode, ProcedurePlan, ReconfigAuth};
use crate::record::{labels, MarkKind};
use crate::record::{RecordError, RunData};
use std::collections::BTreeMap;

/// Compute the summary of a run from its recorded inputs: the events are streamed once
/// ([`run_figures`]).
pub fn build_summary(d: &RunData) -> Result<Summary, RecordError> {
    Ok(summary_of(d, &run_figures(d)?))
}

/// The summary from a run's recorded inputs and its event figures.
pub fn summary_of(d: &RunData, f: &RunFigures) -> Summary {
    let plan = &d.plan;
    let ev = &f.events;
    // Outages are measured up to the load stop (in-flight operations that time out after it
    // must not stretch the last gap); the same rule as `zkchaos load`.
    let window = ev.load_window;
    let whole = &ev.whole.outages;
    let counts = &ev.whole.counts;
    let poll_ms = f64::from(plan.monitor.interval_ms);
    let service = analysis::service_outage(&d.samples, window);
    let reconnect = service
        .filter(|o| o.longest_ms > 0.0 && o.to_us < window.1)
        .and_then(|o| ev.reconnect.after(o.to_us, window.1));
    let history = &f.history;

    let phase_map: BTreeMap<String, PhaseSummary> = ev
        .phases
        .iter()
        .filter(|(name, _)| name.as_str() != super::figures::IMPACT && labels::cycle_number(name).is_none())
        .map(|(name, w)| (name.clone(), phase_summary(w)))
        .collect();
    // The warm-up's outages are the run's noise floor: already computed for its phase summary.
    let baseline: Option<OutageMs> = phase_map.get("warmup").map(|p: &PhaseSummary| p.outage_ms.clone());

    let leaders = check::analyze_modes(&d.samples, &check::HarnessFaults::from_marks(&d.marks));
    let data_loss = data_loss_check(d, f);
    let single_leader =
        CheckSummary { verdict: leaders.verdict, detail: leaders.headline(), figures: figures_of(&leaders) };
    let ephemerals = ephemerals_check(d, f);
    let digest_report = check::digest::judge(d.mntr.as_deref());
    let divergence = divergence(f, &digest_report);
    let digest = CheckSummary {
        verdict: digest_report.verdict,
        detail: digest_report.detail.clone(),
        figures: figures_of(&digest_report).into_iter().filter(|(k, _)| k != "detail").collect(),
    };
    let checks = Checks {
        data_loss,
        single_leader,
        stale_reads: StaleReadsSummary {
            count: history.stale_reads,
            reads_checked: history.reads_checked,
            worst_lag_versions: history.worst_lag_versions,
            worst_lag_ms: history.worst_lag_ms,
        },
        ephemerals,
        digest,
    };
    // Whether an UNKNOWN of a check makes the run UNKNOWN is `check::safety`'s to say (the
    // digest's does not: older releases, a server down at the end).
    let verdict = check::safety::run_verdict(checks.safety_verdicts());
    let election_lines: BTreeMap<u32, Vec<_>> =
        f.server_logs.iter().map(|(id, s)| (*id, s.elections.clone())).collect();
    let elections = analysis::elections::elections(&d.samples, &election_lines);
    let server_log = f.server_logs.iter().map(|(id, s)| (format!("zk{id}"), s.clone())).collect();

    let from_size = plan.cluster.size;
    let to_size = plan.procedure.target_size(from_size);
    let outage = outage_ms(&ev.whole);
    let notes = run_notes(d, f, &outage, baseline.as_ref());

    Summary {
        schema_version: SCHEMA_VERSION,
        run_id: d.run_id.clone(),
        profile: plan.name.clone(),
        strategy: plan.procedure.strategy(),
        from_size,
        to_size,
        seed: plan.seed,
        started_at: d.meta.as_ref().map(|m| m.started_at.clone()).unwrap_or_default(),
        duration_s: analysis::last_time_us(d, ev.event_window.1) as f64 / 1e6,
        load: load_summary(&plan.load),
        ops: ops_summary(counts),
        errors_by_class: counts.by_class.clone(),
        error_rate: error_rate(counts),
        outage_ms: outage,
        outage_baseline_ms: baseline.unwrap_or_default(),
        service_outage_ms: service.map(|o| o.longest_ms),
        service_outage_resolution_ms: service.map(|_| poll_ms),
        reconnect_ms: reconnect,
        outage_resolution_ms: OutageResolution { read: whole.resolution_ms.read, write: whole.resolution_ms.write },
        outage_at_ms: OutageMs {
            any: whole.any.map(|o| o.longest_from_us as f64 / 1e3),
            read: whole.read.map(|o| o.longest_from_us as f64 / 1e3),
            write: whole.write.map(|o| o.longest_from_us as f64 / 1e3),
            ..OutageMs::default()
        },
        outage_gaps: outage_gaps(whole),
        latency_us: latency_map(&ev.whole.ok_hist),
        latency_all_us: latency_map(&ev.whole.all_hist),
        schedule_lag_us: ev.lag,
        phases: phase_map,
        impact: ev.phases.get(super::figures::IMPACT).map(phase_summary),
        cycles: cycle_summaries(d, ev, &elections),
        procedure: analysis::procedure_steps(&d.marks),
        converge_ms: analysis::converge_ms(&d.marks),
        settle_ms: analysis::settle_ms(&d.marks),
        leader_changes: leaders.leader_changes,
        elections: elections.clone(),
        server_log,
        checks,
        divergence,
        auth: auth_of(&plan.procedure),
        verdict,
        notes,
        models: d.meta.as_ref().and_then(|m| m.models.clone()),
        process: ProcessSummary::of(&d.process),
        agents: d.agents.clone(),
    }
}

/// The acknowledged-write audit with the version history's findings (UNKNOWN without events or
/// without a read-back).
fn data_loss_check(d: &RunData, f: &RunFigures) -> CheckSummary {
    let plan = &d.plan;
    let history = &f.history;
    match &d.readbacks {
        // Without events there is no list of acknowledged writes: nothing was checked.
        Some(_) if !plan.load.events => CheckSummary {
            verdict: Verdict::Unknown,
            detail: "load.events = false: no operation was recorded, so no acknowledged write could be checked".into(),
            figures: BTreeMap::new(),
        },
        Some(rb) => {
            let report = f.audit.clone().unwrap_or_else(|| check::audit(&[], rb));
            let mut figures = figures_of(&report);
            figures.insert("version_regressions".into(), history.version_regressions.into());
            figures.insert("duplicate_versions".into(), history.duplicate_versions.into());
            figures.insert("duplicate_sequence_numbers".into(), history.duplicate_sequence_numbers.into());
            let lines = history_loss_lines(history);
            let (verdict, detail) = if lines.is_empty() {
                (report.verdict, report.headline())
            } else {
                let line = lines.join("; ");
                let detail =
                    if report.verdict == Verdict::Fail { format!("{}; {line}", report.headline()) } else { line };
                (Verdict::Fail, detail)
            };
            let detail = with_read_methods(detail, &report, not_read(d, rb));
            CheckSummary { verdict, detail, figures }
        }
        None => CheckSummary {
            verdict: Verdict::Unknown,
            detail: "no read-back was stored (the run ended before the audit), so acknowledged writes were not checked"
                .into(),
            figures: BTreeMap::new(),
        },
    }
}

/// The lingering-ephemerals check, when the mix has ephemeral operations.
fn ephemerals_check(d: &RunData, f: &RunFigures) -> Option<CheckSummary> {
    let plan = &d.plan;
    match (&d.readbacks, &f.ephemerals) {
        (_, Some(report)) => Some(CheckSummary {
            verdict: report.verdict,
            detail: report.headline(),
            figures: figures_of(report),
        }),
        (Some(_), None) if !plan.load.events && plan.load.mix_kinds().iter().any(|k| k.is_ephemeral()) => {
            Some(CheckSummary {
                verdict: Verdict::Unknown,
                detail: "load.events = false: no ephemeral operation was recorded, so none could be checked".into(),
                figures: BTreeMap::new(),
            })
        }
        _ => None,
    }
}

/// The summary's notes: the recorder's and the analysis's, and what limits the figures.
fn run_notes(d: &RunData, f: &RunFigures, outage: &OutageMs, baseline: Option<&OutageMs>) -> Vec<String> {
    let plan = &d.plan;
    let ev = &f.events;
    let mut notes = d.notes.clone();
    notes.extend(f.notes.iter().cloned());
    if ev.events == 0 {
        notes.push("no operations were recorded".into());
    }
    if let Some(agents) = &d.agents {
        let sum: u64 = agents.iter().map(|a| a.share.ops).sum();
        if sum != ev.whole.counts.total {
            notes.push(format!(
                "the load agents account for {sum} operations but the run recorded {}: the per-agent split is not exact",
                ev.whole.counts.total
            ));
        }
        for a in agents.iter().filter(|a| a.status != "finished") {
            notes.push(format!("load agent {} on {} is {}: its later load is missing from every figure", a.share.index, a.share.engine, a.status));
        }
    }
    let procedure_phase = ev.phases.contains_key("procedure");
    if procedure_phase && !d.marks.iter().any(|m| m.label == labels::PHASE_PROCEDURE && m.kind == MarkKind::End) {
        notes.push("the procedure phase never ended (run interrupted?)".into());
    }
    let from_size = plan.cluster.size;
    let to_size = plan.procedure.target_size(from_size);
    if to_size != from_size && analysis::converge_ms(&d.marks).is_none() && procedure_phase {
        notes.push(format!("the ensemble was not seen to converge to {to_size} servers"));
    }
    if let Some(b) = baseline {
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
        notes.push(
            "closed-loop load: latency is measured per request and NOT corrected for coordinated omission".into(),
        );
    }
    if plan.load.weight(crate::plan::OpKind::Create) == 0 && plan.load.weight(crate::plan::OpKind::Multi) == 0 {
        notes.push("the mix has no create: the strongest lost-write detector (sequential znodes) is off".into());
    }
    notes
}

fn load_summary(load: &crate::plan::LoadPlan) -> LoadSummary {
    LoadSummary {
        mode: match load.mode {
            LoadMode::Open => "open".into(),
            LoadMode::Closed => "closed".into(),
        },
        intended_rate: load.rate,
        sessions: load.sessions,
        interval_ms: load.interval_ms,
        op_timeout_ms: load.op_timeout_ms,
        reconnect: load.reconnect.as_str().into(),
    }
}

fn auth_of(procedure: &ProcedurePlan) -> Option<String> {
    match procedure {
        ProcedurePlan::ReconfigExpand { auth: ReconfigAuth::SuperDigest, .. } => Some("super-digest".into()),
        ProcedurePlan::ReconfigExpand { auth: ReconfigAuth::SkipAcl, .. } => Some("skip-acl: insecure".into()),
        _ => None,
    }
}

/// What the version history says was lost, one clause per rule (none: nothing).
///
/// A version regression is a write that returned a version not above one acknowledged before it
/// was issued (a rollback later overwritten, which the final-state audit alone cannot see); a
/// duplicate is two acknowledged writes that got one version or sequence number, overlapping in
/// time or not (one of them was rolled back and its number given out again).
fn history_loss_lines(h: &check::VersionHistory) -> Vec<String> {
    let mut lines = Vec::new();
    if h.version_regressions > 0 {
        lines.push(format!(
            "DATA LOSS: {} acknowledged writes were rolled back (a later write returned a version not above one already acknowledged)",
            h.version_regressions
        ));
    }
    let first = |create: bool| {
        h.duplicate_examples
            .iter()
            .find(|d| (d.first.kind == crate::record::OpKind::Create) == create)
            .map(|d| format!(" (first: {})", d.describe()))
            .unwrap_or_default()
    };
    if h.duplicate_versions > 0 {
        lines.push(format!(
            "DATA LOSS: {} acknowledged sets returned a version another acknowledged set of the key had returned: one of each pair was rolled back{}",
            h.duplicate_versions,
            first(false)
        ));
    }
    if h.duplicate_sequence_numbers > 0 {
        lines.push(format!(
            "DATA LOSS: {} acknowledged sequential creates got a sequence number another acknowledged create had got: one of each pair was rolled back{}",
            h.duplicate_sequence_numbers,
            first(true)
        ));
    }
    lines
}

/// Per-server divergence from the audit's per-server results and the ephemeral check.
fn divergence(f: &RunFigures, digest: &check::DigestReport) -> BTreeMap<String, ServerDivergence> {
    let mut out = BTreeMap::new();
    let Some(audit) = &f.audit else { return out };
    let mismatches = |server: u32| digest.per_server.get(&format!("zk{server}")).and_then(|d| d.mismatches);
    for s in &audit.servers {
        out.insert(
            format!("zk{}", s.server),
            ServerDivergence {
                readable: s.readable,
                missing_acknowledged_writes: s.missing,
                stale_acknowledged_writes: s.stale,
                undone_deletes: s.deletes_undone,
                lingering_ephemerals: f.ephemerals.as_ref().and_then(|e| e.lingering(s.server)),
                digest_mismatches: mismatches(s.server),
            },
        );
    }
    out
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

fn outage_ms(w: &WindowFigures) -> OutageMs {
    let f = &w.outages;
    OutageMs {
        any: f.any.map(|o| o.longest_ms),
        read: f.read.map(|o| o.longest_ms),
        write: f.write.map(|o| o.longest_ms),
        per_session: w.per_session.as_ref().map(|s| analysis::Spread { max: s.max, median: s.median }),
        per_kind: w.per_kind.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    }
}

fn outage_gaps(f: &OutageFigures) -> OutageGaps {
    let n = |o: Option<analysis::Outage>| o.map(|o| o.gaps_over_threshold).unwrap_or(0);
    OutageGaps { threshold_ms: f.threshold_ms, any: n(f.any), read: n(f.read), write: n(f.write) }
}

/// Quantiles per kind plus `all`.
fn latency_map(hists: &BTreeMap<crate::plan::OpKind, hdrhistogram::Histogram<u64>>) -> BTreeMap<String, Quantiles> {
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

/// Per-cycle figures: each cycle window's streamed figures, its convergence and its longest
/// election (by start time in the window).
fn cycle_summaries(
    d: &RunData,
    ev: &crate::analysis::stream::EventFigures,
    elections: &[analysis::elections::Election],
) -> Vec<CycleSummary> {
    let last_mark = d.marks.iter().map(|m| m.at_us).max().unwrap_or(0);
    analysis::windows::cycle_windows(&d.marks, last_mark)
        .into_iter()
        .filter_map(|c| {
            let w = ev.phases.get(&labels::cycle(c.cycle))?;
            let (from, to) = c.window;
            let election_ms = elections
                .iter()
                .filter(|e| e.from_us >= from && e.from_us < to)
                .map(|e| e.ms)
                .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
            Some(CycleSummary {
                cycle: c.cycle,
                converge_ms: c.converged_us.map(|at| at.saturating_sub(from) as f64 / 1e3),
                election_ms,
                figures: phase_summary(w),
            })
        })
        .collect()
}

fn phase_summary(w: &WindowFigures) -> PhaseSummary {
    let c = &w.counts;
    PhaseSummary {
        start_ms: w.window.0 as f64 / 1e3,
        end_ms: w.window.1 as f64 / 1e3,
        ops: ops_summary(c),
        errors_by_class: c.by_class.clone(),
        error_rate: error_rate(c),
        outage_ms: outage_ms(w),
        outage_gaps: outage_gaps(&w.outages),
        latency_us: latency_map(&w.ok_hist),
        latency_all_us: latency_map(&w.all_hist),
    }
}

/// A checker report as JSON figures, without its `verdict` (the summary has its own).
/// Servers started during the run that have no read-back: removed from the ensemble by the
/// procedure (a shrink), or wiped and left down; from `meta.json` (empty without it).
fn not_read(d: &RunData, rb: &[crate::record::ServerReadback]) -> Vec<u32> {
    let Some(meta) = &d.meta else { return Vec::new() };
    meta.servers.iter().map(|s| s.id).filter(|id| !rb.iter().any(|r| r.server == *id)).collect()
}

/// The audit's sentence, then how each server was read (live, or offline with its method) and
/// which servers were not read at all, and why.
fn with_read_methods(detail: String, report: &check::AuditReport, not_read: Vec<u32>) -> String {
    let mut out = detail;
    let methods = report.read_methods();
    if !methods.is_empty() {
        out.push_str(&format!("; {methods}"));
    }
    if !not_read.is_empty() {
        let ids: Vec<String> = not_read.iter().map(|i| format!("zk{i}")).collect();
        out.push_str(&format!(
            "; not read: {} (out of the ensemble by design: removed by the procedure, or wiped and left down)",
            ids.join(", ")
        ));
    }
    out
}

fn figures_of<T: serde::Serialize>(report: &T) -> BTreeMap<String, serde_json::Value> {
    match serde_json::to_value(report) {
        Ok(serde_json::Value::Object(map)) => map.into_iter().filter(|(k, _)| k != "verdict").collect(),
        _ => BTreeMap::new(),
    }
}
