//! IPv4 (RFC 791) — the network layer (OSI 3): addresses, TTL, fragmentation,
//! and a checksum over the header alone.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version|  IHL  |   DSCP    |ECN|          Total Length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Identification        |Flags|      Fragment Offset    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Time to Live |    Protocol   |         Header Checksum       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Source Address                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Destination Address                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Options (IHL > 5)          |    Padding    |
//! ```

use super::checksum::{self, Verdict};
use super::wire::{be16, need, WireError};
use crate::layers::Protocol;
use std::net::Ipv4Addr;

mod field {
    use crate::inspect::wire::Field;
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
}

/// Length of the header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

/// Flag bit: Don't Fragment (RFC 791 §3.1), within the 16-bit flags+offset word.
pub const FLG_DF: u16 = 0x4000;
/// Flag bit: More Fragments follow.
pub const FLG_MF: u16 = 0x2000;
/// Flag bit: reserved, must be zero (RFC 3514 jokes aside).
pub const FLG_RESERVED: u16 = 0x8000;

/// Registry of IP protocol numbers (IANA), shared by IPv4's Protocol and IPv6's Next Header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpProtocol {
    /// 0 — IPv6 Hop-by-Hop Options.
    HopByHop,
    /// 1 — ICMP.
    Icmp,
    /// 2 — IGMP.
    Igmp,
    /// 6 — TCP.
    Tcp,
    /// 17 — UDP.
    Udp,
    /// 43 — IPv6 Routing header.
    Ipv6Route,
    /// 44 — IPv6 Fragment header.
    Ipv6Frag,
    /// 51 — Authentication Header.
    Ah,
    /// 58 — ICMPv6.
    Icmpv6,
    /// 59 — No Next Header.
    Ipv6NoNxt,
    /// 60 — IPv6 Destination Options.
    Ipv6Opts,
    /// Any other number.
    Unknown(u8),
}

impl From<u8> for IpProtocol {
    fn from(v: u8) -> Self {
        match v {
            0 => IpProtocol::HopByHop,
            1 => IpProtocol::Icmp,
            2 => IpProtocol::Igmp,
            6 => IpProtocol::Tcp,
            17 => IpProtocol::Udp,
            43 => IpProtocol::Ipv6Route,
            44 => IpProtocol::Ipv6Frag,
            51 => IpProtocol::Ah,
            58 => IpProtocol::Icmpv6,
            59 => IpProtocol::Ipv6NoNxt,
            60 => IpProtocol::Ipv6Opts,
            o => IpProtocol::Unknown(o),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(v: IpProtocol) -> u8 {
        match v {
            IpProtocol::HopByHop => 0,
            IpProtocol::Icmp => 1,
            IpProtocol::Igmp => 2,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Ipv6Route => 43,
            IpProtocol::Ipv6Frag => 44,
            IpProtocol::Ah => 51,
            IpProtocol::Icmpv6 => 58,
            IpProtocol::Ipv6NoNxt => 59,
            IpProtocol::Ipv6Opts => 60,
            IpProtocol::Unknown(o) => o,
        }
    }
}

impl IpProtocol {
    /// The registry name.
    pub fn name(self) -> &'static str {
        match self {
            IpProtocol::HopByHop => "IPv6 Hop-by-Hop",
            IpProtocol::Icmp => "ICMP",
            IpProtocol::Igmp => "IGMP",
            IpProtocol::Tcp => "TCP",
            IpProtocol::Udp => "UDP",
            IpProtocol::Ipv6Route => "IPv6 Routing",
            IpProtocol::Ipv6Frag => "IPv6 Fragment",
            IpProtocol::Ah => "AH",
            IpProtocol::Icmpv6 => "ICMPv6",
            IpProtocol::Ipv6NoNxt => "No Next Header",
            IpProtocol::Ipv6Opts => "IPv6 Destination Options",
            IpProtocol::Unknown(_) => "unknown",
        }
    }
}

/// A view of an IPv4 packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
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

