//! The profile's keys and value types, walked over the parsed TOML before serde sees it.
//!
//! Serde's own messages for unknown fields and wrong types name neither the dotted path nor the
//! closest valid key, so the walk here produces the user-facing errors and serde's
//! deserialization afterwards cannot fail for a document that passed. The key lists must match
//! the structs in [`crate::plan`] (a unit test below checks every key deserializes).

use super::ProfileError;
use toml::{Table, Value};

/// The type a key's value must have.
#[derive(Clone, Copy)]
enum Ty {
    Str,
    U32,
    U64,
    /// Seconds; integers are accepted too.
    F64,
    Bool,
    Enum(&'static [&'static str]),
    /// `"leader"` or a server id.
    Target,
    /// A table of operation name → weight (names are checked by `validate`).
    Mix,
    /// An array of strings.
    StrList,
    Table(&'static [Key]),
    /// The `[procedure]` table, whose keys depend on `kind`.
    Procedure,
    /// A server: an id or a name bound by a `find` step.
    Ref,
    /// A list of servers.
    RefList,
    /// The `[[procedure.steps]]` array, whose keys depend on each step's `action`.
    Steps,
    /// An array of tables with these keys (`[[cluster.engines]]`).
    TableList(&'static [Key]),
    /// A table of string values (labels).
    StrMap,
}

struct Key {
    name: &'static str,
    ty: Ty,
    /// What values are valid, for messages (kept short).
    valid: &'static str,
}

const fn key(name: &'static str, ty: Ty, valid: &'static str) -> Key {
    Key { name, ty, valid }
}

const MS: &str = "milliseconds";

const CLUSTER: &[Key] = &[
    key("image", Ty::Str, "a Docker image, e.g. \"zkchaos/zookeeper:3.8.0\""),
    key("image_kind", Ty::Enum(&["auto", "debian", "official"]), "\"auto\", \"debian\" or \"official\""),
    key("size", Ty::U32, "an odd number of servers from 1 to 9"),
    key("dynamic_config", Ty::Bool, "true or false"),
    key("tick_time_ms", Ty::U32, MS),
    key("init_limit", Ty::U32, "ticks"),
    key("sync_limit", Ty::U32, "ticks"),
    key("heap_mb", Ty::U32, "MiB per server"),
    key("jvm_flags", Ty::StrList, "a list of JVM options, e.g. [\"-XX:+UseSerialGC\"]"),
    key("engines", Ty::TableList(ENGINE), "[[cluster.engines]] tables with name, endpoint and address"),
    key("placement", Ty::StrList, "engine names of server 1, 2, ..., e.g. [\"th1\", \"th2\", \"th3\"]"),
    key("cpuset", Ty::Str, "host CPUs in Docker's syntax, e.g. \"1-3\" or \"0,2\""),
    key("cpus", Ty::F64, "a CPU quota per server, e.g. 0.5"),
    key("stop_model", Ty::Enum(&["process", "host"]), "\"process\" (a stopped server's address refuses connects) or \"host\" (its address goes silent)"),
];

const ENGINE: &[Key] = &[
    key("name", Ty::Str, "a short name, e.g. name = \"th1\""),
    key("endpoint", Ty::Str, "unix:///path/docker.sock, tcp://host:port or ssh://user@host"),
    key("address", Ty::Str, "the IP address servers on this engine are reached at, e.g. \"10.231.77.11\""),
    key("tls_ca", Ty::Str, "path of the CA certificate (PEM) for a tcp:// endpoint"),
    key("tls_cert", Ty::Str, "path of the client certificate (PEM) for a tcp:// endpoint"),
    key("tls_key", Ty::Str, "path of the client key (PEM) for a tcp:// endpoint"),
    key("labels", Ty::StrMap, "a table of strings, e.g. labels = { rack = \"a\" }"),
];

const LOAD: &[Key] = &[
    key("mode", Ty::Enum(&["open", "closed"]), "\"open\" or \"closed\""),
    key("rate", Ty::U32, "operations per second, at least 1"),
    key("in_flight", Ty::U32, "requests in flight, at least 1"),
    key("sessions", Ty::U32, "at least 1"),
    key("keys", Ty::U32, "at least 1"),
    key("value_size", Ty::U32, "bytes"),
    key("mix", Ty::Mix, "e.g. mix = { get = 80, set = 20 }"),
    key("session_timeout_ms", Ty::U32, MS),
    key("op_timeout_ms", Ty::U32, MS),
    key("interval_ms", Ty::U32, MS),
    key("events", Ty::Bool, "true or false"),
    key("update_server_list_after_expansion", Ty::Bool, "true or false"),
    key("agents", Ty::Table(AGENTS), "[load.agents]"),
    key("threads", Ty::U32, "load threads in this process, 0 (one per 8,000 ops/s, at most the CPUs) to 64"),
    key("reconnect", Ty::Enum(&["client", "eager"]), "\"client\" (the client library's back-off) or \"eager\" (zkchaos reconnects on a bounded schedule)"),
];

const AGENTS: &[Key] = &[
    key("count", Ty::U32, "load agents, 0 (the load runs in zkchaos itself) to 64"),
    key("engines", Ty::StrList, "engine names from [[cluster.engines]], agent i on engines[i mod len], e.g. [\"th1\", \"th2\"]; empty: the local engine"),
    key("image", Ty::Str, "the agents' image, e.g. \"zkchaos/agent:latest\" (zkchaos image build --agent)"),
];

const PHASES: &[Key] = &[
    key("warmup_s", Ty::F64, "seconds"),
    key("converge_timeout_s", Ty::F64, "seconds"),
    key("converge_rounds", Ty::U32, "consecutive checks, from 1 to 50"),
    key("post_s", Ty::F64, "seconds"),
    // The plan's spelling of procedure.repeat / procedure.cycle_gap_s (a plan written back as TOML).
    key("cycles", Ty::U32, "cycles of the procedure (write procedure.repeat in a profile)"),
    key("cycle_gap_s", Ty::F64, "seconds (write procedure.cycle_gap_s in a profile)"),
];

const MONITOR: &[Key] = &[key("interval_ms", Ty::U32, MS), key("timeout_ms", Ty::U32, MS)];

const TOP: &[Key] = &[
    key("name", Ty::Str, "e.g. name = \"steady-3\""),
    key("description", Ty::Str, "free text"),
    key("seed", Ty::U64, "the seed of the operation mix, e.g. seed = 42"),
    key("cluster", Ty::Table(CLUSTER), "[cluster]"),
    key("load", Ty::Table(LOAD), "[load]"),
    key("phases", Ty::Table(PHASES), "[phases]"),
    key("procedure", Ty::Procedure, "[procedure]"),
    key("monitor", Ty::Table(MONITOR), "[monitor]"),
];

const KINDS: &[&str] = &["none", "pause", "restart-expand", "rolling-expand", "reconfig-expand", "steps"];
const KIND: Key = key(
    "kind",
    Ty::Enum(KINDS),
    "\"none\", \"pause\", \"restart-expand\", \"rolling-expand\", \"reconfig-expand\" or \"steps\" (a runbook)",
);
const TO: Key = key("to", Ty::U32, "an odd number of servers larger than cluster.size, at most 9");

/// Keys every procedure kind accepts: its repetition into cycles (moved to `phases.cycles` /
/// `phases.cycle_gap_s` of the plan by [`super::parse`]).
const CYCLE_KEYS: &[Key] = &[
    key("repeat", Ty::U32, "cycles of the procedure in one run, 1 to 100, e.g. repeat = 5"),
    key("cycle_gap_s", Ty::F64, "seconds of load between a cycle's convergence and the next cycle"),
];

/// Keys of each procedure kind besides `kind`, and which are required.
fn procedure_keys(kind: &str) -> (&'static [Key], &'static [&'static str]) {
    const NONE: &[Key] = &[key("duration_s", Ty::F64, "seconds")];
    const PAUSE: &[Key] = &[
        key("target", Ty::Target, "\"leader\" or a server id from 1 to cluster.size"),
        key("duration_ms", Ty::U64, MS),
    ];
    const RESTART: &[Key] = &[TO, key("order", Ty::Enum(&["new-first", "old-first"]), "\"new-first\" or \"old-first\"")];
    const ROLLING: &[Key] = &[
        TO,
        key("order", Ty::Enum(&["ids", "leader-first", "leader-last"]), "\"ids\", \"leader-first\" or \"leader-last\""),
        key("step_gap_ms", Ty::U64, MS),
    ];
    const RECONFIG: &[Key] = &[
        TO,
        key("step", Ty::Enum(&["together", "one-by-one"]), "\"together\" or \"one-by-one\""),
        key("auth", Ty::Enum(&["super-digest", "skip-acl"]), "\"super-digest\" or \"skip-acl\""),
        key("max_attempts", Ty::U32, "at least 1"),
    ];
    const STEPS: &[Key] = &[
        key("steps", Ty::Steps, "a list of [[procedure.steps]] tables, each with an action"),
        key("auth", Ty::Enum(&["super-digest", "skip-acl"]), "\"super-digest\" or \"skip-acl\""),
    ];
    match kind {
        "steps" => (STEPS, &["steps"]),
        "pause" => (PAUSE, &[]),
        "restart-expand" => (RESTART, &["to"]),
        "rolling-expand" => (ROLLING, &["to"]),
        "reconfig-expand" => (RECONFIG, &["to"]),
        _ => (NONE, &[]),
    }
}

/// Check every key and value type of a parsed profile.
pub(super) fn check(root: &Table) -> Result<(), ProfileError> {
    check_table(root, TOP, "")?;
    if !root.contains_key("name") {
        return Err(ProfileError::MissingKey {
            key: "name".into(),
            detail: "every profile needs a name, which names its results directory; add e.g. name = \"steady-3\"".into(),
        });
    }
    Ok(())
}

fn check_table(table: &Table, keys: &[Key], prefix: &str) -> Result<(), ProfileError> {
    for (name, value) in table {
        let path = format!("{prefix}{name}");
        match keys.iter().find(|k| k.name == name) {
            Some(k) => check_value(value, k, &path)?,
            None => {
                let names: Vec<&str> = keys.iter().map(|k| k.name).collect();
                return Err(unknown_key(name, &path, prefix, &names));
            }
        }
    }
    Ok(())
}

fn check_value(value: &Value, key: &Key, path: &str) -> Result<(), ProfileError> {
    let wrong = |expected: String| ProfileError::WrongType { field: path.to_string(), expected, found: describe(value) };
    match (key.ty, value) {
        (Ty::Str, Value::String(_)) | (Ty::Bool, Value::Boolean(_)) => Ok(()),
        (Ty::StrList, Value::Array(items)) if items.iter().all(Value::is_str) => Ok(()),
        (Ty::StrList, _) => Err(wrong(key.valid.into())),
        (Ty::F64, Value::Float(_) | Value::Integer(_)) => Ok(()),
        (Ty::U32, Value::Integer(i)) => integer_in_range(*i, u32::MAX.into(), key, path),
        (Ty::U64, Value::Integer(i)) => integer_in_range(*i, i64::MAX, key, path),
        (Ty::Enum(names), Value::String(s)) => {
            if names.contains(&s.as_str()) {
                Ok(())
            } else {
                let hint = closest(s, names).map(|c| format!("did you mean \"{c}\"? ")).unwrap_or_default();
                Err(ProfileError::Invalid {
                    field: path.into(),
                    value: format!("{s:?}"),
                    reason: format!("is not a valid choice; {hint}valid: {}", key.valid),
                })
            }
        }
        (Ty::Target, Value::String(s)) if s == "leader" => Ok(()),
        (Ty::Target, Value::Integer(i)) => integer_in_range(*i, u32::MAX.into(), key, path),
        (Ty::Mix, Value::Table(mix)) => {
            for (op, weight) in mix {
                let field = format!("{path}.{op}");
                if !crate::plan::OpKind::parse(op).is_some_and(|k| k.is_mixable()) {
                    let names: Vec<&str> =
                        crate::plan::OpKind::ALL.iter().filter(|k| k.is_mixable()).map(|k| k.as_str()).collect();
                    let hint = closest(op, &names).map(|c| format!("did you mean `{c}`? ")).unwrap_or_default();
                    return Err(ProfileError::UnknownKey {
                        key: field,
                        hint: format!(": not an operation; {hint}valid operations: {}", names.join(", ")),
                    });
                }
                match weight {
                    Value::Integer(i) => integer_in_range(*i, u32::MAX.into(), &key_weight(), &field)?,
                    other => {
                        return Err(ProfileError::WrongType {
                            field,
                            expected: "a whole-number weight such as 50".into(),
                            found: describe(other),
                        })
                    }
                }
            }
            Ok(())
        }
        (Ty::Table(keys), Value::Table(t)) => check_table(t, keys, &format!("{path}.")),
        (Ty::Procedure, Value::Table(t)) => check_procedure(t),
        (Ty::Ref, Value::String(_)) => Ok(()),
        (Ty::Ref, Value::Integer(i)) => integer_in_range(*i, u32::MAX.into(), key, path),
        (Ty::RefList, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_value(item, &key_ref(), &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Ty::Steps, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::Table(t) => super::steps::check_step_keys(t, i)?,
                    other => return Err(ProfileError::WrongType { field: format!("{path}[{i}]"), expected: "a table ([[procedure.steps]])".into(), found: describe(other) }),
                }
            }
            Ok(())
        }
        (Ty::TableList(keys), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::Table(t) => check_table(t, keys, &format!("{path}[{i}]."))?,
                    other => return Err(ProfileError::WrongType { field: format!("{path}[{i}]"), expected: format!("a table ({})", key.valid), found: describe(other) }),
                }
            }
            Ok(())
        }
        (Ty::StrMap, Value::Table(t)) => match t.iter().find(|(_, v)| !v.is_str()) {
            Some((k, v)) => Err(ProfileError::WrongType { field: format!("{path}.{k}"), expected: "a string".into(), found: describe(v) }),
            None => Ok(()),
        },
        (Ty::TableList(_), _) => Err(wrong(format!("an array of tables ({})", key.valid))),
        (Ty::StrMap, _) => Err(wrong(format!("a table ({})", key.valid))),
        (Ty::Ref, _) => Err(wrong(key.valid.into())),
        (Ty::RefList | Ty::Steps, _) => Err(wrong(format!("an array ({})", key.valid))),
        (Ty::Str, _) => Err(wrong(format!("a string ({})", key.valid))),
        (Ty::Bool, _) => Err(wrong("true or false".into())),
        (Ty::F64, _) => Err(wrong(format!("a number of {}", key.valid))),
        (Ty::U32 | Ty::U64, _) => Err(wrong(format!("a whole number ({})", key.valid))),
        (Ty::Enum(_), _) => Err(wrong(format!("a string: {}", key.valid))),
        (Ty::Target, _) => Err(wrong(key.valid.into())),
        (Ty::Mix, _) => Err(wrong(format!("a table of operation weights ({})", key.valid))),
        (Ty::Table(_) | Ty::Procedure, _) => Err(wrong(format!("a table (a {} section)", key.valid))),
    }
}

