//! Live progress of `zkchaos run`: on a terminal, one status line redrawn every second (phase,
//! elapsed time, successful and failed operations of the last second, the current and longest
//! gap without a success, the procedure step) with indicatif; when stderr is not a terminal, one
//! plain line per phase; nothing with `--quiet`. Everything comes from the recorder's snapshot.

use crate::record::{Epoch, RecorderHandle, RecorderSnapshot};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A redrawn status line (stderr is a terminal).
    Live,
    /// One plain line per phase (stderr is a file or a pipe).
    Lines,
    Quiet,
}

impl ProgressMode {
    /// Live on a terminal, lines otherwise, nothing when `quiet`.
    pub fn detect(quiet: bool) -> ProgressMode {
        if quiet {
            ProgressMode::Quiet
        } else if std::io::stderr().is_terminal() {
            ProgressMode::Live
        } else {
            ProgressMode::Lines
        }
    }
}

/// What one second of progress shows, from two snapshots a second apart.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressLine {
    pub phase: String,
    pub elapsed_s: f64,
    /// Successful / failed (fail + indeterminate) completions since the previous snapshot, per second.
    pub ok_per_s: f64,
    pub failed_per_s: f64,
    /// Time since the latest success, ms (None before the first).
    pub current_gap_ms: Option<f64>,
    pub longest_gap_ms: f64,
    pub step: Option<String>,
}

impl ProgressLine {
    pub fn from_snapshots(prev: &RecorderSnapshot, now: &RecorderSnapshot, dt_s: f64, now_us: u64) -> ProgressLine {
        let dt = dt_s.max(1e-3);
        let failed = |s: &RecorderSnapshot| s.fail + s.indeterminate;
        let phase = now
            .phase
            .as_deref()
            .map(|p| p.trim_start_matches("phase:").to_string())
            .unwrap_or_else(|| "starting load".into());
        ProgressLine {
            phase,
            elapsed_s: now_us as f64 / 1e6,
            ok_per_s: now.ok.saturating_sub(prev.ok) as f64 / dt,
            failed_per_s: failed(now).saturating_sub(failed(prev)) as f64 / dt,
            current_gap_ms: now.last_ok_end_us.map(|l| now_us.saturating_sub(l) as f64 / 1e3),
            longest_gap_ms: now.longest_gap_us.max(now.last_ok_end_us.map_or(0, |l| now_us.saturating_sub(l))) as f64
                / 1e3,
            step: now.step.clone(),
        }
    }

    /// The text of the line, e.g. `procedure  12.3 s │ ok 1000/s  failed 0/s │ gap 4 ms (longest 1.20 s) │ step: wait zk4 serving`.
    pub fn render(&self) -> String {
        let gap = self.current_gap_ms.map(crate::report::charts::style::fmt_ms).unwrap_or_else(|| "–".into());
        let mut s = format!(
            "{:<9} {:>6.1} s │ ok {:.0}/s  failed {:.0}/s │ gap {} (longest {})",
            self.phase,
            self.elapsed_s,
            self.ok_per_s,
            self.failed_per_s,
            gap,
            crate::report::charts::style::fmt_ms(self.longest_gap_ms)
        );
        if let Some(step) = &self.step {
            s.push_str(" │ step: ");
            s.push_str(step);
        }
        s
    }
}

/// Poll the recorder every second until `cancel`; draw according to `mode`.
pub fn spawn(rec: RecorderHandle, epoch: Epoch, mode: ProgressMode, cancel: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        if mode == ProgressMode::Quiet {
            return;
        }
        let bar = (mode == ProgressMode::Live).then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b
        });
        let mut prev = RecorderSnapshot::default();
        let mut prev_at = std::time::Instant::now();
        let mut last_phase: Option<String> = None;
        // The first tick fires at once; skip it so every line covers a whole second.
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tick.tick() => {}
            }
            let Ok(now) = rec.snapshot().await else { break };
            let dt = prev_at.elapsed().as_secs_f64();
            prev_at = std::time::Instant::now();
            let line = ProgressLine::from_snapshots(&prev, &now, dt, epoch.now_us());
            match &bar {
                Some(b) => {
                    b.set_message(line.render());
                    b.tick();
                }
                None => {
                    if last_phase.as_deref() != Some(line.phase.as_str()) {
                        eprintln!("zkchaos: {}", line.render());
                        last_phase = Some(line.phase.clone());
                    }
                }
            }
            prev = now;
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_from_two_snapshots_a_second_apart() {
        let prev = RecorderSnapshot { events: 1000, ok: 990, fail: 5, indeterminate: 5, ..Default::default() };
        let now = RecorderSnapshot {
            events: 1300,
            ok: 1200,
            fail: 60,
            indeterminate: 40,
            last_ok_end_us: Some(11_700_000),
            longest_gap_us: 900_000,
            phase: Some("phase:procedure".into()),
            step: Some("wait zk4 serving".into()),
        };
        let line = ProgressLine::from_snapshots(&prev, &now, 1.0, 13_000_000);
        assert_eq!(line.phase, "procedure");
        assert_eq!((line.ok_per_s, line.failed_per_s), (210.0, 90.0));
        assert_eq!(line.current_gap_ms, Some(1300.0));
        // The current gap is already longer than any closed one.
        assert_eq!(line.longest_gap_ms, 1300.0);
        assert_eq!(
            line.render(),
            "procedure   13.0 s │ ok 210/s  failed 90/s │ gap 1.30 s (longest 1.30 s) │ step: wait zk4 serving"
        );
    }

    #[test]
    fn before_the_first_mark_and_success() {
        let line =
            ProgressLine::from_snapshots(&RecorderSnapshot::default(), &RecorderSnapshot::default(), 1.0, 500_000);
        assert_eq!(line.phase, "starting load");
        assert_eq!(line.current_gap_ms, None);
        assert!(line.render().contains("gap – (longest 0 ms)"), "{}", line.render());
    }
}
