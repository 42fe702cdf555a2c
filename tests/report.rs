//! Results files of a synthetic run (literal events, marks, monitor samples, read-backs): the
//! summary validates against `schema/summary.schema.json`, `analyze` reproduces it exactly,
//! charts are drawn, an aborted run is still analysable, and `compare` puts runs side by side.
//! Pure: no Docker.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zkchaos::check::Verdict;
use zkchaos::record::{save_readbacks, write_monitor_csv, RunDir, RunMeta, RunStatus, SeqNodes, ServerReadback};
use zkchaos::plan::Plan;
use zkchaos::record::{ErrorClass, EventWriter, Mark, MarkKind, ModeSample, OpEvent, OpKind, Outcome, ServerMode};
use zkchaos::report::{self, analyze_dir, finish_run};

const S: u64 = 1_000_000;

fn plan(strategy: &str) -> Plan {
    let procedure = match strategy {
        "reconfig" => serde_json::json!({"kind": "reconfig-expand", "to": 3, "auth": "skip-acl"}),
        _ => serde_json::json!({"kind": "restart-expand", "to": 3}),
    };
    serde_json::from_value(serde_json::json!({
        "name": "expand-1-3",
        "seed": 42,
        "cluster": {"size": 1, "dynamic_config": strategy == "reconfig"},
        "load": {"rate": 200, "sessions": 2, "keys": 20},
        "procedure": procedure,
    }))
    .expect("literal plan")
}

fn mark(at: f64, kind: MarkKind, label: &str, detail: Option<&str>) -> Mark {
    Mark::new((at * S as f64) as u64, kind, label, detail.map(String::from))
}

fn marks(complete: bool) -> Vec<Mark> {
    let mut m = vec![
        mark(0.5, MarkKind::Start, "phase:warmup", None),
        mark(10.0, MarkKind::End, "phase:warmup", None),
        mark(10.0, MarkKind::Start, "phase:procedure", None),
        mark(10.0, MarkKind::Start, "start zk2", None),
        mark(11.2, MarkKind::End, "start zk2", None),
        mark(11.2, MarkKind::Start, "start zk3", None),
        mark(12.4, MarkKind::End, "start zk3", None),
        mark(12.5, MarkKind::Start, "reconfig add 2,3 attempt 1", None),
        // As the procedure emits a failed step: End mark flagged `failed`, the error as detail.
        Mark::failed_end((12.6 * S as f64) as u64, "reconfig add 2,3 attempt 1", "BadVersion: stale config version".into()),
        mark(12.7, MarkKind::Start, "reconfig add 2,3 attempt 2", None),
    ];
    if complete {
        m.extend([
            mark(12.8, MarkKind::End, "reconfig add 2,3 attempt 2", None),
            mark(14.0, MarkKind::Point, "converged", None),
            mark(14.5, MarkKind::End, "phase:procedure", None),
            mark(14.5, MarkKind::Start, "phase:post", None),
            mark(20.0, MarkKind::End, "phase:post", None),
        ]);
    }
    m
}