fn key_ref() -> Key {
    key("server", Ty::Ref, "a server id or a name bound by a find step")
}

/// Check one step table's keys for its action (see [`super::steps::step_keys`]).
pub(super) fn check_keys_of(t: &Table, keys: &[(&'static str, StepTy, &'static str)], prefix: &str) -> Result<(), ProfileError> {
    let keys: Vec<Key> = keys.iter().map(|(n, ty, valid)| key(n, ty.ty(), valid)).collect();
    check_table(t, &keys, prefix)
}

/// The value types of step fields (a public view of [`Ty`] for [`super::steps`]).
#[derive(Clone, Copy)]
pub(super) enum StepTy {
    Str,
    U32,
    U64,
    F64,
    Bool,
    Enum(&'static [&'static str]),
    Ref,
    RefList,
}

impl StepTy {
    fn ty(self) -> Ty {
        match self {
            StepTy::Str => Ty::Str,
            StepTy::U32 => Ty::U32,
            StepTy::U64 => Ty::U64,
            StepTy::F64 => Ty::F64,
            StepTy::Bool => Ty::Bool,
            StepTy::Enum(n) => Ty::Enum(n),
            StepTy::Ref => Ty::Ref,
            StepTy::RefList => Ty::RefList,
        }
    }
}

fn key_weight() -> Key {
    key("weight", Ty::U32, "a whole-number weight from 0 to 4294967295")
}

