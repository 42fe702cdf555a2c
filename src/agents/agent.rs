//! The agent side: `zkchaos agent --spec <json>` (hidden), run in a load agent's container.
//! It prepares its share of the load exactly as `zkchaos load` does, says `ready`, waits for the
//! common start, drives its schedule with zkchaos's own driver and streams every batch of
//! events and every mark to stdout ([`super::protocol`]) until its schedule ends or it is told to
//! stop (or its stdin closes: the control process is gone, so nothing would receive the events).

use super::protocol::{self, AgentSpec, FromAgent, ToAgent};
use crate::record::recorder::Msg;
use crate::record::{Epoch, RecorderHandle};
use crate::workload::{Schedule, Workload};
use std::io::Write;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn failed(what: &str, e: impl std::fmt::Display) -> crate::Error {
    crate::Error::failed(format!("load agent: {what}: {e}"))
}

/// Write one line and flush it (the control process reads progress from these).
fn send(out: &mut impl Write, msg: &FromAgent) -> crate::Result<()> {
    out.write_all(protocol::line(msg).as_bytes()).and_then(|()| out.flush()).map_err(|e| failed("write to stdout", e))
}

/// The lines of this process's stdin, read on a thread of their own (the channel closes at the
/// end of input or on a read error).
pub fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(l) = line else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// Run one agent: `lines` are the control process's lines, `out` the agent's stdout.
pub async fn run_agent(spec: AgentSpec, mut lines: mpsc::UnboundedReceiver<String>, out: &mut (impl Write + Send)) -> crate::Result<()> {
    let epoch = Epoch::now();
    let epoch_unix_us = protocol::epoch_unix_us(&epoch);
    let workload = match Workload::prepare(&spec.plan, &spec.connect, spec.seed, epoch).await {
        Ok(w) => w.with_session_base(spec.session_base),
        Err(e) => {
            send(out, &FromAgent::Failed(e.to_string()))?;
            return Err(e.into());
        }
    };
    send(out, &FromAgent::Ready { epoch_unix_us, prepared_us: workload.prepared_us() })?;
    let start = match lines.recv().await {
        Some(l) => protocol::parse::<ToAgent>(&l).map_err(|e| failed("the start line", e))?,
        None => return Err(failed("stdin", "closed before the start line")),
    };
    let ToAgent::Start { start_unix_us, duration_us } = start else {
        send(out, &FromAgent::Done(idle_report()))?;
        return Ok(());
    };
    // Never before preparing ended, whatever the control process's clock says.
    let start_us = u64::try_from(start_unix_us - epoch_unix_us).unwrap_or(0).max(workload.prepared_us());
    let schedule = Schedule::from_plan(&spec.plan, start_us, duration_us.map(std::time::Duration::from_micros));
    let cancel = CancellationToken::new();
    let on_stop = cancel.clone();
    let stdin = tokio::spawn(async move {
        // `stop`, end of input or a broken stdin all stop the load.
        while let Some(l) = lines.recv().await {
            if protocol::parse::<ToAgent>(&l) == Ok(ToAgent::Stop) {
                break;
            }
        }
        on_stop.cancel();
    });
    let (rec, mut rx) = RecorderHandle::forwarding(epoch);
    let run = workload.run_schedule(schedule, rec, cancel.clone());
    tokio::pin!(run);
    let report = loop {
        tokio::select! {
            r = &mut run => break r,
            Some(msg) = rx.recv() => forward(out, msg)?,
        }
    };
    while let Ok(msg) = rx.try_recv() {
        forward(out, msg)?;
    }
    stdin.abort();
    match report {
        Ok(r) => send(out, &FromAgent::Done(r)),
        Err(e) => {
            send(out, &FromAgent::Failed(e.to_string()))?;
            Err(e.into())
        }
    }
}

fn forward(out: &mut impl Write, msg: Msg) -> crate::Result<()> {
    match msg {
        Msg::Ops(events) => send(out, &FromAgent::Events(events)),
        Msg::Mark(m) => send(out, &FromAgent::Mark(m)),
        Msg::Cmd(_) => Ok(()),
    }
}

/// The report of an agent told to stop before it started.
fn idle_report() -> crate::workload::WorkloadReport {
    crate::workload::WorkloadReport { issued: 0, session_expiries: 0, start_us: 0, stop_us: 0, cancelled: true, threads: Vec::new() }
}
