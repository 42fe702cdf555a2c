//! What the harness itself did to its servers, from the procedure's own marks: the intervals
//! during which a server certainly could not serve or commit, because zkchaos had frozen or
//! stopped it. A silent (`unknown`) probe of such a server is not hidden evidence of writes.
//!
//! Read from the marks exactly as the procedure emits them (see `procedure::steps`):
//! - **frozen**: `fault:pause zkN` Start → End (from the `docker pause` call's return to the
//!   `docker unpause` call's start: the process is certainly frozen);
//! - **stopped**: the End of a successful `stop zkN`, `kill zkN`, `wipe zkN` or `host-down zkN` → the Start of
//!   the next `start zkN`, `restart zkN` or `host-up zkN` (no process runs in between).
//!
//! A hold never closed (a run that ended first) lasts to the end of the record.

use crate::record::{labels, Mark, MarkKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One interval during which the harness held a server frozen or stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HarnessHold {
    pub server: u32,
    /// `frozen` (paused) or `stopped` (stopped, killed or wiped).
    pub what: String,
    pub from_us: u64,
    /// `None`: never released in the record.
    pub to_us: Option<u64>,
}

impl HarnessHold {
    fn holds(&self, server: u32, t: u64) -> bool {
        self.server == server && self.from_us <= t && self.to_us.is_none_or(|end| t <= end)
    }

    /// `server 5 frozen by the harness 12.000-25.000 s`.
    pub fn describe(&self) -> String {
        let end = self.to_us.map(|t| format!("{:.3}", t as f64 / 1e6)).unwrap_or_else(|| "end".into());
        format!("server {} {} by the harness {:.3}-{end} s", self.server, self.what, self.from_us as f64 / 1e6)
    }
}

/// Every [`HarnessHold`] of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HarnessFaults {
    pub holds: Vec<HarnessHold>,
}

/// `("stop", 5)` from `stop zk5`; `None` for a label that is not `<verb> zkN`.
fn verb_and_server(label: &str) -> Option<(&str, u32)> {
    let (verb, rest) = label.split_once(' ')?;
    Some((verb, rest.strip_prefix("zk")?.parse().ok()?))
}

impl HarnessFaults {
    /// The holds the marks record (pure; marks in any order).
    pub fn from_marks(marks: &[Mark]) -> HarnessFaults {
        let mut sorted: Vec<&Mark> = marks.iter().collect();
        sorted.sort_by_key(|m| m.at_us);
        let pause_prefix = labels::fault("pause", 0);
        let pause_prefix = pause_prefix.trim_end_matches("zk0");
        let mut holds = Vec::new();
        // Open holds: (server, frozen?) → index in `holds`.
        let mut open: BTreeMap<(u32, bool), usize> = BTreeMap::new();
        let close = |holds: &mut Vec<HarnessHold>, open: &mut BTreeMap<(u32, bool), usize>, key, at_us| {
            if let Some(i) = open.remove(&key) {
                let h: &mut HarnessHold = &mut holds[i];
                h.to_us = Some(at_us);
            }
        };
        for m in sorted {
            if let Some(rest) = m.label.strip_prefix(pause_prefix) {
                let Some(id) = rest.strip_prefix("zk").and_then(|s| s.parse::<u32>().ok()) else { continue };
                match m.kind {
                    MarkKind::Start if !open.contains_key(&(id, true)) => {
                        open.insert((id, true), holds.len());
                        holds.push(HarnessHold { server: id, what: "frozen".into(), from_us: m.at_us, to_us: None });
                    }
                    MarkKind::End => close(&mut holds, &mut open, (id, true), m.at_us),
                    _ => {}
                }
                continue;
            }
            let Some((verb, id)) = verb_and_server(&m.label) else { continue };
            match (verb, m.kind) {
                ("stop" | "kill" | "wipe" | "host-down", MarkKind::End) if !m.failed && !open.contains_key(&(id, false)) => {
                    open.insert((id, false), holds.len());
                    holds.push(HarnessHold { server: id, what: "stopped".into(), from_us: m.at_us, to_us: None });
                }
                ("start" | "restart" | "host-up", MarkKind::Start) => close(&mut holds, &mut open, (id, false), m.at_us),
                _ => {}
            }
        }
        HarnessFaults { holds }
    }

    /// The hold (its index) under which `server` was at `t`, if any.
    pub fn holding(&self, server: u32, t: u64) -> Option<usize> {
        self.holds.iter().position(|h| h.holds(server, t))
    }
}