/// 200 ops/s from 0.5 s to `until` s; everything intended in [12.75 s, `outage_end_us`) fails.
fn events(until: f64, outage_end_us: u64) -> (Vec<OpEvent>, Vec<ServerReadback>) {
    let mut out = Vec::new();
    let mut versions: BTreeMap<String, (i64, Option<String>)> = BTreeMap::new();
    let mut seq = SeqNodes::new();
    let mut next_seq = 0u64;
    let n = ((until - 0.5) * 200.0) as u64;
    for i in 0..n {
        let intended = S / 2 + i * 5_000;
        let kind = match i % 10 {
            8 => OpKind::Set,
            9 => OpKind::Create,
            _ => OpKind::Get,
        };
        let failed = intended >= 12_750_000 && intended < outage_end_us;
        let slow = if outage_end_us > 14_000_000 { 9_000 + (i % 7) * 3_000 } else { 4_000 };
        let lat = 800 + (i % 17) * 60 + if intended > 12_000_000 && intended < 15_000_000 { slow } else { 0 };
        let key = format!("/zkchaos/keys/k{}", i % 20);
        let token = format!("t{i}");
        let mut e = OpEvent {
            intended_us: intended,
            start_us: intended + 20,
            end_us: intended + if failed { 300_000 } else { lat },
            kind,
            session: (i % 2) as u32,
            path: key.clone(),
            outcome: Outcome::Ok,
            error: None,
            token: String::new(),
            version: -1,
        };
        match (kind, failed) {
            (OpKind::Get, true) => {
                e.outcome = Outcome::Fail;
                e.error = Some(ErrorClass::ConnectionLoss);
            }
            (OpKind::Get, false) => e.version = versions.get(&key).map(|v| v.0).unwrap_or(0),
            (_, true) => {
                e.outcome = Outcome::Indeterminate;
                e.error = Some(ErrorClass::Timeout);
                e.token = token;
                if kind == OpKind::Create {
                    e.path = String::new();
                }
            }
            (OpKind::Set, false) => {
                let v = versions.get(&key).map(|v| v.0).unwrap_or(0) + 1;
                versions.insert(key, (v, Some(token.clone())));
                e.version = v;
                e.token = token;
            }
            (_, false) => {
                let path = format!("/zkchaos/seq/s-{next_seq:010}");
                next_seq += 1;
                seq.insert(&path, Some(&token));
                e.path = path;
                e.token = token;
            }
        }
        out.push(e);
    }
    out.sort_by_key(|e| e.end_us);
    for k in 0..20 {
        versions.entry(format!("/zkchaos/keys/k{k}")).or_insert((0, None));
    }
    let rb = (1..=3).map(|server| ServerReadback { keys: versions.clone(), seq: seq.clone(), ..ServerReadback::empty(server) }).collect();
    (out, rb)
}

fn samples(until: f64) -> Vec<ModeSample> {
    let mut v = Vec::new();
    let mut t = 0.2;
    while t < until {
        let at_us = (t * S as f64) as u64;
        for server in 1..=3u32 {
            let mode = match server {
                1 if t < 12.8 => ServerMode::Leader,
                1 if t < 13.6 => ServerMode::NotServing,
                1 => ServerMode::Follower,
                2 if t < 10.0 => ServerMode::Down,
                2 if t < 10.8 => ServerMode::NotServing,
                2 if t < 12.8 => ServerMode::Follower,
                2 if t < 13.6 => ServerMode::NotServing,
                2 => ServerMode::Leader,
                _ if t < 11.2 => ServerMode::Down,
                _ if t < 12.0 => ServerMode::NotServing,
                _ if (12.8..13.6).contains(&t) => ServerMode::NotServing,
                _ => ServerMode::Follower,
            };
            v.push(ModeSample::new(at_us, server, mode, Some((1u64 << 32) | (at_us / 1000))));
        }
        t += 0.2;
    }
    v
}

/// Write a run's recorded files like the live run does; `complete` false simulates a crash at
/// 13 s (events cut mid-stream, no read-back, procedure never ended).
fn synthetic_run(root: &Path, strategy: &str, complete: bool, lossy: bool) -> RunDir {
    let p = plan(strategy);
    let dir = RunDir::create(root, &p.name).expect("create run dir");
    dir.write_json("plan.json", &p).unwrap();
    let mut meta = RunMeta::new(dir.id(), 1_750_000_000_000);
    meta.image = p.cluster.image.clone();
    meta.zookeeper_version = Some("3.8.0".into());
    dir.write_json("meta.json", &meta).unwrap();
    let until = if complete { 20.0 } else { 13.0 };
    // The restart strategy is made to look worse: a longer outage and slower operations.
    let outage_end_us = if strategy == "restart" { 14_600_000 } else { 14_000_000 };
    let (evs, mut rb) = events(until, outage_end_us);
    let mut w = EventWriter::create(&dir.file("events.csv.gz")).unwrap();
    for e in &evs {
        w.write(e).unwrap();
    }
    if complete {
        w.finish().unwrap();
    } else {
        // A crash after a sync flush: the gzip stream has no trailer.
        w.flush().unwrap();
        std::mem::forget(w);
    }
    dir.write_json("marks.json", &marks(complete)).unwrap();
    write_monitor_csv(&dir.file("monitor.csv"), &samples(until)).unwrap();
    // The harness's own footprint, as the run's sampler appends it every 5 s.
    let rows: Vec<_> = [(0, 18_432, 24), (5_000, 24_576, 41), (10_000, 24_064, 40)]
        .into_iter()
        .map(|(t_ms, rss_kib, fds)| zkchaos::record::ProcessSample { t_ms, rss_kib, fds })
        .collect();
    zkchaos::record::process::write_samples(&dir.file("process.csv"), &rows).unwrap();
    if complete {
        if lossy {
            // k8 is written (i % 10 == 8 lands on keys 8 and 18).
            rb[2].keys.remove("/zkchaos/keys/k8");
        }
        save_readbacks(&dir.file("readback.json.gz"), &rb).unwrap();
        write_server_evidence(&dir);
    }
    dir
}

