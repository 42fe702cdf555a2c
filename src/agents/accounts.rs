//! Per-agent accounting of a run with load agents: what each agent's streamed events add up to
//! (operations by outcome, schedule lag), its load threads' CPU, and whether it finished or was
//! lost. The run's own figures come from the one recorder all agents' events went to; these say
//! how they split, so a slow or lost agent is visible and the parts can be checked against the
//! whole ([`Accounts::sum_matches`]).

use crate::record::{AgentShare, OpEvent, Outcome, Quantiles};
use crate::workload::driver::ThreadFigure;
use crate::workload::WorkloadReport;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// How an agent ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum AgentStatus {
    /// It sent `done`: every operation it issued is in the run's events.
    Finished,
    /// Its stream ended without `done` (its engine or container died, the connection broke):
    /// its operations up to `last_event_us` are kept; those in flight or issued after are not
    /// recorded, and how many is unknown.
    Lost { at_us: u64, last_event_us: Option<u64>, detail: String },
    /// It could not start (e.g. could not connect or prepare): it issued nothing.
    Failed { detail: String },
}

/// One agent's share of the run, as streamed: the share the summary reports (flattened, so
/// `agents.json` stays one flat object per agent) and what only this layer knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentAccount {
    #[serde(flatten)]
    pub share: AgentShare,
    pub container: String,
    /// Schedule lag (start − intended) of its operations, µs.
    pub lag: Quantiles,
    /// Operations its driver says it issued (None when lost: unknown).
    pub issued: Option<u64>,
    /// Its load threads' CPU over its driving window (empty when lost).
    pub threads: Vec<ThreadFigure>,
    #[serde(flatten)]
    pub status: AgentStatus,
}

/// Running counts of one agent's events.
#[derive(Debug, Clone)]
pub struct Tally {
    pub ops: u64,
    pub ok: u64,
    pub fail: u64,
    pub indeterminate: u64,
    pub last_event_us: Option<u64>,
    lag: Histogram<u64>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally { ops: 0, ok: 0, fail: 0, indeterminate: 0, last_event_us: None, lag: Histogram::new(3).expect("3 significant digits is valid") }
    }
}

impl Tally {
    pub fn observe(&mut self, e: &OpEvent) {
        self.ops += 1;
        match e.outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Fail => self.fail += 1,
            Outcome::Indeterminate => self.indeterminate += 1,
        }
        self.last_event_us = Some(self.last_event_us.map_or(e.end_us, |l| l.max(e.end_us)));
        self.lag.saturating_record(e.start_us.saturating_sub(e.intended_us));
    }

    pub fn lag(&self) -> Quantiles {
        Quantiles::from_histogram(&self.lag)
    }
}

/// What an account is made from besides the tally.
pub struct Placement {
    pub index: u32,
    pub engine: String,
    pub container: String,
    pub rate: u32,
    pub sessions: u32,
}

pub fn account(p: Placement, tally: &Tally, report: Option<WorkloadReport>, status: AgentStatus) -> AgentAccount {
    AgentAccount {
        share: AgentShare {
            index: p.index,
            engine: p.engine,
            rate: p.rate,
            sessions: p.sessions,
            ops: tally.ops,
            ok: tally.ok,
            fail: tally.fail,
            indeterminate: tally.indeterminate,
        },
        container: p.container,
        lag: tally.lag(),
        issued: report.as_ref().map(|r| r.issued),
        threads: report.map(|r| r.threads).unwrap_or_default(),
        status,
    }
}

/// Collects accounts in agent order.
#[derive(Default)]
pub struct AccountsBuilder(Vec<AgentAccount>);

impl AccountsBuilder {
    pub fn push(&mut self, a: AgentAccount) {
        self.0.push(a);
    }

    pub fn build(self) -> Accounts {
        Accounts::new(self.0)
    }
}

/// Every agent of a run (`agents.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accounts {
    pub agents: Vec<AgentAccount>,
    /// Operations recorded from all agents.
    pub total_ops: u64,
    /// Agents that did not finish (lost or failed): the run's figures miss their later load.
    pub incomplete: u32,
}

impl Accounts {
    pub fn new(agents: Vec<AgentAccount>) -> Accounts {
        let total_ops = agents.iter().map(|a| a.share.ops).sum();
        let incomplete = agents.iter().filter(|a| a.status != AgentStatus::Finished).count() as u32;
        Accounts { agents, total_ops, incomplete }
    }

