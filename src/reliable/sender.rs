//! The sending end: a sliding window, one retransmission timer, fast
//! retransmit (sans-I/O).
//!
//! The stream is cut into segments numbered from 0, plus a FIN. At most
//! `window` segments are in flight. One timer runs while anything is
//! unacknowledged (RFC 6298 §5): when it fires, the oldest unacked segment is
//! resent and the RTO doubles. Three duplicate acks mean "a segment is missing
//! but later ones arrive" and resend the oldest at once (fast retransmit,
//! RFC 5681 §3.2); while recovering, an ack that moves forward but not past
//! everything sent before the loss resends the next hole too (NewReno's
//! partial ack, RFC 6582).
//!
//! Drive it like this: feed every arriving datagram to [`Sender::on_datagram`],
//! call [`Sender::on_timeout`] when [`Sender::deadline`] has passed, and send
//! whatever [`Sender::poll_transmit`] returns until it returns `None`.

use super::rto::{RtoConfig, RtoEstimator};
use super::wire::{Packet, WireError};
use super::{DEFAULT_MSS, DEFAULT_WINDOW};
use bytes::Bytes;
use serde::Serialize;
use std::time::Duration;

/// RFC 5681 §3.2: this many duplicate acks trigger a fast retransmit.
pub const DUP_ACK_THRESHOLD: u32 = 3;

/// How a [`Sender`] cuts and paces the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderConfig {
    /// Payload bytes per segment (at least 1).
    pub mss: usize,
    /// Most segments in flight (at least 1).
    pub window: u64,
    /// The retransmission timer's bounds.
    pub rto: RtoConfig,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            mss: DEFAULT_MSS,
            window: DEFAULT_WINDOW,
            rto: RtoConfig::default(),
        }
    }
}

/// What a [`Sender`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SenderStats {
    /// Segments in the stream, the FIN included.
    pub segments: u64,
    /// Datagrams sent, first copies and retransmissions.
    pub datagrams_sent: u64,
    /// Datagrams sent again.
    pub retransmissions: u64,
    /// Times the retransmission timer fired.
    pub timeouts: u64,
    /// Retransmissions triggered by three duplicate acks.
    pub fast_retransmits: u64,
    /// Round trips measured (Karn's rule skips retransmitted segments).
    pub rtt_samples: u64,
    /// ACKs that acknowledged something never sent: ignored.
    pub bogus_acks: u64,
}

#[derive(Debug)]
struct Segment {
    payload: Bytes,
    first_sent: Option<Duration>,
    retransmitted: bool,
}

/// The sending end of one reliable stream.
#[derive(Debug)]
pub struct Sender {
    config: SenderConfig,
    /// Index = sequence number; the last one is the FIN (empty payload).
    segments: Vec<Segment>,
    /// Lowest unacknowledged number.
    base: u64,
    /// Next number never sent.
    next_new: u64,
    rto: RtoEstimator,
    deadline: Option<Duration>,
    dup_acks: u32,
    /// While recovering from a loss: the highest number sent when it began.
    recovery: Option<u64>,
    resend: Option<u64>,
    /// Data segments the application has handed over so far (paced sending).
    released: u64,
    stats: SenderStats,
}

impl Sender {
    /// A sender for `data` (the whole stream), cut into `config.mss`-byte segments.
    pub fn new(data: Bytes, config: SenderConfig) -> Self {
        let mss = config.mss.max(1);
        let mut segments: Vec<Segment> = (0..data.len())
            .step_by(mss)
            .map(|at| Segment {
                payload: data.slice(at..(at + mss).min(data.len())),
                first_sent: None,
                retransmitted: false,
            })
            .collect();
        segments.push(Segment {
            payload: Bytes::new(),
            first_sent: None,
            retransmitted: false,
        });
        let stats = SenderStats {
            segments: segments.len() as u64,
            ..SenderStats::default()
        };
        Self {
            config: SenderConfig {
                mss,
                window: config.window.max(1),
                ..config
            },
            segments,
            base: 0,
            next_new: 0,
            rto: RtoEstimator::new(config.rto),
            deadline: None,
            dup_acks: 0,
            recovery: None,
            resend: None,
            released: u64::MAX,
            stats,
        }
    }

    /// Lets only the first `n` data segments go out for now (an application
    /// writing its messages over time); the FIN follows the last one.
    /// Without a call, the whole stream is available at once.
    pub fn release(&mut self, n: u64) {
        self.released = n.min(self.total() - 1);
    }

    /// Segments that may be sent at all: released data, plus the FIN once all data is.
    fn sendable(&self) -> u64 {
        let data = self.total() - 1;
        match self.released.min(data) {
            r if r == data => self.total(),
            r => r,
        }
    }

    fn total(&self) -> u64 {
        self.segments.len() as u64
    }

    fn packet(&self, seq: u64) -> Bytes {
        if seq + 1 == self.total() {
            Packet::Fin { seq }.encode()
        } else {
            Packet::Data {
                seq,
                payload: self.segments[seq as usize].payload.clone(),
            }
            .encode()
        }
    }

