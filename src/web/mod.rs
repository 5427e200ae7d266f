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

pub mod echo;
pub mod engineio;
pub mod http;
pub mod polling;
pub mod session;
pub mod socketio;
pub mod socketio_echo;

use crate::guard::{accept_with_backoff, AcceptFailures, AddressCap, AddressSlot, MemoryBudget};
use crate::transport::{ChatServer, ServerNote};
use crate::ws::connection::{Timeouts, WebSocket};
use crate::ws::frame::Role;
use crate::ws::handshake::{
    accept_response, parse_request, token_list_contains, HandshakeError, Policy, DEFAULT_MAX_HEADER,
};
use crate::ws::DEFAULT_HANDSHAKE_TIMEOUT;
use bytes::BytesMut;
use engineio::TransportEvent;
use http::{read_body, read_head, HttpError, Request, Response};
use polling::{EngineCode, EngineRequest};
use session::{EngineConfig, Sessions};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// The page at `/`.
pub const INDEX_HTML: &str = include_str!("index.html");
/// Its style sheet, at `/style.css`.
pub const STYLE_CSS: &str = include_str!("style.css");
/// Its script, at `/app.js`.
pub const APP_JS: &str = include_str!("app.js");

/// The path that upgrades to the chat WebSocket.
pub const WS_PATH: &str = "/ws";

/// The path Socket.IO clients use (Engine.IO v4: polling, then WebSocket).
pub const SOCKETIO_PATH: &str = "/socket.io/";

/// The path of plain Engine.IO (no Socket.IO inside), served by the echo server.
pub const ENGINEIO_PATH: &str = "/engine.io/";

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
    /// Socket.IO namespaces offered besides `/` (`--namespace`), each with
    /// its own rooms ([`crate::transport::socketio::Namespaces`]).
    pub namespaces: Vec<String>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            allowed_origins: Vec::new(),
            max_header: DEFAULT_MAX_HEADER,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            heartbeat: socketio::Heartbeat::default(),
            namespaces: Vec::new(),
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

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// A WebSocket upgrade on `/ws`.
    Upgrade,
    /// Engine.IO on `/socket.io/`: polling, a WebSocket, an upgrade, a preflight.
    Engine(EngineRequest),
    /// A file of the page.
    File(&'static str, &'static str),
    /// Anything else: this status, and why.
    Refuse(u16, String),
    /// An Engine.IO error (`400`/`403` with its JSON body).
    EngineError(EngineCode),
}

/// What a site serves besides `/socket.io/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Serves {
    /// The page and `/ws` (netlab serve).
    chat: bool,
    /// Plain Engine.IO on `/engine.io/` (the echo server).
    engine_echo: bool,
}

/// Decides what to do with a request (pure: tested below).
fn route(req: &Request, config: &WebConfig, local: SocketAddr, serves: Serves) -> Route {
    let upgrade = req
        .header("Upgrade")
        .is_some_and(|v| token_list_contains(v, "websocket"));
    let origin = req.header("Origin");
    let foreign = !origin_allowed(origin, local, &config.allowed_origins);
    if req.path == SOCKETIO_PATH || (serves.engine_echo && req.path == ENGINEIO_PATH) {
        // The same origin rule as the WebSocket's, for polling too: a page
        // from elsewhere may not drive a session (unless --allow-origin).
        if foreign {
            return Route::EngineError(EngineCode::Forbidden);
        }
        return match polling::classify(req, upgrade) {
            Ok(r) => Route::Engine(r),
            Err(code) => Route::EngineError(code),
        };
    }
    if !serves.chat {
        let path = &req.path;
        return Route::Refuse(404, format!("nothing at {path}; this server speaks Socket.IO at {SOCKETIO_PATH} and Engine.IO at {ENGINEIO_PATH}"));
    }
    let method = req.method.as_str();
    if method != "GET" && method != "HEAD" {
        return Route::Refuse(405, format!("{method} is not served here; use GET"));
    }
    if upgrade {
        if req.path != WS_PATH {
            return Route::Refuse(404, format!("no WebSocket endpoint at {}; the chat is at {WS_PATH} (native) and {SOCKETIO_PATH} (Socket.IO)", req.path));
        }
        if foreign {
            let e = HandshakeError::OriginNotAllowed(origin.unwrap_or_default().to_string());
            return Route::Refuse(403, format!("{e}; allow it with --allow-origin"));
        }
        return Route::Upgrade;
    }
    match req.path.as_str() {
        "/" | "/index.html" => Route::File("text/html; charset=utf-8", INDEX_HTML),
        "/style.css" => Route::File("text/css; charset=utf-8", STYLE_CSS),
        "/app.js" => Route::File("text/javascript; charset=utf-8", APP_JS),
        WS_PATH => Route::Refuse(
            426,
            "this is the chat WebSocket: connect with Upgrade: websocket".into(),
        ),
        path => Route::Refuse(404, format!("nothing at {path}; the page is at /")),
    }
}

