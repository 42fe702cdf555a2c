//! The gate on literal summaries, no Docker: `Summary` values serialised exactly as `summary.json`
//! is written, read back through the gate's loader, then judged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zkchaos::check::Verdict;
use zkchaos::gate::load::{figures_from_json, load_entries};
use zkchaos::gate::{evaluate, render, EntryRuns, Figure, GateConfig, Outcome, Status};
use zkchaos::report::summary::*;

/// Figures of one run's impact window (procedure start → load stop).
#[derive(Clone, Copy)]
struct Fig {
    read_ms: f64,
    write_ms: f64,
    error_rate: f64,
    p99_us: u64,
    converge_ms: Option<u64>,
}

fn fig(write_ms: f64) -> Fig {
    Fig { read_ms: 200.0, write_ms, error_rate: 0.002, p99_us: 40_000, converge_ms: Some(3000) }
}

fn check(v: Verdict) -> CheckSummary {
    CheckSummary { verdict: v, detail: "literal".into(), figures: BTreeMap::new() }
}

fn summary(profile: &str, f: Fig, data_loss: Verdict, single_leader: Verdict) -> Summary {
    let outage = OutageMs {
        any: Some(f.read_ms.min(f.write_ms)),
        read: Some(f.read_ms),
        write: Some(f.write_ms),
        ..OutageMs::default()
    };
    let q = Quantiles { count: 1000, p50: 2000, p99: f.p99_us, p999: f.p99_us * 2, max: f.p99_us * 3 };
    let phase = PhaseSummary {
        start_ms: 10_000.0,
        end_ms: 20_000.0,
        ops: OpsSummary { total: 3000, ok: 2990, fail: 10, indeterminate: 0, achieved_rate: 300.0, ok_rate: 299.0 },
        errors_by_class: BTreeMap::new(),
        error_rate: f.error_rate,
        outage_ms: outage.clone(),
        outage_gaps: OutageGaps::default(),
        latency_us: BTreeMap::from([("all".to_string(), q)]),
        latency_all_us: BTreeMap::from([("all".to_string(), q)]),
    };
    Summary {
        schema_version: SCHEMA_VERSION,
        run_id: "abcd".into(),
        profile: profile.into(),
        strategy: "restart-expand/old-first".into(),
        from_size: 1,
        to_size: 3,
        seed: Some(7),
        started_at: "2025-01-01T00:00:00.000Z".into(),
        duration_s: 30.0,
        load: LoadSummary {
            mode: "open".into(),
            intended_rate: 300,
            sessions: 4,
            interval_ms: 100,
            op_timeout_ms: 2000,
            reconnect: "client".into(),
        },
        ops: OpsSummary::default(),
        errors_by_class: BTreeMap::new(),
        error_rate: f.error_rate,
        outage_ms: outage.clone(),
        outage_resolution_ms: OutageResolution::default(),
        outage_at_ms: OutageMs::default(),
        outage_gaps: OutageGaps::default(),
        latency_us: BTreeMap::from([("all".to_string(), q)]),
        latency_all_us: BTreeMap::from([("all".to_string(), q)]),
        outage_baseline_ms: OutageMs::default(),
        service_outage_ms: None,
        service_outage_resolution_ms: None,
        reconnect_ms: None,
        settle_ms: None,
        schedule_lag_us: Quantiles::default(),
        phases: BTreeMap::from([("procedure".to_string(), phase.clone())]),
        impact: Some(phase),
        cycles: Vec::new(),
        procedure: ProcedureSummary::default(),
        converge_ms: f.converge_ms,
        leader_changes: 1,
        elections: Vec::new(),
        server_log: BTreeMap::new(),
        checks: Checks {
            data_loss: check(data_loss),
            single_leader: check(single_leader),
            stale_reads: Default::default(),
            ephemerals: None,
            digest: check(Verdict::Pass),
        },
        divergence: BTreeMap::new(),
        auth: None,
        verdict: Verdict::combine(data_loss, single_leader),
        notes: Vec::new(),
        models: None,
        process: None,
        agents: None,
    }
}

/// summary.json text → the gate's view of the run.
fn json_of(s: &Summary) -> serde_json::Value {
    serde_json::from_str(&s.to_canonical_json().unwrap()).unwrap()
}

fn entry(name: &str, figs: &[Fig]) -> EntryRuns {
    entry_with(name, figs, Verdict::Pass)
}

