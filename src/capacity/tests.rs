//! A synthetic sweep, shaped as the orchestrator produces it, written and read back.

use super::results::*;
use super::search::{Outcome, Search, SearchConfig};
use super::step::{figures, judge, Verdict};
use super::sweep::{State, SweepFile};
use super::usl;
use crate::record::{OpEvent, OpKind, Outcome as OpOutcome};

const SWEEP: &str = r#"
name = "synthetic"
repeat = 2
[axes]
size = [1, 3]
read_pct = [100, 0]
state = ["steady", "degraded"]
[ramp]
start_rate = 1000
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

fn synthetic() -> (SweepSummary, Vec<StepRow>) {
    let file = SweepFile::parse(SWEEP, "synthetic.toml").unwrap();
    let mut steps = Vec::new();
    let mut points = Vec::new();
    for point in file.points() {
        // Reads scale with servers, writes fall; degraded loses a third.
        let base = if point.read_pct == 100 { 4000.0 * point.size as f64 } else { 3000.0 / point.size as f64 };
        let knee = if point.state == State::Degraded { base * 0.66 } else { base };
        let mut reps = Vec::new();
        for rep in 0..file.repeat {
            let mut search = Search::new(SearchConfig {
                start: f64::from(file.ramp.start_rate),
                factor: file.ramp.factor,
                min_rate: f64::from(file.ramp.min_rate),
                max_rate: f64::from(file.ramp.max_rate),
                resolution: file.ramp.resolution,
                confirm: true,
                max_steps: file.ramp.max_steps,
            });
            let mut k = 0;
            while let Some(probe) = search.next() {
                let ev = simulate(probe.rate, knee, point.read_pct, 2);
                let f = figures(&ev, 500_000, 2_000_000, 0.2);
                let v = judge(&f, Some(f64::from(probe.rate)), &file.objective, &file.driver);
                steps.push(StepRow::new(&point, rep, k, probe.purpose.as_str(), Some(probe.rate), None, &f, v));
                search.record(v == Verdict::Pass);
                k += 1;
            }
            reps.push(RepResult {
                rep,
                outcome: search.outcome().cloned().unwrap(),
                driver_limited: false,
                saturation_ops: Some(knee * 1.2),
                error: None,
            });
        }
        let usl = (point.state == State::Steady).then(|| {
            let pts: Vec<(f64, f64)> =
                [1.0, 4.0, 16.0, 64.0].iter().map(|&n| (n, usl::predict(knee / 10.0, 0.05, 0.0005, n))).collect();
            usl::fit(&pts).unwrap()
        });
        points.push(PointResult { point, reps, usl });
    }
    let capacity = points.iter().map(PointResult::capacity).collect();
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
        machine: Machine { cores: 2, zkchaos_version: "0.1.0".into(), ..Machine::default() },
        skipped: file.skipped(),
        sweep: file,
        capacity,
        points,
    };
    (summary, steps)
}

#[test]
fn synthetic_sweep_finds_each_knee_and_files_round_trip() {
    let (summary, steps) = synthetic();
    // The search found each simulated knee to within its resolution.
    for (c, p) in summary.capacity.iter().zip(&summary.points) {
        let base = if c.read_pct == 100 { 4000.0 * c.size as f64 } else { 3000.0 / c.size as f64 };
        let knee = if c.state == State::Degraded { base * 0.66 } else { base };
        let found = c.max_sustainable_ops.unwrap_or_else(|| panic!("{:?}", p.reps));
        assert!(found <= knee * 1.01 && found >= knee / 1.15 - 1.0, "{} found {found}, knee {knee}", p.point.label());
        assert!(c.confirmed && c.result == "found" && c.reps == 2);
    }
    assert_eq!(summary.capacity.len(), 6, "degraded × 1 server is skipped");

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
    for col in ["size", "read_pct", "state", "max_sustainable_ops", "confirmed"] {
        assert!(header.split(',').any(|h| h == col), "capacity.csv lacks {col}: {header}");
    }
    // Floats may differ in the last digit after JSON; the answer and the structure must not.
    let back = read_summary(&dir.path().join("summary.json")).unwrap();
    assert_eq!(back.capacity, summary.capacity);
    assert_eq!(back.sweep, summary.sweep);
    assert_eq!(back.points.len(), summary.points.len());
    assert_eq!(back.points[0].reps, summary.points[0].reps);

    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    let answer = md.find("## Answer").unwrap();
    assert!(answer < md.find("## Curves").unwrap() && md.find("## Curves").unwrap() < md.find("## Machine").unwrap());
    assert!(md.contains("share one machine"), "{md}");
    assert!(md.contains("with one follower stopped"));
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
fn unstable_and_mixed_points_get_no_number() {
    let (summary, _) = synthetic();
    let mut p = summary.points[0].clone();
    p.reps[1].outcome = Outcome::Unstable { reason: "confirmation failed: x".into() };
    let c = p.capacity();
    assert_eq!(c.max_sustainable_ops, None);
    assert!(!c.confirmed);
    assert_eq!(c.result, "mixed");
    assert!(c.note.contains("rep 1: confirmation failed"));
    assert!(super::report::cell(&c).starts_with("unstable"), "{}", super::report::cell(&c));
}
