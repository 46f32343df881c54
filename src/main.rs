//! The `callqa` binary: parses the command line, sets the thread budget and
//! the panic hook, hands the command to `cmd`, and turns its outcome into
//! the exit status (0 all done, 1 some calls failed, 2 nothing could be done).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's malloc: re-scoring allocates and frees small
/// strings and vectors for every clause of every call, and glibc's malloc
/// spent a fifth of a re-score's time growing, consolidating and freeing them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    callqa::asr::blas::restart_with_cpu_kernels();
    let cli = callqa::cli::Cli::parse();
    callqa::isolate::install_hook();
    callqa::files::share_with_group(cli.group_readable);
    let budget = callqa::budget::ThreadBudget::of_this_process(cli.threads);
    budget.apply_to_global_pool();
    match callqa::cmd::dispatch(cli.command, cli.lang, &budget) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            // colour only for a person at a terminal, never in cron logs
            if std::io::stderr().is_terminal() {
                eprintln!("\x1b[31mError:\x1b[0m {e:#}");
            } else {
                eprintln!("Error: {e:#}");
            }
            ExitCode::from(2)
        }
    }
}
