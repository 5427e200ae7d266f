//! What a bad network does to packets, applied on a virtual clock.
//!
//! Each packet that enters a [`Link`] goes through these steps, in order, each
//! decided by the seeded generator:
//!
//! 1. **rate limit** — the link sends `rate` bytes per second; a packet waits
//!    until the ones before it have left. If more than `queue_limit` bytes are
//!    waiting, it is dropped at the tail ("overflow"), as a router's queue does.
//! 2. **loss** — dropped with probability `loss`.
//! 3. **corruption** — one random bit flipped with probability `corrupt`.
//! 4. **delay and jitter** — delivered `delay ± jitter` later (uniform). Large
//!    jitter reorders packets, as it does on real paths.
//! 5. **reordering** — with probability `reorder`, held back an extra
//!    `reorder_hold`, so packets sent just after it overtake it.
//! 6. **duplication** — with probability `duplicate`, a second copy is
//!    delivered too.
//!
//! The clock is a [`Duration`] since the link started: tests push packets at
//! exact times and read exact delivery times back, with no sleeping.

use super::rng::SplitMix64;
use bytes::{Bytes, BytesMut};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

/// Default extra hold for a reordered packet: long enough for a few packets
/// sent right after it to overtake it on a fast link.
pub const DEFAULT_REORDER_HOLD: Duration = Duration::from_millis(10);

/// Default most bytes waiting behind the rate limit: about 64 full-size
/// Ethernet packets, a small router queue.
pub const DEFAULT_QUEUE_LIMIT: usize = 64 * 1500;

/// The recipe for a bad network. All probabilities are in `[0, 1]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Impairment {
    /// Probability that a packet is dropped.
    pub loss: f64,
    /// Probability that a packet is delivered twice.
    pub duplicate: f64,
    /// Probability that a packet is held back by `reorder_hold`.
    pub reorder: f64,
    /// Extra delay of a reordered packet.
    pub reorder_hold: Duration,
    /// Probability that one bit of a packet is flipped.
    pub corrupt: f64,
    /// Fixed one-way delay.
    pub delay: Duration,
    /// Each packet's delay varies uniformly by up to this much either way.
    pub jitter: Duration,
    /// Link speed in bytes per second; `None` = unlimited.
    pub rate: Option<u64>,
    /// Most bytes waiting behind the rate limit before the tail is dropped.
    pub queue_limit: usize,
    /// Seed of the generator: the same seed and packets give the same fate.
    pub seed: u64,
}

impl Default for Impairment {
    /// A perfect link: nothing lost, nothing delayed.
    fn default() -> Self {
        Self {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_hold: DEFAULT_REORDER_HOLD,
            corrupt: 0.0,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            rate: None,
            queue_limit: DEFAULT_QUEUE_LIMIT,
            seed: 0,
        }
    }
}

/// Why an [`Impairment`] is not usable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ImpairmentError {
    /// A probability outside 0–100 %.
    #[error("{name} must be between 0% and 100%, got {value}")]
    ProbabilityOutOfRange {
        /// Which setting.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// A zero rate would never send anything.
    #[error("--rate must be above 0 (leave it out for an unlimited link)")]
    ZeroRate,
}

impl Impairment {
    /// Checks every setting; call before building a [`Link`].
    pub fn validate(&self) -> Result<(), ImpairmentError> {
        for (name, value) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
            ("corrupt", self.corrupt),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ImpairmentError::ProbabilityOutOfRange { name, value });
            }
        }
        if self.rate == Some(0) {
            return Err(ImpairmentError::ZeroRate);
        }
        Ok(())
    }

    /// One line saying what this link does, e.g. `loss 5%, delay 20ms ± 5ms, seed 7`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let pct = |p: f64| format!("{}%", (p * 1000.0).round() / 10.0);
        if self.loss > 0.0 {
            parts.push(format!("loss {}", pct(self.loss)));
        }
        if self.duplicate > 0.0 {
            parts.push(format!("duplicate {}", pct(self.duplicate)));
        }
        if self.reorder > 0.0 {
            parts.push(format!(
                "reorder {} (held {:?})",
                pct(self.reorder),
                self.reorder_hold
            ));
        }
        if self.corrupt > 0.0 {
            parts.push(format!("corrupt {}", pct(self.corrupt)));
        }
        if !self.delay.is_zero() || !self.jitter.is_zero() {
            parts.push(format!("delay {:?} ± {:?}", self.delay, self.jitter));
        }
        if let Some(rate) = self.rate {
            parts.push(format!(
                "rate {} bytes/s, queue {} bytes",
                rate, self.queue_limit
            ));
        }
        if parts.is_empty() {
            parts.push("perfect link".into());
        }
        parts.push(format!("seed {}", self.seed));
        parts.join(", ")
    }
}

