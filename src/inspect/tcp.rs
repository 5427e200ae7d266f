//! TCP (RFC 9293 §3.1) — the transport layer (OSI 4): ports, sequence and
//! acknowledgement numbers, flags, window, options.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Source Port          |       Destination Port        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Sequence Number                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Acknowledgment Number                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Data |       |C|E|U|A|P|R|S|F|                               |
//! | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//! |       |       |R|E|G|K|H|T|N|N|                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Checksum            |         Urgent Pointer        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     Options (Data Offset > 5)                 |
//! ```

use super::checksum::{self, Verdict};
use super::wire::{be16, be32, need, WireError};
use crate::layers::Protocol;

mod field {
    use crate::inspect::wire::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ_NUM: Field = 4..8;
    pub const ACK_NUM: Field = 8..12;
    pub const FLAGS: Field = 12..14;
    pub const WIN_SIZE: Field = 14..16;
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
}

/// Length of the header without options.
pub const HEADER_LEN: usize = field::URGENT.end;

/// Flag FIN: the sender has finished sending.
pub const FLG_FIN: u16 = 0x001;
/// Flag SYN: synchronise sequence numbers (the handshake).
pub const FLG_SYN: u16 = 0x002;
/// Flag RST: reset the connection.
pub const FLG_RST: u16 = 0x004;
/// Flag PSH: push buffered data to the application.
pub const FLG_PSH: u16 = 0x008;
/// Flag ACK: the acknowledgement number is valid.
pub const FLG_ACK: u16 = 0x010;
/// Flag URG: the urgent pointer is valid.
pub const FLG_URG: u16 = 0x020;
/// Flag ECE: ECN echo (RFC 3168).
pub const FLG_ECE: u16 = 0x040;
/// Flag CWR: congestion window reduced (RFC 3168).
pub const FLG_CWR: u16 = 0x080;

/// The flags with their names, lowest bit first, as printed in summaries.
pub const FLAG_NAMES: [(u16, &str); 8] = [
    (FLG_FIN, "FIN"),
    (FLG_SYN, "SYN"),
    (FLG_RST, "RST"),
    (FLG_PSH, "PSH"),
    (FLG_ACK, "ACK"),
    (FLG_URG, "URG"),
    (FLG_ECE, "ECE"),
    (FLG_CWR, "CWR"),
];

/// Names of the set flags, lowest bit first as Wireshark lists them, e.g. `SYN,ACK`.
pub fn flag_string(flags: u16) -> String {
    let mut s = String::new();
    for (bit, name) in FLAG_NAMES.iter() {
        if flags & bit != 0 {
            if !s.is_empty() {
                s.push(',');
            }
            s.push_str(name);
        }
    }
    s
}

/// The names of the flags set in the flags byte (byte 13), lowest bit first:
/// `0x12` → `["SYN", "ACK"]`.
pub fn flag_names(flags: u8) -> Vec<&'static str> {
    FLAG_NAMES
        .iter()
        .filter(|(bit, _)| u16::from(flags) & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

/// A view of a TCP segment.
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
    /// Checks the fixed header, that Data Offset ≥ 5, and that the options are there.
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        need(Protocol::Tcp, HEADER_LEN, len)?;
        let hl = self.header_len();
        if hl < HEADER_LEN {
            return Err(WireError::HeaderLengthTooSmall {
                protocol: Protocol::Tcp,
                announced: hl,
                minimum: HEADER_LEN,
            });
        }
        need(Protocol::Tcp, hl, len)
    }
    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT)
    }
    /// Sequence number: the stream position of the first payload byte (or the ISN on SYN).
    pub fn seq_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SEQ_NUM)
    }
    /// Acknowledgement number: the next byte the sender expects (valid with ACK).
    pub fn ack_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::ACK_NUM)
    }
    /// Header length in bytes (Data Offset × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::FLAGS.start] >> 4) * 4
    }
    /// The 8 flag bits (`FLG_*`).
    pub fn flags(&self) -> u16 {
        be16(self.buffer.as_ref(), field::FLAGS) & 0x00ff
    }
    /// Whether flag `bit` is set.
    pub fn has(&self, bit: u16) -> bool {
        self.flags() & bit != 0
    }
    /// Receive window (before window scaling).
    pub fn window_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::WIN_SIZE)
    }
    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }
    /// Urgent pointer.
    pub fn urgent_at(&self) -> u16 {
        be16(self.buffer.as_ref(), field::URGENT)
    }
    /// The options bytes.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }
    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
    /// Verifies the checksum given the pseudo-header sum and the segment's length
    /// as the IP header announces it; unverifiable when the capture cut it short.
    pub fn verify_checksum(&self, pseudo: u64, segment_len: usize) -> Verdict {
        verify(
            self.buffer.as_ref(),
            pseudo,
            segment_len,
            field::CHECKSUM.start,
        )
    }
}

