//! One directory per run: `results/<group>/<YYYYmmddTHHMMSSZ>-<id>/`, with a `latest` link.
//!
//! Files are written in phases by whoever has them (plan first, then events as they stream,
//! then summary and charts), each one atomically (temp file + rename) so a crash leaves complete
//! files or none. The `status` file says how far the run got: `running`, `complete` or
//! `aborted: <why>`; `zkchaos compare` skips runs that did not complete.
//!
//! A [`RunDir`] owns the run's [`WriteFailure`]: a failed write through it trips the wire, and
//! the writers that stream into their own files (recorder, monitor, process sampler) take the same
//! wire from [`RunDir::failure`], so the first failed write of any results file stops the run.
//! File names are in [`super::files`].

use super::{RecordError, WriteFailure};
use serde::Serialize;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use super::files::{LATEST_LINK, STATUS_FILE};
use super::files::PLAN_FILE;

/// A run's results directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    path: PathBuf,
    id: String,
    failure: WriteFailure,
}

/// How far a run got, as read from the `status` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Complete,
    Aborted(String),
    /// Anything else (written by a newer version, or edited by hand).
    Other(String),
}

impl RunStatus {
    pub fn parse(s: &str) -> RunStatus {
        let s = s.trim();
        match s {
            "running" => RunStatus::Running,
            "complete" => RunStatus::Complete,
            _ => match s.strip_prefix("aborted") {
                Some(why) => RunStatus::Aborted(why.trim_start_matches(':').trim().to_string()),
                None => RunStatus::Other(s.to_string()),
            },
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunStatus::Running => f.write_str("running"),
            RunStatus::Complete => f.write_str("complete"),
            RunStatus::Aborted(why) => write!(f, "aborted: {why}"),
            RunStatus::Other(s) => f.write_str(s),
        }
    }
}

