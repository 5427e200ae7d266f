//! The `netlab` command line: parse with clap, dispatch, print.
//!
//! Nothing here teaches networking; every command calls into the library
//! modules and only decides how to show their results.

use crate::bench::{self, Report};
use crate::course::{self, ExerciseStatus, Lesson};
use crate::framing::{FrameCodec, DEFAULT_MAX_FRAME};
use crate::layers;
use crate::tcp::client::FramedClient;
use crate::tcp::echo::{self, EchoConfig, EchoEvent, DEFAULT_MAX_CONNECTIONS};
use crate::term;
use bytes::Bytes;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::error::Error;
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::time::Duration;

/// What every command returns: an exit code, or an error the binary prints.
pub type CliResult = Result<ExitCode, Box<dyn Error>>;

/// netlab — learn networking by running it.
#[derive(Debug, Parser)]
#[command(
    name = "netlab",
    version,
    about = "Learn networking by running it: TCP, framing, chat, WebSocket and a packet inspector, for real on your machine.",
    after_help = "Examples:\n  netlab tour                          see everything working, in one command\n  netlab lessons                       the course, with your progress\n  netlab lesson 02                     read lesson 02\n  netlab check 02                      grade your lessons/02-framing/exercise.rs\n  netlab tcp echo --listen 127.0.0.1:7000\n  netlab tcp send 127.0.0.1:7000 hello world"
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

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show everything netlab can do, running for real on loopback.
    Tour,
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
        number: u8,
    },
    /// Grade your exercise for a lesson (all exercises when no number is given).
    #[command(
        after_help = "Runs `cargo test --features exercises --test exercises` on lessons/NN-*/exercise.rs.\n\nExamples:\n  netlab check 02\n  netlab check"
    )]
    Check {
        /// The lesson number; omit to check every exercise.
        number: Option<u8>,
    },
    /// Draw the OSI and TCP/IP models side by side, with protocols placed.
    #[command(after_help = "Examples:\n  netlab layers\n  netlab layers --json")]
    Layers {
        /// Print JSON instead of the picture.
        #[arg(long)]
        json: bool,
    },
    /// Length-prefixed TCP: echo server and client (lessons 01–02).
    #[command(subcommand)]
    Tcp(TcpCommand),
    /// Relay UDP through an impaired link: loss, duplication, reordering, delay, rate (lessons 05–06).
    Link(crate::link::command::LinkArgs),
    /// WebSocket (RFC 6455): echo server and client (lessons 08–09).
    #[command(subcommand)]
    Ws(crate::ws::command::WsCommand),
    /// TCP vs UDP, same workload, under loss, a slow receiver, reordering, duplication (lesson 06).
    Compare(crate::lab::command::CompareArgs),
    /// Load generators: throughput and latency of netlab's servers.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// `netlab serve` and `netlab chat` (lessons 03–04).
    #[command(flatten)]
    Chat(crate::chat::command::ChatCommand),
    /// Reliable delivery over UDP: send and receive a stream through loss (lesson 07).
    #[command(subcommand)]
    Reliable(crate::reliable::command::ReliableCommand),
    /// Dissect packets (file, hex or live) and label every byte with its OSI and TCP/IP layer.
    Inspect(crate::inspect::command::InspectArgs),
}

