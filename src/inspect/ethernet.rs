//! Ethernet II frames (IEEE 802.3) and 802.1Q VLAN tags — the link layer (OSI 2).
//!
//! ```text
//!  0                   6                  12        14
//! +-------------------+------------------+----------+----------------
//! |  destination MAC  |    source MAC    | EtherType| payload ...
//! +-------------------+------------------+----------+----------------
//! 802.1Q inserts 4 bytes before the EtherType: TPID 0x8100, then
//! | PCP (3) | DEI (1) | VLAN ID (12) | and the inner EtherType follows.
//! ```
//! The preamble and the frame check sequence are not captured by the OS.

use super::wire::{be16, need, MacAddr, WireError};
use crate::layers::Protocol;

mod field {
    use crate::inspect::wire::Field;
    pub const DESTINATION: Field = 0..6;
    pub const SOURCE: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const PAYLOAD: usize = 14;
}

/// Length of an Ethernet II header without VLAN tags.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// Registry of EtherTypes (IEEE): which protocol the payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtherType {
    /// 0x0800 — IPv4.
    Ipv4,
    /// 0x0806 — ARP.
    Arp,
    /// 0x8100 — an 802.1Q VLAN tag follows.
    Vlan,
    /// 0x88a8 — an 802.1ad (QinQ) service tag follows.
    QinQ,
    /// 0x86dd — IPv6.
    Ipv6,
    /// Any other value.
    Unknown(u16),
}

impl From<u16> for EtherType {
    fn from(v: u16) -> Self {
        match v {
            0x0800 => EtherType::Ipv4,
            0x0806 => EtherType::Arp,
            0x8100 => EtherType::Vlan,
            0x88a8 => EtherType::QinQ,
            0x86dd => EtherType::Ipv6,
            other => EtherType::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(v: EtherType) -> u16 {
        match v {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Vlan => 0x8100,
            EtherType::QinQ => 0x88a8,
            EtherType::Ipv6 => 0x86dd,
            EtherType::Unknown(other) => other,
        }
    }
}

impl EtherType {
    /// The registry name, for display.
    pub fn name(self) -> &'static str {
        match self {
            EtherType::Ipv4 => "IPv4",
            EtherType::Arp => "ARP",
            EtherType::Vlan => "802.1Q VLAN",
            EtherType::QinQ => "802.1ad QinQ",
            EtherType::Ipv6 => "IPv6",
            EtherType::Unknown(_) => "unknown",
        }
    }
}

/// A view of an Ethernet II frame.
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps `buffer` without checking its length (getters may then panic).
    pub fn new_unchecked(buffer: T) -> Self {
        Frame { buffer }
    }

    /// Wraps `buffer` after [`Frame::check_len`].
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let f = Frame::new_unchecked(buffer);
        f.check_len()?;
        Ok(f)
    }

    /// Checks that the 14-byte header is there.
    pub fn check_len(&self) -> Result<(), WireError> {
        need(Protocol::Ethernet, HEADER_LEN, self.buffer.as_ref().len())
    }

    /// The destination MAC address.
    pub fn destination(&self) -> MacAddr {
        MacAddr::from_slice(&self.buffer.as_ref()[field::DESTINATION])
    }

    /// The source MAC address.
    pub fn source(&self) -> MacAddr {
        MacAddr::from_slice(&self.buffer.as_ref()[field::SOURCE])
    }

    /// The EtherType (0x8100 when a VLAN tag follows).
    pub fn ethertype(&self) -> EtherType {
        be16(self.buffer.as_ref(), field::ETHERTYPE).into()
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }

    /// Where each field lives, for the inspector's byte labels.
    pub const FIELDS: [(&'static str, std::ops::Range<usize>); 3] = [
        ("destination", field::DESTINATION),
        ("source", field::SOURCE),
        ("type", field::ETHERTYPE),
    ];
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Sets the destination MAC address.
    pub fn set_destination(&mut self, a: MacAddr) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&a.0);
    }
    /// Sets the source MAC address.
    pub fn set_source(&mut self, a: MacAddr) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&a.0);
    }
    /// Sets the EtherType.
    pub fn set_ethertype(&mut self, t: EtherType) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&u16::from(t).to_be_bytes());
    }
}

