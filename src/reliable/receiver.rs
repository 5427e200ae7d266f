//! The receiving end: de-duplicates, reorders, acknowledges (sans-I/O).
//!
//! Every datagram that parses is answered with a cumulative ACK — even a
//! duplicate, because a duplicate usually means the sender missed our last ack.

use super::reorder::{Offer, ReorderBuffer};
use super::wire::{Packet, WireError};
use bytes::Bytes;
use serde::Serialize;

/// What a [`Receiver`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReceiverStats {
    /// Datagrams that parsed.
    pub datagrams: u64,
    /// Segments already delivered or held: dropped.
    pub duplicates: u64,
    /// Segments too far ahead: dropped.
    pub out_of_window: u64,
    /// Segments that arrived before one with a lower number (held until the gap filled).
    pub held_early: u64,
    /// ACKs sent.
    pub acks_sent: u64,
    /// Datagrams that were not packets of this protocol (or were ACKs).
    pub rejected: u64,
}

/// The receiving end of one reliable stream.
#[derive(Debug)]
pub struct Receiver {
    buffer: ReorderBuffer,
    fin: Option<u64>,
    finished: bool,
    delivered: Vec<u8>,
    stats: ReceiverStats,
}

impl Receiver {
    /// A receiver holding at most `window` early segments.
    pub fn new(window: u64) -> Self {
        Self {
            buffer: ReorderBuffer::new(window),
            fin: None,
            finished: false,
            delivered: Vec::new(),
            stats: ReceiverStats::default(),
        }
    }

    /// Handles one datagram; returns the ACK to send back.
    ///
    /// A datagram that is not DATA or FIN is an error and changes nothing.
    pub fn on_datagram(&mut self, datagram: &[u8]) -> Result<Bytes, WireError> {
        let packet = Packet::decode(datagram).and_then(|p| match p {
            Packet::Ack { .. } => Err(WireError::AckToReceiver),
            p => Ok(p),
        });
        let packet = packet.inspect_err(|_| self.stats.rejected += 1)?;
        self.stats.datagrams += 1;
        let echo = match packet {
            Packet::Data { seq, .. } | Packet::Fin { seq } => seq,
            Packet::Ack { .. } => unreachable!("rejected above"),
        };
        match packet {
            Packet::Data { seq, payload } => {
                if self.fin.is_some_and(|fin| seq >= fin) {
                    // Nothing exists at or after the FIN: a confused sender.
                    self.stats.out_of_window += 1;
                } else {
                    let offer = self.buffer.offer(seq, payload);
                    self.count(seq, offer);
                }
            }
            Packet::Fin { seq } => {
                if seq < self.buffer.next_expected() || self.fin == Some(seq) {
                    self.stats.duplicates += 1;
                } else if self.fin.is_none() {
                    self.fin = Some(seq);
                } else {
                    self.stats.out_of_window += 1;
                }
            }
            Packet::Ack { .. } => {}
        }
        while let Some(payload) = self.buffer.pop() {
            self.delivered.extend_from_slice(&payload);
        }
        if self.fin == Some(self.buffer.next_expected()) {
            self.finished = true;
        }
        self.stats.acks_sent += 1;
        Ok(Packet::Ack {
            next: self.ack(),
            echo,
        }
        .encode())
    }

    fn count(&mut self, seq: u64, offer: Offer) {
        match offer {
            Offer::Accepted if seq > self.buffer.next_expected() => self.stats.held_early += 1,
            Offer::Accepted => {}
            Offer::Duplicate => self.stats.duplicates += 1,
            Offer::OutOfWindow => self.stats.out_of_window += 1,
        }
    }

    /// The cumulative ack: every number below it has arrived (the FIN counts as one).
    pub fn ack(&self) -> u64 {
        self.buffer.next_expected() + u64::from(self.finished)
    }

    /// True once every segment up to the FIN has been delivered.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Takes the bytes delivered in order so far.
    pub fn take_delivered(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.delivered)
    }

    /// What this receiver saw.
    pub fn stats(&self) -> ReceiverStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn data(seq: u64, s: &'static str) -> Bytes {
        Packet::Data {
            seq,
            payload: Bytes::from_static(s.as_bytes()),
        }
        .encode()
    }
    fn ack_of(b: Bytes) -> u64 {
        match Packet::decode(&b) {
            Ok(Packet::Ack { next, .. }) => next,
            other => panic!("not an ack: {other:?}"),
        }
    }

    #[test]
    fn acks_are_cumulative_and_the_fin_counts_as_one() {
        let mut r = Receiver::new(8);
        assert_eq!(
            Packet::decode(&Receiver::new(8).on_datagram(&data(5, "f")).unwrap()),
            Ok(Packet::Ack { next: 0, echo: 5 }),
            "the echo names the segment that caused the ack"
        );
        assert_eq!(
            ack_of(r.on_datagram(&data(1, "b")).unwrap()),
            0,
            "0 still missing"
        );
        assert_eq!(
            ack_of(r.on_datagram(&Packet::Fin { seq: 2 }.encode()).unwrap()),
            0
        );
        assert!(!r.is_finished());
        assert_eq!(
            ack_of(r.on_datagram(&data(0, "a")).unwrap()),
            3,
            "0, 1 and the FIN"
        );
        assert!(r.is_finished());
        assert_eq!(r.take_delivered(), b"ab");
        // A retransmitted segment is answered again, and not delivered twice.
        assert_eq!(ack_of(r.on_datagram(&data(0, "a")).unwrap()), 3);
        assert_eq!(r.take_delivered(), b"");
        let s = r.stats();
        assert_eq!((s.duplicates, s.held_early, s.acks_sent), (1, 1, 4));
    }

    #[test]
    fn garbage_is_rejected_and_changes_nothing() {
        let mut r = Receiver::new(8);
        assert!(r.on_datagram(b"\xff").is_err());
        assert_eq!(
            r.on_datagram(&Packet::Ack { next: 5, echo: 0 }.encode()),
            Err(WireError::AckToReceiver)
        );
        assert_eq!(r.ack(), 0);
        assert_eq!(r.stats().rejected, 2);
        // Data past a FIN cannot exist.
        r.on_datagram(&Packet::Fin { seq: 1 }.encode()).unwrap();
        r.on_datagram(&data(1, "x")).unwrap();
        r.on_datagram(&data(0, "a")).unwrap();
        assert_eq!(r.take_delivered(), b"a");
        assert!(r.is_finished());
    }
}
