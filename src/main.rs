//! The `zkchaos` binary: parse the command line, run the library, map the outcome to an exit code.

use clap::Parser;

fn main() {
    let cli = zkchaos::commands::Cli::parse();
    zkchaos::commands::init_tracing();
    let code = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt.block_on(zkchaos::commands::dispatch(cli)),
        Err(e) => {
            eprintln!("zkchaos: cannot start the async runtime: {e}");
            1
        }
    };
    std::process::exit(code);
}
