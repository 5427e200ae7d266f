//! Lesson 01 — partial reads and writes.
//!
//! A socket's `write` may accept only part of the buffer (the kernel's send
//! buffer is full), and `read` returns whatever has arrived so far — one byte or
//! ten messages. Correct programs therefore loop. These two functions are that
//! loop written out by hand; the standard library's `read_exact` and `write_all`
//! do the same thing.

use std::io::{self, ErrorKind, Read, Write};

/// Writes every byte of `buf`, calling `write` as many times as it takes.
///
/// `Interrupted` is retried; a `write` that accepts 0 bytes means the peer can
/// take no more, which is reported as `WriteZero` instead of looping forever.
pub fn write_all<W: Write + ?Sized>(writer: &mut W, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match writer.write(buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::WriteZero,
                    "the writer accepted 0 bytes: the connection can take no more",
                ))
            }
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Fills all of `buf`, calling `read` as many times as it takes.
///
/// `Interrupted` is retried; end of stream (a `read` returning 0) before `buf`
/// is full is `UnexpectedEof`, because the peer hung up mid-message.
pub fn read_exact<R: Read + ?Sized>(reader: &mut R, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match reader.read(buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "the peer closed the stream before the buffer was full",
                ))
            }
            Ok(n) => buf = &mut buf[n..],
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads until end of stream, appending to `out`; returns how many bytes were read.
pub fn read_to_end<R: Read + ?Sized>(reader: &mut R, out: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 4096];
    let start = out.len();
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => return Ok(out.len() - start),
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
