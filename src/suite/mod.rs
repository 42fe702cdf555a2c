//! Suites: several profiles, or variants of one profile, each repeated, run interleaved
//! (A B C A B C ...) so slow drifts of the host hit every entry alike, then compared with
//! statistics (median, order-statistic CI with its level, exact pairwise rank tests with runs as
//! blocks) and optionally judged by the gate.
//!
//! A suite file (TOML):
//!
//! ```toml
//! name = "compare-expansion"      # results go to <results>/suites/<name>/<UTC timestamp>/
//! repeat = 3                      # repetitions of every entry
//! results = "results"             # optional results root (relative to the current directory)
//! profiles = ["restart-1to3-old-first.toml", "reconfig-1to3.toml"]   # one entry per profile
//! base = "restart-1to3-old-first.toml"          # with [matrix] and/or [[entry]]
//! [set]                           # overrides applied to every entry (dotted profile keys)
//! "phases.warmup_s" = 3
//! [matrix]                        # cross product of values → entries on `base`
//! "procedure.order" = ["new-first", "old-first"]
//! [[entry]]                       # explicit entries: on `base`, or on their own `profile`
//! name = "slow-ticks"
//! profile = "steady-3.toml"       # optional; default `base`
//! set = { "cluster.tick_time_ms" = 3000 }
//! [gate]                          # optional: same settings as `zkchaos gate`'s options
//! max_outage_ms = { read = 5000, write = 5000 }
//! ```
//!
//! Input paths (`profiles`, `base`, `profile`) are resolved against the suite file's directory
//! first and, if nothing exists there, against the current directory. The `results` root and a
//! `[gate]` baseline are relative to the current directory, like `--results` and `--baseline`.
//!
//! Overrides are applied to the profile's TOML as a value tree before the normal parse and
//! validation, so unknown keys and bad values get the usual profile errors, naming the entry.

pub mod overrides;
pub mod stats_table;

use crate::gate::GateTable;
use crate::profile::LoadedProfile;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The suite file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    pub name: String,
    #[serde(default = "one")]
    pub repeat: u32,
    pub results: Option<PathBuf>,
    #[serde(default)]
    pub profiles: Vec<PathBuf>,
    pub base: Option<PathBuf>,
    #[serde(default)]
    pub set: toml::Table,
    #[serde(default)]
    pub matrix: toml::Table,
    #[serde(default, rename = "entry")]
    pub entries: Vec<EntryTable>,
    pub gate: Option<GateTable>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryTable {
    pub name: String,
    pub profile: Option<PathBuf>,
    #[serde(default)]
    pub set: toml::Table,
}

/// One entry, ready to run.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Readable name, e.g. `restart-1to3-old-first/order=new-first`.
    pub name: String,
    /// The profile `name` the runs get (a valid directory name derived from `name`): results go to
    /// `<suite dir>/<profile_name>/`.
    pub profile_name: String,
    /// The profile file it starts from.
    pub source: PathBuf,
    /// Every override applied (suite-level `[set]`, then matrix values or the entry's `set`).
    pub overrides: BTreeMap<String, toml::Value>,
    #[serde(skip)]
    pub loaded: LoadedProfile,
}

/// A parsed suite: its file, its text and its entries.
#[derive(Debug, Clone)]
pub struct Suite {
    pub path: PathBuf,
    pub text: String,
    pub file: SuiteFile,
    pub entries: Vec<Entry>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::bad_input(msg.into())
}

/// `p` against the suite file's directory, else as given (against the current directory).
pub fn resolve(suite_dir: &Path, p: &Path) -> PathBuf {
    let beside = suite_dir.join(p);
    if p.is_relative() && beside.exists() {
        beside
    } else {
        p.to_path_buf()
    }
}

/// A profile-name-safe slug of an entry name: `/` and `,` become `.`, `=` becomes `-`, anything
/// else outside `[A-Za-z0-9._-]` becomes `-`; at most 100 characters.
pub fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') => c,
            '/' | ',' => '.',
            _ => '-',
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    s.chars().take(100).collect()
}