/// Server logs and `mntr.json` as the live run leaves them: the election at 12.8–13.6 s logged
/// by both servers (epoch 2025-06-15 15:06:40 UTC), a 3.8.x warning, real `mntr` answers.
fn write_server_evidence(dir: &RunDir) {
    let corpus = |name: &str| std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/mntr").join(name)).unwrap();
    let zk1 = "\
2025-06-15 15:06:53.550 [QuorumPeer[myid=1](plain=0.0.0.0:2181)(secure=disabled)] INFO org.apache.zookeeper.server.quorum.Learner - FOLLOWING - LEADER ELECTION TOOK - 650 MS
2025-06-15 15:06:53.700 [QuorumPeer[myid=1](plain=0.0.0.0:2181)(secure=disabled)] WARN org.apache.zookeeper.server.quorum.Learner - Got zxid 0x100000001 expected 0x1
2025-06-15 15:06:53.800 [QuorumPeer[myid=1](plain=0.0.0.0:2181)(secure=disabled)] WARN org.apache.zookeeper.server.quorum.Learner - Got zxid 0x100000196 expected 0x1
";
    let zk2 = "\
2025-06-15 15:06:53.500 [QuorumPeer[myid=2](plain=0.0.0.0:2181)(secure=disabled)] INFO org.apache.zookeeper.server.quorum.Leader - LEADING - LEADER ELECTION TOOK - 700 MS
";
    dir.write_text("logs/zk1.log", zk1).unwrap();
    dir.write_text("logs/zk2.log", zk2).unwrap();
    let scrapes = vec![
        zkchaos::record::MntrScrape {
            server: 1,
            at_us: 20_500_000,
            mntr: Some(corpus("3.8.0-quorum-follower.txt")),
            srvr: Some(corpus("3.8.0-quorum-follower.srvr.txt")),
            error: None,
        },
        zkchaos::record::MntrScrape {
            server: 2,
            at_us: 20_600_000,
            mntr: Some(corpus("3.8.0-quorum-leader.txt")),
            srvr: Some(corpus("3.8.0-quorum-leader.srvr.txt")),
            error: None,
        },
        zkchaos::record::MntrScrape {
            server: 3,
            at_us: 20_700_000,
            mntr: None,
            srvr: None,
            error: Some("four-letter word `mntr` to 127.0.0.1:32771: no answer within 5s".into()),
        },
    ];
    zkchaos::record::save_mntr(&dir.file(zkchaos::record::MNTR_FILE), &scrapes).unwrap();
}

fn schema_errors(summary_path: &Path) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/summary.schema.json")).unwrap())
            .unwrap();
    let instance: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(summary_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    validator.iter_errors(&instance).map(|e| format!("{} at {}", e, e.instance_path)).collect()
}

