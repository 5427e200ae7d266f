//! The flags every stream server shares (`tcp echo`, `ws echo`, `serve`):
//! what one stranger may hold of the whole server ([`crate::guard`]); how
//! such a server is stopped (Ctrl-C or SIGTERM); and the report it prints
//! then, for people or, with `--json`, as one JSON object on stdout.

use super::parse_size;
use crate::chat::history::HistoryUsage;
use crate::guard::{nonzero, MemoryBudget, DEFAULT_MAX_PER_IP};
use crate::transport::ChatServer;
use crate::units::parse_duration;
use clap::Args;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Context;
use std::time::Duration;

/// Limits across all the connections of one server.
#[derive(Debug, Args, Clone)]
pub struct ServerGuards {
    /// A frame (a WebSocket message) must arrive whole within this of its first byte, or the connection is closed (0 = off).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub frame_timeout: Duration,
    /// Bytes all connections together may hold in partial frames, unfinished messages and unsent data; a connection that would go past it is refused (0 = off).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "256MiB")]
    pub max_memory: usize,
    /// Most connections from one source address (IPv6: one /64); one more is refused at once (0 = off).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_PER_IP)]
    pub max_per_ip: usize,
}

impl ServerGuards {
    /// The frame timeout as configuration (`None`: off).
    pub fn frame_timeout(&self) -> Option<Duration> {
        nonzero(self.frame_timeout)
    }
}

/// The idle limit of the echo servers.
#[derive(Debug, Args, Clone)]
pub struct IdleTimeout {
    /// A connection on which nothing is read or written for this long is closed (0 = off).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5min")]
    pub idle_timeout: Duration,
}

impl IdleTimeout {
    /// As configuration (`None`: off).
    pub fn get(&self) -> Option<Duration> {
        nonzero(self.idle_timeout)
    }
}

/// Ctrl-C (SIGINT) — or SIGTERM, what `kill` and service managers send —
/// listened for from now on: the handlers are installed at once (the future
/// is polled one time), so a server calls this before it prints `listening
/// on …`, and either signal from then on stops it cleanly, with its report,
/// instead of killing it.
pub fn ctrl_c_armed() -> Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>> {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let mut stop: Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>> =
        Box::pin(async move {
            #[cfg(unix)]
            if let Some(mut terminate) = terminate {
                return tokio::select! {
                    r = tokio::signal::ctrl_c() => r,
                    _ = terminate.recv() => Ok(()),
                };
            }
            tokio::signal::ctrl_c().await
        });
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    // Pending (no signal yet) installs the handlers; the result is polled again later.
    let _ = stop.as_mut().poll(&mut cx);
    stop
}

/// The memory budget as a server reports it when it stops (`memory_budget`
/// in `--json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BudgetReport {
    /// `--max-memory` in bytes (0: no limit).
    pub limit: usize,
    /// The most bytes held at once.
    pub peak: usize,
    /// Requests the budget refused: a connection's frame (it was closed), a
    /// chat queue's event (the oldest dropped), the chat history's event
    /// (the oldest evicted).
    pub refusals: u64,
}

impl BudgetReport {
    /// The figures of `budget` now.
    pub fn of(budget: &MemoryBudget) -> Self {
        Self {
            limit: budget.max(),
            peak: budget.peak(),
            refusals: budget.refusals(),
        }
    }
}

/// Connections refused, by why (`connections.refused` in `--json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Refused {
    /// Their address held `--max-per-ip` connections.
    pub per_ip: u64,
    /// Their next frame (message) did not fit `--max-memory`.
    pub memory: u64,
    /// `--max-connections` were open (`serve` only: the echo servers let a
    /// new client wait in the kernel's accept queue instead).
    pub full: u64,
    /// `ws echo` only: the opening handshake was refused (a 4xx answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake: Option<u64>,
}

/// Connections a server served and refused (`connections` in `--json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Connections {
    /// Connections accepted and served.
    pub accepted: u64,
    /// Connections refused, by why.
    pub refused: Refused,
    /// Connections still open when the server stopped.
    pub open_at_stop: u64,
}

/// What an echo server sent back (`echoed` in `--json`). Each connection's
/// counts are added when it ends, so connections still open at the stop
/// (`open_at_stop`) are not in them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Echoed {
    /// `tcp echo`: frames echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
    /// `ws echo`: text and binary messages echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<u64>,
    /// Payload bytes echoed.
    pub bytes: u64,
}

/// The report of `netlab tcp echo --json` and `netlab ws echo --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EchoReport {
    /// Connections served and refused.
    pub connections: Connections,
    /// What was echoed.
    pub echoed: Echoed,
    /// The memory budget.
    pub memory_budget: BudgetReport,
}

