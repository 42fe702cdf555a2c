//! `zkchaos bench --only memory`: the driving peak and the analysis peak, measured apart.
//!
//! 1. **Driving**: open-loop load at 2,000 ops/s (default mix) for `seconds` with every event
//!    streamed to `events.csv.gz`; RSS is printed every 10 s and the peak is this process's
//!    `VmHWM` once the load and its files are finished (before any analysis).
//! 2. **Analysis of that run**: `zkchaos analyze <dir>` as a child process (summary, timeline,
//!    charts, report); its peak RSS (its `VmHWM`, polled) and wall time.
//! 3. **Analysis of a one-hour run**: [`synthesize_run`] writes 3,600 s of events at the run's
//!    rate (7.2 M at 2,000 ops/s, production's exact columns through [`EventWriter`], in
//!    completion order, with a 2 s timeout outage every 10 minutes) next to the real run's
//!    `plan.json`, `meta.json` and `marks.json` (stretched to the hour), without Docker; then the
//!    same child `analyze` — once without a read-back (the events' cost alone) and once with the
//!    read-back three servers would return (every acknowledged key and sequential znode, ~718,000
//!    per server at the default mix: `readback.json.gz` is loaded, held and audited). The bench's
//!    own peak while synthesizing is printed for both (`VmHWM` reset through `clear_refs` first):
//!    with the read-back it includes holding three servers' read-backs and writing the file, as a
//!    run does after its load.
//!
//! `ZKCHAOS_BENCH_KEEP=1` keeps both directories (printed) to analyse them with another binary.

use crate::plan::{keyspace::key_path, keyspace::SEQ_PREFIX, OpKind, Plan};
use crate::record::seqnodes::PathSet;
use crate::record::{labels, read_marks, ErrorClass, EventWriter, Mark, MarkKind, OpEvent, Outcome, SeqNodes};
use crate::record::ServerReadback;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Length of the synthesized run, s.
pub const SYNTH_SECONDS: u64 = 3600;

fn status_kib(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reset this process's `VmHWM` to its current RSS (Linux `clear_refs` 5); false if refused.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Peak RSS and wall time of `zkchaos analyze <dir>` run as a child of this process.
#[derive(Debug, Clone, Copy)]
pub struct ChildPeak {
    pub max_rss_kib: u64,
    pub wall: Duration,
    pub exit_code: i32,
}

/// Run `zkchaos analyze <dir>` (this executable) and measure its peak from `/proc/<pid>/status`
/// `VmHWM`, read every 10 ms until it exits. Not `ru_maxrss`: a child started with
/// `posix_spawn` (vfork) inherits this process's high-water mark at `exec`, so the child's figure
/// would be at least this process's own peak.
pub fn analyze_child(dir: &Path) -> crate::Result<ChildPeak> {
    let exe =
        std::env::current_exe().map_err(|e| crate::Error::failed(format!("bench memory: own executable: {e}")))?;
    let started = Instant::now();
    let mut child = std::process::Command::new(&exe)
        .arg("analyze")
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| {
            crate::Error::failed(format!("bench memory: start {} analyze {}: {e}", exe.display(), dir.display()))
        })?;
    let status_path = format!("/proc/{}/status", child.id());
    let hwm = |text: &str| -> Option<u64> {
        text.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
    };
    let mut max_rss_kib = 0u64;
    let status = loop {
        if let Some(k) = std::fs::read_to_string(&status_path).ok().as_deref().and_then(hwm) {
            max_rss_kib = max_rss_kib.max(k);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                return Err(crate::Error::failed(format!("bench memory: wait for analyze {}: {e}", dir.display())))
            }
        }
    };
    Ok(ChildPeak { max_rss_kib, wall: started.elapsed(), exit_code: status.code().unwrap_or(-1) })
}

/// Small deterministic generator (xorshift64*), so the synthesized file is the same every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Wrapper ordering events by completion, then generation order, for the writer's heap.
struct ByEnd(u64, u64, OpEvent);

