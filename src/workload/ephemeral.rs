//! The ephemeral-node operations: `ephemeral` and `ephemeral-abandon`.
//!
//! Each runs in a short-lived session of its own (not one of the load's sessions, whose lives
//! are the run's): connect to the current connect string, create the ephemeral znode
//! `/zkchaos/eph/<token>` holding [`payload`]`(token)`, then
//!
//! - `ephemeral`: close the session and wait for the server's answer. A second row of kind
//!   `close` records it: `ok` = the close was acknowledged (the session is gone, and with it the
//!   node, on every server that has applied the close), `indeterminate` = no answer within the
//!   operation timeout, or the connection dropped meanwhile (the client library then also ends
//!   in `Closed` when reconnecting fails for good, answered or not), `fail`/`SessionExpired` = the session had expired first (the server
//!   ended it too).
//! - `ephemeral-abandon`: drop the session without a close (the client is `detached`), so the
//!   server expires it after its negotiated timeout; the create row's `end_us` is when it was
//!   abandoned.
//!
//! Both rows carry the path (on every outcome: the token names the node) and, in `version`, the
//! session's negotiated timeout in ms (-1 when no session was established): the
//! [`ephemerals`](crate::check::ephemerals) check derives from it by when an unclosed session
//! must have expired. Each step (connect, create, close) is bounded by `op_timeout`; a connect
//! that fails makes a `fail`/`NotConnected` create row and no close row.

use super::ops::{classify, Failure};
use super::{connector, eph_path, payload};
use crate::plan::LoadPlan;
use crate::record::{Epoch, ErrorClass, OpEvent, OpKind, Outcome};
use std::time::Duration;
use zookeeper_client as zk;

/// One `ephemeral` or `ephemeral-abandon` operation; returns its rows (create, then close).
pub(crate) async fn run(
    plan: &LoadPlan,
    connect: &str,
    epoch: Epoch,
    kind: OpKind,
    session: u32,
    token: &str,
    intended_us: u64,
) -> Vec<OpEvent> {
    let op_timeout = Duration::from_millis(u64::from(plan.op_timeout_ms));
    let path = eph_path(token);
    let row = |kind, intended_us, start_us, outcome, error, version| OpEvent {
        intended_us,
        start_us,
        end_us: epoch.now_us(),
        kind,
        session,
        path: path.clone(),
        outcome,
        error,
        token: token.to_string(),
        version,
    };
    let start_us = epoch.now_us();
    let mut c = connector(plan);
    if kind == OpKind::EphemeralAbandon {
        c = c.with_detached();
    }
    let client = match tokio::time::timeout(op_timeout, c.connect(connect)).await {
        Ok(Ok(client)) => client,
        Ok(Err(_)) | Err(_) => {
            return vec![row(kind, intended_us, start_us, Outcome::Fail, Some(ErrorClass::NotConnected), -1)];
        }
    };
    let timeout_ms = client.session_timeout().as_millis() as i64;
    let opts = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
    let data = payload(token, plan.value_size as usize);
    let created = match tokio::time::timeout(op_timeout, client.create(&path, &data, &opts)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Failure::Zk(e)),
        Err(_) => Err(Failure::Elapsed),
    };
    let (outcome, error) = match &created {
        Ok(()) => (Outcome::Ok, None),
        Err(f) => {
            let (o, c) = classify(kind, f);
            (o, Some(c))
        }
    };
    let mut watcher = client.state_watcher();
    // The last handle: dropping it closes the session, or, detached, just lets it go.
    drop(client);
    let create = row(kind, intended_us, start_us, outcome, error, timeout_ms);
    if kind == OpKind::EphemeralAbandon {
        return vec![create];
    }
    let close_start = epoch.now_us();
    let mut disconnected = false;
    let ended = tokio::time::timeout(op_timeout, async {
        loop {
            let state = watcher.peek_state();
            if state.is_terminated() {
                return state;
            }
            disconnected |= state == zk::SessionState::Disconnected;
            watcher.changed().await;
        }
    })
    .await;
    let (outcome, error) = match ended {
        // The client also ends `Closed` when a reconnect fails for good: only a close that ran
        // on one connection from start to end is known to have been answered.
        Ok(zk::SessionState::Closed) if disconnected => (Outcome::Indeterminate, Some(ErrorClass::ConnectionLoss)),
        Ok(zk::SessionState::Closed) => (Outcome::Ok, None),
        Ok(zk::SessionState::Expired) => (Outcome::Fail, Some(ErrorClass::SessionExpired)),
        Ok(_) => (Outcome::Fail, Some(ErrorClass::Other)),
        Err(_) => (Outcome::Indeterminate, Some(ErrorClass::Timeout)),
    };
    vec![create, row(OpKind::Close, close_start, close_start, outcome, error, timeout_ms)]
}
