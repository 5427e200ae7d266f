//! Lessons 03 and 04 — the hub: connections, nicknames, rooms and routing,
//! as a state machine with no I/O.
//!
//! Transports (TCP, UDP, WebSocket) own the sockets. They tell the hub that a
//! connection arrived ([`Hub::connect`]), hand it every frame a client sent
//! ([`Hub::handle`]) and say when a connection went away ([`Hub::disconnect`]).
//! The hub answers with [`Output`]s: events to deliver to sets of connections,
//! connections to close, and the `disconnecting` / `disconnect` lifecycle
//! points. Because nothing here touches a socket, lessons and property tests
//! drive it directly.
//!
//! What a client may do (the policy, decided here once for every transport):
//! - speak into rooms **it is in**, to **any connection id** (a private
//!   message: Socket.IO's `socket.to(otherId)`), or to **everyone**;
//! - never speak as anyone else: the sender of every message is the id of the
//!   connection it arrived on, never a field the client wrote;
//! - never join or leave a room named like an id (those are the private rooms);
//! - only ask `who` about rooms it is in.
//!
//! Server code (like Socket.IO's `io.to(room)`) may address any room from
//! outside with [`Hub::emit`].

use super::adapter::{Adapter, LocalAdapter};
use super::id::ConnId;
use super::limits::{check_name, Limits, RateLimiter};
use super::protocol::{
    parse_client_event, ClientEvent, ClientFrame, LeaveReason, Member, Refusal, ServerEvent,
    WireLimits,
};
use super::rooms::{RoomName, Rooms, Target};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

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
}

/// What the hub keeps per connection besides its rooms.
#[derive(Debug)]
struct Conn {
    nick: String,
    limiter: RateLimiter,
    /// Violations since the last accepted event.
    strikes: u32,
}

/// Where connection ids come from: the OS generator, or a test's own source.
pub type IdSource = Box<dyn FnMut() -> Result<ConnId, getrandom::Error> + Send>;

/// The chat hub.
pub struct Hub<A: Adapter = LocalAdapter> {
    conns: HashMap<ConnId, Conn>,
    rooms: Rooms,
    adapter: A,
    limits: Limits,
    ids: IdSource,
}

impl Hub<LocalAdapter> {
    /// A hub with the in-memory adapter.
    pub fn new(limits: Limits) -> Self {
        Self::with_adapter(limits, LocalAdapter)
    }
}

impl<A: Adapter> Hub<A> {
    /// A hub that broadcasts through `adapter`.
    pub fn with_adapter(limits: Limits, adapter: A) -> Self {
        Self {
            conns: HashMap::new(),
            rooms: Rooms::new(),
            adapter,
            limits,
            ids: Box::new(ConnId::random),
        }
    }

