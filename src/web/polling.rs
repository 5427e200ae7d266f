//! Engine.IO's HTTP side on `/socket.io/`: which request is which, the
//! errors Engine.IO answers with, long-polling GETs and POSTs, and the probe
//! that moves a session onto a WebSocket (Engine.IO v4, "Transports" and
//! "Upgrade").
//!
//! | request | answer |
//! |---|---|
//! | `GET ?EIO=4&transport=polling` | `200`, the open packet |
//! | `GET ?EIO=4&transport=polling&sid=S` | `200`, the packets waiting (waits for one) |
//! | `POST ?EIO=4&transport=polling&sid=S` | `200 ok`; `413` past `maxPayload` |
//! | WebSocket `?EIO=4&transport=websocket` | a session on the WebSocket from the start |
//! | WebSocket `?EIO=4&transport=websocket&sid=S` | the upgrade: `2probe` → `3probe`, …, `5` |
//! | anything wrong | `400` + `{"code":N,"message":"…"}`; `403` for code 4 |
//!
//! A session is bound to the IP address that opened it: its `sid` used from
//! anywhere else is refused with `403 Forbidden` (code 4). A `sid` travels in
//! URLs and logs; binding it means a leaked one is no use to another host.

use super::engineio::{decode_payload, Data, Packet, TransportEvent, PROBE};
use super::http::{Request, Response};
use super::session::{take_packet, Session, Sessions};
use crate::ws::{CloseCode, Message, WebSocket};
use std::net::IpAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

/// Most packets one POST body may carry.
pub const MAX_PACKETS_PER_POST: usize = 1024;

/// Engine.IO's error codes (engine.io `Server.errors`), each with its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineCode {
    /// 0: `transport` is neither `polling` nor `websocket`.
    TransportUnknown = 0,
    /// 1: no open session has this `sid`.
    SessionIdUnknown = 1,
    /// 2: a session is opened with GET only.
    BadHandshakeMethod = 2,
    /// 3: anything else wrong with the request.
    BadRequest = 3,
    /// 4: not allowed (another address's session, a foreign origin).
    Forbidden = 4,
    /// 5: `EIO` is not 4.
    UnsupportedProtocolVersion = 5,
}

impl EngineCode {
    /// The message Engine.IO sends with the code.
    pub fn message(self) -> &'static str {
        match self {
            EngineCode::TransportUnknown => "Transport unknown",
            EngineCode::SessionIdUnknown => "Session ID unknown",
            EngineCode::BadHandshakeMethod => "Bad handshake method",
            EngineCode::BadRequest => "Bad request",
            EngineCode::Forbidden => "Forbidden",
            EngineCode::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }

    /// The HTTP answer: `403` for Forbidden, `400` for the rest, with the JSON body.
    pub fn response(self) -> Response {
        let status = if self == EngineCode::Forbidden {
            403
        } else {
            400
        };
        let body = serde_json::json!({"code": self as u8, "message": self.message()});
        Response::new(status, "application/json", body.to_string())
    }
}

/// What a request to `/socket.io/` asks for, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineRequest {
    /// A new session over polling.
    Open,
    /// A long-poll on a session.
    Poll(String),
    /// Packets sent on a session.
    Post(String),
    /// A new session over a WebSocket.
    WebSocket,
    /// A WebSocket that wants to take session `sid` over.
    Upgrade(String),
    /// A CORS preflight (`OPTIONS`).
    Preflight,
}

/// Sorts a request to `/socket.io/` out, with Engine.IO's own checks and
/// error codes (pure: tested below). `upgrade` is whether it asks for a
/// WebSocket.
pub fn classify(req: &Request, upgrade: bool) -> Result<EngineRequest, EngineCode> {
    if req.method == "OPTIONS" {
        return Ok(EngineRequest::Preflight);
    }
    if req.param("EIO") != Some(super::engineio::PROTOCOL) {
        return Err(EngineCode::UnsupportedProtocolVersion);
    }
    let websocket = match req.param("transport") {
        Some("polling") => false,
        Some("websocket") => true,
        _ => return Err(EngineCode::TransportUnknown),
    };
    if websocket != upgrade {
        // `transport=websocket` without an Upgrade header, or an upgrade on polling.
        return Err(EngineCode::BadRequest);
    }
    match (req.param("sid"), websocket, req.method.as_str()) {
        (None, _, m) if m != "GET" => Err(EngineCode::BadHandshakeMethod),
        (None, false, _) => Ok(EngineRequest::Open),
        (None, true, _) => Ok(EngineRequest::WebSocket),
        (Some(sid), true, "GET") => Ok(EngineRequest::Upgrade(sid.to_string())),
        (Some(sid), false, "GET") => Ok(EngineRequest::Poll(sid.to_string())),
        (Some(sid), false, "POST") => Ok(EngineRequest::Post(sid.to_string())),
        _ => Err(EngineCode::BadRequest),
    }
}

