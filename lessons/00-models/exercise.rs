// Lesson 00 — exercise: place protocols and header fields into layers.
//
// Replace each `todo!()` below with your answer, then run `netlab check 00`.
// Don't call `netlab::layers::osi_layer` and friends: they are the answer key.
// `netlab lesson 00` has everything you need.

use netlab::layers::{HeaderField, OsiLayer, Protocol, TcpIpLayer};

/// The OSI layer (1–7) a protocol is usually placed at. Where the placement
/// is debated (ARP, ICMP, TLS), the one the lesson's table and `netlab layers` show.
pub fn osi_layer(protocol: Protocol) -> OsiLayer {
    // TODO: one `match` arm per protocol, e.g. `Protocol::Ethernet => OsiLayer::DataLink,`
    todo!()
}

/// The TCP/IP model layer (RFC 1122 §1.1.3) that covers an OSI layer: each of
/// the seven OSI layers falls in exactly one of the four.
pub fn tcpip_layer(layer: OsiLayer) -> TcpIpLayer {
    // TODO: seven OSI layers fold into four TCP/IP layers.
    todo!()
}

/// The OSI layer of a header field: the layer of the protocol whose header carries it.
pub fn field_layer(field: HeaderField) -> OsiLayer {
    // TODO: which header is a port in? a MAC address? the masking key?
    todo!()
}