    /// Replaces where ids come from (tests use this to force a repeat and see
    /// that a live id is never handed out twice).
    pub fn with_id_source(mut self, ids: IdSource) -> Self {
        self.ids = ids;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The membership table (read-only).
    pub fn rooms(&self) -> &Rooms {
        &self.rooms
    }

    /// Number of connections.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// Whether no one is connected.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// A connection's nickname.
    pub fn nick(&self, id: ConnId) -> Option<&str> {
        self.conns.get(&id).map(|c| c.nick.as_str())
    }

    /// Every room `id` is in: its own id room first, then the named rooms, sorted.
    pub fn rooms_of(&self, id: ConnId) -> Vec<String> {
        if !self.conns.contains_key(&id) {
            return Vec::new();
        }
        std::iter::once(id.to_hex())
            .chain(self.rooms.rooms_of(id).map(|r| r.to_string()))
            .collect()
    }

    /// A new connection: picks its id, puts it in its own room and welcomes it.
    pub fn connect(&mut self, out: &mut Vec<Output>) -> Result<ConnId, getrandom::Error> {
        self.connect_at(Instant::now(), out)
    }

    /// [`Hub::connect`] at a given time (the rate limiter's clock starts here).
    pub fn connect_at(
        &mut self,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<ConnId, getrandom::Error> {
        let id = loop {
            let id = (self.ids)()?;
            if !self.conns.contains_key(&id) {
                break id;
            }
        };
        let hex = id.to_hex();
        let nick = format!("guest-{}", &hex[..4]);
        self.conns.insert(
            id,
            Conn {
                nick: nick.clone(),
                limiter: RateLimiter::new(self.limits.rate, self.limits.burst, now),
                strikes: 0,
            },
        );
        self.rooms.add_conn(id);
        let l = self.limits;
        out.push(Output::Deliver {
            to: vec![id],
            event: Arc::new(ServerEvent::Welcome {
                id,
                nick,
                limits: WireLimits {
                    max_nick: l.max_nick,
                    max_room: l.max_room,
                    max_rooms: l.max_rooms,
                    max_text: l.max_text,
                    rate: l.rate,
                    burst: l.burst,
                },
                session: None,
                session_ttl_ms: None,
            }),
        });
        Ok(id)
    }

    /// Server code emitting to any target (Socket.IO's `io.to(...).emit`):
    /// no membership check, because the server is trusted. Returns how many
    /// connections were reached.
    pub fn emit(&mut self, target: &Target, event: ServerEvent, out: &mut Vec<Output>) -> usize {
        self.adapter
            .broadcast(&self.rooms, target, Arc::new(event), out)
    }

    /// One frame from connection `id`: parse, check, apply, answer.
    pub fn handle(&mut self, id: ConnId, payload: &[u8], out: &mut Vec<Output>) {
        self.handle_at(id, payload, Instant::now(), out)
    }

    /// [`Hub::handle`] at a given time (for the rate limiter).
    pub fn handle_at(&mut self, id: ConnId, payload: &[u8], now: Instant, out: &mut Vec<Output>) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        // Every frame costs a token, even a broken one: a flood of garbage is a flood.
        if !conn.limiter.allow(now) {
            let r = Refusal::RateLimited {
                rate: self.limits.rate,
                burst: self.limits.burst,
            };
            return self.refuse(id, None, r, out);
        }
        match parse_client_event(payload) {
            Ok(frame) => self.handle_event(id, frame, out),
            Err((ack, r)) => self.refuse(id, ack, r, out),
        }
    }

    /// A parsed event from connection `id` (no rate limit applied here).
    pub fn handle_event(&mut self, id: ConnId, frame: ClientFrame, out: &mut Vec<Output>) {
        if !self.conns.contains_key(&id) {
            return;
        }
        let ClientFrame { event, ack } = frame;
        match self.apply(id, event, out) {
            Ok(reached) => {
                if let Some(c) = self.conns.get_mut(&id) {
                    c.strikes = 0;
                }
                if let Some(ack) = ack {
                    out.push(Output::Deliver {
                        to: vec![id],
                        event: Arc::new(ServerEvent::Ack {
                            ack,
                            ok: true,
                            reached: Some(reached),
                            error: None,
                            message: None,
                        }),
                    });
                }
            }
            Err(r) => self.refuse(id, ack, r, out),
        }
    }

    /// Tells `id` why its event was refused, counts a strike, and closes the
    /// connection when the strikes reach the limit.
    pub fn refuse(&mut self, id: ConnId, ack: Option<u64>, why: Refusal, out: &mut Vec<Output>) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        conn.strikes += 1;
        let strikes = conn.strikes;
        out.push(Output::Deliver {
            to: vec![id],
            event: Arc::new(why.to_event(ack)),
        });
        if strikes >= self.limits.max_strikes {
            self.close(id, Refusal::TooManyStrikes { strikes }, out);
        }
    }

    /// Says `bye` with the reason and asks the transport to close `id`.
    pub fn close(&mut self, id: ConnId, why: Refusal, out: &mut Vec<Output>) {
        out.push(Output::Deliver {
            to: vec![id],
            event: Arc::new(ServerEvent::Bye {
                code: why.code(),
                message: why.to_string(),
            }),
        });
        out.push(Output::Close { id });
    }

    fn apply(
        &mut self,
        id: ConnId,
        event: ClientEvent,
        out: &mut Vec<Output>,
    ) -> Result<usize, Refusal> {
        match event {
            ClientEvent::Nick { nick } => self.set_nick(id, nick, out),
            ClientEvent::Join { room, .. } => self.join(id, &room, out),
            ClientEvent::Leave { room } => self.leave(id, &room, out),
            ClientEvent::Message {
                to,
                except,
                text,
                include_self,
            } => self.message(id, to, except, text, include_self, out),
            ClientEvent::Rooms => {
                let rooms = self.rooms_of(id);
                out.push(Output::Deliver {
                    to: vec![id],
                    event: Arc::new(ServerEvent::Rooms { rooms }),
                });
                Ok(1)
            }
            ClientEvent::Who { room } => {
                if !self.rooms.is_member(id, &room) {
                    return Err(Refusal::NotAMember(shown(&room, self.limits.max_room)));
                }
                let mut members: Vec<Member> = self
                    .rooms
                    .members(&room)
                    .into_iter()
                    .map(|m| Member {
                        id: m,
                        nick: self.nick(m).unwrap_or_default().to_string(),
                    })
                    .collect();
                members.sort_by(|a, b| a.nick.cmp(&b.nick).then(a.id.cmp(&b.id)));
                out.push(Output::Deliver {
                    to: vec![id],
                    event: Arc::new(ServerEvent::Who { room, members }),
                });
                Ok(1)
            }
            ClientEvent::Ping => {
                out.push(Output::Deliver {
                    to: vec![id],
                    event: Arc::new(ServerEvent::Pong),
                });
                Ok(1)
            }
            ClientEvent::Pong => Ok(0),
            ClientEvent::Resume { .. } => Err(Refusal::HistoryOff("resume")),
            ClientEvent::Seen { .. } => Err(Refusal::HistoryOff("seen")),
        }
    }

