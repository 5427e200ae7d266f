//! Connection-state recovery (Socket.IO 4.6+, `connectionStateRecovery`),
//! mapped onto the hub's sessions (lesson 07).
//!
//! What a socket.io-client does, and what it expects back:
//!
//! | step | client | server |
//! |---|---|---|
//! | first connect | `40` | `40{"sid":"…","pid":"…"}`: `pid` names the session privately |
//! | every recorded event | remembers the last argument if it is a string: the *offset* | `42["message",{…},"<offset>"]` |
//! | reconnect | `40{"pid":"…","offset":"…"}` (merged with its auth) | the missed events, once, in order, and `40{"sid":…,"pid":"<the same pid>"}` |
//! | | `socket.recovered = (pid === previous pid)` | an unknown pid or offset: a fresh session, a new pid |
//!
//! The hub already has all of it under other names: a session token that
//! resumes a detached session (single use, rotated by every `resume`), and a
//! per-key sequence map (`SeqMap`) saying what a client has seen. So:
//!
//! - the **pid** is a random name, stable for the session's life, kept in a
//!   bounded [`PidTable`] that maps it to the hub's *current* token;
//! - the **offset** is the cumulative seq map of what this socket has been
//!   sent, written out ([`encode_offset`]): `*:3,lobby:41`. The last offset
//!   alone says everything the client has, which is what `resume` asks for.
//!   [`Received`] keeps that map, only for keys the socket can see (its own
//!   id, `*`, its rooms), so it stays as small as the socket's room list.
//!
//! Like the hub, which keeps only digests of tokens, the table keeps no
//! secret a memory dump could replay: entries are filed under the SHA-1 of
//! the pid, and the token is stored masked with a key stream derived from
//! the pid — without the pid (which only the client has) it is noise.

use crate::chat::history::KEY_EVERYONE;
use crate::chat::limits::is_name_char;
use crate::chat::protocol::SeqMap;
use serde_json::Value;
use sha1::{Digest, Sha1};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Random bytes in a pid (128 bits, written as 32 hex digits).
pub const PID_BYTES: usize = 16;

/// Longest pid or offset a client may present: anything longer is unknown
/// (a fresh session). An offset names at most the socket's rooms, its id and
/// `*`: 34 keys of at most 64 + 21 bytes with the default limits, far below.
pub const MAX_OFFSET_LEN: usize = 16 * 1024;

/// Why an offset could not be read (the client then gets a fresh session).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OffsetError {
    /// Offsets are bounded.
    #[error("an offset longer than {MAX_OFFSET_LEN} bytes")]
    TooLong,
    /// Each entry is `key:seq`.
    #[error("an offset entry that is not key:seq: {0:?}")]
    Entry(String),
}

/// Writes a seq map as an offset: `key:seq` pairs, by key, joined by `,`
/// (`*:3,lobby:41`). Keys are room names, ids and `*`, none of which holds
/// `:` or `,`.
pub fn encode_offset(seq: &SeqMap) -> String {
    let mut out = String::with_capacity(seq.len() * 12);
    for (i, (key, n)) in seq.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push(':');
        out.push_str(&n.to_string());
    }
    out
}

/// Reads an offset back (hostile input: a client may send anything).
pub fn parse_offset(text: &str) -> Result<SeqMap, OffsetError> {
    if text.len() > MAX_OFFSET_LEN {
        return Err(OffsetError::TooLong);
    }
    let mut seq = SeqMap::new();
    if text.is_empty() {
        return Ok(seq);
    }
    for entry in text.split(',') {
        let bad = || OffsetError::Entry(entry.chars().take(32).collect());
        let (key, n) = entry.split_once(':').ok_or_else(bad)?;
        let key_ok = key == KEY_EVERYONE || (!key.is_empty() && key.chars().all(is_name_char));
        if !key_ok || n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u64 = n.parse().map_err(|_| bad())?;
        let e = seq.entry(key.to_string()).or_insert(0);
        *e = (*e).max(n);
    }
    Ok(seq)
}