fn entry_with(name: &str, figs: &[Fig], data_loss: Verdict) -> EntryRuns {
    let runs = figs
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let dir = PathBuf::from(format!("/r/{name}/run{i}"));
            figures_from_json(&dir, "complete", &json_of(&summary(name, *f, data_loss, Verdict::Pass)))
        })
        .collect();
    EntryRuns { name: name.into(), runs }
}

fn writes(vals: &[f64]) -> Vec<Fig> {
    vals.iter().map(|&w| fig(w)).collect()
}

fn cfg() -> GateConfig {
    GateConfig::default()
}

fn status_of(r: &zkchaos::gate::GateReport, check: &str) -> Status {
    r.checks.iter().find(|c| c.check == check).unwrap_or_else(|| panic!("no check {check} in {:#?}", r.checks)).status
}

#[test]
fn loader_reads_the_impact_window() {
    let r =
        &entry("e", &[Fig { read_ms: 150.0, write_ms: 250.0, error_rate: 0.01, p99_us: 45_500, converge_ms: None }])
            .runs[0];
    assert_eq!(r.values[&Figure::OutageReadMs], Some(150.0));
    assert_eq!(r.values[&Figure::OutageWriteMs], Some(250.0));
    assert_eq!(r.values[&Figure::ErrorRate], Some(0.01));
    assert_eq!(r.values[&Figure::P99Ms], Some(45.5));
    assert_eq!(r.values[&Figure::ConvergeMs], Some(f64::INFINITY), "never converged");
    assert!(!r.values.contains_key(&Figure::SessionOutageMaxMs), "absent in this schema");
    assert!(r.problem.is_none());
}

#[test]
fn per_session_outage_is_read_when_present() {
    let mut v = json_of(&summary("e", fig(100.0), Verdict::Pass, Verdict::Pass));
    v["impact"]["outage_ms"]["per_session"] = serde_json::json!({"max": 900.0, "median": 120.0});
    let r = figures_from_json(Path::new("/r/x"), "complete", &v);
    assert_eq!(r.values[&Figure::SessionOutageMaxMs], Some(900.0));
}

#[test]
fn limits_pass() {
    let mut c = cfg();
    c.limits.insert(Figure::OutageWriteMs, 1000.0);
    c.limits.insert(Figure::ErrorRate, 0.01);
    c.limits.insert(Figure::ConvergeMs, 10_000.0);
    let r = evaluate(&[entry("a", &writes(&[300.0, 400.0, 2000.0]))], None, &c);
    assert_eq!(r.outcome, Outcome::Pass, "{}", render::text(&r));
    assert_eq!(r.exit_code, 0);
    assert_eq!(status_of(&r, "limit.outage_write_ms"), Status::Pass, "median 400 ≤ 1000 although one run had 2000");
}

#[test]
fn limit_exceeded_is_a_regression() {
    let mut c = cfg();
    c.limits.insert(Figure::OutageWriteMs, 0.0);
    let r = evaluate(&[entry("a", &writes(&[300.0, 400.0]))], None, &c);
    assert_eq!(r.outcome, Outcome::Regression);
    assert_eq!(r.exit_code, 1);
    let failed = r.failed().next().unwrap();
    assert!(failed.message.contains("/r/a/run0"), "{}", failed.message);
}

#[test]
fn never_converged_exceeds_any_convergence_limit() {
    let mut c = cfg();
    c.limits.insert(Figure::ConvergeMs, 1e12);
    let f = Fig { converge_ms: None, ..fig(100.0) };
    let r = evaluate(&[entry("a", &[f, f, f])], None, &c);
    assert_eq!(status_of(&r, "limit.converge_ms"), Status::Fail);
}

#[test]
fn baseline_regression_with_repetitions() {
    let base = [entry("a", &writes(&[100.0, 110.0, 105.0, 98.0, 102.0]))];
    let cur = [entry("a", &writes(&[300.0, 320.0, 310.0, 305.0, 330.0]))];
    let r = evaluate(&cur, Some(&base), &cfg());
    assert_eq!(r.outcome, Outcome::Regression, "{}", render::text(&r));
    let c = r.checks.iter().find(|c| c.check == "baseline.outage_write_ms").unwrap();
    assert_eq!(c.status, Status::Fail);
    assert!(!c.weak);
    assert!(c.p_value.unwrap() < 0.05);
    assert!(c.rule.starts_with("block-permutation Mann-Whitney"), "{}", c.rule);
    assert!(c.rule.contains("smallest possible p 0.0079"), "{}", c.rule);
    assert!((c.min_p.unwrap() - 2.0 / 252.0).abs() < 1e-12);
    // Unchanged figures pass.
    assert_eq!(status_of(&r, "baseline.outage_read_ms"), Status::Pass);
}

