//! Link types: what the first bytes of a captured packet are (the pcap
//! LINKTYPE_ registry, <https://www.tcpdump.org/linktypes.html>), and the views
//! of the two link headers that are not Ethernet: Linux "cooked" (SLL, SLL2)
//! and BSD loopback ("null").
//!
//! ```text
//! SLL  (16 bytes): | packet type 2 | ARPHRD 2 | addr len 2 | address 8 | protocol 2 |
//! SLL2 (20 bytes): | protocol 2 | reserved 2 | ifindex 4 | ARPHRD 2 | pkt type 1 | addr len 1 | address 8 |
//! null  (4 bytes): | address family, in the byte order of the capturing host |
//! loop  (4 bytes): | address family, big-endian |
//! ```

use super::wire::{be16, be32, need, WireError};
use crate::layers::Protocol;

/// How a capture's packets begin (pcap LINKTYPE_ values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// 0 — BSD loopback: 4-byte address family in host byte order.
    Null,
    /// 1 — Ethernet II.
    Ethernet,
    /// 101 — raw IP: the packet starts with an IPv4 or IPv6 header.
    Raw,
    /// 108 — OpenBSD loopback: 4-byte address family, big-endian.
    Loop,
    /// 113 — Linux cooked capture v1.
    LinuxSll,
    /// 228 — raw IPv4.
    Ipv4,
    /// 229 — raw IPv6.
    Ipv6,
    /// 276 — Linux cooked capture v2.
    LinuxSll2,
    /// Anything else (not dissected).
    Unknown(u32),
}

impl From<u32> for LinkType {
    fn from(v: u32) -> Self {
        match v {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            101 | 12 | 14 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            o => LinkType::Unknown(o),
        }
    }
}

impl From<LinkType> for u32 {
    fn from(v: LinkType) -> u32 {
        match v {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll2 => 276,
            LinkType::Unknown(o) => o,
        }
    }
}

impl LinkType {
    /// Whether netlab can dissect packets of this link type.
    pub fn is_supported(self) -> bool {
        !matches!(self, LinkType::Unknown(_))
    }
}

/// Length of a Linux cooked v1 header.
pub const SLL_LEN: usize = 16;
/// Length of a Linux cooked v2 header.
pub const SLL2_LEN: usize = 20;
/// Length of a null/loop header.
pub const NULL_LEN: usize = 4;

/// The fields of a Linux cooked header (v1 or v2), with their byte ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cooked {
    /// Packet type: 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us.
    pub packet_type: u16,
    /// ARPHRD_ hardware type of the interface (1 Ethernet, 772 loopback).
    pub arphrd: u16,
    /// The link-layer source address (length `addr_len`, at most 8 bytes).
    pub addr_len: u16,
    /// Interface index (v2 only).
    pub ifindex: Option<u32>,
    /// The payload's EtherType.
    pub protocol: u16,
    /// Header length (16 or 20).
    pub header_len: usize,
    /// (name, range) of each field, for the inspector.
    pub fields: Vec<(&'static str, std::ops::Range<usize>)>,
}

/// Parses a Linux cooked v1 (`v2 == false`) or v2 header.
pub fn cooked(b: &[u8], v2: bool) -> Result<Cooked, WireError> {
    if v2 {
        need(Protocol::LinuxCooked, SLL2_LEN, b.len())?;
        Ok(Cooked {
            protocol: be16(b, 0..2),
            ifindex: Some(be32(b, 4..8)),
            arphrd: be16(b, 8..10),
            packet_type: u16::from(b[10]),
            addr_len: u16::from(b[11]),
            header_len: SLL2_LEN,
            fields: vec![
                ("protocol", 0..2),
                ("reserved", 2..4),
                ("interface index", 4..8),
                ("link-layer address type", 8..10),
                ("packet type", 10..11),
                ("link-layer address length", 11..12),
                ("source address", 12..20),
            ],
        })
    } else {
        need(Protocol::LinuxCooked, SLL_LEN, b.len())?;
        Ok(Cooked {
            packet_type: be16(b, 0..2),
            arphrd: be16(b, 2..4),
            addr_len: be16(b, 4..6),
            ifindex: None,
            protocol: be16(b, 14..16),
            header_len: SLL_LEN,
            fields: vec![
                ("packet type", 0..2),
                ("link-layer address type", 2..4),
                ("link-layer address length", 4..6),
                ("source address", 6..14),
                ("protocol", 14..16),
            ],
        })
    }
}

/// The name of a Linux cooked packet type.
pub fn packet_type_name(t: u16) -> &'static str {
    match t {
        0 => "unicast to us",
        1 => "broadcast",
        2 => "multicast",
        3 => "unicast to another host",
        4 => "sent by us",
        _ => "unknown",
    }
}

/// The address family of a null/loop header. Null headers are in the capturing
/// host's byte order, so both orders are tried (families are small numbers).
pub fn null_family(b: &[u8], big_endian_only: bool) -> Result<u32, WireError> {
    need(Protocol::Loopback, NULL_LEN, b.len())?;
    let be = be32(b, 0..4);
    if big_endian_only || be < 0x100 {
        Ok(be)
    } else {
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Whether an address family number means IPv6 (Linux 10, BSDs 24, FreeBSD 28, macOS 30).
pub fn family_is_ipv6(f: u32) -> bool {
    matches!(f, 10 | 24 | 28 | 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sll_v1_hand_decoded() {
        // Captured on "any": outgoing (4), ARPHRD_LOOPBACK 772, 6-byte address 0, IPv4.
        let h = [0, 4, 0x03, 0x04, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00];
        let c = cooked(&h, false).unwrap();
        assert_eq!(c.packet_type, 4);
        assert_eq!(packet_type_name(c.packet_type), "sent by us");
        assert_eq!(c.arphrd, 772);
        assert_eq!(c.addr_len, 6);
        assert_eq!(c.protocol, 0x0800);
        assert!(cooked(&h[..15], false).is_err());
    }

    #[test]
    fn sll_v2_hand_decoded() {
        // IPv6, ifindex 1, ARPHRD_LOOPBACK, to us, address length 6.
        let h = [
            0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0x03, 0x04, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let c = cooked(&h, true).unwrap();
        assert_eq!(c.protocol, 0x86dd);
        assert_eq!(c.ifindex, Some(1));
        assert_eq!(c.packet_type, 0);
        assert_eq!(c.header_len, 20);
    }

    #[test]
    fn null_family_either_byte_order() {
        assert_eq!(
            null_family(&[2, 0, 0, 0], false).unwrap(),
            2,
            "little-endian host"
        );
        assert_eq!(
            null_family(&[0, 0, 0, 2], false).unwrap(),
            2,
            "big-endian host"
        );
        assert_eq!(null_family(&[0, 0, 0, 30], true).unwrap(), 30);
        assert!(family_is_ipv6(30));
    }

    #[test]
    fn link_type_registry_round_trips() {
        for v in [0u32, 1, 101, 108, 113, 228, 229, 276, 999] {
            assert_eq!(u32::from(LinkType::from(v)), v);
        }
    }
}
