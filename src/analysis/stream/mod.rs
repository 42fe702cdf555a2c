//! Constant-memory analysis: every event-derived figure of a run computed in one pass over
//! `events.csv.gz`, with state bounded by the key space, sessions, kinds and duration buckets —
//! never by the number of events (a one-hour run at 2,000 ops/s has 7.2 M).
//!
//! [`EventAnalysis`] is a set of pure single-pass accumulators, each also behind the slice
//! functions of [`crate::analysis`] (so the unit tests on literal histories test them):
//!
//! - order-free, fed in file order ([`EventAnalysis::observe`]): counts and latency histograms
//!   per window ([`stats::StatsAcc`]), exact schedule lag ([`stats::LagAcc`]), run extents;
//! - order-dependent, fed in completion order ([`EventAnalysis::observe_ordered`], after a
//!   [`reorder::Reorder`] buffer): outage gaps per class/kind/session/window
//!   ([`gaps::OutageAcc`]), reconnect delays ([`stats::ReconnectAcc`]) and timeline rows
//!   ([`timeline::TimelineAcc`]).
//!
//! What a window needs that is only known at the end (the whole run starts at the earliest
//! intended start and, without a load-stop mark, ends at the last completion) is resolved in
//! [`EventAnalysis::finish`]; see [`gaps`].

pub mod gaps;
pub mod reorder;
pub mod stats;
pub mod timeline;

use crate::analysis::counts::OpCounts;
use crate::analysis::outage::{OutageFigures, SessionOutages, MIN_THRESHOLD_MS};
use crate::record::timeline::TimelineRow;
use crate::record::{OpEvent, OpKind, Outcome, Quantiles};
use gaps::OutageAcc;
use hdrhistogram::Histogram;
use stats::{LagAcc, ReconnectAcc, StatsAcc};
use std::collections::{BTreeMap, BTreeSet};
use timeline::TimelineAcc;

/// What must be known before the events are read: all from plan, marks and monitor samples.
#[derive(Debug, Clone, Default)]
pub struct StreamSetup {
    /// The load-stop mark (end of the whole-run outage window), if any.
    pub stop_us: Option<u64>,
    /// Named phase windows.
    pub phases: Vec<(String, (u64, u64))>,
    /// Moments the service came back (candidates for the reconnect delay).
    pub recoveries: Vec<u64>,
    /// `timeline.csv` bucket width, µs.
    pub interval_us: u64,
    /// Kinds in the plan's mix (the timeline has rows for these and any kind seen).
    pub plan_kinds: Vec<OpKind>,
}

/// The figures of one window.
#[derive(Debug, Clone)]
pub struct WindowFigures {
    /// The outage window.
    pub window: (u64, u64),
    pub counts: OpCounts,
    pub outages: OutageFigures,
    pub per_session: Option<SessionOutages>,
    pub per_kind: BTreeMap<OpKind, f64>,
    /// `Ok` latency per kind, from the intended start.
    pub ok_hist: BTreeMap<OpKind, Histogram<u64>>,
    /// Every operation's latency per kind.
    pub all_hist: BTreeMap<OpKind, Histogram<u64>>,
}

/// Everything the summary, timeline and charts take from the events.
#[derive(Debug, Clone)]
pub struct EventFigures {
    pub events: u64,
    /// Earliest intended start to last completion ([`crate::analysis::event_window`]).
    pub event_window: (u64, u64),
    /// [`crate::analysis::load_window`].
    pub load_window: (u64, u64),
    pub threshold_ms: f64,
    /// Outages over the load window; counts and latency over every event.
    pub whole: WindowFigures,
    /// Per named phase: everything over the phase window (by intended start).
    pub phases: BTreeMap<String, WindowFigures>,
    pub lag: Quantiles,
    pub reconnect: ReconnectAcc,
    /// Kinds in the plan or seen ([`crate::analysis::kinds_of`]).
    pub kinds: Vec<OpKind>,
    /// Zero-filled from 0 to the last completion (empty without events).
    pub timeline: Vec<TimelineRow>,
    /// Caveats of the streaming pass itself (events beyond the reorder horizon), in words.
    pub notes: Vec<String>,
}

