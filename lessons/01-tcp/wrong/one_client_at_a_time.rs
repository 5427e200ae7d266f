//! Mistake: the accept loop echoes each connection itself instead of handing it to a thread, so the next client waits until the one before hangs up.
//! Caught by: clients got an echo while all were connected

// Part 1 and echo_connection done right: this fixture is about serve_echo.
pub use netlab::tcp::blocking_echo::echo_connection;
pub use netlab::tcp::partial_io::{read_exact, write_all};

use std::net::TcpListener;

pub fn serve_echo(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _peer) = listener.accept()?;
        echo_connection(stream)?; // should be: std::thread::spawn(move || echo_connection(stream))
    }
}
