//! What the hub hands back: the one vocabulary between the state machine and
//! the transports that carry out its decisions (deliver, close, and the
//! lifecycle points of a connection).

use super::id::ConnId;
use super::protocol::{Member, ServerEvent};
use std::sync::Arc;

/// What the hub asks its transport to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send `event` to each of these connections (encode it once, send it to all).
    Deliver {
        /// The recipients, each once.
        to: Vec<ConnId>,
        /// The event.
        event: Arc<ServerEvent>,
    },
    /// Close this connection once what is queued for it (its `bye`) is sent.
    Close {
        /// The connection.
        id: ConnId,
    },
    /// A connection is going away and is *still in its rooms* (Socket.IO's
    /// `disconnecting`): the last moment to see where it was.
    Disconnecting {
        /// Who.
        id: ConnId,
        /// Every room it is in, its own id room first.
        rooms: Vec<String>,
    },
    /// A connection is gone and has left every room (Socket.IO's `disconnect`).
    Disconnected {
        /// Who.
        id: ConnId,
        /// Why, in words.
        reason: String,
    },
    /// A session's connection went away but the session stays, in its rooms,
    /// until it is resumed or expires (lesson 07).
    Detached {
        /// Who.
        id: ConnId,
        /// Why the connection went away.
        reason: String,
    },
    /// A question only every server together can answer (lesson 12): the
    /// hub gives this server's part; the transport asks the others and
    /// delivers the whole answer to `id` (or this part alone when it is
    /// the only server).
    Ask {
        /// Who asked.
        id: ConnId,
        /// What, with this server's answer.
        question: Question,
    },
    /// The connection known as `from` is now session `to` (a resume): what
    /// goes to `to` from here on goes out on `from`'s connection.
    Rebind {
        /// The connection's provisional id (dropped).
        from: ConnId,
        /// The session it became.
        to: ConnId,
    },
}

/// A question for every server, with this server's part of the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// `who` is in `room`: this server's members of it.
    Who {
        /// The room.
        room: String,
        /// The members here.
        members: Vec<Member>,
    },
}

impl Question {
    /// The answer from this server's part alone (`partial`: why other
    /// servers' parts are missing, when they are).
    pub fn local_answer(self, partial: Option<String>) -> ServerEvent {
        match self {
            Question::Who { room, members } => ServerEvent::Who {
                room,
                members,
                partial,
            },
        }
    }
}