/// What an echo server echoes, which names its report's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoUnit {
    /// `tcp echo`: length-prefixed frames.
    Frames,
    /// `ws echo`: WebSocket messages (after a handshake, which may be refused).
    Messages,
}

/// An echo server's running counts, updated from its connection events
/// (even with `--quiet`) and read once when it stops.
#[derive(Debug, Default)]
pub struct EchoTally {
    accepted: AtomicU64,
    ended: AtomicU64,
    refused_per_ip: AtomicU64,
    refused_memory: AtomicU64,
    refused_handshake: AtomicU64,
    units: AtomicU64,
    bytes: AtomicU64,
}

impl EchoTally {
    /// A connection was accepted (a WebSocket: upgraded).
    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection was refused because of its address's `--max-per-ip`.
    pub fn refused_per_ip(&self) {
        self.refused_per_ip.fetch_add(1, Ordering::Relaxed);
    }

    /// A WebSocket handshake was refused.
    pub fn refused_handshake(&self) {
        self.refused_handshake.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection ended after echoing `units` frames (messages) of `bytes`
    /// in all; `over_budget`: it was closed because its next one did not fit.
    pub fn ended(&self, units: u64, bytes: u64, over_budget: bool) {
        self.ended.fetch_add(1, Ordering::Relaxed);
        self.units.fetch_add(units, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        if over_budget {
            self.refused_memory.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The report now, in the nouns of the server's protocol.
    pub fn report(&self, budget: &MemoryBudget, unit: EchoUnit) -> EchoReport {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let (frames, handshakes) = match unit {
            EchoUnit::Frames => (true, false),
            EchoUnit::Messages => (false, true),
        };
        let accepted = get(&self.accepted);
        let units = get(&self.units);
        EchoReport {
            connections: Connections {
                accepted,
                refused: Refused {
                    per_ip: get(&self.refused_per_ip),
                    memory: get(&self.refused_memory),
                    full: 0,
                    handshake: handshakes.then(|| get(&self.refused_handshake)),
                },
                open_at_stop: accepted.saturating_sub(get(&self.ended)),
            },
            echoed: Echoed {
                frames: frames.then_some(units),
                messages: (!frames).then_some(units),
                bytes: get(&self.bytes),
            },
            memory_budget: BudgetReport::of(budget),
        }
    }
}

/// What the chat hub delivered (`delivered` in `netlab serve --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Delivered {
    /// Events handed to connections' outbound queues (one per recipient).
    pub events: u64,
    /// Events dropped from full queues (the client was told `dropped`).
    pub dropped: u64,
    /// The longest any outbound queue has been, in events.
    pub peak_queue: usize,
}

/// The report of `netlab serve --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServeReport {
    /// Connections served and refused, every transport together.
    pub connections: Connections,
    /// What the hub delivered.
    pub delivered: Delivered,
    /// The memory budget (connections, queues and history together).
    pub memory_budget: BudgetReport,
    /// The history's share of the budget (`null`: history off).
    pub history: Option<HistoryUsage>,
    /// What crossed Redis (`null`: no `--redis`).
    pub redis: Option<crate::cluster::adapter::ClusterCounts>,
}

impl ServeReport {
    /// The report of `server` now.
    pub fn of(server: &ChatServer) -> Self {
        let a = server.admissions();
        ServeReport {
            connections: Connections {
                accepted: a.accepted,
                refused: Refused {
                    per_ip: a.refused_per_ip,
                    memory: a.refused_memory,
                    full: a.refused_full,
                    handshake: None,
                },
                open_at_stop: server.conn_count() as u64,
            },
            delivered: Delivered {
                events: server.delivered(),
                dropped: server.dropped(),
                peak_queue: server.peak_queue(),
            },
            memory_budget: BudgetReport::of(server.budget()),
            history: server.history_usage(),
            redis: None,
        }
    }
}

/// Prints what a server says when it stops: with `json`, `report` as one
/// JSON object on stdout; else the budget's line on stderr, as people read it.
pub fn print_stop_report(
    json: bool,
    report: &impl Serialize,
    budget: &MemoryBudget,
) -> Result<(), serde_json::Error> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        anstream::eprintln!("{}", crate::term::dim(budget_summary(budget)));
    }
    Ok(())
}

/// What `netlab serve` says when it stops ([`print_stop_report`] with its
/// [`ServeReport`]).
pub fn print_serve_report(
    json: bool,
    server: &ChatServer,
    redis: Option<crate::cluster::adapter::ClusterCounts>,
) -> Result<(), serde_json::Error> {
    let report = ServeReport {
        redis,
        ..ServeReport::of(server)
    };
    print_stop_report(json, &report, server.budget())
}

