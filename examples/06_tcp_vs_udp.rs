//! Lesson 06: the same workload over TCP and UDP, through the same lossy wire.
//!
//! Run: `cargo run --example 06_tcp_vs_udp`
//!
//! Two user-space TCP/IP stacks send 500 messages over a simulated wire that
//! drops 5% of packets each way. UDP loses about 25 of them; TCP loses none,
//! retransmits, and pays in latency. Deterministic: the seed fixes every loss.

use netlab::lab::scenario::{simulate, Scenario};
use netlab::lab::show::print_report;
use netlab::lab::Workload;
use netlab::link::Impairment;
use std::time::Duration;

fn main() {
    let workload = Workload {
        count: 500,
        size: 200,
        rate: 1000,
    };
    let wire = Impairment {
        loss: 0.05,
        delay: Duration::from_millis(10),
        seed: 1,
        ..Impairment::default()
    };
    let report = simulate(Scenario::LossyWire, &workload, wire, false);
    print_report(&report, true);
}