/// Shared by TCP and UDP: checks the ones'-complement sum of pseudo-header and segment.
pub(crate) fn verify(b: &[u8], pseudo: u64, segment_len: usize, at: usize) -> Verdict {
    if b.len() < segment_len || segment_len < at + 2 {
        return Verdict::Unverified;
    }
    let seg = &b[..segment_len];
    let total = checksum::sum(pseudo, seg);
    if checksum::finish(total) == 0 {
        Verdict::Good
    } else {
        let field = u64::from(be16(seg, at..at + 2));
        Verdict::Bad {
            expected: checksum::finish(total + 0xffff_0000 - field),
        }
    }
}

/// Where each fixed field lives, for the inspector's labels.
pub const FIELDS: [(&str, std::ops::Range<usize>); 8] = [
    ("source port", field::SRC_PORT),
    ("destination port", field::DST_PORT),
    ("sequence number", field::SEQ_NUM),
    ("acknowledgment number", field::ACK_NUM),
    ("data offset / flags", field::FLAGS),
    ("window", field::WIN_SIZE),
    ("checksum", field::CHECKSUM),
    ("urgent pointer", field::URGENT),
];

/// One TCP option (RFC 9293 §3.2 and the registry of option kinds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpOption {
    /// Kind 0: end of the option list.
    EndOfList,
    /// Kind 1: padding between options.
    NoOperation,
    /// Kind 2: the largest segment the sender wants to receive (SYN only).
    MaxSegmentSize(u16),
    /// Kind 3: window scale shift count (RFC 7323 §2).
    WindowScale(u8),
    /// Kind 4: selective acknowledgements may be used (RFC 2018).
    SackPermitted,
    /// Kind 5: blocks of data received beyond the ACK number (left, right edges).
    Sack(Vec<(u32, u32)>),
    /// Kind 8: timestamps (RFC 7323 §3): value and echo reply.
    Timestamps {
        /// TSval: the sender's clock.
        value: u32,
        /// TSecr: the last TSval received.
        echo: u32,
    },
    /// Another kind, carried with its bytes.
    Unknown {
        /// The option kind.
        kind: u8,
    },
}

impl TcpOption {
    /// The option's name.
    pub fn name(&self) -> &'static str {
        match self {
            TcpOption::EndOfList => "End of Option List",
            TcpOption::NoOperation => "No-Operation",
            TcpOption::MaxSegmentSize(_) => "Maximum segment size",
            TcpOption::WindowScale(_) => "Window scale",
            TcpOption::SackPermitted => "SACK permitted",
            TcpOption::Sack(_) => "SACK",
            TcpOption::Timestamps { .. } => "Timestamps",
            TcpOption::Unknown { .. } => "unknown option",
        }
    }
}

/// Splits an options area into options with their ranges; a malformed length is an error.
pub fn parse_options(opts: &[u8]) -> Result<Vec<(TcpOption, std::ops::Range<usize>)>, WireError> {
    let bad = |rule| WireError::Malformed {
        protocol: Protocol::Tcp,
        rule,
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => {
                out.push((TcpOption::EndOfList, i..opts.len()));
                break;
            }
            1 => {
                out.push((TcpOption::NoOperation, i..i + 1));
                i += 1;
            }
            kind => {
                let len = usize::from(
                    *opts
                        .get(i + 1)
                        .ok_or(bad("an option is missing its length byte"))?,
                );
                if len < 2 || i + len > opts.len() {
                    return Err(bad("an option's length runs past the header"));
                }
                let body = &opts[i + 2..i + len];
                let opt = match (kind, len) {
                    (2, 4) => TcpOption::MaxSegmentSize(be16(body, 0..2)),
                    (3, 3) => TcpOption::WindowScale(body[0]),
                    (4, 2) => TcpOption::SackPermitted,
                    (5, l) if l >= 10 && (l - 2) % 8 == 0 => TcpOption::Sack(
                        body.chunks_exact(8)
                            .map(|c| (be32(c, 0..4), be32(c, 4..8)))
                            .collect(),
                    ),
                    (8, 10) => TcpOption::Timestamps {
                        value: be32(body, 0..4),
                        echo: be32(body, 4..8),
                    },
                    (2..=5 | 8, _) => return Err(bad("a known option has the wrong length")),
                    _ => TcpOption::Unknown { kind },
                };
                out.push((opt, i..i + len));
                i += len;
            }
        }
    }
    Ok(out)
}

/// A plain description of a TCP header without options, to build segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgement number.
    pub ack_number: u32,
    /// Flags (`FLG_*`).
    pub flags: u16,
    /// Window.
    pub window_len: u16,
}

