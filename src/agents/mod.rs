//! Load agents (issue 29): the load driven from containers on Docker engines, each running
//! zkchaos's own driver (`zkchaos agent`, [`agent`]) with its share of the rate and sessions,
//! all started against one common intended start, their events streamed live to the control
//! process ([`fleet`]), which records them exactly as if its own driver had issued them.
//!
//! - Shares ([`share`]): agent `i` of `n` gets `rate / n` ops/s (the first `rate mod n` agents
//!   one more) and `sessions / n` sessions (likewise), its own seed, and records its sessions as
//!   `(i + 1) · 10,000 + s` ([`session_base`]) — agent-qualified ids, so tokens, the audit and the
//!   per-session checks never mix two agents' sessions.
//! - Time: each agent reports its epoch as Unix µs; the control process shifts every event and
//!   mark onto its own epoch ([`protocol::shift`]). Agents on one machine share its clock; on
//!   several machines the clocks must be synchronised (NTP), and the offset error adds to every
//!   latency.
//! - Merge: every agent's events go to the run's one recorder, so histograms, the timeline,
//!   outages and the audit are over all agents' operations; [`accounts`] keeps per-agent
//!   counts, lag and CPU, and whether the agent finished or was lost (its operations until then
//!   kept, those in flight at the loss unknown and said so).

pub mod accounts;
pub mod agent;
pub mod fleet;
pub mod protocol;
pub mod run;

use crate::plan::LoadPlan;

/// Recorded session ids of agent `i` start at `(i + 1) · SESSION_STRIDE` (profiles allow at most
/// 1,024 sessions, so agents never overlap).
pub const SESSION_STRIDE: u32 = 10_000;

/// The first recorded session id of agent `index` (0-based).
pub fn session_base(index: u32) -> u32 {
    (index + 1) * SESSION_STRIDE
}

/// The agent (0-based) a recorded session id belongs to; `None` for the control process's own.
pub fn agent_of_session(session: u32) -> Option<u32> {
    (session >= SESSION_STRIDE).then(|| session / SESSION_STRIDE - 1)
}

/// `total` split over `n`: part `i`, the first `total mod n` parts one larger.
fn split(total: u32, n: u32, i: u32) -> u32 {
    total / n + u32::from(i < total % n)
}

/// Agent `index`'s share of `plan` among `count` agents: its rate and sessions, one load thread
/// choice of its own (automatic), and no agents of its own.
pub fn share(plan: &LoadPlan, count: u32, index: u32) -> LoadPlan {
    let n = count.max(1);
    LoadPlan {
        rate: split(plan.rate, n, index).max(1),
        sessions: split(plan.sessions, n, index).max(1),
        in_flight: split(plan.in_flight, n, index).max(1),
        agents: Default::default(),
        ..plan.clone()
    }
}

/// Agent `index`'s seed: distinct per agent, reproducible from the run's.
pub fn agent_seed(seed: u64, index: u32) -> u64 {
    seed ^ (u64::from(index) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_plan() {
        let plan = LoadPlan { rate: 1001, sessions: 5, ..LoadPlan::default() };
        let shares: Vec<LoadPlan> = (0..3).map(|i| share(&plan, 3, i)).collect();
        assert_eq!(shares.iter().map(|s| s.rate).sum::<u32>(), 1001);
        assert_eq!(shares.iter().map(|s| s.sessions).collect::<Vec<_>>(), vec![2, 2, 1]);
        assert_eq!(shares[0].rate, 334);
        assert!(shares.iter().all(|s| s.agents.count == 0 && s.mix == plan.mix));
    }

    #[test]
    fn session_ids_are_agent_qualified() {
        assert_eq!(session_base(0), 10_000);
        assert_eq!(agent_of_session(10_003), Some(0));
        assert_eq!(agent_of_session(20_000), Some(1));
        assert_eq!(agent_of_session(3), None);
        assert_ne!(agent_seed(7, 0), agent_seed(7, 1));
    }
}
