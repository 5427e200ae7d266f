//! `netlab tcp echo` and `netlab tcp send`: length-prefixed TCP (lessons 01–02).

use super::guard::{
    guards_line, print_stop_report, EchoTally, EchoUnit, IdleTimeout, ServerGuards,
};
use super::{parse_size, runtime, CliResult};
use crate::framing::{FrameCodec, DEFAULT_MAX_FRAME};
use crate::guard::MemoryBudget;
use crate::tcp::client::FramedClient;
use crate::tcp::echo::{self, EchoConfig, EchoError, EchoEvent, DEFAULT_MAX_CONNECTIONS};
use crate::term;
use bytes::Bytes;
use clap::{Args, Subcommand};
use std::error::Error;
use std::io::BufRead;
use std::process::ExitCode;

/// `netlab tcp ...`
#[derive(Debug, Subcommand)]
pub enum TcpCommand {
    /// Run a length-prefixed echo server.
    #[command(
        after_help = "Each frame is a 4-byte big-endian length, then that many bytes; every frame is sent back.\nThe echo protocol has no error message: a client that breaks a rule or a limit is closed, and the log says why.\nCtrl-C or SIGTERM stops it; with --json it then prints one JSON object: connections accepted and refused (and why), frames echoed, the memory budget's peak.\n\nExamples:\n  netlab tcp echo --listen 127.0.0.1:7000\n  netlab tcp echo --listen 127.0.0.1:0 --max-frame 64KiB\n  netlab tcp echo --frame-timeout 2s --idle-timeout 1min --max-memory 64MiB --max-per-ip 16\n  netlab tcp echo --listen 127.0.0.1:0 --quiet --json     (stats as JSON when stopped)"
    )]
    Echo {
        /// Address to listen on (port 0 picks a free port, printed at start).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7000")]
        listen: String,
        /// The frame size limit.
        #[command(flatten)]
        limits: FrameLimit,
        /// Most clients served at once; more wait until one leaves.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS)]
        max_connections: usize,
        /// Limits across all connections.
        #[command(flatten)]
        guards: ServerGuards,
        /// The idle limit.
        #[command(flatten)]
        idle: IdleTimeout,
        /// Don't print a line per connection.
        #[arg(long, short)]
        quiet: bool,
        /// When stopped (Ctrl-C, SIGTERM), print the server's counts as one JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// Worker threads (default: one per core this process may use).
        #[arg(long, value_name = "N")]
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
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = DEFAULT_MAX_FRAME)]
    pub max_frame: usize,
}

pub(super) fn run(cmd: TcpCommand) -> CliResult {
    match cmd {
        TcpCommand::Echo {
            listen,
            limits,
            max_connections,
            guards,
            idle,
            quiet,
            json,
            threads,
        } => {
            let rt = runtime(threads)?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
                // The first line is machine-readable: scripts started with port 0 read it.
                let stop = super::guard::ctrl_c_armed();
                println!("listening on {}", listener.local_addr()?);
                anstream::eprintln!(
                    "{}",
                    term::dim(format!(
                        "length-prefixed echo; max frame {} bytes; {}; Ctrl-C stops",
                        limits.max_frame,
                        guards_line(&guards, Some(&idle))
                    ))
                );
                let config = EchoConfig {
                    max_frame: limits.max_frame,
                    max_connections,
                    frame_timeout: guards.frame_timeout(),
                    idle_timeout: idle.get(),
                    max_memory: guards.max_memory,
                    max_per_ip: guards.max_per_ip,
                };
                let budget = MemoryBudget::new(guards.max_memory);
                let tally = std::sync::Arc::new(EchoTally::default());
                let counts = tally.clone();
                let server =
                    echo::serve_with_budget(listener, config, budget.clone(), move |event| {
                        match &event {
                            EchoEvent::Connected { .. } => counts.accepted(),
                            EchoEvent::Refused { .. } => counts.refused_per_ip(),
                            EchoEvent::Closed { stats, .. } => {
                                counts.ended(stats.frames, stats.bytes, false)
                            }
                            EchoEvent::Failed { stats, error, .. } => counts.ended(
                                stats.frames,
                                stats.bytes,
                                matches!(error, EchoError::OverBudget(_)),
                            ),
                            EchoEvent::Accept(_) => {}
                        }
                        // Accept trouble is printed even with --quiet: the server is in trouble.
                        if quiet && !matches!(event, EchoEvent::Accept(_)) {
                            return;
                        }
                        match event {
                            EchoEvent::Connected { peer } => {
                                anstream::eprintln!("{} {peer} connected", term::good("+"))
                            }
                            EchoEvent::Refused { peer, error } => {
                                anstream::eprintln!("{} {peer} refused: {error}", term::bad("!"))
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
                            EchoEvent::Accept(report) => {
                                anstream::eprintln!("{} {report}", term::bad("!"))
                            }
                        }
                    });
                tokio::select! {
                    r = server => r?,
                    _ = stop => {}
                }
                print_stop_report(json, &tally.report(&budget, EchoUnit::Frames), &budget)?;
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
