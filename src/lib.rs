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
//! | [`inspect`] | 11 | the packet inspector: wire views per protocol, every byte labelled with its layer |
//!
//! Supporting modules: [`course`] (lessons and grading), [`tour`] (`netlab tour`),
//! [`bench`] (load generators), [`term`] (colours by layer), [`cli`] (the command line).
//!
//! Modules depend downward: `cli` → `tour`/`bench` → `tcp` → `framing`/`layers`.
//! Parsers are pure functions over bytes, so lessons and fuzzers can call them
//! without a socket.

#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod course;
pub mod framing;
pub mod inspect;
pub mod layers;
pub mod tcp;
pub mod term;
pub mod tour;
