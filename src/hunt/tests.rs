//! The hunt loop and the shrink loop against a fake runner (no Docker): a "run" reads the
//! runbook it was given and FAILs data_loss when the runbook contains a `kill` step.

use super::render::BaseOverrides;
use super::runner::{self, Hunt, HuntConfig, TrialRun, TrialRunner};
use super::shrinker::{self, ShrinkInput};
use crate::check::Verdict;
use crate::record::HuntSeeds;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

struct Fake {
    runs: Vec<PathBuf>,
    /// The seeds each run was handed, for its meta.json.
    seeds: Vec<HuntSeeds>,
    interrupt_after: Option<usize>,
}

impl Fake {
    fn new(interrupt_after: Option<usize>) -> Fake {
        Fake { runs: vec![], seeds: vec![], interrupt_after }
    }
}

impl TrialRunner for Fake {
    async fn run(&mut self, runbook: &Path, _results: &Path, seeds: HuntSeeds) -> TrialRun {
        self.runs.push(runbook.to_path_buf());
        self.seeds.push(seeds);
        if self.interrupt_after.is_some_and(|n| self.runs.len() > n) {
            return TrialRun { interrupted: true, error: Some("interrupted by SIGINT".into()), ..Default::default() };
        }
        let text = std::fs::read_to_string(runbook).unwrap();
        let kill = text.contains("action = \"kill\"");
        let verdicts = BTreeMap::from([
            ("data_loss".to_string(), if kill { Verdict::Fail } else { Verdict::Pass }),
            ("single_leader".to_string(), Verdict::Pass),
        ]);
        TrialRun { verdicts, bound: BTreeMap::from([("L1".to_string(), 2)]), ..Default::default() }
    }
}

const SPACE: &str = "name = \"fake\"\n[cluster]\nimage = \"zkchaos/zookeeper:3.8.0\"\nsize = 3\n[load]\nrate = 100\n[phases]\nwarmup_s = 1\npost_s = 1\n\
[hunt]\nfaults = [2, 3]\n[[hunt.fault]]\naction = \"kill\"\ntargets = [\"leader\"]\nduration_ms = [1000, 2000]\n[[hunt.fault]]\naction = \"pause\"\ntargets = [\"random\"]\nduration_ms = [1000, 2000]\n";

fn cfg(dir: &Path, trials: u32) -> HuntConfig {
    let source = dir.join("space.toml");
    std::fs::write(&source, SPACE).unwrap();
    HuntConfig {
        source,
        trials,
        until_fail: false,
        seed: 7,
        images: vec![],
        out: dir.join("out"),
        dry_run: false,
        overrides: BaseOverrides::default(),
        shrink: true,
        shrink_budget: Duration::from_secs(600),
        replays: 2,
    }
}

fn seeds(runbook: &str) -> HuntSeeds {
    HuntSeeds { source: "space.toml".into(), hunt_seed: 7, trial: 1, trial_seed: 11, load_seed: 5, runbook: runbook.into() }
}

fn read_report(hunt: &Hunt) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(hunt.dir.join("hunt.json")).unwrap()).unwrap()
}

