//! Bug hunting (issue 26): seeded random fault schedules, trials with exact confidence
//! intervals, shrinking by replay, and version bisection.
//!
//! A hunt profile is an ordinary profile whose procedure is a fault space (`[hunt]`, see
//! [`space`]). Each trial draws a schedule from the hunt seed ([`draw`]), writes it as an
//! ordinary runbook in the step language ([`render`]) and runs that file through the same path
//! as `zkchaos run` on a fresh ensemble; the run's own safety checks are the verdicts
//! ([`tally`]). Rates per image and verdict carry exact Clopper-Pearson intervals ([`interval`]).
//! A failing runbook is minimised by replay ([`shrink`] for the reductions, [`shrinker`] for the
//! loop); several images run the same schedules interleaved, which is the version bisection.
//! [`runner`] is the loop and writes `hunt.json`, `hunt.md` and `hunt.html` ([`report`]).

pub mod draw;
pub mod interval;
pub mod render;
pub mod report;
pub mod runner;
pub mod shrink;
pub mod shrinker;
pub mod space;
pub mod tally;

pub use interval::{clopper_pearson, Rate};
pub use runner::{HuntConfig, TrialRun, TrialRunner};

#[cfg(test)]
mod membership_tests;
#[cfg(test)]
mod tests;
