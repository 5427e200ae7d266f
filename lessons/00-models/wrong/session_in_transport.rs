//! Mistake: the OSI session layer (5) is folded into TCP/IP's transport layer, because TCP "holds the session".
//! Caught by: 5, 6 and 7 all fold into Application

pub use netlab::layers::{field_layer, osi_layer};
use netlab::layers::{OsiLayer, TcpIpLayer};

pub fn tcpip_layer(layer: OsiLayer) -> TcpIpLayer {
    match layer {
        OsiLayer::Session => TcpIpLayer::Transport,
        other => netlab::layers::tcpip_layer(other),
    }
}