impl RunDir {
    /// Create `<results_root>/<group>/<UTC timestamp>-<short id>/`, point `<group>/latest` at it
    /// and mark it `running`.
    pub fn create(results_root: &Path, group: &str) -> Result<RunDir, RecordError> {
        let group_dir = results_root.join(group);
        fs::create_dir_all(&group_dir)
            .map_err(|source| RecordError::CreateDir { path: group_dir.clone(), source })?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        // A few attempts in case two runs start in the same second with the same random id.
        let mut last_err = None;
        for _ in 0..8 {
            let id = short_id();
            let path = group_dir.join(format!("{stamp}-{id}"));
            match fs::create_dir(&path) {
                Ok(()) => {
                    let dir = RunDir { path, id, failure: WriteFailure::new() };
                    dir.set_status("running")?;
                    dir.update_latest()?;
                    return Ok(dir);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_err = Some((path, e)),
                Err(source) => return Err(RecordError::CreateDir { path, source }),
            }
        }
        let (path, source) = last_err.unwrap_or_else(|| {
            (group_dir.clone(), std::io::Error::other("could not choose a fresh directory name"))
        });
        Err(RecordError::CreateDir { path, source })
    }

    /// Open an existing run directory (it must hold `status` or `plan.json`).
    pub fn open(path: &Path) -> Result<RunDir, RecordError> {
        let path = fs::canonicalize(path).map_err(|source| RecordError::Read { path: path.to_path_buf(), source })?;
        if !path.join(STATUS_FILE).is_file() && !path.join(PLAN_FILE).is_file() {
            return Err(RecordError::NotARunDir { path });
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let id = name.rsplit('-').next().unwrap_or(&name).to_string();
        Ok(RunDir { path, id, failure: WriteFailure::new() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The short random id in the directory name; also labels the run's Docker objects.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The directory name, `<timestamp>-<id>`.
    pub fn name(&self) -> String {
        self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// The run's write-failure wire: every writer of this directory's files trips it.
    pub fn failure(&self) -> WriteFailure {
        self.failure.clone()
    }

    /// The result of a write into this directory made without it (a writer with a format of
    /// its own: read-backs, `mntr.json`): a failure trips the run's wire too.
    pub fn guard<T>(&self, written: Result<T, RecordError>) -> Result<T, RecordError> {
        written.inspect_err(|e| self.failure.trip(e.to_string()))
    }

    /// `monitor.csv`, written live by the mode monitor through the run's wire.
    pub fn monitor_csv(&self) -> super::monitor_csv::LiveMonitorCsv {
        super::monitor_csv::LiveMonitorCsv::create(self.file(super::files::MONITOR_FILE), self.failure())
    }

    /// Path of a file in the run directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Serialise `value` as pretty JSON into `name`, atomically.
    pub fn write_json<T: Serialize + ?Sized>(&self, name: &str, value: &T) -> Result<(), RecordError> {
        let mut text = serde_json::to_string_pretty(value)
            .map_err(|source| RecordError::Serialize { what: name.to_string(), source })?;
        text.push('\n');
        self.write_bytes(name, text.as_bytes())
    }

    pub fn write_text(&self, name: &str, text: &str) -> Result<(), RecordError> {
        self.write_bytes(name, text.as_bytes())
    }

    /// Write `bytes` to `name` (a path relative to the run directory; parents below it are
    /// created). A run directory removed mid-run is never re-created: the write fails instead,
    /// so no writer leaves a directory without its plan or events.
    /// A failure trips the run's wire.
    pub fn write_bytes(&self, name: &str, bytes: &[u8]) -> Result<(), RecordError> {
        self.write_untripped(name, bytes).inspect_err(|e| self.failure.trip(e.to_string()))
    }

    fn write_untripped(&self, name: &str, bytes: &[u8]) -> Result<(), RecordError> {
        let path = self.file(name);
        if !self.path.is_dir() {
            let source = std::io::Error::new(std::io::ErrorKind::NotFound, "the run directory is gone");
            return Err(RecordError::Write { path, source });
        }
        write_atomic(&path, bytes)
    }

    /// `running`, `complete` or `aborted: <why>`.
    /// Record how the run stands. Written atomically; when that fails (a full disk has no room
    /// for the temporary file), the existing `status` file is overwritten in place, which needs
    /// no new block for a short text, so `aborted: <why>` still lands on a full disk.
    pub fn set_status(&self, status: &str) -> Result<(), RecordError> {
        let text = format!("{}\n", status.trim());
        match self.write_untripped(STATUS_FILE, text.as_bytes()) {
            Ok(()) => Ok(()),
            Err(first) => overwrite_in_place(&self.file(STATUS_FILE), text.as_bytes()).map_err(|_| {
                self.failure.trip(first.to_string());
                first
            }),
        }
    }

    pub fn status(&self) -> Result<RunStatus, RecordError> {
        let path = self.file(STATUS_FILE);
        match fs::read_to_string(&path) {
            Ok(s) => Ok(RunStatus::parse(&s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RunStatus::Other("unknown (no status file)".into())),
            Err(source) => Err(RecordError::Read { path, source }),
        }
    }

    /// Replace `<group>/latest` with a link to this run, atomically (new link + rename).
    fn update_latest(&self) -> Result<(), RecordError> {
        let Some(group_dir) = self.path.parent() else { return Ok(()) };
        let link = group_dir.join(LATEST_LINK);
        let tmp = group_dir.join(format!(".{LATEST_LINK}.{}", self.id));
        let _ = fs::remove_file(&tmp);
        let target = PathBuf::from(self.name());
        symlink(&target, &tmp).map_err(|source| RecordError::Link { path: tmp.clone(), source })?;
        fs::rename(&tmp, &link).map_err(|source| {
            let _ = fs::remove_file(&tmp);
            RecordError::Link { path: link.clone(), source }
        })
    }
}

/// A fresh `<parent>/<UTC timestamp>/` (with a `-k` suffix if that exists already): where a suite
/// or a sweep puts everything it makes.
pub fn create_timestamped_dir(parent: &Path) -> Result<PathBuf, RecordError> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    fs::create_dir_all(parent).map_err(|source| RecordError::CreateDir { path: parent.to_path_buf(), source })?;
    for k in 0..100 {
        let dir = if k == 0 { parent.join(&stamp) } else { parent.join(format!("{stamp}-{k}")) };
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(RecordError::CreateDir { path: dir, source }),
        }
    }
    let source = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "100 directories with this timestamp exist");
    Err(RecordError::CreateDir { path: parent.join(stamp), source })
}

/// Run directories directly below `group` (a profile's directory), sorted, without the
/// `latest` link.
pub fn run_dirs_in(group: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(group)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.file_name() != LATEST_LINK && e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Overwrite an existing file's bytes without allocating a new file, then cut it to length.
fn overwrite_in_place(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom};
    let mut f = fs::OpenOptions::new().write(true).open(path)?;
    f.seek(SeekFrom::Start(0))?;
    f.write_all(bytes)?;
    f.set_len(bytes.len() as u64)?;
    f.sync_all()
}

/// Like [`write_atomic`], the content produced by `fill` into a buffered file (so a large file
/// is never held whole in memory).
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<fs::File>) -> std::io::Result<()>,
) -> Result<(), RecordError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|source| RecordError::CreateDir { path: parent.to_path_buf(), source })?;
    }
    replace_file(path, fill)
}