/// What a link did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Packets that entered the link.
    pub received: u64,
    /// Packets (copies included) handed out at the far end.
    pub delivered: u64,
    /// Packets dropped by `loss`.
    pub lost: u64,
    /// Packets dropped at the tail because a queue was full: the rate
    /// limit's (`queue_limit`), or the memory of whoever holds the link
    /// (see [`Link::overflow`]).
    pub overflowed: u64,
    /// Extra copies made by `duplicate`.
    pub duplicated: u64,
    /// Packets held back by `reorder`.
    pub reordered: u64,
    /// Packets with a bit flipped.
    pub corrupted: u64,
    /// Payload bytes delivered.
    pub bytes_delivered: u64,
}

/// A packet waiting in the link, ordered by delivery time then arrival order.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    due: Duration,
    order: u64,
    packet: Bytes,
}

/// One direction of an impaired link on a virtual clock.
#[derive(Debug)]
pub struct Link {
    config: Impairment,
    rng: SplitMix64,
    queue: BinaryHeap<Reverse<Pending>>,
    /// When the rate-limited link finishes sending what it already accepted.
    busy_until: Duration,
    /// Bytes accepted but not yet through the rate limit, with their exit times.
    backlog: std::collections::VecDeque<(Duration, usize)>,
    backlog_bytes: usize,
    /// Payload bytes of the packets in `queue` (a duplicate counts twice).
    queued_bytes: usize,
    order: u64,
    counters: Counters,
}

impl Link {
    /// A link applying `config` (validate it first).
    pub fn new(config: Impairment) -> Self {
        Self {
            rng: SplitMix64::new(config.seed),
            config,
            queue: BinaryHeap::new(),
            busy_until: Duration::ZERO,
            backlog: std::collections::VecDeque::new(),
            backlog_bytes: 0,
            queued_bytes: 0,
            order: 0,
            counters: Counters::default(),
        }
    }

    /// What the link did so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The recipe this link applies.
    pub fn config(&self) -> &Impairment {
        &self.config
    }

    /// A packet enters the link at time `now`.
    pub fn send(&mut self, now: Duration, packet: Bytes) {
        self.counters.received += 1;

        // 1. Rate limit: wait behind what is already being sent; tail-drop when full.
        let mut leaves_at = now;
        if let Some(rate) = self.config.rate {
            while self.backlog.front().is_some_and(|&(t, _)| t <= now) {
                let (_, n) = self.backlog.pop_front().expect("checked");
                self.backlog_bytes -= n;
            }
            if self.backlog_bytes + packet.len() > self.config.queue_limit {
                self.counters.overflowed += 1;
                return;
            }
            let start = self.busy_until.max(now);
            let serialise = Duration::from_secs_f64(packet.len() as f64 / rate as f64);
            leaves_at = start + serialise;
            self.busy_until = leaves_at;
            self.backlog.push_back((leaves_at, packet.len()));
            self.backlog_bytes += packet.len();
        }

        // 2. Loss.
        if self.rng.chance(self.config.loss) {
            self.counters.lost += 1;
            return;
        }

        // 3. Corruption: flip one bit.
        let packet = if !packet.is_empty() && self.rng.chance(self.config.corrupt) {
            self.counters.corrupted += 1;
            let mut bytes = BytesMut::from(&packet[..]);
            let bit = self.rng.below(packet.len() as u64 * 8);
            bytes[(bit / 8) as usize] ^= 1 << (bit % 8);
            bytes.freeze()
        } else {
            packet
        };

        // 4. Delay ± jitter, 5. reordering.
        let mut due = leaves_at + self.one_way_delay();
        if self.rng.chance(self.config.reorder) {
            self.counters.reordered += 1;
            due += self.config.reorder_hold;
        }

        // 6. Duplication: a second copy right behind the first.
        if self.rng.chance(self.config.duplicate) {
            self.counters.duplicated += 1;
            self.schedule(due, packet.clone());
        }
        self.schedule(due, packet);
    }

    fn one_way_delay(&mut self) -> Duration {
        let jitter = self.config.jitter.as_nanos() as u64;
        if jitter == 0 {
            return self.config.delay;
        }
        // Uniform in [delay - jitter, delay + jitter], never below zero.
        let offset = self.rng.below(2 * jitter + 1) as i128 - jitter as i128;
        let nanos = (self.config.delay.as_nanos() as i128 + offset).max(0);
        Duration::from_nanos(nanos as u64)
    }