/// The session `sid`, if it exists and `ip` may use it.
pub fn find(sessions: &Sessions, sid: &str, ip: IpAddr) -> Result<Arc<Session>, EngineCode> {
    let s = sessions
        .get(sid)
        .filter(|s| !s.is_over())
        .ok_or(EngineCode::SessionIdUnknown)?;
    if s.ip() != ip {
        return Err(EngineCode::Forbidden);
    }
    Ok(s)
}

/// A polling answer's body as Engine.IO sends it: [`encode_payload`](super::engineio::encode_payload)'s
/// bytes, in a buffer sized for them up front.
fn payload(packets: &[Packet]) -> Response {
    let mut body = Vec::with_capacity(packets.iter().map(Packet::payload_len).sum());
    for p in packets {
        p.append_to(&mut body);
    }
    Response::new(200, "text/plain; charset=UTF-8", body)
}

/// Answers a polling request: open, GET or POST. `body` is the POST body,
/// already bounded by `maxPayload` (`413` was answered before this).
pub async fn answer(
    sessions: &Arc<Sessions>,
    what: EngineRequest,
    body: &[u8],
    ip: IpAddr,
    peer: &str,
) -> Response {
    match what {
        EngineRequest::Open => match sessions.open(ip, peer, None) {
            Ok((_, open)) => payload(&[open]),
            Err(e) => Response::new(503, "text/plain; charset=utf-8", format!("{e}\n"))
                .with("Retry-After", "1"),
        },
        EngineRequest::Poll(sid) => {
            let session = match find(sessions, &sid, ip) {
                Ok(s) => s,
                Err(code) => return code.response(),
            };
            if !session.step(TransportEvent::Poll) {
                return EngineCode::BadRequest.response();
            }
            // If this request's connection goes away while it waits, the
            // future is dropped: the guard frees the session's GET slot.
            let guard = PollGuard(&session);
            let r = session.poll().await;
            std::mem::forget(guard);
            match r {
                Ok(packets) => payload(&packets),
                Err(()) => EngineCode::BadRequest.response(),
            }
        }
        EngineRequest::Post(sid) => {
            let session = match find(sessions, &sid, ip) {
                Ok(s) => s,
                Err(code) => return code.response(),
            };
            if !session.step(TransportEvent::Poll) {
                return EngineCode::BadRequest.response();
            }
            let packets = match decode_payload(body, MAX_PACKETS_PER_POST) {
                Ok(p) => p,
                Err(e) => {
                    session.close(&format!("bad polling payload: {e}"));
                    return EngineCode::BadRequest.response();
                }
            };
            for p in packets {
                if let Err(why) = take_packet(&session, p).await {
                    session.close(&why);
                    break;
                }
            }
            Response::new(200, "text/html", "ok")
        }
        // WebSockets and preflights are answered by the caller.
        EngineRequest::WebSocket | EngineRequest::Upgrade(_) | EngineRequest::Preflight => {
            EngineCode::BadRequest.response()
        }
    }
}

/// Frees a session's GET slot if the waiting GET is dropped.
struct PollGuard<'a>(&'a Session);

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.0.poll_abandoned();
    }
}

