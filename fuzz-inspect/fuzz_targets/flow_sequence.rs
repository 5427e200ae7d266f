//! A sequence of packets through one Dissector, so flow state (HTTP upgrade →
//! WebSocket → Socket.IO) is exercised with hostile input. Packets are split
//! at 0xff 0xfe markers.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netlab::inspect::dissect::{Dissection, Dissector};
use netlab::inspect::LinkType;

fuzz_target!(|data: &[u8]| {
    let mut dis = Dissector::new();
    let mut d = Dissection::default();
    for packet in data.split(|&b| b == 0xff).take(64) {
        dis.dissect(LinkType::Raw, packet, &mut d);
        for n in &d.nodes {
            assert!(n.range.end <= packet.len());
        }
    }
});
