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
//! - only ask `who` about rooms it is in;
//! - take only a nickname no other connection holds (`nick_taken`): names are
//!   unique per server whatever their case, and a detached session keeps its
//!   name until it is resumed or expires, so nobody can pass for someone else.
//!
//! Server code (like Socket.IO's `io.to(room)`) may address any room from
//! outside with [`Hub::emit`].
//!
//! Lesson 07: with an adapter that keeps history ([`super::history`]) and
//! [`Hub::with_sessions`], every connection is a session
//! ([`super::session`]): a disconnect *detaches* it instead of removing it,
//! `resume` on a new connection makes that connection the old session again
//! and replays what it missed, and [`Hub::tick`] expires sessions and resends
//! what a client did not confirm. Time only enters through `now` arguments:
//! the hub still does no I/O and reads no clock of its own in tests.

use super::adapter::{Adapter, LocalAdapter};
use super::history::{Viewer, KEY_EVERYONE};
use super::id::{looks_like_socketio_id, ConnId};
use super::limits::{check_name, Limits, RateLimiter};
pub use super::output::{Output, Question};
use super::protocol::{
    parse_client_event, Binary, ClientEvent, ClientFrame, LeaveReason, Member, Refusal, SeqMap,
    ServerEvent, WireLimits, MAX_FILE_NAME,
};
use super::rooms::{RoomName, Rooms, Target};
use super::session::{Confirm, Session, SessionConfig, Tokens};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// What the hub keeps per connection besides its rooms.
#[derive(Debug)]
struct Conn {
    nick: String,
    limiter: RateLimiter,
    /// Violations since the last accepted event.
    strikes: u32,
    /// Its session, when the hub keeps sessions.
    session: Option<Session>,
}

/// Where connection ids come from: the OS generator, or a test's own source.
pub type IdSource = Box<dyn FnMut() -> Result<ConnId, getrandom::Error> + Send>;

/// Hex digits of the id a guest nickname shows, tried in turn until one is
/// free: `guest-3f2a`, then `guest-3f2a1b2c`, … up to the whole id.
const GUEST_DIGITS: [usize; 4] = [4, 8, 16, 32];

/// The key a nickname is held under: its lowercase form, so `Ana` is taken
/// when `ana` is (names are ASCII, so this is exact).
fn nick_key(nick: &str) -> String {
    nick.to_ascii_lowercase()
}