#[test]
fn difference_inside_the_noise_is_not_a_regression() {
    // Medians 500 vs 700 (+40 %, beyond the tolerance) but the runs overlap: p is large.
    let base = [entry("a", &writes(&[200.0, 500.0, 900.0, 300.0, 800.0]))];
    let cur = [entry("a", &writes(&[250.0, 700.0, 950.0, 400.0, 850.0]))];
    let r = evaluate(&cur, Some(&base), &cfg());
    let c = r.checks.iter().find(|c| c.check == "baseline.outage_write_ms").unwrap();
    assert_eq!(c.status, Status::Pass, "{}", render::text(&r));
    assert!(c.p_value.unwrap() >= 0.05);
    assert_eq!(r.outcome, Outcome::Pass);
}

#[test]
fn tolerance_edge() {
    // Completely separated samples (p = 0.008 for 5 vs 5), so only the tolerance decides.
    let base = [entry("a", &writes(&[1000.0, 999.0, 1000.0, 1001.0, 998.0]))];
    let exactly_20 = [entry("a", &writes(&[1200.0, 1200.0, 1201.0, 1199.0, 1202.0]))];
    let r = evaluate(&exactly_20, Some(&base), &cfg());
    assert_eq!(status_of(&r, "baseline.outage_write_ms"), Status::Pass, "{}", render::text(&r));
    let above = [entry("a", &writes(&[1210.0, 1211.0, 1212.0, 1213.0, 1214.0]))];
    let r = evaluate(&above, Some(&base), &cfg());
    assert_eq!(status_of(&r, "baseline.outage_write_ms"), Status::Fail, "{}", render::text(&r));
    // A looser tolerance lets it through.
    let mut c = cfg();
    c.tolerance = 0.25;
    assert_eq!(status_of(&evaluate(&above, Some(&base), &c), "baseline.outage_write_ms"), Status::Pass);
}

#[test]
fn small_absolute_changes_are_below_the_floor() {
    // 10 ms → 30 ms is +200 % but under the 50 ms outage floor.
    let base = [entry("a", &writes(&[10.0, 11.0, 9.0, 10.0, 12.0]))];
    let cur = [entry("a", &writes(&[30.0, 31.0, 29.0, 30.0, 32.0]))];
    assert_eq!(status_of(&evaluate(&cur, Some(&base), &cfg()), "baseline.outage_write_ms"), Status::Pass);
}

#[test]
fn few_runs_give_no_regression_verdict_and_say_so() {
    let base = [entry("a", &writes(&[100.0]))];
    let cur = [entry("a", &writes(&[400.0, 380.0]))];
    let r = evaluate(&cur, Some(&base), &cfg());
    let c = r.checks.iter().find(|c| c.check == "baseline.outage_write_ms").unwrap();
    assert_eq!(c.status, Status::Pass, "a tolerance on medians alone fired on noise: no verdict without a test");
    assert!(c.weak && c.rule.starts_with("WEAK"), "{}", c.rule);
    assert!(c.message.contains("which this design cannot confirm"), "{}", c.message);
    assert!(render::text(&r).contains("WEAK"));
    // --strict: too few repetitions for the rank test → cannot judge.
    let mut strict = cfg();
    strict.strict = true;
    let r = evaluate(&cur, Some(&base), &strict);
    assert_eq!(status_of(&r, "baseline.outage_write_ms"), Status::Unknown);
}

/// The contract: three copies of one run with a figure edited to [1,1,1] against
/// [2,2,2] (ties on each side). The exact permutation p is 0.10; the normal approximation said
/// 0.047. No regression verdict comes from the rank test.
#[test]
fn one_one_one_against_two_two_two_is_not_a_regression() {
    let flat = |w: f64| Fig { read_ms: w, write_ms: w, error_rate: w / 1000.0, p99_us: (w * 1000.0) as u64, converge_ms: Some(w as u64) };
    let base = [entry("a", &[flat(1.0), flat(1.0), flat(1.0)])];
    let cur = [entry("a", &[flat(2.0), flat(2.0), flat(2.0)])];
    let mut c = cfg();
    c.min_repeats = 3;
    // Drop the floors' effect: tolerance 0 would flag any worsening if a test allowed it.
    c.tolerance = 0.0;
    let r = evaluate(&cur, Some(&base), &c);
    assert_eq!(r.outcome, Outcome::Pass, "{}", render::text(&r));
    for check in r.checks.iter().filter(|c| c.check.starts_with("baseline.")) {
        assert!(check.weak, "{}: {}", check.check, check.rule);
        assert!((check.p_value.unwrap() - 0.1).abs() < 1e-12, "{}: exact p {:?}", check.check, check.p_value);
        assert!(check.rule.contains("smallest possible p is 0.100"), "{}", check.rule);
    }
}

