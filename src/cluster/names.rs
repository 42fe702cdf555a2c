//! Names and labels of the Docker objects a run creates.
//!
//! Every container, network and volume carries `zkchaos.run=<id>` so that teardown, `zkchaos clean`
//! and the leftover reaper can find them by label alone; `zkchaos.pid` and `zkchaos.host` let a
//! later invocation tell whether the process that created them is still alive.

use rand::Rng;
use std::collections::HashMap;

pub const LABEL_RUN: &str = "zkchaos.run";
pub const LABEL_PROFILE: &str = "zkchaos.profile";
pub const LABEL_PID: &str = "zkchaos.pid";
pub const LABEL_HOST: &str = "zkchaos.host";
pub const LABEL_SERVER: &str = "zkchaos.server";
/// `host` on the container that holds a server's network namespace (its "host", see
/// [`host_container_name`]); absent on the ZooKeeper container itself.
pub const LABEL_ROLE: &str = "zkchaos.role";
pub const ROLE_HOST: &str = "host";
/// Set by `docker/build-image.sh` on zkchaos' own image.
pub const LABEL_IMAGE_KIND: &str = "zkchaos.image-kind";

/// A fresh run id: 8 lowercase hex characters.
pub fn new_run_id() -> String {
    format!("{:08x}", rand::thread_rng().gen::<u32>())
}

/// Run ids end up in object names: accept only what Docker names allow.
pub fn is_valid_run_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 40 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub fn container_name(run: &str, id: u32) -> String {
    format!("zkchaos-{run}-zk{id}")
}

/// The container that holds server `id`'s address (network namespace, published client port);
/// the ZooKeeper container joins its namespace, so stopping the process leaves the address up.
pub fn host_container_name(run: &str, id: u32) -> String {
    format!("zkchaos-{run}-zk{id}-host")
}

/// Labels of a server's host container: the server's labels and `zkchaos.role=host`.
pub fn host_labels(run: &str, profile: &str, id: u32) -> HashMap<String, String> {
    let mut l = server_labels(run, profile, id);
    l.insert(LABEL_ROLE.to_string(), ROLE_HOST.to_string());
    l
}

pub fn network_name(run: &str) -> String {
    format!("zkchaos-{run}")
}

pub fn volume_name(run: &str, id: u32) -> String {
    format!("zkchaos-{run}-zk{id}-data")
}

/// This machine's host name (for `zkchaos.host`), or "unknown".
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Labels of every object of a run (network, volumes, containers).
pub fn run_labels(run: &str, profile: &str) -> HashMap<String, String> {
    HashMap::from([
        (LABEL_RUN.to_string(), run.to_string()),
        (LABEL_PROFILE.to_string(), profile.to_string()),
        (LABEL_PID.to_string(), std::process::id().to_string()),
        (LABEL_HOST.to_string(), hostname()),
    ])
}

/// Labels of one server's objects (container and data volume).
pub fn server_labels(run: &str, profile: &str, id: u32) -> HashMap<String, String> {
    let mut l = run_labels(run, profile);
    l.insert(LABEL_SERVER.to_string(), id.to_string());
    l
}

/// A Docker `label` filter: every object of one run, or of every run.
pub fn label_filter(run: Option<&str>) -> HashMap<String, Vec<String>> {
    let v = match run {
        Some(r) => format!("{LABEL_RUN}={r}"),
        None => LABEL_RUN.to_string(),
    };
    HashMap::from([("label".to_string(), vec![v])])
}

/// Whether process `pid` exists on this machine.
pub fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_short_hex_and_distinct() {
        let a = new_run_id();
        let b = new_run_id();
        assert_eq!(a.len(), 8);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(is_valid_run_id(&a));
        assert_ne!(a, b);
        assert!(!is_valid_run_id("a b"));
        assert!(!is_valid_run_id(""));
    }

    #[test]
    fn names() {
        assert_eq!(container_name("ab12cd34", 3), "zkchaos-ab12cd34-zk3");
        assert_eq!(network_name("ab12cd34"), "zkchaos-ab12cd34");
        assert_eq!(volume_name("ab12cd34", 3), "zkchaos-ab12cd34-zk3-data");
    }

    #[test]
    fn labels() {
        let l = server_labels("r1", "manual", 2);
        assert_eq!(l[LABEL_RUN], "r1");
        assert_eq!(l[LABEL_PROFILE], "manual");
        assert_eq!(l[LABEL_SERVER], "2");
        assert_eq!(l[LABEL_PID], std::process::id().to_string());
        assert!(!l[LABEL_HOST].is_empty());
        assert_eq!(label_filter(Some("r1"))["label"], vec!["zkchaos.run=r1".to_string()]);
        assert_eq!(label_filter(None)["label"], vec!["zkchaos.run".to_string()]);
        assert!(pid_alive(std::process::id()));
    }
}
