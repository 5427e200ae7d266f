//! Lesson 05 — UDP datagrams, and loss made visible.
//!
//! UDP hands the network one datagram at a time and promises nothing: a
//! datagram may be lost, duplicated or overtaken, and the receiver is not told.
//! To *see* what happened, every datagram carries its sender's sequence number
//! ([`header`]), and the receiver keeps one [`tracker::ReceiveTracker`] per
//! sender that turns arrivals into readable events ("3 messages lost: seq
//! 41–43", "duplicate of 17", "arrived late: 12") and into the loss rate and
//! interarrival jitter of RFC 3550 §6.4.1 / Appendix A.
//!
//! [`header::Sequencer`] numbers the sending side; [`senders::SenderTable`]
//! keeps one tracker per sender address, bounded against spoofed floods.
//! [`ping`] measures loss and round-trip time against an echo service.
//! Apart from the pinger, which borrows one, nothing here owns a socket: the
//! TCP vs UDP lab and the chat hub's UDP transport both put these pieces
//! around their own sockets.

pub mod header;
pub mod ping;
pub mod senders;
pub mod tracker;

pub use header::{
    DatagramError, DatagramHeader, Sequencer, HEADER_LEN, IPV4_MAX_UDP_DATA,
    IPV6_MAX_DATAGRAM_PAYLOAD, MAX_DATAGRAM_PAYLOAD, MAX_MESSAGE, UDP_MAX_DATA,
};
pub use ping::PingReport;
pub use senders::{SenderTable, DEFAULT_MAX_SENDERS};
pub use tracker::{Arrival, ReceiveTracker, TrackerStats};
