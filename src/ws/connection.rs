//! Lessons 08–09 — one WebSocket connection over any byte stream.
//!
//! [`WebSocket`] joins the protocol core ([`super::protocol`]) to a socket: it
//! reads bytes into an inbox and takes messages off it, answers pings, runs the
//! closing handshake from either side, and fails the connection with the right
//! status code when the peer breaks a rule (§7.1.7: send a Close frame with the
//! code, then close the TCP connection).
//!
//! Writes are batched: [`WebSocket::feed`] only encodes into the outbox, and the
//! outbox is written when [`WebSocket::recv`] is about to wait for the socket
//! (or by [`WebSocket::flush`]). A client that pipelines many messages gets all
//! their echoes back in one `write` call.
//!
//! The type is generic over the stream, so later transports (the chat hub,
//! Socket.IO) take an upgraded stream from [`super::server::accept`] and use
//! `recv`/`feed`/`flush` for their own message handling.

use super::close::{CloseCode, CloseFrame};
use super::frame::{FrameHeader, OpCode, Role};
use super::handshake::HandshakeError;
use super::message::Message;
use super::protocol::{Limits, ProtocolError, Receiver, Sender};
use crate::guard::{earliest, Deadline, OverBudget, Reservation};
use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// How much the inbox grows by when it is nearly full, at first.
pub const READ_CHUNK: usize = 16 * 1024;

/// The most room made for one read: a busy peer filling every read makes the
/// chunk double from [`READ_CHUNK`] up to this, for fewer system calls.
pub const MAX_READ_CHUNK: usize = 256 * 1024;

/// Buffers that grew past this (for a big message) are replaced by small
/// ones once empty, so an idle connection holds little memory.
pub const KEEP_BUFFER: usize = 1024 * 1024;

/// Payloads from this size on are written from their own buffer instead of
/// being copied into the outbox (server side, where nothing is masked).
pub const ZERO_COPY_MIN: usize = 64 * 1024;

/// Outbox size at which queued frames are written even if more input is ready
/// (bounds the memory a fast pipelining client can make us hold).
pub const FLUSH_AT: usize = 256 * 1024;

/// How long to wait, after the Close frames, for the peer to close its end of
/// the TCP connection (a client waits for the server, §7.1.1), or after failing
/// a connection for the peer to stop sending.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Everything that can end a WebSocket connection badly.
#[derive(Debug, Error)]
pub enum WsError {
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The opening handshake failed (the server has answered with an HTTP error).
    #[error("handshake failed: {0}")]
    Handshake(#[from] HandshakeError),
    /// The peer broke a protocol rule; we sent a Close frame with [`ProtocolError::close_code`].
    #[error("protocol error, connection failed with close code {code}: {0}", code = .0.close_code())]
    Protocol(#[from] ProtocolError),
    /// The peer closed the TCP connection without a Close frame (code 1006).
    #[error("the peer closed the TCP connection without a Close frame{}", if *.mid_message { " in the middle of a message" } else { "" })]
    ClosedWithoutHandshake {
        /// Was a frame or fragmented message half-way through?
        mid_message: bool,
    },
    /// We tried to send after the connection closed.
    #[error("the connection is closed: nothing more can be sent")]
    AlreadyClosed,
    /// A frame or fragmented message did not arrive whole within the frame
    /// timeout of its first byte; we sent Close 1008 (policy violation).
    #[error(
        "a message was not complete {0:?} after its first byte (--frame-timeout): closed with 1008"
    )]
    FrameTimeout(Duration),
    /// Nothing arrived (or our data could not be written) for the idle
    /// timeout; we sent Close 1001 (going away).
    #[error("idle for {0:?} (--idle-timeout): closed with 1001")]
    IdleTimeout(Duration),
    /// Holding the next frame would take the server past its memory budget;
    /// we sent Close 1013 (try again later).
    #[error("{0}: closed with 1013")]
    OverBudget(#[from] OverBudget),
    /// A `ws://` URL could not be used.
    #[error("bad WebSocket URL {url:?}: {why}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
}

/// Which way a frame went (for frame taps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// We sent it.
    Sent,
    /// We received it.
    Received,
}