#[test]
fn summary_of_a_synthetic_run_validates_and_has_the_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = synthetic_run(tmp.path(), "reconfig", true, false);
    let s = finish_run(&dir).expect("finish_run");
    dir.set_status("complete").unwrap();
    let errors = schema_errors(&dir.file("summary.json"));
    assert!(errors.is_empty(), "schema violations: {errors:#?}");

    assert_eq!(s.schema_version, 2);
    assert_eq!(s.strategy, "reconfig-expand/together");
    assert_eq!((s.from_size, s.to_size), (1, 3));
    assert_eq!(s.ops.total, 3900);
    assert_eq!(s.ops.ok + s.ops.fail + s.ops.indeterminate, s.ops.total);
    assert_eq!(s.errors_by_class.get("ConnectionLoss"), Some(&200));
    assert_eq!(s.errors_by_class.get("Timeout"), Some(&50));
    // Last successful read ends just after 12.745 s; the next one just after 14.0 s.
    let read = s.outage_ms.read.unwrap();
    assert!((1250.0..1270.0).contains(&read), "read outage {read}");
    assert!(s.outage_ms.write.unwrap() >= read);
    let res = s.outage_resolution_ms.read.unwrap();
    assert!((res - 6.25).abs() < 0.01, "read resolution {res}");
    assert_eq!(s.converge_ms, Some(4000));
    assert_eq!(s.leader_changes, 1);
    assert_eq!(s.procedure.reconfig_attempts, 2);
    assert_eq!(s.procedure.reconfig_failures, 1);
    assert_eq!(s.procedure.steps.len(), 4);
    assert_eq!(s.procedure.steps[0].duration_ms, Some(1200.0));
    let process = s.process.expect("process.csv summarised");
    assert_eq!((process.rss_max_kib, process.fds_max, process.samples), (24_576, 41, 3));
    assert_eq!(s.auth.as_deref(), Some("skip-acl: insecure"));
    assert_eq!(s.checks.data_loss.verdict, Verdict::Pass, "{}", s.checks.data_loss.detail);
    assert_eq!(s.checks.single_leader.verdict, Verdict::Pass, "{}", s.checks.single_leader.detail);
    assert_eq!(s.verdict, Verdict::Pass);
    assert!(s.phases.contains_key("warmup") && s.phases.contains_key("procedure") && s.phases.contains_key("post"));
    assert!(s.phases["procedure"].error_rate > 0.0 && s.phases["warmup"].error_rate == 0.0);
    assert!(s.latency_us["get"].p50 >= 800 && s.latency_us["all"].count == s.ops.ok);

    // Server-side evidence: zk3 did not answer mntr (UNKNOWN, reported, not blocking).
    assert_eq!(s.checks.digest.verdict, Verdict::Unknown, "{}", s.checks.digest.detail);
    assert!(s.checks.digest.detail.contains("zk3: not read"), "{}", s.checks.digest.detail);
    assert_eq!(s.checks.digest.figures["per_server"]["zk2"]["state"], "leader");
    assert_eq!(s.elections.len(), 1);
    let e = &s.elections[0];
    assert_eq!((e.old_leader, e.new_leader), (Some(1), Some(2)));
    assert_eq!((e.server_reported["zk1"].ms, e.server_reported["zk2"].ms), (650, 700));
    assert_eq!(e.server_reported["zk2"].at_ms, 13_500.0);
    assert_eq!(s.server_log["zk1"].top[0].class, "Learner: Got zxid 0x# expected 0x#");
    assert_eq!(s.server_log["zk1"].top[0].count, 2);

    let console = report::render_console(&s);
    assert!(console.contains("VERDICT PASS"), "{console}");
    assert!(console.contains("ConnectionLoss 200"), "{console}");
    assert!(console.contains("digest         UNKNOWN"), "{console}");
    assert!(console.contains("zk1 FOLLOWING 650 ms, zk2 LEADING 700 ms"), "{console}");
    assert!(console.contains("2× WARN      Learner: Got zxid 0x# expected 0x#"), "{console}");
    let page = std::fs::read_to_string(dir.file("report.html")).unwrap();
    assert!(page.contains("<h2>Elections</h2>") && page.contains("<h2>Server logs</h2>") && page.contains("<h2>Digest"));
}

