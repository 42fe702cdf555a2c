//! `zkchaos image build`: build the ZooKeeper image from Debian packages (no registry needed).

use crate::cluster::image;
use crate::Result;
use clap::Subcommand;

#[derive(Debug, Subcommand, Clone)]
pub enum ImageCommand {
    /// Build the image from Debian packages (no registry needed). Idempotent.
    Build {
        /// ZooKeeper release to build from Debian's archive: 3.8.0 (bookworm), 3.9.3 (trixie)
        /// or 3.9.6 (sid). Default 3.8.0.
        #[arg(long, value_parser = ["3.8", "3.8.0", "3.9.3", "3.9.6"])]
        zookeeper: Option<String>,
        /// Tag of the image (default zkchaos/zookeeper:<version>).
        #[arg(long)]
        tag: Option<String>,
        /// Rebuild even if the image exists.
        #[arg(long)]
        force: bool,
        /// Build the load agent image instead (default tag zkchaos/agent:latest): Debian
        /// bookworm (the netem image's root filesystem) + this zkchaos binary; see docs/agents.md.
        #[arg(long, conflicts_with = "zookeeper")]
        agent: bool,
        /// With --agent: the zkchaos binary to put in the image (default: this one).
        #[arg(long, requires = "agent")]
        binary: Option<std::path::PathBuf>,
    },
}

pub async fn image(cmd: ImageCommand) -> Result<()> {
    match cmd {
        ImageCommand::Build { agent: true, tag, force, binary, .. } => agent_image_build(tag, binary, force).await,
        ImageCommand::Build { zookeeper, tag, force, .. } => image_build(tag, zookeeper, force).await,
    }
}

/// Build the image with `docker/build-image.sh` (idempotent unless `force`).
pub async fn image_build(tag: Option<String>, zookeeper: Option<String>, force: bool) -> Result<()> {
    tokio::task::spawn_blocking(move || image::build_image(tag.as_deref(), zookeeper.as_deref(), force))
        .await
        .map_err(|e| crate::Error::failed(format!("image build task: {e}")))??;
    Ok(())
}


/// Build the load agent image with `docker/build-agent-image.sh` from `binary` (default: the
/// running executable).
pub async fn agent_image_build(tag: Option<String>, binary: Option<std::path::PathBuf>, force: bool) -> Result<()> {
    let binary = match binary {
        Some(b) => b,
        None => std::env::current_exe().map_err(|e| crate::Error::failed(format!("image build --agent: cannot find this executable: {e}")))?,
    };
    let rel = std::path::Path::new("docker").join("build-agent-image.sh");
    let script = [rel.clone(), std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&rel)]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| crate::Error::environment(format!("docker/build-agent-image.sh not found here or in {}; run zkchaos from its source tree", env!("CARGO_MANIFEST_DIR"))))?;
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(&script).arg("--binary").arg(&binary);
    if force {
        cmd.arg("--force");
    }
    if let Some(t) = tag {
        cmd.arg(t);
    }
    let status = tokio::task::spawn_blocking(move || cmd.status())
        .await
        .map_err(|e| crate::Error::failed(format!("image build --agent task: {e}")))?
        .map_err(|e| crate::Error::failed(format!("cannot run {} with bash: {e}", script.display())))?;
    if status.success() {
        Ok(())
    } else {
        Err(crate::Error::environment(format!("{} failed ({status}); its message above says what is missing", script.display())))
    }
}
