//! Mistake: TLS is placed at the application layer (7) because it runs above TCP, instead of the presentation layer (6).
//! Caught by: TLS encrypts for the application above it

pub use netlab::layers::{field_layer, tcpip_layer};
use netlab::layers::{OsiLayer, Protocol};

pub fn osi_layer(protocol: Protocol) -> OsiLayer {
    match protocol {
        Protocol::Tls => OsiLayer::Application,
        other => netlab::layers::osi_layer(other),
    }
}