#[test]
fn a_digest_mismatch_fails_the_run_and_analyze_agrees() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = synthetic_run(tmp.path(), "reconfig", true, false);
    let path = dir.file(zkchaos::record::MNTR_FILE);
    let mut scrapes = zkchaos::record::load_mntr(&path).unwrap();
    let text = scrapes[0].mntr.take().unwrap();
    scrapes[0].mntr = Some(text.replace("zk_digest_mismatches_count\t0", "zk_digest_mismatches_count\t2"));
    zkchaos::record::save_mntr(&path, &scrapes).unwrap();
    let s = finish_run(&dir).unwrap();
    dir.set_status("complete").unwrap();
    assert!(schema_errors(&dir.file("summary.json")).is_empty());
    assert_eq!(s.checks.digest.verdict, Verdict::Fail);
    assert!(s.checks.digest.detail.contains("zk1: 2"), "{}", s.checks.digest.detail);
    assert_eq!(s.checks.data_loss.verdict, Verdict::Pass);
    assert_eq!(s.verdict, Verdict::Fail, "a digest mismatch is a safety failure");
    assert!(report::render_console(&s).contains("!!! DIGEST MISMATCH"));
    assert_eq!(analyze_dir(dir.path()).unwrap().matched, Some(true));
}

#[test]
fn analyze_reproduces_the_summary_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = synthetic_run(tmp.path(), "restart", true, false);
    finish_run(&dir).unwrap();
    dir.set_status("complete").unwrap();
    let before = std::fs::read(dir.file("summary.json")).unwrap();
    let outcome = analyze_dir(dir.path()).expect("analyze");
    assert_eq!(outcome.matched, Some(true), "differing: {:?}", outcome.differing);
    assert_eq!(outcome.status, RunStatus::Complete);
    assert_eq!(std::fs::read(dir.file("summary.json")).unwrap(), before);
    let timeline = std::fs::read_to_string(dir.file("timeline.csv")).unwrap();
    assert!(timeline.starts_with("t_ms,kind,ok,fail,indeterminate,Timeout,"));
    // 0..20.3 s in 100 ms intervals × 3 kinds, zero-filled.
    assert!(timeline.lines().count() > 600);

    // A tampered summary is detected and named.
    let tampered = String::from_utf8(before).unwrap().replace("\"converge_ms\": 4000", "\"converge_ms\": 3999");
    std::fs::write(dir.file("summary.json"), tampered).unwrap();
    let outcome = analyze_dir(dir.path()).unwrap();
    assert_eq!(outcome.matched, Some(false));
    assert_eq!(outcome.differing, vec!["converge_ms".to_string()]);
}

#[test]
fn charts_are_drawn_with_titles() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = synthetic_run(tmp.path(), "reconfig", true, false);
    finish_run(&dir).unwrap();
    for (stem, title) in [
        ("throughput", "Throughput by outcome"),
        ("latency", "Latency from intended start"),
        ("modes", "Server modes"),
    ] {
        let png = std::fs::read(dir.file(&format!("charts/{stem}.png"))).unwrap();
        assert!(png.len() > 10_000 && png.starts_with(b"\x89PNG"), "{stem}.png: {} bytes", png.len());
        let svg = std::fs::read_to_string(dir.file(&format!("charts/{stem}.svg"))).unwrap();
        assert!(svg.contains("<svg") && svg.contains(title), "{stem}.svg lacks {title:?}");
        assert!(svg.contains("time since run start (s)"), "{stem}.svg lacks the x-axis label");
    }
    // To look at the charts: ZKCHAOS_REPORT_TEST_OUT=/some/dir cargo test --test report charts
    if let Some(keep) = std::env::var_os("ZKCHAOS_REPORT_TEST_OUT") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).unwrap();
        for entry in std::fs::read_dir(dir.file("charts")).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), keep.join(entry.file_name())).unwrap();
        }
        // The whole run, for trying `zkchaos analyze` by hand.
        let run = keep.join("run");
        std::fs::create_dir_all(&run).unwrap();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), run.join(entry.file_name())).unwrap();
            }
        }
    }
    let throughput = std::fs::read_to_string(dir.file("charts/throughput.svg")).unwrap();
    assert!(throughput.contains("error: ConnectionLoss") && throughput.contains("procedure phase"));
    assert!(throughput.contains("reconfig add 2,3 attempt 1"));
}

