//! The shape of a soak run: its rooms, its defaults, the knobs
//! ([`SoakConfig`]), the deliberate mistakes the tests inject ([`Fault`]),
//! and what stops a run before it starts ([`SoakError`]).

use serde::Serialize;
use std::time::Duration;

/// The room the sender talks to and the observers listen in.
pub const SOAK_ROOM: &str = "soak";
/// The room the flooder floods (the slow reader is in it too).
pub const FLOOD_ROOM: &str = "flood";
/// The room the UDP clients chat in.
pub const UDP_ROOM: &str = "udp";
/// Members per member room (`m-0`, `m-1`, …): big enough to fan out, small
/// enough that churn does not turn into a broadcast storm.
pub const MEMBER_ROOM_SIZE: usize = 50;
/// Members that sit in the flood room instead of a member room (they read it all).
pub const FLOOD_WATCHERS: usize = 4;
/// Messages per second from the sender, unless told otherwise. At this rate
/// `--history 200` covers 20 s of absence, ten times the longest planned one.
pub const DEFAULT_SENDER_RATE: u32 = 10;
/// UDP clients, unless told otherwise.
pub const DEFAULT_UDP_CLIENTS: usize = 8;
/// How much the server's RSS may grow after the warm-up before the run fails:
/// generous on purpose — it catches leaks (the issue's +49 MB after 30,000
/// rooms), not allocator noise.
pub const DEFAULT_MAX_RSS_GROWTH: u64 = 64 * 1024 * 1024;
/// After the load stops, how long observers may take to catch up before they
/// count what they are missing as lost (unless [`SoakConfig::drain_timeout`] says otherwise).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A deliberate mistake in the observers, to prove the accounting can fail
/// (the tests use it; `netlab bench soak` always runs with [`Fault::None`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Observers behave.
    #[default]
    None,
    /// Observers come back as new sessions (no `resume`) and join again
    /// without `since`: what was said while they were away is lost.
    NoResume,
    /// Observers resume but claim to have seen nothing (`"last":{}`): the
    /// server replays what they already had, and every replayed message is a
    /// duplicate on the wire.
    ReplayAll,
}

/// How a soak run is shaped.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// The server's TCP address.
    pub addr: String,
    /// A UDP address of the same server (usually a `netlab link` in front of its `--udp`).
    pub udp: Option<String>,
    /// TCP connections held at once: the sender, observers, slow reader,
    /// flooder, and members for the rest.
    pub conns: usize,
    /// How long the load runs.
    pub duration: Duration,
    /// RSS growth is measured from the end of this (connections ramp up in its first half).
    pub warmup: Duration,
    /// Observers (the clients whose lost and duplicated events are counted).
    pub observers: usize,
    /// UDP clients (with [`SoakConfig::udp`]).
    pub udp_clients: usize,
    /// The sender's messages per second.
    pub sender_rate: u32,
    /// Mean lifetime of a member's connection (each is uniform in 0.5–1.5 × this).
    pub member_lifetime: Duration,
    /// How long an observer stays connected between vanishings (uniform in this range).
    pub observer_stay: (Duration, Duration),
    /// How long anyone who vanished stays away (uniform in this range).
    pub away: (Duration, Duration),
    /// Spread TCP clients over this many source addresses 127.0.0.1, .2, …
    /// (Linux routes all of 127/8 to `lo`), for servers that cap connections per address.
    pub sources: u8,
    /// The server's process id: its RSS is sampled.
    pub server_pid: Option<u32>,
    /// How often RSS is sampled.
    pub rss_every: Duration,
    /// RSS growth after the warm-up that fails the run.
    pub max_rss_growth: u64,
    /// Seed of every random pause, lifetime and choice.
    pub seed: u64,
    /// After the load stops, how long observers may take to catch up.
    pub drain_timeout: Duration,
    /// A deliberate mistake, for tests.
    pub fault: Fault,
    /// Print a progress line now and then on stderr.
    pub progress: bool,
}

impl SoakConfig {
    /// A run of `conns` connections for `duration` against `addr`, everything
    /// else scaled from those: a quarter of the run is warm-up, one observer
    /// per 30 connections (4 to 50), members live 10 % of the run (5–60 s).
    pub fn new(addr: &str, conns: usize, duration: Duration) -> Self {
        let secs = duration.as_secs_f64();
        Self {
            addr: addr.to_string(),
            udp: None,
            conns,
            duration,
            warmup: duration / 4,
            observers: default_observers(conns),
            udp_clients: DEFAULT_UDP_CLIENTS,
            sender_rate: DEFAULT_SENDER_RATE,
            member_lifetime: Duration::from_secs_f64((secs / 10.0).clamp(5.0, 60.0)),
            observer_stay: (Duration::from_secs(2), Duration::from_secs(8)),
            away: (Duration::from_millis(100), Duration::from_secs(2)),
            sources: 1,
            server_pid: None,
            rss_every: Duration::from_secs_f64((secs / 100.0).clamp(1.0, 5.0)),
            max_rss_growth: DEFAULT_MAX_RSS_GROWTH,
            seed: 1,
            drain_timeout: DRAIN_TIMEOUT,
            fault: Fault::None,
            progress: false,
        }
    }
}

/// Observers for a run of `conns` connections: one per 30, at least 4, at most 50.
pub fn default_observers(conns: usize) -> usize {
    (conns / 30).clamp(4, 50)
}

/// Errors that stop a soak run before it starts.
#[derive(Debug, thiserror::Error)]
pub enum SoakError {
    /// The address does not resolve.
    #[error("cannot resolve {addr}: {why}")]
    Resolve {
        /// What was given.
        addr: String,
        /// Why not.
        why: String,
    },
    /// The run's shape cannot work.
    #[error("{0}")]
    Config(String),
    /// An observer could not connect or join (the run needs them all).
    #[error("{0}")]
    Start(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_scale_with_the_run() {
        let c = SoakConfig::new("127.0.0.1:1", 10_000, Duration::from_secs(600));
        assert_eq!(c.observers, 50);
        assert_eq!(c.warmup, Duration::from_secs(150));
        assert_eq!(c.member_lifetime, Duration::from_secs(60));
        let c = SoakConfig::new("127.0.0.1:1", 300, Duration::from_secs(30));
        assert_eq!(c.observers, 10);
        assert_eq!(c.member_lifetime, Duration::from_secs(5));
    }
}