    /// Checks the version, that IHL ≥ 5, that the whole header (with options) was
    /// captured and that Total Length covers the header. A payload shorter than
    /// Total Length is allowed: capture tools cut packets (snaplen).
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        need(Protocol::Ipv4, HEADER_LEN, len)?;
        if self.version() != 4 {
            return Err(WireError::WrongVersion {
                protocol: Protocol::Ipv4,
                found: self.version(),
                expected: 4,
            });
        }
        let hl = self.header_len();
        if hl < HEADER_LEN {
            return Err(WireError::HeaderLengthTooSmall {
                protocol: Protocol::Ipv4,
                announced: hl,
                minimum: HEADER_LEN,
            });
        }
        need(Protocol::Ipv4, hl, len)?;
        if usize::from(self.total_len()) < hl {
            return Err(WireError::LengthBelowHeader {
                protocol: Protocol::Ipv4,
                announced: usize::from(self.total_len()),
                header: hl,
            });
        }
        Ok(())
    }

    /// Version (4).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }
    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }
    /// Differentiated Services Code Point (6 bits).
    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] >> 2
    }
    /// Explicit Congestion Notification (2 bits).
    pub fn ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] & 0x03
    }
    /// Total Length: header plus payload, in bytes.
    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }
    /// Identification, shared by the fragments of one datagram.
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::IDENT)
    }
    /// The three flag bits as the top of the flags+offset word.
    pub fn flags(&self) -> u16 {
        be16(self.buffer.as_ref(), field::FLG_OFF) & 0xe000
    }
    /// Don't Fragment.
    pub fn dont_frag(&self) -> bool {
        self.flags() & FLG_DF != 0
    }
    /// More Fragments.
    pub fn more_frags(&self) -> bool {
        self.flags() & FLG_MF != 0
    }
    /// Fragment offset in bytes (the field counts 8-byte units).
    pub fn frag_offset(&self) -> u16 {
        (be16(self.buffer.as_ref(), field::FLG_OFF) & 0x1fff) << 3
    }
    /// Time to Live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }
    /// The payload's protocol.
    pub fn protocol(&self) -> IpProtocol {
        self.buffer.as_ref()[field::PROTOCOL].into()
    }
    /// Header checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }
    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::SRC_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }
    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::DST_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }
    /// The options bytes (between byte 20 and the header length).
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }
    /// Verifies the header checksum: the sum over the header, field included, is 0xffff.
    pub fn verify_checksum(&self) -> Verdict {
        let header = &self.buffer.as_ref()[..self.header_len()];
        if checksum::checksum(header) == 0 {
            Verdict::Good
        } else {
            let mut copy = [0u8; 60];
            copy[..header.len()].copy_from_slice(header);
            copy[10] = 0;
            copy[11] = 0;
            Verdict::Bad {
                expected: checksum::checksum(&copy[..header.len()]),
            }
        }
    }
    /// The payload: from the header's end to Total Length, or to the end of what was captured.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = usize::from(self.total_len()).min(b.len());
        &b[self.header_len()..end]
    }
}

/// Where each fixed field lives (name, byte range), for the inspector's labels.
pub const FIELDS: [(&str, std::ops::Range<usize>); 10] = [
    ("version / header length", 0..1),
    ("DSCP / ECN", 1..2),
    ("total length", field::LENGTH),
    ("identification", field::IDENT),
    ("flags / fragment offset", field::FLG_OFF),
    ("time to live", 8..9),
    ("protocol", 9..10),
    ("header checksum", field::CHECKSUM),
    ("source", field::SRC_ADDR),
    ("destination", field::DST_ADDR),
];

