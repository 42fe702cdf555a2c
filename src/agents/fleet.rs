//! The control side: start `count` agent containers (image `load.agents.image`, host
//! networking, labelled like every object of the run) on their engines, wait until each has
//! prepared, send all of them one common intended start, and forward every event and mark they
//! stream to the run's recorder (times shifted onto the run's epoch) while tallying each agent
//! ([`super::accounts`]). [`Fleet::stop`] tells them to stop, waits for each one's `done`, and
//! removes the containers; an agent whose stream ended without `done` is reported lost (with a
//! `agent-lost a<i>` mark at the moment it was noticed), never silently counted short.

use super::accounts::{account, AccountsBuilder, AgentStatus, Placement, Tally};
use super::protocol::{self, AgentSpec, FromAgent, ToAgent};
use crate::cluster::engine::Engine;
use crate::cluster::names;
use crate::plan::LoadPlan;
use crate::record::{Epoch, Mark, MarkKind, RecorderHandle};
use crate::workload::WorkloadReport;
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{AttachContainerOptionsBuilder, CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder};
use bollard::Docker;
use futures_util::StreamExt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::task::JoinHandle;

/// How long an agent may take to start and prepare (connect, populate the key space).
pub const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// Time from the last agent's `ready` to the common intended start (the start line must reach
/// every agent before it).
pub const START_LEAD: Duration = Duration::from_millis(300);

type Output = Pin<Box<dyn futures_util::Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;
type Input = Pin<Box<dyn AsyncWrite + Send>>;

/// What a run with agents needs to start them.
pub struct FleetConfig<'a> {
    pub plan: &'a LoadPlan,
    pub run_id: &'a str,
    pub profile: &'a str,
    pub connect: &'a str,
    pub seed: u64,
    pub epoch: Epoch,
    /// The run's engines (agent `i` on the one `load.agents.engines[i mod len]` names; the first
    /// when none is named).
    pub engines: &'a [Engine],
    /// None: until [`Fleet::stop`].
    pub duration: Option<Duration>,
}

/// The lines of one agent's stdout, reassembled from the attach stream's chunks.
struct Lines {
    output: Output,
    buf: Vec<u8>,
}

impl Lines {
    /// The next whole line; `Err` with what ended the stream.
    async fn next(&mut self) -> Result<String, String> {
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            match self.output.next().await {
                Some(Ok(LogOutput::StdOut { message })) => self.buf.extend_from_slice(&message),
                Some(Ok(LogOutput::StdErr { message })) => tracing::debug!("agent: {}", String::from_utf8_lossy(&message).trim_end()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("the engine's attach stream failed: {e}")),
                None => return Err("the engine's attach stream ended".into()),
            }
        }
    }
}

struct Started {
    placement: Placement,
    docker: Docker,
    input: Input,
    lines: Lines,
}

/// Running agents.
pub struct Fleet {
    agents: Vec<(Placement, Docker, Input, Arc<Mutex<Tally>>, JoinHandle<Ended>)>,
    epoch: Epoch,
    /// The common intended start, µs since the run's epoch.
    pub start_us: u64,
}

/// What one agent's reader saw (its tally is shared: kept even when the reader is abandoned).
struct Ended {
    report: Option<WorkloadReport>,
    /// When and why the stream ended without `done`.
    lost: Option<(u64, String)>,
}

fn container_name(run: &str, index: u32) -> String {
    format!("zkchaos-{run}-agent{index}")
}

fn engine_for<'a>(cfg: &FleetConfig<'a>, index: u32) -> crate::Result<&'a Engine> {
    let names = &cfg.plan.agents.engines;
    let pick = if names.is_empty() { cfg.engines.first() } else {
        let want = &names[index as usize % names.len()];
        cfg.engines.iter().find(|e| &e.name == want)
    };
    pick.ok_or_else(|| crate::Error::bad_input(format!("load.agents.engines: agent {index}'s engine is not one of the run's engines")))
}