    /// Whether the agents' operations add up to `recorded`, the run's total.
    pub fn sum_matches(&self, recorded: u64) -> bool {
        self.total_ops == recorded
    }

    /// Lines for the console: one per agent, then what a lost agent means.
    pub fn describe(&self) -> String {
        use std::fmt::Write as _;
        let mut o = String::new();
        for a in &self.agents {
            let busy: Vec<String> = a.threads.iter().map(|t| format!("{:.0} %", t.busy_percent())).collect();
            let state = match &a.status {
                AgentStatus::Finished => "finished".to_string(),
                AgentStatus::Lost { at_us, detail, .. } => format!("LOST at {:.3} s ({detail}): later operations not recorded, number unknown", *at_us as f64 / 1e6),
                AgentStatus::Failed { detail } => format!("FAILED: {detail}"),
            };
            let s = &a.share;
            let _ = writeln!(
                o,
                "agent {} on {} ({} ops/s, {} sessions): ops {}  ok {}  fail {}  indeterminate {}  lag p99 {:.3} ms max {:.3} ms  load threads busy [{}]  {state}",
                s.index,
                s.engine,
                s.rate,
                s.sessions,
                s.ops,
                s.ok,
                s.fail,
                s.indeterminate,
                a.lag.p99 as f64 / 1000.0,
                a.lag.max as f64 / 1000.0,
                busy.join(", ")
            );
        }
        let _ = writeln!(o, "agents: {} operations in all; {} of {} did not finish", self.total_ops, self.incomplete, self.agents.len());
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{ErrorClass, OpKind};

    fn ev(session: u32, intended: u64, start: u64, end: u64, outcome: Outcome) -> OpEvent {
        OpEvent {
            intended_us: intended,
            start_us: start,
            end_us: end,
            kind: OpKind::Get,
            session,
            path: "/zkchaos/keys/k1".into(),
            outcome,
            error: (outcome != Outcome::Ok).then_some(ErrorClass::Timeout),
            token: String::new(),
            version: 0,
        }
    }

    fn placement(index: u32) -> Placement {
        Placement { index, engine: format!("th{}", index + 1), container: format!("c{index}"), rate: 100, sessions: 2 }
    }

    #[test]
    fn parts_add_up_and_a_lost_agent_is_named() {
        let mut a = Tally::default();
        for e in [ev(10_000, 0, 50, 900, Outcome::Ok), ev(10_001, 10_000, 10_020, 12_000, Outcome::Fail)] {
            a.observe(&e);
        }
        let mut b = Tally::default();
        b.observe(&ev(20_000, 5_000, 5_300, 2_002_000, Outcome::Indeterminate));
        let report = WorkloadReport { issued: 2, session_expiries: 0, start_us: 0, stop_us: 1, cancelled: true, threads: vec![ThreadFigure { cpu_us: 95, wall_us: 100 }] };
        let lost = AgentStatus::Lost { at_us: 3_000_000, last_event_us: b.last_event_us, detail: "the engine's stream ended".into() };
        let acc = Accounts::new(vec![account(placement(0), &a, Some(report), AgentStatus::Finished), account(placement(1), &b, None, lost)]);
        assert_eq!((acc.total_ops, acc.incomplete), (3, 1));
        assert!(acc.sum_matches(3) && !acc.sum_matches(4));
        assert_eq!((acc.agents[0].share.ok, acc.agents[0].share.fail, acc.agents[1].share.indeterminate), (1, 1, 1));
        assert_eq!(acc.agents[1].issued, None, "a lost agent's issued count is unknown, not 0");
        assert_eq!(acc.agents[0].lag.max, 50, "lag = start - intended");
        let text = acc.describe();
        assert!(text.contains("agent 1 on th2") && text.contains("LOST at 3.000 s"), "{text}");
        assert!(text.contains("1 of 2 did not finish"), "{text}");
        assert!(text.contains("[95 %]"), "{text}");
        let json = serde_json::to_string(&acc).unwrap();
        assert!(json.contains("\"status\":\"lost\""), "{json}");
        assert_eq!(serde_json::from_str::<Accounts>(&json).unwrap(), acc);
        // The report layer reads the same file through `record::load_agents`: one share, flat.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::record::files::AGENTS_FILE);
        std::fs::write(&path, &json).unwrap();
        let read = crate::record::load_agents(&path).unwrap();
        assert_eq!(read.iter().map(|r| (&r.share, r.status.as_str())).collect::<Vec<_>>(), vec![(&acc.agents[0].share, "finished"), (&acc.agents[1].share, "lost")]);
    }
}
