//! Mistake: polls are refused as soon as the probe starts, though the client's waiting GET must still be answered (with a noop) and its POSTs still carry packets until `5`.
//! Caught by: polls go on while probing

pub use netlab::web::engineio::{decode_payload, encode_payload};
use netlab::web::engineio::{TransportEvent, Upgrade, UpgradeStep};

pub fn upgrade_step(state: Upgrade, event: TransportEvent) -> UpgradeStep {
    use TransportEvent::*;
    use Upgrade::*;
    match (state, event) {
        (Polling, Poll) => UpgradeStep::Ok(Polling),
        (Polling, Probe) => UpgradeStep::Ok(Probing),
        (Probing, UpgradePacket) => UpgradeStep::Ok(Upgraded),
        (Probing, ProbeFailed) => UpgradeStep::Ok(Polling),
        _ => UpgradeStep::Refuse, // (Probing, Poll) falls in here
    }
}
