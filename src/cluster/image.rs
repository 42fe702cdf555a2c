//! The two supported image layouts and how a container of each is started.
//!
//! - [`ImageKind::Debian`]: zkchaos' own image (`docker/build-image.sh`, Debian packages, labelled
//!   `zkchaos.image-kind=debian`), `zkServer.sh` on PATH.
//! - [`ImageKind::Official`]: Docker Hub `zookeeper:<v>` (`/apache-zookeeper-*-bin`, `zkServer.sh`
//!   on PATH). Its entrypoint would write its own zoo.cfg and switch user, so the entrypoint is
//!   overridden; it declares anonymous volumes `/data`, `/datalog`, `/logs`, so containers are
//!   always removed with `v=true`.
//!
//! Both are started as `zkServer.sh start-foreground /zkchaos/conf/zoo.cfg` with the JVM flags
//! (heap, super digest, ...) in `JVMFLAGS`, logging to the container's output.

use super::config::CONF_DIR;
use super::error::{ClusterError, Result};
use super::names::LABEL_IMAGE_KIND;
use crate::plan::ImageKindChoice;
use bollard::Docker;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Debian,
    Official,
}

/// How to start a server from an image of some kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    pub name: String,
    pub kind: ImageKind,
}

impl ImageSpec {
    pub fn entrypoint(&self) -> Vec<String> {
        vec!["zkServer.sh".into()]
    }

    pub fn cmd(&self) -> Vec<String> {
        vec!["start-foreground".into(), format!("{CONF_DIR}/zoo.cfg")]
    }

    /// Container environment: `JVMFLAGS` with the heap and any extra flags.
    pub fn env(&self, heap_mb: u32, extra_jvm_flags: &[String]) -> Vec<String> {
        let mut flags = vec![format!("-Xmx{heap_mb}m"), format!("-Xms{}m", heap_mb.min(64))];
        flags.extend(extra_jvm_flags.iter().cloned());
        let mut env = vec![format!("JVMFLAGS={}", flags.join(" "))];
        if self.kind == ImageKind::Official {
            // The official scripts would otherwise also look for /conf.
            env.push(format!("ZOOCFGDIR={CONF_DIR}"));
        }
        env
    }
}

/// `-Dzookeeper.DigestAuthenticationProvider.superDigest=super:<base64(sha1("super:<password>"))>`.
pub fn super_digest_flag(password: &str) -> String {
    use base64::Engine;
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(format!("super:{password}").as_bytes());
    let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
    format!("-Dzookeeper.DigestAuthenticationProvider.superDigest=super:{b64}")
}

/// Whether `name` is zkchaos' own image (so the hint says "build", not "pull").
fn is_zkchaos_name(name: &str) -> bool {
    name.starts_with("zkchaos/")
}

/// Check the image is present and decide its kind (`auto`: the `zkchaos.image-kind` label).
pub async fn ensure_image(docker: &Docker, name: &str, choice: ImageKindChoice) -> Result<ImageSpec> {
    let inspect = match docker.inspect_image(name).await {
        Ok(i) => i,
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
            let hint = if is_zkchaos_name(name) {
                format!("build it with `zkchaos image build --tag {name}`")
            } else {
                format!("pull it (`docker pull {name}`) or use zkchaos' image built by `zkchaos image build`")
            };
            return Err(ClusterError::ImageMissing { image: name.to_string(), hint });
        }
        Err(source) => return Err(ClusterError::InspectImage { image: name.to_string(), source }),
    };
    let label = inspect
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .and_then(|l| l.get(LABEL_IMAGE_KIND))
        .cloned();
    let kind = match choice {
        ImageKindChoice::Debian => ImageKind::Debian,
        ImageKindChoice::Official => ImageKind::Official,
        ImageKindChoice::Auto if label.as_deref() == Some("debian") => ImageKind::Debian,
        ImageKindChoice::Auto => ImageKind::Official,
    };
    Ok(ImageSpec { name: name.to_string(), kind })
}

/// `docker/build-image.sh`, looked up in the current directory, then in the source tree this
/// binary was built from.
pub fn find_build_script() -> Option<PathBuf> {
    let rel = Path::new("docker").join("build-image.sh");
    let candidates = [rel.clone(), Path::new(env!("CARGO_MANIFEST_DIR")).join(&rel)];
    candidates.into_iter().find(|p| p.is_file())
}

/// Run the build script (idempotent unless `force`).
/// `zookeeper` (`3.8`, `3.8.0`, `3.9.3`, `3.9.6`) picks the Debian suite the script builds from;
/// `tag` overrides the tag (default `zkchaos/zookeeper:<version>`).
pub fn build_image(tag: Option<&str>, zookeeper: Option<&str>, force: bool) -> Result<()> {
    let script = find_build_script().ok_or_else(|| {
        ClusterError::ImageBuild(format!(
            "docker/build-image.sh not found in the current directory or in {}; run zkchaos from its source tree",
            env!("CARGO_MANIFEST_DIR")
        ))
    })?;
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(&script);
    if let Some(v) = zookeeper {
        cmd.arg("--zookeeper").arg(v);
    }
    if let Some(t) = tag {
        cmd.arg("--tag").arg(t);
    }
    if force {
        cmd.env("ZKCHAOS_REBUILD", "1");
    }
    let status = cmd
        .status()
        .map_err(|e| ClusterError::ImageBuild(format!("cannot run {} with bash: {e}", script.display())))?;
    if status.success() {
        Ok(())
    } else {
        Err(ClusterError::ImageBuild(format!(
            "{} failed ({status}); its message above says what is missing",
            script.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jvm_flags_and_commands() {
        let s = ImageSpec { name: "zookeeper:3.8.0".into(), kind: ImageKind::Official };
        let env = s.env(256, &["-Dfoo=bar".into()]);
        assert_eq!(env[0], "JVMFLAGS=-Xmx256m -Xms64m -Dfoo=bar");
        assert!(env.iter().any(|e| e == "ZOOCFGDIR=/zkchaos/conf"));
        assert_eq!(s.entrypoint(), vec!["zkServer.sh"]);
        assert_eq!(s.cmd(), vec!["start-foreground", "/zkchaos/conf/zoo.cfg"]);
        let d = ImageSpec { kind: ImageKind::Debian, ..s };
        assert_eq!(d.env(128, &[]), vec!["JVMFLAGS=-Xmx128m -Xms64m".to_string()]);
    }

    #[test]
    fn super_digest_matches_zookeeper_format() {
        // DigestAuthenticationProvider.generateDigest("super:test")
        assert_eq!(
            super_digest_flag("test"),
            "-Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU="
        );
    }

    #[test]
    fn build_script_is_found_from_the_source_tree() {
        assert!(find_build_script().is_some());
    }
}
