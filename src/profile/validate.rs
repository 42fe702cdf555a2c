//! Range and consistency checks on a [`Plan`]: what ZooKeeper and the measurement can do.
//!
//! Runs after the schema walk (types are right) and also on plans built in code, so it checks
//! everything a plan can hold, including values TOML could not have produced (NaN durations).
//! The first problem found is reported, in the order the sections appear in a profile.

use super::ProfileError;
use crate::plan::{ClusterPlan, LoadMode, LoadPlan, Plan, ProcedurePlan, Target};

/// Operation names valid in `load.mix`.
pub const VALID_OPS: &[&str] = &["get", "set", "create", "exists", "delete", "multi", "ephemeral", "ephemeral-abandon"];
/// Largest ensemble (before or after a procedure).
pub const MAX_CLUSTER_SIZE: u32 = 9;
/// Largest `load.value_size`: ZooKeeper's default `jute.maxbuffer` is 0xfffff bytes (1 MiB − 1)
/// for a whole request, so leave 1 KiB for the path and headers.
pub const MAX_VALUE_SIZE: u32 = 1024 * 1024 - 1024;
/// Longest phase or procedure duration, seconds (one day); also keeps `Duration::from_secs_f64`
/// downstream far from overflow.
const MAX_SECONDS: f64 = 86_400.0;
const MAX_MS: u64 = 3_600_000;

/// Check ranges and combinations of a plan; the error names the first offending field.
pub fn validate(plan: &Plan) -> Result<(), ProfileError> {
    validate_name(&plan.name)?;
    validate_cluster(&plan.cluster)?;
    validate_load(&plan.load, &plan.cluster)?;
    let p = &plan.phases;
    seconds("phases.warmup_s", p.warmup_s, 0.0, "e.g. warmup_s = 10")?;
    seconds("phases.converge_timeout_s", p.converge_timeout_s, f64::MIN_POSITIVE, "e.g. converge_timeout_s = 120")?;
    seconds("phases.post_s", p.post_s, 0.0, "e.g. post_s = 15")?;
    range_u32(
        "phases.converge_rounds",
        p.converge_rounds,
        1,
        50,
        "consecutive convergence checks (200 ms apart) that must agree, e.g. converge_rounds = 3",
    )?;
    validate_cycles(plan)?;
    let m = &plan.monitor;
    range_u32(
        "monitor.interval_ms",
        m.interval_ms,
        10,
        200,
        "the monitor must sample server modes at least every 200 ms to resolve sub-second outages",
    )?;
    range_u32("monitor.timeout_ms", m.timeout_ms, 1, m.interval_ms, "a poll must finish within monitor.interval_ms")?;
    validate_procedure(&plan.procedure, &plan.cluster)
}

/// `procedure.repeat`: 1 to 100 cycles; more than one only for a procedure that ends where it
/// started (a fault and its heal: the same membership), since a second expansion from the
/// target is a different procedure.
fn validate_cycles(plan: &Plan) -> Result<(), ProfileError> {
    let p = &plan.phases;
    range_u32("procedure.repeat", p.cycles, 1, 100, "cycles of the procedure in one run")?;
    seconds("procedure.cycle_gap_s", p.cycle_gap_s, 0.0, "e.g. cycle_gap_s = 5")?;
    let (from, to) = (plan.cluster.size, plan.procedure.target_size(plan.cluster.size));
    if p.cycles > 1 && from != to {
        return Err(invalid(
            "procedure.repeat",
            p.cycles,
            format!("needs a procedure that returns to its starting membership ({from} servers), but this one ends with {to}; use repeat = 1 or a fault runbook (kill, pause, partition, delay)"),
        ));
    }
    Ok(())
}

fn invalid(field: &str, value: impl ToString, reason: impl Into<String>) -> ProfileError {
    ProfileError::Invalid { field: field.into(), value: value.to_string(), reason: reason.into() }
}

