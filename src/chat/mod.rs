//! Lessons 03, 04 and 07 — a chat hub the Socket.IO way: identity, broadcast,
//! rooms, and not missing events.
//!
//! | file | what it teaches |
//! |---|---|
//! | [`id`] | every connection gets 128 random bits from the OS as its id, and a room named by it |
//! | [`protocol`] | the JSON events on the wire, acks, and the errors a bad frame gets |
//! | [`rooms`] | the membership table and every routing form ([`rooms::Target`]) |
//! | [`routing`] | the same rules on plain sets, as the lessons (and their exercises) state them |
//! | [`adapter`] | the one seam every broadcast goes through (history, Redis later) |
//! | [`history`] | per-key rings of recorded events with their seqs, replayed to who missed them (lesson 07) |
//! | [`session`] | tokens that resume a session, idempotent receive, server→client confirmations (lesson 07) |
//! | [`output`] | what the hub hands its transports: deliver, close, disconnecting, detached |
//! | [`hub`] | the state machine: events in, deliveries out, no I/O |
//! | [`limits`] | what one connection may do: names, rooms, rate, strikes |
//! | [`log`] | durable history: an append-only file with a checksum per record; a torn last record is dropped, a damaged one refused (lesson 07) |
//! | [`datagram`] | the datagrams UDP adds: a padded `hello`, `heartbeat`s, `bye`, and the server's `session` (lesson 05) |
//! | [`heartbeat`] | when to ping a silent peer and when to call it dead: the clock logic both sides share (lesson 07) |
//!
//! Nothing here touches a socket: transports ([`crate::transport`]) carry the
//! hub's events over TCP, UDP and WebSocket, all sharing one hub — so clients
//! on different transports meet in the same rooms — and the clients that talk
//! to it live in [`crate::client`].

pub mod adapter;
pub mod datagram;
pub mod heartbeat;
pub mod history;
pub mod hub;
pub mod id;
pub mod limits;
pub mod log;
pub mod output;
pub mod protocol;
pub mod rooms;
pub mod routing;
pub mod session;

pub use hub::{Hub, Output};
pub use id::ConnId;
pub use rooms::Target;
