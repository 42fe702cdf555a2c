//! Phase windows from the `phase:<name>` Start/End marks (`phase:warmup`, `phase:procedure`,
//! `phase:post`). A phase that started but never ended (a crashed or interrupted run) is closed
//! at the last mark of the run; one that never started is `None`.

use crate::record::{Mark, MarkKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Phases {
    pub warmup: Option<(u64, u64)>,
    pub procedure: Option<(u64, u64)>,
    pub post: Option<(u64, u64)>,
}

/// The window of one `phase:<name>`: first Start to the first End after it.
pub fn phase_window(marks: &[Mark], name: &str) -> Option<(u64, u64)> {
    let label = crate::record::labels::phase(name);
    let start = marks.iter().filter(|m| m.label == label && m.kind == MarkKind::Start).map(|m| m.at_us).min()?;
    let end = marks
        .iter()
        .filter(|m| m.label == label && m.kind == MarkKind::End && m.at_us >= start)
        .map(|m| m.at_us)
        .min()
        .or_else(|| marks.iter().map(|m| m.at_us).max())?;
    Some((start, end.max(start)))
}

pub fn phase_windows(marks: &[Mark]) -> Phases {
    Phases {
        warmup: phase_window(marks, "warmup"),
        procedure: phase_window(marks, "procedure"),
        post: phase_window(marks, "post"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(at_us: u64, kind: MarkKind, label: &str) -> Mark {
        Mark::new(at_us, kind, label, None)
    }

    #[test]
    fn windows() {
        let marks = vec![
            m(0, MarkKind::Start, "phase:warmup"),
            m(10, MarkKind::End, "phase:warmup"),
            m(10, MarkKind::Start, "phase:procedure"),
            m(15, MarkKind::Point, "restart zk1"),
            m(30, MarkKind::End, "phase:procedure"),
            m(30, MarkKind::Start, "phase:post"),
            m(42, MarkKind::Point, "converged"),
        ];
        let p = phase_windows(&marks);
        assert_eq!(p.warmup, Some((0, 10)));
        assert_eq!(p.procedure, Some((10, 30)));
        assert_eq!(p.post, Some((30, 42)));
        assert_eq!(phase_windows(&[]), Phases::default());
    }
}
