//! Lesson 00: two-way flow is not WebSocket's invention — every TCP connection
//! is full duplex.
//!
//! Run: `cargo run --example 00_both_ways`
//!
//! A plain TCP server and client (std::net, no HTTP, no WebSocket) on
//! 127.0.0.1. Once connected, *both* ends write 5 lines, 30 ms apart, while a
//! second thread on each end reads whatever the other sends. Neither waits for
//! the other to finish: the lines cross on the one connection. Each line printed
//! says which end (address:port) wrote and which read. Exits non-zero unless
//! each end sent 5 lines and received the other's 5, with the writes overlapping
//! in time.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const LINES: usize = 5;
const GAP: Duration = Duration::from_millis(30);

/// What one end saw: when it wrote each line and what it read, with times.
struct End {
    name: &'static str,
    wrote_ms: Vec<u128>,
    read: Vec<(u128, String)>,
}

/// Writes LINES lines while another thread reads the peer's lines.
fn talk(name: &'static str, stream: TcpStream, start: Instant) -> std::io::Result<End> {
    let me = stream.local_addr()?;
    let reader = stream.try_clone()?;
    let (tx, rx) = mpsc::channel();
    let reading = thread::spawn(move || {
        let mut got = Vec::new();
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            let t = start.elapsed().as_millis();
            println!("{t:>4} ms  {name} {me} read   {line:?}");
            got.push((t, line));
        }
        let _ = tx.send(got);
    });
    let mut writer = stream;
    let mut wrote_ms = Vec::new();
    for i in 1..=LINES {
        let line = format!("{name} line {i}");
        let t = start.elapsed().as_millis();
        println!("{t:>4} ms  {name} {me} writes {line:?}");
        writeln!(writer, "{line}")?;
        wrote_ms.push(t);
        thread::sleep(GAP);
    }
    // Half-close: "I will send no more", while still reading (lesson 01).
    writer.shutdown(Shutdown::Write)?;
    reading.join().expect("reader thread");
    let read = rx.recv().unwrap_or_default();
    Ok(End {
        name,
        wrote_ms,
        read,
    })
}

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let start = Instant::now();
    let server = thread::spawn(move || -> std::io::Result<End> {
        let (stream, _) = listener.accept()?;
        talk("server", stream, start)
    });
    let client = TcpStream::connect(addr)?;
    println!(
        "one TCP connection: client {} <-> server {}\n",
        client.local_addr()?,
        addr
    );
    let client = talk("client", client, start)?;
    let server = server.join().expect("server thread")?;

    println!();
    let mut ok = true;
    for end in [&client, &server] {
        println!(
            "{}: sent {} lines, received {} lines",
            end.name,
            end.wrote_ms.len(),
            end.read.len()
        );
        ok &= end.wrote_ms.len() == LINES && end.read.len() == LINES;
    }
    // Overlap: each end wrote while the other was still writing.
    let overlap = client.wrote_ms.first() < server.wrote_ms.last()
        && server.wrote_ms.first() < client.wrote_ms.last();
    println!(
        "both ends wrote during the same {} ms: {}",
        client
            .wrote_ms
            .last()
            .max(server.wrote_ms.last())
            .unwrap_or(&0),
        if overlap { "yes" } else { "no" }
    );
    println!(
        "  -> two-way flow at the same time is plain TCP (full duplex); WebSocket did not add it."
    );
    if ok && overlap {
        Ok(())
    } else {
        std::process::exit(1)
    }
}
