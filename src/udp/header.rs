//! The sequence header netlab puts in front of every datagram, and the size cap.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        sequence number                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                   timestamp (sender clock, µs)                |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        message bytes ...                      |
//! ```
//!
//! Both fields are big-endian (network byte order). The sequence number counts
//! a sender's datagrams from 0, one per datagram; the timestamp is the sender's
//! clock in microseconds, wrapping at 2³², as RTP's timestamp does (RFC 3550
//! §5.1) — only differences between timestamps mean anything.

use std::ops::Range;

/// Byte ranges of the header fields (see the diagram above).
mod field {
    use super::Range;
    /// The sender's sequence number.
    pub const SEQ: Range<usize> = 0..4;
    /// The sender's clock when the datagram left, in microseconds.
    pub const TIMESTAMP: Range<usize> = 4..8;
}

/// Length of the sequence header.
pub const HEADER_LEN: usize = field::TIMESTAMP.end;

/// The largest UDP payload netlab sends: 1472 bytes.
///
/// An Ethernet link carries at most 1500 bytes of IP packet (its MTU). An IPv4
/// header takes 20 of them and the UDP header 8, leaving 1472. A bigger
/// datagram is not refused by the kernel — it is cut into IP fragments
/// (RFC 791 §2.3), and losing *any* fragment loses the whole datagram, so loss
/// multiplies with size; many paths also drop fragments outright (RFC 8900).
/// Staying under one MTU keeps "one message = one packet", which is what makes
/// loss countable.
pub const MAX_DATAGRAM_PAYLOAD: usize = 1500 - 20 - 8;

/// The largest UDP payload one 1500-byte IPv6 packet carries: 1500 − 40 (IPv6
/// header) − 8 (UDP header) = 1452 bytes.
///
/// netlab does not use it: it keeps [`MAX_DATAGRAM_PAYLOAD`], the IPv4 figure,
/// whatever the address family, so over IPv6 on a 1500-byte link its largest
/// datagrams (1453 to 1472 bytes) would leave the sending host as two fragments.
/// Named here so lesson 05 and its test can say so with the right number.
pub const IPV6_MAX_DATAGRAM_PAYLOAD: usize = 1500 - 40 - 8;

/// The most data the UDP length field can describe: its 16 bits count the
/// 8-byte header too, so 65,535 − 8 = 65,527 bytes (RFC 768).
pub const UDP_MAX_DATA: usize = 65_535 - 8;

/// The most UDP data one IPv4 packet can carry: the IPv4 total length (16 bits)
/// counts its own 20-byte header and the UDP header, so 65,535 − 20 − 8 = 65,507
/// bytes (RFC 791). A bigger `send_to` over IPv4 fails (`EMSGSIZE` on Linux).
pub const IPV4_MAX_UDP_DATA: usize = 65_535 - 20 - 8;

/// The largest message that fits one datagram after the sequence header.
pub const MAX_MESSAGE: usize = MAX_DATAGRAM_PAYLOAD - HEADER_LEN;

/// Why a datagram could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatagramError {
    /// A datagram shorter than the sequence header cannot be numbered.
    #[error("datagram too short: the sequence header needs {HEADER_LEN} bytes, got {got}")]
    TooShort {
        /// Bytes received.
        got: usize,
    },
    /// The message does not fit one unfragmented datagram.
    #[error("message of {len} bytes is too large for one datagram: at most {MAX_MESSAGE} bytes fit under a 1500-byte MTU; split it or use TCP")]
    TooLarge {
        /// The message length.
        len: usize,
    },
}

/// The header fields of one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatagramHeader {
    /// The sender's sequence number (0, 1, 2, ... per sender).
    pub seq: u32,
    /// The sender's clock in microseconds when it was sent (wraps at 2³²).
    pub timestamp: u32,
}

impl DatagramHeader {
    /// Reads the header off the front of a datagram; returns it and the message.
    pub fn parse(datagram: &[u8]) -> Result<(DatagramHeader, &[u8]), DatagramError> {
        if datagram.len() < HEADER_LEN {
            return Err(DatagramError::TooShort {
                got: datagram.len(),
            });
        }
        let word = |r: Range<usize>| {
            let b = &datagram[r];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        };
        let header = DatagramHeader {
            seq: word(field::SEQ),
            timestamp: word(field::TIMESTAMP),
        };
        Ok((header, &datagram[HEADER_LEN..]))
    }

