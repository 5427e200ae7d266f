//! Lesson 07 — reliable delivery over UDP, from first principles.
//!
//! UDP loses, duplicates and reorders datagrams ([`crate::link`] does all three on
//! demand). This module rebuilds what TCP does about it, one concept per file:
//!
//! - [`wire`]: every datagram carries a sequence number; the receiver answers
//!   with a *cumulative* ack, "everything below N has arrived".
//! - [`rto`]: how long to wait before resending, estimated from measured round
//!   trips (RFC 6298: SRTT, RTTVAR, Karn's rule, exponential backoff).
//! - [`reorder`]: the receiver's buffer that drops duplicates and holds early
//!   arrivals until the gap before them is filled, so bytes come out in order.
//! - [`sender`] and [`receiver`]: the two ends as *sans-I/O* state machines —
//!   datagrams and clock readings in, datagrams out — so the same code runs on
//!   a virtual clock through a [`crate::link::Link`] ([`sim`]) and over real
//!   sockets ([`socket`]).
//!
//! What is left out on purpose: congestion control (the window is fixed), and
//! selective acks (a cumulative ack plus fast retransmit and NewReno-style
//! partial-ack recovery is enough to show the idea).

pub mod receiver;
pub mod reorder;
pub mod rto;
pub mod sender;
pub mod sim;
pub mod socket;
pub mod wire;

pub use receiver::{Receiver, ReceiverStats};
pub use reorder::{Offer, ReorderBuffer};
pub use rto::{RtoConfig, RtoEstimator};
pub use sender::{Sender, SenderConfig, SenderStats};
pub use wire::{Packet, WireError};

/// Default payload bytes per datagram: well under a 1500-byte Ethernet MTU
/// once the IP, UDP and our 9-byte header are added.
pub const DEFAULT_MSS: usize = 1200;

/// Default most segments in flight (sent, not yet acknowledged), and the most
/// early segments a receiver holds.
pub const DEFAULT_WINDOW: u64 = 64;
