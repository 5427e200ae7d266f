//! A connection's outbound queue: bounded, and what happens when it fills.
//!
//! A slow reader (a phone on a bad network, a client that stopped reading)
//! must not stall anyone else nor make the server's memory grow without
//! bound. So every connection has its own queue of encoded events, at most
//! `max` long. **Policy when it is full: the oldest queued event is dropped**
//! and counted; before the next events it receives, the client gets
//! `{"event":"dropped","count":N}` so it knows it missed N events (and, from
//! lesson 07 on, can ask for a replay). The sender never waits for a slow
//! receiver, and a flooded connection costs at most `max` waiting events plus
//! the one batch its writer has taken and is writing (itself at most `max`).
//!
//! All queues of a server together are bounded too: a queue made with
//! [`Outbound::with_budget`] charges the bytes it holds to the server's
//! [`MemoryBudget`](crate::guard::MemoryBudget) (`--max-memory`), a batch
//! keeps them charged until it is written, and **when the budget is spent
//! a queue drops its oldest events instead of growing** — the same policy,
//! told to the client the same way (`dropped`). Queues that keep up with
//! their client stay within the uncharged 4 KiB and never touch the budget.

use crate::guard::Reservation;
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Default)]
struct Queue {
    events: VecDeque<Bytes>,
    /// Bytes of the queued events.
    bytes: usize,
    /// What the queued events hold of the server's budget.
    held: Option<Reservation>,
    dropped: u64,
    closing: bool,
    peak: usize,
    dropped_total: u64,
}

impl Queue {
    fn drop_oldest(&mut self) {
        if let Some(old) = self.events.pop_front() {
            self.bytes -= old.len();
            self.dropped += 1;
            self.dropped_total += 1;
        }
    }
}

/// What the writer takes from the queue in one go.
#[derive(Debug, Default)]
pub struct Batch {
    /// Events dropped since the last batch (tell the client first).
    pub dropped: u64,
    /// The queued events, oldest first.
    pub events: VecDeque<Bytes>,
    /// The connection is to be closed after these.
    pub closing: bool,
    /// The events' share of the server's memory budget: keep it until they
    /// are written (dropping it gives the bytes back).
    pub held: Option<Reservation>,
}

/// One connection's bounded outbound queue (shared by the hub side, which
/// pushes, and the connection's writer, which takes).
#[derive(Debug)]
pub struct Outbound {
    queue: Mutex<Queue>,
    max: usize,
    ready: Notify,
    closing: CancellationToken,
}

impl Outbound {
    /// An empty queue holding at most `max` events (at least 1), with no
    /// memory budget.
    pub fn new(max: usize) -> Self {
        Self {
            queue: Mutex::new(Queue::default()),
            max: max.max(1),
            ready: Notify::new(),
            closing: CancellationToken::new(),
        }
    }

    /// An empty queue holding at most `max` events, whose bytes are charged
    /// to `held`'s budget: when the budget is spent, the oldest events are
    /// dropped rather than the queue growing.
    pub fn with_budget(max: usize, held: Reservation) -> Self {
        let q = Self::new(max);
        q.queue.lock().expect("queue lock").held = Some(held);
        q
    }

    /// Queues an encoded event; when the queue is full (or the server's
    /// memory budget is spent) the oldest events are dropped to make room.
    /// Returns `false` if one was dropped.
    pub fn push(&self, event: Bytes) -> bool {
        let mut guard = self.queue.lock().expect("queue lock");
        let q = &mut *guard;
        if q.closing {
            return true; // the connection is on its way out; nothing more goes out
        }
        let dropped_before = q.dropped;
        if q.events.len() >= self.max {
            q.drop_oldest();
        }
        q.bytes += event.len();
        q.events.push_back(event);
        if let Some(mut held) = q.held.take() {
            // One check per 4 KiB of growth, not per event.
            if !held.covers(q.bytes) && held.hold(q.bytes).is_err() {
                while !held.covers(q.bytes) {
                    q.drop_oldest();
                }
            }
            q.held = Some(held);
        }
        let kept_all = q.dropped == dropped_before;
        q.peak = q.peak.max(q.events.len());
        let was_empty = q.events.len() == 1;
        drop(guard);
        if was_empty || !kept_all {
            self.ready.notify_one();
        }
        kept_all
    }

