//! [`RunFigures`]: everything the summary, `timeline.csv` and the charts take from a run's
//! events, computed in one streaming pass over `events.csv.gz` (constant memory, see
//! [`crate::analysis::stream`]) — or over events in memory, through the same accumulators.
//!
//! One pass feeds, in file order, the order-free accumulators, the acknowledged-write audit
//! (read-backs loaded first, [`AuditStream`]) and the ephemeral-node check ([`EphemeralStream`]),
//! and, through a bounded reorder buffer, in completion order, the outage/timeline accumulators
//! and the version-history check. Each server's log is then read once ([`scan_server_logs`]).

use crate::analysis::stream::reorder::{Reorder, HORIZON_US};
use crate::analysis::stream::{EventAnalysis, EventFigures, StreamSetup};
use crate::analysis::{self};
use crate::check::stale_reads::{VersionTracker, HISTORY_RETAIN_US};
use crate::check::{AuditReport, AuditStream, EphemeralReport, EphemeralSetup, EphemeralStream, VersionHistory};
use crate::analysis::server_log::{LogScan, ServerLogSummary};
use crate::record::{labels, OpEvent, OpKind, RecordError, RunData};
use std::collections::BTreeMap;

/// The event-derived figures of one run.
#[derive(Debug, Clone)]
pub struct RunFigures {
    pub events: EventFigures,
    pub history: VersionHistory,
    /// The acknowledged-write audit (`None` when there is no read-back to audit against, or no
    /// events were recorded).
    pub audit: Option<AuditReport>,
    /// The ephemeral-node check (`None` without a read-back, without events, or when neither
    /// the mix nor the history has an ephemeral operation).
    pub ephemerals: Option<EphemeralReport>,
    /// Caveats of the pass (events beyond the reorder horizon, truncated lag), in words.
    pub notes: Vec<String>,
    /// Each server's log, counted (one pass per `logs/zk<N>.log`).
    pub server_logs: BTreeMap<u32, ServerLogSummary>,
}

/// Name of the impact window among the streamed windows (cycle windows are `cycle:<n>`).
pub const IMPACT: &str = "impact";

/// What the pass needs to know beforehand, from the run's plan, marks and monitor samples.
pub fn setup_of(d: &RunData) -> StreamSetup {
    let p = analysis::phase_windows(&d.marks);
    let mut phases: Vec<(String, (u64, u64))> = [("warmup", p.warmup), ("procedure", p.procedure), ("post", p.post)]
        .into_iter()
        .filter_map(|(n, w)| w.map(|w| (n.to_string(), w)))
        .collect();
    // The impact window and the cycle windows (see `analysis::windows`), streamed like phases;
    // without a load-stop mark (older runs) they end at the last mark.
    let last_mark = d.marks.iter().map(|m| m.at_us).max().unwrap_or(0);
    if let Some(w) = analysis::windows::impact_window(&d.marks, last_mark) {
        phases.push((IMPACT.to_string(), w));
    }
    for c in analysis::windows::cycle_windows(&d.marks, last_mark) {
        phases.push((labels::cycle(c.cycle), c.window));
    }
    StreamSetup {
        stop_us: d.marks.iter().filter(|m| m.label == labels::LOAD_STOP).map(|m| m.at_us).min(),
        phases,
        recoveries: analysis::service::recoveries(&d.samples),
        interval_us: u64::from(d.plan.load.interval_ms.max(1)) * 1000,
        plan_kinds: OpKind::ALL.into_iter().filter(|k| d.plan.load.weight(*k) > 0).collect(),
    }
}

/// The accumulators of one pass.
pub struct FigureStream<'a> {
    analysis: EventAnalysis,
    reorder: Reorder,
    versions: VersionTracker,
    audit: Option<AuditStream<'a>>,
    ephemerals: EphemeralStream,
    /// What the ephemeral check judges against, when it runs.
    ephemeral_inputs: Option<(&'a [crate::record::ServerReadback], EphemeralSetup)>,
    ephemeral_mix: bool,
}

