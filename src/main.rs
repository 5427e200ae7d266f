//! The `netlab` binary: parse the command line, run it, print any error.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = netlab::cli::Cli::parse();
    match netlab::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            anstream::eprintln!("{} {e}", netlab::term::bad("error:"));
            ExitCode::FAILURE
        }
    }
}
