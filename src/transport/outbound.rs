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

use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Default)]
struct Queue {
    events: VecDeque<Bytes>,
    dropped: u64,
    closing: bool,
    peak: usize,
    dropped_total: u64,
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
    /// An empty queue holding at most `max` events (at least 1).
    pub fn new(max: usize) -> Self {
        Self {
            queue: Mutex::new(Queue::default()),
            max: max.max(1),
            ready: Notify::new(),
            closing: CancellationToken::new(),
        }
    }

    /// Queues an encoded event; when the queue is full the oldest event is
    /// dropped to make room. Returns `false` if one was dropped.
    pub fn push(&self, event: Bytes) -> bool {
        let mut q = self.queue.lock().expect("queue lock");
        if q.closing {
            return true; // the connection is on its way out; nothing more goes out
        }
        let mut kept_all = true;
        if q.events.len() >= self.max {
            q.events.pop_front();
            q.dropped += 1;
            q.dropped_total += 1;
            kept_all = false;
        }
        q.events.push_back(event);
        q.peak = q.peak.max(q.events.len());
        let was_empty = q.events.len() == 1;
        drop(q);
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
                    return Batch {
                        dropped: std::mem::take(&mut q.dropped),
                        events: std::mem::take(&mut q.events),
                        closing: q.closing,
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