/// A callback shown every frame header that goes by (`netlab ws connect --frames`).
pub type FrameTap = Box<dyn FnMut(Direction, &FrameHeader) + Send>;

/// How long a peer may stall a connection (both off unless set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// A frame, or a fragmented message, must be whole within this of its
    /// first byte (control frames in between do not restart the clock):
    /// else Close 1008.
    pub frame: Option<Duration>,
    /// Nothing received for this long between messages, or queued data not
    /// written for this long: Close 1001.
    pub idle: Option<Duration>,
}

/// Where the closing handshake stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// We sent Close and wait for the peer's.
    CloseSent,
    /// The connection is over.
    Closed,
}

/// One WebSocket connection (after the handshake) over the stream `S`.
pub struct WebSocket<S> {
    stream: S,
    inbox: BytesMut,
    outbox: BytesMut,
    /// Bytes to write before the outbox: earlier frames, and big payloads
    /// sent as they are instead of being copied (server side only).
    segments: VecDeque<Bytes>,
    /// How much room to make in the inbox before a read (grows under load).
    read_chunk: usize,
    receiver: Receiver,
    sender: Sender,
    state: State,
    tap: Option<FrameTap>,
    timeouts: Timeouts,
    /// When the first byte of the message in progress arrived (None: none in progress).
    started: Option<Instant>,
    /// When bytes last arrived.
    last_heard: Instant,
    /// What this connection holds of its server's memory budget, if it has one.
    held: Option<Reservation>,
    /// The one timer behind `timeouts`.
    deadline: Deadline,
}

