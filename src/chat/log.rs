//! Lesson 07 — durable history: an append-only log with a checksum on every
//! record, the way databases write their write-ahead logs.
//!
//! A history that lives only in memory dies with the server. Writing each
//! event to a file *before* (or as) it is delivered lets a restarted server
//! replay what clients missed. Two rules make such a file trustworthy:
//!
//! 1. **Only append.** A record, once written, is never rewritten, so a crash
//!    can only damage the *last* record: the one being written when the
//!    process died (a *torn* write).
//! 2. **Check every record.** Each record carries a CRC-32 of its bytes, and
//!    its length carries one of its own. On start-up the log is read from the
//!    beginning; a torn last record is detected, reported and cut off, never
//!    replayed as garbage.
//!
//! A torn write leaves a *prefix* of the record: fewer bytes than its length
//! says. That — and only that — is cut off. A record that is all there but
//! whose checksum fails was damaged after it was written (a flipped bit, a
//! stray write, a disk error), wherever it sits, the last one included: the
//! log refuses to open, names the byte offset and leaves the file alone,
//! rather than guess and silently lose a record the server once acknowledged.
//!
//! On disk (all integers little-endian):
//!
//! ```text
//! file   = MAGIC record*
//! record = len:u32  payload_crc:u32  header_crc:u32  payload:[u8; len]
//!          header_crc = CRC-32 of the 8 bytes len ++ payload_crc
//! ```
//!
//! The payload is opaque here: the history layer decides what an entry is.
//! Each record is written with one `write` call, so it survives the process
//! being killed (the bytes are in the kernel's page cache); surviving a power
//! cut would also need `fsync`, which [`Log::sync`] offers.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The first bytes of every log file: what it is and which version.
pub const MAGIC: &[u8; 8] = b"nlog v1\n";

/// Bytes in front of every payload: length, payload checksum, header checksum.
pub const RECORD_HEADER_LEN: usize = 12;

/// The largest record a server writes or reads by default (1 MiB): far above
/// any chat event, and a bound on what a damaged length can make us allocate.
pub const DEFAULT_MAX_RECORD: usize = 1 << 20;

/// What went wrong opening, reading or appending to a log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The operating system refused (permissions, disk full, …).
    #[error("{path}: {source}")]
    Io {
        /// The log file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The file exists but does not start with [`MAGIC`].
    #[error("{path} is not a netlab history log (it does not start with {MAGIC:?}); pick another file or move this one aside")]
    NotALog {
        /// The file.
        path: PathBuf,
    },
    /// A complete record (or header) whose checksum fails: damage, not a
    /// crash (a crash only leaves the last record short).
    #[error("{path} is corrupt at byte {offset}: {why}; the records before it are intact — move the file aside or truncate it to {offset} bytes to keep them")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the bad record starts.
        offset: u64,
        /// Which check failed.
        why: &'static str,
    },
    /// A record is longer than the limit (writing or reading).
    #[error("a history record of {len} bytes is over the limit of {max}")]
    RecordTooLong {
        /// Its length.
        len: u64,
        /// The limit.
        max: usize,
    },
}

/// The cut-off end of a log whose last write was interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornTail {
    /// Where the torn record started (the file is truncated to this length).
    pub offset: u64,
    /// How many bytes were dropped.
    pub bytes: u64,
}

/// What reading a log found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Recovery {
    /// Complete records read.
    pub records: u64,
    /// The torn last record, if the last write was interrupted.
    pub torn: Option<TornTail>,
}

/// An open log, positioned to append.
#[derive(Debug)]
pub struct Log {
    file: File,
    path: PathBuf,
    len: u64,
    max_record: usize,
}

