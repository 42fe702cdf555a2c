//! (being written) Cluster lifecycle.
pub mod commands {
    use crate::cli::{CleanArgs, ClusterCommand};
    use crate::Result;
    pub async fn image_build(_tag: &str, _force: bool) -> Result<()> { Err(crate::Error::Failed("not yet".into())) }
    pub async fn cluster(_cmd: ClusterCommand) -> Result<()> { Err(crate::Error::Failed("not yet".into())) }
    pub async fn clean(_args: CleanArgs) -> Result<()> { Err(crate::Error::Failed("not yet".into())) }
}
