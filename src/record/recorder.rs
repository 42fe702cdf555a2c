//! The recorder task: the single owner of every aggregate and output file of a run.
//!
//! Workers call [`RecorderHandle::ops`] (a batch of events) / [`RecorderHandle::mark`], which
//! never wait (the schedule must never block on the recorder): marks go over an unbounded
//! channel; batches of events go into the recorder's [`Inbox`], which it empties on its tick,
//! before every snapshot and at the end, so that a batch does not wake it (see the inbox's docs
//! for why). Control requests ([`Command`]) carry a oneshot for the reply (goose's
//! `MetricsProcessor`). The task:
//! - streams every event to `events.csv.gz`, sync-flushing about once a second;
//! - keeps only *open* intervals in memory: `timeline.csv` rows are written once an interval has
//!   been closed for `grace_us` (completions arrive slightly out of order), one
//!   `latency-<kind>.hlog` interval per second likewise — so memory stays flat on long runs;
//! - rewrites `marks.json` on every mark;
//! - keeps whole-run histograms per kind and of schedule lag for the final [`RecorderStats`].
//!
//! An event completing in an interval that was already written is counted in
//! `RecorderStats::late_events` (it is in `events.csv.gz` but not in the live `timeline.csv`).

use super::event::{Epoch, ErrorClass, Mark, MarkKind, OpEvent, OpKind, Outcome};
use super::events_csv::EventWriter;
use super::buckets::Buckets;
use super::hlog::{new_histogram, HlogWriter};
use super::inbox::Inbox;
use super::RecordError;
use super::quantiles::Quantiles;
use super::timeline::{IntervalAgg, TimelineCsv};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What the recorder writes and how.
#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// Output directory (must exist).
    pub dir: PathBuf,
    pub epoch: Epoch,
    /// Timeline bucket width (`LoadPlan.interval_ms` × 1000).
    pub interval_us: u64,
    /// Kinds that get timeline rows and hlog files (the mix's kinds with weight > 0).
    pub kinds: Vec<OpKind>,
    /// Stream events to `events.csv.gz`.
    pub events: bool,
    /// Start of the first timeline interval (rows are zero-filled from here).
    pub timeline_start_us: u64,
    /// How long after an interval ends it is written (late completions still count).
    pub grace_us: u64,
    /// Tripped with the cause when the task fails to write a file.
    pub failure: super::WriteFailure,
}

impl RecorderConfig {
    pub fn from_plan(dir: PathBuf, epoch: Epoch, plan: &crate::plan::LoadPlan) -> RecorderConfig {
        let kinds = plan.mix_kinds();
        let interval_us = u64::from(plan.interval_ms.max(1)) * 1000;
        RecorderConfig {
            dir,
            epoch,
            interval_us,
            kinds,
            events: plan.events,
            timeline_start_us: 0,
            grace_us: interval_us.max(1_000_000),
            failure: super::WriteFailure::new(),
        }
    }
}

/// Control requests.
pub enum Command {
    /// Close every interval up to now, finish all files, reply with the totals; the task ends.
    Finish(oneshot::Sender<Result<RecorderStats, RecordError>>),
    /// Current counts (for progress output).
    Snapshot(oneshot::Sender<RecorderSnapshot>),
}

/// What a [`RecorderHandle`] sends: to the recorder, or to whoever holds the receiver of
/// [`RecorderHandle::forwarding`] (a load agent streams events and marks to its control process).
pub enum Msg {
    /// Events in completion order (the driver hands them over in batches).
    Ops(Vec<OpEvent>),
    Mark(Mark),
    Cmd(Command),
}

/// Counts so far.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecorderSnapshot {
    pub events: u64,
    pub ok: u64,
    pub fail: u64,
    pub indeterminate: u64,
    /// Completion of the latest successful operation, µs since the epoch (live progress only).
    #[serde(skip)]
    pub last_ok_end_us: Option<u64>,
    /// Longest gap between successive successful completions so far, µs (live progress only).
    #[serde(skip)]
    pub longest_gap_us: u64,
    /// Label of the latest phase Start mark (e.g. `phase:procedure`).
    #[serde(skip)]
    pub phase: Option<String>,
    /// Label of the latest procedure step (Start or Point mark that is not a phase).
    #[serde(skip)]
    pub step: Option<String>,
}

