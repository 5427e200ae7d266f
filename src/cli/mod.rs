//! The `netlab` command line: parse with clap, dispatch, print.
//!
//! Nothing here teaches networking; every command calls into the library
//! modules and only decides how to show their results. This is the only place
//! that knows clap: the library takes plain configuration structs.
//!
//! | file | commands |
//! |---|---|
//! | `course.rs` | `netlab lessons`, `lesson NN`, `check [NN]`, `watch`, `hint NN`, `reset NN`, `predict NN` |
//! | `guard.rs` | the flags every stream server shares: `--frame-timeout`, `--idle-timeout`, `--max-memory`, `--max-per-ip` |
//! | `layers.rs` | `netlab layers` |
//! | `tcp.rs` | `netlab tcp echo`, `netlab tcp send`, `netlab tcp boundaries` |
//! | `serve.rs` | `netlab serve` |
//! | `chat.rs` | `netlab chat` |
//! | `compare.rs` | `netlab compare` |
//! | `link.rs` | `netlab link` |
//! | `reliable.rs` | `netlab reliable send`, `netlab reliable recv` |
//! | `ws.rs` | `netlab ws echo`, `netlab ws connect` |
//! | `inspect.rs` | `netlab inspect` |
//! | `bench.rs` | `netlab bench tcp`, `netlab bench ws`, `netlab bench chat`, `netlab bench soak` |

mod bench;
mod chat;
mod compare;
mod course;
mod guard;
mod inspect;
mod layers;
mod link;
mod reliable;
mod serve;
mod socketio;
mod tcp;
mod ws;

pub use serve::{HistoryArgs, LimitArgs, ServeArgs};

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::error::Error;
use std::process::ExitCode;

/// What every command returns: an exit code, or an error the binary prints.
pub type CliResult = Result<ExitCode, Box<dyn Error>>;

pub use crate::units::parse_size;

/// netlab — learn networking by running it.
#[derive(Debug, Parser)]
#[command(
    name = "netlab",
    version,
    about = "Learn networking by running it: TCP, framing, chat, WebSocket and a packet inspector, for real on your machine.",
    after_help = "Examples:\n  netlab tour                          see everything working, in one command\n  netlab lessons                       the course, with your progress\n  netlab lesson 02                     read lesson 02\n  netlab check 02                      grade your lessons/02-framing/exercise.rs\n  netlab watch                         grade on every save, and move on when it passes\n  netlab tcp echo --listen 127.0.0.1:7000\n  netlab tcp send 127.0.0.1:7000 hello world\n  netlab completions bash > ~/.local/share/bash-completion/completions/netlab"
)]
pub struct Cli {
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, global = true)]
    pub color: ColorWhen,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// When to use colours.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorWhen {
    /// Colour when writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The commands, in the order the course meets them.
