//! The audit's read-back of servers that are not running: every member the procedure left down
//! with its data (and every member that could not be read live) is read offline, from a
//! standalone ZooKeeper on a copy of its data volume ([`crate::cluster::offline`]), so the
//! `data_loss` verdict covers every member.
//!
//! What an offline read sees is the server's snapshot and transaction log as it would load them
//! on restart: that includes proposals it logged but may never have seen committed, so an extra
//! write there is not a loss; a missing acknowledged write is. The original volume is only ever
//! mounted read-only; its digest before the copy and after the read is recorded
//! (`original_unchanged`). A server whose offline read fails stays unreadable (UNKNOWN) with the
//! reason. Servers out of the ensemble at the end (a shrink) and wiped ones are not read.

use crate::cluster::Cluster;
use crate::procedure::ProcedureOutcome;
use crate::record::{OfflineRead, ReadVia, ServerReadback, OFFLINE_METHOD};
use crate::workload::{self, readback::ReadbackOptions};
use std::time::{Duration, Instant};

/// How long the standalone copy may take to serve (JVM start and loading the data).
const SERVE_TIMEOUT: Duration = Duration::from_secs(90);

/// The servers to read offline after the live read-back, with why: members left down with
/// their data, then members whose live read failed (ascending ids, each once).
pub fn offline_plan(outcome: &ProcedureOutcome, live: &[ServerReadback]) -> Vec<(u32, String)> {
    let mut plan: Vec<(u32, String)> =
        outcome.offline_ids().into_iter().map(|id| (id, "left down by the procedure".to_string())).collect();
    for rb in live {
        if let Some(e) = &rb.error {
            if !plan.iter().any(|(id, _)| *id == rb.server) {
                plan.push((rb.server, format!("not readable live: {e}")));
            }
        }
    }
    plan.sort_by_key(|(id, _)| *id);
    plan
}

/// Read the servers of [`offline_plan`] offline and put them among `live` (one read-back per
/// server, ascending ids).
pub async fn complete(
    cluster: &Cluster,
    outcome: &ProcedureOutcome,
    live: Vec<ServerReadback>,
    opts: &ReadbackOptions,
) -> Vec<ServerReadback> {
    let plan = offline_plan(outcome, &live);
    let mut all: Vec<ServerReadback> = live.into_iter().filter(|rb| !plan.iter().any(|(id, _)| *id == rb.server)).collect();
    for (id, reason) in plan {
        let down_since = outcome.down_since_us.get(&id).copied().filter(|_| outcome.left_down.contains(&id));
        all.push(read_offline(cluster, id, reason, down_since, opts).await);
    }
    all.sort_by_key(|rb| rb.server);
    all
}

/// One offline read (see the module docs). Never fails: a failure is an unreadable read-back.
async fn read_offline(
    cluster: &Cluster,
    id: u32,
    reason: String,
    down_since_us: Option<u64>,
    opts: &ReadbackOptions,
) -> ServerReadback {
    let started = Instant::now();
    eprintln!("zkchaos: reading zk{id} offline ({OFFLINE_METHOD}; {reason})");
    let token_of = |b: &[u8]| workload::token_of(b).map(str::to_owned);
    let (mut rb, before) = match cluster.start_offline_copy(id, SERVE_TIMEOUT).await {
        Ok(copy) => {
            let rb = workload::readback::read_server(id, copy.addr, opts, &token_of).await;
            if let Err(e) = cluster.remove_offline_copy(&copy).await {
                // The run's teardown removes it by label.
                eprintln!("zkchaos: removing the offline copy of zk{id}: {e}");
            }
            (rb, Some(copy.before))
        }
        Err(e) => (ServerReadback::unreadable(id, format!("offline read of zk{id} ({OFFLINE_METHOD}): {e}")), None),
    };
    let after = match cluster.digest_data_volume(id).await {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("zkchaos: digest of zk{id}'s data volume after the offline read: {e}");
            None
        }
    };
    if let (Some(why), Some(live)) = (&mut rb.error, reason.strip_prefix("not readable live: ")) {
        *why = format!("{why} (and live: {live})");
    }
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let original_unchanged = match (&before, &after) {
        (Some(b), Some(a)) => Some(b == a),
        _ => None,
    };
    eprintln!(
        "zkchaos: zk{id} read offline in {:.1} s: {}; original volume {}",
        elapsed_ms as f64 / 1000.0,
        rb.error.as_deref().unwrap_or("ok"),
        match original_unchanged {
            Some(true) => "unchanged",
            Some(false) => "CHANGED",
            None => "not verified",
        }
    );
    rb.via = Some(ReadVia::Offline);
    rb.offline = Some(OfflineRead {
        server: id,
        method: OFFLINE_METHOD.into(),
        reason,
        original_unchanged,
        original_files: before.as_ref().or(after.as_ref()).map(|d| d.files),
        original_sha256_before: before.map(|d| d.sha256),
        original_sha256_after: after.map(|d| d.sha256),
        elapsed_ms,
        down_since_us,
    });
    rb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_down_members_and_unreadable_ones_are_read_offline_each_once() {
        let outcome = ProcedureOutcome {
            target_ids: vec![1, 2, 3, 4, 5],
            left_down: vec![1, 3, 6],
            wiped: vec![3],
            ..Default::default()
        };
        // zk6 left down but out of the ensemble, zk3 wiped: neither is read.
        assert_eq!(outcome.running_ids(), vec![2, 4, 5]);
        let mut ok = ServerReadback::empty(2);
        ok.via = Some(ReadVia::Live);
        let live = vec![ok, ServerReadback::unreadable(5, "no session within 10s"), ServerReadback::empty(4)];
        let plan = offline_plan(&outcome, &live);
        assert_eq!(
            plan,
            vec![(1, "left down by the procedure".to_string()), (5, "not readable live: no session within 10s".to_string())]
        );
        assert!(offline_plan(&ProcedureOutcome { target_ids: vec![1, 2, 3], ..Default::default() }, &[]).is_empty());
    }
}
