//! `zkchaos completions <shell>` and `zkchaos manpage`: generated from the clap definitions
//! (clap_complete, clap_mangen — the clap project's own generators), so they never drift from
//! the real options.

use super::Cli;
use clap::{Args, CommandFactory};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// Shell to print the completion script for, e.g. `zkchaos completions bash > /etc/bash_completion.d/zkchaos`.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args, Clone)]
pub struct ManpageArgs {
    /// Write zkchaos.1 and one zkchaos-<subcommand>.1 per subcommand into this directory
    /// instead of printing zkchaos.1 to standard output.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Print the completion script for `args.shell`.
pub fn completions(args: CompletionsArgs) -> crate::Result<()> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "zkchaos", &mut out);
    write_stdout(&out)
}

/// Print `zkchaos.1`, or write every page into `args.dir`.
pub fn manpage(args: ManpageArgs) -> crate::Result<()> {
    let cmd = Cli::command();
    match args.dir {
        None => {
            let mut out = Vec::new();
            render(&cmd, &mut out)?;
            write_stdout(&out)
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| crate::Error::bad_input(format!("create man page directory {}: {e}", dir.display())))?;
            clap_mangen::generate_to(cmd, &dir)
                .map_err(|e| crate::Error::failed(format!("write man pages into {}: {e}", dir.display())))?;
            println!("man pages written to {}", dir.display());
            Ok(())
        }
    }
}

fn render(cmd: &clap::Command, out: &mut Vec<u8>) -> crate::Result<()> {
    clap_mangen::Man::new(cmd.clone())
        .render(out)
        .map_err(|e| crate::Error::failed(format!("render the man page: {e}")))
}

fn write_stdout(bytes: &[u8]) -> crate::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| crate::Error::failed(format!("write to standard output: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_completion_lists_the_subcommands_and_the_man_page_renders() {
        let mut out = Vec::new();
        clap_complete::generate(clap_complete::Shell::Bash, &mut Cli::command(), "zkchaos", &mut out);
        let text = String::from_utf8(out).unwrap();
        for sub in ["run", "compare", "export", "completions", "--warmup"] {
            assert!(text.contains(sub), "bash completion lacks {sub}");
        }
        let mut man = Vec::new();
        render(&Cli::command(), &mut man).unwrap();
        let man = String::from_utf8(man).unwrap();
        assert!(man.contains(".TH zkchaos") && man.contains("Exit codes"), "{}", &man[..man.len().min(400)]);
    }
}
