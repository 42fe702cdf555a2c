//! A synthetic sweep, shaped as the orchestrator produces it, written and read back.

use super::curve::{self, Answer, EstimateConfig};
use super::results::*;
use super::step::{figures, judge, Verdict};
use super::sweep::{State, SweepFile};
use super::{physics, usl};
use crate::record::{OpEvent, OpKind, Outcome as OpOutcome};

const SWEEP: &str = r#"
name = "synthetic"
repeat = 2
[axes]
size = [1, 3]
read_pct = [100, 0]
state = ["steady", "degraded"]
[steps]
count = 12
low_rate = 300
high_rate = 20000
bootstrap = 200
"#;

/// Events of one step against a simulated ensemble with a knee at `knee` ops/s: below it every
/// op takes 1 ms; above it the backlog grows and each op waits `(rate/knee − 1)·t` (a queue
/// served at `knee`), so p99 passes 20 ms within the 2 s step just above the knee (≤ 1 % above).
fn simulate(rate: u32, knee: f64, read_pct: u32, secs: u64) -> Vec<OpEvent> {
    let n = u64::from(rate) * secs;
    let over = (rate as f64 / knee - 1.0).max(0.0);
    (0..n)
        .map(|i| {
            let t = i * 1_000_000 / u64::from(rate);
            let lat = 1_000 + (over * t as f64) as u64;
            OpEvent {
                intended_us: t,
                start_us: t + 30,
                end_us: t + lat,
                kind: if (i % 100) < u64::from(read_pct) { OpKind::Get } else { OpKind::Set },
                session: (i % 4) as u32,
                path: "/zkchaos/keys/k1".into(),
                outcome: OpOutcome::Ok,
                error: None,
                token: String::new(),
                version: 0,
            }
        })
        .collect()
}

fn knee_of(size: u32, read_pct: u32, state: State) -> f64 {
    // Reads scale with servers, writes fall; degraded loses a third.
    let base = if read_pct == 100 { 4000.0 * size as f64 } else { 3000.0 / size as f64 };
    if state == State::Degraded {
        base * 0.66
    } else {
        base
    }
}

fn synthetic() -> (SweepSummary, Vec<StepRow>) {
    let file = SweepFile::parse(SWEEP, "synthetic.toml").unwrap();
    let st = &file.steps;
    let mut steps = Vec::new();
    let mut points = Vec::new();
    for point in file.points() {
        let knee = knee_of(point.size, point.read_pct, point.state);
        let mut reps = Vec::new();
        let mut open = Vec::new();
        for rep in 0..file.repeat {
            let order = curve::shuffled(&curve::spread(f64::from(st.low_rate), f64::from(st.high_rate), st.count), u64::from(rep));
            for (k, &rate) in order.iter().enumerate() {
                let ev = simulate(rate, knee, point.read_pct, 2);
                let f = figures(&ev, 500_000, 2_000_000, 0.2);
                let v = judge(&f, Some(f64::from(rate)), &file.objective, &file.driver);
                steps.push(StepRow::new(&point, rep, k as u32, "curve", (Some(rate), None), &f, v));
                open.push((f64::from(rate), v));
            }
            reps.push(RepResult { rep, saturation_ops: Some(knee * 1.2), order_seed: u64::from(rep), order, error: None, load_average: Some([0.5, 0.4, 0.3]) });
        }
        let cfg = EstimateConfig { level: st.level, bootstrap: st.bootstrap, ci_level: st.ci_level, seed: 1 };
        let usl = (point.state == State::Steady).then(|| {
            let pts: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
                .iter()
                .map(|&n| (n, usl::predict(knee / 10.0, 0.05, 0.0005, n)))
                .collect();
            usl::fit(&pts).unwrap()
        });
        points.push(PointResult { point, reps, estimate: Some(curve::estimate(&open, &cfg)), achieved_ops: Some(knee * 0.9), usl });
    }
    let capacity: Vec<CapacityRow> = points.iter().map(PointResult::capacity).collect();
    let summary = SweepSummary {
        schema_version: SCHEMA_VERSION,
        name: file.name.clone(),
        description: String::new(),
        started_at: "2026-12-02T03:00:00Z".into(),
        wall_s: 12.0,
        complete: true,
        error: None,
        objective: file.objective.clone(),
        cpu_budget: file.cpu.clone(),
        driver: DriverShare { pinned_cpu: Some(0), note: "pinned".into(), steps: 3, cpu_cores_median: Some(0.2), cpu_cores_max: Some(0.3), limit_cores: 0.9 },
        machine: Machine { cores: 2, zkchaos_version: "0.1.0".into(), ..Machine::default() },
        skipped: file.skipped(),
        planned: Some(super::schedule::time_plan(&file, &super::schedule::StepCost::MEASURED)),
        warmups: vec![WarmupRecord {
            rep: 0,
            image: "zkchaos/zookeeper:3.8.0".into(),
            size: 3,
            state: State::Steady,
            after: "fresh ensemble".into(),
            settle_s: 0.0,
            seconds: 10.0,
            in_flight: 4,
            read_pct: 50,
            sessions: 4,
            at_s: 1.0,
            load_average: Some([0.5, 0.4, 0.3]),
            slices: vec![
                WarmupSlice { from_s: 0.0, to_s: 5.0, ok_ops: 400.0, p99_ms: 31.0, error_rate: 0.0 },
                WarmupSlice { from_s: 5.0, to_s: 10.0, ok_ops: 900.0, p99_ms: 9.0, error_rate: 0.0 },
                WarmupSlice { from_s: 10.0, to_s: 15.0, ok_ops: 940.0, p99_ms: 8.0, error_rate: 0.0 },
            ],
            error: None,
            quota_lifted: true,
            extended_s: 5.0,
            levelled: Some(true),
        }],
        sweep: file,
        physics: physics::checks(&capacity, true),
        capacity,
        points,
    };
    (summary, steps)
}

