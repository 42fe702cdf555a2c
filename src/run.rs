//! (being written) `zkchaos run`.
pub async fn run_command(_args: crate::cli::RunArgs) -> crate::Result<()> { Err(crate::Error::Failed("not yet".into())) }
