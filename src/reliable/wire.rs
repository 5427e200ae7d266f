//! The datagram format: a type byte, a 64-bit sequence number, then payload.
//!
//! | type | name | after the type byte |
//! |---|---|---|
//! | `0x01` | DATA | `seq` (u64, big-endian), then the payload |
//! | `0x02` | FIN  | `seq` (u64, big-endian): the stream ends before this number |
//! | `0x03` | ACK  | `next` (u64): every segment below `next` has arrived (cumulative); then `echo` (u64): the number of the DATA or FIN that caused this ACK |
//!
//! The echo lets the sender time the round trip of exactly the segment that
//! was answered, even when the cumulative number is held back by a hole
//! (TCP gets the same from its timestamp option, RFC 7323 §3).
//! Sequence numbers count segments from 0 and are 64 bits wide, so they never
//! wrap (TCP's 32-bit byte numbers do, and need RFC 7323's care).

use bytes::{BufMut, Bytes, BytesMut};

/// Bytes before the payload: type (1) + sequence number (8).
pub const HEADER_LEN: usize = 9;
/// An ACK's length: the header plus the 8-byte echo.
pub const ACK_LEN: usize = HEADER_LEN + 8;

const TYPE_DATA: u8 = 0x01;
const TYPE_FIN: u8 = 0x02;
const TYPE_ACK: u8 = 0x03;

/// One datagram of the reliable protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// A segment of the stream.
    Data {
        /// Its place in the stream (segments count from 0).
        seq: u64,
        /// Its bytes.
        payload: Bytes,
    },
    /// The end of the stream: no segment has a number at or above `seq`.
    Fin {
        /// The FIN's own number (one past the last data segment).
        seq: u64,
    },
    /// A cumulative acknowledgement.
    Ack {
        /// Every segment below this number has arrived.
        next: u64,
        /// The number of the segment whose arrival caused this ACK.
        echo: u64,
    },
}

/// Why a datagram is not a packet of this protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Fewer than the 9 header bytes (17 for an ACK).
    #[error("datagram of {0} bytes is too short: 9 header bytes (type + sequence number), 17 for an ACK")]
    TooShort(usize),
    /// A type byte this protocol does not define.
    #[error("unknown packet type 0x{0:02x} (expected 0x01 DATA, 0x02 FIN or 0x03 ACK)")]
    UnknownType(u8),
    /// A receiver got an ACK: only DATA and FIN travel towards it.
    #[error("an ACK reached the receiving end, which only takes DATA and FIN")]
    AckToReceiver,
    /// FIN and ACK carry no payload.
    #[error("a {kind} carries no payload, but {extra} bytes followed its header")]
    TrailingBytes {
        /// FIN or ACK.
        kind: &'static str,
        /// How many bytes followed.
        extra: usize,
    },
}

impl Packet {
    /// Parses one datagram; hostile bytes give an error, never a panic.
    pub fn decode(datagram: &[u8]) -> Result<Packet, WireError> {
        if datagram.len() < HEADER_LEN {
            return Err(WireError::TooShort(datagram.len()));
        }
        let number = u64::from_be_bytes(datagram[1..HEADER_LEN].try_into().expect("8 bytes"));
        let rest = &datagram[HEADER_LEN..];
        let no_payload = |kind| {
            if rest.is_empty() {
                Ok(())
            } else {
                Err(WireError::TrailingBytes {
                    kind,
                    extra: rest.len(),
                })
            }
        };
        match datagram[0] {
            TYPE_DATA => Ok(Packet::Data {
                seq: number,
                payload: Bytes::copy_from_slice(rest),
            }),
            TYPE_FIN => no_payload("FIN").map(|()| Packet::Fin { seq: number }),
            TYPE_ACK if rest.len() < 8 => Err(WireError::TooShort(datagram.len())),
            TYPE_ACK => {
                let echo = u64::from_be_bytes(rest[..8].try_into().expect("8 bytes"));
                match rest.len() - 8 {
                    0 => Ok(Packet::Ack { next: number, echo }),
                    extra => Err(WireError::TrailingBytes { kind: "ACK", extra }),
                }
            }
            other => Err(WireError::UnknownType(other)),
        }
    }

    /// The datagram's bytes.
    pub fn encode(&self) -> Bytes {
        let echo;
        let (kind, number, payload): (u8, u64, &[u8]) = match self {
            Packet::Data { seq, payload } => (TYPE_DATA, *seq, payload),
            Packet::Fin { seq } => (TYPE_FIN, *seq, &[]),
            Packet::Ack { next, echo: e } => {
                echo = e.to_be_bytes();
                (TYPE_ACK, *next, &echo)
            }
        };
        let mut out = BytesMut::with_capacity(HEADER_LEN + payload.len());
        out.put_u8(kind);
        out.put_u64(number);
        out.put_slice(payload);
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use proptest::prelude::*;

    #[test]
    fn bytes_written_out_by_hand() {
        let data = Packet::Data {
            seq: 0x0102,
            payload: Bytes::from_static(b"hi"),
        };
        assert_eq!(&data.encode()[..], b"\x01\0\0\0\0\0\0\x01\x02hi");
        assert_eq!(
            &Packet::Ack { next: 7, echo: 9 }.encode()[..],
            b"\x03\0\0\0\0\0\0\0\x07\0\0\0\0\0\0\0\x09"
        );
        assert_eq!(
            &Packet::Fin { seq: 1 }.encode()[..],
            b"\x02\0\0\0\0\0\0\0\x01"
        );
        assert_eq!(
            Packet::decode(b"\x01\0\0\0\0\0\0\x01\x02hi"),
            Ok(data),
            "decoding the hand-written bytes gives the packet back"
        );
    }

    #[test]
    fn bad_datagrams_are_named() {
        assert_eq!(Packet::decode(b""), Err(WireError::TooShort(0)));
        assert_eq!(Packet::decode(&[1; 8]), Err(WireError::TooShort(8)));
        assert_eq!(Packet::decode(&[9; 9]), Err(WireError::UnknownType(9)));
        assert_eq!(
            Packet::decode(b"\x03\0\0\0\0\0\0\0\x07"),
            Err(WireError::TooShort(9)),
            "an ACK without its echo"
        );
        assert_eq!(
            Packet::decode(b"\x02\0\0\0\0\0\0\0\x07x"),
            Err(WireError::TrailingBytes {
                kind: "FIN",
                extra: 1
            })
        );
    }

    proptest! {
        #[test]
        fn hostile_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(p) = Packet::decode(&bytes) {
                prop_assert_eq!(&p.encode()[..], &bytes[..]);
            }
        }
    }
}
