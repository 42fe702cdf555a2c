//! Elections made visible: each one as the monitor saw it, next to what every server logged
//! about it (`<STATE> - LEADER ELECTION TOOK - <n> MS`).
//!
//! **From the monitor** (`monitor.csv`, resolution: its poll interval): an election is an
//! interval with no authority (no server reporting `leader` or `standalone`), widened at its
//! start to the first server that left `leader`/`follower`/`observer` in the run-up to it (the
//! servers still serving only declined until then, none rejoined). It ends at the first sample
//! of a server serving as leader again: [`Election::new_leader`]. `no_leader_ms` is the part
//! without any leader, the same interval as `service_outage_ms` when it is the longest.
//! A single server's restart that does not take the leader away (a follower rejoining) is not
//! an election here; its own log line is still listed per server in `server_log`.
//!
//! **From the servers' logs** ([`super::server_log`]): a line logged at `at` reporting `n` ms
//! covers `[at − n, at]`; per server, the line overlapping the election most (else the nearest
//! within [`ATTRIBUTION_SLACK_MS`]) is attributed to it, each line to one election at most.
//! Log times are the servers' wall-clock read as UTC and placed on the run's timeline through
//! `meta.json`'s epoch: 1 ms resolution, written after the fact, on the control host's clock
//! for a local engine. ZOOKEEPER-3479: the logged figure has been seen far below the real time,
//! which is why both are shown.

use super::server_log::ElectionLine;
use crate::record::{ModeSample, ServerMode};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How far outside the monitor's interval a server's own election may lie and still be
/// attributed to it: one monitor poll or so of resolution plus logging delay.
pub const ATTRIBUTION_SLACK_MS: f64 = 1000.0;

/// What one server logged about its part in an election.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportedElection {
    /// `LEADER ELECTION TOOK - <ms> MS`.
    pub ms: u64,
    /// `FOLLOWING`, `LEADING` or `OBSERVING`.
    pub state: String,
    /// When the line was logged, ms since the epoch.
    pub at_ms: f64,
}

/// One election.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Election {
    /// First server leaving `leader`/`follower`/`observer` in the run-up, µs since the epoch.
    pub from_us: u64,
    /// First sample of a server serving as leader again (the last sample if none did).
    pub to_us: u64,
    /// `to_us − from_us`, ms.
    pub ms: f64,
    /// The part of it with no server reporting `leader` or `standalone`, ms.
    pub no_leader_ms: f64,
    /// The last leader seen before it.
    pub old_leader: Option<u32>,
    /// The server that served as leader at its end (None: no leader until the monitor stopped).
    pub new_leader: Option<u32>,
    /// Each server's own report (`zk<N>` → its `LEADER ELECTION TOOK` line), when one overlaps.
    pub server_reported: BTreeMap<String, ReportedElection>,
}

