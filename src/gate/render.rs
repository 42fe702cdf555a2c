//! The gate's verdicts for people (plain text), for machines (JSON) and for CI (JUnit XML, one
//! test suite per entry, one test case per check).

use super::{CheckResult, GateReport, Outcome, Status};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::fmt::Write as _;

fn side_text(c: &CheckResult) -> String {
    let Some(f) = c.figure else { return String::new() };
    let one = |s: &super::Side| match s.median {
        Some(m) => format!("median {} ({})", f.fmt(m), s.size_text()),
        None => format!("no values n={}", s.n),
    };
    let mut parts = Vec::new();
    if let Some(s) = &c.current {
        parts.push(format!("current {}", one(s)));
    }
    if let Some(s) = &c.baseline {
        parts.push(format!("baseline {}", one(s)));
    }
    if let Some(l) = c.limit {
        parts.push(format!("limit {}", f.fmt(l)));
    }
    if let Some(p) = c.p_value {
        parts.push(format!("p={p:.4}"));
    }
    if let Some(m) = c.min_p {
        parts.push(format!("smallest p this design can reach={m:.4}"));
    }
    parts.join("; ")
}

/// Plain-text report: per entry its run directories, then one line per check with the rule and
/// both sides' values.
pub fn text(report: &GateReport) -> String {
    let mut o = String::new();
    let mut by_entry: BTreeMap<&str, Vec<&CheckResult>> = BTreeMap::new();
    for c in &report.checks {
        by_entry.entry(&c.entry).or_default().push(c);
    }
    for (entry, checks) in by_entry {
        let _ = writeln!(o, "entry {entry}");
        let mut dirs: Vec<String> = Vec::new();
        let mut base_dirs: Vec<String> = Vec::new();
        for c in &checks {
            for d in c.current.iter().flat_map(|s| &s.dirs) {
                let d = d.display().to_string();
                if !dirs.contains(&d) {
                    dirs.push(d);
                }
            }
            for d in c.baseline.iter().flat_map(|s| &s.dirs) {
                let d = d.display().to_string();
                if !base_dirs.contains(&d) {
                    base_dirs.push(d);
                }
            }
        }
        for d in &dirs {
            let _ = writeln!(o, "  run       {d}");
        }
        for d in &base_dirs {
            let _ = writeln!(o, "  baseline  {d}");
        }
        for c in checks {
            let _ = writeln!(o, "  [{:<7}] {:<32} {}", c.status.as_str(), c.check, c.message);
            if !c.rule.is_empty() {
                let _ = writeln!(o, "            rule: {}", c.rule);
            }
            let sides = side_text(c);
            if !sides.is_empty() {
                let _ = writeln!(o, "            {sides}");
            }
        }
    }
    for n in &report.notes {
        let _ = writeln!(o, "note: {n}");
    }
    let verdict = match report.outcome {
        Outcome::Pass => "PASS",
        Outcome::Regression => "FAIL: performance regression",
        Outcome::CannotJudge => "CANNOT JUDGE",
        Outcome::SafetyViolation => "FAIL: safety violation",
    };
    let _ = writeln!(o, "gate: {verdict} (exit {})", report.exit_code);
    o
}

/// Machine-readable verdicts (the whole report).
pub fn json(report: &GateReport) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(report)?;
    s.push('\n');
    Ok(s)
}

/// JUnit XML: suite `zkchaos-gate`, one `<testsuite>` per entry, one `<testcase>` per check
/// (classname = entry). FAIL → `<failure>`, UNKNOWN → `<error>`, SKIPPED → `<skipped>`.
pub fn junit(report: &GateReport) -> Result<String, quick_junit::SerializeError> {
    let mut r = Report::new("zkchaos-gate");
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    for c in &report.checks {
        let mut status = match c.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
            Status::Unknown => TestCaseStatus::non_success(NonSuccessKind::Error),
            Status::Skipped => TestCaseStatus::skipped(),
        };
        if c.status != Status::Pass {
            status.set_message(c.message.clone());
            let mut desc = format!("rule: {}\n{}", c.rule, side_text(c));
            for d in c.current.iter().flat_map(|s| &s.dirs) {
                let _ = write!(desc, "\nrun: {}", d.display());
            }
            for d in c.baseline.iter().flat_map(|s| &s.dirs) {
                let _ = write!(desc, "\nbaseline run: {}", d.display());
            }
            status.set_description(desc);
        }
        let mut tc = TestCase::new(c.check.clone(), status);
        tc.set_classname(c.entry.clone());
        suites.entry(&c.entry).or_insert_with(|| TestSuite::new(c.entry.clone())).add_test_case(tc);
    }
    r.add_test_suites(suites.into_values());
    r.to_string()
}
