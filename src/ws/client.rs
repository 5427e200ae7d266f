//! Lesson 08 — the client side: send the upgrade request, check the answer.
//!
//! [`connect`] opens a TCP connection to a `ws://` URL, sends the request of
//! §4.1 with a fresh random key, and accepts the server's answer only if it is
//! `101` with the right `Sec-WebSocket-Accept`. The client masks every frame it
//! sends (keys from the OS generator) and refuses masked frames from the server.

use super::connection::{WebSocket, WsError};
use super::frame::Role;
use super::handshake::{
    client_request, generate_key, parse_response, HandshakeError, UpgradeResponse,
    DEFAULT_MAX_HEADER,
};
use super::protocol::Limits;
use super::DEFAULT_HANDSHAKE_TIMEOUT;
use bytes::BytesMut;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// The port of `ws://` URLs without one (§3).
pub const DEFAULT_PORT: u16 = 80;

/// What a client enforces and offers.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Limits on what the server may send.
    pub limits: Limits,
    /// Largest response head in bytes.
    pub max_header: usize,
    /// Time the server has to answer the upgrade.
    pub handshake_timeout: Duration,
    /// Subprotocols to offer, in order of preference.
    pub protocols: Vec<String>,
    /// Shown the request head before it is sent (`netlab ws connect --frames`).
    pub on_request: Option<fn(&str)>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            limits: Limits::default(),
            max_header: DEFAULT_MAX_HEADER,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            protocols: Vec::new(),
            on_request: None,
        }
    }
}

/// A `ws://host:port/path` URL, split into what the handshake needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl WsUrl {
    /// Parses `ws://host[:port][/path]` (§3). `wss://` (TLS) is not supported.
    pub fn parse(url: &str) -> Result<WsUrl, WsError> {
        let bad = |why: &str| WsError::BadUrl {
            url: url.to_string(),
            why: why.to_string(),
        };
        let rest = if let Some(r) = url.strip_prefix("ws://") {
            r
        } else if url.starts_with("wss://") {
            return Err(bad(
                "wss:// needs TLS, which netlab does not speak; use ws://",
            ));
        } else {
            return Err(bad("it must start with ws://"));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        let path = path.split('#').next().unwrap_or("/").to_string();
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6
                .find(']')
                .ok_or_else(|| bad("unclosed [ in the IPv6 address"))?;
            let port = match &v6[end + 1..] {
                "" => DEFAULT_PORT,
                p => p
                    .strip_prefix(':')
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| bad("bad port"))?,
            };
            (v6[..end].to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse()
                        .map_err(|_| bad("the port is not a number from 0 to 65535"))?,
                ),
                None => (authority.to_string(), DEFAULT_PORT),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(WsUrl { host, port, path })
    }

    /// The Host header value: host, plus the port when it is not 80 (§4.1).
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == DEFAULT_PORT {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// Runs the client side of the handshake on an open stream.
pub async fn handshake<S>(
    mut stream: S,
    url: &WsUrl,
    config: &ClientConfig,
) -> Result<(WebSocket<S>, UpgradeResponse), WsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let key = generate_key();
    let request = client_request(&url.host_header(), &url.path, &key, &config.protocols);
    if let Some(show) = &config.on_request {
        show(&String::from_utf8_lossy(&request));
    }
    stream.write_all(&request).await?;
    let mut buf = BytesMut::with_capacity(1024);
    let read_head = async {
        loop {
            if let Some(found) = parse_response(&buf, &key, &config.protocols, config.max_header)? {
                return Ok::<_, WsError>(found);
            }
            let room = config.max_header.saturating_add(1) - buf.len().min(config.max_header);
            buf.reserve(room.min(4096));
            let mut limited = (&mut stream).take(room as u64);
            if limited.read_buf(&mut buf).await? == 0 {
                // A refusal with a body may end at EOF: let the parser see what came.
                return Err(
                    match parse_response(&buf, &key, &config.protocols, config.max_header) {
                        Err(e) => e.into(),
                        Ok(_) => HandshakeError::ConnectionClosed.into(),
                    },
                );
            }
        }
    };
    let (response, used) = tokio::time::timeout(config.handshake_timeout, read_head)
        .await
        .map_err(|_| HandshakeError::Timeout(config.handshake_timeout))??;
    let _ = buf.split_to(used);
    Ok((
        WebSocket::from_upgraded(stream, Role::Client, config.limits, buf),
        response,
    ))
}

/// Connects to a `ws://` URL and runs the handshake.
pub async fn connect(
    url: &str,
    config: &ClientConfig,
) -> Result<(WebSocket<TcpStream>, UpgradeResponse), WsError> {
    let url = WsUrl::parse(url)?;
    let stream = TcpStream::connect((url.host.as_str(), url.port)).await?;
    stream.set_nodelay(true)?;
    handshake(stream, &url, config).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = WsUrl::parse("ws://127.0.0.1:9001/chat?room=a").unwrap();
        assert_eq!(
            u,
            WsUrl {
                host: "127.0.0.1".into(),
                port: 9001,
                path: "/chat?room=a".into()
            }
        );
        assert_eq!(u.host_header(), "127.0.0.1:9001");
        let u = WsUrl::parse("ws://example.com").unwrap();
        assert_eq!(
            (u.port, u.path.as_str(), u.host_header().as_str()),
            (80, "/", "example.com")
        );
        let u = WsUrl::parse("ws://[::1]:8080/x").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.host_header().as_str()),
            ("::1", 8080, "[::1]:8080")
        );
        assert!(WsUrl::parse("wss://example.com").is_err());
        assert!(WsUrl::parse("http://example.com").is_err());
        assert!(WsUrl::parse("ws://host:99999").is_err());
        assert!(WsUrl::parse("ws://:80").is_err());
    }
}