/// The header fields a student reads first, as plain values (lesson 11's exercise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Version (4).
    pub version: u8,
    /// Header length in bytes (IHL × 4).
    pub header_len: usize,
    /// Total Length in bytes.
    pub total_len: u16,
    /// Time to Live.
    pub ttl: u8,
    /// Protocol number (6 TCP, 17 UDP, 1 ICMP).
    pub protocol: u8,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Whether the header checksum is correct.
    pub checksum_ok: bool,
}

/// Decodes an IPv4 header's main fields, checking the rules of [`Packet::check_len`].
pub fn decode(bytes: &[u8]) -> Result<Header, WireError> {
    let p = Packet::new_checked(bytes)?;
    Ok(Header {
        version: p.version(),
        header_len: p.header_len(),
        total_len: p.total_len(),
        ttl: p.ttl(),
        protocol: p.protocol().into(),
        src: p.src_addr(),
        dst: p.dst_addr(),
        checksum_ok: p.verify_checksum() == Verdict::Good,
    })
}

/// One IPv4 option (RFC 791 §3.1): EOL and NOP are one byte, the rest type-length-value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpOption {
    /// The option type byte (copied flag, class, number).
    pub kind: u8,
    /// Where the option lives inside the options area.
    pub range: std::ops::Range<usize>,
}

impl IpOption {
    /// The registry name of an option type.
    pub fn name(kind: u8) -> &'static str {
        match kind {
            0 => "End of Option List",
            1 => "No-Operation",
            7 => "Record Route",
            68 => "Timestamp",
            130 => "Security",
            131 => "Loose Source Route",
            137 => "Strict Source Route",
            148 => "Router Alert",
            _ => "unknown option",
        }
    }
}

/// Splits an options area into options; a length byte that overruns the area is an error.
pub fn parse_options(opts: &[u8]) -> Result<Vec<IpOption>, WireError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < opts.len() {
        let kind = opts[i];
        match kind {
            0 => {
                out.push(IpOption {
                    kind,
                    range: i..opts.len(),
                });
                break;
            }
            1 => {
                out.push(IpOption {
                    kind,
                    range: i..i + 1,
                });
                i += 1;
            }
            _ => {
                let len = usize::from(*opts.get(i + 1).ok_or(WireError::Malformed {
                    protocol: Protocol::Ipv4,
                    rule: "an option is missing its length byte",
                })?);
                if len < 2 || i + len > opts.len() {
                    return Err(WireError::Malformed {
                        protocol: Protocol::Ipv4,
                        rule: "an option's length runs past the header",
                    });
                }
                out.push(IpOption {
                    kind,
                    range: i..i + len,
                });
                i += len;
            }
        }
    }
    Ok(out)
}

/// A plain description of an IPv4 header without options, to build packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// The payload's protocol.
    pub protocol: IpProtocol,
    /// Payload length in bytes.
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment.
    pub dont_frag: bool,
}

