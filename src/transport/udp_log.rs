//! What `netlab serve` logs about UDP sessions: a line per session once it
//! has proved its address, and one line per *episode* for the sessions that
//! never do.
//!
//! Anyone can send a `hello` from any source address, and each one opens a
//! session (lesson 05; the rules are in [`super::udp`]). A spoofer never
//! receives the welcome, so its sessions never verify: they are replaced by
//! newer hellos or reclaimed after `--udp-verify-timeout`. Logged like other
//! connections, each would be a `connected` and a `disconnected` line — a
//! flood of 6,000 spoofed hellos, 12,000 lines burying everything else. So:
//!
//! - a UDP session's `connected` line waits until its heartbeat proves the
//!   address ([`UdpLog`] holds it back, [`UdpNote::Verified`] lets it out);
//!   from then on the session is logged like any connection;
//! - sessions that end without proving their address are not logged one by
//!   one but counted, by why they ended ([`Unverified`]), in an episode
//!   ([`UnverifiedEpisodes`], the clock logic alone): one line with the
//!   count when it is over, and a reminder every
//!   [`UNVERIFIED_REPORT_EVERY`] while it lasts — the way
//!   [`crate::guard::accept`] reports `accept` failures.

use super::server::ServerNote;
use crate::chat::id::ConnId;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How the UDP transport names a session's peer in the hub (`udp 1.2.3.4:5`):
/// [`UdpLog`] knows a UDP session's `connected` note by it.
pub const PEER_PREFIX: &str = "udp ";

/// While unverified sessions keep ending, a reminder with the count this often.
pub const UNVERIFIED_REPORT_EVERY: Duration = Duration::from_secs(10);

/// An episode is over once this long has passed with no unverified session
/// ending and none waiting to verify.
pub const EPISODE_QUIET: Duration = Duration::from_secs(1);

/// The peer name of a UDP session from `from`, as the hub and the log show it.
pub fn peer_name(from: SocketAddr) -> String {
    format!("{PEER_PREFIX}{from}")
}

/// What the UDP transport tells the log, besides the hub's own notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdpNote {
    /// A session's heartbeat echoed its id: its address is real.
    Verified {
        /// The session.
        id: ConnId,
    },
    /// Sessions are ending without having proved their address.
    Unverified(UnverifiedReport),
}

/// Why a session ended before it proved its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unverified {
    /// A newer hello needed its slot (the unverified pool, or its address's share, was full).
    Replaced,
    /// No heartbeat echoed its id within `--udp-verify-timeout`.
    TimedOut,
    /// Anything else: a `bye`, the server full when it verified, closed by the hub, silent past the expiry.
    Other,
}

/// Unverified sessions that ended in one episode, by why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnverifiedCounts {
    /// Replaced by newer hellos.
    pub replaced: u64,
    /// Reclaimed after `--udp-verify-timeout`.
    pub timed_out: u64,
    /// Ended otherwise.
    pub other: u64,
}

impl UnverifiedCounts {
    /// Every unverified session that ended.
    pub fn total(&self) -> u64 {
        self.replaced + self.timed_out + self.other
    }

    fn add(&mut self, why: Unverified) {
        match why {
            Unverified::Replaced => self.replaced += 1,
            Unverified::TimedOut => self.timed_out += 1,
            Unverified::Other => self.other += 1,
        }
    }
}

impl fmt::Display for UnverifiedCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.total();
        write!(
            f,
            "{n} UDP {} ended without proving their address ({} replaced by newer hellos, {} reclaimed after --udp-verify-timeout, {} otherwise)",
            if n == 1 { "session" } else { "sessions" },
            self.replaced,
            self.timed_out,
            self.other
        )
    }
}

/// A line worth logging about unverified sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnverifiedReport {
    /// The episode goes on (at most once per [`UNVERIFIED_REPORT_EVERY`]).
    StillEnding {
        /// So far in this episode.
        counts: UnverifiedCounts,
        /// Since the first one ended.
        over: Duration,
    },
    /// The episode is over.
    Over {
        /// In the whole episode.
        counts: UnverifiedCounts,
        /// From the first ending to the last.
        over: Duration,
    },
}