/// Create, attach and start agent `index`.
async fn start_one(cfg: &FleetConfig<'_>, index: u32) -> crate::Result<Started> {
    let count = cfg.plan.agents.count;
    let engine = engine_for(cfg, index)?;
    let plan = super::share(cfg.plan, count, index);
    let spec = AgentSpec { index, connect: cfg.connect.to_string(), plan: plan.clone(), seed: super::agent_seed(cfg.seed, index), session_base: super::session_base(index) };
    let spec_json = serde_json::to_string(&spec).map_err(|e| crate::Error::failed(format!("encode agent {index}'s spec: {e}")))?;
    let name = container_name(cfg.run_id, index);
    let mut labels = names::run_labels(cfg.run_id, cfg.profile);
    labels.insert(names::LABEL_ROLE.into(), "agent".into());
    let body = ContainerCreateBody {
        image: Some(cfg.plan.agents.image.clone()),
        cmd: Some(vec!["agent".into(), "--spec".into(), spec_json]),
        labels: Some(labels),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        open_stdin: Some(true),
        stdin_once: Some(false),
        tty: Some(false),
        host_config: Some(HostConfig { network_mode: Some("host".into()), init: Some(true), ..Default::default() }),
        ..Default::default()
    };
    let fail = |what: &str, e: bollard::errors::Error| crate::Error::failed(format!("load agent {index}: {what} container {name} on engine {}: {e}", engine.name));
    engine.docker.create_container(Some(CreateContainerOptionsBuilder::new().name(&name).build()), body).await.map_err(|e| fail("create", e))?;
    // The attach stream lives as long as the run: no per-call timeout on it.
    let streaming = engine.docker.clone().with_timeout(Duration::from_secs(7 * 24 * 3600));
    let attach = AttachContainerOptionsBuilder::default().stdin(true).stdout(true).stderr(true).stream(true).logs(true).build();
    let placement = Placement { index, engine: engine.name.clone(), container: name.clone(), rate: plan.rate, sessions: plan.sessions };
    let started = async {
        let a = streaming.attach_container(&name, Some(attach)).await.map_err(|e| fail("attach to", e))?;
        engine.docker.start_container(&name, None).await.map_err(|e| fail("start", e))?;
        Ok::<_, crate::Error>(a)
    }
    .await;
    match started {
        Ok(a) => Ok(Started { placement, docker: engine.docker.clone(), input: a.input, lines: Lines { output: a.output, buf: Vec::new() } }),
        Err(e) => {
            remove(&engine.docker, &name).await;
            Err(e)
        }
    }
}

async fn remove(docker: &Docker, name: &str) {
    if let Err(e) = docker.remove_container(name, Some(RemoveContainerOptionsBuilder::default().force(true).build())).await {
        eprintln!("zkchaos: could not remove load agent container {name}: {e} (zkchaos clean removes it)");
    }
}

/// Wait for `ready`; the agent's epoch offset from the run's (µs) and when it finished preparing (Unix µs).
async fn ready(s: &mut Started, control_unix_us: i64) -> crate::Result<(i64, i64)> {
    let who = format!("load agent {} ({} on {})", s.placement.index, s.placement.container, s.placement.engine);
    let wait = async {
        loop {
            let line = s.lines.next().await.map_err(|e| format!("{e} before it was ready"))?;
            match protocol::parse::<FromAgent>(&line) {
                Ok(FromAgent::Ready { epoch_unix_us, prepared_us }) => return Ok((epoch_unix_us - control_unix_us, epoch_unix_us + prepared_us as i64)),
                Ok(FromAgent::Failed(e)) => return Err(e),
                Ok(_) => return Err(format!("said something else before ready: {:.200}", line.trim())),
                Err(e) => tracing::debug!("{who}: {e}"),
            }
        }
    };
    match tokio::time::timeout(READY_TIMEOUT, wait).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(crate::Error::failed(format!("{who}: {e}"))),
        Err(_) => Err(crate::Error::failed(format!("{who}: not ready within {} s", READY_TIMEOUT.as_secs()))),
    }
}

impl Fleet {
    /// Start every agent and the common schedule; events flow to `rec` from then on.
    pub async fn start(cfg: FleetConfig<'_>, rec: RecorderHandle) -> crate::Result<Fleet> {
        let mut started = Vec::new();
        for index in 0..cfg.plan.agents.count {
            match start_one(&cfg, index).await {
                Ok(s) => started.push(s),
                Err(e) => return Err(abandon(started, e).await),
            }
        }
        let control_unix_us = protocol::epoch_unix_us(&cfg.epoch);
        let mut offsets = Vec::new();
        let mut prepared_max = protocol::unix_us_now();
        for i in 0..started.len() {
            let r = ready(&mut started[i], control_unix_us).await;
            match r {
                Ok((offset, prepared)) => {
                    offsets.push(offset);
                    prepared_max = prepared_max.max(prepared);
                }
                Err(e) => return Err(abandon(started, e).await),
            }
        }
        let start_unix_us = prepared_max.max(protocol::unix_us_now()) + START_LEAD.as_micros() as i64;
        let order = protocol::line(&ToAgent::Start { start_unix_us, duration_us: cfg.duration.map(|d| d.as_micros() as u64) });
        for i in 0..started.len() {
            let input = &mut started[i].input;
            let sent = match input.write_all(order.as_bytes()).await {
                Ok(()) => input.flush().await,
                Err(e) => Err(e),
            };
            if let Err(e) = sent {
                return Err(abandon(started, crate::Error::failed(format!("load agent {i}: send the start: {e}"))).await);
            }
        }
        let mut agents = Vec::new();
        for (s, offset) in started.into_iter().zip(offsets) {
            let tally = Arc::new(Mutex::new(Tally::default()));
            let reader = tokio::spawn(read(s.lines, offset, rec.clone(), cfg.epoch, s.placement.index, tally.clone()));
            agents.push((s.placement, s.docker, s.input, tally, reader));
        }
        let start_us = u64::try_from(start_unix_us - control_unix_us).unwrap_or(0);
        Ok(Fleet { agents, epoch: cfg.epoch, start_us })
    }

