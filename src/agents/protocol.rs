//! What a load agent and the control process say to each other: one JSON object per line, the
//! agent's on its stdout (through the engine's attach stream), the control process's on the
//! agent's stdin. Nothing else goes to an agent's stdout (its logs go to stderr).
//!
//! Order: the agent prepares (connects, populates the key space) and says [`FromAgent::Ready`];
//! once every agent is ready the control process sends [`ToAgent::Start`] with one common
//! intended start (Unix µs); the agent streams [`FromAgent::Events`] (each batch its driver hands
//! over, every 10 ms) and [`FromAgent::Mark`]s, and ends with [`FromAgent::Done`] after its
//! schedule ended or [`ToAgent::Stop`] (or its stdin closed).

use crate::plan::LoadPlan;
use crate::record::{Epoch, Mark, OpEvent};
use crate::workload::WorkloadReport;
use serde::{Deserialize, Serialize};

/// What an agent is told to do (`zkchaos agent --spec <json>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentSpec {
    /// 0-based.
    pub index: u32,
    pub connect: String,
    /// This agent's share ([`super::share`]).
    pub plan: LoadPlan,
    pub seed: u64,
    /// Recorded session ids start here ([`super::session_base`]).
    pub session_base: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromAgent {
    /// Prepared. `epoch_unix_us`: the agent's epoch as Unix µs; `prepared_us`: when preparing
    /// ended, µs since that epoch.
    Ready { epoch_unix_us: i64, prepared_us: u64 },
    /// Completed operations, times since the agent's epoch.
    Events(Vec<OpEvent>),
    Mark(Mark),
    /// The driver stopped; every event was sent before this line.
    Done(WorkloadReport),
    /// The agent could not go on (e.g. could not connect).
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToAgent {
    /// Start the schedule at this Unix time (µs), for `duration_us` (None: until told to stop).
    Start { start_unix_us: i64, duration_us: Option<u64> },
    Stop,
}

/// One line (with its newline) for the other side.
pub fn line<T: Serialize>(msg: &T) -> String {
    let mut s = serde_json::to_string(msg).unwrap_or_else(|e| format!("{{\"failed\":\"encoding a message: {e}\"}}"));
    s.push('\n');
    s
}

/// Parse one line; the error names what was received.
pub fn parse<T: for<'de> Deserialize<'de>>(line: &str) -> Result<T, String> {
    serde_json::from_str(line.trim()).map_err(|e| format!("not a protocol line ({e}): {:.200}", line.trim()))
}

/// The Unix time of `epoch`, µs (precise: read beside the epoch's own clock, not its ms field).
pub fn epoch_unix_us(epoch: &Epoch) -> i64 {
    unix_us_now() - epoch.now_us() as i64
}

pub fn unix_us_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// Shift a time from an agent's epoch onto the control process's (`offset_us` = agent epoch −
/// control epoch, Unix µs); a time before the control epoch becomes 0.
pub fn shift_us(t: u64, offset_us: i64) -> u64 {
    (t as i64).saturating_add(offset_us).max(0) as u64
}

/// Shift every time of `events` (see [`shift_us`]).
pub fn shift(events: &mut [OpEvent], offset_us: i64) {
    for e in events {
        e.intended_us = shift_us(e.intended_us, offset_us);
        e.start_us = shift_us(e.start_us, offset_us);
        e.end_us = shift_us(e.end_us, offset_us);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{OpKind, Outcome};

    #[test]
    fn lines_round_trip_and_bad_lines_are_named() {
        let e = OpEvent {
            intended_us: 1_000,
            start_us: 1_010,
            end_us: 1_900,
            kind: OpKind::Set,
            session: 10_001,
            path: "/zkchaos/keys/k3".into(),
            outcome: Outcome::Ok,
            error: None,
            token: "10001-7".into(),
            version: 4,
        };
        for msg in [FromAgent::Ready { epoch_unix_us: 5, prepared_us: 6 }, FromAgent::Events(vec![e.clone()]), FromAgent::Failed("x".into())] {
            let l = line(&msg);
            assert!(l.ends_with('\n') && !l[..l.len() - 1].contains('\n'));
            assert_eq!(parse::<FromAgent>(&l).unwrap(), msg);
        }
        let start = ToAgent::Start { start_unix_us: 1_700_000_000_000_000, duration_us: Some(3_000_000) };
        assert_eq!(parse::<ToAgent>(&line(&start)).unwrap(), start);
        assert_eq!(line(&ToAgent::Stop), "\"stop\"\n");
        assert!(parse::<FromAgent>("hello").unwrap_err().contains("hello"));
        let mut v = vec![e];
        shift(&mut v, 500);
        assert_eq!((v[0].intended_us, v[0].start_us, v[0].end_us), (1_500, 1_510, 2_400));
        shift(&mut v, -2_000);
        assert_eq!(v[0].intended_us, 0, "a time before the control epoch is clamped");
    }
}
