//! ARP (RFC 826): "who has 192.0.2.1? tell 192.0.2.2" — maps IPv4 addresses to
//! MAC addresses on one link.
//!
//! ```text
//!  0        2        4    5    6        8
//! +--------+--------+----+----+--------+
//! | HTYPE  | PTYPE  |HLEN|PLEN|  OPER  |
//! +--------+--------+----+----+--------+
//! | SHA (HLEN) | SPA (PLEN) | THA (HLEN) | TPA (PLEN) |
//! ```

use super::wire::{be16, need, WireError};
use crate::layers::Protocol;
use std::ops::Range;

mod field {
    use crate::inspect::wire::Field;
    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;
    pub const SHA: usize = 8;
}

/// The fixed part of an ARP packet, before the addresses.
pub const FIXED_LEN: usize = field::SHA;

/// ARP operation codes (RFC 826, RFC 5494 registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// 1 — request: who has the target protocol address?
    Request,
    /// 2 — reply: the sender has it.
    Reply,
    /// Any other code.
    Unknown(u16),
}

impl From<u16> for Operation {
    fn from(v: u16) -> Self {
        match v {
            1 => Operation::Request,
            2 => Operation::Reply,
            o => Operation::Unknown(o),
        }
    }
}

impl Operation {
    /// The registry name.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Request => "request",
            Operation::Reply => "reply",
            Operation::Unknown(_) => "unknown",
        }
    }
}

/// A view of an ARP packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` after checking the fixed part and the four addresses are there.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = Packet { buffer };
        p.check_len()?;
        Ok(p)
    }

    /// Checks the fixed part, then the addresses whose lengths it announces.
    pub fn check_len(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        need(Protocol::Arp, FIXED_LEN, b.len())?;
        need(Protocol::Arp, self.total_len(), b.len())
    }

    fn total_len(&self) -> usize {
        FIXED_LEN + 2 * usize::from(self.hardware_len()) + 2 * usize::from(self.protocol_len())
    }

    /// Hardware type (1 = Ethernet).
    pub fn hardware_type(&self) -> u16 {
        be16(self.buffer.as_ref(), field::HTYPE)
    }
    /// Protocol type (an EtherType; 0x0800 = IPv4).
    pub fn protocol_type(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PTYPE)
    }
    /// Hardware address length (6 for Ethernet).
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }
    /// Protocol address length (4 for IPv4).
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }
    /// The operation.
    pub fn operation(&self) -> Operation {
        be16(self.buffer.as_ref(), field::OPER).into()
    }
    /// Where the sender hardware address lives.
    pub fn sha_range(&self) -> Range<usize> {
        field::SHA..field::SHA + usize::from(self.hardware_len())
    }
    /// Where the sender protocol address lives.
    pub fn spa_range(&self) -> Range<usize> {
        let s = self.sha_range().end;
        s..s + usize::from(self.protocol_len())
    }
    /// Where the target hardware address lives.
    pub fn tha_range(&self) -> Range<usize> {
        let s = self.spa_range().end;
        s..s + usize::from(self.hardware_len())
    }
    /// Where the target protocol address lives.
    pub fn tpa_range(&self) -> Range<usize> {
        let s = self.tha_range().end;
        s..s + usize::from(self.protocol_len())
    }
    /// Sender hardware address bytes.
    pub fn sender_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.sha_range()]
    }
    /// Sender protocol address bytes.
    pub fn sender_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.spa_range()]
    }
    /// Target hardware address bytes.
    pub fn target_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.tha_range()]
    }
    /// Target protocol address bytes.
    pub fn target_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.tpa_range()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-decoded: request "who has 10.0.0.1? tell 10.0.0.2" from 52:54:00:12:34:56.
    const REQUEST: [u8; 28] = [
        0x00, 0x01, // HTYPE Ethernet
        0x08, 0x00, // PTYPE IPv4
        6, 4, // HLEN, PLEN
        0x00, 0x01, // request
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // SHA
        10, 0, 0, 2, // SPA
        0, 0, 0, 0, 0, 0, // THA unknown
        10, 0, 0, 1, // TPA
    ];

    #[test]
    fn request_fields() {
        let p = Packet::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(p.hardware_type(), 1);
        assert_eq!(p.protocol_type(), 0x0800);
        assert_eq!(p.operation(), Operation::Request);
        assert_eq!(p.sender_hardware_addr(), &[0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert_eq!(p.sender_protocol_addr(), &[10, 0, 0, 2]);
        assert_eq!(p.target_protocol_addr(), &[10, 0, 0, 1]);
        assert_eq!(p.tpa_range(), 24..28);
    }

    #[test]
    fn addresses_cut_short_are_truncated() {
        assert_eq!(
            Packet::new_checked(&REQUEST[..27]).unwrap_err(),
            WireError::Truncated {
                protocol: Protocol::Arp,
                needed: 28,
                had: 27
            }
        );
    }
}
