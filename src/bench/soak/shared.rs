//! What every part of the run shares: where to connect, the clock, the
//! counters, and the phase (the load runs, then it stops); and the small
//! timing helpers every part uses to wait without missing the stop.

use crate::link::rng::SplitMix64;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Counted by every part as it goes; read once for the report.
#[derive(Default)]
pub(super) struct Counters {
    pub(super) opened: AtomicU64,
    pub(super) open_now: AtomicU64,
    pub(super) peak_open: AtomicU64,
    pub(super) reset: AtomicU64,
    pub(super) abandoned: AtomicU64,
    pub(super) closed_politely: AtomicU64,
    pub(super) closed_by_server: AtomicU64,
    pub(super) new_sessions: AtomicU64,
    pub(super) resumed: AtomicU64,
    pub(super) resume_refused: AtomicU64,
    pub(super) connect_failures: AtomicU64,
    pub(super) flood_sent: AtomicU64,
    pub(super) flood_refused: AtomicU64,
    pub(super) flood_closed: AtomicU64,
}

/// Adds one to a counter.
pub(super) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// What every task shares: where to connect, the clock, counters, and the phase.
pub(super) struct Shared {
    pub(super) addr: SocketAddr,
    pub(super) sources: u8,
    pub(super) epoch: Instant,
    pub(super) c: Counters,
    /// `true` while the load runs.
    pub(super) running: watch::Receiver<bool>,
    /// The highest sender number accepted, once the sender has finished.
    pub(super) last_accepted: watch::Receiver<Option<u64>>,
}

impl Shared {
    /// Whether the load still runs.
    pub(super) fn running(&self) -> bool {
        *self.running.borrow()
    }

    /// Nanoseconds since the run started (the sender's time stamps).
    pub(super) fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }
}

/// A random duration, uniform in `lo..hi`.
pub(super) fn uniform(rng: &mut SplitMix64, (lo, hi): (Duration, Duration)) -> Duration {
    lo + hi.saturating_sub(lo).mul_f64(rng.next_f64())
}

/// Returns when the load stops (at once if it has). Its output is `()`, not
/// the watch's guard, so tasks that wait on it in a `select!` stay `Send`.
pub(super) async fn stopped(running: &mut watch::Receiver<bool>) {
    let _ = running.wait_for(|r| !*r).await;
}

/// Sleeps for `d`; false if the load stopped meanwhile.
pub(super) async fn pause(shared: &Shared, d: Duration) -> bool {
    let mut running = shared.running.clone();
    tokio::select! {
        _ = tokio::time::sleep(d) => shared.running(),
        _ = stopped(&mut running) => false,
    }
}