/// Elections from the mode samples, each with the servers' log lines attributed to it.
/// `logged`: every server's election lines (from its log, in order; lines without a run time —
/// no `meta.json` — are never attributed).
pub fn elections(samples: &[ModeSample], logged: &BTreeMap<u32, Vec<ElectionLine>>) -> Vec<Election> {
    let mut sorted: Vec<&ModeSample> = samples.iter().collect();
    sorted.sort_by_key(|s| (s.at_us, s.server));
    let mut state: BTreeMap<u32, ServerMode> = BTreeMap::new();
    let mut out = Vec::new();
    // First server to leave serving since the last time one (re)joined.
    let mut decline_from: Option<u64> = None;
    // Open election: (from_us, no-leader-since µs, old leader).
    let mut open: Option<(u64, u64, Option<u32>)> = None;
    let mut last_leader: Option<u32> = None;
    let mut seen_authority = false;
    for s in &sorted {
        let before = state.get(&s.server).copied();
        state.insert(s.server, s.mode);
        let serving = |m: Option<ServerMode>| m.is_some_and(|m| m.is_serving());
        match (serving(before), serving(Some(s.mode))) {
            (true, false) => {
                decline_from.get_or_insert(s.at_us);
            }
            (false, true) => decline_from = None,
            _ => {}
        }
        let leader = state.iter().find(|(_, m)| m.is_authority()).map(|(id, _)| *id);
        match (leader, open) {
            (Some(id), Some((from, since, old))) => {
                out.push(Election {
                    from_us: from,
                    to_us: s.at_us,
                    ms: (s.at_us - from) as f64 / 1e3,
                    no_leader_ms: (s.at_us - since) as f64 / 1e3,
                    old_leader: old,
                    new_leader: Some(id),
                    server_reported: BTreeMap::new(),
                });
                open = None;
            }
            (None, None) if seen_authority => {
                let from = decline_from.unwrap_or(s.at_us).min(s.at_us);
                open = Some((from, s.at_us, last_leader));
            }
            _ => {}
        }
        if let Some(id) = leader {
            seen_authority = true;
            last_leader = Some(id);
        }
    }
    if let (Some((from, since, old)), Some(last)) = (open, sorted.last()) {
        out.push(Election {
            from_us: from,
            to_us: last.at_us,
            ms: (last.at_us - from) as f64 / 1e3,
            no_leader_ms: (last.at_us - since) as f64 / 1e3,
            old_leader: old,
            new_leader: None,
            server_reported: BTreeMap::new(),
        });
    }
    attribute(&mut out, logged);
    out
}