impl Log {
    /// Opens or creates `path`; calls `each` with every complete, checksummed
    /// record's payload in order, cuts off a torn last record (shorter than
    /// its length says: a crash mid-write), and refuses a file with a damaged
    /// record anywhere, the last one included, leaving it untouched.
    pub fn open(
        path: &Path,
        max_record: usize,
        each: impl FnMut(&[u8]),
    ) -> Result<(Log, Recovery), LogError> {
        let io_err = |source| LogError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_err)?;
        let size = file.metadata().map_err(io_err)?.len();
        if size == 0 {
            file.write_all(MAGIC).map_err(io_err)?;
            let log = Log {
                file,
                path: path.to_path_buf(),
                len: MAGIC.len() as u64,
                max_record,
            };
            return Ok((log, Recovery::default()));
        }
        let (recovery, good_len) = {
            let mut reader = BufReader::new(&mut file);
            read_log(&mut reader, size, max_record, each).map_err(|e| e.at(path))?
        };
        let mut good_len = good_len;
        if recovery.torn.is_some() {
            file.set_len(good_len).map_err(io_err)?;
        }
        file.seek(SeekFrom::Start(good_len)).map_err(io_err)?;
        if good_len == 0 {
            // The crash came while the file was being created.
            file.write_all(MAGIC).map_err(io_err)?;
            good_len = MAGIC.len() as u64;
        }
        let log = Log {
            file,
            path: path.to_path_buf(),
            len: good_len,
            max_record,
        };
        Ok((log, recovery))
    }

    /// Appends one record with a single `write` (it survives the process
    /// being killed; see [`Log::sync`] for power cuts).
    pub fn append(&mut self, payload: &[u8]) -> Result<(), LogError> {
        let record = encode_record(payload, self.max_record)?;
        self.file
            .write_all(&record)
            .map_err(|source| LogError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.len += record.len() as u64;
        Ok(())
    }

    /// Asks the OS to put what was appended on the disk itself (`fsync`):
    /// slower, and needed only to survive a power cut.
    pub fn sync(&mut self) -> Result<(), LogError> {
        self.file.sync_data().map_err(|source| LogError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the log holds no records yet.
    pub fn is_empty(&self) -> bool {
        self.len <= MAGIC.len() as u64
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// One record as bytes: header then payload.
pub fn encode_record(payload: &[u8], max_record: usize) -> Result<Vec<u8>, LogError> {
    if payload.len() > max_record || u32::try_from(payload.len()).is_err() {
        return Err(LogError::RecordTooLong {
            len: payload.len() as u64,
            max: max_record,
        });
    }
    let mut record = Vec::with_capacity(RECORD_HEADER_LEN + payload.len());
    record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    record.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    let header_crc = crc32fast::hash(&record[..8]);
    record.extend_from_slice(&header_crc.to_le_bytes());
    record.extend_from_slice(payload);
    Ok(record)
}

/// A problem found while reading, before we know the file's name.
#[derive(Debug)]
pub enum ReadError {
    /// The bytes could not be read.
    Io(io::Error),
    /// The data does not start with [`MAGIC`].
    NotALog,
    /// A complete record (or header) whose checksum fails, at this offset.
    Corrupt(u64, &'static str),
    /// A record announces more than the limit.
    TooLong(u64, usize),
}

impl ReadError {
    fn at(self, path: &Path) -> LogError {
        let path = path.to_path_buf();
        match self {
            ReadError::Io(source) => LogError::Io { path, source },
            ReadError::NotALog => LogError::NotALog { path },
            ReadError::Corrupt(offset, why) => LogError::Corrupt { path, offset, why },
            ReadError::TooLong(len, max) => LogError::RecordTooLong { len, max },
        }
    }
}

/// Reads a whole log of `size` bytes from `r`: calls `each` per complete
/// record and returns what was found and how many bytes are good. Used by
/// [`Log::open`], and by the fuzz target on arbitrary bytes.
pub fn read_log(
    r: &mut impl Read,
    size: u64,
    max_record: usize,
    mut each: impl FnMut(&[u8]),
) -> Result<(Recovery, u64), ReadError> {
    let mut magic = [0u8; MAGIC.len()];
    if size < MAGIC.len() as u64 {
        // Even the magic was cut short: only a crash while creating the file
        // does that, and only if what is there is a prefix of the magic.
        let mut head = vec![0u8; size as usize];
        r.read_exact(&mut head).map_err(ReadError::Io)?;
        if !MAGIC.starts_with(&head) {
            return Err(ReadError::NotALog);
        }
        let torn = TornTail {
            offset: 0,
            bytes: size,
        };
        return Ok((
            Recovery {
                records: 0,
                torn: Some(torn),
            },
            0,
        ));
    }
    r.read_exact(&mut magic).map_err(ReadError::Io)?;
    if &magic != MAGIC {
        return Err(ReadError::NotALog);
    }
    let mut offset = MAGIC.len() as u64;
    let mut recovery = Recovery::default();
    let mut payload = Vec::new();
    let torn = |offset: u64| TornTail {
        offset,
        bytes: size - offset,
    };
    while offset < size {
        let left = size - offset;
        if left < RECORD_HEADER_LEN as u64 {
            recovery.torn = Some(torn(offset));
            break;
        }
        let mut header = [0u8; RECORD_HEADER_LEN];
        r.read_exact(&mut header).map_err(ReadError::Io)?;
        let len = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes"));
        let payload_crc = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
        let header_crc = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
        // A torn write leaves a *prefix* of the record, so a complete header
        // always checks out; a header that does not was damaged afterwards.
        if crc32fast::hash(&header[..8]) != header_crc {
            return Err(ReadError::Corrupt(
                offset,
                "the record header's checksum does not match",
            ));
        }
        if len as usize > max_record {
            return Err(ReadError::TooLong(u64::from(len), max_record));
        }
        let end = RECORD_HEADER_LEN as u64 + u64::from(len);
        if left < end {
            recovery.torn = Some(torn(offset));
            break;
        }
        payload.resize(len as usize, 0);
        r.read_exact(&mut payload).map_err(ReadError::Io)?;
        if crc32fast::hash(&payload) != payload_crc {
            // All its bytes are there, so this is no torn write, even when it
            // is the last record: cutting it would drop an acknowledged event.
            return Err(ReadError::Corrupt(
                offset,
                "the record's checksum does not match its bytes",
            ));
        }
        each(&payload);
        recovery.records += 1;
        offset += end;
    }
    let good = recovery.torn.map_or(offset, |t| t.offset);
    Ok((recovery, good))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use proptest::prelude::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("netlab-log-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        dir
    }

    fn read_all(path: &Path) -> Result<(Vec<Vec<u8>>, Recovery), LogError> {
        let mut got = Vec::new();
        let (_, rec) = Log::open(path, DEFAULT_MAX_RECORD, |p| got.push(p.to_vec()))?;
        Ok((got, rec))
    }

    #[test]
    fn a_record_is_laid_out_as_documented() {
        // "hi": len 2, CRC-32("hi") = 0xd8932aac (the IEEE polynomial, as
        // Python's `zlib.crc32(b"hi")` computes it independently).
        let rec = encode_record(b"hi", 16).unwrap();
        assert_eq!(&rec[0..4], &[2, 0, 0, 0]);
        assert_eq!(&rec[4..8], &0xd893_2aacu32.to_le_bytes());
        assert_eq!(&rec[12..], b"hi");
        assert_eq!(rec.len(), RECORD_HEADER_LEN + 2);
    }

    #[test]
    fn records_come_back_in_order_after_reopening() {
        let path = temp("reopen");
        {
            let (mut log, rec) = Log::open(&path, DEFAULT_MAX_RECORD, |_| {}).unwrap();
            assert_eq!(rec, Recovery::default());
            for p in [&b"one"[..], b"", b"three"] {
                log.append(p).unwrap();
            }
        }
        let (got, rec) = read_all(&path).unwrap();
        assert_eq!(got, vec![b"one".to_vec(), vec![], b"three".to_vec()]);
        assert_eq!(rec.records, 3);
        assert_eq!(rec.torn, None);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_torn_last_record_is_dropped_and_appending_continues_after_it() {
        let path = temp("torn");
        {
            let (mut log, _) = Log::open(&path, DEFAULT_MAX_RECORD, |_| {}).unwrap();
            log.append(b"kept").unwrap();
            log.append(b"torn away").unwrap();
        }
        let full = std::fs::metadata(&path).unwrap().len();
        let cut = full - 3; // the crash hit 3 bytes before the end
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(cut)
            .unwrap();
        {
            let mut got = Vec::new();
            let (mut log, rec) =
                Log::open(&path, DEFAULT_MAX_RECORD, |p| got.push(p.to_vec())).unwrap();
            assert_eq!(got, vec![b"kept".to_vec()]);
            let start = (MAGIC.len() + RECORD_HEADER_LEN + 4) as u64;
            assert_eq!(
                rec.torn,
                Some(TornTail {
                    offset: start,
                    bytes: cut - start
                })
            );
            assert_eq!(
                std::fs::metadata(&path).unwrap().len(),
                start,
                "the tail is cut off"
            );
            log.append(b"after").unwrap();
        }
        let (got, rec) = read_all(&path).unwrap();
        assert_eq!(got, vec![b"kept".to_vec(), b"after".to_vec()]);
        assert_eq!(rec.torn, None);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn damage_before_the_last_record_refuses_to_open() {
        let path = temp("corrupt");
        {
            let (mut log, _) = Log::open(&path, DEFAULT_MAX_RECORD, |_| {}).unwrap();
            log.append(b"first").unwrap();
            log.append(b"second").unwrap();
        }
        let mut bytes = std::fs::read(&path).unwrap();
        let first_payload = MAGIC.len() + RECORD_HEADER_LEN;
        bytes[first_payload] ^= 0x20; // "first" -> "First"
        std::fs::write(&path, &bytes).unwrap();
        match read_all(&path) {
            Err(LogError::Corrupt { offset, .. }) => assert_eq!(offset, MAGIC.len() as u64),
            other => panic!("expected Corrupt at the first record, got {other:?}"),
        }
        // A flipped bit in a length is caught by the header checksum, not
        // mistaken for a tear (which would silently drop "second").
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[first_payload] ^= 0x20;
        bytes[MAGIC.len()] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(read_all(&path), Err(LogError::Corrupt { .. })));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "a refused log is left untouched"
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn damage_inside_a_complete_last_record_refuses_to_open_and_touches_nothing() {
        let path = temp("last-flipped");
        {
            let (mut log, _) = Log::open(&path, DEFAULT_MAX_RECORD, |_| {}).unwrap();
            log.append(b"first").unwrap();
            log.append(b"last one").unwrap();
        }
        let last = (MAGIC.len() + RECORD_HEADER_LEN + 5) as u64;
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n - 1] ^= 0x01; // "last one" -> "last onf": every byte still there
        std::fs::write(&path, &bytes).unwrap();
        match read_all(&path) {
            Err(e @ LogError::Corrupt { offset, .. }) => {
                assert_eq!(offset, last, "the last record's start");
                let says = e.to_string();
                assert!(says.contains(&format!("corrupt at byte {last}")), "{says}");
                assert!(
                    says.contains(&format!("truncate it to {last} bytes")),
                    "{says}"
                );
            }
            other => panic!("expected Corrupt at the last record, got {other:?}"),
        }
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "left untouched");
        // The same record one byte short is a torn write: cut, the rest kept.
        std::fs::write(&path, &bytes[..n - 1]).unwrap();
        let (got, rec) = read_all(&path).unwrap();
        assert_eq!(got, vec![b"first".to_vec()]);
        assert_eq!(
            rec.torn,
            Some(TornTail {
                offset: last,
                bytes: n as u64 - 1 - last
            })
        );
        assert_eq!(std::fs::metadata(&path).unwrap().len(), last);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn another_file_is_not_taken_for_a_log() {
        let path = temp("notalog");
        std::fs::write(&path, b"hello, world\n").unwrap();
        assert!(matches!(read_all(&path), Err(LogError::NotALog { .. })));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn records_over_the_limit_are_refused_both_ways() {
        assert!(encode_record(&[0; 16], 16).is_ok());
        assert!(matches!(
            encode_record(&[0; 17], 16),
            Err(LogError::RecordTooLong { len: 17, max: 16 })
        ));
        let mut bytes = MAGIC.to_vec();
        bytes.extend(encode_record(&[7; 17], 17).unwrap());
        let res = read_log(&mut &bytes[..], bytes.len() as u64, 16, |_| {});
        assert!(matches!(res, Err(ReadError::TooLong(17, 16))));
    }

    proptest! {
        /// A crash can stop the file at any byte: reopening always yields
        /// exactly the records that were completely written before that byte.
        #[test]
        fn any_cut_keeps_exactly_the_complete_records(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8),
            cut_frac in 0.0f64..=1.0,
        ) {
            let mut bytes = MAGIC.to_vec();
            let mut ends = Vec::new();
            for p in &payloads {
                bytes.extend(encode_record(p, DEFAULT_MAX_RECORD).unwrap());
                ends.push(bytes.len());
            }
            let cut = MAGIC.len() + ((bytes.len() - MAGIC.len()) as f64 * cut_frac) as usize;
            let cut_bytes = &bytes[..cut];
            let mut got = Vec::new();
            let (rec, good) = read_log(&mut &cut_bytes[..], cut as u64, DEFAULT_MAX_RECORD, |p| got.push(p.to_vec())).unwrap();
            let complete = ends.iter().filter(|&&e| e <= cut).count();
            prop_assert_eq!(&got[..], &payloads[..complete]);
            let expected_good = if complete == 0 { MAGIC.len() } else { ends[complete - 1] };
            prop_assert_eq!(good, expected_good as u64);
            prop_assert_eq!(rec.torn.is_some(), cut != expected_good);
        }

        /// A bit flipped anywhere in the records of a log that was written
        /// completely is never taken for a torn write: the log is refused.
        #[test]
        fn a_flipped_bit_in_a_complete_log_is_refused_never_cut(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..6),
            at_frac in 0.0f64..1.0,
            bit in 0u8..8,
        ) {
            let mut bytes = MAGIC.to_vec();
            for p in &payloads {
                bytes.extend(encode_record(p, DEFAULT_MAX_RECORD).unwrap());
            }
            let body = bytes.len() - MAGIC.len();
            let at = MAGIC.len() + ((body as f64 * at_frac) as usize).min(body - 1);
            bytes[at] ^= 1 << bit;
            let res = read_log(&mut &bytes[..], bytes.len() as u64, DEFAULT_MAX_RECORD, |_| {});
            // A flipped length bit may also announce more than the limit.
            prop_assert!(
                matches!(res, Err(ReadError::Corrupt(..)) | Err(ReadError::TooLong(..))),
                "flipped bit {} of byte {}: {:?}", bit, at, res.map(|r| r.0)
            );
        }

        /// Arbitrary bytes after the magic never panic, and whatever is
        /// accepted was really written as a record.
        #[test]
        fn hostile_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut bytes = MAGIC.to_vec();
            bytes.extend(&tail);
            let _ = read_log(&mut &bytes[..], bytes.len() as u64, 64, |p| assert!(p.len() <= 64));
        }
    }
}
