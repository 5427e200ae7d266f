//! HTTP/1.x message heads (RFC 9112 §2–§5): the start line and header fields up
//! to the empty line — where every WebSocket connection begins (RFC 6455 §4).
//!
//! ```text
//! GET /chat HTTP/1.1\r\n              request-line = method SP target SP version
//! Host: example.com\r\n               field-line   = name ":" OWS value OWS
//! Upgrade: websocket\r\n
//! \r\n                                the empty line ends the head
//! ```
//! A view, not a parser that allocates the message: every part is a byte range.

use super::wire::WireError;
use crate::layers::Protocol;
use std::ops::Range;

/// The most header lines a head may have before it is called malformed.
pub const MAX_HEADERS: usize = 100;

/// Methods recognised at the start of a TCP payload (RFC 9110 §9).
pub const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// The start line: a request or a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `METHOD target HTTP/x.y`
    Request {
        /// The method.
        method: Range<usize>,
        /// The request target (path).
        target: Range<usize>,
        /// The version, e.g. `HTTP/1.1`.
        version: Range<usize>,
    },
    /// `HTTP/x.y code reason`
    Response {
        /// The version.
        version: Range<usize>,
        /// The three-digit status code.
        status: u16,
        /// Where the status code lives.
        status_range: Range<usize>,
        /// The reason phrase.
        reason: Range<usize>,
    },
}

/// One header field line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The whole line without CRLF.
    pub line: Range<usize>,
    /// The field name.
    pub name: Range<usize>,
    /// The field value, surrounding whitespace trimmed.
    pub value: Range<usize>,
}

/// A parsed head: ranges into the bytes it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The start line's parts.
    pub start: StartLine,
    /// The start line without CRLF.
    pub start_line: Range<usize>,
    /// The header lines.
    pub headers: Vec<Header>,
    /// Length of the head including the final empty line.
    pub len: usize,
}

impl Head {
    /// The value of the first header named `name` (case-insensitive), as bytes of `b`.
    pub fn header<'a>(&self, b: &'a [u8], name: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|h| b[h.name.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .map(|h| &b[h.value.clone()])
    }

    /// Whether a header's comma-separated value contains `token` (case-insensitive).
    pub fn has_token(&self, b: &[u8], name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|h| b[h.name.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .any(|h| {
                b[h.value.clone()]
                    .split(|&c| c == b',')
                    .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
            })
    }

    /// The body's length from `Content-Length` (RFC 9112 §6.3): one decimal
    /// number; `None` without the field, or when it is not a number.
    pub fn content_length(&self, b: &[u8]) -> Option<usize> {
        let v = self.header(b, "content-length")?;
        if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
            return None;
        }
        v.iter().try_fold(0usize, |n, d| {
            n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
        })
    }

    /// A request asking to become a WebSocket (RFC 6455 §4.1: Upgrade: websocket, Connection: Upgrade).
    pub fn is_websocket_upgrade(&self, b: &[u8]) -> bool {
        matches!(self.start, StartLine::Request { .. })
            && self.has_token(b, "upgrade", "websocket")
            && self.has_token(b, "connection", "upgrade")
    }
}

/// The value of query parameter `name` in a request target
/// (`/socket.io/?EIO=4&transport=polling` → `transport` is `polling`), as
/// written (not percent-decoded); the first one if it is repeated.
pub fn query_param<'a>(target: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let q = target.iter().position(|&c| c == b'?')?;
    target[q + 1..].split(|&c| c == b'&').find_map(|pair| {
        let eq = pair.iter().position(|&c| c == b'=').unwrap_or(pair.len());
        (&pair[..eq] == name.as_bytes()).then(|| pair.get(eq + 1..).unwrap_or(&[]))
    })
}

/// Whether `b` looks like the start of an HTTP/1.x message.
pub fn looks_like_http(b: &[u8]) -> bool {
    b.starts_with(b"HTTP/1.")
        || METHODS
            .iter()
            .any(|m| b.len() > m.len() && b.starts_with(m.as_bytes()) && b[m.len()] == b' ')
}

fn bad(rule: &'static str) -> WireError {
    WireError::Malformed {
        protocol: Protocol::Http,
        rule,
    }
}

fn trim(b: &[u8], mut r: Range<usize>) -> Range<usize> {
    while r.start < r.end && matches!(b[r.start], b' ' | b'\t') {
        r.start += 1;
    }
    while r.end > r.start && matches!(b[r.end - 1], b' ' | b'\t') {
        r.end -= 1;
    }
    r
}

/// Parses a head. `Ok(None)`: no empty line yet (the head continues in a later segment).
pub fn parse(b: &[u8]) -> Result<Option<Head>, WireError> {
    let Some(end) = b.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let mut lines = Vec::new();
    let mut at = 0;
    while at < end {
        let stop = b[at..end]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(end, |p| at + p);
        lines.push(at..stop);
        at = stop + 2;
    }
    let first = lines.first().cloned().ok_or(bad("empty start line"))?;
    let parts: Vec<Range<usize>> = split_spaces(b, first.clone(), 3);
    let start = if b[first.clone()].starts_with(b"HTTP/") {
        if parts.len() < 2 {
            return Err(bad("status line needs a version and a status code"));
        }
        let code = &b[parts[1].clone()];
        if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
            return Err(bad("status code must be three digits"));
        }
        let status = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        StartLine::Response {
            version: parts[0].clone(),
            status,
            status_range: parts[1].clone(),
            reason: parts.get(2).cloned().unwrap_or(first.end..first.end),
        }
    } else {
        if parts.len() != 3 || !b[parts[2].clone()].starts_with(b"HTTP/") {
            return Err(bad("request line must be `method target HTTP/version`"));
        }
        StartLine::Request {
            method: parts[0].clone(),
            target: parts[1].clone(),
            version: parts[2].clone(),
        }
    };
    if lines.len() - 1 > MAX_HEADERS {
        return Err(bad("more header lines than netlab's limit (MAX_HEADERS)"));
    }
    let mut headers = Vec::with_capacity(lines.len() - 1);
    for line in &lines[1..] {
        let colon = b[line.clone()]
            .iter()
            .position(|&c| c == b':')
            .ok_or(bad("a header line has no colon"))?;
        let name = line.start..line.start + colon;
        if name.is_empty() || b[name.clone()].iter().any(|c| c.is_ascii_whitespace()) {
            return Err(bad(
                "a header name is empty or contains whitespace (RFC 9112 §5.1)",
            ));
        }
        headers.push(Header {
            line: line.clone(),
            name,
            value: trim(b, line.start + colon + 1..line.end),
        });
    }
    Ok(Some(Head {
        start,
        start_line: first,
        headers,
        len: end + 4,
    }))
}

