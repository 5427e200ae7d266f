//! The receiver's de-duplication and reordering buffer.
//!
//! Segments arrive in any order, some twice. The buffer remembers the next
//! number it needs (`next_expected`, which is also the cumulative ack), holds
//! segments that arrived early, and hands payloads out strictly in order. It
//! holds at most `window` numbers ahead, so a hostile or broken sender cannot
//! make it allocate without bound.

use bytes::Bytes;
use std::collections::BTreeMap;

/// What the buffer did with an offered segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// New: kept (and ready now if it was the next expected one).
    Accepted,
    /// Already delivered or already held: dropped (idempotent receive).
    Duplicate,
    /// At or beyond `next_expected + window`: dropped; the sender will resend it.
    OutOfWindow,
}

/// Holds early segments and releases payloads in sequence order.
#[derive(Debug, Clone)]
pub struct ReorderBuffer {
    next_expected: u64,
    window: u64,
    held: BTreeMap<u64, Bytes>,
}

impl ReorderBuffer {
    /// An empty buffer expecting segment 0 and holding at most `window` numbers ahead.
    pub fn new(window: u64) -> Self {
        Self {
            next_expected: 0,
            window,
            held: BTreeMap::new(),
        }
    }

    /// Offers segment `seq`; duplicates and segments outside the window are dropped.
    pub fn offer(&mut self, seq: u64, payload: Bytes) -> Offer {
        if seq < self.next_expected || self.held.contains_key(&seq) {
            return Offer::Duplicate;
        }
        if seq - self.next_expected >= self.window {
            return Offer::OutOfWindow;
        }
        self.held.insert(seq, payload);
        Offer::Accepted
    }

    /// The next payload in order, if it has arrived; advances `next_expected`.
    pub fn pop(&mut self) -> Option<Bytes> {
        let payload = self.held.remove(&self.next_expected)?;
        self.next_expected += 1;
        Some(payload)
    }

    /// The lowest number not yet delivered: the cumulative ack to send.
    pub fn next_expected(&self) -> u64 {
        self.next_expected
    }

    /// How many early segments are waiting for a gap to fill.
    pub fn held(&self) -> usize {
        self.held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[test]
    fn early_segments_wait_for_the_gap() {
        let mut r = ReorderBuffer::new(8);
        assert_eq!(r.offer(1, b("b")), Offer::Accepted);
        assert_eq!(r.pop(), None, "0 is missing");
        assert_eq!(r.offer(0, b("a")), Offer::Accepted);
        assert_eq!(
            (r.pop(), r.pop(), r.pop()),
            (Some(b("a")), Some(b("b")), None)
        );
        assert_eq!(r.next_expected(), 2);
    }

    #[test]
    fn window_edge() {
        let mut r = ReorderBuffer::new(4);
        assert_eq!(
            r.offer(3, b("x")),
            Offer::Accepted,
            "next + window - 1 fits"
        );
        assert_eq!(
            r.offer(4, b("y")),
            Offer::OutOfWindow,
            "next + window does not"
        );
        assert_eq!(r.offer(u64::MAX, b("z")), Offer::OutOfWindow);
        assert_eq!(r.held(), 1);
    }
}