impl RecorderSnapshot {
    /// Follow a mark for the live display: the current phase and procedure step.
    fn note_mark(&mut self, m: &Mark) {
        if m.kind == MarkKind::End {
            return;
        }
        if super::labels::is_phase(&m.label) {
            self.phase = Some(m.label.clone());
        } else if super::labels::is_step(&m.label) && !m.label.starts_with("session-") {
            self.step = Some(m.label.clone());
        }
    }

    /// Follow a successful completion for the live display's gap figures.
    fn note_ok(&mut self, end_us: u64) {
        if let Some(last) = self.last_ok_end_us {
            if end_us > last {
                self.longest_gap_us = self.longest_gap_us.max(end_us - last);
            }
        }
        self.last_ok_end_us = Some(self.last_ok_end_us.map_or(end_us, |l| l.max(end_us)));
    }
}

/// Totals at the end of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RecorderStats {
    pub counts: RecorderSnapshot,
    pub by_class: BTreeMap<ErrorClass, u64>,
    /// `Ok` latency from the intended start, per kind (HdrHistogram, µs).
    pub latency: BTreeMap<OpKind, Quantiles>,
    /// Schedule lag (start − intended) over all operations, µs.
    pub lag: Quantiles,
    /// The window `timeline.csv` covers: `analysis::timeline` over the same window reproduces it.
    pub timeline_window: (u64, u64),
    pub late_events: u64,
    pub marks: Vec<Mark>,
}

/// Cloneable sender side. Sending never blocks; after the recorder ended, sends are dropped.
#[derive(Clone, Debug)]
pub struct RecorderHandle {
    tx: mpsc::UnboundedSender<Msg>,
    /// Where event batches go when the handle is a recorder's (a forwarding handle sends them
    /// as messages).
    inbox: Option<Arc<Inbox>>,
    epoch: Epoch,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Msg")
    }
}

impl RecorderHandle {
    /// A handle whose messages go to the returned receiver instead of a recorder.
    pub fn forwarding(epoch: Epoch) -> (RecorderHandle, mpsc::UnboundedReceiver<Msg>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (RecorderHandle { tx, inbox: None, epoch }, rx)
    }

    /// Several events at once, in completion order: into the recorder's inbox (taken on its
    /// next tick, at most 100 ms later), or one message when forwarding.
    pub fn ops(&self, events: Vec<OpEvent>) {
        match &self.inbox {
            Some(inbox) => inbox.push(events),
            None => {
                let _ = self.tx.send(Msg::Ops(events));
            }
        }
    }

    pub fn mark(&self, m: Mark) {
        let _ = self.tx.send(Msg::Mark(m));
    }

    /// A mark stamped now.
    pub fn mark_now(&self, kind: MarkKind, label: impl Into<String>, detail: Option<String>) {
        self.mark(Mark::new(self.epoch.now_us(), kind, label, detail));
    }

    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    pub async fn finish(&self) -> Result<RecorderStats, RecordError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Msg::Cmd(Command::Finish(tx))).map_err(|_| RecordError::RecorderGone { what: "finishing" })?;
        rx.await.map_err(|_| RecordError::RecorderGone { what: "finishing" })?
    }

    pub async fn snapshot(&self) -> Result<RecorderSnapshot, RecordError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Msg::Cmd(Command::Snapshot(tx))).map_err(|_| RecordError::RecorderGone { what: "snapshot" })?;
        rx.await.map_err(|_| RecordError::RecorderGone { what: "snapshot" })
    }
}

/// One histogram per kind for one second.
fn fresh_seconds(kinds: usize) -> Vec<Histogram<u64>> {
    (0..kinds).map(|_| new_histogram()).collect()
}

/// Cleared per-second histograms kept for reuse (a second or two are open at a time).
const SPARE_SECONDS: usize = 4;

