//! What every wire view shares: the error a view reports when its bytes break
//! a protocol rule, and big-endian field reads.
//!
//! Every protocol module (`ethernet`, `ipv4`, `tcp`, ...) has the same shape
//! (after smoltcp's `wire/`): a private `mod field` of byte ranges drawn under
//! the RFC's diagram, a view `Packet<T: AsRef<[u8]>>` with `new_checked` /
//! `check_len`, and one getter per header field. After `new_checked` succeeds no
//! getter panics, whatever the bytes.

use crate::layers::Protocol;
use std::ops::Range;
use thiserror::Error;

/// A byte-range of a header: where one field lives, counted from the header's first byte.
pub type Field = Range<usize>;

/// Why a view refused its bytes. Each variant is one protocol rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// Fewer bytes were captured than the header needs.
    #[error("{protocol} header truncated: needs {needed} bytes, only {had} captured")]
    Truncated {
        /// The protocol whose header is cut short.
        protocol: Protocol,
        /// Bytes the header (or the length it announces) needs.
        needed: usize,
        /// Bytes that were there.
        had: usize,
    },
    /// The version field does not name this protocol (IPv4 must say 4, IPv6 6).
    #[error("{protocol}: version field is {found}, expected {expected}")]
    WrongVersion {
        /// The protocol being parsed.
        protocol: Protocol,
        /// The version found.
        found: u8,
        /// The version the protocol requires.
        expected: u8,
    },
    /// A header-length field announces less than the fixed header (IPv4 IHL < 5, TCP data offset < 5).
    #[error(
        "{protocol}: header length field says {announced} bytes, below the minimum of {minimum}"
    )]
    HeaderLengthTooSmall {
        /// The protocol being parsed.
        protocol: Protocol,
        /// Header length the field announces, in bytes.
        announced: usize,
        /// The smallest legal header, in bytes.
        minimum: usize,
    },
    /// A total-length field is smaller than the header it must include.
    #[error(
        "{protocol}: total length {announced} is smaller than its own header ({header} bytes)"
    )]
    LengthBelowHeader {
        /// The protocol being parsed.
        protocol: Protocol,
        /// The total length announced.
        announced: usize,
        /// The header length.
        header: usize,
    },
    /// Text that must be ASCII/UTF-8 (an HTTP head, a DNS label) is not.
    #[error("{protocol}: {rule}")]
    Malformed {
        /// The protocol being parsed.
        protocol: Protocol,
        /// The rule that was broken, e.g. "DNS name pointer loops".
        rule: &'static str,
    },
}

/// Checks that `had` bytes cover `needed`, as a [`WireError::Truncated`] for `protocol`.
pub fn need(protocol: Protocol, needed: usize, had: usize) -> Result<(), WireError> {
    if had < needed {
        Err(WireError::Truncated {
            protocol,
            needed,
            had,
        })
    } else {
        Ok(())
    }
}

/// Big-endian u16 at `r` (two bytes). The caller has checked the length.
#[inline]
pub fn be16(b: &[u8], r: Field) -> u16 {
    u16::from_be_bytes([b[r.start], b[r.start + 1]])
}

/// Big-endian u32 at `r` (four bytes). The caller has checked the length.
#[inline]
pub fn be32(b: &[u8], r: Field) -> u32 {
    u32::from_be_bytes([b[r.start], b[r.start + 1], b[r.start + 2], b[r.start + 3]])
}

/// A MAC address, printed the usual way (`aa:bb:cc:dd:ee:ff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The broadcast address ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// The address in the first six bytes of `b` (the caller has checked the length).
    pub fn from_slice(b: &[u8]) -> MacAddr {
        let mut a = [0; 6];
        a.copy_from_slice(&b[..6]);
        MacAddr(a)
    }
}

impl std::fmt::Display for MacAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            a[0], a[1], a[2], a[3], a[4], a[5]
        )
    }
}