/// What a CONNECT asks to recover: its `pid`, and the seq map its `offset`
/// stands for (empty when it has none: it saw no recorded event yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryRequest {
    /// The private session id the client was given.
    pub pid: String,
    /// What it has, per history key.
    pub have: SeqMap,
}

/// Reads `pid` and `offset` from a CONNECT packet's data (the client merges
/// them into its auth object). `None`: nothing to recover — no pid, or a
/// pid or offset that is not a string or cannot be read.
pub fn recovery_request(auth: Option<&Value>) -> Option<RecoveryRequest> {
    let auth = auth?.as_object()?;
    let pid = auth.get("pid")?.as_str()?;
    if pid.is_empty() || pid.len() > MAX_OFFSET_LEN {
        return None;
    }
    let have = match auth.get("offset") {
        None | Some(Value::Null) => SeqMap::new(),
        Some(Value::String(s)) => parse_offset(s).ok()?,
        Some(_) => return None,
    };
    Some(RecoveryRequest {
        pid: pid.to_string(),
        have,
    })
}

/// What one socket has been sent (or, when the server asks for
/// confirmations, what it confirmed), per history key — only the keys it
/// can see: `*`, its own id, and its rooms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Received {
    me: String,
    rooms: BTreeSet<String>,
    seq: SeqMap,
}

impl Received {
    /// A socket that is hub connection `me` (hex), in `rooms`, holding `have`.
    pub fn new(me: &str, rooms: impl IntoIterator<Item = String>, have: SeqMap) -> Received {
        let mut r = Received {
            me: me.to_string(),
            rooms: rooms.into_iter().collect(),
            seq: SeqMap::new(),
        };
        r.advance(&have);
        r
    }

    /// The hub connection it is.
    pub fn me(&self) -> &str {
        &self.me
    }

    /// It joined `room`: that room's seqs count from now on.
    pub fn joined(&mut self, room: &str) {
        self.rooms.insert(room.to_string());
    }

    /// It left `room`: the room's seqs no longer matter (a later join starts over).
    pub fn left(&mut self, room: &str) {
        self.rooms.remove(room);
        self.seq.remove(room);
    }

    /// Notes a recorded event's seq map (each key only ever goes up).
    pub fn advance(&mut self, seq: &SeqMap) {
        for (key, &n) in seq {
            let visible = key == KEY_EVERYONE || *key == self.me || self.rooms.contains(key);
            if visible {
                let e = self.seq.entry(key.clone()).or_insert(0);
                *e = (*e).max(n);
            }
        }
    }

    /// The seq map so far.
    pub fn seq(&self) -> &SeqMap {
        &self.seq
    }

    /// The seq map so far, as the offset a client keeps.
    pub fn offset(&self) -> String {
        encode_offset(&self.seq)
    }
}

/// A new pid: [`PID_BYTES`] from the OS generator, as hex.
pub fn new_pid() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; PID_BYTES];
    getrandom::getrandom(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What the table files an entry under: the SHA-1 of the pid.
type PidDigest = [u8; 20];

/// One pid's entry.
#[derive(Debug)]
struct Entry {
    /// The hub's current token for the session, masked with the pid's key stream.
    masked_token: Vec<u8>,
    /// Which socket holds it now (a new claim makes the older one's updates stale).
    epoch: u64,
    /// When its socket went away; `None` while one holds it.
    detached_at: Option<Instant>,
    /// With confirmations on: what the client confirmed (kept across the gap).
    confirmed: SeqMap,
    /// Last change, for eviction when the table is full.
    touched: Instant,
}

/// What a claimed pid gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The hub token to resume with.
    pub token: String,
    /// This socket's epoch (pass it back with every later update).
    pub epoch: u64,
    /// What the client confirmed before the gap (confirmations on only).
    pub confirmed: SeqMap,
}

/// The bounded pid → token table of one namespace.
#[derive(Debug)]
pub struct PidTable {
    entries: HashMap<PidDigest, Entry>,
    max: usize,
    ttl: Duration,
    next_epoch: u64,
}

