//! `zkchaos agent --spec <json>` (hidden): the process inside a load agent's container. The
//! control process starts it and talks to it over stdin/stdout ([`crate::agents::protocol`]).

use crate::agents::protocol::AgentSpec;
use clap::Args;

#[derive(Debug, Args, Clone)]
pub struct AgentArgs {
    /// What to drive, as JSON ([`AgentSpec`]).
    #[arg(long)]
    pub spec: String,
}

pub async fn agent(args: AgentArgs) -> crate::Result<()> {
    let spec: AgentSpec = serde_json::from_str(&args.spec)
        .map_err(|e| crate::Error::bad_input(format!("--spec is not an agent spec ({e}); zkchaos starts agents itself, see docs/agents.md")))?;
    let mut stdout = std::io::stdout();
    crate::agents::agent::run_agent(spec, crate::agents::agent::stdin_lines(), &mut stdout).await
}
