//! Tour step for lesson 12: two chat servers share a room over a real Redis.
//!
//! It starts a throwaway `redis-server` ([`crate::lab::redis`]); where none
//! is installed the step says so and how to get one, and the tour goes on.

use super::{explain, ok, say, TourError};
use crate::chat::protocol::{ClientEvent, ServerEvent};
use crate::client::tcp::{AckOutcome, ChatClient};
use crate::cluster::message::Broadcast;
use crate::lab::redis::{ScratchRedis, ScratchRedisError, HOW_TO_INSTALL};
use crate::transport::redis::{Cluster, RedisConfig};
use crate::transport::{tcp, ChatServer, ServerConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// How long the tour waits for a step to happen before calling it failed.
const WAIT: Duration = Duration::from_secs(5);

/// The broadcast channels of namespace `/` under the default key.
const BROADCAST_PATTERN: &str = "socket.io#/#*";

/// What ana says on server A.
const TEXT: &str = "hello from server A";

fn fail(e: impl std::fmt::Display) -> TourError {
    TourError::Unexpected(e.to_string())
}

/// Redis, two servers linked to it, ana on one and bo on the other, one message.
pub async fn rooms_across_servers() -> Result<(), TourError> {
    explain("two servers each keep their own rooms; with --redis every broadcast is also published on Redis, and the other server delivers it to its own members");
    let started = tokio::task::spawn_blocking(ScratchRedis::start)
        .await
        .map_err(fail)?;
    let redis = match started {
        Ok(r) => r,
        Err(ScratchRedisError::NotInstalled) => {
            say("skipped: redis-server is not installed here");
            explain(format!("to see this step, {HOW_TO_INSTALL}"));
            return Ok(());
        }
        Err(e) => return Err(fail(e)),
    };
    say(format!(
        "redis-server (pid {}) on 127.0.0.1:{}, keeping nothing on disk",
        redis.pid(),
        redis.port()
    ));
    let url = redis.url();
    let mut spy = crate::lab::redis::spy(&url, BROADCAST_PATTERN)
        .await
        .map_err(fail)?;
    let (a_addr, a) = linked_server(&url).await?;
    let (b_addr, b) = linked_server(&url).await?;
    let deadline = Instant::now() + WAIT;
    while !(a.is_connected() && b.is_connected()) {
        if Instant::now() > deadline {
            return Err(fail("the servers never subscribed to Redis"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    say(format!(
        "server A on {a_addr} (uid {}) and server B on {b_addr} (uid {}), both subscribed to {BROADCAST_PATTERN}",
        a.uid(),
        b.uid()
    ));

    let mut bo = member(&b_addr, "bo").await?;
    let mut ana = member(&a_addr, "ana").await?;
    say("bo joined lobby on server B, ana joined lobby on server A");
    let outcome = ana
        .call(ClientEvent::Message {
            to: vec!["lobby".into()],
            except: vec![],
            text: TEXT.into(),
            include_self: false,
        })
        .await
        .map_err(fail)?;
    if outcome != AckOutcome::Reached(0) {
        return Err(fail(format!(
            "server A has nobody else in lobby, yet its ack said {outcome:?}"
        )));
    }
    loop {
        let e = tokio::time::timeout(WAIT, bo.next_event())
            .await
            .map_err(|_| fail("ana's message never reached bo on the other server"))?
            .map_err(fail)?;
        if let ServerEvent::Message { nick, text, .. } = e {
            if nick == "ana" && text == TEXT {
                ok(format!(
                    "bo (on server B) got [lobby] ana: {text}; A's ack said it reached 0 of A's own connections"
                ));
                break;
            }
        }
    }
    // What the spy saw go by: the message, among the nick and join notices.
    loop {
        let (channel, payload) = tokio::time::timeout(WAIT, spy.recv())
            .await
            .map_err(|_| fail("the message was never seen on Redis"))?
            .ok_or_else(|| fail("the Redis listener stopped"))?;
        let Ok(b) = Broadcast::decode(&payload, payload.len()) else {
            continue;
        };
        if b.data.first().and_then(|v| v.as_str()) == Some("message") {
            let head: Vec<String> = payload.iter().take(8).map(|x| format!("{x:02x}")).collect();
            ok(format!(
                "it crossed as PUBLISH {channel} <{} bytes of MessagePack: {} …>",
                payload.len(),
                head.join(" ")
            ));
            break;
        }
    }
    explain("[uid, packet, opts] in the format of Socket.IO's Redis adapter: a Node server on the same Redis shares the room too");
    // Redis is stopped (by its PID) when `redis` goes out of scope.
    drop(redis);
    Ok(())
}

/// A chat server on a free port whose broadcasts are shared on `url`, as
/// `netlab serve --tcp 127.0.0.1:0 --redis URL` runs it.
async fn linked_server(url: &str) -> Result<(String, Cluster), TourError> {
    let mut cluster = Cluster::connect(RedisConfig::new(url))
        .await
        .map_err(fail)?;
    let server = Arc::new(ChatServer::with_adapter(
        ServerConfig::default(),
        Box::new(cluster.adapter()),
    ));
    cluster.start(server.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(tcp::serve(listener, server));
    Ok((addr, cluster))
}

/// A client named `nick` on `addr`, in `lobby`.
async fn member(addr: &str, nick: &str) -> Result<ChatClient, TourError> {
    let mut c = ChatClient::connect(addr).await.map_err(fail)?;
    c.call(ClientEvent::Nick { nick: nick.into() })
        .await
        .map_err(fail)?;
    c.call(ClientEvent::Join {
        room: "lobby".into(),
        since: None,
    })
    .await
    .map_err(fail)?;
    Ok(c)
}
