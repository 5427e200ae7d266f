//! Lesson 01: the smallest TCP echo server and client, with plain std sockets.
//!
//! Run: `cargo run --example 01_echo`
//!
//! Notice the four calls every TCP program makes: the server `bind`s and
//! `listen`s (TcpListener::bind does both) and `accept`s; the client
//! `connect`s. After that both sides just read and write bytes — and loop,
//! because one read or write may move fewer bytes than asked.

use netlab::tcp::partial_io::{read_to_end, write_all};
use std::io::Read;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;

fn main() -> std::io::Result<()> {
    // Port 0: let the kernel pick a free port, then ask which one it chose.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    println!("server: listening on {addr}");

    let server = thread::spawn(move || -> std::io::Result<()> {
        let (mut conn, peer) = listener.accept()?;
        println!("server: accepted a connection from {peer} (the client's port was chosen by its kernel)");
        let mut buf = [0u8; 1024];
        loop {
            let n = conn.read(&mut buf)?;
            if n == 0 {
                println!("server: read 0 bytes = the client closed its side; closing mine");
                return Ok(());
            }
            println!("server: read {n} bytes, writing them back");
            write_all(&mut conn, &buf[..n])?;
        }
    });

    let mut client = TcpStream::connect(addr)?;
    println!(
        "client: connected from {} to {}",
        client.local_addr()?,
        client.peer_addr()?
    );
    write_all(&mut client, b"hello, echo")?;
    // Half-close: "I will send no more", so the server's read returns 0.
    client.shutdown(Shutdown::Write)?;
    let mut echoed = Vec::new();
    read_to_end(&mut client, &mut echoed)?;
    println!("client: got back {:?}", String::from_utf8_lossy(&echoed));
    server.join().expect("server thread")?;
    Ok(())
}