#[test]
fn an_aborted_run_leaves_readable_files_and_analyze_works() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = synthetic_run(tmp.path(), "reconfig", false, false);
    dir.set_status("aborted: interrupted (Ctrl-C)").unwrap();
    let outcome = analyze_dir(dir.path()).expect("analyze an aborted run");
    assert_eq!(outcome.status, RunStatus::Aborted("interrupted (Ctrl-C)".into()));
    assert_eq!(outcome.matched, None);
    let s = &outcome.summary;
    assert!(s.ops.total > 2000, "events up to the last flush are kept: {}", s.ops.total);
    assert_eq!(s.checks.data_loss.verdict, Verdict::Unknown);
    assert_eq!(s.verdict, Verdict::Unknown);
    assert_eq!(s.converge_ms, None);
    assert!(s.notes.iter().any(|n| n.contains("never ended")), "{:?}", s.notes);
    assert!(schema_errors(&dir.file("summary.json")).is_empty());
    assert!(dir.file("charts/throughput.png").is_file());
    let latest = std::fs::read_link(tmp.path().join("expand-1-3/latest")).unwrap();
    assert_eq!(latest, PathBuf::from(dir.name()));
}

#[test]
fn data_loss_is_said_loudly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = synthetic_run(tmp.path(), "restart", true, true);
    let s = finish_run(&dir).unwrap();
    assert_eq!(s.checks.data_loss.verdict, Verdict::Fail);
    assert_eq!(s.verdict, Verdict::Fail);
    assert!(schema_errors(&dir.file("summary.json")).is_empty(), "a FAIL summary validates too");
    let console = report::render_console(&s);
    assert!(console.contains("!!! DATA LOSS"), "{console}");
    assert!(console.contains("VERDICT FAIL"), "{console}");
}

#[test]
fn two_acknowledged_sets_sharing_a_version_fail_data_loss() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = synthetic_run(tmp.path(), "reconfig", true, false);
    // A second acknowledged set of the same key, overlapping the last one and returning its
    // version: one of the two was rolled back, though the read-back matches the last.
    let mut evs = zkchaos::record::read_events(&dir.file("events.csv.gz")).unwrap();
    let last = evs.iter().filter(|e| e.kind == OpKind::Set && e.outcome == Outcome::Ok).max_by_key(|e| e.end_us).unwrap().clone();
    evs.push(OpEvent { session: 7, start_us: last.start_us + 10, end_us: last.end_us + 10, token: "7-1".into(), ..last.clone() });
    evs.sort_by_key(|e| e.end_us);
    let mut w = EventWriter::create(&dir.file("events.csv.gz")).unwrap();
    for e in &evs {
        w.write(e).unwrap();
    }
    w.finish().unwrap();
    let s = finish_run(&dir).unwrap();
    let d = &s.checks.data_loss;
    assert_eq!(d.verdict, Verdict::Fail, "{d:?}");
    assert_eq!(d.figures["duplicate_versions"], 1);
    assert_eq!(d.figures["duplicate_sequence_numbers"], 0);
    assert_eq!(d.figures["version_regressions"], 0);
    let line = format!("{} version {}: set by session {}", last.path, last.version, last.session);
    assert!(d.detail.contains("DATA LOSS: 1 acknowledged sets returned a version another acknowledged set"), "{}", d.detail);
    assert!(d.detail.contains(&line), "{}", d.detail);
    assert!(d.detail.contains("and set by session 7 (token 7-1)"), "{}", d.detail);
    assert!(schema_errors(&dir.file("summary.json")).is_empty());
    assert!(report::render_console(&s).contains("!!! DATA LOSS"));
}

