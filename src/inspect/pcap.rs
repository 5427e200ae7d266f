//! Capture files: classic pcap (both byte orders, µs and ns timestamps) and
//! pcapng (what Wireshark and tshark write), read as a stream — one record at a
//! time into a reused buffer, so memory does not grow with the file — and a
//! classic pcap writer.
//!
//! ```text
//! pcap:   global header (24 bytes) | record header (16) | packet | record header | packet ...
//!         magic a1b2c3d4 (µs) or a1b23c4d (ns), written in the writer's byte order
//! pcapng: blocks | type (4) | total length (4) | body ... | total length (4) |
//!         SHB 0x0a0d0d0a (byte-order magic 1a2b3c4d), IDB 1 (link type, if_tsresol),
//!         EPB 6 (interface, timestamp, captured and original length, packet), SPB 3
//! ```
//! References: draft-ietf-opsawg-pcap, draft-ietf-opsawg-pcapng.

use super::link::LinkType;
use std::io::{self, Read, Write};
use thiserror::Error;

/// Largest packet record accepted (256 KiB, libpcap's own maximum snapshot length).
/// A record announcing more is a corrupt file, and nothing of that size is allocated.
pub const MAX_RECORD_LEN: usize = 256 * 1024;
/// Largest pcapng block accepted (a packet plus generous room for options).
pub const MAX_BLOCK_LEN: usize = MAX_RECORD_LEN + 64 * 1024;
/// Most interfaces one pcapng file may describe.
pub const MAX_INTERFACES: usize = 1024;

/// Why a capture file could not be read, and where.
#[derive(Debug, Error)]
pub enum PcapError {
    /// The first four bytes are neither a pcap nor a pcapng magic number.
    #[error("not a capture file: the first 4 bytes are {found:02x?}; pcap starts with a1b2c3d4 or a1b23c4d (either byte order), pcapng with 0a0d0d0a")]
    BadMagic {
        /// The bytes found.
        found: [u8; 4],
    },
    /// The file ended inside a header or a packet.
    #[error("truncated {what} at byte {offset}: needs {needed} bytes, the file has {had} left (was the capture cut off?)")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Byte offset in the file where it starts.
        offset: u64,
        /// Bytes it needs.
        needed: usize,
        /// Bytes that were left.
        had: usize,
    },
    /// A record or block announces more bytes than any real capture holds.
    #[error("{what} at byte {offset} announces {len} bytes, above the limit of {max}: the file is corrupt (or raise --max-record)")]
    TooLong {
        /// What was being read.
        what: &'static str,
        /// Byte offset in the file.
        offset: u64,
        /// Length announced.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// A pcapng block's length is not a multiple of 4 or is below 12, or its trailing copy differs.
    #[error("pcapng block at byte {offset} has a bad length field ({len}): {rule}")]
    BadBlockLength {
        /// Byte offset of the block.
        offset: u64,
        /// The length field.
        len: u32,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A packet refers to an interface the file never described.
    #[error(
        "packet at byte {offset} refers to interface {interface}, but only {known} were described"
    )]
    UnknownInterface {
        /// Byte offset of the block.
        offset: u64,
        /// The interface id.
        interface: u32,
        /// Interfaces described so far.
        known: usize,
    },
    /// The capture's link type is not one netlab dissects.
    #[error("unsupported link type {link_type} (declared at byte {offset}): netlab reads Ethernet (1), raw IP (101), Linux SLL (113), SLL2 (276) and null/loop (0, 108)")]
    UnsupportedLinkType {
        /// The LINKTYPE_ value.
        link_type: u32,
        /// Where it was declared.
        offset: u64,
    },
    /// Reading the file failed.
    #[error("reading the capture failed: {0}")]
    Io(#[from] io::Error),
}

/// The format of the file being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap.
    Pcap {
        /// Fields are big-endian.
        big_endian: bool,
        /// Timestamps' fraction is nanoseconds (else microseconds).
        nanos: bool,
    },
    /// pcapng.
    PcapNg,
}

/// One packet record. `data` is borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Seconds since the Unix epoch.
    pub ts_sec: u64,
    /// Nanoseconds within the second.
    pub ts_nsec: u32,
    /// The packet's length on the wire (may exceed `data.len()` when cut by snaplen).
    pub orig_len: u32,
    /// How the packet begins.
    pub link: LinkType,
    /// The captured bytes.
    pub data: &'a [u8],
    /// Byte offset of the record in the file, for error messages.
    pub offset: u64,
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    /// Timestamp units per second.
    units: u64,
}

