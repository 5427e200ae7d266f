// Lesson 01 — exercise: the read and write loops every socket program needs.
//
// One `read` or `write` call may move fewer bytes than you asked for. Write the
// two loops below by hand (don't call the standard library's `write_all` or
// `read_exact`: that would be skipping the lesson), then run `netlab check 01`.

use std::io::{self, ErrorKind, Read, Write};

/// Writes every byte of `buf`, calling `writer.write` as many times as it takes.
///
/// - retry when a call fails with `ErrorKind::Interrupted`;
/// - a call that writes 0 bytes means no more can be written: return an error
///   of kind `ErrorKind::WriteZero` (never loop forever).
pub fn write_all<W: Write + ?Sized>(writer: &mut W, buf: &[u8]) -> io::Result<()> {
    // TODO: loop until `buf` is empty, shrinking it by what each write accepted.
    todo!()
}

/// Fills all of `buf`, calling `reader.read` as many times as it takes.
///
/// - retry when a call fails with `ErrorKind::Interrupted`;
/// - a read of 0 bytes before `buf` is full means the peer hung up: return an
///   error of kind `ErrorKind::UnexpectedEof`.
pub fn read_exact<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<()> {
    // TODO: loop until `buf` is full, moving forward by what each read returned.
    todo!()
}