/// The accumulators of one pass (see the module doc).
pub struct EventAnalysis {
    setup: StreamSetup,
    n: u64,
    min_intended: Option<u64>,
    max_end: Option<u64>,
    min_ok_end: Option<u64>,
    kinds: BTreeSet<OpKind>,
    whole: StatsAcc,
    whole_out: OutageAcc,
    phase_stats: Vec<StatsAcc>,
    phase_out: Vec<OutageAcc>,
    lag: LagAcc,
    reconnect: ReconnectAcc,
    timeline: TimelineAcc,
}

impl EventAnalysis {
    pub fn new(setup: StreamSetup) -> EventAnalysis {
        let phase_stats = setup.phases.iter().map(|(_, w)| StatsAcc::new(Some(*w))).collect();
        let phase_out =
            setup.phases.iter().map(|(_, w)| OutageAcc::new(Some(w.0), Some(w.1), MIN_THRESHOLD_MS)).collect();
        EventAnalysis {
            n: 0,
            min_intended: None,
            max_end: None,
            min_ok_end: None,
            kinds: BTreeSet::new(),
            whole: StatsAcc::new(None),
            whole_out: OutageAcc::new(None, setup.stop_us, MIN_THRESHOLD_MS),
            phase_stats,
            phase_out,
            lag: LagAcc::default(),
            reconnect: ReconnectAcc::new(setup.recoveries.clone()),
            timeline: TimelineAcc::new(setup.interval_us),
            setup,
        }
    }

    /// Order-free figures: call for every event, in any order.
    pub fn observe(&mut self, e: &OpEvent) {
        self.n += 1;
        self.min_intended = Some(self.min_intended.map_or(e.intended_us, |m| m.min(e.intended_us)));
        self.max_end = Some(self.max_end.map_or(e.end_us, |m| m.max(e.end_us)));
        if e.outcome == Outcome::Ok {
            self.min_ok_end = Some(self.min_ok_end.map_or(e.end_us, |m| m.min(e.end_us)));
        }
        self.kinds.insert(e.kind);
        self.whole.observe(e);
        for s in &mut self.phase_stats {
            s.observe(e);
        }
        self.lag.observe(e);
    }

    /// Order-dependent figures: call for every event, in `end_us` order.
    pub fn observe_ordered(&mut self, e: &OpEvent) {
        self.whole_out.observe(e);
        for o in &mut self.phase_out {
            o.observe(e);
        }
        self.reconnect.observe(e);
        self.timeline.observe(e);
    }

    pub fn finish(self, late_events: u64) -> EventFigures {
        let start = self.min_intended.unwrap_or(0);
        let last_end = self.max_end.unwrap_or(0).max(start);
        let event_window = (start, last_end);
        let load_window = (start, self.setup.stop_us.unwrap_or(last_end).max(start));
        let threshold_ms = self.whole_out.default_threshold_ms(load_window);
        let window = |w: (u64, u64), stats: &StatsAcc, out: &OutageAcc| WindowFigures {
            window: w,
            counts: stats.counts(),
            outages: out.figures(w, threshold_ms),
            per_session: out.per_session(w, threshold_ms),
            per_kind: out.per_kind(w, threshold_ms),
            ok_hist: stats.ok_hist.clone(),
            all_hist: stats.all_hist.clone(),
        };
        let whole = window(load_window, &self.whole, &self.whole_out);
        let phases = self
            .setup
            .phases
            .iter()
            .zip(self.phase_stats.iter().zip(&self.phase_out))
            .map(|((name, w), (s, o))| (name.clone(), window(*w, s, o)))
            .collect();
        let kinds: Vec<OpKind> =
            OpKind::ALL.into_iter().filter(|k| self.setup.plan_kinds.contains(k) || self.kinds.contains(k)).collect();
        let mut notes = Vec::new();
        let late = late_events + self.timeline.late;
        if late > 0 {
            notes.push(format!(
                "{late} events were written more than {} s after later completions: their outage, timeline and stale-read figures may be slightly off",
                reorder::HORIZON_US / 1_000_000
            ));
        }
        if self.min_ok_end.is_some_and(|t| t < start) {
            notes.push(
                "an operation completed before the earliest intended start: the first outage gap is not exact".into(),
            );
        }
        let timeline = if self.n == 0 { Vec::new() } else { self.timeline.finish(last_end + 1, &kinds) };
        EventFigures {
            events: self.n,
            event_window,
            load_window,
            threshold_ms,
            whole,
            phases,
            lag: self.lag.quantiles(),
            reconnect: self.reconnect,
            kinds,
            timeline,
            notes,
        }
    }
}