struct State {
    cfg: RecorderConfig,
    events: Option<EventWriter>,
    timeline: TimelineCsv<BufWriter<File>>,
    cells: Buckets<Vec<IntervalAgg>>,
    hlogs: Vec<HlogWriter>,
    seconds: Buckets<Vec<Histogram<u64>>>,
    /// Written seconds' histograms, cleared, for the next seconds: a fresh histogram regrows
    /// (and zeroes new pages) as values arrive, every second, for every kind.
    spare_seconds: Vec<Vec<Histogram<u64>>>,
    totals: BTreeMap<OpKind, Histogram<u64>>,
    lag: Histogram<u64>,
    counts: RecorderSnapshot,
    by_class: BTreeMap<ErrorClass, u64>,
    marks: Vec<Mark>,
    max_end_us: u64,
    late: u64,
}

/// Create the output files and start the recorder task.
pub fn spawn(
    cfg: RecorderConfig,
    cancel: CancellationToken,
) -> Result<(RecorderHandle, JoinHandle<Result<(), RecordError>>), RecordError> {
    let interval_us = cfg.interval_us.max(1);
    let mut state = State::create(cfg)?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let inbox = Arc::new(Inbox::default());
    let handle = RecorderHandle { tx, inbox: Some(inbox.clone()), epoch: state.cfg.epoch };
    let failure = state.cfg.failure.clone();
    let closing = inbox.clone();
    let run = async move {
        let take = |state: &mut State| inbox.take().into_iter().try_for_each(|batch| state.ops(batch));
        let tick_every = Duration::from_micros(interval_us.min(100_000));
        let mut tick = tokio::time::interval(tick_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_flush = std::time::Instant::now();
        loop {
            tokio::select! {
                biased;
                msg = rx.recv() => match msg {
                    Some(Msg::Ops(batch)) => state.ops(batch)?,
                    Some(Msg::Mark(m)) => {
                        state.counts.note_mark(&m);
                        state.marks.push(m);
                        state.write_marks()?;
                    }
                    Some(Msg::Cmd(Command::Snapshot(reply))) => {
                        take(&mut state)?;
                        let _ = reply.send(state.counts.clone());
                    }
                    Some(Msg::Cmd(Command::Finish(reply))) => {
                        let r = take(&mut state).and_then(|()| state.finish());
                        let _ = reply.send(r);
                        return Ok(());
                    }
                    None => {
                        take(&mut state)?;
                        state.finish()?;
                        return Ok(());
                    }
                },
                _ = cancel.cancelled() => {
                    // Take what is already queued, then close the files.
                    take(&mut state)?;
                    while let Ok(msg) = rx.try_recv() {
                        match msg {
                            Msg::Ops(batch) => state.ops(batch)?,
                            Msg::Mark(m) => state.marks.push(m),
                            Msg::Cmd(Command::Finish(reply)) => {
                                let r = take(&mut state).and_then(|()| state.finish());
                                let _ = reply.send(r);
                                return Ok(());
                            }
                            Msg::Cmd(Command::Snapshot(_)) => {}
                        }
                    }
                    take(&mut state)?;
                    state.finish()?;
                    return Ok(());
                }
                _ = tick.tick() => {
                    take(&mut state)?;
                    let now = state.cfg.epoch.now_us();
                    state.close_until(now.saturating_sub(state.cfg.grace_us))?;
                    if last_flush.elapsed() >= Duration::from_secs(1) {
                        last_flush = std::time::Instant::now();
                        state.flush()?;
                    }
                }
            }
        }
    };
    let task = tokio::spawn(async move {
        // Batches handed over once the task has ended (or panicked) have no one to take them.
        let _closing = closing.closer();
        let r: Result<(), RecordError> = run.await;
        if let Err(e) = &r {
            failure.trip(e.to_string());
        }
        r
    });
    Ok((handle, task))
}

impl State {
    /// Create the output files (and an empty `marks.json`).
    fn create(cfg: RecorderConfig) -> Result<State, RecordError> {
        let events = if cfg.events { Some(EventWriter::create(&cfg.dir.join(super::files::EVENTS_FILE))?) } else { None };
        let timeline = TimelineCsv::create(&cfg.dir.join(super::files::TIMELINE_FILE))?;
        let mut hlogs = Vec::new();
        for k in &cfg.kinds {
            let comment = format!("zkchaos latency of {k} operations (Ok only), µs from the intended start");
            hlogs.push(HlogWriter::create(&cfg.dir.join(super::files::hlog_file(&k.to_string())), cfg.epoch.unix_ms, &comment)?);
        }
        let interval_us = cfg.interval_us.max(1);
        let start = cfg.timeline_start_us - cfg.timeline_start_us % interval_us;
        let state = State {
            cells: Buckets::new(start, interval_us),
            seconds: Buckets::new(start - start % 1_000_000, 1_000_000),
            spare_seconds: Vec::new(),
            events,
            timeline,
            hlogs,
            totals: BTreeMap::new(),
            lag: new_histogram(),
            counts: RecorderSnapshot::default(),
            by_class: BTreeMap::new(),
            marks: Vec::new(),
            max_end_us: 0,
            late: 0,
            cfg,
        };
        state.write_marks()?;
        Ok(state)
    }

    fn ops(&mut self, batch: Vec<OpEvent>) -> Result<(), RecordError> {
        batch.into_iter().try_for_each(|e| self.op(e))
    }

    fn op(&mut self, e: OpEvent) -> Result<(), RecordError> {
        if let Some(w) = &mut self.events {
            w.write(&e)?;
        }
        self.counts.events += 1;
        match e.outcome {
            Outcome::Ok => {
                self.counts.ok += 1;
                self.counts.note_ok(e.end_us);
            }
            Outcome::Fail => self.counts.fail += 1,
            Outcome::Indeterminate => self.counts.indeterminate += 1,
        }
        if let Some(c) = e.error {
            *self.by_class.entry(c).or_default() += 1;
        }
        let _ = self.lag.record(e.lag_us());
        self.max_end_us = self.max_end_us.max(e.end_us);
        let k = self.cfg.kinds.iter().position(|k| *k == e.kind);
        let n = self.cfg.kinds.len();
        if let Some(k) = k {
            match self.cells.get(e.end_us, || vec![IntervalAgg::default(); n]) {
                Some(cell) => cell[k].add(&e),
                None => {
                    if e.end_us >= self.cells.start_us {
                        self.late += 1;
                    }
                }
            }
        }
        if e.outcome == Outcome::Ok {
            // Into its second's histogram, which joins the whole-run one when it is written (one
            // record per operation instead of two); straight into the whole-run one otherwise.
            let spare = &mut self.spare_seconds;
            let second = k.and_then(|k| self.seconds.get(e.end_us, || spare.pop().unwrap_or_else(|| fresh_seconds(n))).map(|h| &mut h[k]));
            let h = match second {
                Some(h) => h,
                None => self.totals.entry(e.kind).or_insert_with(new_histogram),
            };
            let _ = h.record(e.latency_us());
        }
        Ok(())
    }

    fn close_until(&mut self, until_us: u64) -> Result<(), RecordError> {
        let kinds = &self.cfg.kinds;
        let n = kinds.len();
        let timeline = &mut self.timeline;
        let mut wrote = false;
        self.cells.close(until_us, || vec![IntervalAgg::default(); n], |t, cells| {
            wrote = true;
            for (k, agg) in kinds.iter().zip(cells) {
                timeline.row(&agg.into_row(t, *k))?;
            }
            Ok(())
        })?;
        if wrote {
            self.timeline.flush()?;
        }
        if self.close_seconds(until_us)? {
            for w in &mut self.hlogs {
                w.flush()?;
            }
        }
        Ok(())
    }

    /// Write every second's hlog interval that ends by `until_us` and add it to the whole-run
    /// histograms; whether any was written.
    fn close_seconds(&mut self, until_us: u64) -> Result<bool, RecordError> {
        let n = self.cfg.kinds.len();
        let (kinds, hlogs, spare, totals) = (&self.cfg.kinds, &mut self.hlogs, &mut self.spare_seconds, &mut self.totals);
        let mut wrote = false;
        self.seconds.close(until_us, || fresh_seconds(n), |t, mut hs| {
            wrote = true;
            for ((w, h), kind) in hlogs.iter_mut().zip(hs.iter()).zip(kinds) {
                w.interval(h, t, 1_000_000)?;
                if !h.is_empty() {
                    let _ = totals.entry(*kind).or_insert_with(new_histogram).add(h);
                }
            }
            if spare.len() < SPARE_SECONDS {
                hs.iter_mut().for_each(Histogram::reset);
                spare.push(hs);
            }
            Ok(())
        })?;
        Ok(wrote)
    }

    fn flush(&mut self) -> Result<(), RecordError> {
        if let Some(w) = &mut self.events {
            w.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<RecorderStats, RecordError> {
        let now = self.cfg.epoch.now_us().max(self.max_end_us + 1);
        let w = self.cells.width_us;
        let start = self.cells.start_us;
        let end = start + (now.saturating_sub(start)).div_ceil(w) * w;
        self.close_until(end)?;
        let s = self.seconds.width_us;
        let s_end = self.seconds.start_us + now.saturating_sub(self.seconds.start_us).div_ceil(s) * s;
        self.close_until_seconds(s_end)?;
        if let Some(w) = self.events.take() {
            w.finish()?;
        }
        self.write_marks()?;
        Ok(RecorderStats {
            counts: self.counts.clone(),
            by_class: self.by_class.clone(),
            latency: self.totals.iter().map(|(k, h)| (*k, Quantiles::from_histogram(h))).collect(),
            lag: Quantiles::from_histogram(&self.lag),
            timeline_window: (start, self.cells.cursor_us()),
            late_events: self.late,
            marks: self.marks.clone(),
        })
    }

    fn close_until_seconds(&mut self, until_us: u64) -> Result<(), RecordError> {
        self.close_seconds(until_us)?;
        for w in &mut self.hlogs {
            w.flush()?;
        }
        Ok(())
    }

    fn write_marks(&self) -> Result<(), RecordError> {
        let path = self.cfg.dir.join(super::files::MARKS_FILE);
        let tmp = self.cfg.dir.join("marks.json.tmp");
        let bytes = serde_json::to_vec_pretty(&self.marks)
            .map_err(|e| RecordError::Write { path: path.clone(), source: std::io::Error::other(e) })?;
        std::fs::write(&tmp, bytes).map_err(|source| RecordError::Write { path: tmp.clone(), source })?;
        std::fs::rename(&tmp, &path).map_err(|source| RecordError::Write { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::timeline::{timeline, write_timeline_csv};

    #[tokio::test(flavor = "current_thread")]
    async fn live_timeline_equals_analysis() {
        let dir = tempfile::tempdir().unwrap();
        let epoch = Epoch { instant: std::time::Instant::now(), unix_ms: 1_700_000_000_000 };
        let kinds = vec![OpKind::Get, OpKind::Set, OpKind::Create];
        let cfg = RecorderConfig {
            dir: dir.path().to_owned(),
            epoch,
            interval_us: 100_000,
            kinds: kinds.clone(),
            events: true,
            timeline_start_us: 0,
            grace_us: 1_000_000,
            failure: crate::record::WriteFailure::new(),
        };
        let (h, task) = spawn(cfg, CancellationToken::new()).unwrap();
        let mut events = Vec::new();
        for i in 0..500u64 {
            let intended = i * 1000;
            let kind = kinds[(i % 3) as usize];
            let stalled = (100_000..250_000).contains(&intended);
            let (outcome, error, end) = if stalled {
                if kind == OpKind::Get {
                    (Outcome::Fail, Some(ErrorClass::Timeout), intended + 2000)
                } else {
                    (Outcome::Indeterminate, Some(ErrorClass::ConnectionLoss), intended + 2500)
                }
            } else {
                (Outcome::Ok, None, intended + 300 + (i * 37) % 900)
            };
            let e = OpEvent {
                intended_us: intended,
                start_us: intended + 5,
                end_us: end,
                kind,
                session: (i % 4) as u32,
                path: format!("/zkchaos/keys/k{}", i % 10),
                outcome,
                error,
                token: format!("{}-{i}", i % 4),
                version: i as i64,
            };
            h.ops(vec![e.clone()]);
            events.push(e);
        }
        // Handed over without waking the recorder, yet counted by the next snapshot.
        assert_eq!(h.snapshot().await.unwrap().events, 500);
        h.mark_now(MarkKind::Point, "hello", None);
        let stats = h.finish().await.unwrap();
        task.await.unwrap().unwrap();
        assert_eq!(stats.late_events, 0);
        assert_eq!(stats.counts.events, 500);

        let read = crate::record::read_events(&dir.path().join(crate::record::files::EVENTS_FILE)).unwrap();
        assert_eq!(read, events);
        for k in &kinds {
            let oks = read.iter().filter(|e| e.kind == *k && e.outcome == Outcome::Ok).count() as u64;
            assert_eq!(stats.latency[k].count, oks, "{k}: every ok once in the whole-run histogram");
        }
        let rows = timeline(&read, 100_000, stats.timeline_window, &kinds);
        let again = dir.path().join("timeline-again.csv");
        write_timeline_csv(&again, &rows).unwrap();
        let live = std::fs::read_to_string(dir.path().join(crate::record::files::TIMELINE_FILE)).unwrap();
        assert_eq!(live, std::fs::read_to_string(&again).unwrap());
        // Zero-filled stall: intervals 1 and 2 have no Ok.
        assert_eq!(live.lines().count(), 1 + 3 * 5);
        assert!(live.lines().nth(4).unwrap().starts_with("100,get,0,"), "{live}");
        let marks = crate::record::read_marks(&dir.path().join(crate::record::files::MARKS_FILE)).unwrap();
        assert_eq!(marks.len(), 1);
        assert!(dir.path().join(crate::record::files::hlog_file("get")).exists());
    }

    /// A get intended and started at `t_us`, ok 500 µs later.
    fn state_event(t_us: u64) -> OpEvent {
        OpEvent::ok_get(t_us, 500)
    }

    #[test]
    fn reused_second_histograms_start_empty() {
        let dir = tempfile::tempdir().unwrap();
        let epoch = Epoch { instant: std::time::Instant::now(), unix_ms: 1_700_000_000_000 };
        let cfg = RecorderConfig {
            dir: dir.path().to_owned(),
            epoch,
            interval_us: 100_000,
            kinds: vec![OpKind::Get],
            events: false,
            timeline_start_us: 0,
            grace_us: 0,
            failure: crate::record::WriteFailure::new(),
        };
        let mut state = State::create(cfg).unwrap();
        // Seconds 0..6 with 10, 20, ... 60 gets each; each second is written before the next.
        let mut total = 0;
        for second in 0..6u64 {
            let n = 10 * (second + 1);
            let batch = (0..n).map(|i| state_event(second * 1_000_000 + i * 1000)).collect();
            state.ops(batch).unwrap();
            total += n;
            state.close_until((second + 1) * 1_000_000).unwrap();
        }
        assert_eq!(state.spare_seconds.len(), 1, "one set of histograms went round and round");
        // A late completion (its second was written) still counts in the whole run.
        let mut late = state_event(500);
        late.end_us = 600;
        state.ops(vec![late]).unwrap();
        let stats = state.finish().unwrap();
        assert_eq!(stats.counts.ok, total + 1);
        let (intervals, values) = crate::record::hlog::read_hlog(&dir.path().join(crate::record::files::hlog_file("get"))).unwrap();
        assert_eq!(intervals, 6);
        assert_eq!(values, total, "every value once: a reused histogram carried nothing over");
        assert_eq!(stats.latency[&OpKind::Get].count, total + 1, "the whole-run histogram has every value once");
    }
}
