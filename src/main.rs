use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = callqa::cli::Cli::parse();
    match callqa::cmd::dispatch(cli.command) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            eprintln!("\x1b[31mError:\x1b[0m {e:#}");
            ExitCode::from(2)
        }
    }
}