/// `field` in `min..=max`, with `why` saying what the range is for.
fn range_u32(field: &str, v: u32, min: u32, max: u32, why: &str) -> Result<(), ProfileError> {
    if (min..=max).contains(&v) {
        Ok(())
    } else {
        Err(invalid(field, v, format!("is out of range: {why}; use {min} to {max}")))
    }
}

/// A duration in seconds: finite, at least `min`, at most a day.
fn seconds(field: &str, v: f64, min: f64, example: &str) -> Result<(), ProfileError> {
    if v.is_finite() && v >= min && v <= MAX_SECONDS {
        return Ok(());
    }
    let shown = if v.is_nan() {
        "nan".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{v:?}")
    };
    let lower = if min > 0.0 { "greater than 0" } else { "0 or more" };
    Err(invalid(field, shown, format!("is not a usable duration: use a finite number of seconds, {lower} and at most {MAX_SECONDS}, {example}")))
}

fn validate_name(name: &str) -> Result<(), ProfileError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > 100 || name.starts_with('.') || !name.chars().all(ok_char) {
        return Err(invalid(
            "name",
            format!("{name:?}"),
            "cannot name a results directory: use 1 to 100 letters, digits, '-', '_' or '.', not starting with '.', e.g. name = \"rolling-3to5\"",
        ));
    }
    Ok(())
}

/// Even ensembles are legal in ZooKeeper, but rejected here: they cost one more server than the
/// odd size below them and tolerate no more failures, which would confound a comparison.
fn odd_size(field: &str, size: u32) -> Result<(), ProfileError> {
    if size.is_multiple_of(2) {
        return Err(invalid(
            field,
            size,
            format!(
                "is even: a majority of {size} is {}, so it tolerates no more failed servers than {} does while needing one more to agree; use an odd size: 1, 3, 5, 7 or 9",
                size / 2 + 1,
                size - 1
            ),
        ));
    }
    Ok(())
}

fn validate_cluster(c: &ClusterPlan) -> Result<(), ProfileError> {
    if c.image.trim().is_empty() || c.image.chars().any(char::is_whitespace) {
        return Err(invalid("cluster.image", format!("{:?}", c.image), "is not a Docker image reference; use e.g. image = \"zkchaos/zookeeper:3.8.0\""));
    }
    range_u32("cluster.size", c.size, 1, MAX_CLUSTER_SIZE, "an ensemble has 1 to 9 servers here")?;
    odd_size("cluster.size", c.size)?;
    range_u32("cluster.tick_time_ms", c.tick_time_ms, 10, 60_000, "ZooKeeper's basic time unit (default 2000)")?;
    range_u32("cluster.init_limit", c.init_limit, 1, 1000, "ticks a follower may take to connect and sync (default 10)")?;
    range_u32("cluster.sync_limit", c.sync_limit, 1, 1000, "ticks a follower may lag the leader (default 5)")?;
    range_u32("cluster.heap_mb", c.heap_mb, 32, 16_384, "JVM heap per server in MiB (default 256)")?;
    super::engines::validate_engines(c)?;
    if c.stop_model == crate::plan::StopModel::Host && !c.engines.is_empty() {
        return Err(invalid(
            "cluster.stop_model",
            "\"host\"",
            "needs the local bridge form (each server's own address); on listed engines servers share their engine's host: remove [[cluster.engines]] or use stop_model = \"process\"",
        ));
    }
    // The flags reach the JVM through JVMFLAGS, which the start scripts split on white space:
    // one option per entry, and only option-shaped strings.
    for flag in &c.jvm_flags {
        let option_like = (flag.starts_with("-X") || flag.starts_with("-D"))
            && flag.len() > 2
            && !flag.chars().any(|ch| ch.is_whitespace() || "$`\\\"';|&<>*?()[]{}".contains(ch));
        if !option_like {
            return Err(invalid(
                "cluster.jvm_flags",
                format!("{flag:?}"),
                "is not a single JVM option; each entry must start with -X or -D and contain no white space or shell characters, e.g. \"-XX:+UseSerialGC\"",
            ));
        }
    }
    if let Some(set) = &c.cpuset {
        cpuset_cpus(set).map_err(|why| {
            invalid("cluster.cpuset", format!("{set:?}"), format!("is not a CPU set: {why}; use Docker's --cpuset-cpus syntax, host CPU numbers from 0 as a list of numbers and ranges, e.g. cpuset = \"1-3\" or \"0,2\""))
        })?;
    }
    if let Some(cpus) = c.cpus {
        if !(cpus.is_finite() && (0.01..=1024.0).contains(&cpus)) {
            return Err(invalid("cluster.cpus", cpus, "is not a usable CPU quota: use a number of CPUs per server from 0.01 to 1024, e.g. cpus = 0.5"));
        }
    }
    Ok(())
}