#[tokio::test]
async fn trials_run_every_image_interleaved_and_rates_follow_the_verdicts() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cfg(tmp.path(), 6);
    c.images = vec!["img:a".into(), "img:b".into()];
    let l = runner::load(&c.source).unwrap();
    let mut hunt = Hunt::create(&c, &l, &c.images).unwrap();
    let mut fake = Fake::new(None);
    assert!(!runner::run_trials(&mut hunt, &l, &c, &mut fake).await.unwrap());
    assert_eq!(fake.runs.len(), 12);
    // Trial 2 runs b first: the order rotates.
    assert!(fake.runs[2].ends_with("trial-002-img-b.toml"), "{:?}", fake.runs[2]);
    let r = read_report(&hunt);
    assert_eq!(r["status"], "complete");
    let fails = hunt.report.trials.iter().filter(|t| t.failed()).count() as u64;
    let kills = fake.runs.iter().filter(|p| std::fs::read_to_string(p).unwrap().contains("\"kill\"")).count() as u64;
    assert_eq!(fails, kills);
    assert!(kills > 0 && kills < 12, "the fake space should give both outcomes ({kills} of 12)");
    let a = &r["rates"][0];
    assert_eq!(a["image"], "img:a");
    assert_eq!(a["any"]["trials"], 6);
    assert!(a["any"]["ci95"][1].as_f64().unwrap() > a["any"]["rate"].as_f64().unwrap());
    assert!(std::fs::read_to_string(hunt.dir.join("hunt.md")).unwrap().contains("Clopper-Pearson"));
    // Every run was handed its trial's seeds (for its meta.json), the ones hunt.json records.
    for (rec, (seeds, path)) in hunt.report.trials.iter().zip(fake.seeds.iter().zip(&fake.runs)) {
        let expected = HuntSeeds { source: c.source.display().to_string(), hunt_seed: 7, trial: rec.trial, trial_seed: rec.trial_seed, load_seed: rec.load_seed, runbook: rec.runbook.clone() };
        assert_eq!(seeds, &expected);
        assert!(path.ends_with(&rec.runbook), "{path:?} ran for {}", rec.runbook);
    }
}

#[tokio::test]
async fn an_interrupt_leaves_a_readable_partial_hunt_json() {
    let tmp = tempfile::tempdir().unwrap();
    let c = cfg(tmp.path(), 5);
    let l = runner::load(&c.source).unwrap();
    let mut hunt = Hunt::create(&c, &l, std::slice::from_ref(&l.default_image)).unwrap();
    let mut fake = Fake::new(Some(2));
    assert!(runner::run_trials(&mut hunt, &l, &c, &mut fake).await.unwrap());
    let r = read_report(&hunt);
    assert_eq!(r["status"], "interrupted");
    assert_eq!(r["trials"].as_array().unwrap().len(), 3);
    assert_eq!(r["trials"][2]["outcome"], "ERROR");
}

#[tokio::test]
async fn shrinking_keeps_only_what_makes_it_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let c = cfg(tmp.path(), 1);
    let l = runner::load(&c.source).unwrap();
    let mut hunt = Hunt::create(&c, &l, std::slice::from_ref(&l.default_image)).unwrap();
    let runbook = "name = \"rb\"\n[cluster]\nsize = 3\n[load]\nrate = 100\n[procedure]\nkind = \"steps\"\n\
[[procedure.steps]]\naction = \"sleep\"\nduration_ms = 2000\n[[procedure.steps]]\naction = \"find\"\nrole = \"leader\"\nas = \"L1\"\n\
[[procedure.steps]]\naction = \"kill\"\nservers = [\"L1\"]\n[[procedure.steps]]\naction = \"sleep\"\nduration_ms = 4000\n\
[[procedure.steps]]\naction = \"start\"\nservers = [\"L1\"]\n[[procedure.steps]]\naction = \"pause\"\nservers = [3]\nduration_ms = 1000\n";
    let path = hunt.write_file("schedules/rb.toml", runbook).unwrap();
    let mut fake = Fake::new(None);
    let input = ShrinkInput { runbook: &path, runbook_rel: "schedules/rb.toml".into(), image: "img".into(), bound: BTreeMap::from([("L1".to_string(), 2)]), replays: 2, budget: Duration::from_secs(600), seeds: seeds("schedules/rb.toml") };
    let res = shrinker::shrink_failing(&mut hunt, input, &mut fake).await.unwrap();
    assert_eq!(res.original_steps, 6);
    // Only the kill is needed; the find it needed is replaced by the id it bound.
    assert_eq!(res.smallest_steps, 1, "{:#?}", res.path);
    let smallest = std::fs::read_to_string(hunt.dir.join(&res.smallest)).unwrap();
    let plan = crate::profile::parse(&smallest, "smallest").unwrap();
    assert!(smallest.contains("action = \"kill\"") && smallest.contains("servers = [2]"), "{smallest}");
    assert_eq!(plan.name, "rb");
    assert_eq!(res.stopped, "no smaller candidate fails");
    assert!(res.path.iter().any(|p| p.contains("role \"L1\" replaced by the id it bound, 2")), "{:#?}", res.path);
    assert_eq!(read_report(&hunt)["shrink"]["smallest_steps"], 1);
    for (seeds, path) in fake.seeds.iter().zip(&fake.runs) {
        assert!(seeds.runbook.starts_with("shrink/candidate-") && path.ends_with(&seeds.runbook), "{seeds:?} for {path:?}");
        assert_eq!((seeds.trial, seeds.trial_seed, seeds.load_seed), (1, 11, 5));
    }
}

