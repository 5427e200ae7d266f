//! `accept` failures, reported once per episode.
//!
//! When a process runs out of file descriptors (`EMFILE`: a flood of
//! connections, or `ulimit -n` too low), `accept` fails until some
//! connection closes. The kernel keeps the waiting connections in its queue,
//! so the server pauses [`ACCEPT_BACKOFF`] and tries again — and a log line
//! per try would be 20 lines a second, burying everything else. So the
//! failures of one *episode* (from the first failure to the next successful
//! `accept`) are reported three ways only: once when it starts, as a
//! reminder with a count every [`ACCEPT_REPORT_EVERY`] while it lasts, and
//! once with the total when `accept` works again.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

/// How long to pause after `accept` fails before trying again.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// While `accept` keeps failing, a reminder with the count this often.
pub const ACCEPT_REPORT_EVERY: Duration = Duration::from_secs(10);

/// A line worth logging about `accept`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceptReport {
    /// The first failure of an episode.
    Failing {
        /// What the OS said.
        error: String,
    },
    /// The episode goes on (at most once per [`ACCEPT_REPORT_EVERY`]).
    StillFailing {
        /// What the OS said last.
        error: String,
        /// Failures so far in this episode.
        failures: u64,
        /// Since the first one.
        over: Duration,
    },
    /// `accept` works again.
    Recovered {
        /// Failures in the episode.
        failures: u64,
        /// How long it lasted.
        over: Duration,
        /// What the OS said last.
        error: String,
    },
}

impl fmt::Display for AcceptReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcceptReport::Failing { error } => write!(
                f,
                "accept failing: {error} (out of file descriptors? raise ulimit -n); retrying every {} ms, reported once",
                ACCEPT_BACKOFF.as_millis()
            ),
            AcceptReport::StillFailing { error, failures, over } => write!(
                f,
                "accept still failing: {error}, {failures} times in {:.1}s",
                over.as_secs_f64()
            ),
            AcceptReport::Recovered { failures, over, error } => write!(
                f,
                "accept working again: it failed {failures} times in {:.1}s ({error})",
                over.as_secs_f64()
            ),
        }
    }
}

/// One accept loop's failure episode (the clock logic alone, no I/O).
#[derive(Debug, Default)]
pub struct AcceptFailures {
    episode: Option<Episode>,
}

#[derive(Debug)]
struct Episode {
    started: Instant,
    last_report: Instant,
    failures: u64,
    error: String,
}

impl AcceptFailures {
    /// No episode yet.
    pub fn new() -> AcceptFailures {
        AcceptFailures::default()
    }

    /// `accept` failed with `error` at `now`: what to log, if anything.
    pub fn failed(&mut self, error: &std::io::Error, now: Instant) -> Option<AcceptReport> {
        let error = error.to_string();
        match &mut self.episode {
            None => {
                self.episode = Some(Episode {
                    started: now,
                    last_report: now,
                    failures: 1,
                    error: error.clone(),
                });
                Some(AcceptReport::Failing { error })
            }
            Some(ep) => {
                ep.failures += 1;
                ep.error = error;
                if now.saturating_duration_since(ep.last_report) < ACCEPT_REPORT_EVERY {
                    return None;
                }
                ep.last_report = now;
                Some(AcceptReport::StillFailing {
                    error: ep.error.clone(),
                    failures: ep.failures,
                    over: now.saturating_duration_since(ep.started),
                })
            }
        }
    }

    /// `accept` succeeded at `now`: the end of an episode, if one was going on.
    pub fn accepted(&mut self, now: Instant) -> Option<AcceptReport> {
        let ep = self.episode.take()?;
        Some(AcceptReport::Recovered {
            failures: ep.failures,
            over: now.saturating_duration_since(ep.started),
            error: ep.error,
        })
    }
}

/// Accepts the next connection on `listener`; while `accept` fails, pauses
/// [`ACCEPT_BACKOFF`] between tries and tells `report` once per episode.
pub async fn accept_with_backoff(
    listener: &TcpListener,
    failures: &mut AcceptFailures,
    report: impl Fn(AcceptReport),
) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => {
                if let Some(r) = failures.accepted(Instant::now()) {
                    report(r);
                }
                return accepted;
            }
            Err(e) => {
                if let Some(r) = failures.failed(&e, Instant::now()) {
                    report(r);
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emfile() -> std::io::Error {
        std::io::Error::from_raw_os_error(24)
    }

    #[test]
    fn an_episode_is_reported_at_its_start_every_ten_seconds_and_at_its_end() {
        let t0 = Instant::now();
        let mut f = AcceptFailures::new();
        assert_eq!(f.accepted(t0), None, "no episode, nothing to say");
        let first = f.failed(&emfile(), t0).expect("the first failure is said");
        assert!(first.to_string().contains("Too many open files"), "{first}");
        // 20 tries a second for just under 10 s: silence.
        let mut said = 0;
        for i in 1..199u32 {
            if f.failed(&emfile(), t0 + ACCEPT_BACKOFF * i).is_some() {
                said += 1;
            }
        }
        assert_eq!(said, 0);
        let reminder = f.failed(&emfile(), t0 + ACCEPT_REPORT_EVERY).unwrap();
        assert!(matches!(
            reminder,
            AcceptReport::StillFailing { failures: 200, .. }
        ));
        let end = f.accepted(t0 + Duration::from_secs(12)).unwrap();
        assert_eq!(
            end,
            AcceptReport::Recovered {
                failures: 200,
                over: Duration::from_secs(12),
                error: emfile().to_string()
            }
        );
        assert!(end.to_string().contains("200 times in 12.0s"), "{end}");
        // A new episode starts fresh.
        assert!(matches!(
            f.failed(&emfile(), t0 + Duration::from_secs(20)),
            Some(AcceptReport::Failing { .. })
        ));
    }
}
