//! ICMP (RFC 792) and ICMPv6 (RFC 4443): the network layer's error and
//! diagnostic messages (ping is Echo Request / Echo Reply).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type      |     Code      |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Identifier (echo)           |   Sequence Number (echo)      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! ICMP's checksum covers the message; ICMPv6's also an IPv6 pseudo-header.

use super::checksum::{self, Verdict};
use super::wire::{be16, need, WireError};
use crate::layers::Protocol;

mod field {
    use crate::inspect::wire::Field;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const ECHO_IDENT: Field = 4..6;
    pub const ECHO_SEQNO: Field = 6..8;
}

/// Length of the ICMP header (type, code, checksum and the 4-byte rest-of-header).
pub const HEADER_LEN: usize = field::ECHO_SEQNO.end;

/// A view of an ICMP or ICMPv6 message (the layouts share the first 8 bytes).
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
    protocol: Protocol,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps an ICMP (`Protocol::Icmp`) or ICMPv6 (`Protocol::Icmpv6`) message.
    pub fn new_checked(buffer: T, protocol: Protocol) -> Result<Self, WireError> {
        need(protocol, HEADER_LEN, buffer.as_ref().len())?;
        Ok(Packet { buffer, protocol })
    }
    /// Message type.
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }
    /// Message code (subtype).
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }
    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }
    /// Echo identifier (meaningful for echo request/reply).
    pub fn echo_ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ECHO_IDENT)
    }
    /// Echo sequence number.
    pub fn echo_seq_no(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ECHO_SEQNO)
    }
    /// Whether this is an echo request or reply (where the id/seq fields mean something).
    pub fn is_echo(&self) -> bool {
        match self.protocol {
            Protocol::Icmpv6 => matches!(self.msg_type(), 128 | 129),
            _ => matches!(self.msg_type(), 0 | 8),
        }
    }
    /// The message name from the type registry.
    pub fn type_name(&self) -> &'static str {
        match (self.protocol, self.msg_type()) {
            (Protocol::Icmpv6, 1) => "Destination Unreachable",
            (Protocol::Icmpv6, 2) => "Packet Too Big",
            (Protocol::Icmpv6, 3) => "Time Exceeded",
            (Protocol::Icmpv6, 4) => "Parameter Problem",
            (Protocol::Icmpv6, 128) => "Echo Request",
            (Protocol::Icmpv6, 129) => "Echo Reply",
            (Protocol::Icmpv6, 133) => "Router Solicitation",
            (Protocol::Icmpv6, 134) => "Router Advertisement",
            (Protocol::Icmpv6, 135) => "Neighbor Solicitation",
            (Protocol::Icmpv6, 136) => "Neighbor Advertisement",
            (Protocol::Icmpv6, _) => "unknown",
            (_, 0) => "Echo Reply",
            (_, 3) => "Destination Unreachable",
            (_, 5) => "Redirect",
            (_, 8) => "Echo Request",
            (_, 11) => "Time Exceeded",
            (_, 12) => "Parameter Problem",
            _ => "unknown",
        }
    }
    /// Verifies the checksum; `pseudo` is the IPv6 pseudo-header sum for ICMPv6, 0 for ICMP.
    /// A message cut short by the capture cannot be verified.
    pub fn verify_checksum(&self, pseudo: u64, announced_len: usize) -> Verdict {
        let b = self.buffer.as_ref();
        if b.len() < announced_len {
            return Verdict::Unverified;
        }
        let b = &b[..announced_len];
        if checksum::finish(checksum::sum(pseudo, b)) == 0 {
            Verdict::Good
        } else {
            let without = checksum::sum(pseudo, b) + 0x1_0000 * 0xffff - u64::from(self.checksum());
            Verdict::Bad {
                expected: checksum::finish(without),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-decoded: `ping -c1 127.0.0.1` echo request, id 0x0001 seq 1, 4 payload bytes "abcd".
    // Checksum worked out by hand: 0800 + 0001 + 0001 + 6162 + 6364 = ccc8, complemented = 3337.
    const ECHO: [u8; 12] = [
        8, 0, 0x33, 0x37, 0x00, 0x01, 0x00, 0x01, b'a', b'b', b'c', b'd',
    ];

    #[test]
    fn echo_request_fields_and_checksum() {
        let p = Packet::new_checked(&ECHO[..], Protocol::Icmp).unwrap();
        assert_eq!(p.msg_type(), 8);
        assert_eq!(p.type_name(), "Echo Request");
        assert!(p.is_echo());
        assert_eq!(p.echo_ident(), 1);
        assert_eq!(p.echo_seq_no(), 1);
        assert_eq!(p.verify_checksum(0, ECHO.len()), Verdict::Good);
        let mut bad = ECHO;
        bad[3] = 0x38;
        assert_eq!(
            Packet::new_checked(&bad[..], Protocol::Icmp)
                .unwrap()
                .verify_checksum(0, 12),
            Verdict::Bad { expected: 0x3337 }
        );
        assert_eq!(
            p.verify_checksum(0, 20),
            Verdict::Unverified,
            "cut short by the capture"
        );
    }

    #[test]
    fn icmpv6_names_differ() {
        let p = Packet::new_checked(&[128u8, 0, 0, 0, 0, 0, 0, 0][..], Protocol::Icmpv6).unwrap();
        assert_eq!(p.type_name(), "Echo Request");
        assert!(p.is_echo());
        assert!(Packet::new_checked(&[0u8; 7][..], Protocol::Icmp).is_err());
    }
}