#[tokio::test]
async fn a_spent_budget_stops_the_shrink_before_any_run() {
    let tmp = tempfile::tempdir().unwrap();
    let c = cfg(tmp.path(), 1);
    let l = runner::load(&c.source).unwrap();
    let mut hunt = Hunt::create(&c, &l, std::slice::from_ref(&l.default_image)).unwrap();
    let (text, _) = runner::trial_runbook(&l, &c, 1, &l.default_image);
    let path = hunt.write_file("schedules/trial-001.toml", &text).unwrap();
    let mut fake = Fake::new(None);
    let input = ShrinkInput { runbook: &path, runbook_rel: "schedules/trial-001.toml".into(), image: "img".into(), bound: BTreeMap::new(), replays: 2, budget: Duration::ZERO, seeds: seeds("schedules/trial-001.toml") };
    let res = shrinker::shrink_failing(&mut hunt, input, &mut fake).await.unwrap();
    assert_eq!((res.stopped.as_str(), fake.runs.len()), ("budget spent", 0));
    assert_eq!(res.smallest_steps, res.original_steps);
}

#[test]
fn every_drawn_runbook_of_the_shipped_spaces_is_a_valid_profile() {
    for name in ["hunt-crash-restart", "hunt-partitions", "hunt-reconfig"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("profiles/{name}.toml"));
        let l = runner::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut c = cfg(tempfile::tempdir().unwrap().path(), 1);
        c.source = path.clone();
        for trial in 1..=100 {
            let (text, _) = runner::trial_runbook(&l, &c, trial, &l.default_image);
            crate::profile::parse(&text, name).unwrap_or_else(|e| panic!("{name} trial {trial}: {e}\n{text}"));
        }
    }
}

/// The runbooks of trials 1–4 (trial indices 0..3) of hunt seed 7 for a shipped space, as one text.
fn shipped_runbooks(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("profiles/{name}.toml"));
    let l = runner::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut c = cfg(tempfile::tempdir().unwrap().path(), 4);
    c.source = PathBuf::from(format!("profiles/{name}.toml"));
    (1..=4).map(|trial| runner::trial_runbook(&l, &c, trial, &l.default_image).0).collect::<Vec<_>>().join("\n----\n")
}

fn sha1_hex(text: &str) -> String {
    use sha1::{Digest, Sha1};
    Sha1::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_shipped_spaces_draw_the_same_runbooks_as_before_reconfig_actions() {
    // SHA-1 of the four runbooks, taken before reconfig actions were added to the fault space: a
    // new action must not move the stream of spaces that do not list it (recorded hunts replay by
    // seed). The fault lines are spelled out so a mismatch shows what moved.
    for (name, faults, hash) in [
        ("hunt-crash-restart", PINNED_CRASH_FAULTS, PINNED_CRASH_SHA1),
        ("hunt-partitions", PINNED_PARTITION_FAULTS, PINNED_PARTITION_SHA1),
    ] {
        let text = shipped_runbooks(name);
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("# fault ") || l.starts_with("# zkchaos hunt: trial")).collect();
        assert_eq!(lines.join("\n"), faults, "{name}");
        assert_eq!(sha1_hex(&text), hash, "{name}:\n{text}");
    }
}

