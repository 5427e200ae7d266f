//! Tour steps for lessons 01 and 02: raw TCP, framing, a hostile client.

use super::{explain, ok, say, TourError};
use crate::framing::FrameCodec;
use crate::tcp::boundaries;
use crate::tcp::client::FramedClient;
use crate::tcp::echo::{self, EchoConfig, EchoEvent};
use crate::term;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Three writes come out as one read; one large write comes out as many reads.
pub async fn no_boundaries() -> Result<(), TourError> {
    let msgs: [&[u8]; 3] = [b"hello ", b"from ", b"three writes"];
    let seen = boundaries::several_writes_one_read(&msgs).await?;
    say(format!(
        "client: 3 writes of {}, {} and {} bytes",
        msgs[0].len(),
        msgs[1].len(),
        msgs[2].len()
    ));
    say(format!(
        "server: {} read(s) of {:?} bytes: \"{}\"",
        seen.read_sizes.len(),
        seen.read_sizes,
        term::printable(&seen.received, 64)
    ));
    if seen.read_sizes.len() >= msgs.len() {
        return Err(TourError::Unexpected(
            "the writes arrived separately this time; run the tour again".into(),
        ));
    }
    ok("the writes were glued together: TCP moved bytes, not messages");

    let size = 4 * 1024 * 1024;
    let seen = boundaries::one_write_many_reads(size).await?;
    let shown: Vec<String> = seen
        .read_sizes
        .iter()
        .take(8)
        .map(|n| n.to_string())
        .collect();
    say(format!(
        "client: 1 write_all of {} bytes; server: {} reads ({}{})",
        size,
        seen.read_sizes.len(),
        shown.join(", "),
        if seen.read_sizes.len() > 8 {
            ", …"
        } else {
            ""
        }
    ));
    if seen.received.len() != size || seen.read_sizes.len() < 2 {
        return Err(TourError::Unexpected(format!(
            "expected {size} bytes in several reads, got {} bytes in {} reads",
            seen.received.len(),
            seen.read_sizes.len()
        )));
    }
    ok("one write arrived in pieces, every byte in order");
    explain("read() returns what has arrived so far; the receiver cannot see where a write ended");
    Ok(())
}

/// Starts the echo server on port 0 and returns its address and its event log.
async fn start_echo() -> Result<(SocketAddr, Arc<Mutex<Vec<String>>>), TourError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    tokio::spawn(echo::serve(listener, EchoConfig::default(), move |e| {
        if let EchoEvent::Failed { peer, error, .. } = e {
            sink.lock()
                .expect("log lock")
                .push(format!("{peer}: {error}"));
        }
    }));
    Ok((addr, log))
}

/// Framed messages keep their boundaries through an echo server.
pub async fn framed_echo() -> Result<(), TourError> {
    let (addr, _) = start_echo().await?;
    say(format!("echo server listening on {addr} (netlab tcp echo)"));
    let mut client = FramedClient::connect(&addr.to_string(), FrameCodec::new())
        .await
        .map_err(|e| TourError::Unexpected(e.to_string()))?;
    let messages: Vec<Bytes> = ["hello", "", "three writes, three frames"]
        .into_iter()
        .map(Bytes::from)
        .collect();
    let mut wire = bytes::BytesMut::new();
    crate::framing::encode_frame(&messages[0], &mut wire, usize::MAX)
        .map_err(|e| TourError::Unexpected(e.to_string()))?;
    say(format!(
        "on the wire, \"hello\" is {} = length 5, then the bytes",
        term::hex(&wire, 16)
    ));
    let echoes = client
        .exchange(&messages)
        .await
        .map_err(|e| TourError::Unexpected(e.to_string()))?;
    for e in &echoes {
        if e.sent != e.received {
            return Err(TourError::Unexpected(format!(
                "sent {:?}, got {:?}",
                e.sent, e.received
            )));
        }
        ok(format!(
            "echo {:>2} bytes \"{}\" in {} µs",
            e.received.len(),
            term::printable(&e.received, 40),
            e.elapsed.as_micros()
        ));
    }
    explain("3 frames sent in one write came back as exactly 3 messages, the empty one too");
    Ok(())
}

/// A client announcing a 4 GiB frame is refused while another keeps echoing.
pub async fn hostile_header() -> Result<(), TourError> {
    let (addr, log) = start_echo().await?;
    let mut good = FramedClient::connect(&addr.to_string(), FrameCodec::new())
        .await
        .map_err(|e| TourError::Unexpected(e.to_string()))?;
    let mut evil = TcpStream::connect(addr).await?;
    evil.write_all(&[0xff, 0xff, 0xff, 0xff]).await?;
    say("a client sends the header ff ff ff ff: \"4 GiB follow\"");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), evil.read_to_end(&mut rest)).await;
    if closed.is_err() {
        return Err(TourError::Unexpected(
            "the server did not close the hostile connection".into(),
        ));
    }
    // The server logs the reason right after closing; give it a moment.
    let mut reason = None;
    for _ in 0..100 {
        reason = log.lock().expect("log lock").first().cloned();
        if reason.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let reason = reason.ok_or_else(|| {
        TourError::Unexpected("the server closed the connection but logged no reason".into())
    })?;
    ok(format!("server closed it at once: {}", term::dim(reason)));
    let echoes = good
        .exchange(&[Bytes::from_static(b"still here")])
        .await
        .map_err(|e| TourError::Unexpected(e.to_string()))?;
    if echoes[0].received.as_ref() != b"still here" {
        return Err(TourError::Unexpected(
            "the good client lost its echo".into(),
        ));
    }
    ok("the other client still gets its echo");
    explain("the limit is checked before anything is allocated (--max-frame, default 8 MiB)");
    Ok(())
}