/// Display form of a TOML value in an entry name: strings bare, others as TOML.
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An entry before its profile is built: display name (empty: the profile's own), profile name
/// to set, source profile, overrides.
type Spec = (String, Option<String>, PathBuf, BTreeMap<String, toml::Value>);

/// Read and check a suite file, and build (and validate) every entry's profile.
pub fn load(path: &Path) -> Result<Suite> {
    let text =
        std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read suite file `{}`: {e}", path.display())))?;
    let file: SuiteFile =
        toml::from_str(&text).map_err(|e| bad(format!("suite file `{}`: {}", path.display(), e.message().trim())))?;
    let ctx = |msg: String| bad(format!("suite file `{}`: {msg}", path.display()));
    if file.repeat == 0 || file.repeat > 1000 {
        return Err(ctx(format!("`repeat = {}` must be 1 to 1000", file.repeat)));
    }
    if slug(&file.name) != file.name || file.name.is_empty() {
        return Err(ctx(format!(
            "`name = {:?}` cannot name a directory: use letters, digits, '-', '_' or '.'",
            file.name
        )));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    // (name, source, overrides) before loading.
    let mut specs: Vec<Spec> = Vec::new();
    let common: BTreeMap<String, toml::Value> = file.set.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for p in &file.profiles {
        specs.push((String::new(), None, resolve(dir, p), common.clone()));
    }
    let base = file.base.as_ref().map(|b| resolve(dir, b));
    if !file.matrix.is_empty() {
        let base = base.clone().ok_or_else(|| ctx("`[matrix]` needs `base = \"<profile.toml>\"`".into()))?;
        let base_name = crate::profile::load(&base)?.plan.name;
        let mut combos: Vec<Vec<(String, toml::Value)>> = vec![Vec::new()];
        for (key, values) in &file.matrix {
            let values = match values {
                toml::Value::Array(a) if !a.is_empty() => a.clone(),
                toml::Value::Array(_) => return Err(ctx(format!("[matrix] `{key}` has no values"))),
                single => vec![single.clone()],
            };
            combos = combos
                .into_iter()
                .flat_map(|c| values.iter().map(move |v| [c.clone(), vec![(key.clone(), v.clone())]].concat()))
                .collect();
        }
        for combo in combos {
            let label: Vec<String> =
                combo.iter().map(|(k, v)| format!("{}={}", k.rsplit('.').next().unwrap_or(k), value_text(v))).collect();
            let name = format!("{base_name}/{}", label.join(","));
            let mut ov = common.clone();
            ov.extend(combo);
            specs.push((name.clone(), Some(slug(&name)), base.clone(), ov));
        }
    }
    for e in &file.entries {
        let source = match (&e.profile, &base) {
            (Some(p), _) => resolve(dir, p),
            (None, Some(b)) => b.clone(),
            (None, None) => {
                return Err(ctx(format!("[[entry]] `{}` needs `profile = ...` or a suite-level `base`", e.name)))
            }
        };
        let mut ov = common.clone();
        ov.extend(e.set.iter().map(|(k, v)| (k.clone(), v.clone())));
        specs.push((e.name.clone(), Some(slug(&e.name)), source, ov));
    }
    if specs.is_empty() {
        if let Some(b) = base {
            specs.push((String::new(), None, b, common.clone()));
        } else {
            return Err(ctx("no entries: give `profiles = [...]`, or `base` with `[matrix]` or `[[entry]]`".into()));
        }
    }
    let mut entries: Vec<Entry> = Vec::new();
    for (name, profile_name, source, ov) in specs {
        let loaded = overrides::build_profile(&source, profile_name.as_deref(), &ov, &file.name, &name)?;
        let name = if name.is_empty() { loaded.plan.name.clone() } else { name };
        if let Some(other) = entries.iter().find(|e| e.profile_name == loaded.plan.name) {
            return Err(ctx(format!(
                "entries `{}` and `{name}` both run profile name `{}`: their results would mix; give them different names",
                other.name, loaded.plan.name
            )));
        }
        entries.push(Entry { name, profile_name: loaded.plan.name.clone(), source, overrides: ov, loaded });
    }
    Ok(Suite { path: path.to_path_buf(), text, file, entries })
}

/// The order runs are executed in: for each repetition, every entry (A B C A B C).
pub fn schedule(entries: usize, repeat: u32) -> Vec<(usize, u32)> {
    (1..=repeat).flat_map(|rep| (0..entries).map(move |i| (i, rep))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_order() {
        assert_eq!(schedule(2, 2), vec![(0, 1), (1, 1), (0, 2), (1, 2)]);
        assert_eq!(schedule(3, 1), vec![(0, 1), (1, 1), (2, 1)]);
    }

    #[test]
    fn slugs_are_profile_names() {
        assert_eq!(slug("restart-1to3/order=old-first"), "restart-1to3.order-old-first");
        assert_eq!(slug("a/x=1,y=two words"), "a.x-1.y-two-words");
    }
}
