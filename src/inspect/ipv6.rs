//! IPv6 (RFC 8200 §3) and its common extension headers (§4): Hop-by-Hop,
//! Routing, Fragment, Destination Options.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Traffic Class |           Flow Label                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Payload Length        |  Next Header  |   Hop Limit   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Source Address (128 bits)                     |
//! |              Destination Address (128 bits)                   |
//! ```

use super::ipv4::IpProtocol;
use super::wire::{be16, be32, need, WireError};
use crate::layers::Protocol;
use std::net::Ipv6Addr;

mod field {
    use crate::inspect::wire::Field;
    pub const VER_TC_FLOW: Field = 0..4;
    pub const LENGTH: Field = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Field = 8..24;
    pub const DST_ADDR: Field = 24..40;
}

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

/// A view of an IPv6 packet's fixed header.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn addr(b: &[u8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    Ipv6Addr::from(a)
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checks.
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }
    /// Wraps `buffer` after [`Packet::check_len`].
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }
    /// Checks the 40-byte header is there and says version 6.
    pub fn check_len(&self) -> Result<(), WireError> {
        need(Protocol::Ipv6, HEADER_LEN, self.buffer.as_ref().len())?;
        if self.version() != 6 {
            return Err(WireError::WrongVersion {
                protocol: Protocol::Ipv6,
                found: self.version(),
                expected: 6,
            });
        }
        Ok(())
    }
    /// Version (6).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }
    /// Traffic Class (8 bits: DSCP and ECN).
    pub fn traffic_class(&self) -> u8 {
        ((be32(self.buffer.as_ref(), field::VER_TC_FLOW) >> 20) & 0xff) as u8
    }
    /// Flow Label (20 bits).
    pub fn flow_label(&self) -> u32 {
        be32(self.buffer.as_ref(), field::VER_TC_FLOW) & 0x000f_ffff
    }
    /// Payload Length: bytes after the fixed header, extension headers included.
    pub fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }
    /// Next Header: the first extension header or the upper-layer protocol.
    pub fn next_header(&self) -> IpProtocol {
        self.buffer.as_ref()[field::NXT_HDR].into()
    }
    /// Hop Limit (IPv4's TTL).
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }
    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::SRC_ADDR])
    }
    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::DST_ADDR])
    }
    /// The payload: up to Payload Length, or to the end of what was captured.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = (HEADER_LEN + usize::from(self.payload_len())).min(b.len());
        &b[HEADER_LEN..end]
    }
}

/// Where each fixed field lives, for the inspector's labels.
pub const FIELDS: [(&str, std::ops::Range<usize>); 6] = [
    ("version / traffic class / flow label", field::VER_TC_FLOW),
    ("payload length", field::LENGTH),
    ("next header", 6..7),
    ("hop limit", 7..8),
    ("source", field::SRC_ADDR),
    ("destination", field::DST_ADDR),
];

/// Whether `p` is an extension header this module walks over.
pub fn is_extension(p: IpProtocol) -> bool {
    matches!(
        p,
        IpProtocol::HopByHop
            | IpProtocol::Ipv6Route
            | IpProtocol::Ipv6Frag
            | IpProtocol::Ipv6Opts
            | IpProtocol::Ah
    )
}

/// Length of the fixed Fragment header (RFC 8200 §4.5).
pub const FRAGMENT_HEADER_LEN: usize = 8;

/// A view of one extension header: Next Header, Hdr Ext Len, then its body.
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Header  |  Hdr Ext Len  |   type-specific data ...      |
/// ```
/// Hdr Ext Len counts 8-byte units beyond the first (AH: 4-byte units beyond the
/// first two, RFC 4302); the Fragment header is always 8 bytes.
#[derive(Debug, Clone)]
pub struct ExtHeader<T: AsRef<[u8]>> {
    buffer: T,
    kind: IpProtocol,
}

