// Lesson 11 — exercise: read packets the way the inspector does.
//
// Replace each `todo!()`, then run `netlab check 11`.
// `netlab lesson 11` draws the headers these functions read, byte by byte.
// Don't call `netlab::inspect::...` for the answers: it is the answer key.

use netlab::inspect::ipv4::Header;
use netlab::inspect::WireError;
use netlab::layers::{OsiLayer, Protocol};
use std::net::Ipv4Addr;

/// Decodes an IPv4 header (RFC 791 §3.1) from the start of `bytes`.
///
/// Errors, one rule at a time, in this order:
/// - fewer than 20 bytes: `WireError::Truncated { protocol: Protocol::Ipv4, needed: 20, had }`;
/// - version is not 4: `WireError::WrongVersion { protocol: Protocol::Ipv4, found, expected: 4 }`;
/// - IHL × 4 below 20: `WireError::HeaderLengthTooSmall { protocol: Protocol::Ipv4, announced, minimum: 20 }`;
/// - fewer bytes than IHL × 4: `WireError::Truncated { needed: IHL × 4, .. }`;
/// - Total Length below the header: `WireError::LengthBelowHeader { .. }`.
///
/// Otherwise every field of `Header`, `header_len` in bytes; `checksum_ok`
/// says whether the Header Checksum verifies over the whole header, options
/// included (RFC 1071 §1: the ones'-complement sum of its 16-bit words,
/// checksum included, is 0xffff).
pub fn decode_ipv4(bytes: &[u8]) -> Result<Header, WireError> {
    let _ = (Protocol::Ipv4, Ipv4Addr::LOCALHOST);
    todo!()
}

/// The names of the TCP flags set in the flags byte (byte 13 of the TCP header,
/// RFC 9293 §3.1), in bit order, lowest bit first: FIN, SYN, RST, PSH, ACK,
/// URG, ECE, CWR. `0x12` → `["SYN", "ACK"]`; `0x00` → none.
pub fn flag_names(flags: u8) -> Vec<&'static str> {
    todo!()
}

/// The OSI layer of byte `offset` of an Ethernet frame carrying IPv4 and then TCP
/// or UDP: Ethernet header → DataLink, IPv4 header → Network, TCP/UDP header →
/// Transport, the payload after it → Application. `None` past the frame's end.
/// Each header is as long as the packet itself says (options included).
pub fn layer_at(frame: &[u8], offset: usize) -> Option<OsiLayer> {
    todo!()
}