impl PidTable {
    /// A table of at most `max` pids (at least 1), each resumable for `ttl`
    /// after its socket went away (the hub's `--session-ttl`).
    pub fn new(max: usize, ttl: Duration) -> PidTable {
        PidTable {
            entries: HashMap::new(),
            max: max.max(1),
            ttl,
            next_epoch: 1,
        }
    }

    /// How many pids are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A fresh session with hub token `token`: its new pid and epoch.
    pub fn issue(&mut self, token: &str, now: Instant) -> Result<(String, u64), getrandom::Error> {
        let pid = new_pid()?;
        let epoch = self.epoch();
        self.make_room(now);
        self.entries.insert(
            digest(&pid),
            Entry {
                masked_token: mask(&pid, token.as_bytes()),
                epoch,
                detached_at: None,
                confirmed: SeqMap::new(),
                touched: now,
            },
        );
        Ok((pid, epoch))
    }

    /// A reconnecting client presents `pid`: the token to resume with, if the
    /// pid is known and has not expired. The entry now belongs to this socket.
    pub fn claim(&mut self, pid: &str, now: Instant) -> Option<Claim> {
        let key = digest(pid);
        let e = self.entries.get(&key)?;
        if self.expired(e, now) {
            self.entries.remove(&key);
            return None;
        }
        let token = String::from_utf8(mask(pid, &e.masked_token)).ok()?;
        let epoch = self.epoch();
        let e = self.entries.get_mut(&key)?;
        e.epoch = epoch;
        e.detached_at = None;
        e.touched = now;
        Some(Claim {
            token,
            epoch,
            confirmed: e.confirmed.clone(),
        })
    }

    /// The hub rotated the session's token (`resumed`): keep the new one.
    pub fn rotate(&mut self, pid: &str, epoch: u64, token: &str, now: Instant) {
        if let Some(e) = self.current(pid, epoch) {
            e.masked_token = mask(pid, token.as_bytes());
            e.touched = now;
        }
    }

    /// The socket went away in a way that may be recovered: the pid stays
    /// for `ttl`, with what the client confirmed.
    pub fn detach(&mut self, pid: &str, epoch: u64, confirmed: SeqMap, now: Instant) {
        if let Some(e) = self.current(pid, epoch) {
            e.detached_at = Some(now);
            e.confirmed = confirmed;
            e.touched = now;
        }
    }

    /// The session is over for good (the client left the namespace, or the
    /// resume failed): forget the pid.
    pub fn forget(&mut self, pid: &str, epoch: u64) {
        if self.current(pid, epoch).is_some() {
            self.entries.remove(&digest(pid));
        }
    }

    /// The entry of `pid` if socket `epoch` still holds it.
    fn current(&mut self, pid: &str, epoch: u64) -> Option<&mut Entry> {
        self.entries
            .get_mut(&digest(pid))
            .filter(|e| e.epoch == epoch)
    }

    fn epoch(&mut self) -> u64 {
        self.next_epoch += 1;
        self.next_epoch
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        e.detached_at
            .is_some_and(|t| now.saturating_duration_since(t) >= self.ttl)
    }

    /// Below `max` before an insert: expired entries go first, then the
    /// least recently touched. The scan runs only when the table is full.
    fn make_room(&mut self, now: Instant) {
        if self.entries.len() < self.max {
            return;
        }
        let ttl = self.ttl;
        self.entries.retain(|_, e| {
            !e.detached_at
                .is_some_and(|t| now.saturating_duration_since(t) >= ttl)
        });
        while self.entries.len() >= self.max {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| (e.detached_at.is_none(), e.touched))
                .map(|(k, _)| *k);
            match oldest {
                Some(k) => self.entries.remove(&k),
                None => break,
            };
        }
    }
}

fn digest(pid: &str) -> PidDigest {
    Sha1::digest(pid.as_bytes()).into()
}

