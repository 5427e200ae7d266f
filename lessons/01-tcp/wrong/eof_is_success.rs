//! Mistake: read_exact stops with Ok when read() returns 0, so a peer that hung up mid-message leaves the buffer part-filled without a word.
//! Caught by: filling 11 must fail

// Part 2 done right: this fixture is about part 1.
pub use netlab::tcp::blocking_echo::{echo_connection, serve_echo};

pub use netlab::tcp::partial_io::write_all;
use std::io::{self, ErrorKind, Read};

pub fn read_exact<R: Read + ?Sized>(reader: &mut R, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match reader.read(buf) {
            Ok(0) => return Ok(()), // end of stream taken as "done"
            Ok(n) => buf = &mut buf[n..],
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
