//! Profiles: a TOML scenario read once, checked key by key, and validated into a [`Plan`].
//!
//! Loading has three stages, each with its own kind of error, so a user always gets the most
//! specific sentence available:
//! 1. syntax: the text must be TOML (the error gives line and column);
//! 2. schema ([`schema`]): every key must be known in its table (unknown keys get the closest
//!    valid key) and every value must have the right type;
//! 3. ranges ([`validate()`]): values and combinations must make sense for ZooKeeper and for the
//!    measurement (rates, sizes, timeouts, what each procedure can do).
//!
//! Every error is a [`ProfileError`] value naming the field, the value, what is wrong and what
//! would be valid; nothing here panics on any input (`tests/profile_fuzz.rs` checks that).

mod engines;
mod schema;
mod steps;
mod validate;

pub use validate::{cpuset_cpus, validate, MAX_CLUSTER_SIZE, MAX_VALUE_SIZE, VALID_OPS};

use crate::plan::Plan;
use std::path::{Path, PathBuf};

/// A profile as read from disk: the verbatim text (copied into a run's results as
/// `profile.toml`) and the validated plan.
#[derive(Debug, Clone)]
pub struct LoadedProfile {
    pub path: PathBuf,
    pub text: String,
    pub plan: Plan,
}

/// Why a profile cannot be used. Each message is one sentence a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("profile file `{}` does not exist; {hint}", path.display())]
    NotFound { path: PathBuf, hint: String },
    #[error("`{}` is a directory, not a profile file; {hint}", path.display())]
    IsDirectory { path: PathBuf, hint: String },
    #[error("cannot read profile file `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("profile file `{}` is not UTF-8 text (invalid byte at line {line}, column {column}); save it as UTF-8", path.display())]
    NotUtf8 { path: PathBuf, line: usize, column: usize },
    #[error("TOML syntax error at line {line}, column {column}: {message}")]
    Syntax { line: usize, column: usize, message: String },
    /// `hint` starts with `; ` and suggests the closest key or lists the valid ones.
    #[error("unknown key `{key}`{hint}")]
    UnknownKey { key: String, hint: String },
    #[error("missing key `{key}`: {detail}")]
    MissingKey { key: String, detail: String },
    #[error("`{field}` must be {expected}, found {found}")]
    WrongType { field: String, expected: String, found: String },
    /// `reason` says what is wrong and what would be valid.
    #[error("`{field} = {value}` {reason}")]
    Invalid { field: String, value: String, reason: String },
    /// Only if the schema walk missed something serde then rejects (a bug in [`schema`]).
    #[error("profile does not match the schema: {message}")]
    Schema { message: String },
    /// Any of the above, in the named profile file.
    #[error("{source_name}: {error}")]
    InProfile { source_name: String, error: Box<ProfileError> },
}

impl ProfileError {
    /// The dotted field the error is about (`load.rate`), when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ProfileError::UnknownKey { key, .. } | ProfileError::MissingKey { key, .. } => Some(key),
            ProfileError::WrongType { field, .. } | ProfileError::Invalid { field, .. } => Some(field),
            ProfileError::InProfile { error, .. } => error.field(),
            _ => None,
        }
    }

    /// Prefix the error with where it came from (a path, or e.g. "profiles/x.toml with --rate"),
    /// as [`parse`] does; for callers that validate a plan they changed after loading it.
    pub fn in_source(self, source_name: &str) -> ProfileError {
        ProfileError::InProfile { source_name: source_name.to_string(), error: Box::new(self) }
    }
}

impl From<ProfileError> for crate::Error {
    fn from(e: ProfileError) -> Self {
        crate::Error::BadInput(Box::new(e))
    }
}

/// Read, parse and validate the profile at `path`.
pub fn load(path: &Path) -> Result<LoadedProfile, ProfileError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ProfileError::NotFound { path: path.to_path_buf(), hint: missing_hint(path) })
        }
        Err(_) if path.is_dir() => {
            return Err(ProfileError::IsDirectory { path: path.to_path_buf(), hint: bundled_hint() })
        }
        Err(source) => return Err(ProfileError::Read { path: path.to_path_buf(), source }),
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_column(&String::from_utf8_lossy(e.as_bytes()), e.utf8_error().valid_up_to());
        ProfileError::NotUtf8 { path: path.to_path_buf(), line, column }
    })?;
    let plan = parse(&text, &path.display().to_string())?;
    Ok(LoadedProfile { path: path.to_path_buf(), text, plan })
}

/// Parse and validate profile text; `source_name` (a path, usually) prefixes every error.
pub fn parse(text: &str, source_name: &str) -> Result<Plan, ProfileError> {
    parse_inner(text).map_err(|e| e.in_source(source_name))
}

