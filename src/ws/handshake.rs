//! Lesson 08 — the opening handshake: an HTTP/1.1 request that is upgraded (RFC 6455 §4).
//!
//! A WebSocket starts life as an ordinary HTTP request:
//!
//! ```text
//! GET /chat HTTP/1.1
//! Host: server.example.com
//! Upgrade: websocket
//! Connection: Upgrade
//! Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
//! Sec-WebSocket-Version: 13
//! ```
//!
//! and a server that agrees answers `101 Switching Protocols` with
//! `Sec-WebSocket-Accept: base64(SHA-1(key + GUID))`. From the next byte on,
//! both sides speak frames. The key/accept pair proves the server understood
//! the WebSocket request (a plain HTTP server or cache would not compute it).
//!
//! Tokenising HTTP (request line, header names and values) is httparse's job;
//! the upgrade rules are here, checked one at a time so every refusal is its
//! own [`HandshakeError`] with the HTTP status the server answers with.

use base64::Engine as _;
use sha1::{Digest, Sha1};
use thiserror::Error;

/// The GUID every server appends to the client's key (§1.3, §4.2.2).
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only protocol version (§4.1: "The value of this header field MUST be 13").
pub const WEBSOCKET_VERSION: &str = "13";

/// Default limit on the request (or response) head, request line and headers
/// together: 8 KiB, like most web servers. A client that sends more is refused
/// with 431 instead of being buffered forever.
pub const DEFAULT_MAX_HEADER: usize = 8 * 1024;

