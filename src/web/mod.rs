//! Lesson 10 — chat in the browser: the page, and the HTTP server that hands it out.
//!
//! `netlab serve --http ADDR` answers plain HTTP/1.1 `GET /` with the page
//! (hand-written HTML, CSS and JavaScript, compiled into the binary) and
//! upgrades `GET /ws` to a WebSocket carrying the chat hub's JSON events
//! ([`crate::transport::ws`]), one event per text message.
//!
//! Browsers let any page open a WebSocket to any host, and send along the
//! cookies of that host: the server must check `Origin` itself
//! (RFC 6455 §10.2, "cross-site WebSocket hijacking"). [`origin_allowed`]
//! accepts a request without `Origin` (not a browser), a page served from the
//! address the connection actually reached, and the origins given with
//! `--allow-origin`; anything else gets `403 Forbidden` before the upgrade.
//! The request's own `Host` header is never trusted for this: under DNS
//! rebinding, `evil.example` resolves to 127.0.0.1, and the attacker's page
//! sends `Host: evil.example:PORT` with `Origin: http://evil.example:PORT` —
//! the two agree, yet the page is not ours.

pub mod socketio;

use crate::guard::{accept_with_backoff, AcceptFailures, AddressSlot};
use crate::transport::{ChatServer, ServerNote};
use crate::ws::connection::{Timeouts, WebSocket};
use crate::ws::frame::Role;
use crate::ws::handshake::{
    accept_response, parse_request, token_list_contains, HandshakeError, Policy,
    DEFAULT_MAX_HEADER, MAX_HEADERS,
};
use crate::ws::DEFAULT_HANDSHAKE_TIMEOUT;
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The page at `/`.
pub const INDEX_HTML: &str = include_str!("index.html");
/// Its style sheet, at `/style.css`.
pub const STYLE_CSS: &str = include_str!("style.css");
/// Its script, at `/app.js`.
pub const APP_JS: &str = include_str!("app.js");

/// The path that upgrades to the chat WebSocket.
pub const WS_PATH: &str = "/ws";

/// The path Socket.IO clients use (Engine.IO v4 over WebSocket).
pub const SOCKETIO_PATH: &str = "/socket.io/";

/// What the HTTP side enforces.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Origins (e.g. `http://localhost:8080`) allowed besides this host's own; `*` allows any.
    pub allowed_origins: Vec<String>,
    /// Largest request head in bytes.
    pub max_header: usize,
    /// Time a client has to send its request head (slow-loris defence).
    pub handshake_timeout: Duration,
    /// The Socket.IO heartbeat on `/socket.io/`.
    pub heartbeat: socketio::Heartbeat,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            allowed_origins: Vec::new(),
            max_header: DEFAULT_MAX_HEADER,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            heartbeat: socketio::Heartbeat::default(),
        }
    }
}

/// May a browser page from `origin` open a WebSocket on a connection that
/// reached this server at `local` (the socket's own address, not `Host`)?
///
/// No `Origin`: not a browser (a terminal client), allowed. A page served from
/// that very address — `http://IP:PORT`, and `http://localhost:PORT` when the
/// address is loopback — allowed. Otherwise only if listed (or `*` is).
/// Origins are compared without regard to case (RFC 6454 §6.1 serialises
/// scheme and host in lower case).
pub fn origin_allowed(origin: Option<&str>, local: SocketAddr, allowed: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    if allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let own = format!("http://{local}");
    let loopback = format!("http://localhost:{}", local.port());
    origin.eq_ignore_ascii_case(&own)
        || (local.ip().is_loopback() && origin.eq_ignore_ascii_case(&loopback))
}

/// What a request head asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// A WebSocket upgrade on `/ws`.
    Upgrade,
    /// A WebSocket upgrade on `/socket.io/?EIO=4&transport=websocket`.
    SocketIo,
    /// A file of the page.
    File(&'static str, &'static str),
    /// Anything else: this status, and why.
    Refuse(u16, &'static str, String),
}

