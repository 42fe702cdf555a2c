//! Profile parsing never panics and never lets a bad plan through.
//!
//! Three kinds of input go to `profile::parse`: arbitrary bytes, mutations of the fixtures in
//! `tests/corpus/`, and TOML documents built from arbitrary (often nearly valid) values at the
//! known keys. Every outcome must be either a one-line error or a plan that passes `validate`
//! and survives a round trip through TOML. The fixtures themselves are checked too: each good
//! one loads, each bad one fails with a message containing its `# expect:` text.

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use toml::{Table, Value};
use zkchaos::profile::{self, ProfileError};

/// The outcome every input must have: a usable plan, or an error that is one line and (past the
/// syntax stage) names a field.
fn check_outcome(text: &str) -> Result<(), TestCaseError> {
    match profile::parse(text, "fuzz.toml") {
        Ok(plan) => {
            prop_assert!(profile::validate(&plan).is_ok(), "parse accepted a plan validate rejects: {plan:?}");
            let again = toml::to_string(&plan).map_err(|e| TestCaseError::fail(format!("serialise {plan:?}: {e}")))?;
            let reparsed = profile::parse(&again, "round-trip");
            prop_assert_eq!(reparsed.ok(), Some(plan));
        }
        Err(e) => {
            let message = e.to_string();
            prop_assert!(!message.contains('\n'), "multi-line message: {message}");
            prop_assert!(message.starts_with("fuzz.toml: "), "no source name: {message}");
            let inner = match &e {
                ProfileError::InProfile { error, .. } => error.as_ref(),
                other => other,
            };
            match inner {
                ProfileError::Syntax { line, column, .. } => prop_assert!(*line >= 1 && *column >= 1),
                ProfileError::Schema { .. } => prop_assert!(false, "schema walk missed something serde rejected: {message}"),
                _ => prop_assert!(e.field().is_some(), "error names no field: {message}"),
            }
        }
    }
    Ok(())
}

fn corpus_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(kind)
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn good_corpus_loads() {
    let files = toml_files(&corpus_dir("good"));
    assert!(!files.is_empty());
    for path in files {
        profile::load(&path).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn bad_corpus_fails_naming_the_field() {
    let files = toml_files(&corpus_dir("bad"));
    assert!(files.len() >= 30, "expected the bad-profile fixtures, found {}", files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} must start with `# expect: <text>`", path.display()));
        let message = match profile::load(&path) {
            Ok(plan) => panic!("{} loaded but should fail: {plan:?}", path.display()),
            Err(e) => e.to_string(),
        };
        assert!(message.contains(expect), "{}: message does not contain {expect:?}: {message}", path.display());
        assert!(message.starts_with(&format!("{}: ", path.display())), "{message}");
        assert!(!message.contains('\n'), "{message}");
        println!("{}: {message}", path.file_name().unwrap().to_string_lossy());
    }
}

#[test]
fn missing_file_names_the_path() {
    let e = profile::load(Path::new("no/such/profile.toml")).unwrap_err().to_string();
    assert!(e.starts_with("profile file `no/such/profile.toml` does not exist; "), "{e}");
}

#[test]
fn directory_is_not_a_profile() {
    let dir = tempfile::tempdir().unwrap();
    let e = profile::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains("is a directory, not a profile file"), "{e}");
}

#[test]
fn non_utf8_file_gives_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(&path, b"name = \"x\"\n\xff").unwrap();
    let e = profile::load(&path).unwrap_err().to_string();
    assert!(e.contains("is not UTF-8 text (invalid byte at line 2, column 1)"), "{e}");
}

/// Values of every TOML type, biased towards the edges (0, negatives, NaN, huge).
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        (-3i64..12).prop_map(Value::Integer),
        any::<i64>().prop_map(Value::Integer),
        prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(-1.5), 0.0f64..1e6].prop_map(Value::Float),
        any::<bool>().prop_map(Value::Boolean),
        prop::sample::select(WORDS).prop_map(|s| Value::String(s.to_string())),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(WORDS).prop_map(String::from), inner, 0..3)
                .prop_map(|m| Value::Table(m.into_iter().collect())),
        ]
    })
}

