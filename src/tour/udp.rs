//! Tour step for lessons 05–06: the same lossy wire, UDP loses, TCP does not.

use super::{explain, ok, say, TourError};
use crate::lab::sim;
use crate::lab::Workload;
use crate::link::Impairment;
use crate::udp::ReceiveTracker;
use std::time::Duration;

/// Runs both transports over a simulated wire that drops 10% of packets each way.
pub async fn lossy_wire() -> Result<(), TourError> {
    let workload = Workload {
        count: 200,
        size: 100,
        rate: 1000,
    };
    let wire = Impairment {
        loss: 0.10,
        delay: Duration::from_millis(10),
        seed: 2,
        ..Impairment::default()
    };
    say(format!(
        "two user-space TCP/IP stacks (smoltcp), a simulated wire: {}",
        wire.describe()
    ));
    let (udp, tcp) = tokio::task::spawn_blocking(move || {
        (
            sim::run_udp(&workload, &wire, &mut |_| {}),
            sim::run_tcp(&workload, &wire, &mut |_| {}),
        )
    })
    .await
    .map_err(|e| TourError::Unexpected(format!("the simulation failed: {e}")))?;

    // Replay UDP's arrivals through a receiver's tracker, as a chat client would show them.
    let mut tracker = ReceiveTracker::new();
    let gaps: Vec<String> = udp
        .timeline
        .iter()
        .map(|&(_, seq)| tracker.on_arrival(seq))
        .filter(|a| !a.is_new() || matches!(a, crate::udp::Arrival::AfterGap { .. }))
        .map(|a| a.to_string())
        .collect();
    for line in gaps.iter().take(3) {
        say(format!("UDP receiver: {line}"));
    }
    if udp.lost == 0 {
        return Err(TourError::Unexpected(
            "UDP lost nothing through a 10% lossy wire".into(),
        ));
    }
    ok(format!(
        "UDP: {} of {} messages arrived, {} lost for good",
        udp.delivered, udp.sent, udp.lost
    ));
    let in_order = tcp.timeline.iter().map(|p| p.1).eq(0..workload.count);
    if tcp.lost != 0 || !in_order {
        return Err(TourError::Unexpected(format!(
            "TCP lost {} messages or delivered them out of order",
            tcp.lost
        )));
    }
    ok(format!(
        "TCP: all {} arrived, in order, after {} retransmissions (p99 latency {} ms vs UDP's {} ms)",
        tcp.delivered,
        tcp.retransmissions.unwrap_or(0),
        tcp.p99_latency_us.unwrap_or(0) / 1000,
        udp.p99_latency_us.unwrap_or(0) / 1000
    ));
    explain("see it yourself: netlab compare (and netlab compare --real as root, with the kernel's TCP)");
    Ok(())
}