impl fmt::Display for UnverifiedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnverifiedReport::StillEnding { counts, over } => write!(
                f,
                "{counts} in {:.1}s so far, and more are ending: spoofed hellos? (not logged one by one)",
                over.as_secs_f64()
            ),
            UnverifiedReport::Over { counts, over } => write!(
                f,
                "{counts} in {:.1}s: hellos whose senders never answered the welcome, spoofed or lost (not logged one by one)",
                over.as_secs_f64()
            ),
        }
    }
}

/// The episodes of unverified sessions ending (the clock logic alone, no I/O).
#[derive(Debug, Default)]
pub struct UnverifiedEpisodes {
    episode: Option<Episode>,
}

#[derive(Debug)]
struct Episode {
    started: Instant,
    last_end: Instant,
    last_report: Instant,
    counts: UnverifiedCounts,
}

impl UnverifiedEpisodes {
    /// No episode yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// An unverified session ended at `now`, for `why`: what to log, if anything
    /// (a reminder, when the episode has gone on for [`UNVERIFIED_REPORT_EVERY`] since the last line).
    pub fn ended(&mut self, why: Unverified, now: Instant) -> Option<UnverifiedReport> {
        let ep = self.episode.get_or_insert(Episode {
            started: now,
            last_end: now,
            last_report: now,
            counts: UnverifiedCounts::default(),
        });
        ep.counts.add(why);
        ep.last_end = now;
        if now.saturating_duration_since(ep.last_report) < UNVERIFIED_REPORT_EVERY {
            return None;
        }
        ep.last_report = now;
        Some(UnverifiedReport::StillEnding {
            counts: ep.counts,
            over: now.saturating_duration_since(ep.started),
        })
    }

    /// The clock at `now`, with `waiting` sessions still to verify: the end
    /// of the episode (and its line) once none waits and none has ended for
    /// [`EPISODE_QUIET`].
    pub fn tick(&mut self, waiting: usize, now: Instant) -> Option<UnverifiedReport> {
        let ep = self.episode.as_ref()?;
        if waiting > 0 || now.saturating_duration_since(ep.last_end) < EPISODE_QUIET {
            return None;
        }
        let ep = self.episode.take()?;
        Some(UnverifiedReport::Over {
            counts: ep.counts,
            over: ep.last_end.saturating_duration_since(ep.started),
        })
    }
}

/// Which of the hub's notes about UDP sessions to print: a UDP session's
/// notes wait until it has proved its address, and those of a session that
/// never does are not printed at all (its end is counted in an episode
/// instead). Every other note passes.
#[derive(Debug, Default)]
pub struct UdpLog {
    /// UDP sessions not verified yet, with the peer their `connected` note named.
    waiting: HashMap<ConnId, String>,
    /// Sessions that ended unverified but that the hub still keeps
    /// (detached, resumable): their last notes are not printed either.
    hidden: HashSet<ConnId>,
}

impl UdpLog {
    /// Nothing held yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to print `note` now.
    pub fn show(&mut self, note: &ServerNote) -> bool {
        match note {
            ServerNote::Connected { id, peer } if peer.starts_with(PEER_PREFIX) => {
                self.waiting.insert(*id, peer.clone());
                false
            }
            ServerNote::Disconnecting { id, .. } | ServerNote::Closed { id } => !self.holds(id),
            ServerNote::Detached { id, .. } => {
                if self.waiting.remove(id).is_some() {
                    self.hidden.insert(*id);
                }
                !self.hidden.contains(id)
            }
            ServerNote::Disconnected { id, .. } => {
                let held = self.waiting.remove(id).is_some();
                let hidden = self.hidden.remove(id);
                !(held || hidden)
            }
            ServerNote::Resumed { id, from } => {
                // Someone holding its token took the session over: it is real now.
                self.hidden.remove(id);
                self.waiting.remove(from);
                true
            }
            _ => true,
        }
    }

    /// Session `id` proved its address: its `connected` note, to print now
    /// (`None` if it was not held back).
    pub fn verified(&mut self, id: ConnId) -> Option<ServerNote> {
        let peer = self.waiting.remove(&id)?;
        Some(ServerNote::Connected { id, peer })
    }

