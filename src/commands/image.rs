//! `zkchaos image build`: build the ZooKeeper image from Debian packages (no registry needed).

use crate::cluster::image;
use crate::Result;
use clap::Subcommand;

#[derive(Debug, Subcommand, Clone)]
pub enum ImageCommand {
    /// Build the image from Debian packages (no registry needed). Idempotent.
    Build {
        /// Tag of the image to build.
        #[arg(long, default_value = "zkchaos/zookeeper:3.8.0")]
        tag: String,
        /// Rebuild even if the image exists.
        #[arg(long)]
        force: bool,
    },
}

pub async fn image(cmd: ImageCommand) -> Result<()> {
    match cmd {
        ImageCommand::Build { tag, force } => image_build(&tag, force).await,
    }
}

/// Build the image with `docker/build-image.sh` (idempotent unless `force`).
pub async fn image_build(tag: &str, force: bool) -> Result<()> {
    let tag = tag.to_string();
    tokio::task::spawn_blocking(move || image::build_image(&tag, force))
        .await
        .map_err(|e| crate::Error::failed(format!("image build task: {e}")))??;
    Ok(())
}