#[test]
fn compare_tables_and_charts_per_strategy() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    for strategy in ["reconfig", "reconfig", "restart", "restart"] {
        let d = synthetic_run(&results, strategy, true, false);
        finish_run(&d).unwrap();
        d.set_status("complete").unwrap();
        // Distinct directory names within one second.
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let aborted = synthetic_run(&results, "restart", false, false);
    aborted.set_status("aborted: boom").unwrap();
    let out = tmp.path().join("cmp");
    let outcome = report::compare::compare(&[results.join("expand-1-3")], &out).expect("compare");
    assert_eq!(outcome.runs, 4);
    assert_eq!(outcome.skipped.len(), 1, "{:?}", outcome.skipped);
    assert!(outcome.skipped[0].contains("aborted: boom"));
    let md = std::fs::read_to_string(&outcome.markdown).unwrap();
    assert!(md.contains("| reconfig-expand/together | 2 |"), "{md}");
    assert!(md.contains("restart-expand/new-first"), "{md}");
    assert!(md.contains("outage.png"));
    let html = std::fs::read_to_string(&outcome.html).unwrap();
    assert_eq!(html.matches("<svg").count(), 5);
    assert!(!html.contains("<?xml"));
    for stem in ["outage", "error_rate", "convergence", "latency_cdf", "verdicts"] {
        let png = std::fs::read(out.join(format!("{stem}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{stem}");
    }
    if let Some(keep) = std::env::var_os("ZKCHAOS_REPORT_TEST_OUT") {
        let keep = PathBuf::from(keep).join("compare");
        std::fs::create_dir_all(&keep).unwrap();
        for entry in std::fs::read_dir(&out).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), keep.join(entry.file_name())).unwrap();
        }
    }
    let svg = std::fs::read_to_string(out.join("latency_cdf.svg")).unwrap();
    assert!(svg.contains("Latency by percentile, procedure start → load stop"));
    assert!(svg.contains("99 %") && svg.contains("50 %"), "percentile axis labels");

    // Every figure per repetition, for scripts.
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("comparison.json")).unwrap()).unwrap();
    let strategies = json["strategies"].as_array().unwrap();
    assert_eq!(strategies.len(), 2);
    assert_eq!(strategies[0]["strategy"], "reconfig-expand/together");
    assert_eq!(strategies[0]["repetitions"].as_array().unwrap().len(), 2);
    assert_eq!(strategies[0]["safety_fail"], false);
    let rep = &strategies[0]["repetitions"][0];
    assert!(rep["outage_read_ms"].is_number() && rep["summary"]["ops"]["total"] == 3900, "{rep}");
    assert_eq!(json["skipped"].as_array().unwrap().len(), 1);
    let csv = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(csv.starts_with("strategy,run_id,dir,verdict,data_loss,single_leader,safety_fail,outage_any_ms"), "{csv}");
    // Legible at 800 px: viewport, scrolling table, right-aligned numbers, captions that say something.
    assert!(html.contains("name=\"viewport\"") && html.contains("<div class=\"wrap\">"));
    assert!(html.contains("<td class=\"num\">"), "numbers right-aligned");
    assert!(html.contains("<figcaption>outage.png: Longest gap without a successful read"), "captions");
}

#[test]
fn a_safety_fail_is_marked_on_every_comparison_chart() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    for (strategy, lossy) in [("reconfig", false), ("restart", true)] {
        let d = synthetic_run(&results, strategy, true, lossy);
        finish_run(&d).unwrap();
        d.set_status("complete").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let out = tmp.path().join("cmp");
    report::compare::compare(&[results], &out).expect("compare");
    for stem in ["outage", "error_rate", "convergence", "latency_cdf"] {
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("restart-expand/new-first (safety FAIL)") || svg.contains("safety FAIL"), "{stem}.svg");
    }
    let svg = std::fs::read_to_string(out.join("outage.svg")).unwrap();
    assert!(svg.contains("restart-expand/new-first (safety FAIL)"), "the FAIL is said next to the strategy's name");
    assert!(!svg.contains("reconfig-expand/together (safety FAIL)"));
    assert!(svg.contains("log scale"), "outage bars on a log axis");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("comparison.json")).unwrap()).unwrap();
    assert_eq!(json["strategies"][1]["safety_fail"], true);
}

