// Lesson 00 — exercise: place protocols and header fields into layers.
//
// Replace each `todo!()` below with your answer, then run `netlab check 00`.
// Don't call `netlab::layers::osi_layer` and friends: they are the answer key.
// `netlab lesson 00` has everything you need.

use netlab::layers::{HeaderField, OsiLayer, Protocol, TcpIpLayer};

/// The OSI layer (1–7) a protocol is usually placed at.
pub fn osi_layer(protocol: Protocol) -> OsiLayer {
    // TODO: one `match` arm per protocol, e.g. `Protocol::Ethernet => OsiLayer::DataLink,`
    todo!()
}

/// The TCP/IP model layer that covers an OSI layer.
pub fn tcpip_layer(layer: OsiLayer) -> TcpIpLayer {
    // TODO: seven OSI layers fold into four TCP/IP layers.
    todo!()
}

/// The OSI layer of a header field: the layer of the protocol whose header carries it.
pub fn field_layer(field: HeaderField) -> OsiLayer {
    // TODO: which header is a port in? a MAC address? the masking key?
    todo!()
}