const PINNED_CRASH_FAULTS: &str = concat!(
    "# zkchaos hunt: trial 1 of profiles/hunt-crash-restart.toml (hunt seed 7, trial seed 7191089600892374487, load seed 336092360868398499), image zkchaos/zookeeper:3.8.0.\n",
    "# fault 1: kill leader 3251 ms at +3994 ms\n",
    "# fault 2: restart random {2} at +8193 ms\n",
    "# zkchaos hunt: trial 2 of profiles/hunt-crash-restart.toml (hunt seed 7, trial seed 309689372594955804, load seed 9106362573669986634), image zkchaos/zookeeper:3.8.0.\n",
    "# fault 1: stop leader 5850 ms at +3455 ms\n",
    "# fault 2: restart follower at +11370 ms\n",
    "# fault 3: rolling-restart (ids, gap 888 ms) at +13144 ms\n",
    "# zkchaos hunt: trial 3 of profiles/hunt-crash-restart.toml (hunt seed 7, trial seed 16616101746815609346, load seed 7433965168081729236), image zkchaos/zookeeper:3.8.0.\n",
    "# fault 1: restart leader at +3264 ms\n",
    "# fault 2: kill leader 5055 ms at +3806 ms\n",
    "# fault 3: restart random {2} at +10149 ms\n",
    "# zkchaos hunt: trial 4 of profiles/hunt-crash-restart.toml (hunt seed 7, trial seed 10753165928301472203, load seed 7905718952483381355), image zkchaos/zookeeper:3.8.0.\n",
    "# fault 1: stop random {2} 599 ms at +3158 ms\n",
    "# fault 2: rolling-restart (leader-first, gap 1947 ms) at +6544 ms"
);
const PINNED_CRASH_SHA1: &str = "ecfc636fb1631ea4a148c2bd24e828050e6eaf3d";
const PINNED_PARTITION_FAULTS: &str = concat!(
    "# zkchaos hunt: trial 1 of profiles/hunt-partitions.toml (hunt seed 7, trial seed 7191089600892374487, load seed 336092360868398499), image zkchaos/zookeeper:3.8.0.\n",
    "# fault 1: partition random {3} 7709 ms at +938 ms\n",
    "# fault 2: partition follower 10032 ms at +2458 ms\n",
    "# fault 3: pause leader 2348 ms at +14707 ms\n",
    "# zkchaos hunt: trial 2 of profiles/hunt-partitions.toml (hunt seed 7, trial seed 309689372594955804, load seed 9106362573669986634), image zkchaos/zookeeper:3.8.0.\n",
    "# fault 1: partition leader 1112 ms at +885 ms\n",
    "# fault 2: partition follower 8187 ms at +1662 ms\n",
    "# fault 3: partition leader 10438 ms at +2284 ms\n",
    "# fault 4: partition random {4} 10779 ms at +15246 ms\n",
    "# zkchaos hunt: trial 3 of profiles/hunt-partitions.toml (hunt seed 7, trial seed 16616101746815609346, load seed 7433965168081729236), image zkchaos/zookeeper:3.8.0.\n",
    "# fault 1: pause leader 8181 ms at +2967 ms\n",
    "# fault 2: partition follower 3764 ms at +3593 ms\n",
    "# fault 3: partition leader 4502 ms at +13374 ms\n",
    "# fault 4: partition leader 6312 ms at +14783 ms\n",
    "# zkchaos hunt: trial 4 of profiles/hunt-partitions.toml (hunt seed 7, trial seed 10753165928301472203, load seed 7905718952483381355), image zkchaos/zookeeper:3.8.0.\n",
    "# fault 1: pause random {2} 2906 ms at +2416 ms\n",
    "# fault 2: partition leader 9365 ms at +3166 ms\n",
    "# fault 3: partition leader 11550 ms at +5619 ms"
);
const PINNED_PARTITION_SHA1: &str = "f91015883aa619e938fe16f4f790bbaa7b3ecb4f";
