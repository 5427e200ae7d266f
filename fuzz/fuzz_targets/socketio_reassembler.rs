//! Fuzz the Socket.IO reassembler: any sequence of text and binary messages,
//! under any byte limit, gives whole packets or one typed error — never a
//! panic, never more buffered than the limit — and every packet it gives
//! encodes and reads back to itself, attachments included.
//!
//! Input: the first byte picks the limit (× 16 bytes); the rest is split at
//! 0x1e (Engine.IO's record separator) into messages, whose first byte says
//! text (even) or binary (odd).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use netlab::web::socketio::binary::{base64_to_placeholders, placeholders_to_base64};
use netlab::web::socketio::{Packet, Reassembler};

/// Reads `packet`'s own encoding back, attachments and all.
fn read_back(packet: &Packet) -> Packet {
    let text = packet.encode();
    let mut r = Reassembler::new(usize::MAX);
    let mut got = r.text(&text).expect("an encoded packet reads back");
    for a in &packet.attachments {
        assert!(got.is_none(), "complete before its attachments: {text}");
        got = r.binary(a.clone()).expect("its attachments are taken");
    }
    got.expect("complete after its attachments")
}

fuzz_target!(|data: &[u8]| {
    let Some((&limit, rest)) = data.split_first() else {
        return;
    };
    let max = usize::from(limit) * 16;
    let mut r = Reassembler::new(max);
    for message in rest.split(|&b| b == 0x1e) {
        let Some((&kind, body)) = message.split_first() else {
            continue;
        };
        let got = if kind % 2 == 0 {
            r.text(&String::from_utf8_lossy(body))
        } else {
            r.binary(Bytes::copy_from_slice(body))
        };
        assert!(r.buffered() <= max);
        match got {
            Ok(Some(packet)) => {
                assert_eq!(read_back(&packet), packet);
                // Into the hub's JSON and back: as many attachments.
                if let Some(mut d) = packet.data.clone() {
                    placeholders_to_base64(&mut d, &packet.attachments);
                    let _ = base64_to_placeholders(&mut d);
                }
            }
            Ok(None) => {}
            Err(_) => return, // the session ends here
        }
    }
});