/// The chat hub.
pub struct Hub<A: Adapter = LocalAdapter> {
    conns: HashMap<ConnId, Conn>,
    /// Who holds each nickname (by [`nick_key`]): one connection per name.
    nicks: HashMap<String, ConnId>,
    rooms: Rooms,
    adapter: A,
    limits: Limits,
    ids: IdSource,
    tokens: Tokens,
    sessions: Option<SessionConfig>,
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
            nicks: HashMap::new(),
            rooms: Rooms::new(),
            adapter,
            limits,
            ids: Box::new(ConnId::random),
            tokens: Tokens::new(),
            sessions: None,
        }
    }

    /// Turns sessions on (lesson 07): tokens in the welcome, detach instead of
    /// remove, resume, idempotent receive, confirmations. Takes effect only
    /// with an adapter that keeps history.
    pub fn with_sessions(mut self, config: SessionConfig) -> Self {
        self.sessions = Some(config);
        self
    }

    /// The session settings, when sessions are on.
    pub fn sessions(&self) -> Option<SessionConfig> {
        self.sessions.filter(|_| self.adapter.history().is_some())
    }

    /// The adapter (e.g. to read its history).
    pub fn adapter(&self) -> &A {
        &self.adapter
    }

    /// Whether `id` is a session whose connection went away (still resumable).
    pub fn is_detached(&self, id: ConnId) -> bool {
        self.conns
            .get(&id)
            .and_then(|c| c.session.as_ref())
            .is_some_and(|s| !s.attached())
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

    /// The connection (live or detached) holding `nick`, in any case.
    pub fn nick_holder(&self, nick: &str) -> Option<ConnId> {
        self.nicks.get(&nick_key(nick)).copied()
    }

    /// The guest nickname for `id`: `guest-` and the first digits of its id,
    /// as many as it takes to be free (`None` if even the whole id is taken).
    fn guest_nick(&self, id: ConnId) -> Option<String> {
        let hex = id.to_hex();
        GUEST_DIGITS
            .iter()
            .map(|&n| format!("guest-{}", &hex[..n.min(hex.len())]))
            .find(|nick| !self.nicks.contains_key(&nick_key(nick)))
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
        // A fresh id with a free guest nickname (someone may have taken
        // `guest-3f2a…` by hand; then another id is drawn).
        let (id, nick) = loop {
            let id = (self.ids)()?;
            if self.conns.contains_key(&id) {
                continue;
            }
            if let Some(nick) = self.guest_nick(id) {
                break (id, nick);
            }
        };
        let mut token = None;
        let mut session = None;
        if let Some(cfg) = self.sessions() {
            let (t, digest) = self.tokens.issue(id)?;
            let everyone = self
                .adapter
                .history()
                .map_or(0, |h| h.last_seq(KEY_EVERYONE));
            session = Some(Session::new(
                digest,
                SeqMap::from([(KEY_EVERYONE.to_string(), everyone)]),
            ));
            token = Some((t, cfg.ttl.as_millis() as u64));
        }
        self.nicks.insert(nick_key(&nick), id);
        self.conns.insert(
            id,
            Conn {
                nick: nick.clone(),
                limiter: RateLimiter::new(self.limits.rate, self.limits.burst, now),
                strikes: 0,
                session,
            },
        );
        self.rooms.add_conn(id);
        out.push(Output::Deliver {
            to: vec![id],
            event: Arc::new(self.welcome_event(id, nick, token)),
        });
        Ok(id)
    }

    fn welcome_event(&self, id: ConnId, nick: String, token: Option<(String, u64)>) -> ServerEvent {
        let l = self.limits;
        ServerEvent::Welcome {
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
            session_ttl_ms: token.as_ref().map(|t| t.1),
            session: token.map(|t| t.0),
        }
    }

    /// The welcome again, for a transport whose first one may have been lost
    /// (UDP). With sessions on it carries a *new* token (the server keeps only
    /// digests, so the old one cannot be repeated) and the old one stops working.
    pub fn welcome_again(&mut self, id: ConnId) -> Option<ServerEvent> {
        let ttl = self.sessions().map(|c| c.ttl.as_millis() as u64);
        let conn = self.conns.get_mut(&id)?;
        let nick = conn.nick.clone();
        let mut token = None;
        if let (Some(s), Some(ttl)) = (conn.session.as_mut(), ttl) {
            if let Ok((t, digest)) = self.tokens.issue(id) {
                self.tokens.revoke(&s.token);
                s.token = digest;
                token = Some((t, ttl));
            }
        }
        Some(self.welcome_event(id, nick, token))
    }

    /// Server code emitting to any target (Socket.IO's `io.to(...).emit`):
    /// no membership check, because the server is trusted. Returns how many
    /// connections were reached.
    pub fn emit(&mut self, target: &Target, event: ServerEvent, out: &mut Vec<Output>) -> usize {
        let start = out.len();
        let n = self
            .adapter
            .broadcast(&self.rooms, target, Arc::new(event), out);
        self.track(start, out, Instant::now());
        n
    }

    /// Server code making every connection `target` names join `room`
    /// (Socket.IO's `io.in(target).socketsJoin(room)`; lesson 12 also gets
    /// it from other servers). Each joiner's room hears `joined` as if it
    /// had asked; a connection that may not join (room limit) is skipped.
    /// Returns how many joined.
    pub fn join_where(&mut self, target: &Target, room: &str, out: &mut Vec<Output>) -> usize {
        let start = out.len();
        let who = self.rooms.recipients(target);
        let joined = who
            .into_iter()
            .filter(|id| {
                !self.rooms.is_member(*id, room) && self.join(*id, room, None, out).is_ok()
            })
            .count();
        self.track(start, out, Instant::now());
        joined
    }

    /// Server code making every connection `target` names leave `room`
    /// (`socketsLeave`); returns how many left.
    pub fn leave_where(&mut self, target: &Target, room: &str, out: &mut Vec<Output>) -> usize {
        let start = out.len();
        let who = self.rooms.recipients(target);
        let left = who
            .into_iter()
            .filter(|id| self.rooms.is_member(*id, room) && self.leave(*id, room, out).is_ok())
            .count();
        self.track(start, out, Instant::now());
        left
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
        let start = out.len();
        match parse_client_event(payload) {
            Ok(frame) => self.handle_event_at(id, frame, now, out),
            Err((ack, r)) => self.refuse(id, ack, r, out),
        }
        self.track(start, out, now);
    }

    /// A parsed event from connection `id` (no rate limit applied here).
    pub fn handle_event(&mut self, id: ConnId, frame: ClientFrame, out: &mut Vec<Output>) {
        let start = out.len();
        let now = Instant::now();
        self.handle_event_at(id, frame, now, out);
        self.track(start, out, now);
    }

    fn handle_event_at(
        &mut self,
        id: ConnId,
        frame: ClientFrame,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let ClientFrame { event, ack } = frame;
        if let Some(session) = conn.session.as_mut() {
            // Idempotent receive: a retried ack id is answered, not applied again.
            if let Some(answer) = ack.and_then(|a| session.acks.get(a)) {
                out.push(Output::Deliver {
                    to: vec![id],
                    event: answer.clone(),
                });
                return;
            }
            if !matches!(
                event,
                ClientEvent::Resume { .. }
                    | ClientEvent::Ping
                    | ClientEvent::Pong
                    | ClientEvent::Seen { .. }
            ) {
                session.fresh = false;
            }
        }
        if let ClientEvent::Resume { session, last } = event {
            return self.resume(id, &session, last, ack, now, out);
        }
        match self.apply(id, event, out) {
            Ok(reached) => {
                if let Some(c) = self.conns.get_mut(&id) {
                    c.strikes = 0;
                }
                if let Some(ack) = ack {
                    let answer = Arc::new(ServerEvent::Ack {
                        ack,
                        ok: true,
                        reached: Some(reached),
                        error: None,
                        message: None,
                    });
                    self.remember(id, ack, &answer);
                    out.push(Output::Deliver {
                        to: vec![id],
                        event: answer,
                    });
                }
            }
            Err(r) => {
                if let Some(ack) = ack {
                    self.remember(id, ack, &Arc::new(r.to_event(Some(ack))));
                }
                self.refuse(id, ack, r, out)
            }
        }
    }

    /// Keeps the answer to `ack` for a retry of the same event (sessions only).
    fn remember(&mut self, id: ConnId, ack: u64, answer: &Arc<ServerEvent>) {
        if let Some(s) = self.conns.get_mut(&id).and_then(|c| c.session.as_mut()) {
            s.acks.remember(ack, answer.clone());
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
            ClientEvent::Join { room, since } => self.join(id, &room, since, out),
            ClientEvent::Leave { room } => self.leave(id, &room, out),
            ClientEvent::Message {
                to,
                except,
                text,
                include_self,
            } => self.message(id, to, except, text, include_self, out),
            ClientEvent::File {
                to,
                except,
                name,
                data,
                include_self,
            } => self.file(id, to, except, name, *data, include_self, out),
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
                        id: m.to_hex(),
                        nick: self.nick(m).unwrap_or_default().to_string(),
                    })
                    .collect();
                members.sort_by(|a, b| a.nick.cmp(&b.nick).then(a.id.cmp(&b.id)));
                // With rooms shared across servers, only all of them know
                // who is in a room: the transport asks the others.
                if self.adapter.reaches_other_servers() {
                    out.push(Output::Ask {
                        id,
                        question: Question::Who { room, members },
                    });
                    return Ok(1);
                }
                out.push(Output::Deliver {
                    to: vec![id],
                    event: Arc::new(ServerEvent::Who {
                        room,
                        members,
                        partial: None,
                    }),
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
            // Resume is handled before `apply` (it changes who `id` is).
            ClientEvent::Resume { .. } => Err(Refusal::ResumeNotFirst),
            ClientEvent::Seen { seq } => {
                if self.sessions().is_none() {
                    return Err(Refusal::HistoryOff("seen"));
                }
                self.seen(id, &seq);
                Ok(0)
            }
        }
    }

    fn set_nick(
        &mut self,
        id: ConnId,
        nick: String,
        out: &mut Vec<Output>,
    ) -> Result<usize, Refusal> {
        check_name(&nick, self.limits.max_nick).map_err(Refusal::InvalidNick)?;
        let key = nick_key(&nick);
        if self.nicks.get(&key).is_some_and(|holder| *holder != id) {
            return Err(Refusal::NickTaken(nick));
        }
        let conn = self.conns.get_mut(&id).expect("checked by the caller");
        let old = std::mem::replace(&mut conn.nick, nick.clone());
        self.nicks.remove(&nick_key(&old));
        self.nicks.insert(key, id);
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
        if self.is_address(room) {
            return Err(Refusal::ReservedRoom(room.to_string()));
        }
        Ok(())
    }

    /// Whether `name` addresses one connection rather than a room: a
    /// netlab id, or (rooms shared with other servers) a Socket.IO id.
    fn is_address(&self, name: &str) -> bool {
        ConnId::looks_like_id(name)
            || (self.adapter.reaches_other_servers() && looks_like_socketio_id(name))
    }

    /// Joins `room` and tells its members (the joiner included). With
    /// `since`, first replays the room's recorded events after that seq, so
    /// the joiner's own `joined` comes after what it missed.
    fn join(
        &mut self,
        id: ConnId,
        room: &str,
        since: Option<u64>,
        out: &mut Vec<Output>,
    ) -> Result<usize, Refusal> {
        self.check_room(room)?;
        if since.is_some() && self.sessions().is_none() {
            return Err(Refusal::HistoryOff("join with since"));
        }
        let member = self.rooms.is_member(id, room);
        if !member && self.rooms.room_count(id) >= self.limits.max_rooms {
            return Err(Refusal::TooManyRooms {
                max: self.limits.max_rooms,
            });
        }
        let last = self.adapter.history().map_or(0, |h| h.last_seq(room));
        if let Some(since) = since {
            self.replay_to(id, &[(room.to_string(), since, last)], out);
        }
        if member {
            return Ok(0); // joining twice changes nothing and tells no one
        }
        if let Some(s) = self.conns.get_mut(&id).and_then(|c| c.session.as_mut()) {
            s.bases
                .insert(room.to_string(), since.map_or(last, |x| x.min(last)));
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
        if let Some(s) = self.conns.get_mut(&id).and_then(|c| c.session.as_mut()) {
            s.bases.remove(room);
        }
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
        let target = self.target(id, "message", &to, except, include_self)?;
        let event = Arc::new(ServerEvent::Message {
            from: id,
            nick: self.nick(id).unwrap_or_default().to_string(),
            to,
            text,
            seq: Default::default(),
        });
        Ok(self.adapter.broadcast(&self.rooms, &target, event, out))
    }

    /// Where a `message` or `file` from `id` goes: `to` and `except` are
    /// bounded, and named rooms in `to` must be rooms `id` is in.
    fn target(
        &self,
        id: ConnId,
        event: &str,
        to: &[String],
        except: Vec<String>,
        include_self: bool,
    ) -> Result<Target, Refusal> {
        let most = self.limits.max_rooms + 1;
        if to.len() > most || except.len() > most {
            return Err(Refusal::InvalidFields {
                event: event.into(),
                detail: format!("`to` and `except` name at most {most} rooms each"),
            });
        }
        for room in to {
            // Any connection id may be addressed (a private message); named
            // rooms only by their members.
            if !self.is_address(room) && !self.rooms.is_member(id, room) {
                return Err(Refusal::NotAMember(shown(room, self.limits.max_room)));
            }
        }
        Ok(Target {
            rooms: to.to_vec(),
            except,
            skip: (!include_self).then_some(id),
            local: false,
        })
    }

    /// Bytes from `id`, routed like a message. The frame limit bounds their
    /// size; the hub checks that they are base64 so every receiver can trust
    /// them, and that the name is short and printable.
    #[allow(clippy::too_many_arguments)]
    fn file(
        &mut self,
        id: ConnId,
        to: Vec<String>,
        except: Vec<String>,
        name: Option<String>,
        data: Binary,
        include_self: bool,
        out: &mut Vec<Output>,
    ) -> Result<usize, Refusal> {
        let bad = |detail: String| Refusal::InvalidFields {
            event: "file".into(),
            detail,
        };
        if let Some(n) = &name {
            if n.len() > MAX_FILE_NAME || n.chars().any(char::is_control) {
                return Err(bad(format!(
                    "`name` is at most {MAX_FILE_NAME} bytes, with no control characters"
                )));
            }
        }
        if data.decode().is_none() {
            return Err(bad(
                "`data` must be {\"_binary\": \"<base64>\"} (standard alphabet, padded)".into(),
            ));
        }
        let target = self.target(id, "file", &to, except, include_self)?;
        let event = Arc::new(ServerEvent::File {
            from: id,
            nick: self.nick(id).unwrap_or_default().to_string(),
            to,
            name,
            data,
            seq: Default::default(),
        });
        Ok(self.adapter.broadcast(&self.rooms, &target, event, out))
    }

    /// Connection `id` is gone: `disconnecting` (rooms still visible), a
    /// `left` notice to each of its rooms, then `disconnect`. Calling it again
    /// for the same id does nothing.
    ///
    /// With sessions on, a session that did anything is *detached* instead
    /// ([`Output::Detached`]): it stays in its rooms until it is resumed or
    /// [`Hub::tick`] expires it.
    pub fn disconnect(&mut self, id: ConnId, reason: &str, out: &mut Vec<Output>) {
        self.disconnect_at(id, reason, Instant::now(), out)
    }

    /// [`Hub::disconnect`] at a given time (when the session's TTL starts).
    pub fn disconnect_at(&mut self, id: ConnId, reason: &str, now: Instant, out: &mut Vec<Output>) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if let Some(s) = conn.session.as_mut() {
            if !s.attached() {
                return; // already detached: expiry or resume decides
            }
            // A connection that never did anything has nothing to resume:
            // remove it at once, so connect-and-drop floods cannot fill the
            // server with detached sessions.
            if !s.fresh {
                s.detached_at = Some(now);
                s.confirm = Confirm::default();
                out.push(Output::Detached {
                    id,
                    reason: reason.to_string(),
                });
                return;
            }
        }
        self.remove(id, reason, out)
    }

    /// Frees `nick` if `id` holds it.
    fn release_nick(&mut self, nick: &str, id: ConnId) {
        let key = nick_key(nick);
        if self.nicks.get(&key) == Some(&id) {
            self.nicks.remove(&key);
        }
    }

    /// Removes `id` for good: `disconnecting`, `left` notices, `disconnect`.
    fn remove(&mut self, id: ConnId, reason: &str, out: &mut Vec<Output>) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        if let Some(s) = &conn.session {
            self.tokens.revoke(&s.token);
        }
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
        self.release_nick(&nick, id);
        if let Some(h) = self.adapter.history_mut() {
            h.forget(&id.to_hex());
        }
        out.push(Output::Disconnected {
            id,
            reason: reason.to_string(),
        });
    }

    /// Resume (the first event on connection `id`): `token` names the session
    /// this connection becomes; it gets `resumed` and then what it missed
    /// after `last`, in one step so no live event can slip in between.
    fn resume(
        &mut self,
        id: ConnId,
        token: &str,
        last: SeqMap,
        ack: Option<u64>,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let _ = now;
        if self.sessions().is_none() {
            return self.refuse(id, ack, Refusal::HistoryOff("resume"), out);
        }
        let fresh = self
            .conns
            .get(&id)
            .and_then(|c| c.session.as_ref())
            .is_some_and(|s| s.fresh);
        if !fresh {
            return self.refuse(id, ack, Refusal::ResumeNotFirst, out);
        }
        let Some(sid) = self
            .tokens
            .take(token)
            .filter(|s| self.conns.contains_key(s))
        else {
            return self.refuse(id, ack, Refusal::SessionUnknown, out);
        };
        let Ok((new_token, digest)) = self.tokens.issue(sid) else {
            return self.refuse(id, ack, Refusal::SessionUnknown, out);
        };
        if sid != id {
            // The provisional connection was in no room: it goes silently.
            if let Some(c) = self.conns.remove(&id) {
                self.release_nick(&c.nick, id);
                if let Some(s) = c.session {
                    self.tokens.revoke(&s.token);
                }
            }
            self.rooms.remove_conn(id);
            if let Some(h) = self.adapter.history_mut() {
                h.forget(&id.to_hex());
            }
            if !self.is_detached(sid) {
                // A half-open connection the server has not noticed yet.
                self.close(sid, Refusal::SessionResumed, out);
            }
            out.push(Output::Rebind { from: id, to: sid });
        }
        let named: Vec<String> = self.rooms.rooms_of(sid).map(|r| r.to_string()).collect();
        let conn = self.conns.get_mut(&sid).expect("checked above");
        conn.strikes = 0;
        let nick = conn.nick.clone();
        let session = conn.session.as_mut().expect("sessions are on");
        session.token = digest;
        session.detached_at = None;
        session.fresh = false;
        let mut wants = Vec::new();
        let mut have = SeqMap::new();
        let history = self.adapter.history();
        for key in named
            .iter()
            .cloned()
            .chain([sid.to_hex(), KEY_EVERYONE.to_string()])
        {
            let base = session.bases.get(&key).copied().unwrap_or(0);
            let after = last.get(&key).copied().unwrap_or(0).max(base);
            let upto = history.map_or(0, |h| h.last_seq(&key));
            have.insert(key.clone(), after.min(upto));
            wants.push((key, after, upto));
        }
        session.confirm.reset_to(have);
        let replay = history
            .map(|h| {
                h.replay(
                    &wants,
                    &Viewer {
                        id: sid,
                        rooms: &named,
                    },
                )
            })
            .unwrap_or_default();
        let replayed = replay.events.len();
        out.push(Output::Deliver {
            to: vec![sid],
            event: Arc::new(ServerEvent::Resumed {
                id: sid,
                nick,
                rooms: named,
                session: new_token,
                replayed: replayed as u64,
            }),
        });
        for event in replay.into_events() {
            out.push(Output::Deliver {
                to: vec![sid],
                event,
            });
        }
        if let Some(ack) = ack {
            let answer = Arc::new(ServerEvent::Ack {
                ack,
                ok: true,
                reached: Some(replayed),
                error: None,
                message: None,
            });
            self.remember(sid, ack, &answer);
            out.push(Output::Deliver {
                to: vec![sid],
                event: answer,
            });
        }
    }

    /// Sends `id` the recorded events of each `(key, after, upto)` it should
    /// see (gaps first); returns how many events.
    fn replay_to(
        &mut self,
        id: ConnId,
        wants: &[(String, u64, u64)],
        out: &mut Vec<Output>,
    ) -> usize {
        let Some(history) = self.adapter.history() else {
            return 0;
        };
        let named: Vec<String> = self.rooms.rooms_of(id).map(|r| r.to_string()).collect();
        let replay = history.replay(wants, &Viewer { id, rooms: &named });
        let n = replay.events.len();
        for event in replay.into_events() {
            out.push(Output::Deliver {
                to: vec![id],
                event,
            });
        }
        n
    }

    /// Client `id` confirms it has handled recorded events up to `seq` (per key).
    pub fn seen(&mut self, id: ConnId, seq: &SeqMap) {
        if let Some(s) = self.conns.get_mut(&id).and_then(|c| c.session.as_mut()) {
            s.confirm.seen(seq);
        }
    }

    /// Time-driven work: sessions detached longer than the TTL leave for good
    /// (`left` notices, reason `disconnect`); connections that left recorded
    /// events unconfirmed past `--confirm-timeout` get them again, and after
    /// `--confirm-retries` resends are closed as dead (their session stays resumable).
    pub fn tick(&mut self, now: Instant, out: &mut Vec<Output>) {
        let Some(cfg) = self.sessions() else {
            return;
        };
        let start = out.len();
        let expired: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                c.session
                    .as_ref()
                    .and_then(|s| s.detached_at)
                    .is_some_and(|t| now.saturating_duration_since(t) >= cfg.ttl)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.remove(id, "session expired (not resumed in time)", out);
        }
        if let Some(timeout) = cfg.confirm_timeout {
            let due: Vec<ConnId> = self
                .conns
                .iter()
                .filter(|(_, c)| {
                    c.session
                        .as_ref()
                        .is_some_and(|s| s.attached() && s.confirm.overdue(now, timeout))
                })
                .map(|(id, _)| *id)
                .collect();
            for id in due {
                let s = self
                    .conns
                    .get_mut(&id)
                    .and_then(|c| c.session.as_mut())
                    .expect("listed above");
                if s.confirm.retries >= cfg.confirm_retries {
                    s.confirm.waiting_since = None;
                    let retries = s.confirm.retries;
                    self.close(id, Refusal::NoConfirmation { retries }, out);
                } else {
                    s.confirm.retries += 1;
                    s.confirm.waiting_since = Some(now);
                    let wants = s.confirm.unconfirmed();
                    self.replay_to(id, &wants, out);
                }
            }
        }
        self.track(start, out, now);
    }

    /// With confirmations on, notes per recipient the highest seq of each of
    /// its keys that went out in `out[start..]`.
    fn track(&mut self, start: usize, out: &[Output], now: Instant) {
        if self.sessions().and_then(|c| c.confirm_timeout).is_none() {
            return;
        }
        for o in &out[start..] {
            let Output::Deliver { to, event } = o else {
                continue;
            };
            let Some(seq) = event.seq() else {
                continue;
            };
            for id in to {
                let Some(s) = self.conns.get_mut(id).and_then(|c| c.session.as_mut()) else {
                    continue;
                };
                if !s.attached() {
                    continue;
                }
                for (key, &n) in seq {
                    if key == KEY_EVERYONE || self.rooms.is_member(*id, key) {
                        s.confirm.sent(key, n, now);
                    }
                }
            }
        }
    }
}