impl Repr {
    /// Reads a header back into a `Repr`.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Repr {
        Repr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq_number: p.seq_number(),
            ack_number: p.ack_number(),
            flags: p.flags(),
            window_len: p.window_len(),
        }
    }

    /// Writes the 20-byte header into `segment[..20]` and fills the checksum over
    /// the whole `segment` (header + payload) with the pseudo-header sum `pseudo`.
    pub fn emit(&self, segment: &mut [u8], pseudo: u64) {
        {
            let b = &mut segment[..HEADER_LEN];
            b[field::SRC_PORT].copy_from_slice(&self.src_port.to_be_bytes());
            b[field::DST_PORT].copy_from_slice(&self.dst_port.to_be_bytes());
            b[field::SEQ_NUM].copy_from_slice(&self.seq_number.to_be_bytes());
            b[field::ACK_NUM].copy_from_slice(&self.ack_number.to_be_bytes());
            let off_flags = (5u16 << 12) | self.flags;
            b[field::FLAGS].copy_from_slice(&off_flags.to_be_bytes());
            b[field::WIN_SIZE].copy_from_slice(&self.window_len.to_be_bytes());
            b[field::CHECKSUM].copy_from_slice(&[0, 0]);
            b[field::URGENT].copy_from_slice(&[0, 0]);
        }
        let c = checksum::finish(checksum::sum(pseudo, segment));
        segment[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    // A SYN hand-decoded from a real Linux capture (127.0.0.1:45678 → 127.0.0.1:7000):
    // options MSS 65495, SACK permitted, timestamps, NOP, window scale 7.
    const SYN: [u8; 40] = [
        0xb2, 0x6e, 0x1b, 0x58, // ports 45678 → 7000
        0x12, 0x34, 0x56, 0x78, // seq 0x12345678
        0x00, 0x00, 0x00, 0x00, // ack 0
        0xa0, 0x02, 0xff, 0xd7, // data offset 10 (40 bytes), SYN, window 65495
        0x00, 0x00, 0x00, 0x00, // checksum (filled below), urgent 0
        0x02, 0x04, 0xff, 0xd7, // MSS 65495
        0x04, 0x02, // SACK permitted
        0x08, 0x0a, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, // TS val 100, ecr 0
        0x01, // NOP
        0x03, 0x03, 0x07, // window scale 7
    ];

    #[test]
    fn getters_read_the_hand_decoded_syn() {
        let p = Packet::new_checked(&SYN[..]).unwrap();
        assert_eq!(p.src_port(), 45678);
        assert_eq!(p.dst_port(), 7000);
        assert_eq!(p.seq_number(), 0x1234_5678);
        assert_eq!(p.ack_number(), 0);
        assert_eq!(p.header_len(), 40);
        assert_eq!(p.flags(), FLG_SYN);
        assert_eq!(flag_string(p.flags()), "SYN");
        assert_eq!(flag_string(FLG_SYN | FLG_ACK), "SYN,ACK");
        assert_eq!(p.window_len(), 65495);
        assert!(p.payload().is_empty());
        let opts = parse_options(p.options()).unwrap();
        let kinds: Vec<TcpOption> = opts.iter().map(|(o, _)| o.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                TcpOption::MaxSegmentSize(65495),
                TcpOption::SackPermitted,
                TcpOption::Timestamps {
                    value: 100,
                    echo: 0
                },
                TcpOption::NoOperation,
                TcpOption::WindowScale(7),
            ]
        );
        assert_eq!(opts[2].1, 6..16);
    }

    #[test]
    fn sack_blocks_and_bad_lengths() {
        let opts = [5, 10, 0, 0, 0, 1, 0, 0, 0, 9];
        assert_eq!(
            parse_options(&opts).unwrap()[0].0,
            TcpOption::Sack(vec![(1, 9)])
        );
        assert!(
            parse_options(&[2, 3, 0]).is_err(),
            "MSS must be 4 bytes long"
        );
        assert!(parse_options(&[8, 10, 0]).is_err(), "runs past the end");
        assert!(
            parse_options(&[2, 0]).is_err(),
            "length below 2 would loop forever"
        );
    }

    #[test]
    fn data_offset_rules() {
        let mut s = SYN;
        s[12] = 0x40;
        assert!(matches!(
            Packet::new_checked(&s[..]),
            Err(WireError::HeaderLengthTooSmall { announced: 16, .. })
        ));
        assert!(matches!(
            Packet::new_checked(&SYN[..30]),
            Err(WireError::Truncated {
                needed: 40,
                had: 30,
                ..
            })
        ));
    }

    #[test]
    fn checksum_round_trip_with_pseudo_header() {
        let (src, dst) = (Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST);
        let mut seg = [0xa5u8; 25];
        seg[20..].copy_from_slice(b"hello");
        let pseudo = checksum::pseudo_v4(src, dst, 6, seg.len() as u32);
        let repr = Repr {
            src_port: 45678,
            dst_port: 7000,
            seq_number: 1,
            ack_number: 2,
            flags: FLG_PSH | FLG_ACK,
            window_len: 512,
        };
        repr.emit(&mut seg, pseudo);
        let p = Packet::new_checked(&seg[..]).unwrap();
        assert_eq!(Repr::parse(&p), repr);
        assert_eq!(p.urgent_at(), 0, "prefilled 0xa5 overwritten");
        assert_eq!(p.verify_checksum(pseudo, seg.len()), Verdict::Good);
        let good = p.checksum();
        seg[24] ^= 1;
        let p = Packet::new_checked(&seg[..]).unwrap();
        assert!(
            matches!(p.verify_checksum(pseudo, seg.len()), Verdict::Bad { expected } if expected != good)
        );
        assert_eq!(p.verify_checksum(pseudo, 40), Verdict::Unverified);
    }
}
