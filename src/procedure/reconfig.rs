//! Reconfig-based expansion (ZooKeeper 3.5+ dynamic configuration).
//!
//! Servers run with `reconfigEnabled=true`, `standaloneEnabled=false` and a dynamic file, so even
//! a single server can grow. For each joiner: read the *committed* configuration from
//! `/zookeeper/config`, start the joiner with those member lines plus its own, wait until it has
//! synced as a (non-voting) follower, then `reconfig -add` it through an administrative session
//! authenticated as `super` (or on servers running with `skipACL=yes`). `together` adds all
//! joiners in one reconfig; `one-by-one` does one per joiner, re-reading the committed config each
//! time (a joiner lists at most one new participant besides the committed set). A failed reconfig
//! (`ReconfigInProgress`, `NewConfigNoQuorum`, a timeout, ...) is retried with exponential backoff;
//! every attempt is its own mark carrying the error. After the last reconfig one quorum write is
//! issued, because committed is not yet active (ZOOKEEPER.md).

use crate::cluster::{AdminSession, Backend};
use super::{ProcedureCtx, ProcedureError, ProcedureOutcome, ServerAction};
use crate::cluster::config::{dynamic_line, line_id, ZooCfg};
use crate::plan::ReconfigStep;
use crate::record::{labels, ServerMode};
use std::time::Duration;

/// The administrative session used for `getConfig` and `reconfig`.
async fn connect_admin<B: Backend>(ctx: &ProcedureCtx<'_, B>, ids: &[u32]) -> Result<B::Admin, ProcedureError> {
    let timeout = Duration::from_millis(u64::from(ctx.plan.load.session_timeout_ms));
    ctx.cluster
        .open_admin(ids, timeout, ctx.super_password.as_deref())
        .await
        .map_err(|detail| ProcedureError::Step { step: "connect admin session".into(), detail })
}

/// Member lines (`server.N=...`) of the committed configuration, and its version line.
async fn committed_config(admin: &impl AdminSession) -> Result<(Vec<String>, String), ProcedureError> {
    let text = admin
        .committed_config()
        .await
        .map_err(|detail| ProcedureError::Step { step: "read /zookeeper/config".into(), detail })?;
    Ok(parse_config(&text))
}

/// Split `/zookeeper/config` contents into member lines and the version.
pub fn parse_config(text: &str) -> (Vec<String>, String) {
    let members = text.lines().map(str::trim).filter(|l| line_id(l).is_some()).map(String::from).collect();
    let version = text.lines().find_map(|l| l.trim().strip_prefix("version=")).unwrap_or("").to_string();
    (members, version)
}

/// Start `id` as a joiner of the committed configuration, then wait until it follows.
async fn start_joiner<B: Backend>(ctx: &mut ProcedureCtx<'_, B>, id: u32, committed: &[String]) -> Result<(), ProcedureError> {
    // skipACL, when the plan asks for it, is applied by the cluster to every server it starts.
    let cfg = ZooCfg::joiner(id, committed, &ctx.plan.cluster);
    ctx.server_step(ServerAction::Start, id, &cfg).await?;
    // A joiner that is not yet in the configuration syncs with the leader as a non-voting
    // follower; only then may it be added (adding an unsynced server can lose quorum).
    ctx.wait_step(id, &[ServerMode::Follower, ServerMode::Observer], "following").await?;
    Ok(())
}

/// `reconfig -add` the given servers, retrying with backoff; each attempt is a marked step.
async fn reconfig_add<B: Backend>(
    ctx: &ProcedureCtx<'_, B>,
    admin: &B::Admin,
    ids: &[u32],
    max_attempts: u32,
) -> Result<u32, ProcedureError> {
    let lines: Vec<String> = ids.iter().map(|&id| dynamic_line(id)).collect();
    let what = format!("add {}", ids.iter().map(u32::to_string).collect::<Vec<_>>().join(","));
    let mut backoff = Duration::from_millis(250);
    let mut last_error = String::new();
    for attempt in 1..=max_attempts.max(1) {
        let label = format!("reconfig {what} attempt {attempt}");
        match ctx.step(&label, admin.add_members(&lines)).await {
            Ok(_) => return Ok(attempt),
            Err(e) => last_error = e,
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
    Err(ProcedureError::Reconfig { what, attempts: max_attempts.max(1), last_error })
}

pub async fn reconfig_expand<B: Backend>(
    ctx: &mut ProcedureCtx<'_, B>,
    from: u32,
    to: u32,
    step: ReconfigStep,
    max_attempts: u32,
) -> Result<ProcedureOutcome, ProcedureError> {
    let old: Vec<u32> = (1..=from).collect();
    let new: Vec<u32> = (from + 1..=to).collect();
    let admin = connect_admin(ctx, &old).await?;
    let mut notes = vec![format!("step {}", step.as_str())];
    let mut attempts = 0;
    match step {
        ReconfigStep::Together => {
            let (committed, version) = committed_config(&admin).await?;
            ctx.point(labels::COMMITTED_CONFIG, Some(format!("version {version}: {}", committed.join(" "))));
            for &id in &new {
                start_joiner(ctx, id, &committed).await?;
            }
            attempts += reconfig_add(ctx, &admin, &new, max_attempts).await?;
        }
        ReconfigStep::OneByOne => {
            for &id in &new {
                let (committed, version) = committed_config(&admin).await?;
                ctx.point(labels::COMMITTED_CONFIG, Some(format!("version {version}: {}", committed.join(" "))));
                start_joiner(ctx, id, &committed).await?;
                attempts += reconfig_add(ctx, &admin, &[id], max_attempts).await?;
            }
        }
    }
    notes.push(format!("{attempts} reconfig attempt(s)"));
    // Committed is not active until a quorum write goes through the new configuration.
    ctx.step("quorum write", admin.quorum_write())
    .await
    .map_err(|detail| ProcedureError::Step { step: "quorum write".into(), detail })?;
    let (committed, version) = committed_config(&admin).await?;
    ctx.point(labels::COMMITTED_CONFIG, Some(format!("version {version}: {}", committed.join(" "))));
    Ok(ProcedureOutcome { target_ids: (1..=to).collect(), notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zookeeper_config_node() {
        let text = "server.1=zk1:2888:3888:participant;0.0.0.0:2181\nserver.2=zk2:2888:3888:participant;0.0.0.0:2181\nversion=100000003";
        let (members, version) = parse_config(text);
        assert_eq!(members.len(), 2);
        assert_eq!(line_id(&members[1]), Some(2));
        assert_eq!(version, "100000003");
    }
}