/// XORs `data` with a key stream derived from the pid: SHA-1 of a label, the
/// pid and a block counter, block after block. Applying it twice gives `data` back.
fn mask(pid: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for (block, chunk) in data.chunks(20).enumerate() {
        let mut h = Sha1::new();
        h.update(b"netlab socket.io pid mask\0");
        h.update(pid.as_bytes());
        h.update((block as u64).to_be_bytes());
        let stream: [u8; 20] = h.finalize().into();
        out.extend(chunk.iter().zip(stream).map(|(a, b)| a ^ b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn seq(pairs: &[(&str, u64)]) -> SeqMap {
        pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    }

    #[test]
    fn offsets_round_trip() {
        let s = seq(&[
            ("*", 3),
            ("lobby", 41),
            ("0123456789abcdef0123456789abcdef", 2),
            ("a-b_c.d", 0),
        ]);
        let text = encode_offset(&s);
        assert_eq!(
            text,
            "*:3,0123456789abcdef0123456789abcdef:2,a-b_c.d:0,lobby:41"
        );
        assert_eq!(parse_offset(&text), Ok(s));
        assert_eq!(encode_offset(&SeqMap::new()), "");
        assert_eq!(parse_offset(""), Ok(SeqMap::new()));
        assert_eq!(
            parse_offset("*:18446744073709551615"),
            Ok(seq(&[("*", u64::MAX)]))
        );
        // A key twice: the larger seq.
        assert_eq!(parse_offset("a:3,a:1"), Ok(seq(&[("a", 3)])));
    }

    #[test]
    fn hostile_offsets_are_refused() {
        for bad in [
            "a",
            "a:",
            ":1",
            "a:-1",
            "a:1,",
            ",a:1",
            "a:1x",
            "a b:1",
            "a:+1",
            "é:1",
            "a:18446744073709551616",
            "**:1",
            "a:1:2",
        ] {
            assert!(
                matches!(parse_offset(bad), Err(OffsetError::Entry(_))),
                "{bad:?}"
            );
        }
        let long = format!("a:{}", "1".repeat(MAX_OFFSET_LEN));
        assert_eq!(parse_offset(&long), Err(OffsetError::TooLong));
        // At the edge: MAX_OFFSET_LEN bytes are read, one more is not.
        let edge = format!("{}:1", "k".repeat(MAX_OFFSET_LEN - 2));
        assert_eq!(parse_offset(&edge).map(|s| s.len()), Ok(1));
        assert_eq!(parse_offset(&format!("k{edge}")), Err(OffsetError::TooLong));
    }

    #[test]
    fn the_connect_payload_says_what_to_recover() {
        assert_eq!(recovery_request(None), None);
        assert_eq!(recovery_request(Some(&json!({"token":"x"}))), None);
        assert_eq!(
            recovery_request(Some(&json!({"token":"x","pid":"p1","offset":"lobby:4"}))),
            Some(RecoveryRequest {
                pid: "p1".into(),
                have: seq(&[("lobby", 4)])
            })
        );
        // No offset yet (nothing recorded was received): everything since the session began.
        assert_eq!(
            recovery_request(Some(&json!({"pid":"p1"}))),
            Some(RecoveryRequest {
                pid: "p1".into(),
                have: SeqMap::new()
            })
        );
        assert_eq!(
            recovery_request(Some(&json!({"pid":5,"offset":"a:1"}))),
            None
        );
        assert_eq!(recovery_request(Some(&json!({"pid":"p","offset":7}))), None);
        assert_eq!(
            recovery_request(Some(&json!({"pid":"p","offset":"nope"}))),
            None
        );
        assert_eq!(recovery_request(Some(&json!({"pid":""}))), None);
        assert_eq!(recovery_request(Some(&json!(["pid"]))), None);
    }

    #[test]
    fn received_keeps_only_the_keys_the_socket_can_see() {
        let me = "0123456789abcdef0123456789abcdef";
        let mut r = Received::new(me, ["lobby".to_string()], seq(&[("lobby", 2), ("dev", 9)]));
        assert_eq!(r.seq(), &seq(&[("lobby", 2)]));
        r.advance(&seq(&[("lobby", 5), ("dev", 7), ("*", 1)]));
        r.advance(&seq(&[("lobby", 4), (me, 3)]));
        assert_eq!(r.offset(), format!("*:1,{me}:3,lobby:5"));
        r.joined("dev");
        r.advance(&seq(&[("dev", 8)]));
        r.left("lobby");
        assert_eq!(r.seq(), &seq(&[("*", 1), (me, 3), ("dev", 8)]));
        r.advance(&seq(&[("lobby", 6)]));
        assert_eq!(
            r.seq().get("lobby"),
            None,
            "a room it left no longer counts"
        );
    }

    #[test]
    fn a_pid_gives_back_its_current_token() {
        let now = Instant::now();
        let mut t = PidTable::new(8, Duration::from_secs(10));
        let (pid, epoch) = t.issue("token-1", now).unwrap();
        assert_eq!(pid.len(), 2 * PID_BYTES);
        t.rotate(&pid, epoch, "token-2", now);
        t.detach(&pid, epoch, seq(&[("lobby", 3)]), now);
        let claim = t.claim(&pid, now + Duration::from_secs(9)).unwrap();
        assert_eq!(
            (claim.token.as_str(), claim.confirmed),
            ("token-2", seq(&[("lobby", 3)]))
        );
        assert_eq!(t.claim("someone else's guess", now), None);
        // The older socket's late updates change nothing.
        t.rotate(&pid, epoch, "stale", now);
        t.forget(&pid, epoch);
        assert_eq!(t.claim(&pid, now).unwrap().token, "token-2");
    }

    #[test]
    fn a_detached_pid_expires_with_the_session() {
        let now = Instant::now();
        let ttl = Duration::from_secs(10);
        let mut t = PidTable::new(8, ttl);
        let (pid, epoch) = t.issue("tok", now).unwrap();
        t.detach(&pid, epoch, SeqMap::new(), now);
        assert!(t
            .claim(&pid, now + ttl - Duration::from_millis(1))
            .is_some());
        let (pid, epoch) = t.issue("tok", now).unwrap();
        t.detach(&pid, epoch, SeqMap::new(), now);
        assert_eq!(t.claim(&pid, now + ttl), None);
        // An attached one never expires.
        let (live, first) = t.issue("tok", now).unwrap();
        let claim = t.claim(&live, now + 100 * ttl).unwrap();
        // Only the socket holding it now (the latest claim) can forget it.
        t.forget(&live, first);
        assert!(
            t.claim(&live, now).is_some(),
            "a stale epoch cannot forget it"
        );
        t.forget(&live, claim.epoch);
        assert!(t.claim(&live, now).is_some(), "nor can an older claim");
        let last = t.claim(&live, now).unwrap();
        t.forget(&live, last.epoch);
        assert_eq!(t.claim(&live, now), None);
    }

    #[test]
    fn the_table_is_bounded_at_the_edge() {
        let now = Instant::now();
        let mut t = PidTable::new(3, Duration::from_secs(10));
        let (a, ea) = t.issue("a", now).unwrap();
        let (b, _) = t.issue("b", now + Duration::from_secs(1)).unwrap();
        let (c, _) = t.issue("c", now + Duration::from_secs(2)).unwrap();
        assert_eq!(t.len(), 3);
        // A detached one goes before any attached one, even a newer one.
        t.detach(&a, ea, SeqMap::new(), now + Duration::from_secs(3));
        let (d, _) = t.issue("d", now + Duration::from_secs(4)).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.claim(&a, now), None);
        // All attached: the least recently touched goes.
        let (_e, _) = t.issue("e", now + Duration::from_secs(5)).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.claim(&b, now), None);
        assert!(t.claim(&c, now).is_some() && t.claim(&d, now).is_some());
    }

    #[test]
    fn the_table_holds_no_token_in_the_clear() {
        let mut t = PidTable::new(2, Duration::from_secs(1));
        let token = "9c0e".repeat(16);
        let (pid, _) = t.issue(&token, Instant::now()).unwrap();
        let dump = format!("{:?}", t.entries);
        assert!(!dump.contains(&token) && !dump.contains(&pid));
        let stored = &t.entries.values().next().unwrap().masked_token;
        assert_ne!(stored.as_slice(), token.as_bytes());
        assert_eq!(mask(&pid, stored), token.as_bytes());
    }
}