/// The CPUs of a Docker `--cpuset-cpus` string (`"1"`, `"1-3"`, `"0,2-3"`), or why it is not one.
pub fn cpuset_cpus(set: &str) -> Result<Vec<u32>, String> {
    let num = |t: &str| -> Result<u32, String> {
        let t = t.trim();
        match t.parse::<u32>() {
            Ok(n) if n < 1024 && !t.starts_with('+') => Ok(n),
            _ => Err(format!("{t:?} is not a CPU number from 0 to 1023")),
        }
    };
    let mut cpus = Vec::new();
    for part in set.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(part)?, num(part)?),
        };
        if a > b {
            return Err(format!("range {:?} runs backwards", part.trim()));
        }
        cpus.extend(a..=b);
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

fn validate_load(l: &LoadPlan, c: &ClusterPlan) -> Result<(), ProfileError> {
    match l.mode {
        LoadMode::Open => range_u32("load.rate", l.rate, 1, 1_000_000, "an open-loop load needs at least 1 operation per second")?,
        LoadMode::Closed => range_u32("load.in_flight", l.in_flight, 1, 100_000, "a closed-loop load needs at least 1 request in flight")?,
    }
    range_u32("load.sessions", l.sessions, 1, 1024, "the load needs at least one ZooKeeper session")?;
    range_u32("load.keys", l.keys, 1, 1_000_000, "get and set need at least one pre-populated key")?;
    range_u32("load.threads", l.threads, 0, 64, "0 lets zkchaos choose (one thread per 8,000 ops/s); at most 64 load threads")?;
    range_u32(
        "load.value_size",
        l.value_size,
        0,
        MAX_VALUE_SIZE,
        "ZooKeeper rejects requests over jute.maxbuffer (1 MiB − 1 byte by default), path and headers included",
    )?;
    validate_mix(l)?;
    let (min_session, max_session) = (2 * c.tick_time_ms, 20 * c.tick_time_ms);
    if !(min_session..=max_session).contains(&l.session_timeout_ms) {
        return Err(invalid(
            "load.session_timeout_ms",
            l.session_timeout_ms,
            format!(
                "is outside what servers with cluster.tick_time_ms = {} grant: ZooKeeper negotiates session timeouts between 2 and 20 ticks; use {min_session} to {max_session}",
                c.tick_time_ms
            ),
        ));
    }
    if l.op_timeout_ms == 0 || l.op_timeout_ms >= l.session_timeout_ms {
        return Err(invalid(
            "load.op_timeout_ms",
            l.op_timeout_ms,
            format!(
                "must be at least 1 and less than load.session_timeout_ms ({}), or an operation timeout cannot be told apart from a session expiry; use e.g. op_timeout_ms = {}",
                l.session_timeout_ms,
                (l.session_timeout_ms / 5).max(1)
            ),
        ));
    }
    range_u32("load.interval_ms", l.interval_ms, 10, 60_000, "the time-series bucket width must be positive and at most a minute")?;
    validate_agents(l, c)
}