mod vlan_field {
    use crate::inspect::wire::Field;
    pub const TCI: Field = 0..2;
    pub const ETHERTYPE: Field = 2..4;
}

/// Length of one 802.1Q tag after its TPID (TCI + inner EtherType).
pub const VLAN_TAG_LEN: usize = 4;

/// A view of an 802.1Q tag: the 4 bytes after the 0x8100 TPID.
#[derive(Debug, Clone)]
pub struct VlanTag<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> VlanTag<T> {
    /// Wraps `buffer` after checking it holds a whole tag.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        need(Protocol::Ethernet, VLAN_TAG_LEN, buffer.as_ref().len())?;
        Ok(VlanTag { buffer })
    }
    /// Priority code point (3 bits, IEEE 802.1p class of service).
    pub fn priority(&self) -> u8 {
        self.buffer.as_ref()[0] >> 5
    }
    /// Drop eligible indicator (1 bit).
    pub fn drop_eligible(&self) -> bool {
        self.buffer.as_ref()[0] & 0x10 != 0
    }
    /// VLAN identifier (12 bits).
    pub fn vlan_id(&self) -> u16 {
        be16(self.buffer.as_ref(), vlan_field::TCI) & 0x0fff
    }
    /// The inner EtherType.
    pub fn ethertype(&self) -> EtherType {
        be16(self.buffer.as_ref(), vlan_field::ETHERTYPE).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A frame hand-decoded from a real capture: broadcast ARP from 52:54:00:12:34:56.
    const ARP_FRAME_HEAD: [u8; 14] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination: broadcast
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // source
        0x08, 0x06, // EtherType ARP
    ];

    #[test]
    fn getters_read_the_hand_decoded_fields() {
        let f = Frame::new_checked(&ARP_FRAME_HEAD[..]).unwrap();
        assert_eq!(f.destination(), MacAddr::BROADCAST);
        assert_eq!(f.source().to_string(), "52:54:00:12:34:56");
        assert_eq!(f.ethertype(), EtherType::Arp);
        assert!(f.payload().is_empty());
    }

    #[test]
    fn thirteen_bytes_is_truncated() {
        let err = Frame::new_checked(&ARP_FRAME_HEAD[..13]).unwrap_err();
        assert_eq!(
            err,
            WireError::Truncated {
                protocol: Protocol::Ethernet,
                needed: 14,
                had: 13
            }
        );
    }

    #[test]
    fn setters_write_every_field_into_a_prefilled_buffer() {
        let mut buf = [0xa5u8; 14];
        let mut f = Frame::new_unchecked(&mut buf[..]);
        f.set_destination(MacAddr::BROADCAST);
        f.set_source(MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
        f.set_ethertype(EtherType::Arp);
        assert_eq!(buf, ARP_FRAME_HEAD);
    }

    #[test]
    fn vlan_tag_fields() {
        // PCP 5, DEI 0, VID 100 (0xa064), inner IPv4.
        let t = VlanTag::new_checked(&[0xa0, 0x64, 0x08, 0x00][..]).unwrap();
        assert_eq!(t.priority(), 5);
        assert!(!t.drop_eligible());
        assert_eq!(t.vlan_id(), 100);
        assert_eq!(t.ethertype(), EtherType::Ipv4);
    }

    #[test]
    fn ethertype_registry_round_trips() {
        for v in [0x0800u16, 0x0806, 0x8100, 0x88a8, 0x86dd, 0x1234] {
            assert_eq!(u16::from(EtherType::from(v)), v);
        }
    }
}