impl<S> std::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("role", &self.sender.role())
            .field("state", &self.state)
            .field("inbox", &self.inbox.len())
            .field("outbox", &self.outbox.len())
            .finish()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Wraps a stream whose handshake is done. `leftover` holds bytes read past
    /// the handshake (the peer may send frames right behind it).
    pub fn from_upgraded(
        stream: S,
        role: Role,
        limits: Limits,
        leftover: BytesMut,
    ) -> WebSocket<S> {
        let mut inbox = leftover;
        inbox.reserve(READ_CHUNK);
        WebSocket {
            stream,
            inbox,
            outbox: BytesMut::with_capacity(READ_CHUNK),
            segments: VecDeque::new(),
            read_chunk: READ_CHUNK,
            receiver: Receiver::new(role, limits),
            sender: Sender::new(role),
            state: State::Open,
            tap: None,
            timeouts: Timeouts::default(),
            started: None,
            last_heard: Instant::now(),
            held: None,
            deadline: Deadline::new(),
        }
    }

    /// Sets how long the peer may stall this connection (see [`Timeouts`]).
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    /// Charges what this connection buffers — the frame arriving (its
    /// announced size, before its payload comes), the fragments of an
    /// unfinished message, the data waiting to be written — to `held`'s
    /// budget. A frame that would take the budget past its limit fails the
    /// connection with Close 1013.
    pub fn set_budget(&mut self, held: Reservation) {
        self.held = Some(held);
    }

    /// Shows every frame header that goes by to `tap`.
    pub fn set_frame_tap(&mut self, tap: FrameTap) {
        self.receiver.enable_trace();
        self.tap = Some(tap);
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> State {
        self.state
    }

    /// The stream underneath (e.g. to ask a TcpStream for its addresses).
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Receives the next message or control frame.
    ///
    /// Pings are answered (the Ping is still returned, for display). A Close
    /// frame is answered, the connection closed, and the Close returned; after
    /// it, `recv` returns `Ok(None)`. A broken rule fails the connection with
    /// its close code and returns the error.
    ///
    /// Cancel-safe for data: a transport may `tokio::select!` between `recv`
    /// and its own outgoing queue without losing or duplicating bytes (only a
    /// Close being answered at that moment may be cut short).
    pub async fn recv(&mut self) -> Result<Option<Message>, WsError> {
        loop {
            if self.state == State::Closed {
                return Ok(None);
            }
            if self.outbox.len() >= FLUSH_AT || !self.segments.is_empty() {
                self.flush_charged().await?;
            }
            let got = self.receiver.read(&mut self.inbox);
            if let Some(tap) = self.tap.as_mut() {
                for h in self.receiver.take_trace() {
                    tap(Direction::Received, &h);
                }
            }
            match got {
                Ok(Some(msg)) => {
                    if msg.is_data() || !self.receiver.in_message() {
                        // A message is done: the clock stops until the next one's first byte.
                        self.started = None;
                    }
                    return self.handle(msg).await.map(Some);
                }
                Ok(None) => {
                    if self.inbox.is_empty() && !self.receiver.in_message() {
                        self.started = None;
                    } else if self.started.is_none() && self.timeouts.frame.is_some() {
                        self.started = Some(Instant::now());
                    }
                    // Before waiting for the payload: charge the frame's whole
                    // size, the fragments so far and what is about to be written.
                    self.flush_charged().await?;
                    if self.inbox.is_empty() && self.inbox.capacity() > KEEP_BUFFER {
                        // A big message has gone: give its memory back.
                        self.inbox = BytesMut::with_capacity(READ_CHUNK);
                    }
                    if self.inbox.capacity() - self.inbox.len() < self.read_chunk / 4 {
                        self.inbox.reserve(self.read_chunk);
                    }
                    let spare = self.inbox.capacity() - self.inbox.len();
                    let n = if self.state == State::CloseSent {
                        // §7.1.1 / §5.5.1: we wait for the peer's Close, but not forever.
                        match tokio::time::timeout(
                            CLOSE_TIMEOUT,
                            self.stream.read_buf(&mut self.inbox),
                        )
                        .await
                        {
                            Ok(n) => n?,
                            Err(_) => {
                                self.state = State::Closed;
                                let _ = self.stream.shutdown().await;
                                return Ok(None);
                            }
                        }
                    } else {
                        let frame_due = self.started.zip(self.timeouts.frame).map(|(t, d)| t + d);
                        let idle_due = self.timeouts.idle.map(|d| self.last_heard + d);
                        let deadline = earliest(frame_due, idle_due);
                        self.deadline.set(deadline);
                        match self
                            .deadline
                            .run(self.stream.read_buf(&mut self.inbox))
                            .await
                        {
                            Some(n) => n?,
                            None => return Err(self.timed_out().await),
                        }
                    };
                    if self.timeouts.idle.is_some() {
                        self.last_heard = Instant::now();
                    }
                    if n == spare {
                        // The read filled the buffer: the peer sends faster than we
                        // read, so read more per system call next time.
                        self.read_chunk = (self.read_chunk * 2).min(MAX_READ_CHUNK);
                    }
                    if n == 0 {
                        self.state = State::Closed;
                        return Err(WsError::ClosedWithoutHandshake {
                            mid_message: self.receiver.in_message() || !self.inbox.is_empty(),
                        });
                    }
                }
                Err(e) => {
                    self.fail(e.close_code(), &e.to_string()).await;
                    return Err(e.into());
                }
            }
        }
    }

    /// A deadline of [`Timeouts`] passed: fail the connection with the
    /// matching code and say which deadline it was.
    async fn timed_out(&mut self) -> WsError {
        let frame_due = self.started.zip(self.timeouts.frame).map(|(t, d)| t + d);
        let frame_first = frame_due.is_some() && frame_due == self.deadline.at();
        match (frame_first, self.timeouts.frame, self.timeouts.idle) {
            (true, Some(frame), _) => {
                let why = format!("message not complete within {frame:?}");
                self.fail(CloseCode::PolicyViolation, &why).await;
                WsError::FrameTimeout(frame)
            }
            (_, _, idle) => {
                let idle = idle.unwrap_or_default();
                let why = format!("idle for {idle:?}");
                self.fail(CloseCode::GoingAway, &why).await;
                WsError::IdleTimeout(idle)
            }
        }
    }

    /// Charges what this connection holds (the message arriving and what is
    /// queued) to its budget, failing the connection with 1013 if it does not
    /// fit; writes what is queued within the idle timeout; then gives back
    /// what was written.
    async fn flush_charged(&mut self) -> Result<(), WsError> {
        if let Err(e) = self.account() {
            self.fail(CloseCode::TryAgainLater, "server memory budget spent")
                .await;
            return Err(e.into());
        }
        self.flush_in_time().await?;
        let _ = self.account(); // shrinking (the queue is written) never fails
        Ok(())
    }

    /// [`WebSocket::flush`], within the idle timeout if there is one: a peer
    /// that stopped reading cannot hold the connection (and our queued
    /// data) forever.
    async fn flush_in_time(&mut self) -> Result<(), WsError> {
        let Some(idle) = self.timeouts.idle else {
            return self.flush().await;
        };
        // The connection's one timer, taken out while `flush` borrows self
        // (if this is cancelled, a fresh timer is made next time).
        let mut deadline = std::mem::take(&mut self.deadline);
        // Nothing heard and nothing written for `idle`: the same deadline
        // the next read gets, so the timer does not move back and forth.
        deadline.set(Some(self.last_heard + idle));
        let flushed = deadline.run(self.flush()).await;
        self.deadline = deadline;
        match flushed {
            Some(r) => r,
            None => {
                self.state = State::Closed;
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.stream.shutdown()).await;
                Err(WsError::IdleTimeout(idle))
            }
        }
    }

    /// Tells the budget (if any) what this connection holds now. Only
    /// touches the shared counter when that changed by a whole granule, so
    /// small messages cost nothing and a big frame costs one update however
    /// many reads its payload takes.
    fn account(&mut self) -> Result<(), OverBudget> {
        let Some(held) = self.held.as_mut() else {
            return Ok(());
        };
        let queued: usize = self.segments.iter().map(|b| b.remaining()).sum();
        held.hold(self.receiver.pending_len() + self.outbox.len() + queued)
    }

    async fn handle(&mut self, msg: Message) -> Result<Message, WsError> {
        match &msg {
            Message::Ping(data) if self.state == State::Open => {
                // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a
                // Pong frame in response ... with identical Application data".
                let pong = Message::Pong(data.clone());
                self.queue(&pong);
            }
            Message::Close(frame) => {
                if self.state == State::Open {
                    // §5.5.1: answer with a Close frame, echoing the status code.
                    let reply = frame.as_ref().map(|f| CloseFrame {
                        code: f.code,
                        reason: String::new(),
                    });
                    self.queue(&Message::Close(reply));
                    // A peer that stopped reading does not get to hold us here.
                    if let Ok(flushed) = tokio::time::timeout(CLOSE_TIMEOUT, self.flush()).await {
                        flushed?;
                    }
                }
                self.state = State::Closed;
                self.finish_close().await;
            }
            _ => {}
        }
        Ok(msg)
    }

    /// Encodes a message into the outbox without writing it yet (see [`WebSocket::flush`]).
    pub fn feed(&mut self, msg: &Message) -> Result<(), WsError> {
        if self.state != State::Open {
            return Err(WsError::AlreadyClosed);
        }
        self.queue(msg);
        Ok(())
    }

    /// Encodes a data message split into frames of at most `fragment` bytes (§5.4).
    pub fn feed_fragmented(&mut self, msg: &Message, fragment: usize) -> Result<(), WsError> {
        if self.state != State::Open {
            return Err(WsError::AlreadyClosed);
        }
        let start = self.outbox.len();
        self.sender.fragmented(msg, fragment, &mut self.outbox);
        self.tap_sent(start);
        Ok(())
    }

    fn queue(&mut self, msg: &Message) {
        let big = match msg {
            Message::Text(t) if t.as_bytes().len() >= ZERO_COPY_MIN => {
                Some((OpCode::Text, t.clone().into_bytes()))
            }
            Message::Binary(b) if b.len() >= ZERO_COPY_MIN => Some((OpCode::Binary, b.clone())),
            _ => None,
        };
        match big {
            // A server does not mask, so a big payload can go out as it is:
            // only its header is written into the outbox.
            Some((opcode, payload)) if self.sender.role() == Role::Server => {
                let header = FrameHeader::new(opcode, payload.len() as u64);
                header.emit(&mut self.outbox);
                if let Some(tap) = self.tap.as_mut() {
                    tap(Direction::Sent, &header);
                }
                self.segments.push_back(self.outbox.split().freeze());
                self.segments.push_back(payload);
            }
            _ => {
                let start = self.outbox.len();
                self.sender.message(msg, &mut self.outbox);
                self.tap_sent(start);
            }
        }
    }

    /// Shows the tap the headers of the frames encoded since `start`.
    fn tap_sent(&mut self, start: usize) {
        let Some(tap) = self.tap.as_mut() else { return };
        let mut at = start;
        while let Some(Ok(Some((h, n)))) = self.outbox.get(at..).map(FrameHeader::parse) {
            tap(Direction::Sent, &h);
            at += n + h.payload_len as usize;
        }
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), WsError> {
        // write_buf advances each buffer as bytes go out, so a flush cancelled
        // half-way (e.g. in a `select!`) leaves exactly the unsent rest queued.
        while let Some(front) = self.segments.front_mut() {
            while front.has_remaining() {
                if self.stream.write_buf(front).await? == 0 {
                    return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into());
                }
            }
            self.segments.pop_front();
        }
        while !self.outbox.is_empty() {
            if self.stream.write_buf(&mut self.outbox).await? == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into());
            }
        }
        self.stream.flush().await?;
        if self.outbox.capacity() > KEEP_BUFFER {
            self.outbox = BytesMut::with_capacity(READ_CHUNK);
        }
        Ok(())
    }

    /// Sends one message now.
    pub async fn send(&mut self, msg: &Message) -> Result<(), WsError> {
        self.feed(msg)?;
        self.flush().await
    }

    /// Starts the closing handshake (§7.1.2): sends Close with `code` and
    /// `reason`; keep calling [`WebSocket::recv`] until it returns the peer's
    /// Close (or `Ok(None)` if none came within [`CLOSE_TIMEOUT`]).
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        if self.state != State::Open {
            return Ok(());
        }
        self.queue(&Message::Close(Some(CloseFrame {
            code,
            reason: reason.to_string(),
        })));
        self.state = State::CloseSent;
        self.flush().await
    }

    /// Fails the connection (§7.1.7): Close with `code`, then close TCP.
    async fn fail(&mut self, code: CloseCode, reason: &str) {
        if self.state == State::Open {
            self.queue(&Message::Close(Some(CloseFrame {
                code,
                reason: reason.to_string(),
            })));
            // Best effort, and bounded: a peer that stopped reading must not
            // keep a failed connection (and its slot) open.
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.flush()).await;
        }
        self.state = State::Closed;
        self.finish_close().await;
    }

    /// The end of the closing handshake: the server closes TCP first (§7.1.1);
    /// either side then reads until the peer's end closes (so unread bytes do
    /// not turn our close into a reset that loses the Close frame), for at most
    /// [`CLOSE_TIMEOUT`].
    async fn finish_close(&mut self) {
        if self.sender.role() == Role::Server {
            let _ = self.stream.shutdown().await;
        }
        let mut sink = [0u8; 4096];
        let drain = async {
            while let Ok(n) = self.stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, drain).await;
        if self.sender.role() == Role::Client {
            let _ = self.stream.shutdown().await;
        }
    }
}

/// The opcode a message travels with (for display).
pub fn opcode_of(msg: &Message) -> OpCode {
    match msg {
        Message::Text(_) => OpCode::Text,
        Message::Binary(_) => OpCode::Binary,
        Message::Ping(_) => OpCode::Ping,
        Message::Pong(_) => OpCode::Pong,
        Message::Close(_) => OpCode::Close,
    }
}