/// Strings the schema knows, so enums and op names are often right.
const WORDS: &[&str] = &[
    "leader", "open", "closed", "auto", "debian", "official", "none", "pause", "restart-expand", "rolling-expand",
    "reconfig-expand", "new-first", "old-first", "ids", "leader-first", "leader-last", "together", "one-by-one",
    "super-digest", "skip-acl", "get", "set", "create", "exists", "delete", "multi", "gett", "rate", "",
];

fn int(values: &'static [i64]) -> BoxedStrategy<Value> {
    prop::sample::select(values).prop_map(Value::Integer).boxed()
}
fn float(values: &'static [f64]) -> BoxedStrategy<Value> {
    prop::sample::select(values).prop_map(Value::Float).boxed()
}
fn string(values: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop::sample::select(values).prop_map(|s| Value::String(s.to_string())).boxed()
}
fn boolean() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(Value::Boolean).boxed()
}
fn mix() -> BoxedStrategy<Value> {
    prop::collection::btree_map(prop::sample::select(&WORDS[20..26]).prop_map(String::from), (0i64..5).prop_map(Value::Integer), 1..4)
        .prop_map(|m| Value::Table(m.into_iter().collect()))
        .boxed()
}

/// (section, key, plausible values); section "" is the top level.
fn known_keys() -> Vec<(&'static str, &'static str, BoxedStrategy<Value>)> {
    vec![
        ("", "description", string(&["", "fuzz"])),
        ("", "seed", int(&[0, 7, i64::MAX])),
        ("cluster", "image", string(&["zkchaos/zookeeper:3.8.0", "zookeeper:3.9"])),
        ("cluster", "image_kind", string(&["auto", "debian", "official"])),
        ("cluster", "size", int(&[1, 3, 5])),
        ("cluster", "dynamic_config", boolean()),
        ("cluster", "tick_time_ms", int(&[500, 2000])),
        ("cluster", "init_limit", int(&[5, 10])),
        ("cluster", "sync_limit", int(&[2, 5])),
        ("cluster", "heap_mb", int(&[128, 256])),
        ("load", "mode", string(&["open", "closed"])),
        ("load", "rate", int(&[1, 1000])),
        ("load", "in_flight", int(&[1, 64])),
        ("load", "sessions", int(&[1, 4])),
        ("load", "keys", int(&[1, 100])),
        ("load", "value_size", int(&[0, 100, 1_047_552])),
        ("load", "mix", mix()),
        ("load", "session_timeout_ms", int(&[4000, 10_000])),
        ("load", "op_timeout_ms", int(&[500, 2000])),
        ("load", "interval_ms", int(&[10, 100])),
        ("load", "events", boolean()),
        ("load", "update_server_list_after_expansion", boolean()),
        ("phases", "warmup_s", float(&[0.0, 1.5, 10.0])),
        ("phases", "converge_timeout_s", float(&[1.0, 120.0])),
        ("phases", "post_s", float(&[0.0, 15.0])),
        ("monitor", "interval_ms", int(&[100, 200])),
        ("monitor", "timeout_ms", int(&[50, 100])),
        ("procedure", "kind", string(&["none", "pause", "restart-expand", "rolling-expand", "reconfig-expand"])),
        ("procedure", "to", int(&[3, 5, 7])),
        ("procedure", "order", string(&["new-first", "old-first", "ids", "leader-first", "leader-last"])),
        ("procedure", "step", string(&["together", "one-by-one"])),
        ("procedure", "auth", string(&["super-digest", "skip-acl"])),
        ("procedure", "max_attempts", int(&[1, 5])),
        ("procedure", "target", prop_oneof![string(&["leader"]), int(&[1, 2, 3])].boxed()),
        ("procedure", "duration_ms", int(&[1, 3000])),
        ("procedure", "duration_s", float(&[0.0, 5.0])),
        ("procedure", "step_gap_ms", int(&[0, 100])),
    ]
}

/// What to put at one key: nothing or a plausible value (almost always for the keys a
/// procedure needs, so that procedures are usually complete).
fn slot(key: &str, plausible: BoxedStrategy<Value>) -> impl Strategy<Value = Option<Value>> {
    let present = if matches!(key, "kind" | "to") { 0.95 } else { 0.5 };
    prop::option::weighted(present, plausible)
}

