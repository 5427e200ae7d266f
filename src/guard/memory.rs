//! A memory budget shared by every connection of one server (`--max-memory`).
//!
//! One counter per server: [`MemoryBudget`]. Each connection holds one
//! [`Reservation`] per thing it buffers (what it is receiving, what waits to
//! be sent) and tells it, at coarse points, how many bytes that thing holds
//! now: [`Reservation::hold`]. Growing takes bytes from the budget — or fails
//! with [`OverBudget`], and then the connection is refused with its
//! protocol's own error while the others go on. Shrinking gives bytes back,
//! and dropping the reservation (the connection died, however it died)
//! gives back everything it held: no path can leak budget.
//!
//! Cheap enough for the hot paths: a reservation only touches the shared
//! counter when what it holds crosses a [`GRANULE`] boundary above the
//! [`UNCHARGED`] allowance, so a connection trading small frames never
//! touches it at all, and a big frame costs one atomic operation when its
//! header arrives and one when it is done — never one per byte or per read.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use thiserror::Error;

/// Default budget per server: 256 MiB for everything peers make it buffer.
/// Far above what honest use needs (a full chat hub of 16,384 connections
/// with short queues uses a few MiB), and low enough that a flood of
/// connections each holding a legal maximal frame (8 MiB for `tcp echo`,
/// 64 MiB messages for `ws echo`) cannot push a laptop into swap.
pub const DEFAULT_MAX_MEMORY: usize = 256 * 1024 * 1024;

/// Bytes each reservation may hold without charging the budget: 4 KiB. This
/// is the working buffer every connection has anyway, already bounded by
/// `--max-connections`; charging it would make every small frame touch the
/// shared counter.
pub const UNCHARGED: usize = 4 * 1024;

/// The step in which a reservation grows and shrinks: 4 KiB. A queue of
/// 200-byte events touches the shared counter once per 20 events, not once
/// per event.
pub const GRANULE: usize = 4 * 1024;

/// A request the budget could not grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the server's memory budget is spent: {needed} more bytes do not fit ({used} of {max} bytes in use; raise it with --max-memory)")]
pub struct OverBudget {
    /// Bytes asked for (beyond what the reservation already held).
    pub needed: usize,
    /// Bytes the budget had given out at that moment.
    pub used: usize,
    /// The budget.
    pub max: usize,
}

/// The bytes one server's connections may hold together.
#[derive(Debug)]
pub struct MemoryBudget {
    max: usize,
    used: AtomicUsize,
    peak: AtomicUsize,
    refusals: AtomicU64,
}

impl MemoryBudget {
    /// A budget of `max` bytes; 0 means no limit (what is held is still
    /// counted, so the peak can be reported).
    pub fn new(max: usize) -> Arc<MemoryBudget> {
        Arc::new(MemoryBudget {
            max,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            refusals: AtomicU64::new(0),
        })
    }

    /// The limit in bytes (0: none).
    pub fn max(&self) -> usize {
        self.max
    }

    /// Bytes held now by all reservations.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The most bytes ever held at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// How many requests were refused.
    pub fn refusals(&self) -> u64 {
        self.refusals.load(Ordering::Relaxed)
    }

    /// A new, empty reservation against this budget.
    pub fn reservation(self: &Arc<Self>) -> Reservation {
        Reservation {
            budget: self.clone(),
            charged: 0,
        }
    }

    fn take(&self, n: usize) -> Result<(), OverBudget> {
        let max = if self.max == 0 { usize::MAX } else { self.max };
        match self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|&total| total <= max)
            }) {
            Ok(before) => {
                self.peak.fetch_max(before + n, Ordering::Relaxed);
                Ok(())
            }
            Err(used) => {
                self.refusals.fetch_add(1, Ordering::Relaxed);
                Err(OverBudget {
                    needed: n,
                    used,
                    max: self.max,
                })
            }
        }
    }

    fn give(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// What one buffer of one connection holds of its server's budget; dropping
/// it gives everything back.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<MemoryBudget>,
    charged: usize,
}

impl Reservation {
    /// This buffer now holds `bytes` (or is about to: call it *before*
    /// reading a frame whose header announced them). Growing may fail; then
    /// nothing changes and the caller refuses the peer. Shrinking never fails.
    pub fn hold(&mut self, bytes: usize) -> Result<(), OverBudget> {
        let want = charge_for(bytes);
        if want > self.charged {
            self.budget.take(want - self.charged)?;
        } else if want < self.charged {
            self.budget.give(self.charged - want);
        }
        self.charged = want;
        Ok(())
    }

