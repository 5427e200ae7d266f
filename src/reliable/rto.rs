//! The retransmission timeout, estimated from measured round trips (RFC 6298).
//!
//! Wait too little and the sender resends data that was only slow, wasting
//! the network; wait too long and a loss stalls the stream. RFC 6298 keeps two
//! running averages of the round-trip time `R` and waits for "the average plus
//! four deviations":
//!
//! - §2.1 before any measurement, `RTO = 1 s`;
//! - §2.2 first measurement: `SRTT = R`, `RTTVAR = R/2`;
//! - §2.3 later ones: `RTTVAR = 3/4·RTTVAR + 1/4·|SRTT − R|` (with the *old*
//!   SRTT), then `SRTT = 7/8·SRTT + 1/8·R`;
//! - both: `RTO = SRTT + max(G, 4·RTTVAR)`, G being the clock granularity;
//! - §2.4/§2.5 the RTO is kept between a minimum (1 s in the RFC) and a maximum (≥ 60 s);
//! - §5.5 each time the timer fires, the RTO doubles (exponential backoff).
//!
//! Karn's rule (§3) — never measure a segment that was retransmitted, because
//! its ack cannot say which copy it answers — is the caller's job: see
//! [`super::sender`].

use std::time::Duration;

/// §2.3: SRTT moves 1/8 of the way towards each new sample (α = 1/8).
pub const ALPHA_DENOMINATOR: u32 = 8;
/// §2.3: RTTVAR moves 1/4 of the way towards each new deviation (β = 1/4).
pub const BETA_DENOMINATOR: u32 = 4;
/// §2.2: the RTO is SRTT plus K deviations, K = 4.
pub const K: u32 = 4;

/// The bounds and starting point of an [`RtoEstimator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtoConfig {
    /// RTO before any round trip was measured (§2.1: 1 s).
    pub initial: Duration,
    /// Smallest RTO (§2.4: 1 s; Linux uses 200 ms).
    pub min: Duration,
    /// Largest RTO, also the cap of the backoff (§2.5: at least 60 s).
    pub max: Duration,
    /// Clock granularity G: the RTO is at least this much above SRTT.
    pub granularity: Duration,
}

impl RtoConfig {
    /// Exactly RFC 6298's values: initial and minimum 1 s, maximum 60 s, G = 1 ms.
    pub const RFC_6298: RtoConfig = RtoConfig {
        initial: Duration::from_secs(1),
        min: Duration::from_secs(1),
        max: Duration::from_secs(60),
        granularity: Duration::from_millis(1),
    };

    /// For short paths (loopback, a LAN, the lab's simulated wire): Linux's
    /// 200 ms minimum instead of 1 s, so one loss does not stall for a second.
    pub const LAN: RtoConfig = RtoConfig {
        initial: Duration::from_secs(1),
        min: Duration::from_millis(200),
        max: Duration::from_secs(60),
        granularity: Duration::from_millis(1),
    };
}

impl Default for RtoConfig {
    /// [`RtoConfig::LAN`]: netlab runs on short paths.
    fn default() -> Self {
        RtoConfig::LAN
    }
}

/// SRTT, RTTVAR and the current RTO of one connection.
#[derive(Debug, Clone)]
pub struct RtoEstimator {
    config: RtoConfig,
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
}

impl RtoEstimator {
    /// An estimator that has measured nothing yet (RTO = `config.initial`).
    pub fn new(config: RtoConfig) -> Self {
        Self {
            config,
            srtt: None,
            rttvar: Duration::ZERO,
            rto: config.initial.clamp(config.min, config.max),
        }
    }

    /// How long to wait for an ack before retransmitting.
    pub fn rto(&self) -> Duration {
        self.rto
    }

