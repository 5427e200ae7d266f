//! The chat hub over TCP: one JSON event per length-prefixed frame (lesson 02).
//!
//! Each connection has two tasks. The **reader** waits until the socket is
//! readable, reads what is there, cuts it into frames and hands them to the
//! [`ChatServer`]. The **writer** waits on the connection's [`Outbound`]
//! queue, frames *everything* queued into one buffer and writes it with one
//! call: when a busy room produces many events, they leave in one `write`.
//!
//! An idle connection holds no buffers: the read buffer is released whenever
//! it is empty, and the queue is empty. That is how 10,000 idle clients fit in
//! a few KiB each (`netlab bench chat --idle`).
//!
//! What a stranger cannot make it do: hold a frame open (it must be whole
//! within `--frame-timeout` of its first byte, else `bye frame_timeout`),
//! make the server buffer past its budget (a frame's whole announced size is
//! charged when its header arrives; over `--max-memory`, `bye memory_full`),
//! or take every slot (`--max-per-ip`, else `bye address_full` at once).

use super::outbound::Outbound;
use super::server::{ChatServer, ServerNote};
use crate::chat::heartbeat::{Beat, Heartbeat, PING};
use crate::chat::id::ConnId;
use crate::chat::protocol::{Refusal, ServerEvent};
use crate::framing::{decode_frame, encode_frame, pending_len, truncated, FrameError};
use crate::guard::{accept_with_backoff, AcceptFailures, AddressSlot};
use bytes::{Bytes, BytesMut};
use std::io::ErrorKind;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{sleep_until, Instant};

/// The disconnect reason when a client stayed silent past the heartbeat.
pub const HEARTBEAT_TIMEOUT: &str = "heartbeat timeout";

/// How much the reader asks the kernel for at a time.
pub const READ_CHUNK: usize = 4 * 1024;

/// How long a closing connection may take to receive its last events.
pub const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// Serves chat connections on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, server: Arc<ChatServer>) -> std::io::Result<()> {
    let mut failures = AcceptFailures::new();
    loop {
        let (stream, peer) = accept_with_backoff(&listener, &mut failures, |r| {
            server.note(&ServerNote::Accept(r))
        })
        .await;
        let _ = stream.set_nodelay(true);
        let peer_name = format!("tcp {peer}");
        let place = match server.admit(peer.ip()) {
            Ok(place) => place,
            Err(error) => {
                server.note(&ServerNote::AddressFull {
                    peer: peer_name,
                    error,
                });
                let refusal = Refusal::AddressFull { max: error.max };
                tokio::spawn(async move {
                    let (_, wr) = stream.into_split();
                    say_bye_and_close(wr, &refusal).await;
                });
                continue;
            }
        };
        let server = server.clone();
        tokio::spawn(async move {
            connection(stream, &peer_name, server).await;
            drop::<AddressSlot>(place);
        });
    }
}

/// Sends `why` as a `bye` frame, then closes (a refusal before the hub knows
/// the connection).
async fn say_bye_and_close(mut wr: OwnedWriteHalf, why: &Refusal) {
    let bye = ServerEvent::Bye {
        code: why.code(),
        message: why.to_string(),
    };
    let mut buf = BytesMut::new();
    if encode_frame(&bye.to_bytes(), &mut buf, usize::MAX).is_ok() {
        let _ = tokio::time::timeout(CLOSE_LINGER, wr.write_all(&buf)).await;
    }
    let _ = wr.shutdown().await;
}