    fn set_nick(
        &mut self,
        id: ConnId,
        nick: String,
        out: &mut Vec<Output>,
    ) -> Result<usize, Refusal> {
        check_name(&nick, self.limits.max_nick).map_err(Refusal::InvalidNick)?;
        let conn = self.conns.get_mut(&id).expect("checked by the caller");
        let old = std::mem::replace(&mut conn.nick, nick.clone());
        // Everyone who shares a room with `id` hears about it, and so does `id`.
        let target = Target {
            rooms: self.rooms_of(id),
            ..Target::default()
        };
        let event = Arc::new(ServerEvent::Nick { id, old, nick });
        Ok(self.adapter.broadcast(&self.rooms, &target, event, out))
    }

    fn check_room(&self, room: &str) -> Result<(), Refusal> {
        check_name(room, self.limits.max_room).map_err(Refusal::InvalidRoom)?;
        if ConnId::looks_like_id(room) {
            return Err(Refusal::ReservedRoom(room.to_string()));
        }
        Ok(())
    }

    /// Joins `room` and tells its members (the joiner included).
    fn join(&mut self, id: ConnId, room: &str, out: &mut Vec<Output>) -> Result<usize, Refusal> {
        self.check_room(room)?;
        if self.rooms.is_member(id, room) {
            return Ok(0); // joining twice changes nothing and tells no one
        }
        if self.rooms.room_count(id) >= self.limits.max_rooms {
            return Err(Refusal::TooManyRooms {
                max: self.limits.max_rooms,
            });
        }
        self.rooms.join(id, room);
        let event = Arc::new(ServerEvent::Joined {
            room: room.to_string(),
            id,
            nick: self.nick(id).unwrap_or_default().to_string(),
            seq: Default::default(),
        });
        Ok(self
            .adapter
            .broadcast(&self.rooms, &Target::rooms([room]), event, out))
    }

    /// Tells the room's members (the leaver included), then leaves.
    fn leave(&mut self, id: ConnId, room: &str, out: &mut Vec<Output>) -> Result<usize, Refusal> {
        self.check_room(room)?;
        if !self.rooms.is_member(id, room) {
            return Err(Refusal::NotAMember(room.to_string()));
        }
        let event = Arc::new(ServerEvent::Left {
            room: room.to_string(),
            id,
            nick: self.nick(id).unwrap_or_default().to_string(),
            reason: LeaveReason::Leave,
            seq: Default::default(),
        });
        let reached = self
            .adapter
            .broadcast(&self.rooms, &Target::rooms([room]), event, out);
        self.rooms.leave(id, room);
        Ok(reached)
    }

    fn message(
        &mut self,
        id: ConnId,
        to: Vec<String>,
        except: Vec<String>,
        text: String,
        include_self: bool,
        out: &mut Vec<Output>,
    ) -> Result<usize, Refusal> {
        if text.len() > self.limits.max_text {
            return Err(Refusal::TextTooLong {
                len: text.len(),
                max: self.limits.max_text,
            });
        }
        let most = self.limits.max_rooms + 1;
        if to.len() > most || except.len() > most {
            return Err(Refusal::InvalidFields {
                event: "message".into(),
                detail: format!("`to` and `except` name at most {most} rooms each"),
            });
        }
        for room in &to {
            // Any connection id may be addressed (a private message); named
            // rooms only by their members.
            if !ConnId::looks_like_id(room) && !self.rooms.is_member(id, room) {
                return Err(Refusal::NotAMember(shown(room, self.limits.max_room)));
            }
        }
        let target = Target {
            rooms: to.clone(),
            except,
            skip: (!include_self).then_some(id),
        };
        let event = Arc::new(ServerEvent::Message {
            from: id,
            nick: self.nick(id).unwrap_or_default().to_string(),
            to,
            text,
            seq: Default::default(),
        });
        Ok(self.adapter.broadcast(&self.rooms, &target, event, out))
    }

    /// Connection `id` is gone: `disconnecting` (rooms still visible), a
    /// `left` notice to each of its rooms, then `disconnect`. Calling it again
    /// for the same id does nothing.
    pub fn disconnect(&mut self, id: ConnId, reason: &str, out: &mut Vec<Output>) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let nick = conn.nick.clone();
        out.push(Output::Disconnecting {
            id,
            rooms: self.rooms_of(id),
        });
        let named: Vec<RoomName> = self.rooms.rooms_of(id).cloned().collect();
        for room in named {
            self.rooms.leave(id, &room);
            let event = Arc::new(ServerEvent::Left {
                room: room.to_string(),
                id,
                nick: nick.clone(),
                reason: LeaveReason::Disconnect,
                seq: Default::default(),
            });
            self.adapter
                .broadcast(&self.rooms, &Target::rooms([&*room]), event, out);
        }
        self.rooms.remove_conn(id);
        self.conns.remove(&id);
        out.push(Output::Disconnected {
            id,
            reason: reason.to_string(),
        });
    }
}

/// A client-supplied name cut to a sane length for echoing back in an error.
fn shown(name: &str, max: usize) -> String {
    name.chars().take(max.max(8) + 1).collect()
}
