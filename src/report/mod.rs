//! (being written) Results, summary, charts.
pub mod commands {
    pub async fn compare(_args: crate::cli::CompareArgs) -> crate::Result<()> { Err(crate::Error::Failed("not yet".into())) }
    pub async fn analyze(_args: crate::cli::AnalyzeArgs) -> crate::Result<()> { Err(crate::Error::Failed("not yet".into())) }
}
