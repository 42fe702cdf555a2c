//! Fault injection for the cleanup test matrix (issue: no leaks on any exit path).
//!
//! Set `ZKCHAOS_TEST_FAULT` to one of `procedure-error`, `procedure-panic` or `checker-panic` and
//! `zkchaos run` fails at that point as if the fault were real, so tests can prove that every exit
//! path removes the run's Docker objects and marks the results aborted. Unset in normal use.

/// Whether the injected fault `name` is requested.
pub fn fault(name: &str) -> bool {
    std::env::var("ZKCHAOS_TEST_FAULT").is_ok_and(|v| v.split(',').any(|f| f.trim() == name))
}
