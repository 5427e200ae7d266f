//! Lesson 01 — a TCP stream has no message boundaries.
//!
//! Two experiments on a real loopback connection, used by the lesson's example,
//! the tour and the tests:
//! - [`several_writes_one_read`]: three separate `write` calls arrive as one `read`
//!   when the reader reads late (after [`SETTLE`]);
//! - [`several_writes_eager_read`]: the same writes, [`WRITE_GAP`] apart, arrive as
//!   one `read` each when the reader is already waiting in `read`;
//! - [`one_write_many_reads`]: one big write arrives as many `read`s of varying sizes.
//!
//! The kernel keeps a byte queue per socket, not a message list. `read` returns
//! whatever is queued right now (up to the buffer size), so the receiver cannot
//! tell where one `write` ended and the next began — which is why lesson 02 adds
//! a length prefix.

use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long the receiver waits before its first read, so every write has arrived.
pub const SETTLE: Duration = Duration::from_millis(100);

/// Pause between the writes in [`several_writes_eager_read`]: far longer than
/// loopback needs to deliver one write, so a waiting reader wakes for each.
pub const WRITE_GAP: Duration = Duration::from_millis(20);

/// Size of the receiver's read buffer in these experiments.
pub const READ_BUFFER: usize = 64 * 1024;

/// What the receiver saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// Bytes returned by each `read` call, in order.
    pub read_sizes: Vec<usize>,
    /// Everything received, concatenated.
    pub received: Vec<u8>,
}

/// A connected pair of sockets on loopback: (client side, server side).
pub async fn loopback_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    Ok((client, server))
}

/// Writes each message with its own `write_all`, then reads on the other side
/// after a pause: the messages come out glued together.
pub async fn several_writes_one_read(messages: &[&[u8]]) -> io::Result<Observation> {
    let (mut client, server) = loopback_pair().await?;
    for m in messages {
        client.write_all(m).await?;
    }
    client.shutdown().await?;
    tokio::time::sleep(SETTLE).await;
    read_all(server).await
}

/// The same writes as [`several_writes_one_read`], but `gap` apart, with the
/// reader already blocked in `read` (an *eager* reader) and Nagle's algorithm
/// off (`TCP_NODELAY`, so each write leaves at once): each `read` returns what
/// is queued at the moment it wakes — with a gap, one write's bytes; with no
/// gap, whatever has piled up, so the count varies from run to run. Either
/// way the reads follow the timing, not the writes.
pub async fn several_writes_eager_read(
    messages: &[&[u8]],
    gap: Duration,
) -> io::Result<Observation> {
    let (mut client, server) = loopback_pair().await?;
    client.set_nodelay(true)?;
    let reader = tokio::spawn(read_all(server));
    // Let the reader reach its first `read` before anything is written.
    tokio::time::sleep(gap).await;
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(gap).await;
        }
        client.write_all(m).await?;
    }
    client.shutdown().await?;
    reader.await.map_err(io::Error::other)?
}

/// Writes `size` bytes with one `write_all` while the other side reads: the
/// bytes come out in pieces whose sizes have nothing to do with the write.
pub async fn one_write_many_reads(size: usize) -> io::Result<Observation> {
    let (mut client, server) = loopback_pair().await?;
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let writer = tokio::spawn(async move {
        client.write_all(&data).await?;
        client.shutdown().await
    });
    let seen = read_all(server).await?;
    writer.await.map_err(io::Error::other)??;
    Ok(seen)
}

/// Reads until end of stream, noting the size of every read.
async fn read_all(mut stream: TcpStream) -> io::Result<Observation> {
    let mut buf = vec![0u8; READ_BUFFER];
    let mut seen = Observation {
        read_sizes: Vec::new(),
        received: Vec::new(),
    };
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(seen);
        }
        seen.read_sizes.push(n);
        seen.received.extend_from_slice(&buf[..n]);
    }
}
