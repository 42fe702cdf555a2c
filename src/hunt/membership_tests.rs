//! Drawn runbooks with reconfig actions, run through the real step interpreter
//! ([`crate::procedure::run_procedure`]) on the in-memory [`FakeBackend`] (time paused): each must
//! be a valid profile and must end with the membership it started with — every original server a
//! voting member and serving, every spare out of the ensemble and stopped, the ensemble converged.

use super::runner::{self, HuntConfig, Loaded};
use crate::cluster::fake::FakeBackend;
use crate::cluster::{Backend, ZooCfg};
use crate::procedure::{self, MarkSink, ProcedureCtx};
use crate::record::{Epoch, Mark, ServerMode};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

struct NoMarks;

impl MarkSink for NoMarks {
    fn mark(&self, _mark: Mark) {}
}

/// Five servers, two spares, overlapping faults: every target of reconfig-remove, both reconfig
/// actions beside partitions and kills.
const FIVE: &str = "name = \"r5\"\n[cluster]\nsize = 5\ndynamic_config = true\n[load]\nrate = 100\n\
[hunt]\nfaults = [2, 5]\ngap_ms = [0, 3000]\noverlap = true\nspares = 2\n\
[[hunt.fault]]\naction = \"reconfig-remove\"\ntargets = [\"leader\", \"follower\", \"random\", \"minority\", \"majority\"]\nduration_ms = [500, 5000]\nweight = 2\n\
[[hunt.fault]]\naction = \"reconfig-add\"\nduration_ms = [500, 5000]\n\
[[hunt.fault]]\naction = \"partition\"\ntargets = [\"leader\", \"random\", \"minority\"]\nduration_ms = [500, 5000]\n\
[[hunt.fault]]\naction = \"kill\"\ntargets = [\"follower\", \"random\"]\nduration_ms = [500, 5000]\n";

fn config(source: PathBuf) -> HuntConfig {
    HuntConfig {
        source,
        trials: 100,
        until_fail: false,
        seed: 26,
        images: vec![],
        out: PathBuf::from("unused"),
        dry_run: true,
        overrides: Default::default(),
        shrink: false,
        shrink_budget: Duration::ZERO,
        replays: 1,
    }
}

/// Run one runbook's procedure on a fresh fake ensemble and check where it ends.
async fn ends_with_the_starting_membership(text: &str, l: &Loaded, what: &str) {
    let plan = crate::profile::parse(text, what).unwrap_or_else(|e| panic!("{what}: not a valid profile: {e}\n{text}"));
    let initial: Vec<u32> = (1..=l.size).collect();
    let mut fake = FakeBackend::new();
    for &id in &initial {
        fake.start_server(id, &ZooCfg::dynamic(id, &initial, &plan.cluster)).await.unwrap();
    }
    let (tx, _rx) = tokio::sync::watch::channel(Vec::new());
    let mut ctx = ProcedureCtx { cluster: &mut fake, plan: &plan, marks: &NoMarks, epoch: Epoch::now(), super_password: None, servers: &tx };
    let out = procedure::run_procedure(&mut ctx).await.unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
    assert_eq!(out.target_ids, initial, "{what}: the runbook ends with another membership\n{text}");
    assert!(out.running_ids() == initial, "{what}: members left down: {:?}\n{text}", out.left_down);
    for &id in &initial {
        let view = fake.membership_view(id).await.unwrap();
        assert_eq!(view.voting, initial.iter().copied().collect::<BTreeSet<u32>>(), "{what}: zk{id}'s view\n{text}");
        let mode = fake.srvr(id).await.unwrap().mode;
        assert!(matches!(mode, ServerMode::Leader | ServerMode::Follower), "{what}: zk{id} is {mode:?}\n{text}");
    }
    for spare in fake.server_ids().into_iter().filter(|id| !initial.contains(id)) {
        assert!(fake.srvr(spare).await.is_err(), "{what}: spare zk{spare} still runs\n{text}");
    }
    let converged = procedure::wait_converged(&fake, &out.target_ids, &out.left_down, Epoch::now(), Duration::from_secs(10), 3).await;
    assert!(converged.is_ok(), "{what}: {converged:?}\n{text}");
}

/// 100 drawn runbooks of a space: each valid and ending with its starting membership. Returns
/// how many removed and how many added a server, so the test cannot pass on schedules without
/// reconfig.
async fn hundred(source: PathBuf) -> (usize, usize) {
    let l = runner::load(&source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    let c = config(source);
    let (mut removes, mut adds) = (0, 0);
    for trial in 1..=100 {
        let (text, schedule) = runner::trial_runbook(&l, &c, trial, &l.default_image);
        removes += usize::from(text.contains("reconfig-remove "));
        adds += usize::from(text.contains("reconfig-add spare "));
        assert!(schedule.faults.iter().all(|f| f.ids.iter().all(|&id| id <= l.size + l.space.as_ref().unwrap().spares)));
        ends_with_the_starting_membership(&text, &l, &format!("{} trial {trial}", c.source.display())).await;
    }
    (removes, adds)
}

#[tokio::test(start_paused = true)]
async fn drawn_reconfig_runbooks_of_the_shipped_space_end_with_the_starting_membership() {
    let (removes, adds) = hundred(Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/hunt-reconfig.toml")).await;
    assert!(removes > 30 && adds > 10, "{removes} removes, {adds} adds in 100 schedules");
}

#[tokio::test(start_paused = true)]
async fn drawn_reconfig_runbooks_of_five_servers_with_overlap_end_with_the_starting_membership() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("r5.toml");
    std::fs::write(&source, FIVE).unwrap();
    let (removes, adds) = hundred(source).await;
    assert!(removes > 30 && adds > 10, "{removes} removes, {adds} adds in 100 schedules");
}

#[test]
fn a_reconfig_space_on_a_static_ensemble_is_refused_naming_the_field_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("static.toml");
    std::fs::write(&source, FIVE.replace("dynamic_config = true", "dynamic_config = false")).unwrap();
    let e = runner::load(&source).err().expect("a static ensemble cannot reconfigure").to_string();
    assert!(e.contains("cluster.dynamic_config = false") && e.contains("hunt.fault[0]") && e.contains("set cluster.dynamic_config = true"), "{e}");
    std::fs::write(&source, FIVE.replace("spares = 2", "spares = 5")).unwrap();
    let e = runner::load(&source).err().expect("ids run to 9").to_string();
    assert!(e.contains("hunt.spares = 5") && e.contains("at most 4 spares"), "{e}");
}
