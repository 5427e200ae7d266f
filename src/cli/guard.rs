//! The flags every stream server shares (`tcp echo`, `ws echo`, `serve`):
//! what one stranger may hold of the whole server ([`crate::guard`]).

use super::parse_size;
use crate::guard::{nonzero, MemoryBudget, DEFAULT_MAX_PER_IP};
use crate::units::parse_duration;
use clap::Args;
use std::future::Future;
use std::pin::Pin;
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

/// Ctrl-C, listened for from now on: the handler is installed at once (the
/// future is polled one time), so a server calls this before it prints
/// `listening on …`, and a Ctrl-C from then on stops it cleanly, with its
/// summary, instead of killing it.
pub fn ctrl_c_armed() -> Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>> {
    let mut stop: Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>> =
        Box::pin(tokio::signal::ctrl_c());
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    // Pending (no Ctrl-C yet) installs the handler; the result is polled again later.
    let _ = stop.as_mut().poll(&mut cx);
    stop
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
    fn sizes_for_people() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(4096), "4.0 KiB");
        assert_eq!(human_size(256 << 20), "256.0 MiB");
    }
}