fn integer_in_range(i: i64, max: i64, key: &Key, path: &str) -> Result<(), ProfileError> {
    if i < 0 {
        Err(ProfileError::Invalid {
            field: path.into(),
            value: i.to_string(),
            reason: format!("is negative; it takes a whole number ({})", key.valid),
        })
    } else if i > max {
        Err(ProfileError::Invalid {
            field: path.into(),
            value: i.to_string(),
            reason: format!("is too large; it must be at most {max} ({})", key.valid),
        })
    } else {
        Ok(())
    }
}

fn check_procedure(t: &Table) -> Result<(), ProfileError> {
    let kind = match t.get("kind") {
        None => {
            return Err(ProfileError::MissingKey {
                key: "procedure.kind".into(),
                detail: format!("a [procedure] section needs a kind; valid: {}", KIND.valid),
            })
        }
        Some(v) => {
            check_value(v, &KIND, "procedure.kind")?;
            v.as_str().unwrap_or("none")
        }
    };
    let (keys, required) = procedure_keys(kind);
    for (name, value) in t.iter().filter(|(name, _)| name.as_str() != "kind") {
        let path = format!("procedure.{name}");
        match keys.iter().chain(CYCLE_KEYS).find(|k| k.name == name) {
            Some(k) => check_value(value, k, &path)?,
            None => {
                let owners: Vec<&str> =
                    KINDS.iter().copied().filter(|kd| procedure_keys(kd).0.iter().any(|k| k.name == name)).collect();
                let mut names = vec!["kind"];
                names.extend(keys.iter().map(|k| k.name));
                if owners.is_empty() {
                    return Err(unknown_key(name, &path, "procedure.", &names));
                }
                return Err(ProfileError::UnknownKey {
                    key: path,
                    hint: format!(
                        " for procedure kind \"{kind}\" (it belongs to {}); keys of \"{kind}\": {}",
                        quoted(&owners),
                        names.join(", ")
                    ),
                });
            }
        }
    }
    for req in required {
        if !t.contains_key(*req) {
            let detail = if *req == "steps" {
                "procedure kind \"steps\" needs its steps; add [[procedure.steps]] tables, e.g. action = \"kill\" and server = 2".to_string()
            } else {
                format!("procedure kind \"{kind}\" needs the ensemble size to reach; add e.g. to = 5")
            };
            return Err(ProfileError::MissingKey { key: format!("procedure.{req}"), detail });
        }
    }
    Ok(())
}

fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
}

/// An unknown-key error suggesting the closest key of the same table, or the same key in the
/// table where it belongs, or else listing the valid keys.
fn unknown_key(name: &str, path: &str, prefix: &str, names: &[&str]) -> ProfileError {
    let section = if prefix.is_empty() { "at the top level".to_string() } else { format!("in [{}]", prefix.trim_end_matches('.')) };
    let hint = if let Some(best) = closest(name, names) {
        format!("; did you mean `{prefix}{best}`?")
    } else if let Some(home) = home_of(name) {
        format!("; did you mean `{home}`?")
    } else {
        format!("; valid keys {section}: {}", names.join(", "))
    };
    ProfileError::UnknownKey { key: path.into(), hint }
}

/// Where a key that is valid somewhere else lives, e.g. `rate` → `load.rate`.
fn home_of(name: &str) -> Option<String> {
    for top in TOP {
        if let Ty::Table(keys) = top.ty {
            if keys.iter().any(|k| k.name == name) {
                return Some(format!("{}.{name}", top.name));
            }
        }
    }
    KINDS
        .iter()
        .any(|kind| procedure_keys(kind).0.iter().any(|k| k.name == name) || name == "kind")
        .then(|| format!("procedure.{name}"))
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
pub(super) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
        .or_else(|| {
            // A truncated name (`rolling` for `rolling-expand`) is too far by edit distance.
            let mut prefixed = candidates.iter().filter(|c| word.chars().count() >= 3 && c.starts_with(word));
            match (prefixed.next(), prefixed.next()) {
                (Some(only), None) => Some(*only),
                _ => None,
            }
        })
}

