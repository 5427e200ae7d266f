//! DNS messages (RFC 1035 §4.1): a 12-byte header, then questions and resource
//! records whose names may point back into the message (compression, §4.1.4).
//!
//! ```text
//!                                 1  1  1  1  1  1
//!   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                      ID                       |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                    QDCOUNT                    |
//! |                    ANCOUNT                    |
//! |                    NSCOUNT                    |
//! |                    ARCOUNT                    |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! ```

use super::wire::{be16, be32, need, WireError};
use crate::layers::Protocol;
use std::ops::Range;

mod field {
    use crate::inspect::wire::Field;
    pub const ID: Field = 0..2;
    pub const FLAGS: Field = 2..4;
    pub const QDCOUNT: Field = 4..6;
    pub const ANCOUNT: Field = 6..8;
    pub const NSCOUNT: Field = 8..10;
    pub const ARCOUNT: Field = 10..12;
}

/// Length of the DNS header.
pub const HEADER_LEN: usize = field::ARCOUNT.end;
/// Flag QR: this is a response.
pub const FLAG_QR: u16 = 0x8000;
/// Flag AA: authoritative answer.
pub const FLAG_AA: u16 = 0x0400;
/// Flag TC: truncated.
pub const FLAG_TC: u16 = 0x0200;
/// Flag RD: recursion desired.
pub const FLAG_RD: u16 = 0x0100;
/// Flag RA: recursion available.
pub const FLAG_RA: u16 = 0x0080;
/// Most compression pointers followed in one name before it is called a loop.
pub const MAX_POINTER_HOPS: usize = 16;
/// Most records read from one message (hostile counts cannot make the inspector loop long).
pub const MAX_RECORDS: usize = 256;

/// Where each header field lives, for the inspector's labels.
pub const FIELDS: [(&str, Range<usize>); 6] = [
    ("transaction ID", field::ID),
    ("flags", field::FLAGS),
    ("questions", field::QDCOUNT),
    ("answer RRs", field::ANCOUNT),
    ("authority RRs", field::NSCOUNT),
    ("additional RRs", field::ARCOUNT),
];

/// A view of a DNS message.
#[derive(Debug, Clone)]
pub struct Message<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Message<T> {
    /// Wraps `buffer` after checking the header is there.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        need(Protocol::Dns, HEADER_LEN, buffer.as_ref().len())?;
        Ok(Message { buffer })
    }
    /// Transaction ID.
    pub fn id(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ID)
    }
    /// The flags word.
    pub fn flags(&self) -> u16 {
        be16(self.buffer.as_ref(), field::FLAGS)
    }
    /// Whether this is a response.
    pub fn is_response(&self) -> bool {
        self.flags() & FLAG_QR != 0
    }
    /// Opcode (0 standard query).
    pub fn opcode(&self) -> u8 {
        ((self.flags() >> 11) & 0xf) as u8
    }
    /// Response code (0 no error, 3 NXDOMAIN).
    pub fn rcode(&self) -> u8 {
        (self.flags() & 0xf) as u8
    }
    /// Question count.
    pub fn qdcount(&self) -> u16 {
        be16(self.buffer.as_ref(), field::QDCOUNT)
    }
    /// Answer count.
    pub fn ancount(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ANCOUNT)
    }
    /// Authority count.
    pub fn nscount(&self) -> u16 {
        be16(self.buffer.as_ref(), field::NSCOUNT)
    }
    /// Additional count.
    pub fn arcount(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ARCOUNT)
    }

    /// Reads the questions and records; stops at the first malformed one with its error.
    pub fn records(&self) -> (Vec<Record>, Option<WireError>) {
        let b = self.buffer.as_ref();
        let mut out = Vec::new();
        let mut at = HEADER_LEN;
        let sections = [
            (Section::Question, self.qdcount()),
            (Section::Answer, self.ancount()),
            (Section::Authority, self.nscount()),
            (Section::Additional, self.arcount()),
        ];
        for (section, count) in sections {
            for _ in 0..count {
                if out.len() == MAX_RECORDS {
                    return (
                        out,
                        Some(bad("more records than netlab reads (MAX_RECORDS)")),
                    );
                }
                match record(b, at, section) {
                    Ok(r) => {
                        at = r.range.end;
                        out.push(r);
                    }
                    Err(e) => return (out, Some(e)),
                }
            }
        }
        (out, None)
    }
}

/// The four sections of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// A question: name, type, class.
    Question,
    /// An answer record.
    Answer,
    /// An authority record.
    Authority,
    /// An additional record.
    Additional,
}

/// One question or resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its section.
    pub section: Section,
    /// The name, dotted (`example.com`), compression resolved.
    pub name: String,
    /// Where the name lives in the message (the bytes at this position, pointer included).
    pub name_range: Range<usize>,
    /// The record type (1 A, 28 AAAA, 5 CNAME...).
    pub rtype: u16,
    /// The class (1 IN).
    pub class: u16,
    /// Time to live (records only).
    pub ttl: Option<u32>,
    /// The RDATA range (records only).
    pub rdata: Option<Range<usize>>,
    /// The whole question/record.
    pub range: Range<usize>,
}

/// The name of a record type.
pub fn type_name(t: u16) -> &'static str {
    match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        41 => "OPT",
        65 => "HTTPS",
        255 => "ANY",
        _ => "unknown",
    }
}

fn bad(rule: &'static str) -> WireError {
    WireError::Malformed {
        protocol: Protocol::Dns,
        rule,
    }
}