/// Give each election, per server, the unused log line that fits it best: the most overlap of
/// `[at − ms, at]` with the election, else the nearest within [`ATTRIBUTION_SLACK_MS`] (a
/// server restarted just before, whose own rejoin is also logged, keeps its lines apart).
fn attribute(elections: &mut [Election], logged: &BTreeMap<u32, Vec<ElectionLine>>) {
    let mut used: BTreeSet<(u32, usize)> = BTreeSet::new();
    for e in elections.iter_mut() {
        let (from, to) = (e.from_us as f64 / 1e3, e.to_us as f64 / 1e3);
        for (&server, lines) in logged {
            // Overlap (≥ 0) minus the gap (≥ 0) between the line's span and the election.
            let score = |l: &ElectionLine| {
                let at = l.at_ms?;
                let (lo, hi) = (at - l.ms as f64, at);
                let overlap = (hi.min(to) - lo.max(from)).max(0.0);
                let gap = (lo - to).max(from - hi).max(0.0);
                (gap <= ATTRIBUTION_SLACK_MS).then_some(overlap - gap)
            };
            let best = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| !used.contains(&(server, *i)))
                .filter_map(|(i, l)| score(l).map(|sc| (i, l, sc)))
                .max_by(|a, b| a.2.total_cmp(&b.2).then(b.0.cmp(&a.0)));
            if let Some((i, l, _)) = best {
                used.insert((server, i));
                let at_ms = l.at_ms.unwrap_or_default();
                e.server_reported.insert(format!("zk{server}"), ReportedElection { ms: l.ms, state: l.state.clone(), at_ms });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServerMode::*;

    fn s(at_ms: u64, server: u32, mode: ServerMode) -> ModeSample {
        ModeSample { at_us: at_ms * 1000, server, mode, zxid: None, sent_us: None }
    }

    fn line(at_ms: f64, state: &str, ms: u64) -> ElectionLine {
        ElectionLine { at_ms: Some(at_ms), state: state.into(), ms }
    }

    /// Leader 1 restarted: followers drop at 1.2 s, 2 leads from 6.6 s.
    fn leader_restart() -> Vec<ModeSample> {
        vec![
            s(1000, 1, Leader),
            s(1000, 2, Follower),
            s(1000, 3, Follower),
            s(1200, 1, Down),
            s(1400, 2, NotServing),
            s(1400, 3, NotServing),
            s(6600, 2, Leader),
            s(6800, 3, Follower),
            s(7000, 1, Follower),
        ]
    }

    #[test]
    fn leader_restart_is_one_election_with_server_reports() {
        let logged = BTreeMap::from([
            (2, vec![line(6550.0, "LEADING", 5149)]),
            (3, vec![line(6700.0, "FOLLOWING", 5409)]),
            // zk1's own restart-time election, after the leader serves again: still overlaps.
            (1, vec![line(6950.0, "FOLLOWING", 300)]),
        ]);
        let e = elections(&leader_restart(), &logged);
        assert_eq!(e.len(), 1);
        let e = &e[0];
        assert_eq!((e.from_us, e.to_us), (1_200_000, 6_600_000));
        assert_eq!(e.ms, 5400.0);
        assert_eq!(e.no_leader_ms, 5400.0);
        assert_eq!((e.old_leader, e.new_leader), (Some(1), Some(2)));
        assert_eq!(e.server_reported["zk2"], ReportedElection { ms: 5149, state: "LEADING".into(), at_ms: 6550.0 });
        assert_eq!(e.server_reported["zk3"].ms, 5409);
        assert_eq!(e.server_reported.len(), 3);
    }

    #[test]
    fn a_rejoin_just_before_is_not_taken_for_the_election() {
        // Rolling 3 → 5 on 3.8.0 (run e52355): zk2 rejoined after its own restart at 13.48 s
        // (95 ms), then leader zk3 was restarted and zk2 followed zk5 at 14.24 s (265 ms).
        let samples = vec![
            s(13_500, 3, Leader),
            s(13_500, 2, Follower),
            s(13_500, 5, Follower),
            s(13_741, 3, Down),
            s(13_900, 2, NotServing),
            s(13_900, 5, NotServing),
            s(14_393, 5, Leader),
        ];
        let logged = BTreeMap::from([
            (2, vec![line(3_623.0, "FOLLOWING", 457), line(13_480.0, "FOLLOWING", 95), line(14_235.0, "FOLLOWING", 265)]),
            (5, vec![line(14_218.0, "LEADING", 282)]),
        ]);
        let e = elections(&samples, &logged);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].server_reported["zk2"], ReportedElection { ms: 265, state: "FOLLOWING".into(), at_ms: 14_235.0 });
        assert_eq!(e[0].server_reported["zk5"].ms, 282);
    }

    #[test]
    fn a_follower_dropping_first_starts_the_election() {
        // Follower 3 leaves at 0.8 s, then the leader at 1.0 s: the election starts at 0.8 s.
        let samples = vec![
            s(500, 1, Leader),
            s(500, 2, Follower),
            s(500, 3, Follower),
            s(800, 3, NotServing),
            s(1000, 1, NotServing),
            s(1000, 2, NotServing),
            s(1500, 1, Leader),
        ];
        let e = elections(&samples, &BTreeMap::new());
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].from_us, e[0].to_us, e[0].ms, e[0].no_leader_ms), (800_000, 1_500_000, 700.0, 500.0));
        assert!(e[0].server_reported.is_empty());
    }

    #[test]
    fn follower_restart_is_no_election_and_lines_far_away_are_not_attributed() {
        let mut samples = vec![s(100, 1, Leader), s(100, 2, Follower), s(300, 2, Down), s(900, 2, Follower)];
        samples.extend(leader_restart().into_iter().map(|m| ModeSample { at_us: m.at_us + 10_000_000, ..m }));
        let logged = BTreeMap::from([(2, vec![line(950.0, "FOLLOWING", 250), line(16_550.0, "LEADING", 5100)])]);
        let e = elections(&samples, &logged);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].from_us, 11_200_000);
        assert_eq!(e[0].server_reported["zk2"].ms, 5100);
    }

    #[test]
    fn unfinished_election_ends_at_the_last_sample() {
        let samples = vec![s(100, 1, Leader), s(100, 2, Follower), s(300, 1, Unknown), s(300, 2, NotServing), s(900, 2, NotServing)];
        let e = elections(&samples, &BTreeMap::new());
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].from_us, e[0].to_us, e[0].new_leader), (300_000, 900_000, None));
        // Nothing before the first leader is an election (start-up), nor is no sample at all.
        assert!(elections(&[s(0, 1, NotServing), s(200, 1, Leader)], &BTreeMap::new()).is_empty());
        assert!(elections(&[], &BTreeMap::new()).is_empty());
    }
}
