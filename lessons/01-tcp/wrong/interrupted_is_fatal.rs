//! Mistake: write_all passes on every error with `?`, so a write() interrupted by a signal ends the whole write instead of being retried.
//! Caught by: must retry a write() that fails with Interrupted

// Part 2 done right: this fixture is about part 1.
pub use netlab::tcp::blocking_echo::{echo_connection, serve_echo};

pub use netlab::tcp::partial_io::read_exact;
use std::io::{self, ErrorKind, Write};

pub fn write_all<W: Write + ?Sized>(writer: &mut W, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = writer.write(buf)?; // Interrupted is returned here instead of retried
        if n == 0 {
            return Err(ErrorKind::WriteZero.into());
        }
        buf = &buf[n..];
    }
    Ok(())
}