#[test]
fn synthetic_sweep_finds_each_knee_and_files_round_trip() {
    let (summary, steps) = synthetic();
    // The curve brackets each simulated knee: 12 rates over 300–20,000 are ~47 % apart, and the
    // answer lies 10 % of the log-way from the highest passing rate to the lowest failing one.
    for (c, p) in summary.capacity.iter().zip(&summary.points) {
        let knee = knee_of(c.point.size, c.point.read_pct, c.point.state);
        let found = c.answer.offered_ops.unwrap_or_else(|| panic!("{:?}", p.estimate));
        assert_eq!(c.answer.result, "rate", "{}", p.point.label());
        assert!(found <= knee * 1.05 && found >= knee / 1.5, "{} found {found}, knee {knee}", p.point.label());
        let (lo, hi) = (c.answer.ci_low_ops.unwrap(), c.answer.ci_high_ops.unwrap());
        assert!(lo <= found && found <= hi, "{lo} {found} {hi}");
        assert_eq!((c.answer.reps, c.answer.steps_fitted, c.answer.steps_driver_limited), (2, 24, 0));
    }
    assert_eq!(summary.capacity.len(), 6, "degraded × 1 server is skipped");
    assert!(summary.physics.iter().all(|c| c.status != physics::CheckStatus::Inconsistent), "{:#?}", summary.physics);
    assert!(summary.physics.iter().any(|c| c.rule.starts_with("degraded")));

    let dir = tempfile::tempdir().unwrap();
    super::write_all(dir.path(), &summary, &steps).unwrap();
    for f in [
        "points.csv",
        "capacity.csv",
        "summary.json",
        "report.md",
        "report.html",
        "charts/capacity-vs-size.svg",
        "charts/capacity-vs-size.png",
        "charts/achieved-vs-offered-r0.png",
        "charts/p99-vs-throughput-r100.svg",
        "charts/headroom-r100.svg",
        "charts/usl-3-r100.png",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    assert_eq!(read_points_csv(&dir.path().join("points.csv")).unwrap(), steps);
    let cap = read_capacity_csv(&dir.path().join("capacity.csv")).unwrap();
    assert_eq!(cap, summary.capacity);
    let header = std::fs::read_to_string(dir.path().join("capacity.csv")).unwrap();
    let header = header.lines().next().unwrap();
    for col in ["size", "read_pct", "state", "result", "offered_ops", "ci_low_ops", "ci_high_ops", "achieved_ops", "steps_driver_limited"] {
        assert!(header.split(',').any(|h| h == col), "capacity.csv lacks {col}: {header}");
    }
    // Floats may differ in the last digit after JSON; the answer and the structure must not.
    let back = read_summary(&dir.path().join("summary.json")).unwrap();
    assert_eq!(back.capacity, summary.capacity);
    assert_eq!(back.sweep, summary.sweep);
    assert_eq!(back.points.len(), summary.points.len());
    assert_eq!(back.points[0].reps, summary.points[0].reps);
    assert_eq!(back.warmups, summary.warmups);
    assert_eq!(back.planned, summary.planned);

    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    let answer = md.find("## Answer").unwrap();
    assert!(answer < md.find("## Curves").unwrap() && md.find("## Curves").unwrap() < md.find("## Machine").unwrap());
    assert!(md.contains("share one machine") && md.contains("0.2 CPU per ZooKeeper container"), "{md}");
    assert!(md.contains("## Physics checks") && md.contains("pinned"), "{md}");
    assert!(md.contains("with one follower stopped"));
    assert!(md.contains("## Warm-ups (discarded)") && md.contains("| 0 | 3 | fresh ensemble | steady | 0 | 10 + 5 (levelled), quota lifted | 4 / 50 % | 400 → 940 | 31.0 → 8.0 |"), "{md}");
    assert!(md.contains("**Shared ensembles**") && md.contains("alternating by repetition"), "{md}");
    assert!(md.contains("rates spread from 300 to 20000 ops/s"), "{md}");
    assert!(md.contains("(planned "), "{md}");
    assert!(md.contains("n/a"), "degraded × 1 server shows n/a");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("<table>") && html.contains("charts/capacity-vs-size.svg"));
}