/// Write to `<path>.tmp` then rename over `path`, so readers never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RecordError> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Replace `path` by the content `fill` produces, through `.<name>.tmp` beside it and a rename,
/// in a directory that must exist: it is never created, so a run directory removed mid-run stays
/// removed. An error names the file that failed (the temporary one, or `path` for the rename).
pub fn replace_file(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<fs::File>) -> std::io::Result<()>,
) -> Result<(), RecordError> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp"));
    let written = (|| {
        let mut w = std::io::BufWriter::new(fs::File::create(&tmp)?);
        fill(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&tmp);
        return Err(RecordError::Write { path: tmp, source });
    }
    fs::rename(&tmp, path).map_err(|source| {
        let _ = fs::remove_file(&tmp);
        RecordError::Write { path: path.to_path_buf(), source }
    })
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Six lowercase hex digits: short enough to type, enough to tell runs of one second apart.
fn short_id() -> String {
    use rand::Rng;
    format!("{:06x}", rand::thread_rng().gen_range(0..0x100_0000u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_writes_status_and_latest() {
        let tmp = tempfile::tempdir().unwrap();
        let a = RunDir::create(tmp.path(), "p").unwrap();
        assert_eq!(a.status().unwrap(), RunStatus::Running);
        let b = RunDir::create(tmp.path(), "p").unwrap();
        let latest = fs::read_link(tmp.path().join("p/latest")).unwrap();
        assert_eq!(latest, PathBuf::from(b.name()));
        b.set_status("aborted: interrupted").unwrap();
        assert_eq!(b.status().unwrap(), RunStatus::Aborted("interrupted".into()));
        a.write_json("x/y.json", &vec![1, 2]).unwrap();
        let reopened = RunDir::open(a.path()).unwrap();
        assert_eq!(reopened.id(), a.id());
        assert!(reopened.file("x/y.json").is_file());
    }

    #[test]
    fn a_failed_write_trips_the_run_wire() {
        let tmp = tempfile::tempdir().unwrap();
        let a = RunDir::create(tmp.path(), "p").unwrap();
        a.write_text(super::super::files::PLAN_FILE, "{}").unwrap();
        assert_eq!(a.failure().cause(), None);
        fs::remove_dir_all(a.path()).unwrap();
        assert!(a.write_text(super::super::files::META_FILE, "{}").is_err());
        assert!(a.failure().cause().is_some_and(|c| c.contains("meta.json")), "{:?}", a.failure().cause());
    }

    #[test]
    fn unwritable_root_is_actionable() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("not-a-dir");
        fs::write(&file, b"").unwrap();
        let err = RunDir::create(&file, "p").unwrap_err();
        assert!(err.to_string().contains("--results"), "{err}");
    }
}
