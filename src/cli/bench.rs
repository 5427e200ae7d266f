//! `netlab bench tcp|ws|chat|soak`: load generators for netlab's servers —
//! msgs/s, round-trip latency, fairness, and the server's CPU time per message;
//! `soak` churns thousands of connections for minutes and judges the server
//! on what it lost, duplicated and kept in memory.

use super::{parse_size, runtime, CliResult};
use crate::bench::{self, Report};
use clap::{Args, Subcommand};
use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

/// `netlab bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Load a WebSocket echo server: msgs/s and round-trip latency.
    #[command(
        after_help = "Pin server and load to different cores for stable figures, e.g.\n  taskset -c 0 netlab ws echo --listen 127.0.0.1:9001 --quiet &\n  taskset -c 1 netlab bench ws ws://127.0.0.1:9001/ --conns 64 --pipeline 16 --server-pid $!\n\nscripts/bench-ws runs netlab's server and a tokio-tungstenite peer side by side.\n\nExamples:\n  netlab bench ws ws://127.0.0.1:9001/\n  netlab bench ws ws://127.0.0.1:9001/ --conns 1000 --size 4KiB --secs 5 --json"
    )]
    Ws(BenchWsArgs),
    /// Load a length-prefixed echo server: msgs/s and round-trip latency.
    #[command(
        after_help = "Pin server and load to different cores for stable figures, e.g.\n  taskset -c 0 netlab tcp echo --listen 127.0.0.1:7000 &\n  taskset -c 1 netlab bench tcp 127.0.0.1:7000 --conns 64 --pipeline 16 --server-pid $!\n\nExamples:\n  netlab bench tcp 127.0.0.1:7000\n  netlab bench tcp 127.0.0.1:7000 --conns 64 --size 16 --secs 5 --json"
    )]
    Tcp {
        /// Echo server address.
        addr: String,
        /// Concurrent connections.
        #[arg(long, value_name = "N", default_value_t = 1)]
        conns: usize,
        /// Payload bytes per message.
        #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = 16)]
        size: usize,
        /// Seconds to measure.
        #[arg(long, value_name = "SECS", default_value_t = 5.0)]
        secs: f64,
        /// Seconds of warm-up before measuring.
        #[arg(long, value_name = "SECS", default_value_t = 1.0)]
        warmup: f64,
        /// Messages each connection keeps in flight.
        #[arg(long, value_name = "N", default_value_t = 1)]
        pipeline: usize,
        /// The server's process id, to report its CPU time per message.
        #[arg(long, value_name = "PID")]
        server_pid: Option<u32>,
        /// Load generator threads.
        #[arg(long, value_name = "N", default_value_t = 1)]
        threads: usize,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Load a chat hub: memory per idle connection, and fan-out to one big room.
    Chat(BenchChatArgs),
    /// Soak a chat hub: churning connections that vanish and resume, a slow reader, a flooder; lost, duplicated, RSS, p99.
    Soak(BenchSoakArgs),
}

