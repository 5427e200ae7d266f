//! Any bytes as an Ethernet frame: the dissection must not panic, every node's
//! range must lie inside the packet, and every value must render.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netlab::inspect::{dissect, LinkType};

fuzz_target!(|data: &[u8]| {
    let d = dissect(LinkType::Ethernet, data);
    for n in &d.nodes {
        assert!(n.range.start <= n.range.end && n.range.end <= data.len());
        let _ = n.value.display(data);
    }
    let _ = netlab::inspect::render::hex_dump(&d, data);
});
