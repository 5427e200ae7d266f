//! Property tests for Engine.IO's polling payloads: any list of packets a
//! peer can send survives the `\x1e` join and split unchanged, and any bytes
//! at all are either read or refused — never a panic, never more packets
//! than the bound.

use bytes::Bytes;
use netlab::web::engineio::{decode_payload, encode_payload, Data, Packet};
use netlab::web::http::Request;
use proptest::prelude::*;

/// Packets a peer may put in a payload. Text data never holds `\x1e` (the
/// separator cannot be escaped: Engine.IO v4 relies on it not occurring in
/// UTF-8 text a Socket.IO client sends, which is JSON).
fn packet() -> impl Strategy<Value = Packet> {
    let text = "[^\u{1e}]{0,24}";
    prop_oneof![
        text.prop_map(|t| Packet::Message(Data::Text(t))),
        prop::collection::vec(any::<u8>(), 0..48)
            .prop_map(|b| Packet::Message(Data::Binary(Bytes::from(b)))),
        "(probe)?".prop_map(Packet::Ping),
        "(probe)?".prop_map(Packet::Pong),
        Just(Packet::Close),
        Just(Packet::Upgrade),
        Just(Packet::Noop),
    ]
}

proptest! {
    #[test]
    fn payloads_round_trip(packets in prop::collection::vec(packet(), 1..12)) {
        let wire = encode_payload(&packets);
        prop_assert_eq!(decode_payload(&wire, 12), Ok(packets));
    }

    #[test]
    fn hostile_bytes_are_read_or_refused(body in prop::collection::vec(any::<u8>(), 0..256), max in 1usize..8) {
        if let Ok(packets) = decode_payload(&body, max) {
            prop_assert!(packets.len() <= max);
            prop_assert!(!packets.is_empty());
        }
    }

    /// A hostile request head (any bytes in the target and the fields) is
    /// parsed or refused, and reading its fields never panics: the query,
    /// Content-Length, Connection.
    #[test]
    fn hostile_request_heads_never_panic(
        target in prop::collection::vec(any::<u8>(), 0..64),
        name in "[!-~]{1,16}",
        value in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut head = b"POST /socket.io/?".to_vec();
        head.extend_from_slice(&target);
        head.extend_from_slice(b" HTTP/1.1\r\n");
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(&value);
        head.extend_from_slice(b"\r\nContent-Length: ");
        head.extend_from_slice(&value);
        head.extend_from_slice(b"\r\n\r\n");
        if let Ok(r) = Request::parse(&head) {
            let _ = (r.param("sid"), r.keep_alive(), r.header(&name));
            if let Ok(n) = r.body_len() {
                // Only a plain decimal number is a length.
                prop_assert!(n.to_string().len() <= 12);
            }
        }
    }
}