/// Reads a (possibly compressed) name at `at`; returns it and where it ends in place.
pub fn read_name(b: &[u8], at: usize) -> Result<(String, usize), WireError> {
    let mut name = String::new();
    let mut pos = at;
    let mut end = None;
    let mut hops = 0;
    loop {
        let len = *b.get(pos).ok_or(WireError::Truncated {
            protocol: Protocol::Dns,
            needed: pos + 1,
            had: b.len(),
        })?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                return Ok((name, end.unwrap_or(pos + 1)));
            }
            0x00 => {
                let label =
                    b.get(pos + 1..pos + 1 + usize::from(len))
                        .ok_or(WireError::Truncated {
                            protocol: Protocol::Dns,
                            needed: pos + 1 + usize::from(len),
                            had: b.len(),
                        })?;
                if !name.is_empty() {
                    name.push('.');
                }
                if name.len() > 255 {
                    return Err(bad("a name is longer than 255 bytes (RFC 1035 §2.3.4)"));
                }
                name.push_str(&String::from_utf8_lossy(label));
                pos += 1 + usize::from(len);
            }
            0xc0 => {
                let target = usize::from(
                    be16(
                        b.get(pos..pos + 2)
                            .ok_or(bad("a compression pointer is cut short"))?,
                        0..2,
                    ) & 0x3fff,
                );
                end.get_or_insert(pos + 2);
                hops += 1;
                if hops > MAX_POINTER_HOPS {
                    return Err(bad("compression pointers loop"));
                }
                pos = target;
            }
            _ => return Err(bad("a label starts with reserved bits 01 or 10")),
        }
    }
}

fn record(b: &[u8], at: usize, section: Section) -> Result<Record, WireError> {
    let (name, after) = read_name(b, at)?;
    let fixed = if section == Section::Question { 4 } else { 10 };
    need(Protocol::Dns, after + fixed, b.len())?;
    let rtype = be16(b, after..after + 2);
    let class = be16(b, after + 2..after + 4);
    if section == Section::Question {
        return Ok(Record {
            section,
            name,
            name_range: at..after,
            rtype,
            class,
            ttl: None,
            rdata: None,
            range: at..after + 4,
        });
    }
    let ttl = be32(b, after + 4..after + 8);
    let rdlen = usize::from(be16(b, after + 8..after + 10));
    let rdata = after + 10..after + 10 + rdlen;
    need(Protocol::Dns, rdata.end, b.len())?;
    Ok(Record {
        section,
        name,
        name_range: at..after,
        rtype,
        class,
        ttl: Some(ttl),
        range: at..rdata.end,
        rdata: Some(rdata),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-built from RFC 1035 §4.1: query id 0x1234, RD, one question "example.com" A IN.
    const QUERY: [u8; 29] = [
        0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, b'e', b'x', b'a', b'm', b'p', b'l',
        b'e', 3, b'c', b'o', b'm', 0, 0, 1, 0, 1,
    ];

    #[test]
    fn query_fields() {
        let m = Message::new_checked(&QUERY[..]).unwrap();
        assert_eq!(m.id(), 0x1234);
        assert!(!m.is_response());
        assert_eq!(m.flags() & FLAG_RD, FLAG_RD);
        assert_eq!(m.qdcount(), 1);
        let (r, err) = m.records();
        assert_eq!(err, None);
        assert_eq!(r[0].name, "example.com");
        assert_eq!(r[0].rtype, 1);
        assert_eq!(type_name(r[0].rtype), "A");
        assert_eq!(r[0].range, 12..29);
    }

    #[test]
    fn response_with_a_compressed_answer() {
        let mut resp = QUERY.to_vec();
        resp[2] = 0x81;
        resp[3] = 0x80;
        resp[7] = 1; // ANCOUNT 1
                     // answer: pointer to offset 12, A IN, TTL 60, 4 bytes 93.184.216.34
        resp.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 216, 34]);
        let m = Message::new_checked(&resp[..]).unwrap();
        assert!(m.is_response());
        let (r, err) = m.records();
        assert_eq!(err, None);
        assert_eq!(r[1].section, Section::Answer);
        assert_eq!(r[1].name, "example.com");
        assert_eq!(r[1].name_range, 29..31);
        assert_eq!(r[1].ttl, Some(60));
        assert_eq!(&resp[r[1].rdata.clone().unwrap()], &[93, 184, 216, 34]);
    }

    #[test]
    fn pointer_hops_limit_at_the_edge() {
        // A chain of pointers, each to the one before, ending at "a": n hops to read it.
        let chain = |hops: usize| {
            let mut m = vec![0u8; 12];
            m.extend_from_slice(&[1, b'a', 0]); // offset 12: the name "a"
            let mut target = 12u16;
            for _ in 0..hops {
                let at = m.len() as u16;
                m.extend_from_slice(&(0xc000 | target).to_be_bytes());
                target = at;
            }
            (m, usize::from(target))
        };
        let (m, start) = chain(MAX_POINTER_HOPS);
        assert_eq!(read_name(&m, start).unwrap(), ("a".to_string(), start + 2));
        let (m, start) = chain(MAX_POINTER_HOPS + 1);
        assert!(matches!(
            read_name(&m, start),
            Err(WireError::Malformed { .. })
        ));
    }

    #[test]
    fn pointer_loops_and_cut_names_are_errors() {
        let mut m = QUERY[..12].to_vec();
        m.extend_from_slice(&[0xc0, 12]);
        assert!(matches!(
            read_name(&m, 12),
            Err(WireError::Malformed { .. })
        ));
        assert!(read_name(&QUERY[..16], 12).is_err());
        assert!(read_name(&[0x40], 0).is_err());
    }
}
