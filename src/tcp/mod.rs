//! Lessons 01 and 02 — TCP sockets.
//!
//! - [`boundaries`]: the experiment that shows a stream has no message boundaries.
//! - [`partial_io`]: the read and write loops every socket program needs,
//!   because one `read` or `write` call may move fewer bytes than asked.
//! - [`blocking_echo`]: a blocking echo server, one thread per connection.
//! - [`echo`]: a length-prefixed echo server that holds many connections at once.
//! - [`client`]: a framed client that sends messages and waits for their echoes.

pub mod blocking_echo;
pub mod boundaries;
pub mod client;
pub mod echo;
pub mod partial_io;