/// `[load.agents]`: a count each agent can have a session and a share of the rate for, on
/// engines the profile lists.
fn validate_agents(l: &LoadPlan, c: &ClusterPlan) -> Result<(), ProfileError> {
    let a = &l.agents;
    range_u32("load.agents.count", a.count, 0, 64, "0 runs the load in zkchaos itself; at most 64 load agents")?;
    if a.count == 0 {
        return Ok(());
    }
    if a.count > l.sessions {
        return Err(invalid(
            "load.agents.count",
            a.count,
            format!("is more than load.sessions ({}): every agent needs at least one session of its own; raise load.sessions to at least {}", l.sessions, a.count),
        ));
    }
    if l.mode == LoadMode::Closed {
        return Err(invalid("load.agents.count", a.count, "needs load.mode = \"open\": load agents share an open-loop rate (closed loop is not supported in agents yet)"));
    }
    if l.rate < a.count {
        return Err(invalid("load.agents.count", a.count, format!("is more than load.rate ({}): every agent needs at least 1 operation per second", l.rate)));
    }
    let names: Vec<&str> = c.engines.iter().map(|e| e.name.as_str()).collect();
    for (i, e) in a.engines.iter().enumerate() {
        if !names.contains(&e.as_str()) {
            let valid = if names.is_empty() { "no engines are listed: add [[cluster.engines]] tables, or leave load.agents.engines empty for the local engine".to_string() } else { format!("valid: {}", names.join(", ")) };
            return Err(invalid(&format!("load.agents.engines[{i}]"), format!("{e:?}"), format!("is not an engine of [[cluster.engines]]; {valid}")));
        }
    }
    if a.image.trim().is_empty() {
        return Err(invalid("load.agents.image", "\"\"", "is empty: name the agents' image, e.g. \"zkchaos/agent:latest\" (zkchaos image build --agent)"));
    }
    Ok(())
}

fn validate_mix(l: &LoadPlan) -> Result<(), ProfileError> {
    let valid = VALID_OPS.join(", ");
    if l.mix.is_empty() {
        return Err(invalid("load.mix", "{}", format!("is empty: give at least one operation a weight, e.g. mix = {{ get = 80, set = 20 }}; valid operations: {valid}")));
    }
    if l.mix.values().all(|w| *w == 0) {
        let shown: Vec<String> = l.mix.iter().map(|(k, w)| format!("{k} = {w}")).collect();
        return Err(invalid(
            "load.mix",
            format!("{{ {} }}", shown.join(", ")),
            "has only zero weights: give at least one operation a positive weight, e.g. mix = { get = 80, set = 20 }",
        ));
    }
    Ok(())
}

/// The target size of an expansion: larger than the current size, odd, at most 9.
fn expansion_target(kind: &str, to: u32, c: &ClusterPlan) -> Result<(), ProfileError> {
    if to <= c.size {
        return Err(invalid(
            "procedure.to",
            to,
            format!("is not larger than cluster.size ({}): \"{kind}\" grows the ensemble; use an odd size from {} to 9", c.size, c.size + 2),
        ));
    }
    range_u32("procedure.to", to, c.size + 1, MAX_CLUSTER_SIZE, "an ensemble has at most 9 servers here")?;
    odd_size("procedure.to", to)
}

fn static_config_only(kind: &str, c: &ClusterPlan) -> Result<(), ProfileError> {
    if c.dynamic_config {
        return Err(invalid(
            "cluster.dynamic_config",
            true,
            format!("conflicts with procedure kind \"{kind}\", which rewrites the static zoo.cfg and restarts servers; set cluster.dynamic_config = false, or use kind = \"reconfig-expand\""),
        ));
    }
    Ok(())
}

