//! `process.csv`: the harness's own footprint over a run — resident memory and open file
//! descriptors of the zkchaos process, sampled from `/proc/self` (`t_ms,rss_kib,fds`).
//!
//! A long run must keep both flat (a leak in the recorder or the client shows here first), and
//! the summary reports their maxima. [`spawn_sampler`] takes one sample every few seconds, plus
//! one at the start and one when it is stopped, and rewrites the file each time (temporary file
//! and rename, a few KiB even after an hour): readers always see whole rows, and a results
//! directory that was removed, made read-only or filled up is noticed within one period. A write
//! failure ends the sampler and trips the run's [`super::WriteFailure`].

use super::{Epoch, RecordError, WriteFailure};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// File name in a run directory.
pub use super::files::PROCESS_FILE;
/// How often a run samples itself.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// One row of `process.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSample {
    /// Milliseconds since the run's epoch.
    pub t_ms: u64,
    /// Resident set size (`VmRSS` of `/proc/self/status`), KiB.
    pub rss_kib: u64,
    /// Entries of `/proc/self/fd`.
    pub fds: u64,
}

const HEADER: &str = "t_ms,rss_kib,fds\n";

/// This process's RSS and open descriptors now, `None` where `/proc` is not available.
pub fn sample_self(t_ms: u64) -> Option<ProcessSample> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let rss_kib = parse_vm_rss(&status)?;
    let fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    Some(ProcessSample { t_ms, rss_kib, fds })
}

/// `VmRSS:   123456 kB` → 123456.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.trim_start_matches("VmRSS:").split_whitespace().next()?.parse().ok()
}

/// Write `samples` as `path` ([`super::rundir::replace_file`]: the directory is never
/// created, so one that was removed stays removed).
pub fn write_samples(path: &Path, samples: &[ProcessSample]) -> Result<(), RecordError> {
    super::rundir::replace_file(path, |w| {
        w.write_all(HEADER.as_bytes())?;
        for s in samples {
            writeln!(w, "{},{},{}", s.t_ms, s.rss_kib, s.fds)?;
        }
        Ok(())
    })
}

/// Read `process.csv`.
pub fn read_process_csv(path: &Path) -> Result<Vec<ProcessSample>, RecordError> {
    let err = |e: csv::Error| RecordError::Parse { path: path.to_path_buf(), detail: e.to_string() };
    let mut r = csv::Reader::from_path(path).map_err(err)?;
    r.deserialize().collect::<Result<Vec<ProcessSample>, _>>().map_err(err)
}

/// Sample into `dir/process.csv` every `every` until `stop` (one last row then). A failed write
/// trips `failure` and ends the sampler; the task returns the samples it took.
pub fn spawn_sampler(
    dir: PathBuf,
    epoch: Epoch,
    every: Duration,
    stop: CancellationToken,
    failure: WriteFailure,
) -> JoinHandle<Vec<ProcessSample>> {
    tokio::spawn(async move {
        let path = dir.join(PROCESS_FILE);
        let mut taken = Vec::new();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let last = tokio::select! {
                _ = tick.tick() => false,
                _ = stop.cancelled() => true,
            };
            if let Some(s) = sample_self(epoch.now_us() / 1000) {
                taken.push(s);
                if let Err(e) = write_samples(&path, &taken) {
                    failure.trip(e.to_string());
                    return taken;
                }
            }
            if last {
                return taken;
            }
        }
    })
}

/// First-versus-last comparison of a series of samples (`zkchaos bench --only soak`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drift {
    /// Mean over the first window.
    pub first: f64,
    /// Mean over the last window.
    pub last: f64,
}

impl Drift {
    /// Means of `value` over `[start, start + window)` and `(end - window, end]` of `samples`.
    pub fn of(samples: &[ProcessSample], window_ms: u64, value: impl Fn(&ProcessSample) -> u64) -> Option<Drift> {
        let (start, end) = (samples.first()?.t_ms, samples.last()?.t_ms);
        let mean = |sel: &dyn Fn(u64) -> bool| {
            let v: Vec<u64> = samples.iter().filter(|s| sel(s.t_ms)).map(&value).collect();
            (!v.is_empty()).then(|| v.iter().sum::<u64>() as f64 / v.len() as f64)
        };
        let first = mean(&|t| t < start + window_ms)?;
        let last = mean(&|t| t + window_ms > end)?;
        Some(Drift { first, last })
    }

    /// Growth of the last window over the first, as a fraction (0.05 = 5 %).
    pub fn growth(&self) -> f64 {
        if self.first <= 0.0 {
            0.0
        } else {
            self.last / self.first - 1.0
        }
    }
}

/// This process's CPU time and context switches so far (`getrusage(RUSAGE_SELF)`, all threads);
/// a window's figures are the difference of two readings ([`Usage::since`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub user_us: u64,
    pub sys_us: u64,
    /// Voluntary and involuntary context switches.
    pub switches: u64,
}

impl Usage {
    pub fn now() -> Usage {
        // SAFETY: getrusage writes into the zeroed struct we pass; no other memory is touched.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
            return Usage::default();
        }
        let tv = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
        Usage { user_us: tv(ru.ru_utime), sys_us: tv(ru.ru_stime), switches: (ru.ru_nvcsw + ru.ru_nivcsw) as u64 }
    }

    pub fn since(self, before: Usage) -> Usage {
        Usage {
            user_us: self.user_us.saturating_sub(before.user_us),
            sys_us: self.sys_us.saturating_sub(before.sys_us),
            switches: self.switches.saturating_sub(before.switches),
        }
    }

    pub fn cpu_us(self) -> u64 {
        self.user_us + self.sys_us
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_read_from_proc_status_text() {
        let status = "Name:\tzkchaos\nVmPeak:\t  912345 kB\nVmRSS:\t   23456 kB\nRssAnon:\t   12000 kB\n";
        assert_eq!(parse_vm_rss(status), Some(23456));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }

    #[test]
    fn rows_are_rewritten_under_one_header_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(PROCESS_FILE);
        let a = ProcessSample { t_ms: 0, rss_kib: 20480, fds: 31 };
        let b = ProcessSample { t_ms: 5000, rss_kib: 22528, fds: 35 };
        write_samples(&p, &[a]).unwrap();
        write_samples(&p, &[a, b]).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "t_ms,rss_kib,fds\n0,20480,31\n5000,22528,35\n");
        assert_eq!(read_process_csv(&p).unwrap(), vec![a, b]);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    fn a_removed_directory_is_a_write_error_naming_the_file_and_is_not_recreated() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("run");
        let err = write_samples(&gone.join(PROCESS_FILE), &[ProcessSample { t_ms: 0, rss_kib: 1, fds: 1 }]).unwrap_err();
        assert!(err.to_string().contains("run/.process.csv.tmp: No such file"), "{err}");
        assert!(!gone.exists());
    }

    #[test]
    fn drift_compares_first_and_last_windows() {
        let s = |t_ms, rss_kib| ProcessSample { t_ms, rss_kib, fds: 30 };
        let samples = vec![s(0, 100), s(5000, 110), s(10_000, 120), s(15_000, 150), s(20_000, 160)];
        let d = Drift::of(&samples, 6000, |p| p.rss_kib).unwrap();
        assert_eq!(d, Drift { first: 105.0, last: 155.0 });
        assert!((d.growth() - 155.0 / 105.0 + 1.0).abs() < 1e-9);
        assert!(Drift::of(&[], 6000, |p| p.fds).is_none());
    }
}