#[test]
fn summary_matches_its_schema() {
    let (summary, _) = synthetic();
    let schema_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/sweep-summary.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let value = serde_json::to_value(&summary).unwrap();
    let errors: Vec<String> = validator.iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // And it rejects a summary missing the answer.
    let mut broken = value.clone();
    broken.as_object_mut().unwrap().remove("capacity");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn driver_limited_and_bounded_points_say_so() {
    let (summary, _) = synthetic();
    let mut p = summary.points[0].clone();
    let cfg = EstimateConfig { level: 0.9, bootstrap: 50, ci_level: 0.9, seed: 1 };
    p.estimate = Some(curve::estimate(&[(500.0, Verdict::Pass), (900.0, Verdict::Pass), (1500.0, Verdict::DriverLimited)], &cfg));
    let c = p.capacity();
    assert_eq!(c.answer.result, "at-least-driver-limited");
    assert_eq!(physics::describe(&c.answer), "≥ 900 (driver-limited)");
    assert!(c.answer.note.contains("1 driver-limited step(s) excluded (offered 1500 ops/s)"), "{}", c.answer.note);
    assert_eq!(super::report::cell(&c, true), "≥ 900 (driver-limited) ‡");
    p.estimate = Some(curve::estimate(&[(500.0, Verdict::Fail)], &cfg));
    assert_eq!(p.capacity().answer.result, "below");
    assert_eq!(p.estimate.as_ref().unwrap().answer, Answer::Below { rate: 500.0 });
}

/// A degraded figure the physics checks call inconsistent is stated without a percentage: the
/// old report stated such a pair (3,705 vs 5,985 ops/s) as "+62 %", a finding about the host.
#[test]
fn an_inconsistent_degraded_figure_is_not_stated_as_a_change() {
    let (mut summary, _) = synthetic();
    let steady = summary
        .capacity
        .iter()
        .find(|c| c.point.state == State::Steady && c.point.size == 3 && c.answer.result == "rate")
        .expect("a 3-server steady answer")
        .point
        .clone();
    let degraded = super::sweep::Point { state: State::Degraded, ..steady.clone() };
    assert!(summary.capacity.iter().any(|c| c.point == degraded && c.answer.result == "rate"), "a degraded answer");
    let before = super::report::sentences(&summary).join("\n");
    assert!(before.contains("with one follower stopped") && before.contains(" %)"), "{before}");
    summary.physics = vec![physics::Check {
        rule: "degraded ≤ steady × 1.1".into(),
        small: degraded,
        large: steady.clone(),
        small_text: String::new(),
        large_text: String::new(),
        status: physics::CheckStatus::Inconsistent,
        detail: String::new(),
    }];
    let after = super::report::sentences(&summary).join("\n");
    let read_pct = format!("at {} % reads", steady.read_pct);
    let line = after.lines().find(|l| l.starts_with("3 servers") && l.contains(&read_pct)).expect(&after);
    assert!(line.contains("‡ (inconsistent with the steady figure: not a finding)") && !line.contains(" %)"), "{line}");
}