impl PartialEq for ByEnd {
    fn eq(&self, o: &Self) -> bool {
        (self.0, self.1) == (o.0, o.1)
    }
}
impl Eq for ByEnd {}
impl PartialOrd for ByEnd {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for ByEnd {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(o.0, o.1))
    }
}

fn copy_file(from: &Path, to: &Path, name: &str) -> crate::Result<()> {
    let (src, dst) = (from.join(name), to.join(name));
    if src.is_file() {
        std::fs::copy(&src, &dst)
            .map_err(|e| crate::Error::failed(format!("copy {} to {}: {e}", src.display(), dst.display())))?;
    }
    Ok(())
}

/// Write a run directory `to` holding `seconds` of synthetic events at the rate, mix, sessions
/// and key space of `from`'s `plan.json`, next to `from`'s plan, meta and marks (marks stretched
/// from the real load window to the synthetic one). With `readback`, also the read-back of three
/// servers holding exactly what was acknowledged (so the audit passes, over every write).
pub fn synthesize_run(from: &Path, to: &Path, seconds: u64, readback: bool) -> crate::Result<Synthesized> {
    std::fs::create_dir_all(to).map_err(|e| crate::Error::failed(format!("create {}: {e}", to.display())))?;
    let plan_path = from.join(crate::record::files::PLAN_FILE);
    let plan: Plan = crate::record::load::read_json(&plan_path)?;
    copy_file(from, to, crate::record::files::PLAN_FILE)?;
    copy_file(from, to, crate::record::files::META_FILE)?;
    let start = stretch_marks(from, to, seconds)?;

    let load = &plan.load;
    let rate = u64::from(load.rate.max(1));
    let sessions = load.sessions.max(1);
    let keys = load.keys.max(1);
    let mix: Vec<(OpKind, u64)> = load.mix.iter().map(|(k, w)| (*k, u64::from(*w))).filter(|(_, w)| *w > 0).collect();
    let total_weight: u64 = mix.iter().map(|(_, w)| w).sum::<u64>().max(1);
    let timeout_us = u64::from(load.op_timeout_ms) * 1000;
    let n = rate * seconds;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut state = SynthState::new(keys, readback);
    let mut writer = EventWriter::create(&to.join(crate::record::files::EVENTS_FILE))?;
    let mut heap: BinaryHeap<Reverse<ByEnd>> = BinaryHeap::new();
    for i in 0..n {
        let intended = start + i * 1_000_000 / rate;
        while heap.peek().is_some_and(|p| p.0 .0 <= intended) {
            if let Some(Reverse(ByEnd(_, _, e))) = heap.pop() {
                writer.write(&e)?;
            }
        }
        let session = (i % u64::from(sessions)) as u32;
        let mut pick = rng.below(total_weight);
        let kind = mix
            .iter()
            .find(|(_, w)| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .map(|(k, _)| *k)
            .unwrap_or(OpKind::Get);
        let key = rng.below(u64::from(keys)) as usize;
        let lag = 20 + rng.below(120);
        // Latency: mostly 0.3–1.8 ms, 1 % 5–50 ms (GC, fsync), from the intended start.
        let latency = if rng.below(100) == 0 { 5_000 + rng.below(45_000) } else { 300 + rng.below(1_500) };
        // A 2 s outage every 10 minutes: every operation issued in it times out.
        let in_outage = (i / rate) % 600 >= 300 && (i / rate) % 600 < 302;
        let token = if kind.is_write() { format!("{session}-{i}") } else { String::new() };
        let mut e = OpEvent {
            intended_us: intended,
            start_us: intended + lag,
            end_us: intended + lag + latency,
            kind,
            session,
            path: key_path(key as u32),
            outcome: Outcome::Ok,
            error: None,
            token,
            version: -1,
        };
        if in_outage {
            e.end_us = e.start_us + timeout_us;
            e.outcome = if kind.is_write() { Outcome::Indeterminate } else { Outcome::Fail };
            e.error = Some(ErrorClass::Timeout);
            if kind == OpKind::Create {
                e.path = String::new();
            }
        } else {
            state.apply(&mut e, key);
        }
        heap.push(Reverse(ByEnd(e.end_us, i, e)));
    }
    while let Some(Reverse(ByEnd(_, _, e))) = heap.pop() {
        writer.write(&e)?;
    }
    writer.finish()?;
    let mut out = Synthesized { events: n, seq_per_server: 0, save: None };
    if readback {
        let (save, seq_per_server) = state.save_readbacks(to, keys)?;
        out.save = Some(save);
        out.seq_per_server = seq_per_server;
    }
    Ok(out)
}

/// Copy the source run's marks, stretched so that its load spans `seconds`; returns the load's
/// start (µs since the epoch).
fn stretch_marks(from: &Path, to: &Path, seconds: u64) -> crate::Result<u64> {
    let marks = if from.join(crate::record::files::MARKS_FILE).is_file() { read_marks(&from.join(crate::record::files::MARKS_FILE))? } else { Vec::new() };
    let real_start = marks.iter().find(|m| m.label == labels::LOAD && m.kind == MarkKind::Start).map(|m| m.at_us);
    let real_stop = marks.iter().filter(|m| m.label == labels::LOAD_STOP).map(|m| m.at_us).min();
    let start = real_start.unwrap_or(20_000);
    let span = seconds * 1_000_000;
    let scale = match real_stop {
        Some(stop) if stop > start => span as f64 / (stop - start) as f64,
        _ => 1.0,
    };
    let stretched: Vec<Mark> = marks
        .into_iter()
        .map(|mut m| {
            m.at_us = start + (m.at_us.saturating_sub(start) as f64 * scale) as u64;
            m
        })
        .collect();
    let text = serde_json::to_vec_pretty(&stretched).map_err(|e| crate::Error::failed(format!("marks.json: {e}")))?;
    crate::record::write_atomic(&to.join(crate::record::files::MARKS_FILE), &text)?;
    Ok(start)
}

/// What the synthetic servers hold: key versions, sequential znodes and the tokens that wrote
/// them, as the successful operations leave them.
struct SynthState {
    readback: bool,
    versions: Vec<i64>,
    seq: u64,
    created: std::collections::VecDeque<String>,
    key_tokens: Vec<Option<String>>,
    seq_nodes: SeqNodes,
    deleted: PathSet,
}

impl SynthState {
    fn new(keys: u32, readback: bool) -> Self {
        SynthState {
            readback,
            versions: vec![0i64; keys as usize],
            seq: 0,
            created: std::collections::VecDeque::new(),
            key_tokens: vec![None; keys as usize],
            seq_nodes: SeqNodes::new(),
            deleted: PathSet::default(),
        }
    }

    /// A successful operation on `key`: its version or path, and what the servers now hold.
    fn apply(&mut self, e: &mut OpEvent, key: usize) {
        let readback = self.readback;
        match e.kind {
            OpKind::Get | OpKind::Exists => e.version = self.versions[key],
            OpKind::Set | OpKind::Multi => {
                self.versions[key] += 1;
                e.version = self.versions[key];
                if readback {
                    self.key_tokens[key] = Some(e.token.clone());
                    if e.kind == OpKind::Multi {
                        self.seq_nodes.insert(&format!("{SEQ_PREFIX}{:010}", self.seq), Some(&e.token));
                    }
                }
                if e.kind == OpKind::Multi {
                    self.seq += 1;
                }
            }
            OpKind::Create => {
                e.path = format!("{SEQ_PREFIX}{:010}", self.seq);
                self.seq += 1;
                if self.created.len() < 10_000 {
                    self.created.push_back(e.path.clone());
                }
                if readback {
                    self.seq_nodes.insert(&e.path, Some(&e.token));
                }
            }
            OpKind::Delete => match self.created.pop_front() {
                Some(p) => {
                    if readback {
                        self.deleted.insert(&p);
                    }
                    e.path = p;
                }
                None => {
                    e.outcome = Outcome::Fail;
                    e.error = Some(ErrorClass::NoNode);
                }
            },
            // The synthetic mixes have no ephemeral operations.
            OpKind::Ephemeral | OpKind::EphemeralAbandon | OpKind::Close => {}
        }
    }

    /// Write three servers' identical read-backs; returns the save time and the sequential
    /// znodes per server.
    fn save_readbacks(self, to: &Path, keys: u32) -> crate::Result<(Duration, usize)> {
        let SynthState { versions, key_tokens, mut seq_nodes, deleted, .. } = self;
        seq_nodes.retain(|p| !deleted.contains_path(p));
        seq_nodes.shrink_to_fit();
        let keys: std::collections::BTreeMap<String, (i64, Option<String>)> =
            (0..keys).map(|k| (key_path(k), (versions[k as usize], key_tokens[k as usize].clone()))).collect();
        let servers: Vec<ServerReadback> = (1..=3)
            .map(|server| ServerReadback { keys: keys.clone(), seq: seq_nodes.clone(), ..ServerReadback::empty(server) })
            .collect();
        drop(seq_nodes);
        let started = Instant::now();
        crate::record::save_readbacks(&to.join(crate::record::files::READBACK_FILE), &servers)?;
        Ok((started.elapsed(), servers[0].seq.len()))
    }
}

/// What [`synthesize_run`] wrote.
#[derive(Debug, Clone, Copy)]
pub struct Synthesized {
    pub events: u64,
    /// Sequential znodes in each server's read-back (0 without one).
    pub seq_per_server: usize,
    /// Time to write `readback.json.gz`, if written.
    pub save: Option<Duration>,
}

fn scratch(name: &str) -> crate::Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("zkchaos-bench-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).map_err(|e| crate::Error::failed(format!("cannot create {}: {e}", d.display())))?;
    Ok(d)
}

fn print_child(what: &str, p: &ChildPeak) {
    let failed = if p.exit_code == 0 { String::new() } else { format!(" (exit code {})", p.exit_code) };
    println!(
        "memory analysis of {what}: peak RSS {:.1} MiB, wall {:.1} s{failed}",
        mib(p.max_rss_kib),
        p.wall.as_secs_f64()
    );
}

/// The memory bench (see the module doc), against the ensemble at `connect`.
pub async fn memory(connect: &str, seconds: u64) -> crate::Result<()> {
    let keep = std::env::var("ZKCHAOS_BENCH_KEEP").is_ok_and(|v| v == "1");
    let run = scratch("memory")?;
    let synth = scratch("memory-1h")?;
    let result = measure(connect, seconds, &run, &synth).await;
    if keep {
        println!("memory: kept {} and {}", run.display(), synth.display());
    } else {
        let _ = std::fs::remove_dir_all(&run);
        let _ = std::fs::remove_dir_all(&synth);
    }
    result
}

async fn measure(connect: &str, seconds: u64, run: &Path, synth: &Path) -> crate::Result<()> {
    let plan = crate::plan::LoadPlan { rate: 2000, ..crate::plan::LoadPlan::default() };
    let sampler = tokio::spawn(async {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        let mut t = 0;
        loop {
            tick.tick().await;
            println!("memory t={t:>4} s rss {:.1} MiB", mib(status_kib("VmRSS:").unwrap_or(0)));
            t += 10;
        }
    });
    let s = crate::commands::load::run_load(
        &plan,
        connect,
        1,
        Duration::from_secs(seconds),
        run,
        tokio_util::sync::CancellationToken::new(),
    )
    .await;
    sampler.abort();
    let s = s?;
    println!(
        "memory driving: {seconds} s at {} ops/s, ops {} ok {}: peak RSS (VmHWM) {:.1} MiB, now {:.1} MiB",
        plan.rate,
        s.counts.total,
        s.counts.ok,
        mib(status_kib("VmHWM:").unwrap_or(0)),
        mib(status_kib("VmRSS:").unwrap_or(0))
    );
    let (run_dir, synth_dir) = (run.to_path_buf(), synth.to_path_buf());
    tokio::task::spawn_blocking(move || -> crate::Result<()> {
        let p = analyze_child(&run_dir)?;
        print_child(&format!("that run ({} events, zkchaos analyze as a child)", s.counts.total), &p);
        for readback in [false, true] {
            let started = Instant::now();
            let peak = if reset_peak() { "peak RSS (VmHWM) of this process" } else { "VmHWM (not reset)" };
            let syn = synthesize_run(&run_dir, &synth_dir, SYNTH_SECONDS, readback)?;
            let n = syn.events;
            let with = match syn.save {
                Some(save) => format!(
                    " with a 3-server read-back of {} sequential znodes each (held and written in {:.1} s)",
                    syn.seq_per_server,
                    save.as_secs_f64()
                ),
                None => String::new(),
            };
            println!(
                "memory: synthesized a {SYNTH_SECONDS} s run of {n} events{with} in {:.1} s, {peak} {:.1} MiB (plan and marks of the run above)",
                started.elapsed().as_secs_f64(),
                mib(status_kib("VmHWM:").unwrap_or(0))
            );
            let p = analyze_child(&synth_dir)?;
            let what = if readback { "read-back of every acknowledged write: the audit runs" } else { "no read-back" };
            print_child(&format!("the synthesized {SYNTH_SECONDS} s run ({n} events, {what})"), &p);
        }
        Ok(())
    })
    .await
    .map_err(|e| crate::Error::failed(format!("bench memory: analysis task: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_synthesized_run_is_analysed_like_a_recorded_one() {
        let root = tempfile::tempdir().unwrap();
        let (from, to) = (root.path().join("real"), root.path().join("synth"));
        std::fs::create_dir_all(&from).unwrap();
        let plan = crate::plan::load_run_plan(
            &crate::plan::LoadPlan { rate: 200, ..Default::default() },
            "127.0.0.1:2181",
            1,
            Duration::from_secs(2),
        );
        std::fs::write(from.join(crate::record::files::PLAN_FILE), serde_json::to_vec(&plan).unwrap()).unwrap();
        let marks = vec![
            Mark::new(20_000, MarkKind::Start, labels::LOAD, None),
            Mark::new(2_020_000, MarkKind::Point, labels::LOAD_STOP, None),
        ];
        std::fs::write(from.join(crate::record::files::MARKS_FILE), serde_json::to_vec(&marks).unwrap()).unwrap();
        let syn = synthesize_run(&from, &to, 610, true).unwrap();
        let n = syn.events;
        assert_eq!(n, u64::from(plan.load.rate) * 610);
        assert!(syn.seq_per_server > 0 && syn.save.is_some(), "{syn:?}");
        let events = crate::record::read_events(&to.join(crate::record::files::EVENTS_FILE)).unwrap();
        assert_eq!(events.len() as u64, n);
        assert!(events.windows(2).all(|w| w[0].end_us <= w[1].end_us), "written in completion order");
        let stop = read_marks(&to.join(crate::record::files::MARKS_FILE)).unwrap()[1].at_us;
        assert_eq!(stop, 20_000 + 610_000_000, "marks stretched to the synthesized span");
        let data = crate::record::load_run(&to).unwrap();
        let s = crate::report::build_summary(&data).unwrap();
        assert_eq!(s.ops.total, n);
        // The 2 s outage at 300 s: reads time out for 2 s plus the op timeout's tail.
        assert!(s.outage_ms.read.unwrap() > 1_900.0, "{:?}", s.outage_ms);
        assert_eq!(s.checks.stale_reads.count, 0);
        // The read-back holds every acknowledged write: the audit passes over all of them.
        assert_eq!(s.checks.data_loss.verdict, crate::check::Verdict::Pass, "{}", s.checks.data_loss.detail);
    }
}