fn validate_procedure(p: &ProcedurePlan, c: &ClusterPlan) -> Result<(), ProfileError> {
    match p {
        ProcedurePlan::Steps { steps, .. } => super::steps::validate_steps(steps, c),
        ProcedurePlan::None { duration_s } => seconds("procedure.duration_s", *duration_s, 0.0, "e.g. duration_s = 30"),
        ProcedurePlan::Pause { target, duration_ms } => {
            if let Target::Id(id) = target {
                if *id == 0 || *id > c.size {
                    return Err(invalid(
                        "procedure.target",
                        id,
                        format!("is not a server of this ensemble: ids run from 1 to cluster.size ({}); use one of those or target = \"leader\"", c.size),
                    ));
                }
            }
            if *duration_ms == 0 || *duration_ms > MAX_MS {
                return Err(invalid("procedure.duration_ms", duration_ms, format!("is out of range: a pause lasts 1 to {MAX_MS} ms, e.g. duration_ms = 3000")));
            }
            Ok(())
        }
        ProcedurePlan::RestartExpand { to, .. } => {
            if c.size != 1 {
                return Err(invalid(
                    "cluster.size",
                    c.size,
                    "cannot start procedure kind \"restart-expand\", which is defined as standalone (1 server) → N; set cluster.size = 1, or use kind = \"rolling-expand\" to grow a larger ensemble",
                ));
            }
            static_config_only("restart-expand", c)?;
            expansion_target("restart-expand", *to, c)
        }
        ProcedurePlan::RollingExpand { to, step_gap_ms, .. } => {
            if c.size == 1 {
                return Err(invalid(
                    "cluster.size",
                    1,
                    "cannot start procedure kind \"rolling-expand\": a single server is standalone and has no peers to roll through; use kind = \"restart-expand\" for 1 → N, or cluster.size = 3",
                ));
            }
            static_config_only("rolling-expand", c)?;
            expansion_target("rolling-expand", *to, c)?;
            if *step_gap_ms > MAX_MS {
                return Err(invalid("procedure.step_gap_ms", step_gap_ms, format!("is too long: use 0 to {MAX_MS} ms between restarts")));
            }
            Ok(())
        }
        ProcedurePlan::ReconfigExpand { to, max_attempts, .. } => {
            if !c.dynamic_config {
                return Err(invalid(
                    "cluster.dynamic_config",
                    false,
                    "cannot run procedure kind \"reconfig-expand\": reconfig needs dynamic configuration; set cluster.dynamic_config = true",
                ));
            }
            expansion_target("reconfig-expand", *to, c)?;
            range_u32("procedure.max_attempts", *max_attempts, 1, 100, "a reconfig is tried at least once (retried on ReconfigInProgress)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        crate::profile::parse("name = \"t\"", "t").unwrap()
    }

    fn field_of(p: &Plan) -> String {
        validate(p).unwrap_err().field().unwrap_or_default().to_string()
    }

    #[test]
    fn default_plan_is_valid() {
        validate(&plan()).unwrap();
    }

    #[test]
    fn load_agents_are_checked_against_sessions_rate_and_engines() {
        let engines = "[[cluster.engines]]\nname = \"th1\"\nendpoint = \"unix:///a.sock\"\naddress = \"10.0.0.1\"\n";
        let ok = format!("name = \"t\"\n[cluster]\n{engines}[load]\nsessions = 4\n[load.agents]\ncount = 2\nengines = [\"th1\"]\n");
        let p = crate::profile::parse(&ok, "t").unwrap();
        assert_eq!(p.load.agents.count, 2);
        assert_eq!(p.load.agents.image, crate::plan::DEFAULT_AGENT_IMAGE);
        let bad_engine = ok.replace("engines = [\"th1\"]", "engines = [\"th9\"]");
        let e = crate::profile::parse(&bad_engine, "t").unwrap_err().to_string();
        assert!(e.contains("load.agents.engines[0]") && e.contains("valid: th1"), "{e}");
        let e = crate::profile::parse(&ok.replace("count = 2", "count = 5"), "t").unwrap_err().to_string();
        assert!(e.contains("load.agents.count") && e.contains("load.sessions (4)"), "{e}");
        let e = crate::profile::parse("name = \"t\"\n[load.agents]\ncount = 1\nengines = [\"x\"]\n", "t").unwrap_err().to_string();
        assert!(e.contains("no engines are listed"), "{e}");
        let e = crate::profile::parse("name = \"t\"\n[load.agents]\ncont = 1\n", "t").unwrap_err().to_string();
        assert!(e.contains("load.agents.cont"), "{e}");
        let mut p = plan();
        p.load.threads = 65;
        assert_eq!(field_of(&p), "load.threads");
    }

    #[test]
    fn each_range_names_its_field() {
        let mut p = plan();
        p.load.rate = 0;
        assert_eq!(field_of(&p), "load.rate");
        let mut p = plan();
        p.phases.post_s = f64::NAN;
        assert_eq!(validate(&p).unwrap_err().to_string(), "`phases.post_s = nan` is not a usable duration: use a finite number of seconds, 0 or more and at most 86400, e.g. post_s = 15");
        let mut p = plan();
        p.cluster.size = 4;
        assert_eq!(field_of(&p), "cluster.size");
        let mut p = plan();
        p.load.mix.clear();
        assert_eq!(field_of(&p), "load.mix");
        let e = crate::profile::parse("name = \"t\"\n[load]\nmix = { gte = 3 }", "t").unwrap_err().to_string();
        assert!(e.contains("unknown key `load.mix.gte`: not an operation; did you mean `get`?"), "{e}");
    }

    #[test]
    fn stop_model_is_parsed_and_host_needs_the_bridge_form() {
        let p = crate::profile::parse("name = \"t\"\n[cluster]\nstop_model = \"host\"", "t").unwrap();
        assert_eq!(p.cluster.stop_model, crate::plan::StopModel::Host);
        assert_eq!(crate::profile::parse("name = \"t\"", "t").unwrap().cluster.stop_model, crate::plan::StopModel::Process);
        let e = crate::profile::parse("name = \"t\"\n[cluster]\nstop_model = \"vm\"", "t").unwrap_err().to_string();
        assert!(e.contains("stop_model") && e.contains("\"process\""), "{e}");
        let engines = "[[cluster.engines]]\nname = \"a\"\nendpoint = \"unix:///a.sock\"\naddress = \"10.0.0.1\"\n";
        let e = crate::profile::parse(&format!("name = \"t\"\n[cluster]\nstop_model = \"host\"\n{engines}"), "t").unwrap_err().to_string();
        assert!(e.contains("cluster.stop_model") && e.contains("bridge form"), "{e}");
    }

    #[test]
    fn cpuset_and_cpus_are_validated() {
        assert_eq!(cpuset_cpus("1-3").unwrap(), vec![1, 2, 3]);
        assert_eq!(cpuset_cpus("0,2-3,2").unwrap(), vec![0, 2, 3]);
        let mut p = plan();
        p.cluster.cpuset = Some("1-3".into());
        p.cluster.cpus = Some(0.5);
        validate(&p).unwrap();
        for bad in ["", "1-", "3-1", "a", "1;2", "0-1024", "-1"] {
            let mut p = plan();
            p.cluster.cpuset = Some(bad.into());
            let e = validate(&p).unwrap_err();
            assert_eq!(e.field(), Some("cluster.cpuset"), "{bad:?}");
            assert!(e.to_string().contains("e.g. cpuset = \"1-3\""), "{e}");
        }
        let e = crate::profile::parse("name = \"t\"\n[cluster]\ncpuset = \"2-1\"", "t").unwrap_err().to_string();
        assert!(e.contains("cluster.cpuset") && e.contains("runs backwards") && e.contains("--cpuset-cpus syntax"), "{e}");
        for bad in [0.0, -1.0, f64::INFINITY, 2000.0] {
            let mut p = plan();
            p.cluster.cpus = Some(bad);
            assert_eq!(field_of(&p), "cluster.cpus", "{bad}");
        }
        let p = crate::profile::parse("name = \"t\"\n[cluster]\ncpuset = \"1\"\ncpus = 1", "t").unwrap();
        assert_eq!((p.cluster.cpuset.as_deref(), p.cluster.cpus), (Some("1"), Some(1.0)));
    }

    #[test]
    fn closed_mode_ignores_rate() {
        let mut p = plan();
        p.load.mode = LoadMode::Closed;
        p.load.rate = 0;
        validate(&p).unwrap();
        p.load.in_flight = 0;
        assert_eq!(field_of(&p), "load.in_flight");
    }
}