    /// The next datagram to send at `now`, if the window and the timer allow one.
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Bytes> {
        let seq = if let Some(seq) = self.resend.take() {
            self.segments[seq as usize].retransmitted = true;
            self.stats.retransmissions += 1;
            seq
        } else if self.next_new < self.sendable() && self.next_new - self.base < self.config.window
        {
            let seq = self.next_new;
            self.segments[seq as usize].first_sent = Some(now);
            self.next_new += 1;
            seq
        } else {
            return None;
        };
        // RFC 6298 §5.1: sending data starts the timer if it is not running.
        self.deadline.get_or_insert(now + self.rto.rto());
        self.stats.datagrams_sent += 1;
        Some(self.packet(seq))
    }

    /// Handles a datagram from the receiver (an ACK).
    pub fn on_datagram(&mut self, now: Duration, datagram: &[u8]) -> Result<(), WireError> {
        if let Packet::Ack { next, echo } = Packet::decode(datagram)? {
            self.on_ack(now, next, echo);
        }
        Ok(())
    }

    fn on_ack(&mut self, now: Duration, next: u64, echo: u64) {
        if next > self.next_new || echo >= self.next_new {
            self.stats.bogus_acks += 1;
            return;
        }
        // Time the segment this ack answers, if it was still unacknowledged
        // (a late duplicate's ack would measure the wait, not the path) and
        // — Karn's rule, RFC 6298 §3 — was sent only once: the ack of a
        // retransmitted segment cannot say which copy it answers.
        let answered = &self.segments[echo as usize];
        if echo >= self.base && !answered.retransmitted {
            if let Some(sent) = answered.first_sent {
                self.rto.on_sample(now.saturating_sub(sent));
                self.stats.rtt_samples += 1;
            }
        }
        if next > self.base {
            // New data acknowledged: the path works again, undo the backoff
            // (as Linux does; see RtoEstimator::reset_backoff).
            self.rto.reset_backoff();
            self.base = next;
            self.dup_acks = 0;
            // §5.2: all acked → stop the timer; §5.3: otherwise restart it.
            self.deadline = (self.base < self.next_new).then(|| now + self.rto.rto());
            match self.recovery {
                Some(high) if next <= high => self.resend = Some(self.base),
                _ => self.recovery = None,
            }
        } else if next == self.base && self.base < self.next_new {
            self.dup_acks += 1;
            if self.dup_acks == DUP_ACK_THRESHOLD && self.recovery.is_none() {
                self.stats.fast_retransmits += 1;
                self.start_recovery();
            }
        }
    }

    fn start_recovery(&mut self) {
        self.resend = Some(self.base);
        self.recovery = Some(self.next_new - 1);
    }

    /// When the retransmission timer fires; `None` while nothing is in flight.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Call once `now` has reached [`Sender::deadline`]: backs off and resends the oldest (§5.4–§5.6).
    pub fn on_timeout(&mut self, now: Duration) {
        if !self.deadline.is_some_and(|d| d <= now) {
            return;
        }
        self.stats.timeouts += 1;
        self.rto.on_timeout();
        self.dup_acks = 0;
        self.start_recovery();
        self.deadline = Some(now + self.rto.rto());
    }

    /// Segments not yet acknowledged (sent or not).
    pub fn unacked(&self) -> u64 {
        self.total() - self.base
    }

    /// True once the receiver has acknowledged everything, the FIN included.
    pub fn is_done(&self) -> bool {
        self.base == self.total()
    }

    /// The RTT estimator (SRTT, RTTVAR, RTO).
    pub fn rto(&self) -> &RtoEstimator {
        &self.rto
    }

    /// What this sender did.
    pub fn stats(&self) -> SenderStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    /// An ack answering the segment just below `next` (the usual in-order case).
    fn ack(next: u64) -> Bytes {
        Packet::Ack {
            next,
            echo: next.saturating_sub(1),
        }
        .encode()
    }
    fn ack_echo(next: u64, echo: u64) -> Bytes {
        Packet::Ack { next, echo }.encode()
    }
    fn seq_of(b: &Bytes) -> u64 {
        match Packet::decode(b).unwrap() {
            Packet::Data { seq, .. } | Packet::Fin { seq } => seq,
            Packet::Ack { .. } => panic!("sender sent an ack"),
        }
    }
    const T0: Duration = Duration::ZERO;
    const fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn sender(len: usize, window: u64) -> Sender {
        let config = SenderConfig {
            mss: 10,
            window,
            rto: RtoConfig::LAN,
        };
        Sender::new(Bytes::from(vec![7u8; len]), config)
    }