/// A streaming reader for pcap and pcapng.
pub struct Reader<R: Read> {
    input: R,
    format: Format,
    big_endian: bool,
    link: LinkType,
    interfaces: Vec<Interface>,
    buf: Vec<u8>,
    offset: u64,
    max_record: usize,
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` on a clean end of file before
/// the first byte, `Truncated` when the file ends in the middle.
fn read_full(
    input: &mut impl Read,
    buf: &mut [u8],
    what: &'static str,
    offset: u64,
) -> Result<bool, PcapError> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => {
                return Err(PcapError::Truncated {
                    what,
                    offset,
                    needed: buf.len(),
                    had: got,
                })
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

fn u32_at(b: &[u8], at: usize, big: bool) -> u32 {
    let a = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if big {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

fn u16_at(b: &[u8], at: usize, big: bool) -> u16 {
    let a = [b[at], b[at + 1]];
    if big {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    }
}

const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_BOM: u32 = 0x1a2b_3c4d;
const BLOCK_IDB: u32 = 1;
const BLOCK_SPB: u32 = 3;
const BLOCK_EPB: u32 = 6;
const OPT_IF_TSRESOL: u16 = 9;

impl<R: Read> Reader<R> {
    /// Reads the file header and decides the format.
    pub fn new(mut input: R) -> Result<Self, PcapError> {
        let mut magic = [0u8; 4];
        if !read_full(&mut input, &mut magic, "file header", 0)? {
            return Err(PcapError::Truncated {
                what: "file header",
                offset: 0,
                needed: 4,
                had: 0,
            });
        }
        let le = u32::from_le_bytes(magic);
        let be = u32::from_be_bytes(magic);
        let mut r = Reader {
            input,
            format: Format::PcapNg,
            big_endian: false,
            link: LinkType::Ethernet,
            interfaces: Vec::new(),
            buf: Vec::with_capacity(64 * 1024),
            offset: 4,
            max_record: MAX_RECORD_LEN,
        };
        if le == PCAPNG_SHB {
            r.read_shb_body(0)?;
            return Ok(r);
        }
        let (big_endian, nanos) = match (le, be) {
            (PCAP_MAGIC_US, _) => (false, false),
            (PCAP_MAGIC_NS, _) => (false, true),
            (_, PCAP_MAGIC_US) => (true, false),
            (_, PCAP_MAGIC_NS) => (true, true),
            _ => return Err(PcapError::BadMagic { found: magic }),
        };
        let mut rest = [0u8; 20];
        if !read_full(&mut r.input, &mut rest, "pcap file header", 0)? {
            return Err(PcapError::Truncated {
                what: "pcap file header",
                offset: 0,
                needed: 24,
                had: 4,
            });
        }
        let link_raw = u32_at(&rest, 16, big_endian) & 0x0fff_ffff;
        let link = LinkType::from(link_raw);
        if !link.is_supported() {
            return Err(PcapError::UnsupportedLinkType {
                link_type: link_raw,
                offset: 20,
            });
        }
        r.format = Format::Pcap { big_endian, nanos };
        r.big_endian = big_endian;
        r.link = link;
        r.offset = 24;
        Ok(r)
    }

    /// Sets the largest packet record accepted (default [`MAX_RECORD_LEN`]);
    /// pcapng blocks may be 64 KiB longer for their options.
    pub fn with_max_record(mut self, max: usize) -> Self {
        self.max_record = max;
        self
    }

    /// The file's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The link type of a classic pcap file (pcapng: of the first interface seen).
    pub fn link_type(&self) -> LinkType {
        self.interfaces.first().map_or(self.link, |i| i.link)
    }

    /// Reads a Section Header Block after its 4-byte type (at `offset`).
    fn read_shb_body(&mut self, offset: u64) -> Result<(), PcapError> {
        let mut hdr = [0u8; 8];
        if !read_full(&mut self.input, &mut hdr, "pcapng section header", offset)? {
            return Err(PcapError::Truncated {
                what: "pcapng section header",
                offset,
                needed: 12,
                had: 4,
            });
        }
        let big = match u32::from_le_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]) {
            PCAPNG_BOM => false,
            v if v.swap_bytes() == PCAPNG_BOM => true,
            _ => {
                return Err(PcapError::BadMagic {
                    found: [hdr[4], hdr[5], hdr[6], hdr[7]],
                })
            }
        };
        self.big_endian = big;
        self.interfaces.clear();
        let total = u32_at(&hdr, 0, big);
        self.check_block_len(total, offset)?;
        let rest = total as usize - 12;
        self.buf.resize(rest, 0);
        if !read_full(
            &mut self.input,
            &mut self.buf,
            "pcapng section header",
            offset,
        )? && rest > 0
        {
            return Err(PcapError::Truncated {
                what: "pcapng section header",
                offset,
                needed: total as usize,
                had: 12,
            });
        }
        self.offset = offset + u64::from(total);
        Ok(())
    }

    fn check_block_len(&self, len: u32, offset: u64) -> Result<(), PcapError> {
        if len < 12 || len % 4 != 0 {
            return Err(PcapError::BadBlockLength {
                offset,
                len,
                rule: "a block is at least 12 bytes and a multiple of 4",
            });
        }
        let max = self
            .max_record
            .saturating_add(MAX_BLOCK_LEN - MAX_RECORD_LEN);
        if len as usize > max {
            return Err(PcapError::TooLong {
                what: "pcapng block",
                offset,
                len: len.into(),
                max,
            });
        }
        Ok(())
    }

    /// The next packet, or `None` at the end of the file.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Record<'_>>, PcapError> {
        match self.format {
            Format::Pcap { nanos, .. } => self.next_pcap(nanos),
            Format::PcapNg => self.next_pcapng(),
        }
    }

    fn next_pcap(&mut self, nanos: bool) -> Result<Option<Record<'_>>, PcapError> {
        let offset = self.offset;
        let mut hdr = [0u8; 16];
        if !read_full(&mut self.input, &mut hdr, "pcap record header", offset)? {
            return Ok(None);
        }
        let big = self.big_endian;
        let ts_sec = u32_at(&hdr, 0, big);
        let frac = u32_at(&hdr, 4, big);
        let incl = u32_at(&hdr, 8, big) as usize;
        let orig_len = u32_at(&hdr, 12, big);
        if incl > self.max_record {
            return Err(PcapError::TooLong {
                what: "pcap record",
                offset,
                len: incl as u64,
                max: self.max_record,
            });
        }
        self.buf.resize(incl, 0);
        if incl > 0
            && !read_full(
                &mut self.input,
                &mut self.buf,
                "pcap packet data",
                offset + 16,
            )?
        {
            return Err(PcapError::Truncated {
                what: "pcap record",
                offset,
                needed: 16 + incl,
                had: 16,
            });
        }
        self.offset += 16 + incl as u64;
        Ok(Some(Record {
            ts_sec: ts_sec.into(),
            ts_nsec: if nanos {
                frac.min(999_999_999)
            } else {
                frac.min(999_999) * 1000
            },
            orig_len,
            link: self.link,
            data: &self.buf[..],
            offset,
        }))
    }

    fn next_pcapng(&mut self) -> Result<Option<Record<'_>>, PcapError> {
        loop {
            let offset = self.offset;
            let mut hdr = [0u8; 8];
            if !read_full(&mut self.input, &mut hdr, "pcapng block header", offset)? {
                return Ok(None);
            }
            let btype = u32_at(&hdr, 0, self.big_endian);
            if btype == PCAPNG_SHB {
                // A new section: re-read its byte order. Its 8 bytes are already consumed.
                let mut bom = [0u8; 4];
                read_full(&mut self.input, &mut bom, "pcapng section header", offset)?;
                let big = match u32::from_le_bytes(bom) {
                    PCAPNG_BOM => false,
                    v if v.swap_bytes() == PCAPNG_BOM => true,
                    _ => return Err(PcapError::BadMagic { found: bom }),
                };
                self.big_endian = big;
                self.interfaces.clear();
                let total = u32_at(&hdr, 4, big);
                self.check_block_len(total, offset)?;
                self.buf.resize(total as usize - 12, 0);
                read_full(
                    &mut self.input,
                    &mut self.buf,
                    "pcapng section header",
                    offset,
                )?;
                self.offset += u64::from(total);
                continue;
            }
            let total = u32_at(&hdr, 4, self.big_endian);
            self.check_block_len(total, offset)?;
            let body_len = total as usize - 8;
            self.buf.resize(body_len, 0);
            if !read_full(&mut self.input, &mut self.buf, "pcapng block", offset)? {
                return Err(PcapError::Truncated {
                    what: "pcapng block",
                    offset,
                    needed: total as usize,
                    had: 8,
                });
            }
            self.offset += u64::from(total);
            let big = self.big_endian;
            let trailer = u32_at(&self.buf, body_len - 4, big);
            if trailer != total {
                return Err(PcapError::BadBlockLength {
                    offset,
                    len: total,
                    rule: "the trailing length differs from the leading one",
                });
            }
            let body_end = body_len - 4;
            match btype {
                BLOCK_IDB => {
                    if body_end < 8 {
                        return Err(PcapError::Truncated {
                            what: "pcapng interface block",
                            offset,
                            needed: 20,
                            had: total as usize,
                        });
                    }
                    if self.interfaces.len() == MAX_INTERFACES {
                        return Err(PcapError::TooLong {
                            what: "pcapng interface list",
                            offset,
                            len: MAX_INTERFACES as u64 + 1,
                            max: MAX_INTERFACES,
                        });
                    }
                    let link_raw = u32::from(u16_at(&self.buf, 0, big));
                    let link = LinkType::from(link_raw);
                    if !link.is_supported() {
                        return Err(PcapError::UnsupportedLinkType {
                            link_type: link_raw,
                            offset,
                        });
                    }
                    let units = tsresol(&self.buf[8..body_end], big);
                    self.interfaces.push(Interface { link, units });
                }
                BLOCK_EPB => {
                    if body_end < 20 {
                        return Err(PcapError::Truncated {
                            what: "pcapng packet block",
                            offset,
                            needed: 32,
                            had: total as usize,
                        });
                    }
                    let iface = u32_at(&self.buf, 0, big);
                    let Some(&intf) = self.interfaces.get(iface as usize) else {
                        return Err(PcapError::UnknownInterface {
                            offset,
                            interface: iface,
                            known: self.interfaces.len(),
                        });
                    };
                    let ts = (u64::from(u32_at(&self.buf, 4, big)) << 32)
                        | u64::from(u32_at(&self.buf, 8, big));
                    let cap = u32_at(&self.buf, 12, big) as usize;
                    let orig_len = u32_at(&self.buf, 16, big);
                    if 20 + cap > body_end {
                        return Err(PcapError::Truncated {
                            what: "pcapng packet data",
                            offset,
                            needed: 20 + cap,
                            had: body_end,
                        });
                    }
                    let (ts_sec, ts_nsec) = split_ts(ts, intf.units);
                    return Ok(Some(Record {
                        ts_sec,
                        ts_nsec,
                        orig_len,
                        link: intf.link,
                        data: &self.buf[20..20 + cap],
                        offset,
                    }));
                }
                BLOCK_SPB => {
                    let Some(&intf) = self.interfaces.first() else {
                        return Err(PcapError::UnknownInterface {
                            offset,
                            interface: 0,
                            known: 0,
                        });
                    };
                    if body_end < 4 {
                        return Err(PcapError::Truncated {
                            what: "pcapng simple packet block",
                            offset,
                            needed: 16,
                            had: total as usize,
                        });
                    }
                    let orig_len = u32_at(&self.buf, 0, big);
                    let cap = (orig_len as usize).min(body_end - 4);
                    return Ok(Some(Record {
                        ts_sec: 0,
                        ts_nsec: 0,
                        orig_len,
                        link: intf.link,
                        data: &self.buf[4..4 + cap],
                        offset,
                    }));
                }
                _ => {} // statistics, name resolution, custom blocks: skipped
            }
        }
    }
}

/// Reads `if_tsresol` from an IDB's options: units per second (default 10^6).
fn tsresol(mut opts: &[u8], big: bool) -> u64 {
    while opts.len() >= 4 {
        let code = u16_at(opts, 0, big);
        let len = usize::from(u16_at(opts, 2, big));
        let padded = (len + 3) & !3;
        if code == 0 || opts.len() < 4 + len {
            break;
        }
        if code == OPT_IF_TSRESOL && len >= 1 {
            let v = opts[4];
            let exp = u32::from(v & 0x7f).min(19);
            return if v & 0x80 != 0 {
                1u64 << exp.min(63)
            } else {
                10u64.pow(exp)
            };
        }
        opts = &opts[(4 + padded).min(opts.len())..];
    }
    1_000_000
}

fn split_ts(ts: u64, units: u64) -> (u64, u32) {
    let units = units.max(1);
    let sec = ts / units;
    let frac = ts % units;
    let nsec = (u128::from(frac) * 1_000_000_000 / u128::from(units)) as u32;
    (sec, nsec)
}

/// Writes classic pcap (little-endian, microseconds): what Wireshark opens everywhere.
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    /// Writes the global header for `link` with snapshot length [`MAX_RECORD_LEN`].
    pub fn new(mut out: W, link: LinkType) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&PCAP_MAGIC_US.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&(MAX_RECORD_LEN as u32).to_le_bytes());
        h.extend_from_slice(&u32::from(link).to_le_bytes());
        out.write_all(&h)?;
        Ok(Writer { out })
    }

    /// Appends one packet (cut to [`MAX_RECORD_LEN`]).
    pub fn write(
        &mut self,
        ts_sec: u64,
        ts_nsec: u32,
        orig_len: u32,
        data: &[u8],
    ) -> io::Result<()> {
        let data = &data[..data.len().min(MAX_RECORD_LEN)];
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&(ts_sec as u32).to_le_bytes());
        h[4..8].copy_from_slice(&(ts_nsec / 1000).to_le_bytes());
        h[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        h[12..16].copy_from_slice(&orig_len.max(data.len() as u32).to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(data)
    }

    /// Pushes buffered records to the file (live capture does this after every
    /// packet, so an interrupted capture still leaves a whole file).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic pcap written out by hand, in either byte order and resolution.
    fn handmade(big: bool, nanos: bool) -> Vec<u8> {
        let w32 = |v: u32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let w16 = |v: u16| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut f = Vec::new();
        f.extend_from_slice(&w32(if nanos { PCAP_MAGIC_NS } else { PCAP_MAGIC_US }));
        f.extend_from_slice(&w16(2));
        f.extend_from_slice(&w16(4));
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&w32(65535));
        f.extend_from_slice(&w32(101)); // raw IP
        f.extend_from_slice(&w32(1_700_000_000));
        f.extend_from_slice(&w32(if nanos { 123_456_789 } else { 123_456 }));
        f.extend_from_slice(&w32(3));
        f.extend_from_slice(&w32(60));
        f.extend_from_slice(&[0x45, 0, 0]);
        f
    }

    #[test]
    fn classic_pcap_in_all_four_variants() {
        for big in [false, true] {
            for nanos in [false, true] {
                let f = handmade(big, nanos);
                let mut r = Reader::new(&f[..]).unwrap();
                assert_eq!(
                    r.format(),
                    Format::Pcap {
                        big_endian: big,
                        nanos
                    }
                );
                assert_eq!(r.link_type(), LinkType::Raw);
                let rec = r.next().unwrap().unwrap();
                assert_eq!(rec.ts_sec, 1_700_000_000);
                assert_eq!(rec.ts_nsec, if nanos { 123_456_789 } else { 123_456_000 });
                assert_eq!(rec.orig_len, 60);
                assert_eq!(rec.data, &[0x45, 0, 0]);
                assert_eq!(rec.offset, 24);
                assert!(r.next().unwrap().is_none());
            }
        }
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = Reader::new(&b"GIF89a.........................."[..])
            .err()
            .unwrap();
        assert!(matches!(e, PcapError::BadMagic { found } if &found == b"GIF8"));
        let mut f = handmade(false, false);
        f.truncate(f.len() - 1);
        let mut r = Reader::new(&f[..]).unwrap();
        let e = r.next().err().unwrap();
        assert!(
            matches!(
                e,
                PcapError::Truncated {
                    offset: 40,
                    needed: 3,
                    had: 2,
                    ..
                }
            ),
            "{e}"
        );
        let mut f = handmade(false, false);
        f[20] = 147; // a user-defined link type
        assert!(matches!(
            Reader::new(&f[..]).err().unwrap(),
            PcapError::UnsupportedLinkType {
                link_type: 147,
                offset: 20
            }
        ));
    }

    #[test]
    fn record_length_limit_at_the_edge() {
        let mut f = handmade(false, false);
        f.truncate(24 + 16);
        let at = 24 + 8;
        f[at..at + 4].copy_from_slice(&(MAX_RECORD_LEN as u32).to_le_bytes());
        f.resize(24 + 16 + MAX_RECORD_LEN, 0);
        let mut r = Reader::new(&f[..]).unwrap();
        assert_eq!(
            r.next().unwrap().unwrap().data.len(),
            MAX_RECORD_LEN,
            "max is accepted"
        );
        let mut f = handmade(false, false);
        f[at..at + 4].copy_from_slice(&(MAX_RECORD_LEN as u32 + 1).to_le_bytes());
        let mut r = Reader::new(&f[..]).unwrap();
        assert!(
            matches!(r.next(), Err(PcapError::TooLong { .. })),
            "max + 1 is refused before allocating"
        );
    }

    /// A pcapng written out by hand: SHB, IDB (Ethernet, ns resolution), one EPB.
    fn handmade_ng(big: bool) -> Vec<u8> {
        let w32 = |v: u32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let w16 = |v: u16| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut f = Vec::new();
        f.extend_from_slice(&[0x0a, 0x0d, 0x0d, 0x0a]);
        f.extend_from_slice(&w32(28));
        f.extend_from_slice(&w32(PCAPNG_BOM));
        f.extend_from_slice(&w16(1));
        f.extend_from_slice(&w16(0));
        f.extend_from_slice(&[0xff; 8]); // section length unknown
        f.extend_from_slice(&w32(28));
        // IDB with if_tsresol = 9 (ns) and opt_endofopt
        f.extend_from_slice(&w32(1));
        f.extend_from_slice(&w32(32));
        f.extend_from_slice(&w16(1));
        f.extend_from_slice(&w16(0));
        f.extend_from_slice(&w32(0));
        f.extend_from_slice(&w16(9));
        f.extend_from_slice(&w16(1));
        f.extend_from_slice(&[9, 0, 0, 0]);
        f.extend_from_slice(&[0, 0, 0, 0]);
        f.extend_from_slice(&w32(32));
        // EPB: 5 bytes of data padded to 8
        let ts: u64 = 1_700_000_000_123_456_789;
        f.extend_from_slice(&w32(6));
        f.extend_from_slice(&w32(40));
        f.extend_from_slice(&w32(0));
        f.extend_from_slice(&w32((ts >> 32) as u32));
        f.extend_from_slice(&w32(ts as u32));
        f.extend_from_slice(&w32(5));
        f.extend_from_slice(&w32(5));
        f.extend_from_slice(&[1, 2, 3, 4, 5, 0, 0, 0]);
        f.extend_from_slice(&w32(40));
        f
    }

    #[test]
    fn pcapng_both_byte_orders() {
        for big in [false, true] {
            let f = handmade_ng(big);
            let mut r = Reader::new(&f[..]).unwrap();
            assert_eq!(r.format(), Format::PcapNg);
            let rec = r.next().unwrap().unwrap();
            assert_eq!(rec.link, LinkType::Ethernet);
            assert_eq!(rec.ts_sec, 1_700_000_000);
            assert_eq!(rec.ts_nsec, 123_456_789);
            assert_eq!(rec.data, &[1, 2, 3, 4, 5]);
            assert_eq!(rec.offset, 60);
            assert!(r.next().unwrap().is_none());
        }
    }

    #[test]
    fn pcapng_errors() {
        let mut f = handmade_ng(false);
        let n = f.len();
        f[n - 4] = 41; // trailing length differs
        let mut r = Reader::new(&f[..]).unwrap();
        assert!(matches!(
            r.next(),
            Err(PcapError::BadBlockLength { offset: 60, .. })
        ));
        let mut f = handmade_ng(false);
        f[60 + 8] = 3; // interface 3
        let mut r = Reader::new(&f[..]).unwrap();
        assert!(matches!(
            r.next(),
            Err(PcapError::UnknownInterface {
                interface: 3,
                known: 1,
                ..
            })
        ));
        let f = handmade_ng(false);
        let mut r = Reader::new(&f[..f.len() - 2]).unwrap();
        assert!(matches!(
            r.next(),
            Err(PcapError::Truncated { offset: 60, .. })
        ));
    }

    #[test]
    fn writer_output_reads_back() {
        let mut w = Writer::new(Vec::new(), LinkType::Ethernet).unwrap();
        w.write(1, 2_000, 100, b"abc").unwrap();
        let f = w.finish().unwrap();
        assert_eq!(&f[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian µs magic");
        let mut r = Reader::new(&f[..]).unwrap();
        let rec = r.next().unwrap().unwrap();
        assert_eq!(
            (rec.ts_sec, rec.ts_nsec, rec.orig_len, rec.data),
            (1, 2_000, 100, &b"abc"[..])
        );
    }
}
