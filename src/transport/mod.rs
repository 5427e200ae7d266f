//! Transports: the adapters that carry the hub's events over real sockets.
//!
//! The hub ([`crate::chat::Hub`]) has no I/O. [`ChatServer`] wraps one hub
//! with the per-connection outbound queues ([`Outbound`]) that every transport
//! shares; a transport only reads frames from its sockets into
//! [`ChatServer::handle_frames`] and writes what [`Outbound::take`] hands it.
//! TCP ([`tcp`]) is the first; UDP ([`udp`], one event per datagram) and WebSocket ([`ws`], one event per text message) plug into the same
//! `ChatServer`, so their clients meet TCP clients in the same rooms.

pub mod outbound;
pub mod redis;
pub mod server;
pub mod socketio;
pub mod tcp;
pub mod udp;
pub mod udp_log;
pub mod ws;

pub use outbound::{Batch, Outbound};
pub use server::{ChatServer, ServerConfig, ServerNote};