    fn holds(&self, id: &ConnId) -> bool {
        self.waiting.contains_key(id) || self.hidden.contains(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_episode_is_one_line_at_its_end_with_reminders_while_it_lasts() {
        let t0 = Instant::now();
        let mut e = UnverifiedEpisodes::new();
        assert_eq!(e.tick(0, t0), None, "no episode, nothing to say");
        let ms = Duration::from_millis;
        // 1,000 spoofed sessions replaced over 5 s, 200 reclaimed after: silence.
        for i in 0..1000u32 {
            assert_eq!(e.ended(Unverified::Replaced, t0 + ms(5) * i), None);
            assert_eq!(e.tick(3, t0 + ms(5) * i), None, "sessions still waiting");
        }
        for i in 0..200u32 {
            assert_eq!(
                e.ended(Unverified::TimedOut, t0 + ms(5000 + 10 * u64::from(i))),
                None
            );
        }
        let last = t0 + ms(5000 + 10 * 199);
        assert_eq!(e.tick(0, last + ms(999)), None, "not quiet for long enough");
        let over = e
            .tick(0, last + EPISODE_QUIET)
            .expect("the episode's one line");
        let counts = UnverifiedCounts {
            replaced: 1000,
            timed_out: 200,
            other: 0,
        };
        assert_eq!(
            over,
            UnverifiedReport::Over {
                counts,
                over: last - t0
            }
        );
        assert!(
            over.to_string().starts_with(
                "1200 UDP sessions ended without proving their address (1000 replaced by newer hellos, 200 reclaimed"
            ),
            "{over}"
        );
        assert_eq!(e.tick(0, last + ms(5000)), None, "said once");
        // A long episode gets a reminder every ten seconds.
        let t1 = last + ms(10_000);
        assert_eq!(e.ended(Unverified::Other, t1), None);
        let mut reminders = 0;
        for i in 1..=250u32 {
            if let Some(r) = e.ended(Unverified::Replaced, t1 + ms(100) * i) {
                assert!(matches!(r, UnverifiedReport::StillEnding { .. }), "{r:?}");
                reminders += 1;
            }
        }
        assert_eq!(reminders, 2, "at 10 s and 20 s of a 25 s episode");
    }

    fn id(n: u128) -> ConnId {
        ConnId(n)
    }

    #[test]
    fn a_udp_session_is_logged_once_it_is_verified_and_never_if_it_is_not() {
        let mut log = UdpLog::new();
        let connected = |n, peer: &str| ServerNote::Connected {
            id: id(n),
            peer: peer.into(),
        };
        let gone = |n| ServerNote::Disconnected {
            id: id(n),
            reason: "replaced".into(),
        };
        // TCP connections pass as they come.
        assert!(log.show(&connected(1, "tcp 127.0.0.1:5000")));
        assert!(log.show(&gone(1)));
        // A UDP session waits for its heartbeat...
        assert!(!log.show(&connected(2, "udp 127.0.0.1:6000")));
        assert_eq!(
            log.verified(id(2)),
            Some(connected(2, "udp 127.0.0.1:6000"))
        );
        assert_eq!(log.verified(id(2)), None, "let out once");
        assert!(
            log.show(&gone(2)),
            "a verified session's end is logged as any"
        );
        // ...and one that never verifies is never logged.
        assert!(!log.show(&connected(3, "udp 127.10.1.1:7000")));
        assert!(!log.show(&ServerNote::Disconnecting {
            id: id(3),
            rooms: vec![]
        }));
        assert!(!log.show(&gone(3)));
        // Not even when it was detached first (it joined a room before going).
        assert!(!log.show(&connected(4, "udp 127.10.1.2:7000")));
        assert!(!log.show(&ServerNote::Detached {
            id: id(4),
            reason: "never proved its address".into()
        }));
        assert!(!log.show(&gone(4)));
        assert!(
            log.waiting.is_empty() && log.hidden.is_empty(),
            "nothing kept"
        );
    }
}
