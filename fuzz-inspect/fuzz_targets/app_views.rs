//! The application-layer views: HTTP heads, WebSocket frames, netlab frames,
//! DNS messages, Engine.IO/Socket.IO packets and polling payloads.
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
    // A polling body: the pieces stay inside it, and each is parsed.
    let payload = engineio::split_payload(data, engineio::MAX_PAYLOAD_PIECES);
    assert!(payload.pieces.len() <= engineio::MAX_PAYLOAD_PIECES);
    for piece in &payload.pieces {
        let r = piece.range();
        assert!(r.start <= r.end && r.end <= data.len());
        let _ = engineio::parse(&data[r]);
    }
    for &s in &payload.separators {
        assert_eq!(data[s], engineio::SEPARATOR);
    }
    if let Ok(Some(h)) = http::parse(data) {
        let _ = h.content_length(data);
    }
    let _ = engineio::is_polling_request(data);
    let _ = http::query_param(data, "sid");
});
