//! `netlab link`: the command line of the impairment relay.

use super::CliResult;
use crate::link::impairment::{Impairment, DEFAULT_QUEUE_LIMIT, DEFAULT_REORDER_HOLD};
use crate::link::relay::{
    self, RelayConfig, RelayReport, DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE,
};
use crate::term;
use crate::units::{parse_duration, parse_percent, parse_rate, parse_size};
use clap::Args;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

/// `netlab link` options.
#[derive(Debug, Args)]
#[command(
    after_help = "Clients send to --listen; the relay forwards to --to and relays replies back,\n\
applying the impairments in both directions. Counters print every second (on a terminal)\n\
and when it stops (Ctrl-C or --duration).\n\n\
Examples:\n  \
netlab link --listen 127.0.0.1:9000 --to 127.0.0.1:7000 --loss 10% --seed 1\n  \
netlab link --listen 127.0.0.1:9000 --to 127.0.0.1:7000 --delay 50ms --jitter 20ms --reorder 5%\n  \
netlab link --listen 127.0.0.1:9000 --to 127.0.0.1:7000 --rate 1Mbit --queue 32KiB --duration 10s --json"
)]
pub struct LinkArgs {
    /// Address clients send to.
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// Address of the real UDP server.
    #[arg(long, value_name = "ADDR")]
    pub to: String,
    /// Share of datagrams dropped (e.g. 5% or 0.05).
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, default_value = "0")]
    pub loss: f64,
    /// Share of datagrams delivered twice.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, default_value = "0")]
    pub duplicate: f64,
    /// Share of datagrams held back so later ones overtake them.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, default_value = "0")]
    pub reorder: f64,
    /// How long a reordered datagram is held back.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10ms")]
    pub reorder_hold: Duration,
    /// Share of datagrams with one bit flipped.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, default_value = "0")]
    pub corrupt: f64,
    /// One-way delay added to every datagram.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "0")]
    pub delay: Duration,
    /// Each datagram's delay varies by up to this much either way.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "0")]
    pub jitter: Duration,
    /// Link speed (e.g. 1Mbit, 100KiB/s); unlimited when left out.
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub rate: Option<u64>,
    /// Bytes that may wait behind --rate before new datagrams are dropped.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = DEFAULT_QUEUE_LIMIT)]
    pub queue: usize,
    /// Seed: the same seed and traffic give the same losses.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Most clients relayed at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_SESSIONS)]
    pub max_sessions: usize,
    /// Stop after this long (default: run until Ctrl-C).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Print the final counters as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `netlab link`.
pub fn run(args: LinkArgs) -> CliResult {
    let impairment = Impairment {
        loss: args.loss,
        duplicate: args.duplicate,
        reorder: args.reorder,
        reorder_hold: if args.reorder_hold.is_zero() {
            DEFAULT_REORDER_HOLD
        } else {
            args.reorder_hold
        },
        corrupt: args.corrupt,
        delay: args.delay,
        jitter: args.jitter,
        rate: args.rate,
        queue_limit: args.queue,
        seed: args.seed,
    };
    impairment.validate()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(async {
        let to = tokio::net::lookup_host(&args.to)
            .await
            .map_err(|e| format!("cannot resolve --to {}: {e}", args.to))?
            .next()
            .ok_or_else(|| format!("--to {} resolves to no address", args.to))?;
        let front = tokio::net::UdpSocket::bind(&args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        // The first line is machine-readable: scripts started with port 0 read it.
        println!("listening on {} -> {to}", front.local_addr()?);
        anstream::eprintln!("{}", term::dim(format!("link: {}", impairment.describe())));
        let config = RelayConfig {
            to,
            impairment,
            max_sessions: args.max_sessions,
            session_idle: DEFAULT_SESSION_IDLE,
        };
        let live = std::io::stderr().is_terminal();
        let duration = args.duration;
        let stop = async move {
            match duration {
                Some(d) => tokio::time::sleep(d).await,
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        };
        let report = relay::run(front, config, stop, |r| {
            if live {
                anstream::eprint!("\r{}   ", status_line(r));
            }
        })
        .await?;
        if live {
            anstream::eprintln!();
        }
        Ok::<_, Box<dyn std::error::Error>>(report)
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        anstream::println!("{}", term::bold("link counters"));
        for (name, c) in [
            ("client → server", report.forward),
            ("server → client", report.backward),
        ] {
            anstream::println!(
                "  {name}: {} in, {} delivered, {} lost, {} overflowed, {} duplicated, {} reordered, {} corrupted",
                c.received, c.delivered, c.lost, c.overflowed, c.duplicated, c.reordered, c.corrupted
            );
        }
        if report.refused > 0 {
            anstream::println!(
                "  {} datagrams from new clients refused (--max-sessions)",
                report.refused
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status_line(r: &RelayReport) -> String {
    format!(
        "{} sessions | → {} in {} out {} lost | ← {} in {} out {} lost",
        r.sessions,
        r.forward.received,
        r.forward.delivered,
        r.forward.lost + r.forward.overflowed,
        r.backward.received,
        r.backward.delivered,
        r.backward.lost + r.backward.overflowed
    )
}