    /// Writes the header into the first [`HEADER_LEN`] bytes of `buf`.
    ///
    /// # Panics
    /// If `buf` is shorter than [`HEADER_LEN`] (a caller's bug, never peer input).
    pub fn emit(&self, buf: &mut [u8]) {
        buf[field::SEQ].copy_from_slice(&self.seq.to_be_bytes());
        buf[field::TIMESTAMP].copy_from_slice(&self.timestamp.to_be_bytes());
    }

    /// A whole datagram: this header, then `message`; refused if it would not fit one MTU.
    pub fn encode(&self, message: &[u8]) -> Result<Vec<u8>, DatagramError> {
        if message.len() > MAX_MESSAGE {
            return Err(DatagramError::TooLarge { len: message.len() });
        }
        let mut out = vec![0; HEADER_LEN + message.len()];
        self.emit(&mut out);
        out[HEADER_LEN..].copy_from_slice(message);
        Ok(out)
    }
}

/// The sending side: numbers a sender's datagrams 0, 1, 2, ... (wrapping at 2³²).
#[derive(Debug, Clone, Default)]
pub struct Sequencer {
    next: u32,
}

impl Sequencer {
    /// A sender starting at sequence number 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next datagram: this sender's next number, `timestamp`, then `message`.
    /// An oversized message is refused and uses up no number.
    pub fn encode(&mut self, timestamp: u32, message: &[u8]) -> Result<Vec<u8>, DatagramError> {
        let datagram = DatagramHeader {
            seq: self.next,
            timestamp,
        }
        .encode(message)?;
        self.next = self.next.wrapping_add(1);
        Ok(datagram)
    }

    /// The number the next datagram will carry.
    pub fn peek(&self) -> u32 {
        self.next
    }
}

impl std::fmt::Display for DatagramHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seq {} ts {}µs", self.seq, self.timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn parses_a_hand_decoded_datagram() {
        // seq 0x00000129 = 297, timestamp 0x000f4240 = 1,000,000 µs, then "hi".
        let bytes = [0, 0, 1, 0x29, 0, 0x0f, 0x42, 0x40, b'h', b'i'];
        let (h, msg) = DatagramHeader::parse(&bytes).unwrap();
        assert_eq!(
            h,
            DatagramHeader {
                seq: 297,
                timestamp: 1_000_000
            }
        );
        assert_eq!(msg, b"hi");
    }

    #[test]
    fn emits_every_byte_of_the_header() {
        let mut buf = [0xa5u8; 10];
        DatagramHeader {
            seq: 0x0102_0304,
            timestamp: 0xfffe_fdfc,
        }
        .emit(&mut buf);
        assert_eq!(buf, [1, 2, 3, 4, 0xff, 0xfe, 0xfd, 0xfc, 0xa5, 0xa5]);
    }

    #[test]
    fn short_datagrams_are_refused_not_panicked_on() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                DatagramHeader::parse(&vec![0; len]),
                Err(DatagramError::TooShort { got: len })
            );
        }
        assert!(DatagramHeader::parse(&[0; HEADER_LEN]).is_ok());
    }

    #[test]
    fn the_cap_is_one_ethernet_mtu_at_the_edge() {
        assert_eq!(MAX_DATAGRAM_PAYLOAD, 1472);
        let h = DatagramHeader {
            seq: 1,
            timestamp: 2,
        };
        assert_eq!(h.encode(&[0; MAX_MESSAGE]).unwrap().len(), 1472);
        assert_eq!(
            h.encode(&[0; MAX_MESSAGE + 1]),
            Err(DatagramError::TooLarge {
                len: MAX_MESSAGE + 1
            })
        );
    }

    #[test]
    fn the_sequencer_counts_and_skips_no_number_on_a_refusal() {
        let mut s = Sequencer::new();
        assert_eq!(s.encode(7, b"a").unwrap()[..8], [0, 0, 0, 0, 0, 0, 0, 7]);
        assert!(s.encode(8, &[0; MAX_MESSAGE + 1]).is_err());
        assert_eq!(s.encode(9, b"b").unwrap()[..4], [0, 0, 0, 1]);
        assert_eq!(s.peek(), 2);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            match DatagramHeader::parse(&bytes) {
                Ok((h, msg)) => proptest::prop_assert_eq!(h.encode(msg).unwrap(), bytes),
                Err(e) => proptest::prop_assert_eq!(e, DatagramError::TooShort { got: bytes.len() }),
            }
        }
    }
}
