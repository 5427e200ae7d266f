//! Flow state: what the inspector remembers about each TCP connection, so that
//! application protocols a port number cannot reveal are still recognised — a
//! connection that completed an HTTP upgrade (RFC 6455 §4) carries WebSocket
//! frames from then on, in both directions; a connection that carried an
//! Engine.IO long-polling request gets an answer whose body is a payload of
//! Engine.IO packets.

use std::collections::HashMap;
use std::net::IpAddr;

/// The most connections remembered at once; when full the table starts over
/// (a capture with more concurrent flows loses only the upgrade memory).
pub const MAX_FLOWS: usize = 65_536;

/// One end of a connection.
pub type Endpoint = (IpAddr, u16);

/// A connection, the same whichever direction a segment travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    lo: Endpoint,
    hi: Endpoint,
}

impl FlowKey {
    /// The key for a segment from `a` to `b`.
    pub fn new(a: Endpoint, b: Endpoint) -> FlowKey {
        if a <= b {
            FlowKey { lo: a, hi: b }
        } else {
            FlowKey { lo: b, hi: a }
        }
    }
}

/// What a connection is known to carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlowState {
    /// Nothing recognised yet.
    #[default]
    Unknown,
    /// The client sent a WebSocket upgrade request; waiting for 101.
    UpgradeRequested {
        /// The client's end.
        client: Endpoint,
        /// The path began with `/socket.io/`: messages are Engine.IO packets.
        socketio: bool,
    },
    /// The server answered 101: WebSocket frames from here on.
    WebSocket {
        /// The client's end (its frames are masked).
        client: Endpoint,
        /// Messages are Engine.IO/Socket.IO packets.
        socketio: bool,
        /// A frame that continues in the next segment, per direction:
        /// `[client → server, server → client]`.
        pending: [Pending; 2],
    },
    /// netlab length-prefixed frames were seen.
    NetlabFrames,
    /// The last request was an Engine.IO long-polling one (`transport=polling`):
    /// the body of the `200` answering it is a payload of packets.
    Polling {
        /// The client's end (the answer comes from the other).
        client: Endpoint,
    },
}

/// Where a WebSocket frame too long for its TCP segment continues: the next
/// segment in the same direction starting at `next_seq` begins with
/// `remaining` more payload bytes of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pending {
    /// The sequence number the next segment in this direction must start at.
    pub next_seq: u32,
    /// Payload bytes of the frame still to come (0: the next segment starts a frame).
    pub remaining: u64,
    /// The frame's masking key, to unmask the rest.
    pub key: Option<[u8; 4]>,
    /// Payload bytes already seen (where the masking key's cycle stands).
    pub offset: u64,
}

/// The table of flows.
#[derive(Debug)]
pub struct FlowTable {
    flows: HashMap<FlowKey, FlowState>,
    limit: usize,
}

impl Default for FlowTable {
    fn default() -> Self {
        FlowTable::with_limit(MAX_FLOWS)
    }
}

impl FlowTable {
    /// An empty table holding at most [`MAX_FLOWS`] flows.
    pub fn new() -> Self {
        Self::default()
    }
    /// An empty table holding at most `limit` flows (at least 1).
    pub fn with_limit(limit: usize) -> Self {
        FlowTable {
            flows: HashMap::new(),
            limit: limit.max(1),
        }
    }
    /// What the flow is known to carry.
    pub fn get(&self, key: &FlowKey) -> FlowState {
        self.flows.get(key).copied().unwrap_or_default()
    }
    /// Records what the flow carries.
    pub fn set(&mut self, key: FlowKey, state: FlowState) {
        if self.flows.len() >= self.limit && !self.flows.contains_key(&key) {
            self.flows.clear();
        }
        self.flows.insert(key, state);
    }
    /// Forgets a flow (after FIN or RST).
    pub fn remove(&mut self, key: &FlowKey) {
        self.flows.remove(key);
    }
    /// Number of flows remembered.
    pub fn len(&self) -> usize {
        self.flows.len()
    }
    /// Whether no flow is remembered.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn both_directions_share_a_key_and_the_table_is_bounded() {
        let a = (IpAddr::V4(Ipv4Addr::LOCALHOST), 1000);
        let b = (IpAddr::V4(Ipv4Addr::LOCALHOST), 80);
        assert_eq!(FlowKey::new(a, b), FlowKey::new(b, a));
        let mut t = FlowTable::new();
        for port in 0..MAX_FLOWS as u32 {
            t.set(FlowKey::new(a, (b.0, port as u16)), FlowState::NetlabFrames);
        }
        assert_eq!(t.len(), MAX_FLOWS);
        t.set(FlowKey::new(b, b), FlowState::NetlabFrames);
        assert_eq!(t.len(), 1, "max + 1 starts over instead of growing");
        let mut t = FlowTable::with_limit(3);
        for port in 1..=3 {
            t.set(FlowKey::new(a, (b.0, port)), FlowState::NetlabFrames);
        }
        assert_eq!(t.len(), 3, "the limit itself fits");
        t.set(FlowKey::new(a, (b.0, 1)), FlowState::Unknown);
        assert_eq!(t.len(), 3, "updating a known flow is not a new one");
        t.set(FlowKey::new(a, (b.0, 4)), FlowState::NetlabFrames);
        assert_eq!(t.len(), 1);
    }
}
