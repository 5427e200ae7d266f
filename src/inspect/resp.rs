//! RESP, the Redis serialization protocol (lesson 12): what servers sharing
//! rooms over Redis say to it on TCP, e.g. `*3\r\n$7\r\nPUBLISH\r\n…`.
//!
//! Every value starts with a byte that says its type and ends its first
//! line with CR LF (RESP2 and RESP3, <https://redis.io/docs/latest/develop/reference/protocol-spec/>):
//!
//! | first byte | what it is |
//! |---|---|
//! | `+` | a simple string (`+OK`) |
//! | `-` | an error (`-ERR unknown command`) |
//! | `:` | an integer (`:2`, e.g. how many subscribers a `PUBLISH` reached) |
//! | `$` | a bulk string: its length, CR LF, the bytes, CR LF (`$-1`: null) |
//! | `*` | an array: how many values follow (`*-1`: null); commands are arrays of bulk strings |
//! | `>` | a RESP3 push (what a subscriber receives) |
//!
//! Like netlab frames ([`super::netframe`]), a TCP port does not prove RESP,
//! so a payload is called RESP only when it is a run of whole values that
//! ends exactly at its end. Nothing here trusts a length beyond the bytes
//! that are there.

use std::ops::Range;

/// The most values one payload is split into before the inspector gives up.
pub const MAX_VALUES: usize = 1024;
/// The deepest nesting of arrays followed.
pub const MAX_DEPTH: usize = 8;
/// How many bytes of a printable bulk string a summary shows.
const SHOWN: usize = 48;

/// One top-level value found in a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RespValue {
    /// Where it lives in the payload.
    pub range: Range<usize>,
    /// What it says, in one line: `PUBLISH socket.io#/#lobby# (91 B)`, `:2`, `+OK`.
    pub summary: String,
}

/// The whole values that tile `b` exactly, or `None` if `b` is not RESP.
pub fn tile(b: &[u8]) -> Option<Vec<RespValue>> {
    if b.is_empty() || !b"+-:$*>".contains(&b[0]) {
        return None;
    }
    let mut out = Vec::new();
    let mut at = 0;
    let mut budget = MAX_VALUES;
    while at < b.len() {
        let mut words = Vec::new();
        let end = value(b, at, 0, &mut budget, &mut words)?;
        out.push(RespValue {
            range: at..end,
            summary: words.join(" "),
        });
        at = end;
    }
    Some(out)
}

/// The line starting at `at` (without its CR LF) and where the next begins.
fn line(b: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rel = b.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
    Some((&b[at..at + rel], at + rel + 2))
}

fn number(text: &[u8]) -> Option<i64> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Parses one value at `at`; returns where it ends and adds its words.
fn value(
    b: &[u8],
    at: usize,
    depth: usize,
    budget: &mut usize,
    words: &mut Vec<String>,
) -> Option<usize> {
    *budget = budget.checked_sub(1)?;
    let (head, next) = line(b, at)?;
    let (&kind, rest) = head.split_first()?;
    match kind {
        b'+' | b'-' | b':' => {
            words.push(format!("{}{}", kind as char, printable(rest)));
            Some(next)
        }
        b'$' => {
            let n = number(rest)?;
            if n == -1 {
                words.push("(null)".into());
                return Some(next);
            }
            let n = usize::try_from(n).ok()?;
            let end = next.checked_add(n)?;
            if b.get(end..end + 2)? != b"\r\n" {
                return None;
            }
            let data = &b[next..end];
            words.push(
                if data.len() <= SHOWN && data.iter().all(|c| c.is_ascii_graphic()) {
                    String::from_utf8_lossy(data).into_owned()
                } else {
                    format!("({n} B)")
                },
            );
            Some(end + 2)
        }
        b'*' | b'>' => {
            let n = number(rest)?;
            if n == -1 {
                words.push("(null)".into());
                return Some(next);
            }
            if depth >= MAX_DEPTH {
                return None;
            }
            // Each value takes at least 3 bytes: a count beyond that is a lie.
            let n = usize::try_from(n)
                .ok()
                .filter(|n| *n <= (b.len() - next) / 3)?;
            let mut at = next;
            for _ in 0..n {
                at = value(b, at, depth + 1, budget, words)?;
            }
            Some(at)
        }
        _ => None,
    }
}

/// Text as shown: printable ASCII kept, anything else as `.`.
fn printable(text: &[u8]) -> String {
    text.iter()
        .take(SHOWN)
        .map(|&c| {
            if c.is_ascii_graphic() || c == b' ' {
                c as char
            } else {
                '.'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use proptest::prelude::*;

    #[test]
    fn a_publish_and_its_answer_are_read_whole() {
        let publish = b"*3\r\n$7\r\nPUBLISH\r\n$18\r\nsocket.io#/#lobby#\r\n$5\r\nhello\r\n";
        assert_eq!(
            tile(publish),
            Some(vec![RespValue {
                range: 0..publish.len(),
                summary: "PUBLISH socket.io#/#lobby# hello".into()
            }])
        );
        assert_eq!(tile(b":2\r\n").unwrap()[0].summary, ":2");
        let two = b"+OK\r\n$-1\r\n";
        let got = tile(two).unwrap();
        assert_eq!(
            got.iter().map(|v| v.summary.as_str()).collect::<Vec<_>>(),
            ["+OK", "(null)"]
        );
        // Binary bulk strings (MessagePack) are shown by size.
        let bin = b"$3\r\n\x93\xa1a\r\n";
        assert_eq!(tile(bin).unwrap()[0].summary, "(3 B)");
    }

    #[test]
    fn what_is_not_whole_resp_is_not_called_resp() {
        for b in [
            &b"*3\r\n$7\r\nPUBLISH\r\n"[..],        // an array cut short
            b"$5\r\nhel\r\n",                       // a bulk shorter than announced
            b"*4294967295\r\n",                     // a count the bytes cannot hold
            b"GET / HTTP/1.1\r\n\r\n",              // not RESP at all
            b":2\r\nextra",                         // bytes after the last value
            &[b'*', b'1', b'\r', b'\n'].repeat(20), // deeper than MAX_DEPTH
        ] {
            assert_eq!(tile(b), None, "{:?}", String::from_utf8_lossy(b));
        }
    }

    proptest! {
        #[test]
        fn any_bytes_give_whole_values_or_none(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Some(values) = tile(&b) {
                let mut at = 0;
                for v in values {
                    prop_assert_eq!(v.range.start, at);
                    at = v.range.end;
                }
                prop_assert_eq!(at, b.len());
            }
        }
    }
}
