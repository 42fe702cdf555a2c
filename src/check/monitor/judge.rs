//! How one overlap of authorities is judged, from the zxids its members reported during it.
//!
//! An overlap is **safe** only if at most one member's zxid advanced during it and every other
//! member is at an older epoch than the newest member's (a deposed leader: its epoch is gone, and
//! its frozen zxid shows it committed nothing). Everything else is two writable authorities,
//! whatever their modes (`leader` or `standalone`): the rule that fires is named, checked in this
//! order:
//!
//! 1. `same-epoch-leaders`: two leaders report the same epoch;
//! 2. `two-authorities-advancing`: two members' zxids both advanced (whatever their epochs);
//! 3. `older-epoch-authority-advancing`: the one member that advanced is at an older epoch than
//!    another member (a deposed authority still committing);
//! 4. `same-epoch-authorities`: two members at the newest epoch (a standalone beside a leader or
//!    another standalone of its epoch), neither deposed by a newer one.
//!
//! A member whose zxid is not known cannot be judged (UNKNOWN).

use crate::record::ServerMode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One member of an overlap: its mode and the zxids it reported during it, first and last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlapMember {
    pub server: u32,
    pub mode: ServerMode,
    pub first_zxid: Option<u64>,
    pub last_zxid: Option<u64>,
}

impl OverlapMember {
    /// `2 (leader, epoch 2, zxid 0x200000001→0x200000009)`.
    fn describe(&self) -> String {
        let zxid = |z: Option<u64>| z.map(|z| format!("{z:#x}")).unwrap_or_else(|| "?".into());
        let epoch = self.first_zxid.map(|z| (z >> 32).to_string()).unwrap_or_else(|| "?".into());
        let moved = match (self.first_zxid, self.last_zxid) {
            (Some(a), Some(b)) if b > a => "advancing",
            (Some(_), Some(_)) => "frozen",
            _ => "not known",
        };
        format!(
            "{} ({}, epoch {epoch}, zxid {}→{}: {moved})",
            self.server,
            self.mode.as_str(),
            zxid(self.first_zxid),
            zxid(self.last_zxid)
        )
    }
}

/// One overlap of authorities with its evidence, and the rule it broke (`None`: safe).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overlap {
    pub from_us: u64,
    pub to_us: u64,
    pub members: Vec<OverlapMember>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl Overlap {
    /// `servers 1 (…) and 2 (…) at 0.100-0.300 s`.
    pub fn describe(&self) -> String {
        let members: Vec<String> = self.members.iter().map(OverlapMember::describe).collect();
        format!(
            "servers {} at {:.3}-{:.3} s",
            members.join(" and "),
            self.from_us as f64 / 1e6,
            self.to_us as f64 / 1e6
        )
    }
}

/// Which rule an overlap breaks, if any; `Err(())` when a member's zxid is not known.
pub(super) fn judge(members: &BTreeMap<u32, OverlapMember>) -> Result<Option<&'static str>, ()> {
    // (epoch, advanced, leader) per member.
    let mut m = Vec::new();
    for span in members.values() {
        let (Some(first), Some(last)) = (span.first_zxid, span.last_zxid) else { return Err(()) };
        m.push((first >> 32, last > first, span.mode == ServerMode::Leader));
    }
    let leader_epochs: Vec<u64> = m.iter().filter(|e| e.2).map(|e| e.0).collect();
    if leader_epochs.iter().enumerate().any(|(i, a)| leader_epochs[i + 1..].contains(a)) {
        return Ok(Some("same-epoch-leaders"));
    }
    if m.iter().filter(|e| e.1).count() > 1 {
        return Ok(Some("two-authorities-advancing"));
    }
    let newest = m.iter().map(|e| e.0).max().unwrap_or(0);
    if m.iter().any(|&(epoch, advancing, _)| advancing && epoch < newest) {
        return Ok(Some("older-epoch-authority-advancing"));
    }
    if m.iter().filter(|e| e.0 == newest).count() > 1 {
        return Ok(Some("same-epoch-authorities"));
    }
    Ok(None)
}

/// What the closed overlaps said so far.
#[derive(Default)]
pub(super) struct Judged {
    pub unsafe_overlaps: Vec<Overlap>,
    pub first_rule: Option<&'static str>,
    /// The first overlap with a member whose zxid is not known.
    pub unknown_zxid: Option<Overlap>,
    pub deposed_us: u64,
    pub deposed_count: u32,
    /// The longest safe overlap.
    pub longest_deposed: Option<Overlap>,
}

impl Judged {
    /// Judge an overlap of `members` from `from_us`, ending at `to_us`.
    pub fn close(&mut self, from_us: u64, to_us: u64, members: BTreeMap<u32, OverlapMember>) {
        let verdict = judge(&members);
        let mut o = Overlap { from_us, to_us, members: members.into_values().collect(), rule: None };
        match verdict {
            Ok(Some(rule)) => {
                o.rule = Some(rule.to_string());
                self.first_rule.get_or_insert(rule);
                self.unsafe_overlaps.push(o);
            }
            Ok(None) => {
                self.deposed_us += to_us - from_us;
                self.deposed_count += 1;
                let longer = self.longest_deposed.as_ref().is_none_or(|l| l.to_us - l.from_us < to_us - from_us);
                if longer {
                    self.longest_deposed = Some(o);
                }
            }
            Err(()) => {
                self.unknown_zxid.get_or_insert(o);
            }
        }
    }
}
