//! `netlab tcp echo` and `netlab tcp send`: length-prefixed TCP (lessons 01–02);
//! `netlab tcp boundaries`: lesson 01's experiment, writes against reads.

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
    /// Lesson 01's experiment: several writes arrive as fewer reads, one big write as many.
    #[command(
        after_help = "A client and a server on 127.0.0.1, in this process, over a real TCP connection.\nFirst the client makes --writes separate writes of --size bytes and closes; the server waits 100 ms, then reads\nuntil the end with a 64 KiB buffer (a sleeping reader). Then the same writes 20 ms apart, with the server already\nwaiting in read (an eager reader): one read per write. Then the client makes one write_all of --big bytes while the server reads.\nThe server counts its reads: TCP moves bytes, not messages.\n\nExamples:\n  netlab tcp boundaries\n  netlab tcp boundaries --writes 10 --size 100 --big 8MiB\n  netlab tcp boundaries --json"
    )]
    Boundaries(BoundariesArgs),
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

/// `netlab tcp boundaries` options: lesson 01's experiment.
#[derive(Debug, Args)]
pub struct BoundariesArgs {
    /// How many small writes the client makes, one `write_all` each.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub writes: u16,
    /// Bytes in each small write.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = 5)]
    pub size: usize,
    /// Bytes in the one big write.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = 1 << 20)]
    pub big: usize,
    /// Print what the server saw as one JSON object.
    #[arg(long)]
    pub json: bool,
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
        TcpCommand::Boundaries(args) => boundaries(args),
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

/// Largest small write and largest big write `netlab tcp boundaries` accepts.
const MAX_SMALL_WRITE: usize = 64 * 1024;
const MAX_BIG_WRITE: usize = 64 * 1024 * 1024;

fn boundaries(args: BoundariesArgs) -> CliResult {
    use crate::tcp::boundaries::{
        one_write_many_reads, several_writes_eager_read, several_writes_one_read, READ_BUFFER,
        SETTLE, WRITE_GAP,
    };
    if !(1..=MAX_SMALL_WRITE).contains(&args.size) {
        return Err(format!(
            "--size {} is out of range: 1 to {MAX_SMALL_WRITE} bytes",
            args.size
        )
        .into());
    }
    if !(1..=MAX_BIG_WRITE).contains(&args.big) {
        return Err(format!(
            "--big {} is out of range: 1 to {MAX_BIG_WRITE} bytes",
            args.big
        )
        .into());
    }
    // Write i is the letter a, b, c, ... repeated: the glued reads show where each write was.
    let messages: Vec<Vec<u8>> = (0..args.writes)
        .map(|i| vec![b'a' + (i % 26) as u8; args.size])
        .collect();
    let slices: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let rt = runtime(Some(1))?;
    let (small, eager, big) = rt.block_on(async {
        let small = several_writes_one_read(&slices).await?;
        let eager = several_writes_eager_read(&slices, WRITE_GAP).await?;
        let big = one_write_many_reads(args.big).await?;
        Ok::<_, std::io::Error>((small, eager, big))
    })?;
    let sent: Vec<u8> = messages.concat();
    let big_intact = big.received.len() == args.big
        && big
            .received
            .iter()
            .enumerate()
            .all(|(i, b)| *b == (i % 251) as u8);
    let intact = small.received == sent && eager.received == sent && big_intact;
    let distinct: std::collections::BTreeSet<usize> = big.read_sizes.iter().copied().collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "read_buffer": READ_BUFFER,
                "small": {
                    "writes": args.writes,
                    "bytes_each": args.size,
                    "reader": "sleeping",
                    "reader_waits_ms": SETTLE.as_millis() as u64,
                    "reads": small.read_sizes.len(),
                    "read_sizes": small.read_sizes,
                },
                "eager": {
                    "writes": args.writes,
                    "bytes_each": args.size,
                    "reader": "eager",
                    "gap_ms": WRITE_GAP.as_millis() as u64,
                    "reads": eager.read_sizes.len(),
                    "read_sizes": eager.read_sizes,
                },
                "big": {
                    "bytes": args.big,
                    "writes": 1,
                    "reads": big.read_sizes.len(),
                    "distinct_read_sizes": distinct.len(),
                    "smallest_read": big.read_sizes.iter().min(),
                    "largest_read": big.read_sizes.iter().max(),
                },
                "every_byte_in_order": intact,
            }))?
        );
    } else {
        let shown: Vec<String> = messages
            .iter()
            .take(6)
            .map(|m| format!("\"{}\"", term::printable(m, 12)))
            .collect();
        anstream::println!(
            "client: {} separate write(s) of {} bytes: {}{}",
            args.writes,
            args.size,
            shown.join(" "),
            if messages.len() > 6 { " …" } else { "" }
        );
        anstream::println!(
            "sleeping server (reads {} ms later): {} read(s), sizes {:?}: \"{}\"",
            SETTLE.as_millis(),
            small.read_sizes.len(),
            small.read_sizes,
            term::printable(&small.received, 60)
        );
        anstream::println!(
            "client: the same {} write(s), {} ms apart",
            args.writes,
            WRITE_GAP.as_millis()
        );
        anstream::println!(
            "eager server (already waiting in read): {} read(s), sizes {:?}",
            eager.read_sizes.len(),
            &eager.read_sizes[..eager.read_sizes.len().min(12)]
        );
        anstream::println!(
            "{}",
            term::dim("  a read returns what is queued when it runs: the reads follow the timing, not the writes")
        );
        anstream::println!("client: 1 write_all of {} bytes", args.big);
        let first: Vec<String> = big
            .read_sizes
            .iter()
            .take(8)
            .map(|n| n.to_string())
            .collect();
        anstream::println!(
            "server: {} reads with a {READ_BUFFER}-byte buffer, {} different sizes; first: {}{}",
            big.read_sizes.len(),
            distinct.len(),
            first.join(", "),
            if big.read_sizes.len() > 8 {
                ", …"
            } else {
                ""
            }
        );
        let verdict = if intact {
            term::good("every byte arrived, in order")
        } else {
            term::bad("bytes were lost or reordered!")
        };
        anstream::println!(
            "{verdict}; where one write ended and the next began, the reads do not say."
        );
    }
    Ok(if intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
