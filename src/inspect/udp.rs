//! UDP (RFC 768) — datagrams with ports, a length and a checksum, nothing more.
//!
//! ```text
//!  0      7 8     15 16    23 24    31
//! +--------+--------+--------+--------+
//! |     Source      |   Destination   |
//! |      Port       |      Port       |
//! +--------+--------+--------+--------+
//! |     Length      |    Checksum     |
//! +--------+--------+--------+--------+
//! |          data octets ...
//! ```

use super::checksum::{self, Verdict};
use super::wire::{be16, need, WireError};
use crate::layers::Protocol;

mod field {
    use crate::inspect::wire::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
}

/// Length of the UDP header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

/// A view of a UDP datagram.
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
    /// Checks the 8-byte header is there and that Length covers it.
    pub fn check_len(&self) -> Result<(), WireError> {
        need(Protocol::Udp, HEADER_LEN, self.buffer.as_ref().len())?;
        if usize::from(self.len()) < HEADER_LEN {
            return Err(WireError::LengthBelowHeader {
                protocol: Protocol::Udp,
                announced: usize::from(self.len()),
                header: HEADER_LEN,
            });
        }
        Ok(())
    }
    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT)
    }
    /// Length: header plus data, in bytes.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }
    /// Checksum field (0 over IPv4 means "not computed").
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }
    /// The data: up to Length, or to the end of what was captured.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[HEADER_LEN..usize::from(self.len()).min(b.len())]
    }
    /// Verifies the checksum with the pseudo-header sum; a zero field over IPv4
    /// (`zero_allowed`) means the sender did not compute one (RFC 768).
    pub fn verify_checksum(&self, pseudo: u64, zero_allowed: bool) -> Verdict {
        if zero_allowed && self.checksum() == 0 {
            return Verdict::Unverified;
        }
        super::tcp::verify(self.buffer.as_ref(), pseudo, usize::from(self.len()), 6)
    }
}

/// Where each field lives, for the inspector's labels.
pub const FIELDS: [(&str, std::ops::Range<usize>); 4] = [
    ("source port", field::SRC_PORT),
    ("destination port", field::DST_PORT),
    ("length", field::LENGTH),
    ("checksum", field::CHECKSUM),
];

/// A plain description of a UDP header, to build datagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

impl Repr {
    /// Writes the header into `datagram[..8]` (Length = the whole slice) and the checksum.
    pub fn emit(&self, datagram: &mut [u8], pseudo: u64) {
        let len = datagram.len() as u16;
        datagram[field::SRC_PORT].copy_from_slice(&self.src_port.to_be_bytes());
        datagram[field::DST_PORT].copy_from_slice(&self.dst_port.to_be_bytes());
        datagram[field::LENGTH].copy_from_slice(&len.to_be_bytes());
        datagram[field::CHECKSUM].copy_from_slice(&[0, 0]);
        let mut c = checksum::finish(checksum::sum(pseudo, datagram));
        if c == 0 {
            c = 0xffff; // RFC 768: a computed zero is sent as all ones
        }
        datagram[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    // Hand-decoded DNS query header from a real capture: 54321 → 53, length 41, checksum 0x0000 (none).
    const HEADER: [u8; 8] = [0xd4, 0x31, 0x00, 0x35, 0x00, 0x29, 0x00, 0x00];

    #[test]
    fn getters_and_zero_checksum() {
        let p = Packet::new_checked(&HEADER[..]).unwrap();
        assert_eq!(p.src_port(), 54321);
        assert_eq!(p.dst_port(), 53);
        assert_eq!(p.len(), 41);
        assert_eq!(p.verify_checksum(0, true), Verdict::Unverified);
        assert!(p.payload().is_empty(), "only the header was captured");
    }

    #[test]
    fn length_below_header_is_refused() {
        let h = [0, 1, 0, 2, 0, 7, 0, 0];
        assert!(matches!(
            Packet::new_checked(&h[..]),
            Err(WireError::LengthBelowHeader { announced: 7, .. })
        ));
    }

    #[test]
    fn emit_parse_and_verify() {
        // RFC 768 checksum worked out by hand for 127.0.0.1:1 → 127.0.0.1:2, data "hi":
        // pseudo 7f00+0001+7f00+0001+0011+000a, header 0001+0002+000a, data 6869 → sum 0x16693
        // → fold 0x6694 → complement 0x996b.
        let src = Ipv4Addr::LOCALHOST;
        let mut d = [0xa5u8; 10];
        d[8..].copy_from_slice(b"hi");
        let pseudo = checksum::pseudo_v4(src, src, 17, 10);
        Repr {
            src_port: 1,
            dst_port: 2,
        }
        .emit(&mut d, pseudo);
        assert_eq!(d, [0, 1, 0, 2, 0, 10, 0x99, 0x6b, b'h', b'i']);
        let p = Packet::new_checked(&d[..]).unwrap();
        assert_eq!(p.verify_checksum(pseudo, true), Verdict::Good);
        assert_eq!(p.payload(), b"hi");
    }
}