#[test]
fn three_vs_three_cannot_reach_alpha_and_gives_no_verdict() {
    // 3 vs 3: the smallest exact p is 0.1, so the rank test could never fire at 0.05.
    let base = [entry("a", &writes(&[100.0, 101.0, 102.0]))];
    let cur = [entry("a", &writes(&[500.0, 501.0, 502.0]))];
    let c =
        evaluate(&cur, Some(&base), &cfg()).checks.into_iter().find(|c| c.check == "baseline.outage_write_ms").unwrap();
    assert_eq!(c.status, Status::Pass);
    assert!(c.weak && c.rule.contains("cannot fire"), "{}", c.rule);
}

/// Runs with cycles: the cycles sharpen the statistic, the runs set the p floor.
#[test]
fn cycles_are_blocks_of_their_run() {
    let with_cycles = |name: &str, base_ms: f64, runs: usize| -> EntryRuns {
        let runs = (0..runs)
            .map(|i| {
                let mut v = json_of(&summary(name, fig(base_ms), Verdict::Pass, Verdict::Pass));
                let cycles: Vec<serde_json::Value> = (0..5)
                    .map(|c| {
                        let mut w = v["impact"].clone();
                        w["outage_ms"]["write"] = (base_ms + (i * 5 + c) as f64).into();
                        w["cycle"] = (c + 1).into();
                        w["converge_ms"] = 3000.0.into();
                        w["election_ms"] = serde_json::Value::Null;
                        w
                    })
                    .collect();
                v["cycles"] = cycles.into();
                figures_from_json(&PathBuf::from(format!("/r/{name}/run{i}")), "complete", &v)
            })
            .collect();
        EntryRuns { name: "a".into(), runs }
    };
    let r0 = &with_cycles("a", 1000.0, 1).runs[0];
    assert_eq!(r0.cycle_values[&Figure::OutageWriteMs], vec![1000.0, 1001.0, 1002.0, 1003.0, 1004.0]);
    assert_eq!(r0.cycle_values[&Figure::ConvergeMs].len(), 5);
    let base = [with_cycles("a", 1000.0, 4)];
    let cur = [with_cycles("a", 2000.0, 4)];
    let r = evaluate(&cur, Some(&base), &cfg());
    let c = r.checks.iter().find(|c| c.check == "baseline.outage_write_ms").unwrap();
    assert_eq!(c.status, Status::Fail, "{}", render::text(&r));
    // 20 vs 20 cycles completely separated, but only C(8,4) = 70 assignments of runs.
    assert!((c.p_value.unwrap() - 2.0 / 70.0).abs() < 1e-12, "{:?}", c.p_value);
    assert!(c.message.contains("20 cycles of 4 runs"), "{}", c.message);
    // Three runs of five cycles each: 15 values a side, still no verdict possible.
    let r = evaluate(&[with_cycles("a", 2000.0, 3)], Some(&[with_cycles("a", 1000.0, 3)]), &cfg());
    let c = r.checks.iter().find(|c| c.check == "baseline.outage_write_ms").unwrap();
    assert!(c.weak && c.status == Status::Pass, "{}", c.rule);
}

#[test]
fn missing_field_cannot_be_judged() {
    let mut v = json_of(&summary("a", fig(100.0), Verdict::Pass, Verdict::Pass));
    v["impact"]["outage_ms"].as_object_mut().unwrap().remove("write");
    let run = figures_from_json(Path::new("/r/a/old"), "complete", &v);
    let mut c = cfg();
    c.limits.insert(Figure::OutageWriteMs, 1000.0);
    let r = evaluate(&[EntryRuns { name: "a".into(), runs: vec![run] }], None, &c);
    assert_eq!(r.outcome, Outcome::CannotJudge);
    assert_eq!(r.exit_code, 2);
    let u = r.checks.iter().find(|c| c.status == Status::Unknown).unwrap();
    assert!(u.message.contains("impact.outage_ms.write") && u.message.contains("/r/a/old"), "{}", u.message);
}