/// Runs one connection until it closes, then tells the hub.
pub async fn connection(stream: TcpStream, peer: &str, server: Arc<ChatServer>) {
    let (rd, wr) = stream.into_split();
    let (id, queue) = match server.connect(peer) {
        Ok(c) => c,
        Err(refusal) => {
            // Full: say why in one frame, then close.
            say_bye_and_close(wr, &refusal).await;
            return;
        }
    };
    let mut writer = tokio::spawn(write_loop(wr, queue.clone()));
    let reason = read_loop(rd, id, &queue, &server).await;
    server.disconnect(id, &reason);
    // Let the writer send what is queued (a `bye`, say), but never wait on a
    // client that stopped reading for longer than CLOSE_LINGER.
    queue.close();
    if tokio::time::timeout(CLOSE_LINGER, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
}

/// Reads frames until the peer closes, breaks the framing, goes silent past
/// the heartbeat, or the server ends the connection; returns why it ended.
async fn read_loop(rd: OwnedReadHalf, id: ConnId, queue: &Outbound, server: &ChatServer) -> String {
    let max = server.config().max_frame;
    let frame_timeout = server.config().frame_timeout;
    let mut heartbeat = server
        .config()
        .heartbeat
        .map(|c| Heartbeat::new(c, Instant::now().into_std()));
    let mut inbox = BytesMut::new();
    let mut frames = Vec::new();
    // The partial frame's share of the server's memory budget.
    let mut held = server.budget().reservation();
    // When the first byte of the incomplete frame in `inbox` arrived.
    let mut frame_started: Option<Instant> = None;
    loop {
        // Without a heartbeat the timer branch is disabled (and never polled).
        let deadline = heartbeat.as_ref().map(|h| Instant::from_std(h.deadline()));
        let frame_deadline = frame_started.zip(frame_timeout).map(|(t, d)| t + d);
        tokio::select! {
            r = rd.readable() => if let Err(e) = r { return format!("read failed: {e}") },
            _ = queue.closing().cancelled() => return "closed by the server".into(),
            _ = sleep_until(frame_deadline.unwrap_or_else(Instant::now)), if frame_deadline.is_some() => {
                // A frame started and stalled (or trickles): say why, close.
                let timeout = frame_timeout.unwrap_or_default();
                let why = Refusal::FrameTimeout {
                    timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                    have: inbox.len(),
                    need: pending_len(&inbox),
                };
                server.close_for(id, why);
                return format!("frame not complete {timeout:?} after its first byte");
            }
            _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                if let Some(h) = &mut heartbeat {
                    match h.due(Instant::now().into_std()) {
                        Some(Beat::Ping) => { queue.push(Bytes::from_static(PING)); }
                        Some(Beat::Dead) => {
                            // Said once, in case it still reads; the writer
                            // gets CLOSE_LINGER to deliver it, then it is gone.
                            queue.push(h.bye());
                            return HEARTBEAT_TIMEOUT.into();
                        }
                        None => {}
                    }
                }
                continue;
            }
        }
        if inbox.capacity() - inbox.len() < READ_CHUNK / 4 {
            inbox.reserve(READ_CHUNK);
        }
        match rd.try_read_buf(&mut inbox) {
            Ok(0) => {
                return if inbox.is_empty() {
                    "client closed the connection".into()
                } else {
                    truncated(&inbox).to_string()
                };
            }
            Ok(_) => {
                // Any bytes from the client are life (a pong, or anything else).
                if let Some(h) = &mut heartbeat {
                    h.heard(Instant::now().into_std());
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                // A readiness event with nothing to read (the first one
                // after connecting, typically): keep no buffer while idle.
                if inbox.is_empty() {
                    inbox = BytesMut::new();
                }
                continue;
            }
            Err(e) => return format!("read failed: {e}"),
        }
        let verdict = loop {
            match decode_frame(&mut inbox, max) {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        // The clock runs from a frame's first byte until it is whole; only a
        // completed frame restarts it, so trickling bytes cannot.
        if inbox.is_empty() {
            frame_started = None;
        } else if frame_started.is_none() || !frames.is_empty() {
            frame_started = Some(Instant::now());
        }
        if !frames.is_empty() {
            server.handle_frames(id, frames.iter().map(|f| &f[..]));
            frames.clear();
            // A client that sends without pause keeps this loop always ready:
            // count the work against tokio's budget so it yields now and then
            // and this connection's writer gets to send the acks back.
            tokio::task::consume_budget().await;
        }
        if let Err(FrameError::TooLong { announced, max }) = verdict {
            // The stream cannot be resynchronised after a bad header: say why, close.
            server.close_for(id, Refusal::FrameTooLong { announced, max });
            return format!("frame too long ({announced} bytes announced, limit {max})");
        }
        // Charge the frame still arriving, its whole announced size, before
        // its payload comes (unchanged, so free, for every later read of it).
        if let Err(e) = held.hold(pending_len(&inbox)) {
            server.close_for(id, Refusal::MemoryFull { max: e.max });
            return format!("{e}");
        }
        if inbox.is_empty() {
            inbox = BytesMut::new(); // an idle connection keeps no buffer
        }
    }
}

/// Writes whatever is queued, many events per `write`, until told to close.
async fn write_loop(mut wr: OwnedWriteHalf, queue: Arc<Outbound>) {
    let mut buf = BytesMut::new();
    loop {
        let batch = queue.take().await;
        if batch.dropped > 0 {
            let notice = ServerEvent::Dropped {
                count: batch.dropped,
            };
            let _ = encode_frame(&notice.to_bytes(), &mut buf, usize::MAX);
        }
        for e in &batch.events {
            let _ = encode_frame(e, &mut buf, usize::MAX);
        }
        drop(batch.events);
        if !buf.is_empty() {
            if wr.write_all(&buf).await.is_err() {
                return;
            }
            // Release the buffer: an idle connection holds none (one
            // allocation per batch, not per event, is cheap).
            buf = BytesMut::new();
        }
        if batch.closing {
            let _ = wr.shutdown().await;
            return;
        }
    }
}