/// Keys each procedure kind accepts besides `kind`.
fn kind_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "none" => &["duration_s"],
        "pause" => &["target", "duration_ms"],
        "restart-expand" => &["to", "order"],
        "rolling-expand" => &["to", "order", "step_gap_ms"],
        _ => &["to", "step", "auth", "max_attempts"],
    }
}

/// A profile document: `name` (usually), the known keys with plausible values at random (the
/// procedure keys usually matching `kind`), then a few keys overwritten with anything at all
/// (arbitrary values, stray keys) in two documents out of three.
fn document() -> impl Strategy<Value = String> {
    let keys = known_keys();
    let names: Vec<(&'static str, &'static str)> = keys.iter().map(|(s, k, _)| (*s, *k)).collect();
    let slots: Vec<_> = keys.into_iter().map(|(_, key, strategy)| slot(key, strategy)).collect();
    let name = prop_oneof![8 => Just(Some(Value::String("fz".into()))), 1 => Just(None), 1 => any_value().prop_map(Some)];
    let override_key = prop_oneof![
        3 => any::<prop::sample::Index>().prop_map(Err),
        1 => (prop::sample::select(&["", "cluster", "load", "procedure", "monitor"][..]), "[a-z_]{1,8}").prop_map(Ok),
    ];
    let overrides = prop_oneof![1 => Just(Vec::new()), 2 => prop::collection::vec((override_key, any_value()), 1..3)];
    let foreign_procedure_keys = prop::bool::weighted(0.1);
    (name, slots, overrides, foreign_procedure_keys).prop_map(move |(name, values, overrides, foreign)| {
        let mut root = Table::new();
        if let Some(name) = name {
            root.insert("name".into(), name);
        }
        for ((section, key), value) in names.iter().zip(values) {
            if let Some(value) = value {
                insert(&mut root, section, key, value);
            }
        }
        if !foreign {
            if let Some(Value::Table(procedure)) = root.get_mut("procedure") {
                let kind = procedure.get("kind").and_then(Value::as_str).unwrap_or("none").to_string();
                procedure.retain(|key, _| key == "kind" || kind_keys(&kind).contains(&key));
            }
        }
        for (key, value) in overrides {
            match key {
                Err(index) => {
                    let (section, key) = names[index.index(names.len())];
                    insert(&mut root, section, key, value);
                }
                Ok((section, key)) => insert(&mut root, section, &key, value),
            }
        }
        toml::to_string(&root).unwrap_or_default()
    })
}

fn insert(root: &mut Table, section: &str, key: &str, value: Value) {
    if section.is_empty() {
        root.insert(key.into(), value);
    } else if let Value::Table(t) = root.entry(section).or_insert_with(|| Value::Table(Table::new())) {
        t.insert(key.into(), value);
    }
}

/// Corpus files, for mutation.
fn corpus_texts() -> Vec<String> {
    ["good", "bad"]
        .iter()
        .flat_map(|kind| toml_files(&corpus_dir(kind)))
        .chain(toml_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles")))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_outcome(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn arbitrary_documents_are_errors_or_valid_plans(text in document()) {
        check_outcome(&text)?;
    }

    #[test]
    fn mutated_corpus_never_panics(
        index in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let texts = corpus_texts();
        let mut bytes = texts[index.index(texts.len())].clone().into_bytes();
        for (at, byte, op) in edits {
            let at = at.index(bytes.len() + 1);
            match op {
                0 => bytes.insert(at, byte),
                1 if at < bytes.len() => { bytes.remove(at); }
                _ if at < bytes.len() => bytes[at] = byte,
                _ => bytes.push(byte),
            }
        }
        check_outcome(&String::from_utf8_lossy(&bytes))?;
    }
}

/// The generator must reach valid plans often enough for the round-trip property to matter.
#[test]
fn generated_documents_are_sometimes_valid() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = document();
    let valid = (0..500)
        .filter(|_| strategy.new_tree(&mut runner).map(|t| profile::parse(&t.current(), "g").is_ok()).unwrap_or(false))
        .count();
    println!("{valid} of 500 generated documents were valid");
    assert!(valid >= 25, "only {valid} of 500 generated documents were valid");
}

