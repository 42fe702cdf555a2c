//! Fault injection and holds for the cleanup test matrix (issue: no leaks on any exit path).
//! Test only: both variables are unset in normal use.
//!
//! - `ZKCHAOS_TEST_FAULT` = `procedure-error`, `procedure-panic` or `checker-panic`: `zkchaos run`
//!   fails at that point as if the fault were real, so tests can prove that every exit path
//!   removes the run's Docker objects and marks the results aborted.
//! - `ZKCHAOS_TEST_HOLD` = `readback` and/or `teardown` (comma-separated): the run prints
//!   `zkchaos: test hold: <point>` on stderr and waits [`HOLD`] at the start of that phase, so a
//!   test can send a signal that lands in it for certain (these phases are otherwise too short to
//!   hit reliably).

use std::time::Duration;

/// How long a requested hold lasts.
pub const HOLD: Duration = Duration::from_secs(4);

/// Whether the injected fault `name` is requested.
pub fn fault(name: &str) -> bool {
    listed("ZKCHAOS_TEST_FAULT", name)
}

/// Wait [`HOLD`] if a hold at `point` is requested (announced on stderr first).
pub async fn hold(point: &str) {
    if listed("ZKCHAOS_TEST_HOLD", point) {
        eprintln!("zkchaos: test hold: {point} ({} s)", HOLD.as_secs());
        tokio::time::sleep(HOLD).await;
    }
}

fn listed(var: &str, name: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v.split(',').any(|f| f.trim() == name))
}
