//! `zkchaos run` with bad profiles: exit code 2, one sentence on stderr naming the field, and
//! nothing started or written.
//!
//! The binary is run with `DOCKER_HOST` pointing at a socket that does not exist, so that if
//! validation ever stopped happening before Docker is touched, these tests would fail quickly
//! instead of starting containers.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Outcome {
    code: Option<i32>,
    stderr: String,
}

fn run(profiles: &[PathBuf]) -> (Outcome, tempfile::TempDir) {
    let results = tempfile::tempdir().expect("temp dir for results");
    let output = Command::new(env!("CARGO_BIN_EXE_zkchaos"))
        .arg("run")
        .args(profiles)
        .arg("--out")
        .arg(results.path())
        .env("DOCKER_HOST", "unix:///nonexistent/zkchaos-bad-input-test.sock")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the zkchaos binary");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (Outcome { code: output.status.code(), stderr }, results)
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/bad").join(format!("{name}.toml"))
}

/// Exit 2, a single `zkchaos: ...` line mentioning `needle`, and an untouched results directory.
fn assert_rejected(profiles: &[PathBuf], needle: &str) {
    let (outcome, results) = run(profiles);
    assert_eq!(outcome.code, Some(2), "exit code for {profiles:?}; stderr: {}", outcome.stderr);
    let lines: Vec<&str> = outcome.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "stderr must be one line: {}", outcome.stderr);
    assert!(lines[0].starts_with("zkchaos: "), "{}", lines[0]);
    assert!(lines[0].contains(needle), "stderr does not mention {needle:?}: {}", lines[0]);
    let written: Vec<_> = std::fs::read_dir(results.path()).expect("read results dir").collect();
    assert!(written.is_empty(), "bad input must write no results, found {written:?}");
}

#[test]
fn unknown_key_is_named_with_suggestion() {
    assert_rejected(&[corpus("unknown-key-rat")], "unknown key `load.rat`; did you mean `load.rate`?");
}

#[test]
fn out_of_range_values_are_named() {
    for (file, field) in [
        ("rate-zero", "`load.rate = 0`"),
        ("sessions-zero", "`load.sessions = 0`"),
        ("size-even", "`cluster.size = 4`"),
        ("value-size-too-big", "`load.value_size = 2000000`"),
        ("monitor-interval-300", "`monitor.interval_ms = 300`"),
        ("op-timeout-ge-session", "`load.op_timeout_ms = 10000`"),
        ("pause-target-out-of-range", "`procedure.target = 4`"),
        ("nan-post", "`phases.post_s = nan`"),
    ] {
        assert_rejected(&[corpus(file)], field);
    }
}

#[test]
fn procedure_mismatches_are_named() {
    assert_rejected(&[corpus("reconfig-static")], "set cluster.dynamic_config = true");
    assert_rejected(&[corpus("restart-from-3")], "use kind = \"rolling-expand\"");
    assert_rejected(&[corpus("to-even")], "`procedure.to = 4`");
}

#[test]
fn wrong_type_and_syntax_are_named() {
    assert_rejected(&[corpus("wrong-type-rate")], "`load.rate` must be a whole number");
    assert_rejected(&[corpus("syntax-double-equals")], "TOML syntax error at line 4, column 8");
}

#[test]
fn missing_file_names_the_path() {
    assert_rejected(&[PathBuf::from("profiles/no-such-profile.toml")], "profile file `profiles/no-such-profile.toml` does not exist");
}

#[test]
fn mistyped_bundled_profile_gets_a_suggestion() {
    assert_rejected(&[PathBuf::from("profiles/rolling3to5.toml")], "did you mean `profiles/rolling-3to5.toml`?");
}

/// Every profile is validated before the first one runs.
#[test]
fn a_bad_profile_after_a_good_one_stops_before_anything_runs() {
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/steady-3.toml");
    assert_rejected(&[good, corpus("keys-zero")], "`load.keys = 0`");
}

/// Run the binary with `args` (no Docker reachable); exit code and stderr.
fn zkchaos(args: &[&str]) -> Outcome {
    let output = Command::new(env!("CARGO_BIN_EXE_zkchaos"))
        .args(args)
        .env("DOCKER_HOST", "unix:///nonexistent/zkchaos-bad-input-test.sock")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the zkchaos binary");
    Outcome { code: output.status.code(), stderr: String::from_utf8_lossy(&output.stderr).into_owned() }
}

/// A path that does not exist is bad input (exit 2), named in one line.
#[test]
fn missing_paths_exit_2_and_are_named() {
    for args in [
        &["analyze", "/nonexistent/zkchaos-run"][..],
        &["compare", "/nonexistent/zkchaos-run", "--out", "/tmp/zkchaos-bad-input-unused"][..],
        &["export", "--format", "openmetrics", "/nonexistent/zkchaos-run"][..],
    ] {
        let o = zkchaos(args);
        assert_eq!(o.code, Some(2), "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains("/nonexistent/zkchaos-run does not exist"), "{args:?}: {}", o.stderr);
    }
}

/// `zkchaos run` without a profile lists the bundled ones.
#[test]
fn run_without_a_profile_lists_the_bundled_ones() {
    let o = zkchaos(&["run"]);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(o.stderr.contains("no profile given") && o.stderr.contains("profiles/steady-3.toml"), "{}", o.stderr);
}

/// Every duration option accepts `5s`, `500ms`, `2m` and bare seconds, and names a bad one.
/// Bad values are rejected by the parser (exit 2) before anything runs; good ones get past it to
/// the profile check (a missing profile: exit 2 with *that* message, not a duration error).
#[test]
fn durations_are_one_grammar_everywhere() {
    for value in ["5s", "500ms", "2m", "5", "0.5"] {
        for (cmd, opt) in [("run", "--warmup"), ("run", "--post")] {
            let o = zkchaos(&[cmd, "profiles/no-such-profile.toml", opt, value]);
            assert_eq!(o.code, Some(2), "{cmd} {opt} {value}: {}", o.stderr);
            assert!(o.stderr.contains("does not exist"), "{cmd} {opt} {value} was not accepted: {}", o.stderr);
        }
    }
    for (args, opt) in [
        (&["run", "profiles/steady-3.toml", "--warmup", "fast"][..], "--warmup"),
        (&["load", "--connect", "127.0.0.1:1", "--duration", "5 parsecs"][..], "--duration"),
        (&["load", "--connect", "127.0.0.1:1", "--op-timeout=-1"][..], "--op-timeout"),
        (&["bench", "--seconds", "soon"][..], "--seconds"),
    ] {
        let o = zkchaos(args);
        assert_eq!(o.code, Some(2), "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains(opt) && o.stderr.contains("is not a duration"), "{args:?}: {}", o.stderr);
    }
}

/// Completion scripts and the man page come from the clap definitions.
#[test]
fn completions_and_man_page_are_printed() {
    let out = Command::new(env!("CARGO_BIN_EXE_zkchaos")).args(["completions", "bash"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("complete -F") && text.contains("--warmup"), "{}", &text[..text.len().min(300)]);
    let out = Command::new(env!("CARGO_BIN_EXE_zkchaos")).args(["manpage"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains(".TH zkchaos"));
}
