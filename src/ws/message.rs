//! Lesson 09 — messages: what the application sends and receives.
//!
//! A *message* is what a program means ("hello", a JSON event, a file); a
//! *frame* is how it travels. A message may be split into fragments (a first
//! frame with its opcode and FIN=0, then continuation frames, the last with
//! FIN=1), and control frames (ping, pong, close) may arrive between the
//! fragments (§5.4). Text messages must be UTF-8 as a whole; a fragment may end
//! in the middle of a character, so the check runs incrementally
//! ([`Utf8Validator`]) and fails on the first byte that can never become valid.

use super::close::CloseFrame;
use bytes::Bytes;

/// A text message's payload: bytes known to be valid UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(Bytes);

impl Text {
    /// The text as a `&str`.
    pub fn as_str(&self) -> &str {
        // The bytes were validated when the Text was made (both constructors check).
        std::str::from_utf8(&self.0).expect("Text always holds valid UTF-8")
    }

    /// The UTF-8 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, without copying.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Wraps bytes the caller has already validated as UTF-8 (checked again in debug builds).
    pub(crate) fn from_validated(bytes: Bytes) -> Text {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Text(bytes)
    }

    /// Wraps bytes if they are valid UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Text, std::str::Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Text(bytes))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Bytes::from(s))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(Bytes::copy_from_slice(s.as_bytes()))
    }
}

/// One WebSocket message, or a control frame the application may want to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (UTF-8).
    Text(Text),
    /// A binary message.
    Binary(Bytes),
    /// A ping with its application data (at most 125 bytes); the connection answers it.
    Ping(Bytes),
    /// A pong with its application data.
    Pong(Bytes),
    /// A Close frame: `None` when it carried no status code.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(s: impl Into<Text>) -> Message {
        Message::Text(s.into())
    }

    /// A binary message.
    pub fn binary(b: impl Into<Bytes>) -> Message {
        Message::Binary(b.into())
    }

    /// The payload bytes (a Close frame's reason for Close).
    pub fn payload(&self) -> &[u8] {
        match self {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) | Message::Ping(b) | Message::Pong(b) => b,
            Message::Close(Some(c)) => c.reason.as_bytes(),
            Message::Close(None) => &[],
        }
    }

    /// Is this a text or binary message (not a control frame)?
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
    }
}

/// Checks UTF-8 that arrives in pieces (§8.1), failing on the first byte that
/// makes the text invalid whatever follows.
///
/// Up to three bytes of a character cut at a piece boundary are kept in
/// `pending` until the next piece completes (or breaks) it. Whole pieces go
/// through the `simdutf8` crate's validator (many bytes per instruction), and
/// through the standard library's only when they fail, to find where.
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    pending: [u8; 4],
    pending_len: usize,
    /// Bytes accepted so far (for the error's offset).
    seen: usize,
}

/// Where incrementally checked text stopped being UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf8Error {
    /// Offset of the first bad byte from the start of the message.
    pub offset: usize,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub fn new() -> Utf8Validator {
        Utf8Validator::default()
    }

    /// Forgets everything: the next byte starts a new message.
    pub fn reset(&mut self) {
        *self = Utf8Validator::default();
    }

    /// Checks the next piece of the message.
    pub fn feed(&mut self, mut piece: &[u8]) -> Result<(), Utf8Error> {
        // First finish a character left incomplete by the previous piece.
        while self.pending_len > 0 {
            let Some((&b, rest)) = piece.split_first() else {
                return Ok(());
            };
            self.pending[self.pending_len] = b;
            self.pending_len += 1;
            match std::str::from_utf8(&self.pending[..self.pending_len]) {
                Ok(_) => {
                    self.seen += self.pending_len;
                    self.pending_len = 0;
                }
                Err(e) if e.error_len().is_some() => {
                    return Err(Utf8Error {
                        offset: self.seen + e.valid_up_to(),
                    })
                }
                Err(_) => {}
            }
            piece = rest;
        }
        // The common case, valid text, goes through a SIMD validator; only
        // a failure (or a character cut at the end) needs the details below.
        if simdutf8::basic::from_utf8(piece).is_ok() {
            self.seen += piece.len();
            return Ok(());
        }
        match std::str::from_utf8(piece) {
            Ok(_) => {
                self.seen += piece.len();
                Ok(())
            }
            Err(e) => {
                let good = e.valid_up_to();
                if e.error_len().is_some() {
                    return Err(Utf8Error {
                        offset: self.seen + good,
                    });
                }
                // The piece ends inside a character: keep its 1–3 bytes.
                let tail = &piece[good..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.pending_len = tail.len();
                self.seen += good;
                Ok(())
            }
        }
    }

    /// The message ended: a character still incomplete is an error.
    pub fn finish(&self) -> Result<(), Utf8Error> {
        if self.pending_len > 0 {
            Err(Utf8Error { offset: self.seen })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_in_pieces(bytes: &[u8], cuts: &[usize]) -> Result<(), Utf8Error> {
        let mut v = Utf8Validator::new();
        let mut start = 0;
        for &c in cuts {
            v.feed(&bytes[start..c])?;
            start = c;
        }
        v.feed(&bytes[start..])?;
        v.finish()
    }

    #[test]
    fn valid_text_passes_at_every_cut() {
        let s = "κόσμε · 🦀 · plain ascii · 日本語";
        for a in 0..=s.len() {
            for b in a..=s.len() {
                assert_eq!(
                    check_in_pieces(s.as_bytes(), &[a, b]),
                    Ok(()),
                    "cuts {a},{b}"
                );
            }
        }
    }

    #[test]
    fn invalid_bytes_fail_at_their_offset_at_every_cut() {
        // "ab" + the start of a 3-byte character + an ASCII byte that cannot continue it.
        let bad = [b'a', b'b', 0xe2, 0x82, b'c', b'd'];
        for cut in 0..=bad.len() {
            assert_eq!(
                check_in_pieces(&bad, &[cut]),
                Err(Utf8Error { offset: 2 }),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn fails_fast_on_a_byte_that_can_never_be_utf8() {
        let mut v = Utf8Validator::new();
        v.feed("ok".as_bytes()).unwrap();
        // 0xff never appears in UTF-8: no need to wait for the rest of the message.
        assert_eq!(v.feed(&[0xff]), Err(Utf8Error { offset: 2 }));
        // A surrogate half (U+D800, encoded as ed a0 80) is invalid from its second byte.
        let mut v = Utf8Validator::new();
        assert!(v.feed(&[0xed]).is_ok());
        assert_eq!(v.feed(&[0xa0]), Err(Utf8Error { offset: 0 }));
    }

    #[test]
    fn an_unfinished_character_at_the_end_is_an_error() {
        let mut v = Utf8Validator::new();
        v.feed(&[b'x', 0xf0, 0x9f]).unwrap();
        assert_eq!(v.finish(), Err(Utf8Error { offset: 1 }));
    }
}
