//! Lesson 07 — sessions: who a reconnecting client was, proven by a token.
//!
//! With history on, every connection is a *session*. Its `welcome` carries a
//! token; when the connection drops, the session is *detached* (still in its
//! rooms, its events recorded) and a new connection that presents the token
//! as its first event becomes that session again (`resume`). The rules:
//!
//! - a token is 32 bytes from the OS generator, written as 64 hex digits:
//!   256 bits, so guessing one is hopeless (and the rate limit caps tries);
//! - it is **single-use**: `resumed` carries a fresh one, the old one stops working;
//! - it resumes **only its own session**: id, nick and rooms come from the
//!   server's record, never from the client;
//! - it **expires** with its session, `--session-ttl` after the disconnect.
//!
//! The server keeps only the SHA-1 of each live token (a memory dump shows
//! no token that would work). The lookup is a hash-map probe, whose timing
//! depends on the token; that is not the threat here: an attacker learns at
//! best something about a *hash* of a token, and finding a token with a given
//! SHA-1 (a preimage) is out of reach even though collisions are not.
//!
//! Besides the token, a session carries what must survive a resume: the
//! answers to its last [`ACK_MEMORY`] ack ids (a retried event is not applied
//! twice: idempotent receive) and, with `--confirm-timeout`, which recorded
//! events the client has confirmed with `seen`.

use super::id::ConnId;
use super::protocol::{SeqMap, ServerEvent};
use sha1::{Digest, Sha1};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Random bytes in a session token (256 bits).
pub const TOKEN_BYTES: usize = 32;

/// How many ack ids (and their answers) a session remembers for idempotent receive.
pub const ACK_MEMORY: usize = 256;

/// The SHA-1 of a token: what the server keeps instead of the token.
pub type TokenDigest = [u8; 20];

/// A fresh token from the OS generator, as 64 lowercase hex digits.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::getrandom(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The digest the server files a token under.
pub fn digest(token: &str) -> TokenDigest {
    Sha1::digest(token.as_bytes()).into()
}

/// Live tokens (by digest) → the session each one resumes.
#[derive(Debug, Default)]
pub struct Tokens {
    by_digest: HashMap<TokenDigest, ConnId>,
}

impl Tokens {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new token for `id`; returns it and its digest (the caller keeps the digest to revoke it).
    pub fn issue(&mut self, id: ConnId) -> Result<(String, TokenDigest), getrandom::Error> {
        let token = new_token()?;
        let d = digest(&token);
        self.by_digest.insert(d, id);
        Ok((token, d))
    }

    /// Uses up `token`: the session it resumes, if it is live. A second call
    /// with the same token finds nothing (single use).
    pub fn take(&mut self, token: &str) -> Option<ConnId> {
        self.by_digest.remove(&digest(token))
    }

    /// Forgets a token (its session is gone).
    pub fn revoke(&mut self, d: &TokenDigest) {
        self.by_digest.remove(d);
    }

    /// Live tokens.
    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    /// Whether no token is live.
    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }
}

/// The answers to a session's last [`ACK_MEMORY`] ack ids.
#[derive(Debug, Default)]
pub struct AckMemory {
    order: VecDeque<u64>,
    answers: HashMap<u64, Arc<ServerEvent>>,
}

impl AckMemory {
    /// The remembered answer to `ack`, if any.
    pub fn get(&self, ack: u64) -> Option<&Arc<ServerEvent>> {
        self.answers.get(&ack)
    }

    /// Remembers the answer to `ack`, forgetting the oldest past [`ACK_MEMORY`].
    pub fn remember(&mut self, ack: u64, answer: Arc<ServerEvent>) {
        if self.answers.insert(ack, answer).is_none() {
            self.order.push_back(ack);
            if self.order.len() > ACK_MEMORY {
                if let Some(old) = self.order.pop_front() {
                    self.answers.remove(&old);
                }
            }
        }
    }

    /// How many answers are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// Server→client confirmations of one connection: per key, the highest seq
/// sent and the highest the client confirmed with `seen`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Confirm {
    /// Per key, the highest seq delivered.
    pub sent: SeqMap,
    /// Per key, the highest seq confirmed.
    pub confirmed: SeqMap,
    /// Since when something sent has been waiting for confirmation.
    pub waiting_since: Option<Instant>,
    /// Resends made for the current wait.
    pub retries: u32,
}