/// Edit distance over characters counting insertions, deletions, substitutions and swaps of
/// adjacent characters (optimal string alignment), since `gte` for `get` is a typical typo.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// A value as a user would recognise it in a message: its TOML type and (short) text.
fn describe(value: &Value) -> String {
    let text = value.to_string();
    let text = if text.chars().count() > 40 { format!("{}…", text.chars().take(40).collect::<String>()) } else { text };
    match value {
        Value::String(_) => format!("string {text}"),
        Value::Integer(_) => format!("integer {text}"),
        Value::Float(_) => format!("float {text}"),
        Value::Boolean(_) => format!("boolean {text}"),
        Value::Datetime(_) => format!("date-time {text}"),
        Value::Array(_) => "an array".into(),
        Value::Table(_) => "a table".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("rat", "rate"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("gte", "get"), 1);
        assert_eq!(closest("rat", &["rate", "mode"]), Some("rate"));
        assert_eq!(closest("zzzz", &["rate", "mode"]), None);
        assert_eq!(closest("rolling", &["rolling-expand", "reconfig-expand"]), Some("rolling-expand"));
        assert_eq!(closest("re", &["restart-expand", "reconfig-expand"]), None);
    }

    #[test]
    fn unknown_key_suggests_closest() {
        let t: Table = toml::from_str("name='x'\n[load]\nrat = 5").unwrap();
        let e = check(&t).unwrap_err().to_string();
        assert_eq!(e, "unknown key `load.rat`; did you mean `load.rate`?");
    }

    #[test]
    fn misplaced_key_points_home() {
        let t: Table = toml::from_str("name='x'\nrate = 5").unwrap();
        assert_eq!(check(&t).unwrap_err().to_string(), "unknown key `rate`; did you mean `load.rate`?");
    }

    /// Every key in the schema is accepted by serde with a value of its type, so the walk and
    /// the structs agree (a key in the schema but not in plan.rs would fail here).
    #[test]
    fn schema_matches_plan_structs() {
        let sample = |ty: Ty| -> Value {
            match ty {
                Ty::Str => Value::String("x".into()),
                Ty::U32 | Ty::U64 | Ty::Target => Value::Integer(1),
                Ty::F64 => Value::Float(1.0),
                Ty::Bool => Value::Boolean(true),
                Ty::Enum(names) => Value::String(names[names.len() - 1].into()),
                Ty::Mix => toml::from_str::<Table>("get = 1").map(Value::Table).unwrap(),
                Ty::StrList => Value::Array(vec![Value::String("-Dx=1".into())]),
                Ty::Table(_) | Ty::Procedure => Value::Table(Table::new()),
                Ty::Ref => Value::String("L".into()),
                Ty::RefList => Value::Array(vec![Value::Integer(1)]),
                Ty::Steps => toml::from_str::<Table>("s = [{ action = \"sleep\", duration_ms = 1 }]").unwrap()["s"].clone(),
                Ty::TableList(keys) => Value::Array(vec![Value::Table(
                    keys.iter()
                        .map(|k| {
                            let v = if matches!(k.ty, Ty::StrMap) { toml::from_str::<Table>("a = \"b\"").map(Value::Table).unwrap() } else { Value::String("x".into()) };
                            (k.name.to_string(), v)
                        })
                        .collect(),
                )]),
                Ty::StrMap => toml::from_str::<Table>("a = \"b\"").map(Value::Table).unwrap(),
            }
        };
        let mut root = Table::new();
        for top in TOP {
            match top.ty {
                Ty::Table(keys) => {
                    root.insert(top.name.into(), Value::Table(keys.iter().map(|k| (k.name.to_string(), sample(k.ty))).collect()));
                }
                Ty::Procedure => {}
                ty => {
                    root.insert(top.name.into(), sample(ty));
                }
            }
        }
        for kind in KINDS {
            let mut proc: Table = procedure_keys(kind).0.iter().map(|k| (k.name.to_string(), sample(k.ty))).collect();
            proc.insert("kind".into(), Value::String(kind.to_string()));
            root.insert("procedure".into(), Value::Table(proc));
            check(&root).unwrap_or_else(|e| panic!("{kind}: {e}"));
            let plan: Result<crate::plan::Plan, _> = Value::Table(root.clone()).try_into();
            plan.unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
    }
}
