//! Lesson 11: every byte of a real packet, labelled with its layer.
//!
//! Run: `cargo run --example 11_inspect [FILE]` (default: the lesson's sample capture)
//!
//! Notice: the same bytes are Ethernet (L2), IPv4 (L3), TCP (L4) and netlab
//! frames or WebSocket (L7) — the hex row under each header shows where one
//! layer's header ends and the next begins. A connection becomes WebSocket only
//! after the HTTP 101 answer: the dissector remembers flows.

use netlab::inspect::dissect::{Dissection, Dissector};
use netlab::inspect::pcap::Reader;
use netlab::layers::OsiLayer;
use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/lessons/11-inspector/sample.pcap"
        )
        .to_string()
    });
    let mut reader = Reader::new(std::io::BufReader::new(std::fs::File::open(&path)?))?;
    let mut dissector = Dissector::new();
    let mut d = Dissection::default();
    let mut n = 0;
    while let Some(rec) = reader.next()? {
        n += 1;
        dissector.dissect(rec.link, rec.data, &mut d);
        // Show only packets that carry application data, one line per header.
        if !d.protocols().any(|h| h.osi() == OsiLayer::Application) {
            continue;
        }
        println!("packet {n}: {}", d.info.trim());
        for h in d.protocols() {
            let bytes = &rec.data[h.range.clone()];
            let shown: Vec<String> = bytes.iter().take(12).map(|b| format!("{b:02x}")).collect();
            println!(
                "  L{} {:<12} {:<11} bytes {:>3}..{:<3} {}{}",
                h.osi().number(),
                h.name,
                h.tcpip().name(),
                h.range.start,
                h.range.end,
                shown.join(" "),
                if bytes.len() > 12 { " …" } else { "" }
            );
        }
    }
    println!("{n} packets read from {path}");
    Ok(())
}