impl Confirm {
    /// Notes that seq `s` of `key` went out at `now`.
    pub fn sent(&mut self, key: &str, s: u64, now: Instant) {
        let e = self.sent.entry(key.to_string()).or_insert(0);
        if s > *e {
            *e = s;
            if self.waiting_since.is_none() {
                self.waiting_since = Some(now);
            }
        }
    }

    /// The client confirmed `seq`; a seq never sent is ignored. When everything
    /// sent is confirmed the wait (and its retries) ends.
    pub fn seen(&mut self, seq: &SeqMap) {
        for (k, &s) in seq {
            let Some(&sent) = self.sent.get(k) else {
                continue;
            };
            if s > sent {
                continue;
            }
            let c = self.confirmed.entry(k.clone()).or_insert(0);
            *c = (*c).max(s);
        }
        if self.unconfirmed().is_empty() {
            self.waiting_since = None;
            self.retries = 0;
        }
    }

    /// Keys with something unconfirmed: `(key, confirmed, sent)`.
    pub fn unconfirmed(&self) -> Vec<(String, u64, u64)> {
        self.sent
            .iter()
            .filter_map(|(k, &s)| {
                let c = self.confirmed.get(k).copied().unwrap_or(0);
                (c < s).then(|| (k.clone(), c, s))
            })
            .collect()
    }

    /// Whether the wait has lasted `timeout` at `now`.
    pub fn overdue(&self, now: Instant, timeout: Duration) -> bool {
        self.waiting_since
            .is_some_and(|t| now.saturating_duration_since(t) >= timeout)
    }

    /// Starts over from what the client says it has (after a resume).
    pub fn reset_to(&mut self, have: SeqMap) {
        self.sent = have.clone();
        self.confirmed = have;
        self.waiting_since = None;
        self.retries = 0;
    }
}

/// What a session keeps besides its rooms and nick (which the hub holds).
#[derive(Debug)]
pub struct Session {
    /// The digest of its live token.
    pub token: TokenDigest,
    /// When its connection went away; `None` while a connection is attached.
    pub detached_at: Option<Instant>,
    /// Whether the connection has sent nothing but pings yet (resume must come first).
    pub fresh: bool,
    /// Per key, the last seq before this session could see the key (it joined
    /// the room, or connected): replays never reach further back.
    pub bases: SeqMap,
    /// Idempotent receive.
    pub acks: AckMemory,
    /// Server→client confirmations.
    pub confirm: Confirm,
}

impl Session {
    /// A session with its token and the seqs it starts after.
    pub fn new(token: TokenDigest, bases: SeqMap) -> Self {
        Self {
            token,
            detached_at: None,
            fresh: true,
            bases,
            acks: AckMemory::default(),
            confirm: Confirm::default(),
        }
    }

    /// Whether a connection is attached.
    pub fn attached(&self) -> bool {
        self.detached_at.is_none()
    }
}

/// The session settings of a hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// How long a detached session may be resumed.
    pub ttl: Duration,
    /// `seen` must confirm recorded events within this (`None`: not required).
    pub confirm_timeout: Option<Duration>,
    /// Resends before the peer is treated as dead.
    pub confirm_retries: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_64_hex_digits_and_differ() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn a_token_works_once() {
        let mut t = Tokens::new();
        let (tok, _) = t.issue(ConnId(7)).unwrap();
        assert_eq!(t.take(&tok), Some(ConnId(7)));
        assert_eq!(t.take(&tok), None);
        assert_eq!(t.take("garbage"), None);
    }

    #[test]
    fn sha1_of_a_known_text() {
        // FIPS 180-1 appendix A: SHA-1("abc").
        let hex: String = digest("abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn ack_memory_keeps_exactly_the_last_256() {
        let mut m = AckMemory::default();
        for i in 0..=ACK_MEMORY as u64 {
            m.remember(i, Arc::new(ServerEvent::Pong));
        }
        assert_eq!(m.len(), ACK_MEMORY);
        assert!(m.get(0).is_none(), "the 257th answer pushes the first out");
        assert!(m.get(1).is_some());
        assert!(m.get(ACK_MEMORY as u64).is_some());
    }

    #[test]
    fn seen_for_a_seq_never_sent_is_ignored() {
        let now = Instant::now();
        let mut c = Confirm::default();
        c.sent("lobby", 3, now);
        c.seen(&SeqMap::from([("lobby".into(), 9), ("dev".into(), 1)]));
        assert_eq!(c.unconfirmed(), vec![("lobby".into(), 0, 3)]);
        c.seen(&SeqMap::from([("lobby".into(), 3)]));
        assert!(c.unconfirmed().is_empty());
        assert_eq!(c.waiting_since, None);
    }
}
