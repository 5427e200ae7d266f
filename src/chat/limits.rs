//! Limits: what one connection may do, each a named constant with its default
//! and why, and each a `netlab serve` flag.
//!
//! A chat server is shared: everything one client can make it hold or do
//! (names, rooms, queued messages, events per second) must be bounded, or one
//! client can hurt all the others. Every limit is checked at exactly `max`
//! (allowed) and `max + 1` (refused) by the tests.

use std::time::{Duration, Instant};

/// Default largest chat frame a client may send: 64 KiB. A chat message is
/// text typed by a person; anything bigger is a mistake or an attack.
pub const DEFAULT_MAX_FRAME: usize = 64 * 1024;

/// Default longest nickname, in characters.
pub const DEFAULT_MAX_NICK: usize = 32;

/// Default longest room name, in characters.
pub const DEFAULT_MAX_ROOM: usize = 64;

/// Default most rooms one connection may be in (its own id room not counted).
pub const DEFAULT_MAX_ROOMS: usize = 32;

/// Default longest message text, in bytes (UTF-8).
pub const DEFAULT_MAX_TEXT: usize = 4 * 1024;

/// Default sustained events per second one connection may send.
pub const DEFAULT_RATE: u32 = 100;

/// Default burst: events a quiet connection may send at once before the rate applies.
pub const DEFAULT_BURST: u32 = 200;

/// Default number of rule violations after which the connection is closed.
/// One mistake gets an error event; a client that keeps breaking rules is cut off.
pub const DEFAULT_MAX_STRIKES: u32 = 5;

/// Default outbound queue per connection, in events. When a slow reader's
/// queue is full the *oldest* queued event is dropped and the client is told
/// how many it missed (see [`crate::transport::Outbound`]).
pub const DEFAULT_MAX_QUEUE: usize = 1024;

/// Default most connections the server holds at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 16 * 1024;

/// Every per-connection limit of the hub, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest nickname (characters).
    pub max_nick: usize,
    /// Longest room name (characters).
    pub max_room: usize,
    /// Most rooms one connection may be in.
    pub max_rooms: usize,
    /// Longest message text (bytes).
    pub max_text: usize,
    /// Sustained events per second.
    pub rate: u32,
    /// Events allowed at once.
    pub burst: u32,
    /// Violations before the connection is closed.
    pub max_strikes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_nick: DEFAULT_MAX_NICK,
            max_room: DEFAULT_MAX_ROOM,
            max_rooms: DEFAULT_MAX_ROOMS,
            max_text: DEFAULT_MAX_TEXT,
            rate: DEFAULT_RATE,
            burst: DEFAULT_BURST,
            max_strikes: DEFAULT_MAX_STRIKES,
        }
    }
}

/// The characters allowed in nicknames and room names besides ASCII letters
/// and digits. Keeping names to a small visible set means no one can hide a
/// control character, a newline or a look-alike letter in a name.
pub const NAME_PUNCTUATION: &[char] = &['-', '_', '.'];

/// Whether `c` may appear in a nickname or room name.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || NAME_PUNCTUATION.contains(&c)
}

/// Why a name (nickname or room) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Names are at least one character.
    #[error("the name is empty")]
    Empty,
    /// Longer than the limit.
    #[error("the name is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character outside letters, digits and `-_.`.
    #[error("the name contains {0:?}; only ASCII letters, digits, '-', '_' and '.' are allowed")]
    BadChar(char),
}

/// Checks a nickname or room name: 1 to `max` characters from [`is_name_char`].
pub fn check_name(name: &str, max: usize) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    // Characters are checked first so a long run of bytes is never counted twice.
    if let Some(c) = name.chars().find(|&c| !is_name_char(c)) {
        return Err(NameError::BadChar(c));
    }
    // Every allowed character is one byte, so bytes = characters here.
    if name.len() > max {
        return Err(NameError::TooLong {
            len: name.len(),
            max,
        });
    }
    Ok(())
}

/// A token bucket: `burst` tokens, refilled at `rate` per second; each event takes one.
///
/// This is the classic traffic-shaping rule: a quiet client may send a burst,
/// a busy one is held to the average rate.
#[derive(Debug, Clone, Copy)]
pub struct RateLimiter {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl RateLimiter {
    /// A full bucket at time `now`.
    pub fn new(rate: u32, burst: u32, now: Instant) -> Self {
        Self {
            tokens: f64::from(burst),
            rate: f64::from(rate),
            burst: f64::from(burst),
            last: now,
        }
    }

    /// Takes one token at time `now`; `false` means the event is over the limit.
    pub fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How long until one token is back (zero if one is there now).
    pub fn retry_after(&self) -> Duration {
        if self.tokens >= 1.0 || self.rate <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_at_max_pass_and_at_max_plus_one_fail() {
        assert_eq!(check_name(&"a".repeat(32), 32), Ok(()));
        assert_eq!(
            check_name(&"a".repeat(33), 32),
            Err(NameError::TooLong { len: 33, max: 32 })
        );
        assert_eq!(check_name("", 32), Err(NameError::Empty));
    }

    #[test]
    fn names_refuse_spaces_controls_and_lookalikes() {
        assert_eq!(check_name("a b", 32), Err(NameError::BadChar(' ')));
        assert_eq!(check_name("a\nb", 32), Err(NameError::BadChar('\n')));
        assert_eq!(
            check_name("аdmin", 32),
            Err(NameError::BadChar('а')),
            "Cyrillic a"
        );
        assert_eq!(check_name("ok-name_1.2", 32), Ok(()));
    }

    #[test]
    fn the_bucket_allows_a_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut b = RateLimiter::new(10, 3, t0);
        assert!(b.allow(t0) && b.allow(t0) && b.allow(t0), "burst of 3");
        assert!(!b.allow(t0), "the 4th at once is over the limit");
        assert!(b.retry_after() > Duration::ZERO);
        assert!(
            !b.allow(t0 + Duration::from_millis(50)),
            "half a token back"
        );
        assert!(
            b.allow(t0 + Duration::from_millis(101)),
            "one token after 1/10 s"
        );
        assert!(!b.allow(t0 + Duration::from_millis(101)));
        // A long quiet spell refills to the burst, not beyond it.
        let later = t0 + Duration::from_secs(60);
        assert!((0..3).all(|_| b.allow(later)));
        assert!(!b.allow(later));
    }
}
