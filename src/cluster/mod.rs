//! Lesson 12 — many servers, one chat: the hub's broadcasts shared over
//! Redis, in the wire format of Socket.IO's own Redis adapter.
//!
//! One server keeps its rooms in memory ([`crate::chat::rooms`]); a second
//! server knows none of them. The fix Socket.IO uses, and this module
//! copies, is to keep membership *local* and share *broadcasts*: every
//! broadcast is published on Redis, every server hears it and delivers it to
//! its own members of the rooms it names. Nobody ever knows the whole
//! membership; questions about it ("who is in `lobby`?") are asked of every
//! server and the answers put together.
//!
//! - [`msgpack`]: MessagePack, the binary JSON the messages are written in;
//! - [`message`]: the channels and messages of `@socket.io/redis-adapter`;
//! - [`adapter`]: [`adapter::ClusterAdapter`], the hub's broadcast seam
//!   ([`crate::chat::adapter::Adapter`]) publishing what it delivers.
//!
//! Everything here is pure: the Redis connections live beside the transports,
//! in [`crate::transport::redis`].

pub mod adapter;
pub mod message;
pub mod msgpack;
