//! What every server guards against strangers: its memory, its connection
//! slots, its time, and its log.
//!
//! A server that reads from strangers must bound everything a peer can make
//! it hold. Per-connection limits (`--max-frame`, `--max-message`) are not
//! enough on their own: 10,000 connections each holding a legal 8 MiB partial
//! frame are 80 GB. So each server also has limits across *all* its
//! connections, kept here so that `tcp`, `ws`, `transport` and `web` share
//! one implementation:
//!
//! | module | bounds | a peer past it gets |
//! |---|---|---|
//! | [`memory`] | the bytes all connections together make the server hold (partial frames, unfinished messages, outbound queues, and the chat history they leave behind) | the protocol's own refusal: `bye memory_full`, close 1013, … |
//! | [`address`] | connections from one source address | the protocol's refusal, then the close |
//! | [`accept`] | log lines while `accept` fails (out of file descriptors) | — one line per episode, with a count |
//! | [`deadline`] | how long a frame may take, how long a connection may idle (one reusable timer per connection) | the protocol's refusal, then the close |
//!
//! Time limits (a frame must be complete within `--frame-timeout` of its
//! first byte; an echo connection idle for `--idle-timeout` is closed) are
//! enforced by each server's read loop; their defaults are here so every
//! server shares them.

pub mod accept;
pub mod address;
pub mod deadline;
pub mod memory;

pub use accept::{accept_with_backoff, AcceptFailures, AcceptReport};
pub use address::{AddressCap, AddressFull, AddressSlot, DEFAULT_MAX_PER_IP};
pub use deadline::{earliest, Deadline};
pub use memory::{MemoryBudget, OverBudget, Reservation, DEFAULT_MAX_MEMORY};

use std::time::Duration;

/// Default time a frame (or a WebSocket message) has to arrive whole, counted
/// from its first byte: 10 s. A real client sends a frame in one go, so on
/// any network a lesson runs on this is generous; a peer that announces a
/// frame and then stalls, or trickles it one byte a second (slow-loris),
/// loses its connection instead of holding a slot and a buffer forever.
pub const DEFAULT_FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// Default time an echo connection may stay idle (nothing read, and no echo
/// written) before it is closed: 5 minutes. Long enough for a student
/// typing into `netlab ws connect`; short enough that connections someone
/// opened and forgot (or 10,000 opened on purpose) give their slots back.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// `Some(d)`, or `None` for a zero duration: how "0 = off" flags become config.
pub fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}
