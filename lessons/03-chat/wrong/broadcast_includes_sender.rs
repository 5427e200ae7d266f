//! Mistake: `everyone` ignores `include_sender`, so socket.broadcast.emit reaches the sender too.
//! Caught by: reaches everyone but the sender

use netlab::chat::id::ConnId;
pub use netlab::chat::protocol::event_header;

pub fn everyone(connected: &[ConnId], _sender: ConnId, _include_sender: bool) -> Vec<ConnId> {
    connected.to_vec()
}
