//! The four experiments `netlab compare` runs, and how one runs on the
//! simulated wire (lesson 06).

use super::progress::Progress;
use super::report::{ScenarioReport, Workload};
use super::sim;
use crate::link::Impairment;
use std::str::FromStr;

/// The named scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Packets dropped on the path (both directions).
    LossyWire,
    /// The receiver reads slowly: UDP overflows its buffer, TCP slows the sender.
    SlowReceiver,
    /// Some packets overtaken by later ones.
    Reordering,
    /// Some packets delivered twice.
    Duplication,
}

impl Scenario {
    /// Every scenario, in the order `netlab compare` runs them.
    pub const ALL: [Scenario; 4] = [
        Scenario::LossyWire,
        Scenario::SlowReceiver,
        Scenario::Reordering,
        Scenario::Duplication,
    ];

    /// The scenario's name as typed and shown.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::LossyWire => "lossy-wire",
            Scenario::SlowReceiver => "slow-receiver",
            Scenario::Reordering => "reordering",
            Scenario::Duplication => "duplication",
        }
    }

    /// One line on what the scenario does to the traffic.
    pub fn description(self) -> &'static str {
        match self {
            Scenario::LossyWire => "Packets dropped on the path (both directions)",
            Scenario::SlowReceiver => {
                "The receiver reads slowly: UDP overflows its buffer, TCP slows the sender"
            }
            Scenario::Reordering => "Some packets overtaken by later ones",
            Scenario::Duplication => "Some packets delivered twice",
        }
    }
}

/// A name that is not one of [`Scenario::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scenario `{0}`: use lossy-wire, slow-receiver, reordering or duplication")]
pub struct UnknownScenario(pub String);

impl FromStr for Scenario {
    type Err = UnknownScenario;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| UnknownScenario(name.to_string()))
    }
}

/// Runs one scenario on the simulated wire, both transports.
pub fn simulate(sc: Scenario, w: &Workload, imp: Impairment, show: bool) -> ScenarioReport {
    let mut p = Progress::new(format!("{}: TCP", sc.name()), show);
    let tcp = sim::run_tcp(w, &imp, &mut |f| p.update(f));
    p.finish();
    let mut p = Progress::new(format!("{}: UDP", sc.name()), show);
    let udp = sim::run_udp(w, &imp, &mut |f| p.update(f));
    p.finish();
    let mut p = Progress::new(format!("{}: reliable UDP", sc.name()), show);
    let reliable = sim::run_reliable(w, &imp, &mut |f| p.update(f));
    p.finish();
    ScenarioReport {
        scenario: sc.name(),
        stack: "smoltcp user-space TCP/IP on a simulated wire (virtual clock)".into(),
        impairment: format!("{}, each direction", imp.describe()),
        workload: *w,
        tcp,
        udp,
        reliable: Some(reliable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_scenario() {
        for s in Scenario::ALL {
            assert_eq!(s.name().parse(), Ok(s));
        }
        assert_eq!(
            "lossy".parse::<Scenario>(),
            Err(UnknownScenario("lossy".into()))
        );
    }
}