    /// Asks for the connection to be closed once what is queued has been sent.
    pub fn close(&self) {
        self.queue.lock().expect("queue lock").closing = true;
        self.ready.notify_one();
        self.closing.cancel();
    }

    /// Waits until there is something to send (or the connection is closing)
    /// and takes all of it.
    pub async fn take(&self) -> Batch {
        loop {
            {
                let mut q = self.queue.lock().expect("queue lock");
                if !q.events.is_empty() || q.dropped > 0 || q.closing {
                    q.bytes = 0;
                    return Batch {
                        dropped: std::mem::take(&mut q.dropped),
                        events: std::mem::take(&mut q.events),
                        closing: q.closing,
                        held: q.held.as_mut().map(Reservation::split_off),
                    };
                }
            }
            self.ready.notified().await;
        }
    }

    /// Events waiting now.
    pub fn len(&self) -> usize {
        self.queue.lock().expect("queue lock").events.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most events that were ever waiting at once.
    pub fn peak(&self) -> usize {
        self.queue.lock().expect("queue lock").peak
    }

    /// Events dropped over the connection's life.
    pub fn dropped_total(&self) -> u64 {
        self.queue.lock().expect("queue lock").dropped_total
    }

    /// The queue's limit.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Cancelled once [`Outbound::close`] was called: the reader stops reading.
    pub fn closing(&self) -> &CancellationToken {
        &self.closing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[tokio::test]
    async fn holds_max_and_drops_the_oldest_at_max_plus_one() {
        let q = Outbound::new(3);
        assert!(
            q.push(b("1")) && q.push(b("2")) && q.push(b("3")),
            "max fits"
        );
        assert!(!q.push(b("4")), "max + 1 drops one");
        assert_eq!(q.len(), 3);
        let batch = q.take().await;
        assert_eq!(batch.dropped, 1);
        assert_eq!(Vec::from(batch.events), vec![b("2"), b("3"), b("4")]);
        assert_eq!(q.peak(), 3);
        assert_eq!(q.dropped_total(), 1);
    }

    #[tokio::test]
    async fn a_spent_budget_drops_the_oldest_instead_of_growing() {
        use crate::guard::memory::{GRANULE, UNCHARGED};
        use crate::guard::MemoryBudget;
        let budget = MemoryBudget::new(2 * GRANULE);
        let q = Outbound::with_budget(1000, budget.reservation());
        let event = Bytes::from(vec![b'x'; 1024]);
        let fits = (UNCHARGED + 2 * GRANULE) / 1024;
        for _ in 0..fits {
            assert!(q.push(event.clone()), "within the budget nothing drops");
        }
        assert_eq!(budget.used(), 2 * GRANULE);
        assert!(!q.push(event.clone()), "one more: the oldest goes");
        assert_eq!(q.len(), fits);
        // Another queue on the same budget still has its uncharged 4 KiB.
        let other = Outbound::with_budget(1000, budget.reservation());
        assert!(other.push(event.clone()));
        // Taking the batch moves the charge to it; writing (dropping) it gives it back.
        let batch = q.take().await;
        assert_eq!(batch.dropped, 1);
        assert_eq!(budget.used(), 2 * GRANULE);
        drop(batch);
        assert_eq!(budget.used(), 0);
        assert!(q.push(event), "room again");
    }

    #[tokio::test]
    async fn take_waits_for_a_push() {
        let q = std::sync::Arc::new(Outbound::new(4));
        let q2 = q.clone();
        let taker = tokio::spawn(async move { q2.take().await });
        tokio::task::yield_now().await;
        q.push(b("x"));
        let batch = taker.await.unwrap();
        assert_eq!(Vec::from(batch.events), vec![b("x")]);
        assert!(!batch.closing);
    }

    #[tokio::test]
    async fn close_hands_over_what_is_left_then_says_closing() {
        let q = Outbound::new(4);
        q.push(b("last words"));
        q.close();
        q.push(b("too late"));
        let batch = q.take().await;
        assert!(batch.closing);
        assert_eq!(Vec::from(batch.events), vec![b("last words")]);
    }
}