    /// Gives everything back (the buffer is empty).
    pub fn release(&mut self) {
        self.budget.give(self.charged);
        self.charged = 0;
    }

    /// Whether [`Reservation::hold`] of `bytes` would not need to grow.
    pub fn covers(&self, bytes: usize) -> bool {
        charge_for(bytes) <= self.charged
    }

    /// Bytes charged to the budget now.
    pub fn charged(&self) -> usize {
        self.charged
    }

    /// Moves what this reservation holds into a new one (for a batch taken
    /// off a queue: the batch holds the bytes until it is written), leaving
    /// this one empty.
    pub fn split_off(&mut self) -> Reservation {
        let taken = std::mem::take(&mut self.charged);
        Reservation {
            budget: self.budget.clone(),
            charged: taken,
        }
    }

    /// The budget this reservation draws on.
    pub fn budget(&self) -> &Arc<MemoryBudget> {
        &self.budget
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.release();
    }
}

/// What holding `bytes` costs the budget: nothing up to [`UNCHARGED`], then
/// the rest rounded up to a whole [`GRANULE`].
fn charge_for(bytes: usize) -> usize {
    let over = bytes.saturating_sub(UNCHARGED);
    over.div_ceil(GRANULE).saturating_mul(GRANULE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const K: usize = 1024;

    #[test]
    fn small_buffers_cost_nothing_and_big_ones_cost_whole_granules() {
        assert_eq!(charge_for(0), 0);
        assert_eq!(charge_for(UNCHARGED), 0);
        assert_eq!(charge_for(UNCHARGED + 1), GRANULE);
        assert_eq!(charge_for(UNCHARGED + GRANULE), GRANULE);
        assert_eq!(charge_for(UNCHARGED + GRANULE + 1), 2 * GRANULE);
        assert_eq!(charge_for(usize::MAX), usize::MAX / GRANULE * GRANULE);
    }

    #[test]
    fn the_budget_is_granted_up_to_max_and_refused_one_past_it() {
        let budget = MemoryBudget::new(64 * K);
        let mut a = budget.reservation();
        a.hold(UNCHARGED + 64 * K).unwrap();
        assert_eq!(budget.used(), 64 * K);
        let mut b = budget.reservation();
        assert_eq!(b.hold(UNCHARGED).map(|_| b.charged()), Ok(0), "free");
        let err = b.hold(UNCHARGED + 1).unwrap_err();
        assert_eq!(
            err,
            OverBudget {
                needed: GRANULE,
                used: 64 * K,
                max: 64 * K
            }
        );
        assert_eq!(b.charged(), 0, "a refused hold changes nothing");
        assert_eq!(budget.refusals(), 1);
        a.hold(UNCHARGED + 60 * K).unwrap();
        b.hold(UNCHARGED + 1).unwrap();
        assert_eq!(budget.used(), 64 * K);
        assert_eq!(budget.peak(), 64 * K);
    }

    #[test]
    fn dropping_a_reservation_gives_everything_back() {
        let budget = MemoryBudget::new(1024 * K);
        {
            let mut r = budget.reservation();
            r.hold(500 * K).unwrap();
            let mut batch = r.split_off();
            assert_eq!(r.charged(), 0);
            r.hold(100 * K).unwrap();
            batch.hold(batch.charged() + UNCHARGED).unwrap();
            assert!(budget.used() > 500 * K);
        }
        assert_eq!(budget.used(), 0);
        assert!(budget.peak() >= 592 * K);
    }

    #[test]
    fn zero_means_no_limit_but_still_counts() {
        let budget = MemoryBudget::new(0);
        let mut r = budget.reservation();
        r.hold(usize::MAX / 2).unwrap();
        assert!(budget.peak() > 0);
        r.release();
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn covers_says_when_no_growth_is_needed() {
        let budget = MemoryBudget::new(0);
        let mut r = budget.reservation();
        assert!(r.covers(UNCHARGED));
        assert!(!r.covers(UNCHARGED + 1));
        r.hold(UNCHARGED + 10).unwrap();
        assert!(r.covers(UNCHARGED + GRANULE));
    }

    #[test]
    fn many_threads_never_overshoot_the_budget() {
        let budget = MemoryBudget::new(100 * GRANULE);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let budget = budget.clone();
                std::thread::spawn(move || {
                    let mut r = budget.reservation();
                    for i in 0..10_000 {
                        let _ = r.hold(UNCHARGED + (i % 40) * GRANULE);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert!(budget.peak() <= 100 * GRANULE);
        assert_eq!(budget.used(), 0);
    }
}
