//! Fuzz what a server takes from Redis (lesson 12): any bytes on a broadcast
//! or request channel give a broadcast or one typed error — never a panic,
//! never an allocation the bytes cannot back — and every broadcast read
//! encodes and reads back to itself.
//!
//! Input: the first byte picks the channel (even: broadcast, odd: request);
//! the rest is the message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netlab::cluster::message::{decode_request, Broadcast};
use netlab::cluster::msgpack;

/// The limit the servers use by default is far above any fuzz input.
const MAX: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, msg)) = data.split_first() else {
        return;
    };
    if pick % 2 == 1 {
        let _ = decode_request(msg, MAX);
        return;
    }
    if let Ok(v) = msgpack::decode(msg) {
        assert_eq!(msgpack::decode(&msgpack::encode(&v)).as_ref(), Ok(&v));
    }
    if let Ok(b) = Broadcast::decode(msg, MAX) {
        assert_eq!(Broadcast::decode(&b.encode(), MAX), Ok(b));
    }
});