    /// A packet arrived but whoever holds the link had no room to keep it
    /// (a relay at its memory limit): it counts as received and dropped at
    /// the tail (`overflowed`), as a full router queue drops it.
    pub fn overflow(&mut self) {
        self.counters.received += 1;
        self.counters.overflowed += 1;
    }

    fn schedule(&mut self, due: Duration, packet: Bytes) {
        self.order += 1;
        self.queued_bytes += packet.len();
        self.queue.push(Reverse(Pending {
            due,
            order: self.order,
            packet,
        }));
    }

    /// The next packet whose delivery time has come by `now`, if any.
    pub fn receive(&mut self, now: Duration) -> Option<Bytes> {
        if self.queue.peek()?.0.due > now {
            return None;
        }
        let Reverse(p) = self.queue.pop()?;
        self.queued_bytes -= p.packet.len();
        self.counters.delivered += 1;
        self.counters.bytes_delivered += p.packet.len() as u64;
        Some(p.packet)
    }

    /// When the next packet is due, so a relay knows how long it may sleep.
    pub fn next_due(&self) -> Option<Duration> {
        self.queue.peek().map(|p| p.0.due)
    }

    /// Packets still inside the link.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// Payload bytes still inside the link (a duplicated packet counts twice):
    /// what the link costs in memory, besides its bookkeeping.
    pub fn bytes_in_flight(&self) -> usize {
        self.queued_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn packet(i: u32) -> Bytes {
        Bytes::from(i.to_be_bytes().to_vec())
    }

    /// Sends `n` numbered packets 1 ms apart and drains everything; returns the numbers delivered.
    fn run(config: Impairment, n: u32) -> (Vec<u32>, Counters) {
        let mut link = Link::new(config);
        for i in 0..n {
            link.send(ms(i as u64), packet(i));
        }
        let mut out = Vec::new();
        while let Some(p) = link.receive(Duration::MAX) {
            out.push(u32::from_be_bytes(p[..].try_into().unwrap()));
        }
        (out, link.counters())
    }

    #[test]
    fn a_perfect_link_delivers_everything_in_order_at_once() {
        let mut link = Link::new(Impairment::default());
        link.send(ms(5), packet(1));
        assert_eq!(link.next_due(), Some(ms(5)));
        assert_eq!(link.receive(ms(5)), Some(packet(1)));
        assert_eq!(link.receive(ms(5)), None);
    }

    #[test]
    fn delay_holds_each_packet_exactly_that_long() {
        let mut link = Link::new(Impairment {
            delay: ms(20),
            ..Impairment::default()
        });
        link.send(ms(0), packet(1));
        link.send(ms(3), packet(2));
        assert_eq!(link.receive(ms(19)), None);
        assert_eq!(link.receive(ms(20)), Some(packet(1)));
        assert_eq!(link.receive(ms(22)), None);
        assert_eq!(link.receive(ms(23)), Some(packet(2)));
    }

    #[test]
    fn loss_drops_about_that_share_and_the_seed_fixes_which() {
        let cfg = Impairment {
            loss: 0.1,
            seed: 42,
            ..Impairment::default()
        };
        let (a, ca) = run(cfg.clone(), 20_000);
        let (b, _) = run(cfg, 20_000);
        assert_eq!(a, b, "same seed, same fate");
        assert_eq!(ca.lost + ca.delivered, 20_000);
        assert!((1_800..2_200).contains(&ca.lost), "{ca:?}");
        assert!(
            a.windows(2).all(|w| w[0] < w[1]),
            "loss alone never reorders"
        );
        let (c, _) = run(
            Impairment {
                loss: 0.1,
                seed: 43,
                ..Impairment::default()
            },
            20_000,
        );
        assert_ne!(a, c, "another seed drops other packets");
    }

    #[test]
    fn duplicates_arrive_twice_and_are_counted() {
        let (out, c) = run(
            Impairment {
                duplicate: 0.2,
                seed: 1,
                ..Impairment::default()
            },
            5_000,
        );
        assert_eq!(out.len() as u64, 5_000 + c.duplicated);
        assert_eq!(c.delivered, out.len() as u64);
        let twice = out.windows(2).filter(|w| w[0] == w[1]).count() as u64;
        assert_eq!(twice, c.duplicated, "each copy right behind its original");
        assert!((800..1_200).contains(&c.duplicated), "{c:?}");
    }

    #[test]
    fn reordered_packets_are_overtaken_by_later_ones() {
        let (out, c) = run(
            Impairment {
                reorder: 0.05,
                reorder_hold: ms(3),
                seed: 9,
                ..Impairment::default()
            },
            2_000,
        );
        assert_eq!(out.len(), 2_000, "reordering loses nothing");
        let mut sorted = out.clone();
        sorted.sort();
        assert_eq!(sorted, (0..2_000).collect::<Vec<_>>());
        let late = out.windows(2).filter(|w| w[0] > w[1]).count() as u64;
        assert!(
            late > 0 && late <= c.reordered * 3,
            "{late} inversions, {c:?}"
        );
    }

    #[test]
    fn corruption_flips_exactly_one_bit() {
        let mut link = Link::new(Impairment {
            corrupt: 1.0,
            seed: 3,
            ..Impairment::default()
        });
        let original = Bytes::from(vec![0u8; 100]);
        link.send(ms(0), original.clone());
        let got = link.receive(ms(0)).unwrap();
        let flipped: u32 = got.iter().map(|b| b.count_ones()).sum();
        assert_eq!(flipped, 1);
        assert_eq!(link.counters().corrupted, 1);
    }

    #[test]
    fn the_rate_limit_spaces_packets_by_their_size() {
        // 1000 bytes/s: a 100-byte packet takes 100 ms to send.
        let mut link = Link::new(Impairment {
            rate: Some(1000),
            ..Impairment::default()
        });
        let p = Bytes::from(vec![1u8; 100]);
        link.send(ms(0), p.clone());
        link.send(ms(0), p.clone());
        link.send(ms(250), p.clone());
        assert_eq!(link.next_due(), Some(ms(100)));
        assert!(link.receive(ms(100)).is_some());
        assert_eq!(
            link.next_due(),
            Some(ms(200)),
            "the second waited behind the first"
        );
        assert!(link.receive(ms(200)).is_some());
        assert_eq!(
            link.next_due(),
            Some(ms(350)),
            "the third found the link idle"
        );
    }

    #[test]
    fn a_full_queue_drops_the_tail() {
        let mut link = Link::new(Impairment {
            rate: Some(1000),
            queue_limit: 250,
            ..Impairment::default()
        });
        for _ in 0..4 {
            link.send(ms(0), Bytes::from(vec![0u8; 100]));
        }
        assert_eq!(
            link.counters().overflowed,
            2,
            "only 2 × 100 bytes fit in 250"
        );
        // Once the first has left (100 ms), there is room again.
        link.send(ms(100), Bytes::from(vec![0u8; 100]));
        assert_eq!(link.counters().overflowed, 2);
    }

    #[test]
    fn bytes_in_flight_follow_packets_in_and_out() {
        let mut link = Link::new(Impairment {
            delay: ms(10),
            duplicate: 1.0,
            ..Impairment::default()
        });
        link.send(ms(0), Bytes::from(vec![0u8; 100]));
        link.send(ms(1), Bytes::from(vec![0u8; 30]));
        assert_eq!(
            link.bytes_in_flight(),
            2 * 100 + 2 * 30,
            "a copy counts too"
        );
        assert!(link.receive(ms(10)).is_some());
        assert_eq!(link.bytes_in_flight(), 100 + 2 * 30);
        while link.receive(ms(11)).is_some() {}
        assert_eq!(link.bytes_in_flight(), 0);
    }

    #[test]
    fn overflow_counts_a_packet_received_and_dropped() {
        let mut link = Link::new(Impairment::default());
        link.overflow();
        let c = link.counters();
        assert_eq!((c.received, c.overflowed, c.delivered), (1, 1, 0));
        assert_eq!(link.in_flight(), 0);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let mut link = Link::new(Impairment {
            delay: ms(20),
            jitter: ms(5),
            seed: 5,
            ..Impairment::default()
        });
        for i in 0..1000 {
            link.send(ms(0), packet(i));
        }
        let mut dues = Vec::new();
        while let Some(d) = link.next_due() {
            dues.push(d);
            link.receive(d);
        }
        assert!(dues.iter().all(|d| (ms(15)..=ms(25)).contains(d)));
        assert!(dues.iter().any(|d| *d < ms(17)) && dues.iter().any(|d| *d > ms(23)));
    }

    #[test]
    fn invalid_settings_are_refused_with_the_rule() {
        let bad = Impairment {
            loss: 1.5,
            ..Impairment::default()
        };
        assert_eq!(
            bad.validate(),
            Err(ImpairmentError::ProbabilityOutOfRange {
                name: "loss",
                value: 1.5
            })
        );
        let zero = Impairment {
            rate: Some(0),
            ..Impairment::default()
        };
        assert_eq!(zero.validate(), Err(ImpairmentError::ZeroRate));
    }
}