/// CORS headers for a request from an allowed page of another origin
/// (Fetch standard, "CORS protocol"): the origin echoed, credentials allowed.
fn cors(mut r: Response, req: &Request) -> Response {
    if let Some(origin) = req.header("Origin") {
        r = r
            .with("Access-Control-Allow-Origin", origin)
            .with("Access-Control-Allow-Credentials", "true")
            .with("Vary", "Origin");
    }
    r
}

/// The answer to a CORS preflight (`OPTIONS`) from an allowed origin.
fn preflight(req: &Request) -> Response {
    let asked = req
        .header("Access-Control-Request-Headers")
        .unwrap_or("content-type")
        .to_string();
    cors(Response::new(204, "text/plain; charset=utf-8", ""), req)
        .with("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        .with("Access-Control-Allow-Headers", &asked)
        .with("Access-Control-Max-Age", "600")
}

/// Serves the page, the chat WebSocket and Socket.IO on `listener` until dropped.
pub async fn serve(
    listener: TcpListener,
    server: Arc<ChatServer>,
    config: WebConfig,
) -> std::io::Result<()> {
    let engine = EngineConfig {
        ping_interval: config.heartbeat.interval,
        ping_timeout: config.heartbeat.timeout,
        max_payload: server.config().max_frame,
        max_sessions: server.config().max_connections,
        ..EngineConfig::default()
    };
    let namespaces =
        crate::transport::socketio::Namespaces::new(server.clone(), &config.namespaces)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let app: session::App = Arc::new(move |socket| {
        Box::pin(crate::transport::socketio::session(
            socket,
            namespaces.clone(),
        ))
    });
    let guards = Guards {
        budget: server.budget().clone(),
        per_ip: server.address_cap().clone(),
        max_frame: server.config().max_frame,
        frame_timeout: server.config().frame_timeout,
    };
    let site = Site {
        socketio: Sessions::new(engine, app, guards.budget.clone()),
        engine_echo: None,
        chat: Some(server),
        config,
        guards,
    };
    // On a worker thread, like the connections it starts: accepting on the
    // runtime's main thread costs a cross-thread wake-up per connection.
    tokio::spawn(accept_loop(listener, Arc::new(site)))
        .await
        .map_err(std::io::Error::other)?
}

/// Serves `site` on `listener`: one task per connection, each holding a
/// per-address slot while it lives.
async fn accept_loop(listener: TcpListener, site: Arc<Site>) -> std::io::Result<()> {
    let mut failures = AcceptFailures::new();
    loop {
        let (stream, peer) = accept_with_backoff(&listener, &mut failures, |r| {
            site.note(&ServerNote::Accept(r))
        })
        .await;
        let _ = stream.set_nodelay(true);
        let place = match site.guards.per_ip.admit(peer.ip()) {
            Ok(place) => place,
            Err(error) => {
                site.note(&ServerNote::AddressFull {
                    peer: format!("http {peer}"),
                    error,
                });
                tokio::spawn(crate::ws::server::refuse_busy(stream, error.to_string()));
                continue;
            }
        };
        let site = site.clone();
        tokio::spawn(async move {
            handle(stream, peer, &site).await;
            drop::<AddressSlot>(place);
        });
    }
}

/// The limits every connection of a site is held to (the hub's own, or an
/// echo server's).
#[derive(Debug, Clone)]
pub struct Guards {
    /// The memory budget WebSocket buffers are charged to (`--max-memory`).
    pub budget: Arc<MemoryBudget>,
    /// Connections per source address (`--max-per-ip`).
    pub per_ip: Arc<AddressCap>,
    /// Largest WebSocket message.
    pub max_frame: usize,
    /// Time a started message has to arrive whole (`--frame-timeout`).
    pub frame_timeout: Option<Duration>,
}

/// Everything an HTTP connection may reach.
struct Site {
    /// Socket.IO's Engine.IO sessions on `/socket.io/`.
    socketio: Arc<Sessions>,
    /// Plain Engine.IO sessions on `/engine.io/` (the echo server only).
    engine_echo: Option<Arc<Sessions>>,
    /// The chat hub (the page and `/ws`), when this is `netlab serve`.
    chat: Option<Arc<ChatServer>>,
    /// What the HTTP side enforces.
    config: WebConfig,
    /// Budget, per-address cap, message limits.
    guards: Guards,
}

impl Site {
    /// Reports to the hub's log, when there is a hub.
    fn note(&self, n: &ServerNote) {
        if let Some(chat) = &self.chat {
            chat.note(n);
        }
    }

    /// The sessions a path to Engine.IO belongs to.
    fn sessions_at(&self, path: &str) -> Option<&Arc<Sessions>> {
        match path {
            SOCKETIO_PATH => Some(&self.socketio),
            ENGINEIO_PATH => self.engine_echo.as_ref(),
            _ => None,
        }
    }
}

/// How long a kept-alive connection may sit between requests.
pub const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(60);

/// Answers requests on one connection, one after another, until it closes
/// or becomes a WebSocket.
async fn handle(mut stream: TcpStream, peer: SocketAddr, site: &Site) {
    let config = &site.config;
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let mut buf = BytesMut::with_capacity(1024);
    let mut first = true;
    loop {
        // The first head within the handshake timeout (slow-loris); later
        // ones may wait while the client has nothing to ask.
        let wait = if first {
            config.handshake_timeout
        } else {
            KEEP_ALIVE_IDLE
        };
        first = false;
        let end = match read_head(&mut stream, &mut buf, config.max_header, wait).await {
            Ok(Some(end)) => end,
            Ok(None) => return,
            Err(HttpError::HeadTooLarge(max)) => {
                let e = HandshakeError::HeaderTooLarge { max };
                let _ = stream.write_all(&e.response()).await;
                return;
            }
            Err(_) => return,
        };
        let req = match Request::parse(&buf[..end]) {
            Ok(r) => r,
            Err(e) => {
                let r = Response::new(400, TEXT, format!("{e}\n"));
                let _ = stream.write_all(&r.to_bytes(false, false)).await;
                return;
            }
        };
        let head_only = req.method == "HEAD";
        let keep = req.keep_alive();
        let serves = Serves {
            chat: site.chat.is_some(),
            engine_echo: site.engine_echo.is_some(),
        };
        let route = route(&req, config, local, serves);
        let sessions = site.sessions_at(&req.path).unwrap_or(&site.socketio);
        let engine = matches!(route, Route::Engine(_));
        let response = match route {
            Route::File(ty, body) => Response::new(200, ty, body),
            Route::Refuse(code, why) => Response::new(code, TEXT, format!("{why}\n")),
            // A refused origin is granted nothing, not even reading why.
            Route::EngineError(EngineCode::Forbidden) => EngineCode::Forbidden.response(),
            Route::EngineError(code) => cors(code.response(), &req),
            Route::Upgrade => {
                if let (Some(ws), Some(chat)) =
                    (accept_websocket(stream, buf, site).await, &site.chat)
                {
                    let peer = format!("ws {peer}");
                    crate::transport::ws::connection(ws, &peer, chat.clone()).await;
                }
                return;
            }
            Route::Engine(EngineRequest::WebSocket) => {
                let Some(ws) = accept_websocket(stream, buf, site).await else {
                    return;
                };
                // A full table drops the WebSocket: the client retries later.
                let _ = sessions.open(peer.ip(), &format!("sio {peer}"), Some(ws));
                return;
            }
            Route::Engine(EngineRequest::Upgrade(sid)) => {
                match polling::find(sessions, &sid, peer.ip()) {
                    // The WebSocket claims the session's upgrade as it
                    // arrives, as engine.io does: a second one racing it (or
                    // coming after the upgrade) finds it taken.
                    Ok(session) if session.step(TransportEvent::Probe) => {
                        let Some(ws) = accept_websocket(stream, buf, site).await else {
                            session.step(TransportEvent::ProbeFailed);
                            return;
                        };
                        return polling::upgrade(ws, session, sessions).await;
                    }
                    // Upgrading or upgraded already: one WebSocket per
                    // session. Like Engine.IO, the handshake completes and the
                    // new WebSocket is closed at once (1008); the session
                    // carries on on its own WebSocket.
                    Ok(_) => {
                        if let Some(mut ws) = accept_websocket(stream, buf, site).await {
                            let why = "this session already has its WebSocket";
                            let _ = ws.close(crate::ws::CloseCode::PolicyViolation, why).await;
                        }
                        return;
                    }
                    Err(code) => cors(code.response(), &req),
                }
            }
            Route::Engine(EngineRequest::Preflight) => preflight(&req),
            Route::Engine(what) => {
                let body_len = match req.body_len() {
                    Ok(n) => n,
                    Err(e) => {
                        let r = cors(Response::new(400, TEXT, format!("{e}\n")), &req);
                        let _ = stream.write_all(&r.to_bytes(false, false)).await;
                        return;
                    }
                };
                let max = sessions.config().max_payload;
                if body_len > max {
                    // Engine.IO's maxHttpBufferSize: 413, and the body is not read.
                    let why = HttpError::BodyTooLarge { got: body_len, max };
                    let r = cors(Response::new(413, TEXT, format!("{why}\n")), &req);
                    let _ = stream.write_all(&r.to_bytes(false, false)).await;
                    return;
                }
                let _ = buf.split_to(end);
                if read_body(&mut stream, &mut buf, body_len, config.handshake_timeout)
                    .await
                    .is_err()
                {
                    return;
                }
                let body = buf.split_to(body_len);
                let r =
                    polling::answer(sessions, what, &body, peer.ip(), &format!("sio {peer}")).await;
                let r = cors(r, &req);
                if stream
                    .write_all(&r.to_bytes(head_only, keep))
                    .await
                    .is_err()
                    || !keep
                {
                    return;
                }
                continue;
            }
        };
        let _ = buf.split_to(end);
        // The page's files and refusals close the connection; only
        // Engine.IO's polling (above) keeps it for the next request.
        let keep = keep && engine && matches!(response.status, 200 | 204);
        if stream
            .write_all(&response.to_bytes(head_only, keep))
            .await
            .is_err()
            || !keep
        {
            break;
        }
    }
    let _ = stream.shutdown().await;
}
/// Content type of the plain-text answers.
const TEXT: &str = "text/plain; charset=utf-8";

/// Completes a WebSocket handshake whose head is in `buf` (RFC 6455 §4.2):
/// the WebSocket, with the hub's guards — a message whole within
/// `--frame-timeout`, its bytes charged to `--max-memory`. No idle timeout:
/// heartbeats tell a quiet client from a dead one.
async fn accept_websocket(
    mut stream: TcpStream,
    mut buf: BytesMut,
    site: &Site,
) -> Option<WebSocket<TcpStream>> {
    // The RFC's own rules (§4.2.1): method, version, key, ... The origin was
    // checked by `route`, so the policy allows any.
    match parse_request(&buf, site.config.max_header, &Policy::default()) {
        Ok(Some((request, used))) => {
            stream
                .write_all(&accept_response(&request, None))
                .await
                .ok()?;
            let rest = buf.split_off(used);
            let max = site.guards.max_frame;
            let limits = crate::ws::Limits {
                max_frame: max,
                max_message: max,
            };
            let mut ws = WebSocket::from_upgraded(stream, Role::Server, limits, rest);
            ws.set_timeouts(Timeouts {
                frame: site.guards.frame_timeout,
                idle: None,
            });
            ws.set_budget(site.guards.budget.reservation());
            Some(ws)
        }
        Ok(None) => None,
        Err(e) => {
            let _ = stream.write_all(&e.response()).await;
            None
        }
    }
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
        let route = |head: &[u8], c: &WebConfig| {
            let serves = Serves {
                chat: true,
                engine_echo: false,
            };
            let local = "127.0.0.1:1".parse().unwrap();
            route(&Request::parse(head).unwrap(), c, local, serves)
        };
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
        // Socket.IO: polling, the WebSocket, and Engine.IO's errors.
        assert_eq!(
            route(
                b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\n",
                &c
            ),
            Route::Engine(EngineRequest::Open)
        );
        assert_eq!(
            route(
                &upgrade("/socket.io/?EIO=4&transport=websocket", "h:1", None),
                &c
            ),
            Route::Engine(EngineRequest::WebSocket)
        );
        assert_eq!(
            route(
                &upgrade("/socket.io/?EIO=3&transport=websocket", "h:1", None),
                &c
            ),
            Route::EngineError(EngineCode::UnsupportedProtocolVersion)
        );
        // A foreign page may not poll either.
        assert_eq!(
            route(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nOrigin: http://evil:1\r\n\r\n", &c),
            Route::EngineError(EngineCode::Forbidden)
        );
        let allowed = WebConfig {
            allowed_origins: vec!["http://evil:1".into()],
            ..WebConfig::default()
        };
        assert_eq!(
            route(b"OPTIONS /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nOrigin: http://evil:1\r\n\r\n", &allowed),
            Route::Engine(EngineRequest::Preflight)
        );
    }
}
