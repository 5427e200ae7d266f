//! Mistake: ports are placed at the network layer (3), as if they were part of the IP address.
//! Caught by: ports are in the TCP/UDP header (4)

pub use netlab::layers::{osi_layer, tcpip_layer};
use netlab::layers::{HeaderField, OsiLayer};

pub fn field_layer(field: HeaderField) -> OsiLayer {
    match field {
        HeaderField::SourcePort | HeaderField::DestinationPort => OsiLayer::Network,
        other => netlab::layers::field_layer(other),
    }
}
