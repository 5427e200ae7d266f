//! Mistake: read_exact counts the bytes it has read but passes the whole buffer to every read(), so each read overwrites the start.
//! Caught by: each read() writing after the last one

// Part 2 done right: this fixture is about part 1.
pub use netlab::tcp::blocking_echo::{echo_connection, serve_echo};

pub use netlab::tcp::partial_io::write_all;
use std::io::{self, ErrorKind, Read};

pub fn read_exact<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        // should be `reader.read(&mut buf[filled..])`
        match reader.read(buf) {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
