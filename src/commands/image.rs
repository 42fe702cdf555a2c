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
    },
}

pub async fn image(cmd: ImageCommand) -> Result<()> {
    match cmd {
        ImageCommand::Build { zookeeper, tag, force } => image_build(tag, zookeeper, force).await,
    }
}

/// Build the image with `docker/build-image.sh` (idempotent unless `force`).
pub async fn image_build(tag: Option<String>, zookeeper: Option<String>, force: bool) -> Result<()> {
    tokio::task::spawn_blocking(move || image::build_image(tag.as_deref(), zookeeper.as_deref(), force))
        .await
        .map_err(|e| crate::Error::failed(format!("image build task: {e}")))??;
    Ok(())
}

