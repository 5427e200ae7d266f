//! Heartbeats: noticing a dead peer in seconds instead of never (lesson 07).
//!
//! TCP only notices a dead peer when it tries to send and retransmissions run
//! out (many minutes), or never when nothing is sent: a laptop whose lid was
//! closed keeps its socket "open" on the server forever. A heartbeat makes
//! silence a signal: after [`HeartbeatConfig::interval`] without a frame from
//! the peer we ping it; if no frame at all arrives within
//! [`HeartbeatConfig::timeout`] after that, the peer is declared dead.
//!
//! [`Heartbeat`] is the clock logic alone (no I/O, no timers): the server's
//! TCP and WebSocket transports and the `netlab chat` client drive it from a
//! `select!` with a sleep until [`Heartbeat::deadline`].

use crate::chat::protocol::{Refusal, ServerEvent};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// The `ping` event as it goes on the wire (either direction).
pub const PING: &[u8] = br#"{"event":"ping"}"#;

/// The `pong` event, the answer to a ping.
pub const PONG: &[u8] = br#"{"event":"pong"}"#;

/// How long a peer may stay silent before `netlab serve` pings it, by
/// default (`--heartbeat`): 25 s, Socket.IO's own ping interval, and below
/// the 30 s after which many NAT boxes forget an idle mapping. A dead peer
/// (a closed laptop lid) is dropped within 45 s instead of holding its slot
/// for ever; a live one pays 20 B each way per silent 25 s.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(25);

/// How long a pinged peer has to show life by default (`--heartbeat-timeout`).
pub const DEFAULT_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(20);

/// When to ping a silent peer and when to give up on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatConfig {
    /// Silence from the peer after which it is pinged.
    pub interval: Duration,
    /// After a ping, no frame at all within this: the peer is dead.
    pub timeout: Duration,
}

/// What a heartbeat asks its owner to do when its deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// The peer has been silent for the interval: send it a ping.
    Ping,
    /// The peer did not answer the ping in time: disconnect it.
    Dead,
}

/// One connection's heartbeat state: when we last heard the peer and whether
/// a ping is outstanding.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    config: HeartbeatConfig,
    last_heard: Instant,
    pinged_at: Option<Instant>,
}

impl Heartbeat {
    /// A heartbeat for a connection that was just opened at `now`.
    pub fn new(config: HeartbeatConfig, now: Instant) -> Self {
        Self {
            config,
            last_heard: now,
            pinged_at: None,
        }
    }

    /// Any frame arrived from the peer at `now`: it is alive (a pong, but a
    /// message counts just as well, so a busy peer is never pinged).
    pub fn heard(&mut self, now: Instant) {
        self.last_heard = now;
        self.pinged_at = None;
    }

    /// When [`Heartbeat::due`] next has something to say.
    pub fn deadline(&self) -> Instant {
        match self.pinged_at {
            Some(at) => at + self.config.timeout,
            None => self.last_heard + self.config.interval,
        }
    }

    /// What to do at `now`: nothing before the deadline; then a ping, or,
    /// when a ping is already outstanding, the verdict that the peer is dead.
    pub fn due(&mut self, now: Instant) -> Option<Beat> {
        if now < self.deadline() {
            return None;
        }
        if self.pinged_at.is_some() {
            return Some(Beat::Dead);
        }
        self.pinged_at = Some(now);
        Some(Beat::Ping)
    }

    /// The configuration.
    pub fn config(&self) -> HeartbeatConfig {
        self.config
    }

    /// The `bye` a peer declared dead gets, in case it is only slow and
    /// still reads: `{"event":"bye","code":"heartbeat_timeout",...}`.
    pub fn bye(&self) -> Bytes {
        let why = Refusal::HeartbeatTimeout {
            timeout_ms: u64::try_from(self.config.timeout.as_millis()).unwrap_or(u64::MAX),
        };
        ServerEvent::Bye {
            code: why.code(),
            message: why.to_string(),
        }
        .to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn beat() -> (Heartbeat, Instant) {
        let t0 = Instant::now();
        let hb = Heartbeat::new(
            HeartbeatConfig {
                interval: 10 * S,
                timeout: 5 * S,
            },
            t0,
        );
        (hb, t0)
    }

    #[test]
    fn a_silent_peer_is_pinged_after_the_interval_and_dead_after_interval_plus_timeout() {
        let (mut hb, t0) = beat();
        assert_eq!(hb.due(t0 + 9 * S), None);
        assert_eq!(hb.deadline(), t0 + 10 * S);
        assert_eq!(hb.due(t0 + 10 * S), Some(Beat::Ping));
        assert_eq!(hb.deadline(), t0 + 15 * S);
        assert_eq!(hb.due(t0 + 14 * S), None);
        assert_eq!(hb.due(t0 + 15 * S), Some(Beat::Dead));
    }

    #[test]
    fn any_frame_after_a_ping_counts_as_life() {
        let (mut hb, t0) = beat();
        assert_eq!(hb.due(t0 + 10 * S), Some(Beat::Ping));
        hb.heard(t0 + 12 * S);
        assert_eq!(hb.deadline(), t0 + 22 * S);
        assert_eq!(hb.due(t0 + 16 * S), None);
        assert_eq!(hb.due(t0 + 22 * S), Some(Beat::Ping));
    }

    #[test]
    fn a_peer_that_keeps_talking_is_never_pinged() {
        let (mut hb, t0) = beat();
        for sec in 1..100 {
            hb.heard(t0 + sec * 9 * S / 10);
            assert_eq!(hb.due(t0 + sec * 9 * S / 10 + 9 * S), None);
        }
    }
}
