//! `netlab bench chat`: idle connections held, and a room's fan-out measured.

use super::runtime;
use crate::cli::CliResult;
use clap::Args;
use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

/// `netlab bench chat`
#[derive(Debug, Args)]
#[command(
    after_help = "Start the server with a rate limit the sender will not hit, pinned to its own core:\n  taskset -c 0 netlab serve --tcp 127.0.0.1:7100 --quiet --rate 1000000 --burst 1000000 &\n  ulimit -n 20000\n  taskset -c 1 netlab bench chat 127.0.0.1:7100 --server-pid $!\n\nscripts/bench-chat runs this next to the same fan-out on Node's Socket.IO and prints the ratio.\n\nExamples:\n  netlab bench chat 127.0.0.1:7100 --idle 10000 --receivers 0 --server-pid 1234\n  netlab bench chat 127.0.0.1:7100 --idle 0 --receivers 1000 --secs 5 --json"
)]
pub struct BenchChatArgs {
    /// Chat server address (host:port, or tcp://host:port).
    pub addr: String,
    /// Idle connections to open and hold (0 skips the idle test).
    #[arg(long, default_value_t = 10_000)]
    pub idle: usize,
    /// Members of the fan-out room (0 skips the fan-out test).
    #[arg(long, default_value_t = 1_000)]
    pub receivers: usize,
    /// Messages the sender keeps in flight (done when every receiver has one).
    #[arg(long, default_value_t = 16)]
    pub window: usize,
    /// Seconds to measure the fan-out.
    #[arg(long, default_value_t = 5.0)]
    pub secs: f64,
    /// Seconds of fan-out warm-up before measuring.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// The server's process id: memory (VmRSS) and CPU time per delivery.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Print one JSON object per test instead of text.
    #[arg(long)]
    pub json: bool,
    /// Measure the fan-out over UDP instead (ADDR is the server's --udp address; no idle test).
    #[arg(long)]
    pub udp: bool,
}

/// Runs `netlab bench chat`.
pub fn bench(args: BenchChatArgs) -> CliResult {
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