/// `netlab tcp ...`
#[derive(Debug, Subcommand)]
pub enum TcpCommand {
    /// Run a length-prefixed echo server.
    #[command(
        after_help = "Each frame is a 4-byte big-endian length, then that many bytes; every frame is sent back.\n\nExamples:\n  netlab tcp echo --listen 127.0.0.1:7000\n  netlab tcp echo --listen 127.0.0.1:0 --max-frame 64KiB"
    )]
    Echo {
        /// Address to listen on (port 0 picks a free port, printed at start).
        #[arg(long, default_value = "127.0.0.1:7000")]
        listen: String,
        /// The frame size limit.
        #[command(flatten)]
        limits: FrameLimit,
        /// Most clients served at once; more wait until one leaves.
        #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS)]
        max_connections: usize,
        /// Don't print a line per connection.
        #[arg(long, short)]
        quiet: bool,
        /// Worker threads (default: one per core this process may use).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Send messages as frames and print their echoes.
    #[command(
        after_help = "With no MSG, every line of standard input is one message.\n\nExamples:\n  netlab tcp send 127.0.0.1:7000 hello world\n  printf 'one\\ntwo\\n' | netlab tcp send 127.0.0.1:7000\n  netlab tcp send 127.0.0.1:7000 hi --json"
    )]
    Send {
        /// Server address.
        addr: String,
        /// Messages to send, one frame each.
        msgs: Vec<String>,
        /// The frame size limit.
        #[command(flatten)]
        limits: FrameLimit,
        /// Print one JSON object per echo.
        #[arg(long)]
        json: bool,
    },
}

/// The frame size limit flag shared by TCP commands.
#[derive(Debug, Args)]
pub struct FrameLimit {
    /// Largest frame payload accepted or sent (e.g. 65536, 64KiB, 8MiB).
    #[arg(long, value_parser = parse_size, default_value_t = DEFAULT_MAX_FRAME)]
    pub max_frame: usize,
}

/// `netlab bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Load a WebSocket echo server: msgs/s and round-trip latency.
    #[command(
        after_help = "Pin server and load to different cores for stable figures, e.g.\n  taskset -c 0 netlab ws echo --listen 127.0.0.1:9001 --quiet &\n  taskset -c 1 netlab bench ws ws://127.0.0.1:9001/ --conns 64 --pipeline 16 --server-pid $!\n\nscripts/bench-ws runs netlab's server and a tokio-tungstenite peer side by side.\n\nExamples:\n  netlab bench ws ws://127.0.0.1:9001/\n  netlab bench ws ws://127.0.0.1:9001/ --conns 1000 --size 4KiB --secs 5 --json"
    )]
    Ws(crate::ws::command::BenchArgs),
    /// Load a length-prefixed echo server: msgs/s and round-trip latency.
    #[command(
        after_help = "Pin server and load to different cores for stable figures, e.g.\n  taskset -c 0 netlab tcp echo --listen 127.0.0.1:7000 &\n  taskset -c 1 netlab bench tcp 127.0.0.1:7000 --conns 64 --pipeline 16 --server-pid $!\n\nExamples:\n  netlab bench tcp 127.0.0.1:7000\n  netlab bench tcp 127.0.0.1:7000 --conns 64 --size 16 --secs 5 --json"
    )]
    Tcp {
        /// Echo server address.
        addr: String,
        /// Concurrent connections.
        #[arg(long, default_value_t = 1)]
        conns: usize,
        /// Payload bytes per message.
        #[arg(long, value_parser = parse_size, default_value_t = 16)]
        size: usize,
        /// Seconds to measure.
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
        /// Seconds of warm-up before measuring.
        #[arg(long, default_value_t = 1.0)]
        warmup: f64,
        /// Messages each connection keeps in flight.
        #[arg(long, default_value_t = 1)]
        pipeline: usize,
        /// The server's process id, to report its CPU time per message.
        #[arg(long)]
        server_pid: Option<u32>,
        /// Load generator threads.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Load a chat hub: memory per idle connection, and fan-out to one big room.
    Chat(crate::chat::command::BenchChatArgs),
}