fn parse_inner(text: &str) -> Result<Plan, ProfileError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let (line, column) = line_column(text, offset);
        let message = e.message().trim().replace('\n', "; ");
        ProfileError::Syntax { line, column, message }
    })?;
    let mut table = table;
    schema::check(&table)?;
    move_cycle_keys(&mut table);
    let plan: Plan = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| ProfileError::Schema { message: e.message().trim().replace('\n', "; ") })?;
    validate(&plan)?;
    Ok(plan)
}

/// `procedure.repeat` and `procedure.cycle_gap_s` (written where they belong for a user: they
/// repeat the procedure) are plan fields of the phases (`phases.cycles`, `phases.cycle_gap_s`):
/// the procedure enum stays one variant per kind.
fn move_cycle_keys(table: &mut toml::Table) {
    let Some(toml::Value::Table(proc)) = table.get_mut("procedure") else { return };
    let moved: Vec<(&str, toml::Value)> = [("repeat", "cycles"), ("cycle_gap_s", "cycle_gap_s")]
        .into_iter()
        .filter_map(|(from, to)| proc.remove(from).map(|v| (to, v)))
        .collect();
    if moved.is_empty() {
        return;
    }
    let phases = table.entry("phases").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(p) = phases {
        for (k, v) in moved {
            p.insert(k.to_string(), v);
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

/// Profiles shipped in `./profiles`, sorted (empty when the directory is absent).
fn bundled_profiles() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("profiles") else { return Vec::new() };
    let mut names: Vec<String> = dir
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    names.sort();
    names
}

pub fn bundled_hint() -> String {
    let names = bundled_profiles();
    if names.is_empty() {
        "the bundled profiles are in the profiles/ directory of the zkchaos source tree".into()
    } else {
        let list: Vec<String> = names.iter().map(|n| format!("profiles/{n}")).collect();
        format!("the bundled profiles are {}", list.join(", "))
    }
}

/// Suggest the bundled profile closest to a mistyped file name, or list them all.
fn missing_hint(path: &Path) -> String {
    let wanted = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let names = bundled_profiles();
    let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
    match schema::closest(&wanted, &candidates) {
        Some(best) => format!("did you mean `profiles/{best}`?"),
        None => bundled_hint(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{ProcedurePlan, Target};

    #[test]
    fn every_bundled_profile_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                // Suite files (`zkchaos suite`) live here too; they have a top-level `repeat`.
                let text = std::fs::read_to_string(&path).unwrap();
                if text.parse::<toml::Table>().is_ok_and(|t| t.contains_key("repeat")) {
                    continue;
                }
                // Hunt profiles (`zkchaos hunt`, a `[hunt]` fault space): checked by crate::hunt's tests.
                if text.parse::<toml::Table>().is_ok_and(|t| t.contains_key("hunt")) {
                    continue;
                }
                let loaded = load(&path).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(Some(loaded.plan.name.as_str()), path.file_stem().and_then(|s| s.to_str()));
                count += 1;
            }
        }
        // Seven strategy profiles, twelve runbooks (issue 13, and the unsafe order of the 5→3
        // shrink), the partition calibration, reconfig 3→5 over three engines and the
        // ephemeral-node profile, the follower-then-leader stop of five (stop models), and the CI
        // gate's repeated partition (docs/gate.md).
        assert_eq!(count, 24, "expected the twenty-four bundled profiles in {}", dir.display());
    }

    #[test]
    fn minimal_profile_gets_defaults() {
        let plan = parse("name = \"x\"", "t").unwrap();
        assert_eq!(plan.cluster.size, 3);
        assert_eq!(plan.procedure, ProcedurePlan::None { duration_s: 10.0 });
    }

    #[test]
    fn target_spellings() {
        let leader = "name='p'\n[procedure]\nkind='pause'\ntarget='leader'";
        let id = "name='p'\n[procedure]\nkind='pause'\ntarget=2";
        let absent = "name='p'\n[procedure]\nkind='pause'";
        let target = |text| match parse(text, "t").unwrap().procedure {
            ProcedurePlan::Pause { target, .. } => target,
            other => panic!("{other:?}"),
        };
        assert_eq!(target(leader), Target::Leader);
        assert_eq!(target(id), Target::Id(2));
        assert_eq!(target(absent), Target::Leader);
    }

    #[test]
    fn plan_round_trips_through_toml_and_json() {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/pause-calibration.toml")).unwrap();
        let plan = parse(&text, "t").unwrap();
        let again = parse(&toml::to_string(&plan).unwrap(), "t").unwrap();
        assert_eq!(plan, again);
        let json: Plan = serde_json::from_str(&serde_json::to_string(&plan).unwrap()).unwrap();
        assert_eq!(plan, json);
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let e = parse("name = \"x\"\n[load]\nrate = = 3\n", "p.toml").unwrap_err().to_string();
        assert!(e.starts_with("p.toml: TOML syntax error at line 3, column"), "{e}");
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("", 10), (1, 1));
    }

    #[test]
    fn into_top_level_error_is_bad_input() {
        let e: crate::Error = parse("x = 1", "t").unwrap_err().into();
        assert_eq!(e.exit_code(), 2);
    }
}
