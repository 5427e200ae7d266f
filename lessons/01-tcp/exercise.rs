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

// Part 2 — an echo server on real sockets (`netlab lesson 01`, "Exercise, part 2").
// The grader connects to it over 127.0.0.1; your `write_all` above is yours to use.

use std::net::{TcpListener, TcpStream};

/// Serves echo on every connection `listener` accepts, forever.
///
/// - every accepted connection is served by [`echo_connection`] on a thread of
///   its own, so clients never wait for each other: a client that connects and
///   sends nothing must not delay anyone else;
/// - returns only when `accept` fails, with that error (an `accept` failing with
///   `ErrorKind::Interrupted` or `ErrorKind::ConnectionAborted` concerns one
///   client only: skip it and keep accepting);
/// - a failure on one connection ends that connection only, never the server.
pub fn serve_echo(listener: TcpListener) -> io::Result<()> {
    todo!()
}

/// Sends back every byte `stream` receives, in the order received, until the
/// peer closes its sending side; then closes this side's sending half
/// (`Shutdown::Write`) and returns how many bytes were echoed.
///
/// - bytes may arrive in any pieces: one client write split over several
///   reads, or several writes in one read; echo them as they come, without
///   waiting for more;
/// - `ErrorKind::Interrupted` is retried; any other read or write error is
///   returned.
pub fn echo_connection(stream: TcpStream) -> io::Result<u64> {
    todo!()
}
