//! `zkchaos hunt` without Docker: `--dry-run` writes the schedules only, so the contract "the same
//! seed gives byte-identical runbooks" and "every written runbook is a valid profile" is checked
//! on the real binary; bad input gets exit 2 naming the field.

mod common;

use common::{profile, text, zkchaos};
use std::path::{Path, PathBuf};

/// The single hunt directory under `<out>/hunt/<name>/`.
fn hunt_dir(out: &Path, name: &str) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out.join("hunt").join(name)).expect("hunt dir").filter_map(|e| e.ok()).map(|e| e.path()).collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().unwrap()
}

fn schedules(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join("schedules"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    v.sort();
    v
}

fn dry_run(out: &Path, seed: &str) -> PathBuf {
    let space = profile("hunt-crash-restart.toml");
    let o = zkchaos(&["hunt", space.to_str().unwrap(), "--trials", "3", "--seed", seed, "--dry-run", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    hunt_dir(out, "hunt-crash-restart")
}

#[test]
fn the_same_seed_writes_byte_identical_runbooks_and_each_is_a_valid_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let a = dry_run(&tmp.path().join("a"), "7");
    let b = dry_run(&tmp.path().join("b"), "7");
    let c = dry_run(&tmp.path().join("c"), "8");
    let (sa, sb, sc) = (schedules(&a), schedules(&b), schedules(&c));
    let names: Vec<&str> = sa.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["trial-001.toml", "trial-002.toml", "trial-003.toml"]);
    assert_eq!(sa, sb, "seed 7 twice gave different runbooks");
    assert_ne!(sa, sc, "seeds 7 and 8 gave the same runbooks");
    for (name, bytes) in &sa {
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("# zkchaos hunt: trial "), "{name}: {text}");
        assert!(text.contains("hunt seed 7, trial seed "), "{name}");
        let p = zkchaos::profile::load(&a.join("schedules").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.plan.cluster.image, "zkchaos/zookeeper:3.8.0");
        assert!(p.plan.seed.is_some(), "{name}: no load seed");
    }
    let report = common::json(&a.join("hunt.json"));
    assert_eq!(report["status"], "dry-run");
    assert_eq!(report["hunt_seed"], 7);
    assert_eq!(report["rates"][0]["any"]["ci95"], serde_json::json!([0.0, 1.0]), "no trials: the interval is everything");
}

#[test]
fn several_images_get_one_runbook_each_per_trial() {
    let tmp = tempfile::tempdir().unwrap();
    let space = profile("hunt-partitions.toml");
    let out = tmp.path().join("o");
    let o = zkchaos(&["hunt", space.to_str().unwrap(), "--trials", "2", "--seed", "1", "--images", "zkchaos/zookeeper:3.8.0,zkchaos/zookeeper:3.9.3", "--dry-run", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = schedules(&hunt_dir(&out, "hunt-partitions"));
    let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["trial-001-zookeeper-3.8.0.toml", "trial-001-zookeeper-3.9.3.toml", "trial-002-zookeeper-3.8.0.toml", "trial-002-zookeeper-3.9.3.toml"]);
    // The same schedule on both images: only the image line and the header differ.
    let strip = |b: &[u8]| String::from_utf8_lossy(b).lines().filter(|l| !l.contains("3.8.0") && !l.contains("3.9.3")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&s[0].1), strip(&s[1].1));
}

#[test]
fn bad_input_exits_2_naming_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let space = tmp.path().join("bad.toml");
    std::fs::write(&space, "name = \"bad\"\n[cluster]\nsize = 3\n[hunt]\n[[hunt.fault]]\naction = \"explode\"\ntargets = [\"leader\"]\nduration_ms = [1, 2]\n").unwrap();
    let o = zkchaos(&["hunt", space.to_str().unwrap(), "--dry-run", "--out", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("hunt.fault[0].action") && text(&o).contains("valid: kill"), "{}", text(&o));
    let o = zkchaos(&["hunt", profile("hunt-crash-restart.toml").to_str().unwrap(), "--trials", "0", "--dry-run"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--trials 0"), "{}", text(&o));
}

#[test]
fn a_reconfig_space_writes_runbooks_that_reconfigure_and_needs_a_dynamic_ensemble() {
    let tmp = tempfile::tempdir().unwrap();
    let space = profile("hunt-reconfig.toml");
    let out = tmp.path().join("o");
    let o = zkchaos(&["hunt", space.to_str().unwrap(), "--trials", "6", "--seed", "1", "--dry-run", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = schedules(&hunt_dir(&out, "hunt-reconfig"));
    assert_eq!(s.len(), 6);
    let texts: Vec<String> = s.iter().map(|(_, b)| String::from_utf8(b.clone()).unwrap()).collect();
    // Seed 1 draws both membership actions among its six schedules (trial 2 removes a follower,
    // trial 3 a drawn id, trial 4 adds the spare zk4 three times).
    assert!(texts[1].contains("# fault 1: reconfig-remove follower "), "{}", texts[1]);
    assert!(texts[3].contains("# fault 1: reconfig-add spare {4} "), "{}", texts[3]);
    for (name, _) in &s {
        let p = zkchaos::profile::load(&hunt_dir(&out, "hunt-reconfig").join("schedules").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(p.plan.cluster.dynamic_config, "{name}");
    }
    let statik = tmp.path().join("static.toml");
    std::fs::write(&statik, std::fs::read_to_string(&space).unwrap().replace("dynamic_config = true", "dynamic_config = false")).unwrap();
    let o = zkchaos(&["hunt", statik.to_str().unwrap(), "--dry-run", "--out", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("`cluster.dynamic_config = false` cannot run hunt.fault[0] (action \"reconfig-remove\")") && text(&o).contains("set cluster.dynamic_config = true"), "{}", text(&o));
}
