//! Just enough HTTP/1.1 for the page, the WebSocket upgrade and Engine.IO's
//! long-polling (RFC 9112): read a request head and a `Content-Length` body
//! with bounds and deadlines, and write a response. One connection may carry
//! many requests one after another ("persistent connections", RFC 9112 §9.3):
//! a polling client sends a GET, then another, on the same socket.

use bytes::BytesMut;
use std::io::Write as _;
use std::ops::Range;
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::ws::handshake::MAX_HEADERS;

/// A request head, parsed (RFC 9112 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query: `/socket.io/`.
    pub path: String,
    /// The query, without `?`: `EIO=4&transport=polling`.
    pub query: String,
    /// HTTP/1.1 (persistent by default) rather than HTTP/1.0.
    pub http11: bool,
    /// The header fields' names and trimmed values, one after another in
    /// one string: one allocation for the whole head rather than two per
    /// field (read them with [`Request::headers`] and [`Request::header`]).
    fields: String,
    /// Where each field's name and value lie in `fields`, in order.
    spans: Vec<(Range<usize>, Range<usize>)>,
}

/// Why a request could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HttpError {
    /// Not a well-formed HTTP/1.1 request head.
    #[error("malformed HTTP request")]
    Malformed,
    /// The head grew past the limit before its empty line.
    #[error("request head larger than {0} bytes")]
    HeadTooLarge(usize),
    /// `Content-Length` is not one decimal number (RFC 9112 §6.3: refuse, don't guess).
    #[error("Content-Length is not a number")]
    BadLength,
    /// Chunked bodies are not accepted here: clients send `Content-Length`.
    #[error("chunked request bodies are not accepted; send Content-Length")]
    Chunked,
    /// The body is larger than this endpoint takes.
    #[error("request body of {got} bytes is larger than the limit of {max}")]
    BodyTooLarge {
        /// What the request announced.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// The peer was too slow or went away.
    #[error("the client went away or stalled")]
    Gone,
}

impl Request {
    /// Parses a complete head (ending in the empty line).
    pub fn parse(head: &[u8]) -> Result<Request, HttpError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return Err(HttpError::Malformed),
        }
        let target = req.path.unwrap_or("/");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        // Each name and value is appended to one string and remembered by
        // its position. A value that is not UTF-8 is kept with U+FFFD in
        // place of the bad bytes (`from_utf8_lossy` borrows when it is UTF-8).
        let mut fields = String::with_capacity(head.len());
        let mut spans = Vec::with_capacity(req.headers.len());
        let mut append = |text: &str| {
            let start = fields.len();
            fields.push_str(text);
            start..fields.len()
        };
        for h in req.headers.iter() {
            let name = append(h.name);
            let value = append(String::from_utf8_lossy(h.value).trim());
            spans.push((name, value));
        }
        Ok(Request {
            method: req.method.unwrap_or("").to_string(),
            path: path.to_string(),
            query: query.to_string(),
            http11: req.version == Some(1),
            fields,
            spans,
        })
    }

    /// The header fields, in order, as (name, trimmed value).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.spans
            .iter()
            .map(|(n, v)| (&self.fields[n.clone()], &self.fields[v.clone()]))
    }

    /// A header's value (names are case-insensitive, RFC 9110 §5.1).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// A query parameter's value (`sid` in `?EIO=4&sid=abc`), as sent.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    /// Does the client want the connection kept for another request?
    /// (RFC 9112 §9.3: HTTP/1.1 keeps it unless `Connection: close`.)
    pub fn keep_alive(&self) -> bool {
        let conn = self.header("Connection").unwrap_or("");
        let has = |t: &str| conn.split(',').any(|x| x.trim().eq_ignore_ascii_case(t));
        if self.http11 {
            !has("close")
        } else {
            has("keep-alive")
        }
    }

    /// The body's length: `Content-Length`, or 0 without one; chunked is refused.
    pub fn body_len(&self) -> Result<usize, HttpError> {
        if self.header("Transfer-Encoding").is_some() {
            return Err(HttpError::Chunked);
        }
        match self.header("Content-Length") {
            None => Ok(0),
            Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && v.len() <= 12 => {
                v.parse().map_err(|_| HttpError::BadLength)
            }
            Some(_) => Err(HttpError::BadLength),
        }
    }
}