#[test]
fn every_run_directory_has_report_html_and_openmetrics() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = synthetic_run(tmp.path(), "restart", true, true);
    finish_run(&dir).unwrap();
    let html = std::fs::read_to_string(dir.file("report.html")).unwrap();
    // Verdicts first, in plain words; then figures, charts inline, steps.
    let verdict_at = html.find("DATA LOSS: acknowledged writes are missing.").expect("verdict in words");
    let figures_at = html.find("<h2>Figures</h2>").unwrap();
    assert!(verdict_at < figures_at);
    assert_eq!(html.matches("<svg").count(), 3, "throughput, latency, modes inline");
    let steps = &html[html.find("<h2>Procedure steps</h2>").expect("step table")..];
    assert!(steps.contains("<td class=\"num\">1</td>"), "steps are numbered");
    assert!(html.contains("<a href=\"events.csv.gz\">"), "recorded files linked");
    assert!(html.contains("name=\"viewport\""));

    let om = std::fs::read_to_string(dir.file("metrics.om")).unwrap();
    assert!(om.ends_with("# EOF\n"));
    assert!(om.contains("# TYPE zkchaos_interval_ops gauge"));
    assert!(om.contains("zkchaos_check_pass{run=\"") && om.contains("check=\"data_loss\"} 0 "), "FAIL is 0");
    // Every sample line: name{labels} value timestamp (seconds since the Unix epoch).
    for line in om.lines().filter(|l| !l.starts_with('#')) {
        let (_, rest) = line.split_once("} ").unwrap_or_else(|| panic!("labels: {line}"));
        let parts: Vec<&str> = rest.split(' ').collect();
        assert_eq!(parts.len(), 2, "{line}");
        assert!(parts[0].parse::<f64>().is_ok() && parts[1].parse::<f64>().unwrap() > 1.5e9, "{line}");
    }
    // A family's samples are contiguous (OpenMetrics): each TYPE line appears once.
    let mut types: Vec<&str> = om.lines().filter(|l| l.starts_with("# TYPE")).collect();
    let n = types.len();
    types.dedup();
    assert_eq!(types.len(), n);
    assert!(schema_errors(&dir.file("summary.json")).is_empty());
}

#[test]
fn the_schema_rejects_undeclared_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = synthetic_run(tmp.path(), "reconfig", true, false);
    finish_run(&dir).unwrap();
    assert!(schema_errors(&dir.file("summary.json")).is_empty());
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.file("summary.json")).unwrap()).unwrap();
    v["checks"]["data_loss"]["lost_writs"] = serde_json::json!(0);
    v["ops"]["okay"] = serde_json::json!(1);
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, v.to_string()).unwrap();
    let errors = schema_errors(&bad);
    assert_eq!(errors.len(), 2, "{errors:#?}");
}

#[test]
fn without_recorded_events_the_audit_is_unknown_not_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = synthetic_run(tmp.path(), "reconfig", true, false);
    // A profile with load.events = false: no events.csv.gz, but the read-back is there.
    let mut p: Plan = serde_json::from_slice(&std::fs::read(dir.file("plan.json")).unwrap()).unwrap();
    p.load.events = false;
    dir.write_json("plan.json", &p).unwrap();
    std::fs::remove_file(dir.file("events.csv.gz")).unwrap();
    let s = finish_run(&dir).expect("finish_run");
    assert_eq!(s.checks.data_loss.verdict, Verdict::Unknown, "{:?}", s.checks.data_loss);
    assert!(s.checks.data_loss.detail.contains("load.events = false"), "{}", s.checks.data_loss.detail);
    assert_ne!(s.verdict, Verdict::Pass);
    assert!(schema_errors(&dir.file("summary.json")).is_empty());
}
