//! [`RunFigures`]: everything the summary, `timeline.csv` and the charts take from a run's
//! events, computed in one streaming pass over `events.csv.gz` (constant memory, see
//! [`crate::analysis::stream`]) — or over events in memory, through the same accumulators.
//!
//! One pass feeds, in file order, the order-free accumulators and the audit input (writes only,
//! in file order as the audit's examples expect), and, through a bounded reorder buffer, in
//! completion order, the outage/timeline accumulators and the version-history check.

use crate::analysis::stream::reorder::{Reorder, HORIZON_US};
use crate::analysis::stream::{EventAnalysis, EventFigures, StreamSetup};
use crate::analysis::{self};
use crate::check::stale_reads::{VersionTracker, HISTORY_RETAIN_US};
use crate::check::VersionHistory;
use crate::record::{labels, OpEvent, OpKind, RecordError, RunData};

/// The event-derived figures of one run.
#[derive(Debug, Clone)]
pub struct RunFigures {
    pub events: EventFigures,
    pub history: VersionHistory,
    /// The audit's input: set/create/multi/delete events in file order (`None` when there is no
    /// read-back to audit against). Reads are not kept.
    pub audit_writes: Option<Vec<OpEvent>>,
    /// Caveats of the pass (events beyond the reorder horizon, truncated lag), in words.
    pub notes: Vec<String>,
}

/// What the pass needs to know beforehand, from the run's plan, marks and monitor samples.
pub fn setup_of(d: &RunData) -> StreamSetup {
    let p = analysis::phase_windows(&d.marks);
    let phases = [("warmup", p.warmup), ("procedure", p.procedure), ("post", p.post)]
        .into_iter()
        .filter_map(|(n, w)| w.map(|w| (n.to_string(), w)))
        .collect();
    StreamSetup {
        stop_us: d.marks.iter().filter(|m| m.label == labels::LOAD_STOP).map(|m| m.at_us).min(),
        phases,
        recoveries: analysis::service::recoveries(&d.samples),
        interval_us: u64::from(d.plan.load.interval_ms.max(1)) * 1000,
        plan_kinds: OpKind::ALL.into_iter().filter(|k| d.plan.load.weight(*k) > 0).collect(),
    }
}

/// The accumulators of one pass.
pub struct FigureStream {
    analysis: EventAnalysis,
    reorder: Reorder,
    versions: VersionTracker,
    audit: Option<Vec<OpEvent>>,
}

impl FigureStream {
    pub fn new(d: &RunData) -> FigureStream {
        FigureStream {
            analysis: EventAnalysis::new(setup_of(d)),
            reorder: Reorder::new(HORIZON_US),
            versions: VersionTracker::new(HISTORY_RETAIN_US),
            audit: (d.readbacks.is_some() && d.plan.load.events).then(Vec::new),
        }
    }

    /// One event, in file order.
    pub fn push(&mut self, e: OpEvent) {
        self.analysis.observe(&e);
        if let Some(a) = &mut self.audit {
            if e.kind.is_write() {
                a.push(e.clone());
            }
        }
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
        RunFigures { events, history: self.versions.finish(), audit_writes: self.audit, notes }
    }
}

/// Stream the run's events (from `events.csv.gz`, or those held in memory) through one pass.
pub fn run_figures(d: &RunData) -> Result<RunFigures, RecordError> {
    let mut s = FigureStream::new(d);
    match &d.events {
        crate::record::load::Events::File(path) => crate::record::for_each_event(path, |e| s.push(e))?,
        crate::record::load::Events::Memory(v) => v.iter().cloned().for_each(|e| s.push(e)),
    }
    Ok(s.finish())
}