/// Where a head ends in `buf` (just past the empty line), if it does.
pub fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Reads until `buf` holds a complete head, at most `max` bytes of it,
/// within `wait`. Returns where the head ends; `Ok(None)` when the client
/// closed cleanly before starting one.
pub async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    max: usize,
    wait: Duration,
) -> Result<Option<usize>, HttpError> {
    let read = async {
        loop {
            if let Some(end) = find_head_end(buf) {
                return Ok(Some(end));
            }
            if buf.len() >= max {
                return Err(HttpError::HeadTooLarge(max));
            }
            let room = (max - buf.len()) as u64;
            match (&mut *stream).take(room).read_buf(buf).await {
                Ok(0) if buf.is_empty() => return Ok(None),
                Ok(0) | Err(_) => return Err(HttpError::Gone),
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(wait, read)
        .await
        .unwrap_or(Err(HttpError::Gone))
}

/// Reads until `buf` holds `len` body bytes after the head, within `wait`.
pub async fn read_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    len: usize,
    wait: Duration,
) -> Result<(), HttpError> {
    let read = async {
        while buf.len() < len {
            let room = (len - buf.len()) as u64;
            match (&mut *stream).take(room).read_buf(buf).await {
                Ok(0) | Err(_) => return Err(HttpError::Gone),
                Ok(_) => {}
            }
        }
        Ok(())
    };
    tokio::time::timeout(wait, read)
        .await
        .unwrap_or(Err(HttpError::Gone))
}

/// An HTTP response about to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code: 200, 400, …
    pub status: u16,
    /// Extra header fields (Content-Type, CORS, …).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with this status, content type and body.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// Adds a header field.
    pub fn with(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The bytes on the wire. `head_only` answers a HEAD request (no body);
    /// `keep_alive` says whether the connection stays open after it.
    ///
    /// Everything goes into one buffer sized up front: the status line, the
    /// extra fields, the fixed fields, then the body (one write, one
    /// allocation — a polling server answers many small requests).
    pub fn to_bytes(&self, head_only: bool, keep_alive: bool) -> Vec<u8> {
        let fields: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 4)
            .sum();
        let body = if head_only { 0 } else { self.body.len() };
        let mut out = Vec::with_capacity(HEAD_ROOM + fields + body);
        // Writing to a Vec cannot fail.
        let _ = write!(out, "HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (n, v) in &self.headers {
            for part in [n.as_bytes(), b": ", v.as_bytes(), b"\r\n"] {
                out.extend_from_slice(part);
            }
        }
        let _ = write!(out, "Content-Length: {}\r\n", self.body.len());
        out.extend_from_slice(FIXED_FIELDS);
        out.extend_from_slice(if keep_alive {
            b"Connection: keep-alive\r\n\r\n"
        } else {
            b"Connection: close\r\n\r\n"
        });
        if !head_only {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

/// The fields every response carries, whatever it is.
const FIXED_FIELDS: &[u8] = b"Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";

/// Room for a response head's own lines (status, length, fixed fields,
/// connection), besides its extra fields: enough that the buffer never grows.
const HEAD_ROOM: usize = 160;

/// The reason phrase for the status codes used here (RFC 9110 §15).
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_their_fields() {
        let r = Request::parse(
            b"POST /socket.io/?EIO=4&transport=polling&sid=ab HTTP/1.1\r\nHost: h\r\ncontent-length: 12\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("POST", "/socket.io/")
        );
        assert_eq!(r.param("sid"), Some("ab"));
        assert_eq!(r.param("transport"), Some("polling"));
        assert_eq!(r.param("nope"), None);
        assert_eq!(r.body_len(), Ok(12));
        assert!(r.keep_alive());
        let close = Request::parse(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").unwrap();
        assert!(!close.keep_alive());
        let old = Request::parse(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(!old.keep_alive());
        for bad in ["-1", "1e3", "", "12, 12", "9999999999999"] {
            let head = format!("POST / HTTP/1.1\r\nContent-Length: {bad}\r\n\r\n");
            assert_eq!(
                Request::parse(head.as_bytes()).unwrap().body_len(),
                Err(HttpError::BadLength),
                "{bad:?}"
            );
        }
        // Fields in order, values trimmed, bytes that are not UTF-8 replaced.
        let odd = Request::parse(b"GET / HTTP/1.1\r\nX-A:  a b \r\nX-B: \xffz\r\n\r\n").unwrap();
        let fields: Vec<_> = odd.headers().collect();
        assert_eq!(fields, [("X-A", "a b"), ("X-B", "\u{fffd}z")]);
        assert_eq!(odd.header("x-b"), Some("\u{fffd}z"));
        let chunked =
            Request::parse(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
        assert_eq!(chunked.body_len(), Err(HttpError::Chunked));
        assert_eq!(
            Request::parse(b"\x00\x01\r\n\r\n"),
            Err(HttpError::Malformed)
        );
    }

    #[test]
    fn responses_on_the_wire() {
        let r = Response::new(200, "text/plain; charset=UTF-8", "ok").with("X-A", "1");
        let wire = String::from_utf8(r.to_bytes(false, true)).unwrap();
        assert!(wire.starts_with(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nX-A: 1\r\n"
        ));
        assert!(
            wire.contains("Content-Length: 2\r\n") && wire.contains("Connection: keep-alive\r\n")
        );
        assert!(wire.ends_with("\r\n\r\nok"));
        let head = String::from_utf8(r.to_bytes(true, false)).unwrap();
        assert!(head.ends_with("Connection: close\r\n\r\n"));
    }

    #[tokio::test]
    async fn heads_and_bodies_are_bounded() {
        let (mut a, mut b) = tokio::io::duplex(1 << 16);
        use tokio::io::AsyncWriteExt;
        a.write_all(b"GET / HTTP/1.1\r\n\r\nPOST").await.unwrap();
        let mut buf = BytesMut::new();
        let end = read_head(&mut b, &mut buf, 1024, Duration::from_secs(1)).await;
        assert_eq!(end, Ok(Some(18)));
        // A head that never ends is cut at the limit.
        a.write_all(&[b'x'; 2000]).await.unwrap();
        let mut buf = BytesMut::new();
        let r = read_head(&mut b, &mut buf, 1024, Duration::from_secs(1)).await;
        assert_eq!(r, Err(HttpError::HeadTooLarge(1024)));
        // A body that stalls times out.
        let mut buf = BytesMut::new();
        let (_c, mut d) = tokio::io::duplex(64);
        let r = read_body(&mut d, &mut buf, 10, Duration::from_millis(50)).await;
        assert_eq!(r, Err(HttpError::Gone));
    }
}