#[test]
fn wrong_schema_version_cannot_be_judged() {
    let mut v = json_of(&summary("a", fig(100.0), Verdict::Pass, Verdict::Pass));
    v["schema_version"] = 99.into();
    let run = figures_from_json(Path::new("/r/a/new"), "complete", &v);
    let r = evaluate(&[EntryRuns { name: "a".into(), runs: vec![run] }], None, &cfg());
    assert_eq!(r.exit_code, 2);
}

#[test]
fn safety_fail_wins_even_when_performance_passes() {
    let mut c = cfg();
    c.limits.insert(Figure::OutageWriteMs, 1e9);
    let r = evaluate(&[entry("ok", &writes(&[1.0])), entry_with("bad", &writes(&[1.0]), Verdict::Fail)], None, &c);
    assert_eq!(r.outcome, Outcome::SafetyViolation);
    assert_eq!(r.exit_code, 3);
    assert_eq!(
        r.checks.iter().find(|c| c.entry == "bad" && c.check == "safety.data_loss").unwrap().status,
        Status::Fail
    );
    // No statistics after a safety failure.
    assert!(r.checks.iter().filter(|c| c.check.starts_with("limit.")).all(|c| c.status == Status::Skipped));
    // Safety beats a regression too.
    let mut c = cfg();
    c.limits.insert(Figure::OutageWriteMs, 0.0);
    assert_eq!(evaluate(&[entry_with("bad", &writes(&[5.0]), Verdict::Fail)], None, &c).exit_code, 3);
}

#[test]
fn unknown_safety_cannot_be_judged_unless_allowed() {
    let cur = [entry_with("a", &writes(&[1.0]), Verdict::Unknown)];
    let r = evaluate(&cur, None, &cfg());
    assert_eq!((r.outcome, r.exit_code), (Outcome::CannotJudge, 2));
    let mut c = cfg();
    c.allow_unknown = true;
    assert_eq!(evaluate(&cur, None, &c).outcome, Outcome::Pass);
}

#[test]
fn entries_are_matched_by_name() {
    let base = [entry("other", &writes(&[1.0]))];
    let r = evaluate(&[entry("a", &writes(&[1.0]))], Some(&base), &cfg());
    assert_eq!(r.outcome, Outcome::CannotJudge);
    assert!(r.checks.iter().any(|c| c.check == "baseline" && c.message.contains("other")));
}

#[test]
fn junit_parses_with_testcases_and_failure_texts() {
    let mut c = cfg();
    c.limits.insert(Figure::OutageWriteMs, 150.0);
    c.limits.insert(Figure::ErrorRate, 0.5);
    let r = evaluate(&[entry("steady-3", &writes(&[100.0])), entry("restart", &writes(&[400.0, 500.0]))], None, &c);
    let xml = render::junit(&r).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("JUnit is XML");
    let cases: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| (n.attribute("classname").unwrap_or("").to_string(), n.attribute("name").unwrap().to_string()))
        .collect();
    for entry in ["steady-3", "restart"] {
        for check in ["safety.data_loss", "safety.single_leader", "limit.outage_write_ms", "limit.error_rate"] {
            assert!(cases.contains(&(entry.to_string(), check.to_string())), "{entry} {check} missing in {cases:?}");
        }
    }
    let failures: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("failure")).collect();
    assert_eq!(failures.len(), 1, "{xml}");
    let f = failures[0];
    assert_eq!(f.parent().unwrap().attribute("classname"), Some("restart"));
    let msg = f.attribute("message").unwrap();
    assert!(msg.contains("outage_write_ms") && msg.contains("150.0 ms") && msg.contains("/r/restart/run0"), "{msg}");
    // JSON carries the same verdicts.
    let json: serde_json::Value = serde_json::from_str(&render::json(&r).unwrap()).unwrap();
    assert_eq!(json["exit_code"], 1);
    assert_eq!(json["checks"].as_array().unwrap().iter().filter(|c| c["status"] == "FAIL").count(), 1);
}