/// A size for people: `812 B`, `4.0 KiB`, `12.5 MiB`.
pub fn human_size(bytes: usize) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// The line a server prints about its budget when it stops.
pub fn budget_summary(budget: &MemoryBudget) -> String {
    let limit = match budget.max() {
        0 => "no limit".to_string(),
        max => format!("limit {}", human_size(max)),
    };
    format!(
        "memory budget: peak {} held at once ({limit}); {} requests refused",
        human_size(budget.peak()),
        budget.refusals()
    )
}

/// The line a server prints at start about its guards.
pub fn guards_line(g: &ServerGuards, idle: Option<&IdleTimeout>) -> String {
    let off = |d: Option<Duration>| d.map_or("off".to_string(), |d| format!("{d:?}"));
    let mut s = format!("frame timeout {}", off(g.frame_timeout()));
    if let Some(idle) = idle {
        s.push_str(&format!(", idle timeout {}", off(idle.get())));
    }
    s.push_str(&match g.max_memory {
        0 => ", no memory budget".to_string(),
        m => format!(", memory budget {}", human_size(m)),
    });
    s.push_str(&match g.max_per_ip {
        0 => ", no cap per address".to_string(),
        n => format!(", at most {n} connections per address"),
    });
    s
}

/// A Ctrl-C (or SIGTERM) still to come, as [`ctrl_c_armed`] returns it.
pub type Stop = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

/// Binds an echo server's listener on `listen`, arms Ctrl-C, and prints the
/// machine-readable first line `listening on ADDR` (scripts started with
/// port 0 read it).
pub async fn listen_announced(
    listen: &str,
) -> Result<(tokio::net::TcpListener, std::net::SocketAddr, Stop), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let stop = ctrl_c_armed();
    println!("listening on {addr}");
    Ok((listener, addr, stop))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::{DEFAULT_FRAME_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_MEMORY};
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Both {
        #[command(flatten)]
        guards: ServerGuards,
        #[command(flatten)]
        idle: IdleTimeout,
    }

    #[test]
    fn the_defaults_are_the_named_constants() {
        let b = Both::try_parse_from(["x"]).unwrap();
        assert_eq!(b.guards.frame_timeout(), Some(DEFAULT_FRAME_TIMEOUT));
        assert_eq!(b.guards.max_memory, DEFAULT_MAX_MEMORY);
        assert_eq!(b.guards.max_per_ip, DEFAULT_MAX_PER_IP);
        assert_eq!(b.idle.get(), Some(DEFAULT_IDLE_TIMEOUT));
    }

    #[test]
    fn zero_turns_each_off() {
        let b = Both::try_parse_from([
            "x",
            "--frame-timeout",
            "0",
            "--idle-timeout",
            "0",
            "--max-memory",
            "0",
            "--max-per-ip",
            "0",
        ])
        .unwrap();
        assert_eq!(b.guards.frame_timeout(), None);
        assert_eq!(b.idle.get(), None);
        assert_eq!((b.guards.max_memory, b.guards.max_per_ip), (0, 0));
        assert_eq!(
            guards_line(&b.guards, Some(&b.idle)),
            "frame timeout off, idle timeout off, no memory budget, no cap per address"
        );
    }

    #[test]
    fn each_echo_report_names_its_protocols_units_and_counts_what_it_was_told() {
        let budget = MemoryBudget::new(1 << 20);
        let tally = EchoTally::default();
        for _ in 0..3 {
            tally.accepted();
        }
        tally.refused_per_ip();
        tally.refused_handshake();
        tally.ended(4, 40, false);
        tally.ended(0, 0, true);
        let tcp = serde_json::to_value(tally.report(&budget, EchoUnit::Frames)).unwrap();
        assert_eq!(
            tcp,
            serde_json::json!({
                "connections": {
                    "accepted": 3,
                    "refused": {"per_ip": 1, "memory": 1, "full": 0},
                    "open_at_stop": 1
                },
                "echoed": {"frames": 4, "bytes": 40},
                "memory_budget": {"limit": 1 << 20, "peak": 0, "refusals": 0}
            })
        );
        let ws = serde_json::to_value(tally.report(&budget, EchoUnit::Messages)).unwrap();
        assert_eq!(
            ws["echoed"],
            serde_json::json!({"messages": 4, "bytes": 40})
        );
        assert_eq!(ws["connections"]["refused"]["handshake"], 1);
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(4096), "4.0 KiB");
        assert_eq!(human_size(256 << 20), "256.0 MiB");
    }
}