pub(super) fn run(cmd: BenchCommand) -> CliResult {
    match cmd {
        BenchCommand::Chat(args) => chat(args),
        BenchCommand::Soak(args) => soak(args),
        BenchCommand::Ws(args) => ws(args),
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

/// `netlab bench ws URL ...`: load for a WebSocket echo server.
#[derive(Debug, Args)]
pub struct BenchWsArgs {
    /// The echo server, as ws://host:port/path.
    pub url: String,
    /// Concurrent connections.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub conns: usize,
    /// Payload bytes per message (binary).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = 16)]
    pub size: usize,
    /// Messages each connection keeps in flight.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub pipeline: usize,
    /// Seconds to measure.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub secs: f64,
    /// Seconds of warm-up before measuring.
    #[arg(long, value_name = "SECS", default_value_t = 1.0)]
    pub warmup: f64,
    /// The server's process id, to report its CPU time per message.
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
    /// Load generator threads.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub threads: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `netlab bench ws`.
fn ws(args: BenchWsArgs) -> CliResult {
    if args.conns == 0 || args.pipeline == 0 {
        return Err("--conns and --pipeline must be at least 1".into());
    }
    if !(args.secs > 0.0 && args.warmup >= 0.0) {
        return Err("--secs must be above 0 and --warmup at least 0".into());
    }
    let config = crate::bench::ws::LoadConfig {
        url: args.url,
        conns: args.conns,
        size: args.size,
        pipeline: args.pipeline,
        warmup: Duration::from_secs_f64(args.warmup),
        duration: Duration::from_secs_f64(args.secs),
        server_pid: args.server_pid,
        progress: !args.json,
    };
    let rt = runtime(Some(args.threads.max(1)))?;
    let report = rt.block_on(crate::bench::ws::run(config))?;
    Ok(report.print(args.json)?)
}

/// `netlab bench chat`
#[derive(Debug, Args)]
#[command(
    after_help = "Start the server with a rate limit the sender will not hit, pinned to its own core:\n  taskset -c 0 netlab serve --tcp 127.0.0.1:7100 --quiet --rate 1000000 --burst 1000000 &\n  ulimit -n 20000\n  taskset -c 1 netlab bench chat 127.0.0.1:7100 --server-pid $!\n\nscripts/bench-chat runs this next to the same fan-out on Node's Socket.IO and prints the ratio.\n\nExamples:\n  netlab bench chat 127.0.0.1:7100 --idle 10000 --receivers 0 --server-pid 1234\n  netlab bench chat 127.0.0.1:7100 --idle 0 --receivers 1000 --secs 5 --json"
)]
pub struct BenchChatArgs {
    /// Chat server address (host:port, or tcp://host:port).
    pub addr: String,
    /// Idle connections to open and hold (0 skips the idle test).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub idle: usize,
    /// Members of the fan-out room (0 skips the fan-out test).
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    pub receivers: usize,
    /// Messages the sender keeps in flight (done when every receiver has one).
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub window: usize,
    /// Seconds to measure the fan-out.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub secs: f64,
    /// Seconds of fan-out warm-up before measuring.
    #[arg(long, value_name = "SECS", default_value_t = 1.0)]
    pub warmup: f64,
    /// The server's process id: memory (VmRSS) and CPU time per delivery.
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
    /// Print one JSON object per test instead of text.
    #[arg(long)]
    pub json: bool,
    /// Measure the fan-out over UDP instead (ADDR is the server's --udp address; no idle test).
    #[arg(long)]
    pub udp: bool,
}

/// Runs `netlab bench chat`.
fn chat(args: BenchChatArgs) -> CliResult {
    use crate::bench::chat as b;
    let addr = args.addr.trim_start_matches("tcp://").to_string();
    if !(args.secs > 0.0 && args.warmup >= 0.0) {
        return Err("--secs must be above 0 and --warmup at least 0".into());
    }
    if args.udp {
        let config = crate::bench::udp_chat::UdpFanoutConfig {
            addr: addr.trim_start_matches("udp://").to_string(),
            receivers: args.receivers,
            window: args.window,
            warmup: Duration::from_secs_f64(args.warmup),
            duration: Duration::from_secs_f64(args.secs),
            server_pid: args.server_pid,
        };
        let report = runtime(Some(1))?.block_on(crate::bench::udp_chat::fanout(config))?;
        if args.json {
            println!(
                "{}",
                serde_json::json!({"test": "udp-fanout", "report": report})
            );
        } else {
            anstream::print!("{}", report.to_text());
        }
        return Ok(ExitCode::SUCCESS);
    }
    runtime(Some(1))?.block_on(async move {
        if args.idle > 0 {
            let (report, held) = b::idle(&addr, args.idle, args.server_pid, !args.json)
                .await
                .map_err(|e| {
                    format!("{e} (for many connections raise the file limit: ulimit -n 20000)")
                })?;
            if args.json {
                println!("{}", serde_json::json!({"test": "idle", "report": report}));
            } else {
                anstream::print!("{}", report.to_text());
            }
            drop(held);
            // Give the server time to see them all go before the next test.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        if args.receivers > 0 {
            let report = b::fanout(b::FanoutConfig {
                addr: addr.clone(),
                receivers: args.receivers,
                window: args.window,
                warmup: Duration::from_secs_f64(args.warmup),
                duration: Duration::from_secs_f64(args.secs),
                server_pid: args.server_pid,
                progress: !args.json,
            })
            .await?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"test": "fanout", "report": report})
                );
            } else {
                anstream::print!("{}", report.to_text());
            }
        }
        Ok::<_, Box<dyn Error>>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `netlab bench soak`