#[test]
fn loads_a_suite_shaped_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("suites/s/20250101T000000Z");
    for (profile, i, write) in [("a", 0, 100.0), ("a", 1, 120.0), ("b", 0, 300.0)] {
        let d = root.join(profile).join(format!("20250101T00000{i}Z-{profile}{i}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("status"), "complete\n").unwrap();
        std::fs::write(d.join("plan.json"), format!("{{\"name\": \"{profile}\"}}")).unwrap();
        std::fs::write(
            d.join("summary.json"),
            summary(profile, fig(write), Verdict::Pass, Verdict::Pass).to_canonical_json().unwrap(),
        )
        .unwrap();
    }
    // A run that died before its summary.
    let dead = root.join("b/20250101T000009Z-dead");
    std::fs::create_dir_all(&dead).unwrap();
    std::fs::write(dead.join("status"), "aborted: boom\n").unwrap();
    std::fs::write(dead.join("plan.json"), "{\"name\": \"b\"}").unwrap();
    let entries = load_entries(tmp.path()).unwrap();
    assert_eq!(entries.iter().map(|e| (e.name.as_str(), e.runs.len())).collect::<Vec<_>>(), vec![("a", 2), ("b", 2)]);
    let r = evaluate(&entries, None, &cfg());
    assert_eq!(r.exit_code, 2, "a run without summary cannot be judged: {}", render::text(&r));
    assert!(load_entries(&tmp.path().join("nope")).is_err());
}

#[test]
fn calibration_on_identical_runs_has_no_false_alarms() {
    let e = entry("a", &writes(&[100.0, 104.0, 98.0, 101.0, 99.0, 103.0, 97.0, 102.0]));
    let c = zkchaos::gate::calibrate::calibrate(&[e], 50, &cfg(), 1);
    assert_eq!(c.entries[0].half, 4);
    assert!(c.comparisons > 0);
    assert_eq!(c.false_alarms, 0, "{}", zkchaos::gate::calibrate::text(&c));
    assert_eq!(c.rate, Some(0.0));
}

#[test]
fn power_check_counts_detections_of_a_known_regression() {
    let base = entry("a", &writes(&[1000.0, 1040.0, 980.0, 1010.0, 990.0, 1030.0, 970.0, 1020.0]));
    let slow = entry("a.slow", &writes(&[1500.0, 1560.0, 1470.0, 1515.0, 1485.0, 1545.0, 1455.0, 1530.0]));
    let p = zkchaos::gate::calibrate::power(&base, &slow, 4, 40, &cfg(), 1).unwrap();
    assert_eq!(p.per_figure["outage_write_ms"], (40, 40), "{}", zkchaos::gate::calibrate::power_text(&p));
    assert_eq!(p.per_figure["outage_read_ms"].0, 0, "an unchanged figure is not flagged");
    assert_eq!(p.weak, 0);
    // 3 runs a side: the design cannot give a verdict, so nothing is detected, and it says so.
    let p = zkchaos::gate::calibrate::power(&base, &slow, 3, 10, &cfg(), 1).unwrap();
    assert_eq!((p.any, p.weak), (0, 10));
    assert!(zkchaos::gate::calibrate::power(&base, &slow, 9, 10, &cfg(), 1).is_none());
}

/// The summary's other safety checks (`ephemerals`, `digest`, ...) are judged by name, exactly as
/// written in `summary.json`: a FAIL is a safety violation; an UNKNOWN blocks exactly when it makes
/// the run's own verdict UNKNOWN (`check::safety`): the ephemerals' does, the digest's does not.
#[test]
fn other_safety_checks_fail_the_gate_and_their_unknown_blocks_as_the_run_verdict_says() {
    let with = |check: &str, verdict: &str| {
        let mut v = json_of(&summary("e", fig(1.0), Verdict::Pass, Verdict::Pass));
        v["checks"][check] = serde_json::json!({ "verdict": verdict, "detail": "literal", "figures": {} });
        EntryRuns { name: "e".into(), runs: vec![figures_from_json(&PathBuf::from("/r/e/run0"), "complete", &v)] }
    };
    let r = evaluate(&[with("ephemerals", "FAIL")], None, &cfg());
    assert_eq!((r.outcome, r.exit_code), (Outcome::SafetyViolation, 3));
    assert_eq!(status_of(&r, "safety.ephemerals"), Status::Fail);
    let r = evaluate(&[with("ephemerals", "UNKNOWN")], None, &cfg());
    assert_eq!((r.outcome, r.exit_code), (Outcome::CannotJudge, 2), "{:#?}", r.checks);
    assert_eq!(status_of(&r, "safety.ephemerals"), Status::Unknown);
    let r = evaluate(&[with("digest", "UNKNOWN")], None, &cfg());
    assert_eq!(r.exit_code, 0, "{:#?}", r.checks);
    let c = r.checks.iter().find(|c| c.check == "safety.digest").unwrap();
    assert!(c.message.contains("UNKNOWN in 1") && c.message.contains("not blocking"), "{}", c.message);
    // Stale reads are counted, never judged.
    assert!(r.checks.iter().all(|c| c.check != "safety.stale_reads"));
}
