//! Mistake: WebSocket and Socket.IO are placed at the transport layer (4), as if they were transports like TCP.
//! Caught by: it is carried inside TCP, it is not a transport like TCP

pub use netlab::layers::{field_layer, tcpip_layer};
use netlab::layers::{OsiLayer, Protocol};

pub fn osi_layer(protocol: Protocol) -> OsiLayer {
    match protocol {
        Protocol::WebSocket | Protocol::SocketIo => OsiLayer::Transport,
        other => netlab::layers::osi_layer(other),
    }
}
