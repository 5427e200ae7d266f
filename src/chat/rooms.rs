//! Lesson 04 — the membership table: which connection is in which room.
//!
//! Socket.IO's in-memory adapter keeps the same two maps: room → members and
//! member → rooms. Keeping both makes every question cheap: "who gets a message
//! for room R" reads the first, "which rooms must X leave when it disconnects"
//! reads the second.
//!
//! Every connection is also in its **own room**, named by its id. That room is
//! not stored: nobody else may join it (names shaped like an id are refused), so
//! its members are always exactly that one connection while it is connected.

use super::id::ConnId;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// A room name, shared between both maps without copying the text.
pub type RoomName = Arc<str>;

/// Who a broadcast is for, in Socket.IO's terms.
///
/// | Socket.IO | `Target` |
/// |---|---|
/// | `io.emit(...)` | `Target::everyone()` |
/// | `socket.broadcast.emit(...)` | `Target::everyone().except_sender(id)` |
/// | `io.to("r").emit(...)` | `Target::rooms(["r"])` |
/// | `socket.to("r").emit(...)` | `Target::rooms(["r"]).except_sender(id)` |
/// | `io.to(["r1","r2"]).emit(...)` | `Target::rooms(["r1","r2"])` (each member once) |
/// | `io.to(socketId).emit(...)` | `Target::rooms([id.to_hex()])` |
/// | `io.except("r").emit(...)` | `Target::everyone().except_rooms(["r"])` |
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// Rooms (or ids) to reach; empty means every connection.
    pub rooms: Vec<String>,
    /// Rooms (or ids) whose members are left out.
    pub except: Vec<String>,
    /// One connection left out (the sender, for the `broadcast` forms).
    pub skip: Option<ConnId>,
    /// This server's connections only (Socket.IO's `io.local`): an adapter
    /// that spans servers (lesson 12) does not pass it on. Set for what
    /// arrived from another server, so nothing goes round twice.
    pub local: bool,
}

impl Target {
    /// Every connection.
    pub fn everyone() -> Self {
        Self::default()
    }

    /// The members of these rooms (a member of several gets it once).
    pub fn rooms<S: Into<String>>(rooms: impl IntoIterator<Item = S>) -> Self {
        Self {
            rooms: rooms.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// One connection, through its own room.
    pub fn id(id: ConnId) -> Self {
        Self::rooms([id.to_hex()])
    }

    /// Leaves out the members of these rooms.
    pub fn except_rooms<S: Into<String>>(mut self, rooms: impl IntoIterator<Item = S>) -> Self {
        self.except.extend(rooms.into_iter().map(Into::into));
        self
    }

    /// Leaves out the sender.
    pub fn except_sender(mut self, id: ConnId) -> Self {
        self.skip = Some(id);
        self
    }

    /// Only this server's connections.
    pub fn only_local(mut self) -> Self {
        self.local = true;
        self
    }
}

/// The membership table: room → members and connection → rooms.
#[derive(Debug, Default)]
pub struct Rooms {
    members: HashMap<RoomName, HashSet<ConnId>>,
    of_conn: HashMap<ConnId, BTreeSet<RoomName>>,
}

impl Rooms {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a connection, in no room but its own.
    pub fn add_conn(&mut self, id: ConnId) {
        self.of_conn.entry(id).or_default();
    }

    /// Whether `id` is connected.
    pub fn is_connected(&self, id: ConnId) -> bool {
        self.of_conn.contains_key(&id)
    }

    /// Number of connections.
    pub fn conn_count(&self) -> usize {
        self.of_conn.len()
    }

    /// Every connection id.
    pub fn conns(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.of_conn.keys().copied()
    }

    /// Puts `id` into `room`; `false` if it was already there (or is not connected).
    pub fn join(&mut self, id: ConnId, room: &str) -> bool {
        let Some(mine) = self.of_conn.get_mut(&id) else {
            return false;
        };
        if mine.contains(room) {
            return false;
        }
        let name: RoomName = match self.members.get_key_value(room) {
            Some((k, _)) => k.clone(),
            None => Arc::from(room),
        };
        mine.insert(name.clone());
        self.members.entry(name).or_default().insert(id);
        true
    }

    /// Takes `id` out of `room`; `false` if it was not there. Empty rooms vanish.
    pub fn leave(&mut self, id: ConnId, room: &str) -> bool {
        let Some(mine) = self.of_conn.get_mut(&id) else {
            return false;
        };
        if !mine.remove(room) {
            return false;
        }
        if let Some(set) = self.members.get_mut(room) {
            set.remove(&id);
            if set.is_empty() {
                self.members.remove(room);
            }
        }
        true
    }

    /// Removes a connection from every room and from the table; returns the
    /// named rooms it was in.
    pub fn remove_conn(&mut self, id: ConnId) -> Vec<RoomName> {
        let rooms: Vec<RoomName> = self
            .of_conn
            .get(&id)
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default();
        for r in &rooms {
            self.leave(id, r);
        }
        self.of_conn.remove(&id);
        rooms
    }

    /// The named rooms `id` is in, sorted (its own id room not included).
    pub fn rooms_of(&self, id: ConnId) -> impl Iterator<Item = &RoomName> + '_ {
        self.of_conn.get(&id).into_iter().flatten()
    }

    /// How many named rooms `id` is in.
    pub fn room_count(&self, id: ConnId) -> usize {
        self.of_conn.get(&id).map_or(0, BTreeSet::len)
    }

    /// Whether `id` is in `room` (its own id room included).
    pub fn is_member(&self, id: ConnId, room: &str) -> bool {
        if ConnId::looks_like_id(room) {
            return room.parse() == Ok(id) && self.is_connected(id);
        }
        self.of_conn.get(&id).is_some_and(|r| r.contains(room))
    }

    /// The members of `room`: for an id room, that connection if connected.
    pub fn members(&self, room: &str) -> Vec<ConnId> {
        let mut out = Vec::new();
        self.add_members(room, &mut out);
        out
    }

    /// Named rooms that have members, with their sizes.
    pub fn room_sizes(&self) -> impl Iterator<Item = (&RoomName, usize)> + '_ {
        self.members.iter().map(|(k, v)| (k, v.len()))
    }

    fn add_members(&self, room: &str, out: &mut Vec<ConnId>) {
        if ConnId::looks_like_id(room) {
            if let Ok(id) = room.parse() {
                if self.is_connected(id) {
                    out.push(id);
                }
            }
        } else if let Some(set) = self.members.get(room) {
            out.extend(set.iter().copied());
        }
    }

    /// Every connection a broadcast to `target` reaches, each exactly once.
    pub fn recipients(&self, target: &Target) -> Vec<ConnId> {
        let mut excluded: HashSet<ConnId> = HashSet::new();
        let mut tmp = Vec::new();
        for r in &target.except {
            tmp.clear();
            self.add_members(r, &mut tmp);
            excluded.extend(tmp.iter().copied());
        }
        excluded.extend(target.skip);
        let keep = |id: &ConnId| !excluded.contains(id);
        match target.rooms.as_slice() {
            [] => self.conns().filter(keep).collect(),
            [one] => {
                let mut out = self.members(one);
                if !excluded.is_empty() {
                    out.retain(keep);
                }
                out
            }
            many => {
                // A member of two target rooms must hear the message once.
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                for r in many {
                    tmp.clear();
                    self.add_members(r, &mut tmp);
                    for id in &tmp {
                        if keep(id) && seen.insert(*id) {
                            out.push(*id);
                        }
                    }
                }
                out
            }
        }
    }
}
