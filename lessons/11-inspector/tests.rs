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
    let h = decode_ipv4(&HEADER)
        .unwrap_or_else(|e| panic!("a real, valid 20-byte IPv4 header must decode, but yours refused it: {e:?}"));
    assert_eq!(h.version, 4, "the version is the high nibble of byte 0 (0x45): 4");
    assert_eq!(h.header_len, 20, "IHL is the low nibble of byte 0 (0x45), in 4-byte words: 5 × 4 = 20 bytes");
    assert_eq!(h.total_len, 0x73, "Total Length is bytes 2..4, big-endian: 00 73 = 115");
    assert_eq!(h.ttl, 64, "TTL is byte 8: 0x40 = 64");
    assert_eq!(h.protocol, 17, "Protocol is byte 9: 0x11 = 17, UDP");
    assert_eq!(h.src, Ipv4Addr::new(192, 168, 0, 1), "the source address is bytes 12..16: c0 a8 00 01");
    assert_eq!(h.dst, Ipv4Addr::new(192, 168, 0, 199), "the destination address is bytes 16..20: c0 a8 00 c7");
    assert!(
        h.checksum_ok,
        "b861 is the right checksum: the ones'-complement sum of the ten 16-bit words, carries folded back in, is ffff"
    );
}

#[test]
fn a_wrong_checksum_is_noticed() {
    let mut bad = HEADER;
    bad[8] = 63; // TTL decremented without fixing the checksum, as a broken router would
    let h = decode_ipv4(&bad)
        .unwrap_or_else(|e| panic!("a wrong checksum is reported in checksum_ok, not refused: yours returned {e:?}"));
    assert_eq!(h.ttl, 63, "TTL is byte 8, here changed to 63");
    assert!(
        !h.checksum_ok,
        "the TTL changed without the checksum being fixed: the words no longer sum to ffff, so checksum_ok must be false"
    );
}

#[test]
fn options_make_the_header_longer() {
    // IHL 6: one 4-byte option word (NOP NOP NOP EOL); checksum recomputed by hand: b560.
    let mut h = HEADER.to_vec();
    h[0] = 0x46;
    h[10] = 0xb5;
    h[11] = 0x60;
    h.extend_from_slice(&[1, 1, 1, 0]);
    let d = decode_ipv4(&h)
        .unwrap_or_else(|e| panic!("a valid 24-byte header with one option word must decode, but yours refused it: {e:?}"));
    assert_eq!(d.header_len, 24, "IHL 6 means 6 × 4 = 24 bytes: the fixed 20 and one 4-byte option word");
    assert!(d.checksum_ok, "b560 is the right checksum over all 24 header bytes, the option word included");
}

/// Your decode_ipv4's error for bytes that break a rule.
#[track_caller]
fn refused(bytes: &[u8]) -> WireError {
    match decode_ipv4(bytes) {
        Err(e) => e,
        Ok(h) => panic!("these {} bytes break a rule of the IPv4 header: decode_ipv4 must refuse them, but yours decoded {h:?}", bytes.len()),
    }
}

#[test]
fn broken_headers_are_refused_one_rule_at_a_time() {
    assert_eq!(
        refused(&HEADER[..19]),
        WireError::Truncated { protocol: Protocol::Ipv4, needed: 20, had: 19 },
        "19 bytes cannot hold the 20-byte fixed header: Truncated, checked first"
    );
    let mut h = HEADER;
    h[0] = 0x65;
    assert_eq!(
        refused(&h),
        WireError::WrongVersion { protocol: Protocol::Ipv4, found: 6, expected: 4 },
        "0x65 announces version 6: WrongVersion"
    );
    h[0] = 0x44;
    assert_eq!(
        refused(&h),
        WireError::HeaderLengthTooSmall { protocol: Protocol::Ipv4, announced: 16, minimum: 20 },
        "IHL 4 announces 4 × 4 = 16 bytes, less than the 20 every header has: HeaderLengthTooSmall"
    );
    h[0] = 0x47;
    assert_eq!(
        refused(&h),
        WireError::Truncated { protocol: Protocol::Ipv4, needed: 28, had: 20 },
        "IHL 7 announces 7 × 4 = 28 bytes, but only 20 are there: Truncated"
    );
    let mut h = HEADER;
    h[3] = 10;
    assert_eq!(
        refused(&h),
        WireError::LengthBelowHeader { protocol: Protocol::Ipv4, announced: 10, header: 20 },
        "a Total Length of 10 cannot even cover the 20-byte header: LengthBelowHeader"
    );
}

#[test]
fn tcp_flags_by_name() {
    let cases: [(u8, &[&str]); 7] = [
        (0x02, &["SYN"]),
        (0x12, &["SYN", "ACK"]),
        (0x18, &["PSH", "ACK"]),
        (0x11, &["FIN", "ACK"]),
        (0x04, &["RST"]),
        (0xc0, &["ECE", "CWR"]),
        (0x00, &[]),
    ];
    for (flags, names) in cases {
        assert_eq!(
            flag_names(flags),
            names.to_vec(),
            "flags byte {flags:#04x}: bit 0 (0x01) is FIN, then SYN, RST, PSH, ACK, URG, ECE, up to bit 7 (0x80) CWR, named lowest bit first"
        );
    }
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
    let cases = [
        (0, Some(OsiLayer::DataLink), "byte 0, the destination MAC, is in the 14-byte Ethernet header"),
        (13, Some(OsiLayer::DataLink), "byte 13, the EtherType's second byte, is the last of the Ethernet header"),
        (14, Some(OsiLayer::Network), "byte 14, IPv4's version and IHL, is the first of the IPv4 header"),
        (33, Some(OsiLayer::Network), "byte 33 is the last byte of the destination address: IHL 5 × 4 = 20 bytes of IPv4 end at 34"),
        (34, Some(OsiLayer::Transport), "byte 34, TCP's source port, is the first of the TCP header"),
        (65, Some(OsiLayer::Transport), "byte 65 is the last byte of TCP's options: data offset 8 × 4 = 32 bytes of TCP end at 66"),
        (66, Some(OsiLayer::Application), "byte 66 is the first byte of the payload, after the TCP header"),
        (69, Some(OsiLayer::Application), "byte 69, the last one of the frame, is payload"),
        (70, None, "byte 70 is past the end of a 70-byte frame: None"),
    ];
    for (offset, layer, why) in cases {
        assert_eq!(layer_at(&f, offset), layer, "{why}");
    }
}

#[test]
fn udp_headers_are_always_eight_bytes() {
    let mut f = vec![0u8; 14 + 20 + 8 + 2];
    f[12] = 0x08;
    f[14] = 0x45;
    f[16..18].copy_from_slice(&30u16.to_be_bytes());
    f[23] = 17; // UDP
    f[38..40].copy_from_slice(&10u16.to_be_bytes()); // UDP length 8 + 2
    assert_eq!(
        layer_at(&f, 41),
        Some(OsiLayer::Transport),
        "byte 41 is the last of the 8-byte UDP header (bytes 34..42)"
    );
    assert_eq!(
        layer_at(&f, 42),
        Some(OsiLayer::Application),
        "byte 42 is the first byte of the UDP payload: a UDP header is always 8 bytes"
    );
}