    #[test]
    fn the_window_limits_what_is_in_flight() {
        let mut s = sender(50, 3); // 5 segments + FIN
        let sent: Vec<u64> = std::iter::from_fn(|| s.poll_transmit(T0))
            .map(|b| seq_of(&b))
            .collect();
        assert_eq!(sent, vec![0, 1, 2]);
        s.on_datagram(ms(10), &ack(2)).unwrap();
        let sent: Vec<u64> = std::iter::from_fn(|| s.poll_transmit(ms(10)))
            .map(|b| seq_of(&b))
            .collect();
        assert_eq!(sent, vec![3, 4], "two acked, two more may go");
    }

    #[test]
    fn timeout_resends_the_oldest_and_doubles_the_rto() {
        let mut s = sender(20, 8); // 0, 1, FIN 2
        while s.poll_transmit(T0).is_some() {}
        assert_eq!(s.deadline(), Some(ms(1000)), "§2.1: 1 s before any sample");
        s.on_timeout(ms(999));
        assert_eq!(s.poll_transmit(ms(999)), None, "not yet");
        s.on_timeout(ms(1000));
        assert_eq!(seq_of(&s.poll_transmit(ms(1000)).unwrap()), 0);
        assert_eq!(s.deadline(), Some(ms(3000)), "RTO doubled to 2 s");
        // Karn: the ack of a retransmitted segment is not a sample...
        s.on_datagram(ms(1010), &ack(1)).unwrap();
        assert_eq!(s.stats().rtt_samples, 0);
        assert_eq!(s.rto().srtt(), None);
        // ...but new data got through, so the backoff is undone.
        assert_eq!(s.rto().rto(), ms(1000));
    }

    #[test]
    fn three_duplicate_acks_resend_at_once_and_a_partial_ack_resends_the_next_hole() {
        let mut s = sender(60, 8); // 0..=5 data, FIN 6
        while s.poll_transmit(T0).is_some() {}
        // 0 and 2 lost: the receiver acks 0 for each of 1, 3, 4.
        for echo in [1, 3] {
            s.on_datagram(ms(5), &ack_echo(0, echo)).unwrap();
            assert_eq!(s.poll_transmit(ms(5)), None);
        }
        s.on_datagram(ms(5), &ack_echo(0, 4)).unwrap();
        assert_eq!(
            seq_of(&s.poll_transmit(ms(5)).unwrap()),
            0,
            "fast retransmit"
        );
        s.on_datagram(ms(10), &ack_echo(2, 0)).unwrap();
        assert_eq!(
            seq_of(&s.poll_transmit(ms(10)).unwrap()),
            2,
            "partial ack: the next hole"
        );
        s.on_datagram(ms(15), &ack_echo(7, 2)).unwrap();
        assert!(s.is_done());
        assert_eq!(s.deadline(), None, "§5.2: nothing in flight, no timer");
        let st = s.stats();
        assert_eq!(
            (st.retransmissions, st.fast_retransmits, st.timeouts),
            (2, 1, 0)
        );
    }

    #[test]
    fn the_echo_times_the_answered_segment_even_behind_a_hole() {
        let mut s = sender(60, 8);
        while s.poll_transmit(T0).is_some() {}
        // Segment 0 is missing; segment 3 arrives and is answered at 40 ms.
        s.on_datagram(ms(40), &ack_echo(0, 3)).unwrap();
        assert_eq!(s.rto().srtt(), Some(ms(40)));
        // Acks whose echo is already acknowledged (a late duplicate) measure nothing.
        s.on_datagram(ms(50), &ack_echo(5, 4)).unwrap();
        s.on_datagram(ms(900), &ack_echo(5, 4)).unwrap();
        assert_eq!(s.stats().rtt_samples, 2, "the 50 ms one only");
    }

    #[test]
    fn an_ack_for_what_was_never_sent_is_ignored() {
        let mut s = sender(20, 1);
        s.poll_transmit(T0).unwrap();
        s.on_datagram(ms(1), &ack(3)).unwrap();
        assert!(!s.is_done());
        assert_eq!(s.stats().bogus_acks, 1);
        assert!(s.on_datagram(ms(1), b"junk").is_err());
    }

    #[test]
    fn release_paces_the_data_and_holds_the_fin_back() {
        let mut s = sender(30, 8); // 0, 1, 2, FIN 3
        s.release(0);
        assert_eq!(s.poll_transmit(T0), None);
        s.release(2);
        let sent: Vec<u64> = std::iter::from_fn(|| s.poll_transmit(T0))
            .map(|b| seq_of(&b))
            .collect();
        assert_eq!(sent, vec![0, 1], "no FIN while data is still to come");
        s.release(3);
        let sent: Vec<u64> = std::iter::from_fn(|| s.poll_transmit(T0))
            .map(|b| seq_of(&b))
            .collect();
        assert_eq!(sent, vec![2, 3]);
    }

    #[test]
    fn an_empty_stream_is_just_a_fin() {
        let mut s = sender(0, 4);
        assert_eq!(s.poll_transmit(T0), Some(Packet::Fin { seq: 0 }.encode()));
        s.on_datagram(ms(1), &ack(1)).unwrap();
        assert!(s.is_done());
    }
}
