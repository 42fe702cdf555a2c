//! Operation counts by outcome and error class, and the achieved issue rate.

use crate::record::{OpEvent, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OpCounts {
    pub total: u64,
    pub ok: u64,
    pub fail: u64,
    pub indeterminate: u64,
    /// Error class name → operations that ended with it.
    pub by_class: BTreeMap<String, u64>,
    /// Operations issued per second: `(n − 1) / (last start − first start)`; 0 with < 2 ops.
    /// With an exact open-loop schedule this equals the target rate.
    pub achieved_rate: f64,
    /// `Ok` completions per second over the same span.
    pub ok_rate: f64,
}

pub fn counts(events: &[OpEvent]) -> OpCounts {
    let mut c = OpCounts { total: events.len() as u64, ..OpCounts::default() };
    let (mut first, mut last) = (u64::MAX, 0u64);
    for e in events {
        match e.outcome {
            Outcome::Ok => c.ok += 1,
            Outcome::Fail => c.fail += 1,
            Outcome::Indeterminate => c.indeterminate += 1,
        }
        if let Some(class) = e.error {
            *c.by_class.entry(class.as_str().to_string()).or_default() += 1;
        }
        first = first.min(e.start_us);
        last = last.max(e.start_us);
    }
    if events.len() >= 2 && last > first {
        let span_s = (last - first) as f64 / 1e6;
        c.achieved_rate = (events.len() - 1) as f64 / span_s;
        c.ok_rate = c.ok as f64 / span_s;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{ErrorClass, OpKind};

    #[test]
    fn counts_and_rate() {
        let events: Vec<OpEvent> = (0..501u64)
            .map(|i| OpEvent {
                intended_us: i * 2000,
                start_us: i * 2000,
                end_us: i * 2000 + 100,
                kind: OpKind::Get,
                session: 0,
                path: String::new(),
                outcome: if i == 7 { Outcome::Fail } else { Outcome::Ok },
                error: if i == 7 { Some(ErrorClass::Timeout) } else { None },
                token: String::new(),
                version: -1,
            })
            .collect();
        let c = counts(&events);
        assert_eq!((c.total, c.ok, c.fail), (501, 500, 1));
        assert_eq!(c.by_class["Timeout"], 1);
        assert!((c.achieved_rate - 500.0).abs() < 1e-9);
    }
}
