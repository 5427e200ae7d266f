//! A whole transfer on a virtual clock, through two impaired [`Link`]s.
//!
//! The sender's datagrams go through `forward`, the receiver's ACKs come back
//! through `backward`; time jumps straight to the next event (a datagram due
//! or the retransmission timer), so a transfer that would take seconds on a
//! real network runs in microseconds and is exactly reproducible from the seeds.

use super::receiver::{Receiver, ReceiverStats};
use super::sender::{Sender, SenderConfig, SenderStats};
use crate::link::{Counters, Impairment, Link};
use bytes::Bytes;
use serde::Serialize;
use std::time::Duration;

/// What happened in one simulated transfer.
#[derive(Debug, Clone, Serialize)]
pub struct SimReport {
    /// The bytes the receiver delivered, in order.
    #[serde(skip)]
    pub delivered: Vec<u8>,
    /// True when the sender saw everything acknowledged before `limit`.
    pub completed: bool,
    /// Virtual time from the first datagram to the last ack (or to `limit`).
    pub elapsed: Duration,
    /// The sender's counters.
    pub sender: SenderStats,
    /// The receiver's counters.
    pub receiver: ReceiverStats,
    /// What the sender → receiver link did.
    pub forward: Counters,
    /// What the receiver → sender link did.
    pub backward: Counters,
}

/// Sends `data` through `forward`/`backward` until done or until virtual time `limit`.
pub fn transfer(
    data: Bytes,
    config: SenderConfig,
    forward: Impairment,
    backward: Impairment,
    limit: Duration,
) -> SimReport {
    let mut sender = Sender::new(data, config);
    let mut receiver = Receiver::new(config.window);
    let (mut fwd, mut back) = (Link::new(forward), Link::new(backward));
    let mut delivered = Vec::new();
    let mut now = Duration::ZERO;
    while !sender.is_done() {
        sender.on_timeout(now);
        // Settle everything that can happen at this instant.
        loop {
            let mut progressed = false;
            while let Some(d) = sender.poll_transmit(now) {
                fwd.send(now, d);
                progressed = true;
            }
            while let Some(d) = fwd.receive(now) {
                if let Ok(ack) = receiver.on_datagram(&d) {
                    back.send(now, ack);
                }
                progressed = true;
            }
            while let Some(d) = back.receive(now) {
                let _ = sender.on_datagram(now, &d);
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        delivered.extend(receiver.take_delivered());
        if sender.is_done() {
            break;
        }
        let next = [fwd.next_due(), back.next_due(), sender.deadline()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(t) if t <= limit => now = now.max(t),
            _ => {
                now = limit;
                break;
            }
        }
    }
    SimReport {
        delivered,
        completed: sender.is_done(),
        elapsed: now,
        sender: sender.stats(),
        receiver: receiver.stats(),
        forward: fwd.counters(),
        backward: back.counters(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reliable::RtoConfig;
    use pretty_assertions::assert_eq;
    use proptest::prelude::*;

    fn stream(len: usize, seed: u64) -> Bytes {
        // Bytes that differ segment by segment, so a misplaced one shows.
        let mut rng = crate::link::rng::SplitMix64::new(seed);
        (0..len)
            .map(|_| rng.next_u64() as u8)
            .collect::<Vec<u8>>()
            .into()
    }

    fn wire(loss: f64, seed: u64) -> Impairment {
        Impairment {
            loss,
            delay: Duration::from_millis(10),
            seed,
            ..Impairment::default()
        }
    }

    #[test]
    fn a_perfect_link_sends_each_segment_once() {
        let data = stream(10_000, 1);
        let r = transfer(
            data.clone(),
            SenderConfig::default(),
            wire(0.0, 1),
            wire(0.0, 2),
            Duration::from_secs(60),
        );
        assert!(r.completed);
        assert_eq!(r.delivered, data);
        // 10 000 bytes / 1200 = 9 segments, plus the FIN.
        assert_eq!(
            (
                r.sender.segments,
                r.sender.datagrams_sent,
                r.sender.retransmissions
            ),
            (10, 10, 0)
        );
        // Everything fits the window: one round trip of 20 ms.
        assert_eq!(r.elapsed, Duration::from_millis(20));
        assert_eq!(r.receiver.duplicates, 0);
    }

    #[test]
    fn a_dead_link_gives_up_at_the_limit_with_backoff() {
        let dead = Impairment {
            loss: 1.0,
            ..Impairment::default()
        };
        let config = SenderConfig {
            rto: RtoConfig::RFC_6298,
            ..SenderConfig::default()
        };
        let r = transfer(
            stream(100, 1),
            config,
            dead.clone(),
            dead,
            Duration::from_secs(60),
        );
        assert!(!r.completed);
        assert!(r.delivered.is_empty());
        // Timer fires at 1, 1+2, 3+4, 7+8, 15+16, 31+32 = 63 > 60: five timeouts by 60 s.
        assert_eq!(r.sender.timeouts, 5);
    }

    #[test]
    fn twenty_percent_loss_each_way_costs_retransmissions_not_bytes() {
        let data = stream(200_000, 3);
        let r = transfer(
            data.clone(),
            SenderConfig::default(),
            wire(0.2, 5),
            wire(0.2, 6),
            Duration::from_secs(3600),
        );
        assert!(r.completed);
        assert_eq!(r.delivered, data);
        assert!(r.forward.lost > 0 && r.backward.lost > 0);
        // Every lost data segment had to be sent again at least once.
        assert!(r.sender.retransmissions >= r.forward.lost.min(r.sender.segments));
        assert!(
            r.sender.fast_retransmits > 0,
            "most losses are repaired without waiting for the timer"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn any_seeded_bad_network_delivers_the_exact_stream(
            len in 0usize..40_000,
            mss in 1usize..1500,
            window in 1u64..64,
            loss_pct in 0u32..=30,
            dup_pct in 0u32..=20,
            reorder_pct in 0u32..=30,
            delay_ms in 0u64..30,
            jitter_ms in 0u64..20,
            seed in any::<u64>(),
        ) {
            let data = stream(len, seed);
            let bad = |seed| Impairment {
                loss: f64::from(loss_pct) / 100.0,
                duplicate: f64::from(dup_pct) / 100.0,
                reorder: f64::from(reorder_pct) / 100.0,
                delay: Duration::from_millis(delay_ms),
                jitter: Duration::from_millis(jitter_ms),
                seed,
                ..Impairment::default()
            };
            let config = SenderConfig { mss, window, rto: RtoConfig::LAN };
            let r = transfer(data.clone(), config, bad(seed), bad(seed ^ 0x9e37), Duration::from_secs(24 * 3600));
            prop_assert!(r.completed, "gave up: {:?}", r.sender);
            prop_assert_eq!(&r.delivered[..], &data[..]);
            // Every datagram the sender sent is a first copy or a counted retransmission.
            prop_assert_eq!(r.sender.datagrams_sent, r.sender.segments + r.sender.retransmissions);
            if loss_pct == 0 && dup_pct == 0 && reorder_pct == 0 && jitter_ms == 0 {
                // A clean wire with an RTT far below the 200 ms minimum RTO: nothing resent.
                prop_assert_eq!(r.sender.retransmissions, 0);
            }
        }
    }
}
