//! # netlab — learn networking by running it
//!
//! The crate is the course's reference implementation. Each module teaches one
//! lesson (run `netlab lessons` for the list):
//!
//! | module | lesson | what it shows |
//! |---|---|---|
//! | [`layers`] | 00 | the OSI and TCP/IP models; which layer each protocol and field belongs to |
//! | [`tcp::boundaries`], [`tcp::partial_io`] | 01 | sockets; a TCP stream has no message boundaries; partial reads and writes |
//! | [`framing`], [`tcp::echo`], [`tcp::client`] | 02 | a length prefix restores message boundaries |
//! | [`udp`] | 05 | datagrams: the sequence header, the MTU cap, gap/duplicate/late tracking, RFC 3550 loss and jitter |
//! | [`lab`] | 06 | TCP vs UDP under the same loss, reordering, duplication and a slow receiver (`netlab compare`) |
//! | [`link`] | 05–06 | a bad network on demand: loss, duplication, reordering, delay, jitter, rate, corruption |
//!
//! Supporting modules: [`course`] (lessons and grading), [`tour`] (`netlab tour`),
//! [`bench`] (load generators), [`term`] (colours by layer), [`units`] (sizes, rates,
//! durations on the command line), [`cli`] (the command line).
//!
//! Modules depend downward: `cli` → `tour`/`bench` → `tcp` → `framing`/`layers`.
//! Parsers are pure functions over bytes, so lessons and fuzzers can call them
//! without a socket.

#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod course;
pub mod framing;
pub mod lab;
pub mod layers;
pub mod link;
pub mod tcp;
pub mod term;
pub mod tour;
pub mod udp;
pub mod units;