pub use crate::units::parse_size;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> CliResult {
    match cli.color {
        ColorWhen::Auto => {}
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
    }
    match cli.command {
        Command::Tour => {
            runtime(None)?.block_on(crate::tour::run())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Lessons { json } => lessons(json),
        Command::Lesson { number } => lesson(number),
        Command::Check { number } => check(number),
        Command::Layers { json } => layers_cmd(json),
        Command::Tcp(cmd) => tcp(cmd),
        Command::Link(args) => crate::link::command::run(args),
        Command::Ws(cmd) => crate::ws::command::run(cmd),
        Command::Compare(args) => crate::lab::command::run(args),
        Command::Bench(cmd) => bench_cmd(cmd),
        Command::Chat(cmd) => crate::chat::command::run(cmd),
        Command::Inspect(args) => crate::inspect::command::run(args),
        Command::Reliable(cmd) => crate::reliable::command::run(cmd),
    }
}

/// A tokio runtime with `threads` workers (one per usable core by default;
/// `Some(1)` is a single-threaded runtime). Every command that needs one uses this.
pub(crate) fn runtime(threads: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
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

fn lessons(json: bool) -> CliResult {
    let root = course::project_root();
    if json {
        let rows: Vec<serde_json::Value> = course::LESSONS
            .iter()
            .map(|l| {
                serde_json::json!({
                    "lesson": l,
                    "ready": l.is_ready(),
                    "exercise_status": l.exercise.map(|_| course::exercise_status(root.as_deref(), l)),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    anstream::println!("{}", term::heading("netlab — the course"));
    anstream::println!();
    for l in course::LESSONS {
        let status = match (l.is_ready(), l.exercise) {
            (false, _) => term::dim("coming"),
            (true, None) => term::dim("no exercise"),
            (true, Some(_)) => match course::exercise_status(root.as_deref(), l) {
                ExerciseStatus::Passed => term::good("✓ passed"),
                ExerciseStatus::InProgress => term::bold("in progress"),
                s => s.label().to_string(),
            },
        };
        // Pad before styling: escape codes must not count towards the width.
        let padded = format!("{:<60}", l.title);
        let title = if l.is_ready() {
            term::bold(padded)
        } else {
            term::dim(padded)
        };
        anstream::println!("  {:02}  {} {}", l.number, title, status);
        if l.is_ready() {
            let ex: Vec<String> = l
                .examples
                .iter()
                .map(|e| format!("cargo run --example {e}"))
                .collect();
            anstream::println!("      {}", term::dim(ex.join("  ·  ")));
        }
    }
    anstream::println!();
    anstream::println!(
        "Read one with {}, grade your exercise with {}.",
        term::bold("netlab lesson NN"),
        term::bold("netlab check NN")
    );
    Ok(ExitCode::SUCCESS)
}

fn find_lesson(number: u8) -> Result<&'static Lesson, Box<dyn Error>> {
    course::lesson(number).ok_or_else(|| {
        format!(
            "there is no lesson {number}: lessons are numbered 00 to {:02} (see `netlab lessons`)",
            course::LESSONS.len() - 1
        )
        .into()
    })
}

fn lesson(number: u8) -> CliResult {
    let l = find_lesson(number)?;
    let Some(text) = l.text else {
        let ready: Vec<String> = course::LESSONS
            .iter()
            .filter(|l| l.is_ready())
            .map(|l| format!("{:02}", l.number))
            .collect();
        return Err(format!(
            "lesson {:02} ({}) is not written yet; ready now: {}",
            l.number,
            l.title,
            ready.join(", ")
        )
        .into());
    };
    anstream::print!("{}", term::render_markdown(text));
    if let Some(ex) = l.exercise {
        anstream::println!();
        anstream::println!(
            "{} {} — edit lessons/{}/exercise.rs, then run {}",
            term::bold("Exercise:"),
            ex.task,
            l.dir,
            term::bold(format!("netlab check {:02}", l.number))
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn check(number: Option<u8>) -> CliResult {
    let root = course::project_root().ok_or(
        "netlab check grades files in the netlab source tree: run it inside your clone of the project (or set NETLAB_ROOT)",
    )?;
    let targets: Vec<&Lesson> = match number {
        Some(n) => {
            let l = find_lesson(n)?;
            if l.exercise.is_none() {
                return Err(format!("lesson {:02} has no exercise yet", l.number).into());
            }
            vec![l]
        }
        None => course::LESSONS
            .iter()
            .filter(|l| l.exercise.is_some())
            .collect(),
    };
    let color = std::io::stdout().is_terminal();
    let mut failed = Vec::new();
    for l in &targets {
        let ex = l.exercise.expect("filtered above");
        anstream::println!(
            "{} lesson {:02}: {}  {}",
            term::bold("Grading"),
            l.number,
            ex.task,
            term::dim(course::exercise_path(&root, l).display())
        );
        let status = course::grader_command(&root, l, color).status()?;
        if status.success() {
            course::record_pass(&root, l);
            anstream::println!("{} lesson {:02} passes.", term::good("✓"), l.number);
        } else {
            failed.push(l.number);
            anstream::println!();
            anstream::println!(
                "{} lesson {:02} does not pass yet.",
                term::bad("✗"),
                l.number
            );
            anstream::println!("{} {}", term::bold("Hint:"), ex.hint);
            anstream::println!(
                "{}",
                term::dim("Read the first failing test above: the diff shows `left` (yours) against `right` (expected).")
            );
        }
    }
    if failed.is_empty() {
        if let [l] = targets.as_slice() {
            let next = course::LESSONS
                .iter()
                .find(|n| n.number > l.number && n.is_ready());
            match next {
                Some(n) => anstream::println!(
                    "Next: {} — {}",
                    term::bold(format!("netlab lesson {:02}", n.number)),
                    n.title
                ),
                None => anstream::println!("That is the last lesson ready so far. Well done!"),
            }
        }
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

fn layers_cmd(json: bool) -> CliResult {
    let rows = layers::model_table();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    anstream::println!(
        "{}   {}   {}   {}",
        term::bold(format!("{:<18}", "OSI model")),
        term::bold(format!("{:<14}", "TCP/IP model")),
        term::bold(format!("{:<42}", "protocols")),
        term::bold("unit of data")
    );
    let mut last_tcpip = None;
    for row in &rows {
        let style = term::osi_style(row.osi);
        let osi = term::paint(style, format!("{} {:<16}", row.number, row.name));
        // The TCP/IP name is printed once, on the first (top) row it covers.
        let tcpip = if last_tcpip == Some(row.tcpip) {
            term::paint(term::tcpip_style(row.tcpip), format!("{:<14}", "│"))
        } else {
            term::paint(
                term::tcpip_style(row.tcpip),
                format!("{:<14}", row.tcpip.name()),
            )
        };
        last_tcpip = Some(row.tcpip);
        let protocols = term::paint(style, format!("{:<42}", row.protocols.join(" ")));
        anstream::println!(
            "{}   {}   {}   {}",
            osi,
            tcpip,
            protocols,
            term::dim(row.data_unit)
        );
    }
    anstream::println!();
    for p in layers::Protocol::ALL {
        if let Some(note) = p.placement_note() {
            anstream::println!(
                "  {} {}",
                term::bold(format!("{}:", p.name())),
                term::dim(note)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn tcp(cmd: TcpCommand) -> CliResult {
    match cmd {
        TcpCommand::Echo {
            listen,
            limits,
            max_connections,
            quiet,
            threads,
        } => {
            let rt = runtime(threads)?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
                // The first line is machine-readable: scripts started with port 0 read it.
                println!("listening on {}", listener.local_addr()?);
                anstream::eprintln!(
                    "{}",
                    term::dim(format!(
                        "length-prefixed echo; max frame {} bytes; Ctrl-C stops",
                        limits.max_frame
                    ))
                );
                let config = EchoConfig {
                    max_frame: limits.max_frame,
                    max_connections,
                };
                let server = echo::serve(listener, config, move |event| {
                    if quiet {
                        return;
                    }
                    match event {
                        EchoEvent::Connected { peer } => {
                            anstream::eprintln!("{} {peer} connected", term::good("+"))
                        }
                        EchoEvent::Closed { peer, stats } => anstream::eprintln!(
                            "{} {peer} closed after {} frames, {} bytes",
                            term::dim("-"),
                            stats.frames,
                            stats.bytes
                        ),
                        EchoEvent::Failed { peer, stats, error } => anstream::eprintln!(
                            "{} {peer} dropped after {} frames: {error}",
                            term::bad("!"),
                            stats.frames
                        ),
                        EchoEvent::AcceptFailed(e) => {
                            anstream::eprintln!("{} accept failed: {e}", term::bad("!"))
                        }
                    }
                });
                tokio::select! {
                    r = server => r?,
                    _ = tokio::signal::ctrl_c() => {}
                }
                Ok::<_, Box<dyn Error>>(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        TcpCommand::Send {
            addr,
            msgs,
            limits,
            json,
        } => {
            let msgs: Vec<Bytes> = if msgs.is_empty() {
                std::io::stdin()
                    .lock()
                    .lines()
                    .map(|l| l.map(Bytes::from))
                    .collect::<Result<_, _>>()?
            } else {
                msgs.into_iter().map(Bytes::from).collect()
            };
            let rt = runtime(Some(1))?;
            let echoes = rt.block_on(async {
                let mut client =
                    FramedClient::connect(&addr, FrameCodec::with_max_frame(limits.max_frame))
                        .await?;
                if !json {
                    anstream::eprintln!(
                        "{}",
                        term::dim(format!(
                            "connected {} → {}",
                            client.local_addr()?,
                            client.peer_addr()?
                        ))
                    );
                }
                Ok::<_, Box<dyn Error>>(client.exchange(&msgs).await?)
            })?;
            for (i, e) in echoes.iter().enumerate() {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "index": i,
                            "sent": String::from_utf8_lossy(&e.sent),
                            "received": String::from_utf8_lossy(&e.received),
                            "bytes": e.received.len(),
                            "matches": e.sent == e.received,
                            "elapsed_us": e.elapsed.as_micros() as u64,
                        })
                    );
                } else {
                    let mut frame = bytes::BytesMut::new();
                    crate::framing::encode_frame(&e.sent, &mut frame, usize::MAX)?;
                    anstream::println!(
                        "{} {}  {}",
                        term::bold("→"),
                        term::printable(&e.sent, 60),
                        term::dim(format!("frame: {}", term::hex(&frame, 12)))
                    );
                    let mark = if e.sent == e.received {
                        term::good("←")
                    } else {
                        term::bad("← (differs!)")
                    };
                    anstream::println!(
                        "{} {}  {}",
                        mark,
                        term::printable(&e.received, 60),
                        term::dim(format!(
                            "{} bytes after {} µs",
                            e.received.len(),
                            e.elapsed.as_micros()
                        ))
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn bench_cmd(cmd: BenchCommand) -> CliResult {
    match cmd {
        BenchCommand::Chat(args) => crate::chat::command::bench(args),
        BenchCommand::Ws(args) => crate::ws::command::bench(args),
        BenchCommand::Tcp {
            addr,
            conns,
            size,
            secs,
            warmup,
            pipeline,
            server_pid,
            threads,
            json,
        } => {
            if conns == 0 || pipeline == 0 {
                return Err("--conns and --pipeline must be at least 1".into());
            }
            if !(secs > 0.0 && warmup >= 0.0) {
                return Err("--secs must be above 0 and --warmup at least 0".into());
            }
            let config = bench::tcp::LoadConfig {
                addr,
                conns,
                size,
                pipeline,
                warmup: Duration::from_secs_f64(warmup),
                duration: Duration::from_secs_f64(secs),
                server_pid,
                progress: !json,
            };
            let report: Report = runtime(Some(threads))?.block_on(bench::tcp::run(config))?;
            Ok(report.print(json)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
