//! The application-layer views: HTTP heads, WebSocket frames, netlab frames,
//! DNS messages, Engine.IO/Socket.IO packets.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netlab::inspect::{dns, engineio, http, netframe, websocket};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(h)) = http::parse(data) {
        assert!(h.len <= data.len());
        let _ = h.is_websocket_upgrade(data);
    }
    if let Ok(f) = websocket::Frame::new_checked(data) {
        let mut p = f.payload().to_vec();
        if let Some(k) = f.masking_key() {
            websocket::unmask(&mut p, k, 0);
        }
        let _ = (f.opcode(), f.payload_len(), f.is_complete());
    }
    if let Some(frames) = netframe::tile(data) {
        for f in frames {
            let _ = netframe::chat_event(&data[f.payload]);
        }
    }
    if let Ok(m) = dns::Message::new_checked(data) {
        let _ = m.records();
    }
    let _ = engineio::parse(data);
});
