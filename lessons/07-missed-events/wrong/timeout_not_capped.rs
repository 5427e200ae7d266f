//! Mistake: each timeout doubles the RTO without the `config.max` cap, so a long outage makes the wait grow without bound.
//! Caught by: never above the max of 5 s

pub use netlab::reliable::{Offer, ReorderBuffer, RtoConfig};
use std::time::Duration;

pub struct RtoEstimator {
    pub config: RtoConfig,
    pub srtt: Option<Duration>,
    pub rttvar: Duration,
    pub rto: Duration,
}

impl RtoEstimator {
    pub fn new(config: RtoConfig) -> Self {
        let rto = config.initial.clamp(config.min, config.max);
        RtoEstimator {
            config,
            srtt: None,
            rttvar: Duration::ZERO,
            rto,
        }
    }

    pub fn rto(&self) -> Duration {
        self.rto
    }

    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }

    pub fn on_sample(&mut self, r: Duration) {
        let srtt = match self.srtt {
            None => {
                self.rttvar = r / 2;
                r
            }
            Some(srtt) => {
                let deviation = if srtt > r { srtt - r } else { r - srtt };
                self.rttvar = (self.rttvar * 3 + deviation) / 4;
                (srtt * 7 + r) / 8
            }
        };
        self.srtt = Some(srtt);
        self.rto = (srtt + self.config.granularity.max(self.rttvar * 4))
            .clamp(self.config.min, self.config.max);
    }

    pub fn on_timeout(&mut self) {
        self.rto *= 2; // should be (self.rto * 2).min(self.config.max)
    }
}