/// Splits `r` at single spaces into at most `max` parts (the last keeps its spaces).
fn split_spaces(b: &[u8], r: Range<usize>, max: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = r.start;
    for i in r.clone() {
        if out.len() + 1 == max {
            break;
        }
        if b[i] == b' ' {
            out.push(start..i);
            start = i + 1;
        }
    }
    out.push(start..r.end);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6455 §1.2's opening handshake, as sent.
    const UPGRADE: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const ACCEPT: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05Hello";

    #[test]
    fn rfc6455_request_head() {
        let h = parse(UPGRADE).unwrap().unwrap();
        let StartLine::Request {
            method,
            target,
            version,
        } = h.start.clone()
        else {
            panic!("not a request")
        };
        assert_eq!(&UPGRADE[method], b"GET");
        assert_eq!(&UPGRADE[target], b"/chat");
        assert_eq!(&UPGRADE[version], b"HTTP/1.1");
        assert_eq!(h.headers.len(), 7);
        assert_eq!(h.header(UPGRADE, "host"), Some(&b"server.example.com"[..]));
        assert_eq!(
            h.header(UPGRADE, "Sec-WebSocket-Key"),
            Some(&b"dGhlIHNhbXBsZSBub25jZQ=="[..])
        );
        assert!(h.has_token(UPGRADE, "sec-websocket-protocol", "superchat"));
        assert!(h.is_websocket_upgrade(UPGRADE));
        assert_eq!(h.len, UPGRADE.len());
    }

    #[test]
    fn rfc6455_response_head_then_a_frame() {
        let h = parse(ACCEPT).unwrap().unwrap();
        assert!(matches!(h.start, StartLine::Response { status: 101, .. }));
        assert_eq!(
            &ACCEPT[h.len..],
            b"\x81\x05Hello",
            "the frame after the head is not part of it"
        );
        assert!(!h.is_websocket_upgrade(ACCEPT));
    }

    #[test]
    fn header_count_limit_at_the_edge() {
        let head = |n: usize| {
            let mut h = String::from("GET / HTTP/1.1\r\n");
            for i in 0..n {
                h.push_str(&format!("X-{i}: v\r\n"));
            }
            h.push_str("\r\n");
            h
        };
        assert_eq!(
            parse(head(MAX_HEADERS).as_bytes())
                .unwrap()
                .unwrap()
                .headers
                .len(),
            MAX_HEADERS
        );
        assert!(parse(head(MAX_HEADERS + 1).as_bytes()).is_err());
    }

    #[test]
    fn content_length_and_query_parameters() {
        let post = b"POST /socket.io/?EIO=4&transport=polling&t=ig6x&sid=WPm4 HTTP/1.1\r\nContent-Length: 19\r\n\r\n420[\"join\",\"lobby\"]";
        let h = parse(post).unwrap().unwrap();
        assert_eq!(h.content_length(post), Some(19));
        assert_eq!(&post[h.len..], br#"420["join","lobby"]"#);
        let StartLine::Request { target, .. } = h.start else {
            panic!("not a request")
        };
        let target = &post[target];
        assert_eq!(query_param(target, "transport"), Some(&b"polling"[..]));
        assert_eq!(query_param(target, "sid"), Some(&b"WPm4"[..]));
        assert_eq!(query_param(target, "EIO"), Some(&b"4"[..]));
        assert_eq!(query_param(target, "nope"), None);
        assert_eq!(query_param(b"/?a&b=", "a"), Some(&b""[..]));
        assert_eq!(query_param(b"/?a&b=", "b"), Some(&b""[..]));
        assert_eq!(query_param(b"/no-query", "a"), None);
        for bad in ["", "-1", "1e3", "12, 12", "99999999999999999999999"] {
            let head = format!("POST / HTTP/1.1\r\nContent-Length: {bad}\r\n\r\n");
            let h = parse(head.as_bytes()).unwrap().unwrap();
            assert_eq!(h.content_length(head.as_bytes()), None, "{bad:?}");
        }
        let none = b"GET / HTTP/1.1\r\n\r\n";
        assert_eq!(parse(none).unwrap().unwrap().content_length(none), None);
    }

    #[test]
    fn incomplete_and_malformed_heads() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: a\r\n").unwrap(), None);
        assert!(parse(b"GET /\r\n\r\n").is_err());
        assert!(parse(b"GET / HTTP/1.1\r\nno colon\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 2000 OK\r\n\r\n").is_err());
        assert!(looks_like_http(b"GET / HTTP/1.1"));
        assert!(!looks_like_http(b"GETX"));
    }
}
