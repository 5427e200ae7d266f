//! Any bytes under every link type the inspector reads (the first byte picks it).
#![no_main]
use libfuzzer_sys::fuzz_target;
use netlab::inspect::{dissect, LinkType};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let link = match pick % 7 {
        0 => LinkType::Ethernet,
        1 => LinkType::Raw,
        2 => LinkType::LinuxSll,
        3 => LinkType::LinuxSll2,
        4 => LinkType::Null,
        5 => LinkType::Loop,
        _ => LinkType::Ipv6,
    };
    let d = dissect(link, rest);
    for n in &d.nodes {
        assert!(n.range.end <= rest.len());
    }
    let _ = netlab::inspect::render::to_json(&d, rest, &Default::default());
});
