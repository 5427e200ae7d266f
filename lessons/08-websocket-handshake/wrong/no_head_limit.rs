//! Mistake: the head is read until its blank line with no limit, so a client that never ends its head keeps the server reading (and allocating) for as long as it likes.
//! Caught by: a head still open after 8 KiB gets 431 or 400 at once

// Part 1 done right: this fixture is about accept_handshake.
pub use netlab::ws::handshake::{accept_key, token_list_contains};

use netlab::ws::blocking::HandshakeOutcome;
use std::io::{self, Cursor, ErrorKind, Read, Write};
use std::net::TcpStream;

pub fn accept_handshake(stream: &mut TcpStream) -> io::Result<HandshakeOutcome> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        // should stop after 8 KiB without the blank line
        if stream.read(&mut byte)? == 0 {
            return Err(io::Error::new(ErrorKind::UnexpectedEof, "closed mid-head"));
        }
        head.push(byte[0]);
    }
    // The checks and the answer, as the library does them, on the head read above.
    let mut rest = Both {
        head: Cursor::new(head),
        stream,
    };
    netlab::ws::blocking::accept_handshake(&mut rest)
}

/// Reads the head already taken off the socket; writes to the socket.
struct Both<'a> {
    head: Cursor<Vec<u8>>,
    stream: &'a mut TcpStream,
}

impl Read for Both<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.head.read(buf)
    }
}

impl Write for Both<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}
