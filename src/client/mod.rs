//! Lessons 03, 05, 07 and 10 — the other end of the chat: clients that talk
//! to the hub over real sockets, and what a client must remember so that it
//! sees every event once.
//!
//! | file | what it teaches |
//! |---|---|
//! | [`tcp`] | a client over TCP that the terminal chat, tests, the tour and benchmarks use: acks matched by id |
//! | [`udp`] | a client over UDP that shows lost, duplicated and late datagrams inline (lesson 05) |
//! | [`resume`] | what a client remembers to get every event once: seq de-duplication, resume, `seen`, retries, heartbeat — no I/O (lesson 07) |
//! | [`reconnect`] | the terminal chat over TCP and WebSocket, reconnecting and resuming by itself (lessons 07, 10) |
//! | [`terminal`] | typed lines become events, server events become printed lines, the same on every transport |
//!
//! The clients depend on the hub's wire types ([`crate::chat::protocol`]) and
//! never on the command line: `netlab chat` hands them a [`TerminalConfig`].

pub mod reconnect;
pub mod resume;
pub mod tcp;
pub mod terminal;
pub mod udp;

use std::time::Duration;

/// What a terminal chat session ends with: its exit status (non-zero when the
/// server refused something or closed the session), or why it could not run.
pub type TerminalResult = Result<std::process::ExitCode, Box<dyn std::error::Error>>;

/// Whether a tcp:// or ws:// terminal session reconnects by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconnect {
    /// Reconnect when the server keeps history (it offered a session token).
    Auto,
    /// Always reconnect.
    Always,
    /// Never: exit when the connection is lost.
    Never,
}

/// How a terminal chat session behaves: who it is, where it starts, and its
/// clocks for retries and heartbeats (`netlab chat` fills this from its flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalConfig {
    /// The nickname to take after the welcome.
    pub nick: Option<String>,
    /// A room to join at once (it becomes the current room).
    pub room: Option<String>,
    /// Print every server event as one JSON line instead of chat lines.
    pub json: bool,
    /// tcp/ws: whether to reconnect when the connection is lost.
    pub reconnect: Reconnect,
    /// tcp/ws: an acked event with no answer after this is sent again with the same ack id.
    pub ack_timeout: Duration,
    /// tcp/ws: how many times an unanswered event is sent again before giving up on it.
    pub retries: u32,
    /// tcp/ws: ping the server after this much silence from it (zero: never).
    pub heartbeat: Duration,
    /// tcp/ws: after a ping, no frame within this and the server is taken for dead.
    pub heartbeat_timeout: Duration,
}