/// Most header lines parsed in one request or response.
pub const MAX_HEADERS: usize = 64;

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` (§4.2.2 step 5.4):
/// base64 of the SHA-1 digest of the key (as sent, trimmed) followed by the GUID.
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.trim().as_bytes());
    sha.update(WEBSOCKET_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// A fresh random `Sec-WebSocket-Key`: 16 bytes from the OS generator, base64 (§4.1).
pub fn generate_key() -> String {
    let mut nonce = [0u8; 16];
    getrandom::getrandom(&mut nonce).expect("the OS random number generator failed");
    base64::engine::general_purpose::STANDARD.encode(nonce)
}

/// A handshake that broke a rule. On the server, [`HandshakeError::status`] is
/// the HTTP response it gets.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HandshakeError {
    /// The bytes are not an HTTP/1.x message.
    #[error("malformed HTTP: {0}")]
    MalformedHttp(String),
    /// The head (request line + headers) is over the size limit.
    #[error("HTTP head is over {max} bytes without ending in an empty line (raise it with --max-header)")]
    HeaderTooLarge {
        /// The limit.
        max: usize,
    },
    /// More header lines than [`MAX_HEADERS`].
    #[error("more than {MAX_HEADERS} header lines")]
    TooManyHeaders,
    /// §4.1: "The method of the request MUST be GET".
    #[error("method {0} cannot open a WebSocket: the handshake is a GET request (RFC 6455 §4.1)")]
    MethodNotGet(String),
    /// §4.1: "the HTTP version MUST be at least 1.1".
    #[error("HTTP/1.0 cannot be upgraded: the handshake needs HTTP/1.1 (RFC 6455 §4.1)")]
    HttpVersionTooOld,
    /// §4.1: the request "MUST contain a |Host| header field".
    #[error("missing Host header (RFC 6455 §4.1)")]
    MissingHost,
    /// §4.2.1: `Upgrade` must list the token `websocket` (case-insensitive).
    #[error("missing `Upgrade: websocket`: this is a WebSocket endpoint, plain HTTP is not served here (RFC 6455 §4.2.1)")]
    MissingUpgradeWebSocket,
    /// §4.2.1: `Connection` must list the token `Upgrade` (case-insensitive).
    #[error("missing `Connection: Upgrade` (RFC 6455 §4.2.1)")]
    MissingConnectionUpgrade,
    /// §4.4: any version other than 13 gets 426 and the versions we speak.
    #[error("Sec-WebSocket-Version {0:?} is not supported: only 13 is (RFC 6455 §4.4)")]
    UnsupportedVersion(String),
    /// §4.1: the request must carry a `Sec-WebSocket-Key`.
    #[error("missing Sec-WebSocket-Key (RFC 6455 §4.1)")]
    MissingSecWebSocketKey,
    /// §4.1: the key must be base64 of exactly 16 bytes.
    #[error("Sec-WebSocket-Key {0:?} is not base64 of 16 bytes (RFC 6455 §4.1)")]
    InvalidSecWebSocketKey(String),
    /// §4.2.2: the server may refuse an Origin it does not accept (403).
    #[error("origin {0:?} is not allowed here (RFC 6455 §10.2)")]
    OriginNotAllowed(String),
    /// The client did not send its request in time (slow-loris defence).
    #[error("handshake not complete after {0:?}: the connection was closed (raise it with --handshake-timeout)")]
    Timeout(std::time::Duration),
    /// The peer closed the connection before the handshake ended.
    #[error("the peer closed the connection during the handshake")]
    ConnectionClosed,
    /// Client side: the server did not answer 101.
    #[error("the server answered {code} {reason} instead of 101 Switching Protocols")]
    NotSwitchingProtocols {
        /// The status code.
        code: u16,
        /// The reason phrase (and body, if any, after it).
        reason: String,
    },
    /// Client side: §4.1 "If the response lacks a |Sec-WebSocket-Accept| ... or the value is not ... fail".
    #[error(
        "Sec-WebSocket-Accept is {got:?} but the key we sent needs {expected:?} (RFC 6455 §4.1)"
    )]
    AcceptMismatch {
        /// What the server sent (empty if nothing).
        got: String,
        /// What it should have sent.
        expected: String,
    },
    /// Client side: the server chose a subprotocol we did not offer (§4.1).
    #[error("the server chose subprotocol {0:?}, which we did not offer (RFC 6455 §4.1)")]
    UnofferedProtocol(String),
}

impl HandshakeError {
    /// The HTTP status a server answers this refusal with.
    pub fn status(&self) -> (u16, &'static str) {
        match self {
            HandshakeError::MethodNotGet(_) => (405, "Method Not Allowed"),
            HandshakeError::HttpVersionTooOld => (505, "HTTP Version Not Supported"),
            HandshakeError::HeaderTooLarge { .. } | HandshakeError::TooManyHeaders => {
                (431, "Request Header Fields Too Large")
            }
            HandshakeError::MissingUpgradeWebSocket | HandshakeError::UnsupportedVersion(_) => {
                (426, "Upgrade Required")
            }
            HandshakeError::OriginNotAllowed(_) => (403, "Forbidden"),
            HandshakeError::Timeout(_) => (408, "Request Timeout"),
            _ => (400, "Bad Request"),
        }
    }

    /// The full HTTP response refusing the upgrade: status, the headers the
    /// RFC asks for (426 says which version and protocol we speak), and the
    /// reason as a plain-text body.
    pub fn response(&self) -> Vec<u8> {
        let (code, phrase) = self.status();
        let body = format!("{self}\n");
        let mut extra = String::new();
        match self {
            HandshakeError::UnsupportedVersion(_) => {
                extra.push_str("Sec-WebSocket-Version: 13\r\n");
            }
            HandshakeError::MissingUpgradeWebSocket => {
                extra.push_str("Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n");
            }
            HandshakeError::MethodNotGet(_) => extra.push_str("Allow: GET\r\n"),
            _ => {}
        }
        format!(
            "HTTP/1.1 {code} {phrase}\r\n{extra}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }
}

/// What the server needs to know about an accepted upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest {
    /// The request target, e.g. `/chat?room=a` (any path is accepted).
    pub path: String,
    /// The Host header.
    pub host: String,
    /// The client's Sec-WebSocket-Key, as sent.
    pub key: String,
    /// The Origin header, if any (browsers always send it).
    pub origin: Option<String>,
    /// Subprotocols the client offered, in its order of preference.
    pub protocols: Vec<String>,
    /// Every header line, names as sent, for transports built on top.
    pub headers: Vec<(String, String)>,
}

/// What a server accepts, besides the RFC's rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// If set, only these Origin values may connect (requests without Origin,
    /// i.e. non-browser clients, are still allowed).
    pub allowed_origins: Option<Vec<String>>,
    /// Subprotocols we speak, in our order of preference.
    pub protocols: Vec<String>,
}

impl Policy {
    /// The subprotocol to answer with: our first that the client offered.
    pub fn choose_protocol(&self, offered: &[String]) -> Option<String> {
        self.protocols
            .iter()
            .find(|ours| offered.iter().any(|o| o == *ours))
            .cloned()
    }
}

/// All values of header `name` (case-insensitive), as text.
fn header_values<'a>(
    headers: &'a [httparse::Header<'a>],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| std::str::from_utf8(h.value).unwrap_or("").trim())
}

/// Does a header value such as `keep-alive, Upgrade` list `token`?
///
/// HTTP headers like `Connection` and `Upgrade` hold comma-separated lists of
/// tokens, compared without regard to case (RFC 9110 §5.6.1, §7.6.1): a
/// browser may send `Connection: keep-alive, Upgrade`.
pub fn token_list_contains(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Does any `name` header list `token` among its comma-separated values?
fn has_token(headers: &[httparse::Header<'_>], name: &str, token: &str) -> bool {
    header_values(headers, name).any(|v| token_list_contains(v, token))
}

fn single(headers: &[httparse::Header<'_>], name: &str) -> Option<String> {
    header_values(headers, name).next().map(str::to_string)
}

/// Maps httparse's tokenising failures to ours, `Ok(None)` meaning "incomplete".
fn head_len(
    status: httparse::Result<usize>,
    buf_len: usize,
    max: usize,
) -> Result<Option<usize>, HandshakeError> {
    match status {
        Ok(httparse::Status::Complete(n)) if n > max => Err(HandshakeError::HeaderTooLarge { max }),
        Ok(httparse::Status::Complete(n)) => Ok(Some(n)),
        Ok(httparse::Status::Partial) if buf_len >= max => {
            Err(HandshakeError::HeaderTooLarge { max })
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(HandshakeError::TooManyHeaders),
        Err(httparse::Error::Version) => Err(HandshakeError::HttpVersionTooOld),
        Err(e) => Err(HandshakeError::MalformedHttp(e.to_string())),
    }
}

/// Server side: reads an upgrade request from the start of `buf` and applies
/// the rules of §4.2.1 and `policy`.
///
/// `Ok(None)`: the head has not fully arrived (and is under `max_header`
/// bytes). `Ok(Some((request, n)))`: the request took `n` bytes; anything after
/// them is already WebSocket frames.
pub fn parse_request(
    buf: &[u8],
    max_header: usize,
    policy: &Policy,
) -> Result<Option<(UpgradeRequest, usize)>, HandshakeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let status = req.parse(buf);
    let Some(n) = head_len(status, buf.len(), max_header)? else {
        return Ok(None);
    };
    let method = req.method.unwrap_or("");
    if method != "GET" {
        return Err(HandshakeError::MethodNotGet(method.to_string()));
    }
    if req.version != Some(1) {
        return Err(HandshakeError::HttpVersionTooOld);
    }
    let headers = req.headers;
    let host = single(headers, "Host")
        .filter(|h| !h.is_empty())
        .ok_or(HandshakeError::MissingHost)?;
    if !has_token(headers, "Upgrade", "websocket") {
        return Err(HandshakeError::MissingUpgradeWebSocket);
    }
    if !has_token(headers, "Connection", "upgrade") {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    match single(headers, "Sec-WebSocket-Version") {
        Some(v) if v == WEBSOCKET_VERSION => {}
        other => {
            return Err(HandshakeError::UnsupportedVersion(
                other.unwrap_or_default(),
            ))
        }
    }
    let key = single(headers, "Sec-WebSocket-Key").ok_or(HandshakeError::MissingSecWebSocketKey)?;
    match base64::engine::general_purpose::STANDARD.decode(key.as_bytes()) {
        Ok(nonce) if nonce.len() == 16 => {}
        _ => return Err(HandshakeError::InvalidSecWebSocketKey(key)),
    }
    let origin = single(headers, "Origin");
    if let (Some(allowed), Some(o)) = (&policy.allowed_origins, &origin) {
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(o)) {
            return Err(HandshakeError::OriginNotAllowed(o.clone()));
        }
    }
    let protocols = header_values(headers, "Sec-WebSocket-Protocol")
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let all = headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    Ok(Some((
        UpgradeRequest {
            path: req.path.unwrap_or("/").to_string(),
            host,
            key,
            origin,
            protocols,
            headers: all,
        },
        n,
    )))
}

/// Server side: the `101 Switching Protocols` response for `request` (§4.2.2).
pub fn accept_response(request: &UpgradeRequest, protocol: Option<&str>) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
        accept_key(&request.key)
    );
    if let Some(p) = protocol {
        r.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// Client side: the upgrade request (§4.1) for `path` on `host` with `key`.
pub fn client_request(host: &str, path: &str, key: &str, protocols: &[String]) -> Vec<u8> {
    let mut r = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    );
    if !protocols.is_empty() {
        r.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\r\n",
            protocols.join(", ")
        ));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// What the server agreed to, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeResponse {
    /// The subprotocol the server chose, if any.
    pub protocol: Option<String>,
    /// The response head as it came on the wire (status line and headers).
    pub head: String,
}

/// Client side: reads the server's answer from the start of `buf` and checks
/// it (§4.1): status 101, `Upgrade: websocket`, `Connection: Upgrade`, the right
/// accept value, and a subprotocol only from those we offered.
pub fn parse_response(
    buf: &[u8],
    key: &str,
    offered: &[String],
    max_header: usize,
) -> Result<Option<(UpgradeResponse, usize)>, HandshakeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut headers);
    let status = res.parse(buf);
    let Some(n) = head_len(status, buf.len(), max_header)? else {
        return Ok(None);
    };
    let code = res.code.unwrap_or(0);
    if code != 101 {
        let body = String::from_utf8_lossy(&buf[n..]).trim().to_string();
        let mut reason = res.reason.unwrap_or("").to_string();
        if !body.is_empty() {
            reason = format!("{reason}: {body}");
        }
        return Err(HandshakeError::NotSwitchingProtocols { code, reason });
    }
    let headers = res.headers;
    if !has_token(headers, "Upgrade", "websocket") {
        return Err(HandshakeError::MissingUpgradeWebSocket);
    }
    if !has_token(headers, "Connection", "upgrade") {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    let expected = accept_key(key);
    let got = single(headers, "Sec-WebSocket-Accept").unwrap_or_default();
    if got != expected {
        return Err(HandshakeError::AcceptMismatch { got, expected });
    }
    let protocol = single(headers, "Sec-WebSocket-Protocol");
    if let Some(p) = &protocol {
        if !offered.contains(p) {
            return Err(HandshakeError::UnofferedProtocol(p.clone()));
        }
    }
    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
    Ok(Some((UpgradeResponse { protocol, head }, n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const RFC_REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

    #[test]
    fn rfc_1_3_accept_vector() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn the_rfc_request_is_accepted() {
        let (req, n) = parse_request(
            RFC_REQUEST.as_bytes(),
            DEFAULT_MAX_HEADER,
            &Policy::default(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(n, RFC_REQUEST.len());
        assert_eq!(req.path, "/chat");
        assert_eq!(req.host, "server.example.com");
        assert_eq!(
            req.protocols,
            vec!["chat".to_string(), "superchat".to_string()]
        );
        let policy = Policy {
            protocols: vec!["superchat".into()],
            ..Policy::default()
        };
        let chosen = policy.choose_protocol(&req.protocols);
        let resp = String::from_utf8(accept_response(&req, chosen.as_deref())).unwrap();
        assert_eq!(
            resp,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: superchat\r\n\r\n"
        );
    }

    #[test]
    fn every_cut_of_the_request_waits() {
        for cut in 0..RFC_REQUEST.len() {
            assert_eq!(
                parse_request(
                    &RFC_REQUEST.as_bytes()[..cut],
                    DEFAULT_MAX_HEADER,
                    &Policy::default()
                ),
                Ok(None),
                "cut {cut}"
            );
        }
    }

    fn refusal(req: &str) -> HandshakeError {
        parse_request(req.as_bytes(), DEFAULT_MAX_HEADER, &Policy::default()).unwrap_err()
    }

    #[test]
    fn tokens_are_case_insensitive_and_in_lists() {
        let req = RFC_REQUEST
            .replace("Upgrade: websocket", "upgrade: WebSocket")
            .replace("Connection: Upgrade", "connection: keep-alive, UPGRADE");
        assert!(
            parse_request(req.as_bytes(), DEFAULT_MAX_HEADER, &Policy::default())
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn each_rule_refuses_with_its_status() {
        let cases: Vec<(String, u16)> = vec![
            (RFC_REQUEST.replace("GET", "POST"), 405),
            (RFC_REQUEST.replace("HTTP/1.1", "HTTP/1.0"), 505),
            (RFC_REQUEST.replace("Host: server.example.com\r\n", ""), 400),
            (RFC_REQUEST.replace("Upgrade: websocket\r\n", ""), 426),
            (
                RFC_REQUEST.replace("Connection: Upgrade", "Connection: keep-alive"),
                400,
            ),
            (RFC_REQUEST.replace("Version: 13", "Version: 8"), 426),
            (
                RFC_REQUEST.replace("Sec-WebSocket-Version: 13\r\n", ""),
                426,
            ),
            (
                RFC_REQUEST.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
                400,
            ),
            (
                RFC_REQUEST.replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZQ=="),
                400,
            ),
            (
                RFC_REQUEST.replace("dGhlIHNhbXBsZSBub25jZQ==", "not base64!"),
                400,
            ),
            ("GARBAGE\x01\r\n\r\n".to_string(), 400),
        ];
        for (req, status) in cases {
            let e = refusal(&req);
            assert_eq!(e.status().0, status, "{e} for {req:?}");
            let resp = String::from_utf8(e.response()).unwrap();
            assert!(resp.starts_with(&format!("HTTP/1.1 {status} ")), "{resp}");
        }
        assert!(String::from_utf8(
            refusal(&RFC_REQUEST.replace("Version: 13", "Version: 8")).response()
        )
        .unwrap()
        .contains("\r\nSec-WebSocket-Version: 13\r\n"));
    }

    #[test]
    fn header_limit_at_the_edge() {
        let max = RFC_REQUEST.len();
        assert!(
            parse_request(RFC_REQUEST.as_bytes(), max, &Policy::default())
                .unwrap()
                .is_some()
        );
        assert_eq!(
            parse_request(RFC_REQUEST.as_bytes(), max - 1, &Policy::default()),
            Err(HandshakeError::HeaderTooLarge { max: max - 1 })
        );
        // A head that never ends is refused once it reaches the limit.
        let endless = format!("GET / HTTP/1.1\r\nX-Pad: {}", "a".repeat(100));
        assert_eq!(
            parse_request(endless.as_bytes(), 64, &Policy::default()),
            Err(HandshakeError::HeaderTooLarge { max: 64 })
        );
    }

    #[test]
    fn origin_allow_list() {
        let policy = Policy {
            allowed_origins: Some(vec!["http://example.com".into()]),
            ..Policy::default()
        };
        assert!(
            parse_request(RFC_REQUEST.as_bytes(), DEFAULT_MAX_HEADER, &policy)
                .unwrap()
                .is_some()
        );
        let evil = RFC_REQUEST.replace("http://example.com", "http://evil.example");
        let e = parse_request(evil.as_bytes(), DEFAULT_MAX_HEADER, &policy).unwrap_err();
        assert_eq!(
            e,
            HandshakeError::OriginNotAllowed("http://evil.example".into())
        );
        assert_eq!(e.status().0, 403);
    }

    #[test]
    fn client_checks_the_response() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x01\x00";
        let (resp, n) = parse_response(good.as_bytes(), key, &[], DEFAULT_MAX_HEADER)
            .unwrap()
            .unwrap();
        assert_eq!((resp.protocol, n), (None, good.len() - 2));
        let wrong = good.replace(
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        );
        assert!(matches!(
            parse_response(wrong.as_bytes(), key, &[], 8192),
            Err(HandshakeError::AcceptMismatch { .. })
        ));
        let refused = "HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno\n";
        assert!(matches!(
            parse_response(refused.as_bytes(), key, &[], 8192),
            Err(HandshakeError::NotSwitchingProtocols { code: 403, .. })
        ));
        let proto = good.replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: chat\r\n\r\n");
        assert_eq!(
            parse_response(proto.as_bytes(), key, &[], 8192),
            Err(HandshakeError::UnofferedProtocol("chat".into()))
        );
    }

    #[test]
    fn generated_keys_are_16_random_bytes() {
        let (a, b) = (generate_key(), generate_key());
        assert_ne!(a, b);
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(a)
                .unwrap()
                .len(),
            16
        );
    }
}
