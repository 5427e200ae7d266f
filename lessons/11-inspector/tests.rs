// Lesson 11 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_11.rs (against your lessons/11-inspector/exercise.rs).
// Every expected value below was decoded by hand from the bytes.

use self::subject::{decode_ipv4, flag_names, layer_at};
use netlab::inspect::WireError;
use netlab::layers::{OsiLayer, Protocol};
use pretty_assertions::assert_eq;
use std::net::Ipv4Addr;

/// A real header (UDP, 192.168.0.1 → 192.168.0.199, TTL 64, DF, checksum b861).
const HEADER: [u8; 20] = [
    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00,
    0x01, 0xc0, 0xa8, 0x00, 0xc7,
];

#[test]
fn decodes_every_field_of_a_real_header() {
    let h = decode_ipv4(&HEADER).unwrap();
    assert_eq!(h.version, 4);
    assert_eq!(h.header_len, 20, "IHL 5 × 4 bytes");
    assert_eq!(h.total_len, 0x73, "bytes 2..4, big-endian");
    assert_eq!(h.ttl, 64);
    assert_eq!(h.protocol, 17, "UDP");
    assert_eq!(h.src, Ipv4Addr::new(192, 168, 0, 1));
    assert_eq!(h.dst, Ipv4Addr::new(192, 168, 0, 199));
    assert!(h.checksum_ok, "b861 is the right checksum");
}

#[test]
fn a_wrong_checksum_is_noticed() {
    let mut bad = HEADER;
    bad[8] = 63; // TTL decremented without fixing the checksum, as a broken router would
    let h = decode_ipv4(&bad).unwrap();
    assert_eq!(h.ttl, 63);
    assert!(!h.checksum_ok);
}

#[test]
fn options_make_the_header_longer() {
    // IHL 6: one 4-byte option word (NOP NOP NOP EOL); checksum recomputed by hand: b560.
    let mut h = HEADER.to_vec();
    h[0] = 0x46;
    h[10] = 0xb5;
    h[11] = 0x60;
    h.extend_from_slice(&[1, 1, 1, 0]);
    let d = decode_ipv4(&h).unwrap();
    assert_eq!(d.header_len, 24);
    assert!(d.checksum_ok);
}

#[test]
fn broken_headers_are_refused_one_rule_at_a_time() {
    assert_eq!(
        decode_ipv4(&HEADER[..19]).unwrap_err(),
        WireError::Truncated { protocol: Protocol::Ipv4, needed: 20, had: 19 }
    );
    let mut h = HEADER;
    h[0] = 0x65;
    assert_eq!(
        decode_ipv4(&h).unwrap_err(),
        WireError::WrongVersion { protocol: Protocol::Ipv4, found: 6, expected: 4 }
    );
    h[0] = 0x44;
    assert_eq!(
        decode_ipv4(&h).unwrap_err(),
        WireError::HeaderLengthTooSmall { protocol: Protocol::Ipv4, announced: 16, minimum: 20 }
    );
    h[0] = 0x47;
    assert_eq!(
        decode_ipv4(&h).unwrap_err(),
        WireError::Truncated { protocol: Protocol::Ipv4, needed: 28, had: 20 }
    );
    let mut h = HEADER;
    h[3] = 10;
    assert_eq!(
        decode_ipv4(&h).unwrap_err(),
        WireError::LengthBelowHeader { protocol: Protocol::Ipv4, announced: 10, header: 20 }
    );
}

#[test]
fn tcp_flags_by_name() {
    assert_eq!(flag_names(0x02), vec!["SYN"]);
    assert_eq!(flag_names(0x12), vec!["SYN", "ACK"]);
    assert_eq!(flag_names(0x18), vec!["PSH", "ACK"]);
    assert_eq!(flag_names(0x11), vec!["FIN", "ACK"]);
    assert_eq!(flag_names(0x04), vec!["RST"]);
    assert_eq!(flag_names(0xc0), vec!["ECE", "CWR"]);
    assert_eq!(flag_names(0x00), Vec::<&str>::new());
}

/// Ethernet (14) + IPv4 with IHL 5 (20) + TCP with data offset 8 (32) + 4 payload bytes.
fn frame() -> Vec<u8> {
    let mut f = vec![0u8; 14 + 20 + 32 + 4];
    f[12] = 0x08; // EtherType IPv4
    f[14] = 0x45;
    f[16..18].copy_from_slice(&56u16.to_be_bytes()); // total length 20 + 32 + 4
    f[23] = 6; // TCP
    f[14 + 20 + 12] = 0x80; // data offset 8 words = 32 bytes
    f
}

#[test]
fn every_byte_has_a_layer() {
    let f = frame();
    assert_eq!(layer_at(&f, 0), Some(OsiLayer::DataLink), "destination MAC");
    assert_eq!(layer_at(&f, 13), Some(OsiLayer::DataLink), "EtherType");
    assert_eq!(layer_at(&f, 14), Some(OsiLayer::Network), "IPv4 version");
    assert_eq!(layer_at(&f, 33), Some(OsiLayer::Network), "last byte of the destination address");
    assert_eq!(layer_at(&f, 34), Some(OsiLayer::Transport), "TCP source port");
    assert_eq!(layer_at(&f, 65), Some(OsiLayer::Transport), "last byte of TCP's options");
    assert_eq!(layer_at(&f, 66), Some(OsiLayer::Application), "the payload");
    assert_eq!(layer_at(&f, 69), Some(OsiLayer::Application));
    assert_eq!(layer_at(&f, 70), None, "past the end");
}

#[test]
fn udp_headers_are_always_eight_bytes() {
    let mut f = vec![0u8; 14 + 20 + 8 + 2];
    f[12] = 0x08;
    f[14] = 0x45;
    f[16..18].copy_from_slice(&30u16.to_be_bytes());
    f[23] = 17; // UDP
    f[38..40].copy_from_slice(&10u16.to_be_bytes()); // UDP length 8 + 2
    assert_eq!(layer_at(&f, 41), Some(OsiLayer::Transport));
    assert_eq!(layer_at(&f, 42), Some(OsiLayer::Application));
}