impl<'a> FigureStream<'a> {
    pub fn new(d: &'a RunData) -> FigureStream<'a> {
        FigureStream {
            analysis: EventAnalysis::new(setup_of(d)),
            reorder: Reorder::new(HORIZON_US),
            versions: VersionTracker::new(HISTORY_RETAIN_US),
            audit: d.readbacks.as_deref().filter(|_| d.plan.load.events).map(AuditStream::new),
            ephemerals: EphemeralStream::new(),
            ephemeral_inputs: d.readbacks.as_deref().filter(|_| d.plan.load.events).map(|rb| {
                let stop = d.marks.iter().filter(|m| m.label == labels::LOAD_STOP).map(|m| m.at_us).min();
                (rb, EphemeralSetup::new(stop, &d.samples, d.plan.cluster.tick_time_ms))
            }),
            ephemeral_mix: d.plan.load.mix_kinds().iter().any(|k| k.is_ephemeral()),
        }
    }

    /// One event, in file order.
    pub fn push(&mut self, e: OpEvent) {
        self.analysis.observe(&e);
        if let Some(a) = &mut self.audit {
            a.observe(&e);
        }
        self.ephemerals.observe(&e);
        let (analysis, versions) = (&mut self.analysis, &mut self.versions);
        self.reorder.push(e, &mut |o: OpEvent| {
            analysis.observe_ordered(&o);
            versions.observe(&o);
        });
    }

    pub fn finish(mut self) -> RunFigures {
        let (analysis, versions) = (&mut self.analysis, &mut self.versions);
        self.reorder.finish(&mut |o: OpEvent| {
            analysis.observe_ordered(&o);
            versions.observe(&o);
        });
        let events = self.analysis.finish(self.reorder.late);
        let mut notes = events.notes.clone();
        if self.versions.truncated > 0 {
            notes.push(format!(
                "{} stale reads or writes reached back more than {} s of a key's history: the worst stale-read lag is a lower bound",
                self.versions.truncated,
                HISTORY_RETAIN_US / 1_000_000
            ));
        }
        let ephemerals = match self.ephemeral_inputs {
            Some((rb, setup)) if self.ephemeral_mix || !self.ephemerals.is_empty() => {
                Some(self.ephemerals.finish(rb, &setup))
            }
            _ => None,
        };
        RunFigures {
            events,
            history: self.versions.finish(),
            audit: self.audit.map(AuditStream::finish),
            ephemerals,
            notes,
            server_logs: BTreeMap::new(),
        }
    }
}

/// Stream the run's events (from `events.csv.gz`, or those held in memory) through one pass.
pub fn run_figures(d: &RunData) -> Result<RunFigures, RecordError> {
    let mut s = FigureStream::new(d);
    match &d.events {
        crate::record::load::Events::File(path) => crate::record::for_each_event(path, |e| s.push(e))?,
        crate::record::load::Events::Memory(v) => v.iter().cloned().for_each(|e| s.push(e)),
    }
    let mut figures = s.finish();
    figures.server_logs = scan_server_logs(d)?;
    Ok(figures)
}

/// Count every server's log ([`crate::analysis::server_log`]), streaming each file once.
pub fn scan_server_logs(d: &RunData) -> Result<BTreeMap<u32, ServerLogSummary>, RecordError> {
    let epoch = d.meta.as_ref().map(|m| m.epoch_unix_ms);
    let mut out = BTreeMap::new();
    for (&id, log) in &d.server_logs {
        let mut scan = LogScan::new(epoch);
        log.for_each_line(|l| scan.feed(l))?;
        out.insert(id, scan.finish());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{counts, lag_quantiles, outages, per_kind, per_session, reconnect_after, service_outage};
    use crate::check::version_history;
    use crate::record::{ErrorClass, Mark, MarkKind, ModeSample, Outcome, ServerMode};

    /// An event as the driver records it: writes carry `<session>-<index>` tokens, failed creates
    /// have no path, versions are -1 unless the server returned one.
    fn ev(i: u64, kind: OpKind, session: u32, intended_ms: u64, latency_ms: u64, ok: bool, version: i64) -> OpEvent {
        let intended_us = intended_ms * 1000;
        OpEvent {
            intended_us,
            start_us: intended_us + 40,
            end_us: intended_us + latency_ms * 1000 + 40,
            kind,
            session,
            path: if kind == OpKind::Create { format!("/zkchaos/seq/s-{i:010}") } else { "/zkchaos/keys/k1".into() },
            outcome: if ok {
                Outcome::Ok
            } else if kind.is_write() {
                Outcome::Indeterminate
            } else {
                Outcome::Fail
            },
            error: (!ok).then_some(ErrorClass::Timeout),
            token: if kind.is_write() { format!("{session}-{i}") } else { String::new() },
            version: if ok { version } else { -1 },
        }
    }

    /// 4 s of load on two sessions, session 1 cut off from 1.5 s to 2.6 s, a stale read, and
    /// the rows written in arrival order (not sorted by completion).
    fn history() -> Vec<OpEvent> {
        let mut v = Vec::new();
        let mut version = 0;
        for i in 0..400u64 {
            let t = i * 10;
            let session = (i % 2) as u32;
            let down = session == 1 && (1_500..2_600).contains(&t);
            let kind = [OpKind::Get, OpKind::Get, OpKind::Set, OpKind::Create, OpKind::Get][(i % 5) as usize];
            let latency = if down { 2_000 } else { 1 + i % 7 };
            if kind == OpKind::Set && !down {
                version += 1;
            }
            // A read issued at 3 s that still sees version 3.
            let seen = if kind == OpKind::Get && t == 3_000 { 3 } else { version };
            v.push(ev(i, kind, session, t, latency, !down, seen));
        }
        // Arrival order: each row when its completion reaches the recorder, up to 24 ms late.
        v.sort_by_key(|e| e.end_us + (e.intended_us / 10_000 % 4) * 8_000);
        v
    }

    fn run(events: Vec<OpEvent>, marks: Vec<Mark>, samples: Vec<ModeSample>) -> RunData {
        let plan = crate::plan::load_run_plan(
            &Default::default(),
            "127.0.0.1:2181",
            1,
            std::time::Duration::from_secs(4),
        );
        RunData::new(plan, None, crate::record::load::Events::Memory(events), marks, samples, None)
    }

    #[test]
    fn one_streamed_pass_gives_the_figures_of_the_whole_history() {
        let events = history();
        assert!(events.windows(2).any(|w| w[0].end_us > w[1].end_us), "the fixture must be out of order");
        let samples = vec![
            ModeSample::new(1_000_000, 1, ServerMode::Leader, None),
            ModeSample::new(1_400_000, 1, ServerMode::Down, None),
            ModeSample::new(2_500_000, 1, ServerMode::Leader, None),
        ];
        let marks = vec![
            Mark::new(0, MarkKind::Start, labels::phase("warmup"), None),
            Mark::new(1_000_000, MarkKind::End, labels::phase("warmup"), None),
            Mark::new(1_000_000, MarkKind::Start, labels::phase("procedure"), None),
            Mark::new(3_000_000, MarkKind::End, labels::phase("procedure"), None),
        ];
        // No load-stop mark: the whole window ends at the last completion (known only at the end).
        let f = run_figures(&run(events.clone(), marks, samples.clone())).unwrap();
        let w = crate::analysis::load_window(&events, &[]);
        assert_eq!(f.events.load_window, w);
        let thr = crate::analysis::default_threshold_ms(&events, w);
        assert_eq!(f.events.threshold_ms, thr);
        assert_eq!(f.events.whole.outages, outages(&events, w, thr));
        assert_eq!(f.events.whole.per_session, per_session(&events, w, thr));
        assert!(f.events.whole.per_session.as_ref().unwrap().max > 1_000.0);
        assert_eq!(f.events.whole.per_kind, per_kind(&events, w, thr));
        assert_eq!(f.events.whole.counts, counts(&events));
        assert_eq!(f.events.lag, lag_quantiles(&events, None));
        let p = f.events.phases["procedure"].clone();
        assert_eq!(p.outages, outages(&events, (1_000_000, 3_000_000), thr));
        let inside: Vec<OpEvent> =
            events.iter().filter(|e| (1_000_000..3_000_000).contains(&e.intended_us)).cloned().collect();
        assert_eq!(p.counts, counts(&inside));
        let h = version_history(&events);
        assert_eq!(h.stale_reads, 1);
        assert_eq!(f.history.stale_reads, h.stale_reads);
        assert_eq!((f.history.worst_lag_versions, f.history.worst_lag_ms), (h.worst_lag_versions, h.worst_lag_ms));
        let back = service_outage(&samples, w).unwrap().to_us;
        assert_eq!(f.events.reconnect.after(back, w.1), reconnect_after(&events, back, w.1));
        assert!(f.notes.is_empty(), "{:?}", f.notes);
    }
}