// `serve` has many flags; the value is parsed once per process, so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show everything netlab can do, running for real on loopback.
    #[command(
        after_help = "Examples:\n  netlab tour\n  netlab tour --step 1          only step 1 (a stream has no message boundaries)\n  netlab tour --step 7,8        only steps 7 and 8 (lesson 07)"
    )]
    Tour {
        /// Run only these steps, numbered as the whole tour numbers them (e.g. 7,8).
        #[arg(long, value_name = "N", value_delimiter = ',')]
        step: Vec<usize>,
    },
    /// List the lessons and where you stand on each exercise.
    #[command(after_help = "Examples:\n  netlab lessons\n  netlab lessons --json")]
    Lessons {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print one lesson.
    #[command(after_help = "Examples:\n  netlab lesson 0\n  netlab lesson 02 | less -R")]
    Lesson {
        /// The lesson number (0–12).
        #[arg(value_name = "NN")]
        number: u8,
    },
    /// Grade your exercise for a lesson (all exercises when no number is given).
    #[command(
        after_help = "Compiles lessons/NN-*/exercise.rs with its grader (cargo test -p netlab-exercises --test lesson_NN), then shows the first failing test, a summary line and a nudge.\n\nExamples:\n  netlab check 02\n  netlab check\n  netlab check 02 --json"
    )]
    Check {
        /// The lesson number; omit to check every exercise.
        #[arg(value_name = "NN")]
        number: Option<u8>,
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
        /// Stop a grader that runs longer than this (a loop that never ends), e.g. 60s.
        #[arg(long, default_value = "60s", value_parser = crate::units::parse_duration)]
        timeout: std::time::Duration,
    },
    /// Check your current exercise on every save, and move on when it passes.
    #[command(
        after_help = "Keys: h next hint · r check again · n next lesson · q or Ctrl-C quit.\n\nExamples:\n  netlab watch\n  netlab watch 02\n  netlab watch --poll        (where file notifications don't work, e.g. some network drives)"
    )]
    Watch {
        /// The lesson to start with; default: the first exercise not passed yet.
        #[arg(value_name = "NN")]
        number: Option<u8>,
        /// Compare the file every half second instead of waiting for notifications.
        #[arg(long)]
        poll: bool,
        /// Stop a grader that runs longer than this, e.g. 60s.
        #[arg(long, default_value = "60s", value_parser = crate::units::parse_duration)]
        timeout: std::time::Duration,
    },
    /// Show the next hint for a lesson's exercise (each call gives one more).
    #[command(
        after_help = "Hints go from a question, to where to read, to the approach — never the code.\n\nExamples:\n  netlab hint 02\n  netlab hint 02 --all"
    )]
    Hint {
        /// The lesson number.
        #[arg(value_name = "NN")]
        number: u8,
        /// Show every hint given so far again, without a new one.
        #[arg(long)]
        all: bool,
    },
    /// Put a lesson's exercise back as shipped (your version is kept as exercise.rs.bak).
    #[command(after_help = "Examples:\n  netlab reset 02\n  netlab reset 02 --yes")]
    Reset {
        /// The lesson number.
        #[arg(value_name = "NN")]
        number: u8,
        /// Don't ask first.
        #[arg(long, short)]
        yes: bool,
    },
    /// Answer a lesson's questions first, then run its experiment and see which predictions held.
    #[command(after_help = "Examples:\n  netlab predict 05\n  netlab predict 05 --answers b,a")]
    Predict {
        /// The lesson number.
        #[arg(value_name = "NN")]
        number: u8,
        /// Your answers as letters, one per question, instead of being asked.
        #[arg(long, value_delimiter = ',')]
        answers: Vec<String>,
    },
    /// Draw the OSI and TCP/IP models side by side, with protocols placed (lesson 00).
    #[command(after_help = "Examples:\n  netlab layers\n  netlab layers --json")]
    Layers {
        /// Print JSON instead of the picture.
        #[arg(long)]
        json: bool,
    },
    /// TCP: writes against reads (lesson 01); length-prefixed echo server and client (lessons 01–02).
    #[command(subcommand)]
    Tcp(tcp::TcpCommand),
    /// Run the chat hub: rooms, broadcast, private messages, over TCP, UDP and the browser (lessons 03–07, 10).
    #[command(after_help = serve::AFTER_HELP)]
    Serve(ServeArgs),
    /// Chat from the terminal: type to talk, /help for commands. Works with piped stdin too.
    #[command(after_help = chat::AFTER_HELP)]
    Chat(chat::ChatArgs),
    /// TCP vs UDP, same workload, under loss, a slow receiver, reordering, duplication (lesson 06).
    Compare(compare::CompareArgs),
    /// Relay UDP through an impaired link: loss, duplication, reordering, delay, rate (lessons 05–06).
    Link(link::LinkArgs),
    /// Reliable delivery over UDP: send and receive a stream through loss (lesson 07).
    #[command(subcommand)]
    Reliable(reliable::ReliableCommand),
    /// WebSocket (RFC 6455): echo server and client (lessons 08–09).
    #[command(subcommand)]
    Ws(ws::WsCommand),
    /// Socket.IO (Engine.IO v4 + Socket.IO v5): the protocol's reference echo server (lesson 10).
    #[command(subcommand)]
    Socketio(socketio::SocketioCommand),
    /// Dissect packets (file, hex or live) and label every byte with its OSI and TCP/IP layer (lesson 11).
    Inspect(inspect::InspectArgs),
    /// Load generators: throughput and latency of netlab's servers.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Print a shell completion script for netlab.
    #[command(
        after_help = "Examples:\n  netlab completions bash > ~/.local/share/bash-completion/completions/netlab\n  netlab completions zsh > ~/.zfunc/_netlab        (with fpath+=~/.zfunc in ~/.zshrc)\n  netlab completions fish > ~/.config/fish/completions/netlab.fish"
    )]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> CliResult {
    match cli.color {
        ColorWhen::Auto => {}
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
    }
    match cli.command {
        Command::Tour { step } => {
            let count = crate::tour::STEPS.len();
            if let Some(n) = step.iter().find(|n| !(1..=count).contains(*n)) {
                return Err(
                    format!("there is no tour step {n}: the steps are 1 to {count}").into(),
                );
            }
            runtime(None)?.block_on(crate::tour::run_steps(&step))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Lessons { json } => course::lessons(json),
        Command::Lesson { number } => course::lesson(number),
        Command::Check {
            number,
            json,
            timeout,
        } => course::check(number, json, timeout),
        Command::Watch {
            number,
            poll,
            timeout,
        } => course::watch(number, poll, timeout),
        Command::Hint { number, all } => course::hint(number, all),
        Command::Reset { number, yes } => course::reset(number, yes),
        Command::Predict { number, answers } => course::predict(number, answers),
        Command::Layers { json } => layers::run(json),
        Command::Tcp(cmd) => tcp::run(cmd),
        Command::Serve(args) => serve::run(args),
        Command::Chat(args) => chat::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Link(args) => link::run(args),
        Command::Reliable(cmd) => reliable::run(cmd),
        Command::Ws(cmd) => ws::run(cmd),
        Command::Socketio(cmd) => socketio::run(cmd),
        Command::Inspect(args) => inspect::run(args),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "netlab", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A tokio runtime with `threads` workers (one per usable core by default;
/// `Some(1)` is a single-threaded runtime). Every command that needs one uses this.
fn runtime(threads: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Some(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n.max(1))
            .enable_all()
            .build(),
        None => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
