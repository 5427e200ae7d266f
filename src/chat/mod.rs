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
//! | [`hub`] | the state machine: events in, deliveries out, no I/O |
//! | [`limits`] | what one connection may do: names, rooms, rate, strikes |
//! | [`log`] | durable history: an append-only file with a checksum per record; a torn last record is dropped (lesson 07) |
//! | [`client`] | a client over TCP that the terminal chat, tests and benchmarks use |
//! | [`udp_client`] | a client over UDP that shows lost, duplicated and late datagrams inline (lesson 05) |
//! | [`resume`] | what a client remembers to get every event once: seq de-duplication, resume, `seen`, retries, heartbeat (lesson 07) |
//! | [`reconnect`] | the terminal chat over TCP and WebSocket, reconnecting and resuming by itself (lessons 07, 10) |
//! | [`command`] | `netlab serve` and `netlab chat` |
//!
//! The hub never touches a socket: transports ([`crate::transport`]) carry its
//! events over TCP, UDP and WebSocket, all sharing one hub —
//! so clients on different transports meet in the same rooms.

pub mod adapter;
pub mod client;
pub mod command;
pub mod history;
pub mod hub;
pub mod id;
pub mod limits;
pub mod log;
pub mod protocol;
pub mod reconnect;
pub mod resume;
pub mod rooms;
pub mod routing;
pub mod session;
pub mod udp_client;

pub use hub::{Hub, Output};
pub use id::ConnId;
pub use rooms::Target;