/// A client-supplied name cut to a sane length for echoing back in an error.
fn shown(name: &str, max: usize) -> String {
    name.chars().take(max.max(8) + 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::protocol::ErrorCode;
    use pretty_assertions::assert_eq;

    /// Sends `json` from `from`; returns each recipient with the events it got.
    fn send(hub: &mut Hub, from: ConnId, json: &str) -> Vec<(ConnId, ServerEvent)> {
        let mut out = Vec::new();
        hub.handle(from, json.as_bytes(), &mut out);
        out.into_iter()
            .filter_map(|o| match o {
                Output::Deliver { to, event } => Some((to, event)),
                _ => None,
            })
            .flat_map(|(to, e)| to.into_iter().map(move |t| (t, (*e).clone())))
            .collect()
    }

    #[test]
    fn a_file_is_routed_like_a_message_and_its_bytes_pass_unchanged() {
        let mut hub = Hub::new(Limits::default());
        let mut out = Vec::new();
        let (ana, bo, cy) = (
            hub.connect(&mut out).unwrap(),
            hub.connect(&mut out).unwrap(),
            hub.connect(&mut out).unwrap(),
        );
        for who in [ana, bo] {
            send(&mut hub, who, r#"{"event":"join","room":"lobby"}"#);
        }
        let got = send(
            &mut hub,
            ana,
            r#"{"event":"file","to":["lobby"],"name":"a.png","data":{"_binary":"AP8="},"ack":1}"#,
        );
        let file = ServerEvent::File {
            from: ana,
            nick: hub.nick(ana).unwrap().to_string(),
            to: vec!["lobby".into()],
            name: Some("a.png".into()),
            data: Binary::new(&[0, 255]),
            seq: SeqMap::new(),
        };
        assert_eq!(got[0], (bo, file.clone()));
        assert!(
            matches!(&got[1], (who, ServerEvent::Ack { ok: true, reached: Some(1), .. }) if *who == ana)
        );
        assert_eq!(got.len(), 2, "cy is not in lobby: {got:?}");
        assert_eq!(
            std::str::from_utf8(&file.to_bytes()).unwrap(),
            format!(
                r#"{{"event":"file","from":"{}","nick":"{}","to":["lobby"],"name":"a.png","data":{{"_binary":"AP8="}}}}"#,
                ana.to_hex(),
                hub.nick(ana).unwrap()
            )
        );
        // To everyone, no name.
        let got = send(&mut hub, cy, r#"{"event":"file","data":{"_binary":""}}"#);
        assert_eq!(got.len(), 2);
        assert!(got
            .iter()
            .all(|(_, e)| matches!(e, ServerEvent::File { name: None, .. })));
    }

    #[test]
    fn a_file_breaks_no_rule_unseen() {
        let mut hub = Hub::new(Limits::default());
        let mut out = Vec::new();
        let ana = hub.connect(&mut out).unwrap();
        let refused = |hub: &mut Hub, json: &str| match send(hub, ana, json).pop() {
            Some((_, ServerEvent::Error { code, .. })) => code,
            other => panic!("{json}: {other:?}"),
        };
        for bad in [
            r#"{"event":"file","data":{"_binary":"!!"}}"#,
            r#"{"event":"file","data":{"_binary":"AA=="},"name":"a\nb"}"#,
        ] {
            assert_eq!(refused(&mut hub, bad), ErrorCode::InvalidFields, "{bad}");
        }
        let long = format!(
            r#"{{"event":"file","self":true,"data":{{"_binary":"AA=="}},"name":"{}"}}"#,
            "n".repeat(MAX_FILE_NAME + 1)
        );
        assert_eq!(refused(&mut hub, &long), ErrorCode::InvalidFields);
        let edge = long.replace(&"n".repeat(MAX_FILE_NAME + 1), &"n".repeat(MAX_FILE_NAME));
        assert!(matches!(
            send(&mut hub, ana, &edge).pop(),
            Some((_, ServerEvent::File { .. }))
        ));
        for bad in [
            r#"{"event":"file"}"#,
            r#"{"event":"file","data":"AA=="}"#,
            r#"{"event":"file","data":{"_binary":"AA==","x":1}}"#,
        ] {
            assert_eq!(refused(&mut hub, bad), ErrorCode::InvalidFields, "{bad}");
        }
        assert_eq!(
            refused(
                &mut hub,
                r#"{"event":"file","to":["dev"],"data":{"_binary":""}}"#
            ),
            ErrorCode::NotAMember
        );
    }
}
