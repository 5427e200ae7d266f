//! `netlab link`: the command line of the impairment relay.

use super::CliResult;
use crate::link::impairment::{Impairment, DEFAULT_QUEUE_LIMIT, DEFAULT_REORDER_HOLD};
use crate::link::relay::{
    self, RelayConfig, RelayReport, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSIONS_PER_IP,
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
Anyone can send to the relay, so what it keeps is bounded: sessions (--max-sessions,\n\
--max-sessions-per-ip, --session-idle) and the bytes its links hold (--max-session-memory,\n\
--max-memory, --queue). Beyond a bound a datagram is dropped and counted, and the relay goes on.\n\n\
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
    /// Most clients relayed at once (each holds a socket: keep it under `ulimit -n`).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_SESSIONS)]
    pub max_sessions: usize,
    /// Most clients relayed at once from one source address (IPv6: one /64).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_SESSIONS_PER_IP)]
    pub max_sessions_per_ip: usize,
    /// A client silent this long is forgotten, its slot freed.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    pub session_idle: Duration,
    /// Most bytes one client's session may hold in the link (both ways); beyond, dropped.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "8MiB")]
    pub max_session_memory: usize,
    /// Most bytes all sessions may hold in the link together; beyond, dropped.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64MiB")]
    pub max_memory: usize,
    /// Stop after this long (default: run until Ctrl-C).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Print the final counters as JSON.
    #[arg(long)]
    pub json: bool,
}

impl LinkArgs {
    /// The relay's limits these flags describe (`to` is filled in once resolved).
    fn relay_config(&self, to: std::net::SocketAddr, impairment: Impairment) -> RelayConfig {
        RelayConfig {
            max_sessions: self.max_sessions,
            max_sessions_per_ip: self.max_sessions_per_ip,
            session_idle: self.session_idle,
            max_memory: self.max_memory,
            max_session_memory: self.max_session_memory,
            ..RelayConfig::new(to, impairment)
        }
    }
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
    // Checked before anything is resolved or bound; the address does not matter here.
    args.relay_config(([127, 0, 0, 1], 0).into(), impairment.clone())
        .validate()?;
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
        let config = args.relay_config(to, impairment);
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
        for (count, why) in [
            (report.refused, "--max-sessions were open"),
            (
                report.refused_per_ip,
                "their address had --max-sessions-per-ip open",
            ),
            (
                report.refused_no_socket,
                "no socket could be opened: ulimit -n",
            ),
        ] {
            if count > 0 {
                anstream::println!("  {count} datagrams from new clients refused: {why}");
            }
        }
        if report.server_overflowed > 0 {
            anstream::println!(
                "  {} datagrams from the server dropped: the relay was behind or at --max-memory",
                report.server_overflowed
            );
        }
        anstream::println!(
            "  memory held by the links: peak {} bytes (--max-memory {}, --max-session-memory {})",
            report.peak_held_bytes,
            report.limits.max_memory,
            report.limits.max_session_memory
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn status_line(r: &RelayReport) -> String {
    format!(
        "{} sessions ({} refused) | → {} in {} out {} lost | ← {} in {} out {} lost",
        r.sessions,
        r.refused + r.refused_per_ip + r.refused_no_socket,
        r.forward.received,
        r.forward.delivered,
        r.forward.lost + r.forward.overflowed,
        r.backward.received,
        r.backward.delivered,
        r.backward.lost + r.backward.overflowed
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::relay::{
        DEFAULT_MAX_MEMORY, DEFAULT_MAX_SESSION_MEMORY, DEFAULT_SESSION_IDLE,
    };
    use clap::Parser;

    fn parse(flags: &[&str]) -> LinkArgs {
        let mut argv = vec![
            "netlab",
            "link",
            "--listen",
            "127.0.0.1:0",
            "--to",
            "127.0.0.1:9",
        ];
        argv.extend_from_slice(flags);
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Link(args) => args,
            other => panic!("not link: {other:?}"),
        }
    }

    #[test]
    fn the_limit_flags_default_to_the_named_constants() {
        let config = parse(&[]).relay_config(([127, 0, 0, 1], 9).into(), Impairment::default());
        assert_eq!(config.max_sessions, DEFAULT_MAX_SESSIONS);
        assert_eq!(config.max_sessions_per_ip, DEFAULT_MAX_SESSIONS_PER_IP);
        assert_eq!(config.session_idle, DEFAULT_SESSION_IDLE);
        assert_eq!(config.max_memory, DEFAULT_MAX_MEMORY);
        assert_eq!(config.max_session_memory, DEFAULT_MAX_SESSION_MEMORY);
        assert_eq!(parse(&[]).queue, DEFAULT_QUEUE_LIMIT);
    }

    #[test]
    fn each_limit_flag_reaches_its_own_field() {
        let config = parse(&[
            "--max-sessions",
            "1",
            "--max-sessions-per-ip",
            "2",
            "--session-idle",
            "3s",
            "--max-memory",
            "4KiB",
            "--max-session-memory",
            "5KiB",
        ])
        .relay_config(([127, 0, 0, 1], 9).into(), Impairment::default());
        assert_eq!(
            (
                config.max_sessions,
                config.max_sessions_per_ip,
                config.session_idle,
                config.max_memory,
                config.max_session_memory
            ),
            (1, 2, Duration::from_secs(3), 4096, 5120)
        );
    }
}