#[derive(Debug, Args)]
#[command(
    after_help = "The server needs history and sessions (observers resume), room for the connections, and the file limit raised:\n  ulimit -n 20000\n  taskset -c 0 netlab serve --tcp 127.0.0.1:7100 --udp 127.0.0.1:7101 --history 200 --session-ttl 60s --max-connections 40000 --quiet &\n  netlab link --listen 127.0.0.1:7102 --to 127.0.0.1:7101 --loss 5% --seed 1 &\n  taskset -c 1 netlab bench soak 127.0.0.1:7100 --udp 127.0.0.1:7102 --conns 10000 --secs 600 --server-pid $!\n\nscripts/soak does all of that, and checks the server's stderr for panics and its pid for restarts.\nExits 1 when an observer lost or got twice any accepted message, or the server's RSS grew past --max-rss-growth after the warm-up.\n\nExamples:\n  netlab bench soak 127.0.0.1:7100 --conns 300 --secs 30\n  netlab bench soak 127.0.0.1:7100 --conns 10000 --secs 600 --server-pid 1234 --json"
)]
pub struct BenchSoakArgs {
    /// Chat server address (host:port, or tcp://host:port); it must run with --history.
    pub addr: String,
    /// The same server's UDP address, usually a `netlab link --loss 5%` in front of its --udp.
    #[arg(long, value_name = "ADDR")]
    pub udp: Option<String>,
    /// TCP connections held at once.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub conns: usize,
    /// Seconds the load runs.
    #[arg(long, value_name = "SECS", default_value_t = 600.0)]
    pub secs: f64,
    /// Seconds of warm-up, after which RSS must stay flat (default: a quarter of --secs).
    #[arg(long, value_name = "SECS")]
    pub warmup: Option<f64>,
    /// Observers that vanish and resume, and must get every message once (default: one per 30 connections, 4–50).
    #[arg(long, value_name = "N")]
    pub observers: Option<usize>,
    /// UDP clients (with --udp).
    #[arg(long, value_name = "N", default_value_t = crate::bench::soak::DEFAULT_UDP_CLIENTS)]
    pub udp_clients: usize,
    /// The sender's messages per second.
    #[arg(long, value_name = "N", default_value_t = crate::bench::soak::DEFAULT_SENDER_RATE)]
    pub sender_rate: u32,
    /// Mean seconds a member's connection lives before it churns (default: a tenth of --secs, 5–60).
    #[arg(long, value_name = "SECS")]
    pub lifetime: Option<f64>,
    /// Spread clients over this many source addresses 127.0.0.1, .2, ... (for per-address caps).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub sources: u8,
    /// The server's process id: its RSS is sampled and judged.
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
    /// RSS growth after the warm-up that fails the run.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = crate::bench::soak::DEFAULT_MAX_RSS_GROWTH as usize)]
    pub max_rss_growth: usize,
    /// Seed of the random pauses, lifetimes and choices.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `netlab bench soak`.
fn soak(args: BenchSoakArgs) -> CliResult {
    use crate::bench::soak::{self, SoakConfig};
    let warmup_ok = match args.warmup {
        Some(w) => (0.0..args.secs).contains(&w),
        None => true,
    };
    if !(args.secs > 0.0 && args.secs.is_finite() && warmup_ok) {
        return Err("--secs must be above 0, and --warmup at least 0 and below --secs".into());
    }
    if let Some(l) = args.lifetime {
        if !(l > 0.0 && l.is_finite()) {
            return Err("--lifetime must be above 0".into());
        }
    }
    let addr = args.addr.trim_start_matches("tcp://");
    let mut config = SoakConfig::new(addr, args.conns, Duration::from_secs_f64(args.secs));
    if let Some(w) = args.warmup {
        config.warmup = Duration::from_secs_f64(w);
    }
    if let Some(o) = args.observers {
        config.observers = o;
    }
    if let Some(l) = args.lifetime {
        config.member_lifetime = Duration::from_secs_f64(l);
    }
    config.udp = args.udp.map(|u| u.trim_start_matches("udp://").to_string());
    config.udp_clients = args.udp_clients;
    config.sender_rate = args.sender_rate;
    config.sources = args.sources;
    config.server_pid = args.server_pid;
    config.max_rss_growth = args.max_rss_growth as u64;
    config.seed = args.seed;
    config.progress = true;
    let report = runtime(Some(1))?
        .block_on(soak::run(config))
        .map_err(|e| format!("{e} (for many connections raise the file limit: ulimit -n 20000)"))?;
    Ok(report.print(args.json)?)
}
