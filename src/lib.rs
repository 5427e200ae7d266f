//! # netlab — learn networking by running it
//!
//! The crate is the course's reference implementation. Each module teaches one
//! lesson (run `netlab lessons` for the list):
//!
//! | module | lesson | what it shows |
//! |---|---|---|
//! | [`layers`] | 00 | the OSI and TCP/IP models; which layer each protocol and field belongs to |
//! | [`tcp::boundaries`], [`tcp::partial_io`], [`tcp::blocking_echo`] | 01 | sockets; a TCP stream has no message boundaries; partial reads and writes; an echo server with a thread per connection |
//! | [`framing`], [`tcp::echo`], [`tcp::client`] | 02 | a length prefix restores message boundaries |
//! | [`chat::hub`], [`chat::protocol`], [`chat::id`], [`client::tcp`], [`client::terminal`] | 03 | a chat hub: ids, broadcast to all / all but the sender, acks; a client that types to it |
//! | [`chat::rooms`], [`chat::adapter`], [`transport`] | 04 | rooms, the own-id room, disconnecting; the broadcast seam; TCP transport |
//! | [`udp`] | 05 | datagrams: the sequence header, the MTU cap, gap/duplicate/late tracking, RFC 3550 loss and jitter |
//! | [`transport::udp`], [`client::udp`] | 05 | the chat hub over UDP: sessions without a connection (hello, heartbeat, expiry), loss shown inline, no amplification |
//! | [`lab`] | 06 | TCP vs UDP under the same loss, reordering, duplication and a slow receiver (`netlab compare`) |
//! | [`chat::history`], [`chat::session`], [`chat::log`] | 07 | missed events, the hub side: per-key seqs in bounded rings, replay with `gap`, resumable sessions with single-use tokens, idempotent receive, `seen` confirmations, durable history |
//! | [`reliable`] | 07 | reliable delivery over UDP: sequence numbers, cumulative acks, the RFC 6298 RTO, a sliding window, de-duplication and reordering |
//! | [`client::resume`], [`client::reconnect`], [`chat::heartbeat`] | 07 | missed events, the client side: de-duplication by seq, resume, `seen`, retries with the same ack id, heartbeats both ways, reconnecting with backoff and jitter |
//! | [`link`] | 05–06 | a bad network on demand: loss, duplication, reordering, delay, jitter, rate, corruption |
//! | [`ws::handshake`], [`ws::server`], [`ws::client`], [`ws::blocking`] | 08 | HTTP/1.1 and the WebSocket upgrade (RFC 6455 §4) |
//! | [`ws::frame`], [`ws::mask`], [`ws::message`], [`ws::close`], [`ws::protocol`], [`ws::connection`] | 09 | WebSocket frames, masking, messages, closing (RFC 6455 §5–§7) |
//! | [`web`], [`web::socketio`], [`transport::ws`], [`transport::socketio`] | 10 | chat in the browser: the page, the HTTP server, the Origin check, the hub over WebSocket and over Socket.IO |
//! | [`inspect`] | 11 | the packet inspector: wire views per protocol, every byte labelled with its layer |
//! | [`cluster`], [`transport::redis`], [`lab::redis`] | 12 | many servers, one chat: rooms across processes over Redis, wire-compatible with Socket.IO's Redis adapter |
//!
//! Supporting modules: [`guard`] (what every server bounds across all its
//! connections: memory, connections per address, timeouts, accept failures),
//! [`course`] (lessons and grading), [`tour`] (`netlab tour`),
//! [`bench`](mod@bench) (load generators), [`term`] (colours by layer), [`units`] (sizes, rates,
//! durations on the command line), [`cli`] (the command line: the only module that knows clap).
//!
//! ## Which module may use which
//!
//! Modules depend downward, never up: a module may import its own floor or
//! any floor below it, and nothing imports `cli`. Parsers and the hub sit low
//! and are pure (bytes or events in, data out), so lessons and fuzzers call
//! them without a socket; the floors above own the sockets, the screen and
//! the command line. `tests/layering.rs` reads every `crate::…` path in `src/`
//! and fails when an arrow points up or is one of the arrows never drawn.
//!
//! | floor | modules | what lives here |
//! |---|---|---|
//! | 5 | `cli` | the command line: clap, dispatch, printing results |
//! | 4 | `tour`, `bench` | programs made of everything below: the tour, the load generators |
//! | 3 | `client`, `transport`, `web`, `lab` | sockets around the protocols: clients, server transports, the browser page, experiments |
//! | 2 | `chat`, `cluster`, `ws`, `inspect`, `reliable`, `link`, `tcp`, `udp` | the protocols each lesson teaches |
//! | 1 | `framing`, `guard`, `layers`, `units`, `term`, `course` | the groundwork: frames, the servers' shared guards (memory budget, per-address caps, accept failures), the layer models, units, colours, the course list |
//!
//! Some arrows are never drawn, whatever the floors say:
//!
//! | from | never to | why |
//! |---|---|---|
//! | `chat` | `ws`, `tcp`, `link`, `reliable`, `inspect` | the hub is a state machine: events in, deliveries out; it knows no transport |
//! | `client` | `transport` | the two ends of a connection share only the protocol (`chat`) |
//! | `transport` | `client` | the same rule, the other way |

#![warn(missing_docs)]

pub mod bench;
pub mod chat;
pub mod cli;
pub mod client;
pub mod cluster;
pub mod course;
pub mod framing;
pub mod guard;
pub mod inspect;
pub mod lab;
pub mod layers;
pub mod link;
pub mod reliable;
pub mod tcp;
pub mod term;
pub mod tour;
pub mod transport;
pub mod udp;
pub mod units;
pub mod web;
pub mod ws;
