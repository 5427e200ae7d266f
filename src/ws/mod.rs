//! Lessons 08–09 — WebSocket from scratch (RFC 6455).
//!
//! The folder follows the RFC's own nouns, from the bytes up:
//!
//! | module | RFC 6455 | what it does |
//! |---|---|---|
//! | [`handshake`] | §4 | the HTTP/1.1 upgrade request and the 101 answer; `Sec-WebSocket-Accept` |
//! | [`frame`] | §5.2 | the frame header: FIN, RSV1–3, opcode, MASK, 7/16/64-bit length |
//! | [`mask`] | §5.3 | XOR masking, a word at a time |
//! | [`message`] | §5.4, §5.6, §8.1 | messages, fragments, incremental UTF-8 checking |
//! | [`close`] | §5.5.1, §7.4 | close status codes and the Close payload |
//! | [`protocol`] | §5–§7 | bytes in, messages out — the sans-I/O core |
//! | [`connection`] | §5.5, §7 | one connection over a socket: pings, closing, failing |
//! | [`server`], [`client`] | §4 | accept / connect, and the echo server |
//! | [`blocking`] | §4.2 | the server's handshake on a blocking `std` socket (lesson 08's exercise) |
//!
//! Every limit is a named constant here or in its module, and a CLI flag.

pub mod blocking;
pub mod client;
pub mod close;
pub mod connection;
pub mod frame;
pub mod handshake;
pub mod mask;
pub mod message;
pub mod protocol;
pub mod server;

use std::time::Duration;

/// Default largest frame payload a peer may send: 16 MiB. Big enough for any
/// lesson (and for the interop tests' 16 MiB messages in one frame), small
/// enough that a header announcing 2^63 bytes is refused at once (status 1009).
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// Default largest message, all fragments together: 64 MiB (status 1009 above it).
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// Default time a peer has to complete the opening handshake: 10 s. A client
/// that trickles its request (slow-loris) is cut off then.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub use close::{CloseCode, CloseFrame};
pub use connection::{WebSocket, WsError};
pub use frame::{FrameHeader, OpCode, Role};
pub use message::Message;
pub use protocol::Limits;