/// Decides what to do with a complete request head (pure: tested below).
fn route(head: &[u8], config: &WebConfig, local: SocketAddr) -> Route {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    if req.parse(head).is_err() {
        return Route::Refuse(400, "Bad Request", "malformed HTTP request".into());
    }
    let method = req.method.unwrap_or("");
    let target = req.path.unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let has = |pair: &str| query.split('&').any(|p| p == pair);
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    let upgrade = header("Upgrade").is_some_and(|v| token_list_contains(&v, "websocket"));
    if method != "GET" && method != "HEAD" {
        return Route::Refuse(
            405,
            "Method Not Allowed",
            format!("{method} is not served here; use GET"),
        );
    }
    if upgrade {
        if path != WS_PATH && path != SOCKETIO_PATH {
            return Route::Refuse(404, "Not Found", format!("no WebSocket endpoint at {path}; the chat is at {WS_PATH} (native) and {SOCKETIO_PATH} (Socket.IO)"));
        }
        if path == SOCKETIO_PATH && !has("EIO=4") {
            return Route::Refuse(
                400,
                "Bad Request",
                "{\"code\":5,\"message\":\"Unsupported protocol version: only EIO=4 is served\"}"
                    .into(),
            );
        }
        let origin = header("Origin");
        if !origin_allowed(origin.as_deref(), local, &config.allowed_origins) {
            let e = HandshakeError::OriginNotAllowed(origin.unwrap_or_default());
            return Route::Refuse(
                403,
                "Forbidden",
                format!("{e}; allow it with --allow-origin"),
            );
        }
        return if path == SOCKETIO_PATH {
            Route::SocketIo
        } else {
            Route::Upgrade
        };
    }
    match path {
        "/" | "/index.html" => Route::File("text/html; charset=utf-8", INDEX_HTML),
        "/style.css" => Route::File("text/css; charset=utf-8", STYLE_CSS),
        "/app.js" => Route::File("text/javascript; charset=utf-8", APP_JS),
        SOCKETIO_PATH => Route::Refuse(400, "Bad Request", "{\"code\":0,\"message\":\"Transport unknown: only transport=websocket is served here (no HTTP long-polling)\"}".into()),
        WS_PATH => Route::Refuse(
            426,
            "Upgrade Required",
            "this is the chat WebSocket: connect with Upgrade: websocket".into(),
        ),
        _ => Route::Refuse(
            404,
            "Not Found",
            format!("nothing at {path}; the page is at /"),
        ),
    }
}

