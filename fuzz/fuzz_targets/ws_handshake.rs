//! Fuzz the WebSocket handshake parsers (server request, client response):
//! any bytes must give a request, "incomplete", or a typed refusal — never a
//! panic — and a refusal must always render as an HTTP response.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netlab::ws::handshake::{accept_response, parse_request, parse_response, Policy};

fuzz_target!(|data: &[u8]| {
    let policy = Policy {
        allowed_origins: Some(vec!["http://ok.example".into()]),
        protocols: vec!["chat".into()],
    };
    match parse_request(data, 8192, &policy) {
        Ok(Some((req, used))) => {
            assert!(used <= data.len() && used <= 8192);
            let _ = accept_response(&req, policy.choose_protocol(&req.protocols).as_deref());
        }
        Ok(None) => assert!(data.len() < 8192),
        Err(e) => assert!(e.response().starts_with(b"HTTP/1.1 ")),
    }
    if let Ok(Some((_, used))) =
        parse_response(data, "dGhlIHNhbXBsZSBub25jZQ==", &["chat".into()], 8192)
    {
        assert!(used <= data.len());
    }
});
