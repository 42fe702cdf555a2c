//! (being written) Open-loop load.
pub mod commands {
    pub async fn load(_args: crate::cli::LoadArgs) -> crate::Result<()> { Err(crate::Error::Failed("not yet".into())) }
}
pub mod bench {
    pub async fn bench(_args: crate::cli::BenchArgs) -> crate::Result<()> { Err(crate::Error::Failed("not yet".into())) }
}