/// An HTTP/1.1 response that closes the connection after it.
fn response(code: u16, phrase: &str, content_type: &str, body: &str, head_only: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {code} {phrase}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

/// Serves the page and the chat WebSocket on `listener` until dropped.
pub async fn serve(
    listener: TcpListener,
    server: Arc<ChatServer>,
    config: WebConfig,
) -> std::io::Result<()> {
    let config = Arc::new(config);
    let mut failures = AcceptFailures::new();
    loop {
        let (stream, peer) = accept_with_backoff(&listener, &mut failures, |r| {
            server.note(&ServerNote::Accept(r))
        })
        .await;
        let _ = stream.set_nodelay(true);
        let place = match server.admit(peer.ip()) {
            Ok(place) => place,
            Err(error) => {
                server.note(&ServerNote::AddressFull {
                    peer: format!("http {peer}"),
                    error,
                });
                tokio::spawn(crate::ws::server::refuse_busy(stream, error.to_string()));
                continue;
            }
        };
        let (server, config) = (server.clone(), config.clone());
        tokio::spawn(async move {
            handle(stream, &format!("ws {peer}"), server, &config).await;
            drop::<AddressSlot>(place);
        });
    }
}

/// Reads one request head and answers it: a file, a refusal, or the upgrade.
async fn handle(mut stream: TcpStream, peer: &str, server: Arc<ChatServer>, config: &WebConfig) {
    let mut buf = BytesMut::with_capacity(1024);
    let read_head = async {
        loop {
            if let Some(end) = find_head_end(&buf) {
                return Some(end);
            }
            if buf.len() >= config.max_header {
                return None;
            }
            let room = config.max_header - buf.len();
            let mut limited = (&mut stream).take(room as u64);
            match limited.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    };
    let Ok(Some(end)) = tokio::time::timeout(config.handshake_timeout, read_head).await else {
        let e = HandshakeError::HeaderTooLarge {
            max: config.max_header,
        };
        if buf.len() >= config.max_header {
            let _ = stream.write_all(&e.response()).await;
        }
        return;
    };
    let head_only = buf.starts_with(b"HEAD ");
    let Ok(local) = stream.local_addr() else {
        return;
    };
    match route(&buf[..end], config, local) {
        Route::File(ty, body) => {
            let _ = stream
                .write_all(&response(200, "OK", ty, body, head_only))
                .await;
        }
        Route::Refuse(code, phrase, why) => {
            let body = format!("{why}\n");
            let _ = stream
                .write_all(&response(
                    code,
                    phrase,
                    "text/plain; charset=utf-8",
                    &body,
                    head_only,
                ))
                .await;
        }
        route @ (Route::Upgrade | Route::SocketIo) => {
            let socketio = route == Route::SocketIo;
            // The RFC's own rules (§4.2.1): method, version, key, ... The
            // origin was checked by `route`, so the policy allows any.
            match parse_request(&buf, config.max_header, &Policy::default()) {
                Ok(Some((request, used))) => {
                    if stream
                        .write_all(&accept_response(&request, None))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    let rest = buf.split_off(used);
                    let max = server.config().max_frame;
                    let limits = crate::ws::Limits {
                        max_frame: max,
                        max_message: max,
                    };
                    let mut ws = WebSocket::from_upgraded(stream, Role::Server, limits, rest);
                    // The hub's guards: a message whole within --frame-timeout,
                    // its bytes charged to --max-memory. No idle timeout: the
                    // heartbeat tells a quiet client from a dead one.
                    ws.set_timeouts(Timeouts {
                        frame: server.config().frame_timeout,
                        idle: None,
                    });
                    ws.set_budget(server.budget().reservation());
                    if socketio {
                        crate::transport::socketio::connection(ws, peer, server, config.heartbeat)
                            .await;
                    } else {
                        crate::transport::ws::connection(ws, peer, server).await;
                    }
                    return;
                }
                Ok(None) => {}
                Err(e) => {
                    let _ = stream.write_all(&e.response()).await;
                }
            }
        }
    }
    let _ = stream.shutdown().await;
}

/// Where the request head ends (just past the empty line), if it has.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn upgrade(path: &str, host: &str, origin: Option<&str>) -> Vec<u8> {
        let origin = origin
            .map(|o| format!("Origin: {o}\r\n"))
            .unwrap_or_default();
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{origin}\r\n").into_bytes()
    }

    #[test]
    fn origins() {
        let none: Vec<String> = vec![];
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(origin_allowed(None, local, &none));
        assert!(origin_allowed(Some("http://127.0.0.1:8080"), local, &none));
        assert!(origin_allowed(Some("HTTP://LOCALHOST:8080"), local, &none));
        // Same address, another port: another origin (RFC 6454 §5).
        assert!(!origin_allowed(Some("http://127.0.0.1:8081"), local, &none));
        assert!(!origin_allowed(Some("https://evil.example"), local, &none));
        // DNS rebinding: the name resolves here, but it is not our page.
        assert!(!origin_allowed(
            Some("http://evil.example:8080"),
            local,
            &none
        ));
        assert!(!origin_allowed(Some("null"), local, &none));
        // localhost is ours only when the connection arrived on loopback.
        let lan: SocketAddr = "192.168.1.5:8080".parse().unwrap();
        assert!(origin_allowed(Some("http://192.168.1.5:8080"), lan, &none));
        assert!(!origin_allowed(Some("http://localhost:8080"), lan, &none));
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        assert!(origin_allowed(Some("http://[::1]:8080"), v6, &none));
        let listed = vec!["https://ok.example".to_string()];
        assert!(origin_allowed(Some("https://ok.example"), local, &listed));
        assert!(!origin_allowed(
            Some("https://ok.example.evil"),
            local,
            &listed
        ));
        assert!(origin_allowed(
            Some("https://any"),
            local,
            &["*".to_string()]
        ));
    }

    #[test]
    fn routes() {
        let c = WebConfig::default();
        let route = |head: &[u8], c: &WebConfig| route(head, c, "127.0.0.1:1".parse().unwrap());
        assert_eq!(route(&upgrade("/ws", "h:1", None), &c), Route::Upgrade);
        assert_eq!(
            route(&upgrade("/ws?x=1", "h:1", Some("http://127.0.0.1:1")), &c),
            Route::Upgrade
        );
        assert!(matches!(
            route(&upgrade("/ws", "h:1", Some("http://evil:1")), &c),
            Route::Refuse(403, ..)
        ));
        assert!(matches!(
            route(&upgrade("/other", "h:1", None), &c),
            Route::Refuse(404, ..)
        ));
        assert!(
            matches!(route(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &c), Route::File(t, _) if t.starts_with("text/html"))
        );
        assert!(
            matches!(route(b"GET /app.js HTTP/1.1\r\nHost: h\r\n\r\n", &c), Route::File(t, _) if t.starts_with("text/javascript"))
        );
        assert!(matches!(
            route(b"GET /ws HTTP/1.1\r\nHost: h\r\n\r\n", &c),
            Route::Refuse(426, ..)
        ));
        assert!(matches!(
            route(b"POST / HTTP/1.1\r\nHost: h\r\n\r\n", &c),
            Route::Refuse(405, ..)
        ));
        assert!(matches!(
            route(b"GET /../etc/passwd HTTP/1.1\r\n\r\n", &c),
            Route::Refuse(404, ..)
        ));
        assert!(matches!(
            route(b"\x00\x01garbage\r\n\r\n", &c),
            Route::Refuse(400, ..)
        ));
    }
}
