//! Any file bytes through the streaming pcap/pcapng reader, and each record dissected.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netlab::inspect::dissect;
use netlab::inspect::pcap::Reader;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = Reader::new(data) {
        for _ in 0..10_000 {
            match r.next() {
                Ok(Some(rec)) => {
                    let _ = dissect(rec.link, rec.data);
                }
                _ => break,
            }
        }
    }
});