    /// The smoothed round-trip time; `None` before the first measurement.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// The round-trip time variation.
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }

    /// Undoes the backoff: RTO from SRTT and RTTVAR again (or the initial RTO).
    ///
    /// RFC 6298 keeps a backed-off RTO until a fresh measurement arrives. On a
    /// path that loses many retransmissions no measurement comes (Karn's rule),
    /// and the wait doubles again and again; Linux therefore also undoes the
    /// backoff when an ack acknowledges new data. [`super::Sender`] does the same.
    pub fn reset_backoff(&mut self) {
        self.rto = match self.srtt {
            Some(srtt) => srtt + self.config.granularity.max(self.rttvar * K),
            None => self.config.initial,
        }
        .clamp(self.config.min, self.config.max);
    }

    /// Takes one round-trip measurement `r` (§2.2 for the first, §2.3 after).
    pub fn on_sample(&mut self, r: Duration) {
        let srtt = match self.srtt {
            None => {
                self.rttvar = r / 2;
                r
            }
            Some(srtt) => {
                let deviation = if srtt > r { srtt - r } else { r - srtt };
                self.rttvar = (self.rttvar * (BETA_DENOMINATOR - 1) + deviation) / BETA_DENOMINATOR;
                (srtt * (ALPHA_DENOMINATOR - 1) + r) / ALPHA_DENOMINATOR
            }
        };
        self.srtt = Some(srtt);
        let rto = srtt + self.config.granularity.max(self.rttvar * K);
        self.rto = rto.clamp(self.config.min, self.config.max);
    }

    /// The timer fired: double the RTO, up to the maximum (§5.5).
    pub fn on_timeout(&mut self) {
        self.rto = (self.rto * 2).min(self.config.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const NO_BOUNDS: RtoConfig = RtoConfig {
        initial: Duration::from_secs(1),
        min: Duration::ZERO,
        max: Duration::from_secs(60),
        granularity: Duration::from_millis(1),
    };
    const fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }
    const fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn before_any_sample_the_rto_is_one_second() {
        assert_eq!(RtoEstimator::new(RtoConfig::RFC_6298).rto(), ms(1000));
        assert_eq!(RtoEstimator::new(NO_BOUNDS).srtt(), None);
    }

    #[test]
    fn three_samples_worked_by_hand() {
        let mut e = RtoEstimator::new(NO_BOUNDS);
        // §2.2, R = 100 ms: SRTT = 100, RTTVAR = 50, RTO = 100 + 4·50 = 300 ms.
        e.on_sample(ms(100));
        assert_eq!(
            (e.srtt(), e.rttvar(), e.rto()),
            (Some(ms(100)), ms(50), ms(300))
        );
        // §2.3, R = 200 ms: RTTVAR = 3/4·50 + 1/4·|100−200| = 62.5,
        // SRTT = 7/8·100 + 1/8·200 = 112.5, RTO = 112.5 + 250 = 362.5 ms.
        e.on_sample(ms(200));
        assert_eq!(
            (e.srtt(), e.rttvar(), e.rto()),
            (Some(us(112_500)), us(62_500), us(362_500))
        );
        // R = 100 ms: RTTVAR = 3/4·62.5 + 1/4·12.5 = 50,
        // SRTT = 7/8·112.5 + 1/8·100 = 110.9375, RTO = 310.9375 ms.
        e.on_sample(ms(100));
        assert_eq!(
            (e.srtt(), e.rttvar(), e.rto()),
            (
                Some(Duration::from_nanos(110_937_500)),
                ms(50),
                Duration::from_nanos(310_937_500)
            )
        );
    }

    #[test]
    fn rttvar_uses_the_old_srtt() {
        // If SRTT were updated first, RTTVAR would be 3/4·50 + 1/4·|112.5−200| = 59.375.
        let mut e = RtoEstimator::new(NO_BOUNDS);
        e.on_sample(ms(100));
        e.on_sample(ms(200));
        assert_eq!(e.rttvar(), us(62_500));
    }

    #[test]
    fn a_steady_path_keeps_at_least_the_granularity_above_srtt() {
        let mut e = RtoEstimator::new(NO_BOUNDS);
        for _ in 0..200 {
            e.on_sample(ms(10));
        }
        // RTTVAR decays towards 0, so 4·RTTVAR < G = 1 ms: RTO = SRTT + G.
        assert!(e.rttvar() < us(250));
        assert_eq!(e.rto(), ms(11));
    }

    #[test]
    fn the_minimum_and_maximum_hold() {
        // §2.4: 10 ms + 4·5 ms = 30 ms, rounded up to the 1 s minimum.
        let mut e = RtoEstimator::new(RtoConfig::RFC_6298);
        e.on_sample(ms(10));
        assert_eq!(e.rto(), ms(1000));
        // §2.5: 40 s + 4·20 s = 120 s, capped at 60 s.
        e = RtoEstimator::new(RtoConfig::RFC_6298);
        e.on_sample(Duration::from_secs(40));
        assert_eq!(e.rto(), Duration::from_secs(60));
    }

    #[test]
    fn each_timeout_doubles_up_to_the_maximum() {
        let mut e = RtoEstimator::new(RtoConfig::RFC_6298);
        let mut seen = Vec::new();
        for _ in 0..8 {
            e.on_timeout();
            seen.push(e.rto().as_secs());
        }
        assert_eq!(seen, vec![2, 4, 8, 16, 32, 60, 60, 60]);
        // A fresh measurement replaces the backed-off value (§5.7's "recompute").
        e.on_sample(ms(100));
        assert_eq!(e.rto(), ms(1000));
    }

    #[test]
    fn reset_backoff_goes_back_to_the_estimate() {
        let mut e = RtoEstimator::new(NO_BOUNDS);
        e.reset_backoff();
        assert_eq!(e.rto(), ms(1000), "no sample yet: the initial RTO");
        e.on_sample(ms(100));
        e.on_timeout();
        e.on_timeout();
        assert_eq!(e.rto(), ms(1200));
        e.reset_backoff();
        assert_eq!(e.rto(), ms(300), "SRTT 100 + 4 · RTTVAR 50");
    }
}