/// The upgrade, on a WebSocket that carried `sid` and has claimed the
/// session's upgrade (its state is [`super::engineio::Upgrade::Probing`];
/// Engine.IO v4, "Upgrade"):
/// the client sends `2probe` and gets `3probe`; the poll waiting meanwhile
/// gets a noop; the client sends `5`, and the WebSocket becomes the
/// session's transport. Anything else closes this WebSocket and leaves the
/// session on polling.
pub async fn upgrade(mut ws: WebSocket<TcpStream>, session: Arc<Session>, sessions: &Sessions) {
    let timeout = sessions.config().upgrade_timeout;
    let dance = async {
        match next_text(&mut ws).await {
            Some(Packet::Ping(p)) if p == PROBE => {}
            _ => return Err("the first packet was not 2probe"),
        }
        let pong = Packet::Pong(PROBE.into()).to_text().unwrap_or_default();
        ws.send(&Message::text(pong))
            .await
            .map_err(|_| "write failed")?;
        loop {
            match next_text(&mut ws).await {
                Some(Packet::Upgrade) => break,
                // Engine.IO clients send nothing else here; a pong is harmless.
                Some(Packet::Pong(_)) => session.pong(),
                Some(Packet::Noop) => {}
                _ => return Err("expected 5 (upgrade) after the probe"),
            }
        }
        if !session.step(TransportEvent::UpgradePacket) {
            return Err("the session left the probe");
        }
        Ok(())
    };
    match tokio::time::timeout(timeout, dance).await {
        Ok(Ok(())) => session.hand_over(ws),
        _ => {
            session.step(TransportEvent::ProbeFailed);
            let _ = ws.close(CloseCode::PolicyViolation, "upgrade failed").await;
        }
    }
}

/// The next Engine.IO packet on a probing WebSocket (binary is not one here).
async fn next_text(ws: &mut WebSocket<TcpStream>) -> Option<Packet> {
    loop {
        match ws.recv().await {
            Ok(Some(Message::Text(t))) => return Packet::parse_text(t.as_str()).ok(),
            Ok(Some(Message::Binary(b))) => return Some(Packet::Message(Data::Binary(b))),
            Ok(Some(Message::Ping(_) | Message::Pong(_))) => continue,
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, query: &str) -> Request {
        Request::parse(
            format!("{method} /socket.io/?{query} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn requests_are_sorted_with_engine_io_codes() {
        use EngineCode::*;
        use EngineRequest::*;
        let c = |m, q, up| classify(&req(m, q), up);
        assert_eq!(c("GET", "EIO=4&transport=polling", false), Ok(Open));
        assert_eq!(
            c("GET", "EIO=4&transport=polling&t=x&sid=S", false),
            Ok(Poll("S".into()))
        );
        assert_eq!(
            c("POST", "EIO=4&transport=polling&sid=S", false),
            Ok(Post("S".into()))
        );
        assert_eq!(c("GET", "EIO=4&transport=websocket", true), Ok(WebSocket));
        assert_eq!(
            c("GET", "EIO=4&transport=websocket&sid=S", true),
            Ok(Upgrade("S".into()))
        );
        assert_eq!(c("OPTIONS", "", false), Ok(Preflight));
        assert_eq!(
            c("GET", "EIO=3&transport=polling", false),
            Err(UnsupportedProtocolVersion)
        );
        assert_eq!(
            c("GET", "transport=polling", false),
            Err(UnsupportedProtocolVersion)
        );
        assert_eq!(
            c("GET", "EIO=4&transport=carrier-pigeon", false),
            Err(TransportUnknown)
        );
        assert_eq!(c("GET", "EIO=4", false), Err(TransportUnknown));
        assert_eq!(
            c("POST", "EIO=4&transport=polling", false),
            Err(BadHandshakeMethod)
        );
        assert_eq!(
            c("PUT", "EIO=4&transport=polling&sid=S", false),
            Err(BadRequest)
        );
        assert_eq!(
            c("GET", "EIO=4&transport=websocket", false),
            Err(BadRequest)
        );
        assert_eq!(
            c("GET", "EIO=4&transport=polling&sid=S", true),
            Err(BadRequest)
        );
    }

    #[test]
    fn errors_look_like_engine_io_s() {
        let r = EngineCode::SessionIdUnknown.response();
        assert_eq!(r.status, 400);
        assert_eq!(r.body, br#"{"code":1,"message":"Session ID unknown"}"#);
        assert_eq!(EngineCode::Forbidden.response().status, 403);
        assert_eq!(
            EngineCode::UnsupportedProtocolVersion.response().body,
            br#"{"code":5,"message":"Unsupported protocol version"}"#
        );
    }
}
