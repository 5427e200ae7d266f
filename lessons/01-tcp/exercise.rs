// Lesson 01 — exercise: the read and write loops every socket program needs.
//
// One `read` or `write` call may move fewer bytes than you asked for. Write the
// two loops below by hand (don't call the standard library's `write_all` or
// `read_exact`: that would be skipping the lesson), then run `netlab check 01`.

use std::io::{self, ErrorKind, Read, Write};

/// Writes every byte of `buf`, in order, calling `writer.write` as many times
/// as it takes; `Ok(())` once all are written (at once for an empty `buf`).
///
/// - a call that fails with `ErrorKind::Interrupted` is retried;
/// - a call that writes 0 bytes means no more can be written: an error of
///   kind `ErrorKind::WriteZero` (never loop forever);
/// - any other error is returned as it is.
pub fn write_all<W: Write + ?Sized>(writer: &mut W, buf: &[u8]) -> io::Result<()> {
    todo!()
}

/// Fills all of `buf` with the next `buf.len()` bytes of `reader`, calling
/// `reader.read` as many times as it takes; the bytes after them stay in
/// `reader` for the next call.
///
/// - a call that fails with `ErrorKind::Interrupted` is retried;
/// - a read of 0 bytes before `buf` is full means the peer hung up: an error
///   of kind `ErrorKind::UnexpectedEof`;
/// - any other error is returned as it is.
pub fn read_exact<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<()> {
    todo!()
}