    /// Stop every agent, wait for its last events (at most `grace`), remove the containers.
    pub async fn stop(self, grace: Duration) -> super::accounts::Accounts {
        let mut accounts = AccountsBuilder::default();
        // Every agent is told first, then waited for: their schedules end together.
        let mut agents = self.agents;
        for (_, _, input, _, _) in &mut agents {
            if input.write_all(protocol::line(&ToAgent::Stop).as_bytes()).await.is_ok() {
                let _ = input.flush().await;
            }
        }
        for (placement, docker, input, tally, reader) in agents {
            let mut reader = reader;
            let ended = match tokio::time::timeout(grace, &mut reader).await {
                Ok(Ok(e)) => e,
                Ok(Err(e)) => Ended { report: None, lost: Some((self.epoch.now_us(), format!("its reader failed: {e}"))) },
                Err(_) => {
                    // Stop forwarding: the tally below must match what the recorder got.
                    reader.abort();
                    Ended { report: None, lost: Some((self.epoch.now_us(), format!("no done within {} s of stop", grace.as_secs()))) }
                }
            };
            let tally = tally.lock().map(|t| t.clone()).unwrap_or_default();
            let status = match (&ended.report, ended.lost) {
                (Some(_), _) => AgentStatus::Finished,
                (None, Some((at_us, detail))) => AgentStatus::Lost { at_us, last_event_us: tally.last_event_us, detail },
                (None, None) => AgentStatus::Lost { at_us: self.epoch.now_us(), last_event_us: tally.last_event_us, detail: "no done".into() },
            };
            let name = placement.container.clone();
            accounts.push(account(placement, &tally, ended.report, status));
            drop(input);
            remove(&docker, &name).await;
        }
        accounts.build()
    }
}

/// Remove what was started and return `e`.
async fn abandon(started: Vec<Started>, e: crate::Error) -> crate::Error {
    for s in started {
        remove(&s.docker, &s.placement.container).await;
    }
    e
}

/// Forward one agent's stream to the recorder until `done` or the stream ends.
async fn read(mut lines: Lines, offset_us: i64, rec: RecorderHandle, epoch: Epoch, index: u32, tally: Arc<Mutex<Tally>>) -> Ended {
    loop {
        let line = match lines.next().await {
            Ok(l) => l,
            Err(detail) => {
                let at_us = epoch.now_us();
                rec.mark(Mark::new(at_us, MarkKind::Point, format!("agent-lost a{index}"), Some(detail.clone())));
                return Ended { report: None, lost: Some((at_us, detail)) };
            }
        };
        match protocol::parse::<FromAgent>(&line) {
            Ok(FromAgent::Events(mut events)) => {
                protocol::shift(&mut events, offset_us);
                if let Ok(mut t) = tally.lock() {
                    events.iter().for_each(|e| t.observe(e));
                }
                rec.ops(events);
            }
            Ok(FromAgent::Mark(mut m)) => {
                m.at_us = protocol::shift_us(m.at_us, offset_us);
                rec.mark(m);
            }
            Ok(FromAgent::Done(report)) => return Ended { report: Some(report), lost: None },
            Ok(FromAgent::Failed(detail)) => {
                let at_us = epoch.now_us();
                rec.mark(Mark::new(at_us, MarkKind::Point, format!("agent-lost a{index}"), Some(detail.clone())));
                return Ended { report: None, lost: Some((at_us, detail)) };
            }
            Ok(FromAgent::Ready { .. }) => {}
            Err(e) => tracing::debug!("load agent {index}: {e}"),
        }
    }
}
