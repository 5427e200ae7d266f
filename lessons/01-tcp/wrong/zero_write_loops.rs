//! Mistake: write_all treats a write() of 0 bytes like any partial write and tries again, forever.
//! Caught by: that loop never ends

// Part 2 done right: this fixture is about part 1.
pub use netlab::tcp::blocking_echo::{echo_connection, serve_echo};

pub use netlab::tcp::partial_io::read_exact;
use std::io::{self, ErrorKind, Write};

pub fn write_all<W: Write + ?Sized>(writer: &mut W, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match writer.write(buf) {
            Ok(n) => buf = &buf[n..], // n == 0 moves nothing, and the loop goes round again
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