impl<T: AsRef<[u8]>> ExtHeader<T> {
    /// Wraps the extension header of type `kind` at the start of `buffer`.
    pub fn new_checked(buffer: T, kind: IpProtocol) -> Result<Self, WireError> {
        let h = ExtHeader { buffer, kind };
        need(Protocol::Ipv6, 2, h.buffer.as_ref().len())?;
        need(Protocol::Ipv6, h.header_len(), h.buffer.as_ref().len())?;
        Ok(h)
    }
    /// Which extension header this is.
    pub fn kind(&self) -> IpProtocol {
        self.kind
    }
    /// The header after this one.
    pub fn next_header(&self) -> IpProtocol {
        self.buffer.as_ref()[0].into()
    }
    /// This header's length in bytes.
    pub fn header_len(&self) -> usize {
        let n = usize::from(self.buffer.as_ref()[1]);
        match self.kind {
            IpProtocol::Ipv6Frag => FRAGMENT_HEADER_LEN,
            IpProtocol::Ah => (n + 2) * 4,
            _ => (n + 1) * 8,
        }
    }
    /// Fragment header: offset of this fragment in bytes.
    pub fn frag_offset(&self) -> u16 {
        be16(self.buffer.as_ref(), 2..4) & 0xfff8
    }
    /// Fragment header: More Fragments.
    pub fn more_frags(&self) -> bool {
        self.buffer.as_ref()[3] & 1 != 0
    }
    /// Fragment header: Identification.
    pub fn frag_ident(&self) -> u32 {
        be32(self.buffer.as_ref(), 4..8)
    }
    /// Routing header: routing type (byte 2).
    pub fn routing_type(&self) -> u8 {
        self.buffer.as_ref()[2]
    }
    /// Routing header: segments left (byte 3).
    pub fn segments_left(&self) -> u8 {
        self.buffer.as_ref()[3]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-decoded: an ICMPv6 echo request header from ::1 to ::1,
    // traffic class 0, flow label 0x12345, payload 16 bytes, hop limit 64.
    fn header() -> Vec<u8> {
        let mut h = vec![0x60, 0x01, 0x23, 0x45, 0x00, 0x10, 58, 64];
        h.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        h.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        h
    }

    #[test]
    fn getters_read_the_hand_decoded_header() {
        let h = header();
        let p = Packet::new_checked(&h[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0);
        assert_eq!(p.flow_label(), 0x12345);
        assert_eq!(p.payload_len(), 16);
        assert_eq!(p.next_header(), IpProtocol::Icmpv6);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.src_addr(), Ipv6Addr::LOCALHOST);
        assert!(p.payload().is_empty());
    }

    #[test]
    fn wrong_version_and_short_header() {
        let mut h = header();
        h[0] = 0x45;
        assert!(matches!(
            Packet::new_checked(&h[..]),
            Err(WireError::WrongVersion { found: 4, .. })
        ));
        assert!(matches!(
            Packet::new_checked(&header()[..39]),
            Err(WireError::Truncated {
                needed: 40,
                had: 39,
                ..
            })
        ));
    }

    #[test]
    fn fragment_and_options_headers() {
        // Fragment: next UDP, offset 1448 (181 units << 3), M=1, ident 0xdeadbeef.
        let frag = [17, 0, 0x05, 0xa9, 0xde, 0xad, 0xbe, 0xef];
        let f = ExtHeader::new_checked(&frag[..], IpProtocol::Ipv6Frag).unwrap();
        assert_eq!(f.next_header(), IpProtocol::Udp);
        assert_eq!(f.header_len(), 8);
        assert_eq!(f.frag_offset(), 1448);
        assert!(f.more_frags());
        assert_eq!(f.frag_ident(), 0xdead_beef);
        // Hop-by-hop with Hdr Ext Len 1 = 16 bytes; only 8 captured.
        let hbh = [6, 1, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            ExtHeader::new_checked(&hbh[..], IpProtocol::HopByHop),
            Err(WireError::Truncated {
                needed: 16,
                had: 8,
                ..
            })
        ));
    }
}