impl Repr {
    /// Reads a header (options ignored) back into a `Repr`.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Repr {
        Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            protocol: p.protocol(),
            payload_len: usize::from(p.total_len()).saturating_sub(p.header_len()),
            ttl: p.ttl(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
        }
    }

    /// Writes the 20-byte header, checksum included, into `buf[..20]`.
    pub fn emit(&self, buf: &mut [u8]) {
        let b = &mut buf[..HEADER_LEN];
        b[field::VER_IHL] = 0x45;
        b[field::DSCP_ECN] = 0;
        let total = (HEADER_LEN + self.payload_len) as u16;
        b[field::LENGTH].copy_from_slice(&total.to_be_bytes());
        b[field::IDENT].copy_from_slice(&self.ident.to_be_bytes());
        let flags = if self.dont_frag { FLG_DF } else { 0 };
        b[field::FLG_OFF].copy_from_slice(&flags.to_be_bytes());
        b[field::TTL] = self.ttl;
        b[field::PROTOCOL] = self.protocol.into();
        b[field::CHECKSUM].copy_from_slice(&[0, 0]);
        b[field::SRC_ADDR].copy_from_slice(&self.src_addr.octets());
        b[field::DST_ADDR].copy_from_slice(&self.dst_addr.octets());
        let c = checksum::checksum(b);
        b[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-decoded from a real capture (the classic example on Wikipedia's
    // "IPv4 header checksum" page): 45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7
    const HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    #[test]
    fn getters_read_the_hand_decoded_header() {
        let p = Packet::new_unchecked(&HEADER[..]);
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 0x73);
        assert_eq!(p.ident(), 0);
        assert!(p.dont_frag());
        assert!(!p.more_frags());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), IpProtocol::Udp);
        assert_eq!(p.checksum(), 0xb861);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(192, 168, 0, 199));
        assert_eq!(p.verify_checksum(), Verdict::Good);
        assert!(p.payload().is_empty(), "only the header was captured");
    }

    #[test]
    fn a_flipped_bit_fails_the_checksum_and_names_the_right_value() {
        let mut h = HEADER;
        h[10] = 0xb8;
        h[11] = 0x62;
        assert_eq!(
            Packet::new_unchecked(&h[..]).verify_checksum(),
            Verdict::Bad { expected: 0xb861 }
        );
    }

    #[test]
    fn fragment_fields() {
        // MF set, offset 185 units = 1480 bytes: the second fragment of a 3000-byte ping.
        let mut h = HEADER;
        h[6] = 0x20;
        h[7] = 0xb9;
        let p = Packet::new_unchecked(&h[..]);
        assert!(p.more_frags());
        assert!(!p.dont_frag());
        assert_eq!(p.frag_offset(), 1480);
    }

    #[test]
    fn rules_are_checked_one_at_a_time() {
        let mut h = HEADER;
        h[0] = 0x65;
        assert!(matches!(
            Packet::new_checked(&h[..]),
            Err(WireError::WrongVersion { found: 6, .. })
        ));
        h[0] = 0x44;
        assert!(matches!(
            Packet::new_checked(&h[..]),
            Err(WireError::HeaderLengthTooSmall { announced: 16, .. })
        ));
        h[0] = 0x46;
        assert!(matches!(
            Packet::new_checked(&h[..]),
            Err(WireError::Truncated {
                needed: 24,
                had: 20,
                ..
            })
        ));
        let mut h = HEADER;
        h[2] = 0;
        h[3] = 19;
        assert!(matches!(
            Packet::new_checked(&h[..]),
            Err(WireError::LengthBelowHeader { announced: 19, .. })
        ));
    }

    #[test]
    fn options_split_into_type_length_value() {
        // NOP, Router Alert (148, len 4, value 0), EOL, padding.
        let opts = [1, 148, 4, 0, 0, 0, 0, 0];
        let o = parse_options(&opts).unwrap();
        assert_eq!(o.len(), 3);
        assert_eq!((o[0].kind, o[0].range.clone()), (1, 0..1));
        assert_eq!((o[1].kind, o[1].range.clone()), (148, 1..5));
        assert_eq!(IpOption::name(o[1].kind), "Router Alert");
        assert_eq!(o[2].kind, 0);
        assert!(parse_options(&[7, 9, 4]).is_err(), "length past the end");
        assert!(parse_options(&[7]).is_err(), "missing length");
    }

    #[test]
    fn emit_then_parse_round_trips_into_a_prefilled_buffer() {
        let repr = Repr {
            src_addr: Ipv4Addr::new(192, 168, 0, 1),
            dst_addr: Ipv4Addr::new(192, 168, 0, 199),
            protocol: IpProtocol::Udp,
            payload_len: 0x73 - 20,
            ttl: 64,
            ident: 0,
            dont_frag: true,
        };
        let mut buf = [0xa5u8; 20];
        repr.emit(&mut buf);
        assert_eq!(buf, HEADER, "every byte written, checksum included");
        assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()), repr);
    }
}
