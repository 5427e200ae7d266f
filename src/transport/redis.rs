//! Lesson 12 — the Redis link: the connections that carry a server's
//! broadcasts to the other servers and theirs to it.
//!
//! Two connections, as Socket.IO's adapter uses:
//!
//! - a **publisher** that empties the adapter's queue
//!   ([`crate::cluster::adapter::ClusterAdapter`]) with `PUBLISH`;
//! - a **subscriber** in Redis's subscribed state (`PSUBSCRIBE key#/#*`,
//!   `SUBSCRIBE key-request#/#`): it hears the other servers' broadcasts and
//!   delivers them to this server's members, and answers their questions.
//!
//! Redis pub/sub is fire-and-forget: a message published while a server is
//! cut off from Redis is simply not delivered to it, and nothing says so.
//! This link says so: it reports when it is cut off, keeps serving its own
//! clients, reconnects with backoff, and on its way back reports how many
//! broadcasts could not be published meanwhile.

use super::server::ChatServer;
use crate::chat::hub::Question;
use crate::chat::id::ConnId;
use crate::chat::protocol::{Member, Relayed, ServerEvent};
use crate::chat::rooms::Target;
use crate::cluster::adapter::{ClusterAdapter, ClusterStats, Publish, DEFAULT_PUBLISH_QUEUE};
use crate::cluster::message::{
    decode_request, native_of_data, Broadcast, Channels, MessageError, RequestType, DEFAULT_KEY,
    DEFAULT_MAX_MESSAGE,
};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::mpsc;

/// How long connecting to Redis may take before it counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one Redis command may take.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// First wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
pub const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between reconnection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How long a question to the other servers waits for their answers, unless
/// `--redis-timeout` says otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// The namespace the hub serves over Redis (its other Socket.IO
/// namespaces stay on this server).
pub const NAMESPACE: &str = "/";

/// How to reach Redis (each field is a `netlab serve` flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://host:port` (`--redis`).
    pub url: String,
    /// Channel prefix (`--redis-key`), `socket.io` as Socket.IO's adapter.
    pub key: String,
    /// Start without Redis when it cannot be reached, and say so
    /// (`--redis-optional`).
    pub optional: bool,
    /// Largest message taken from Redis (`--redis-max-message`).
    pub max_message: usize,
    /// Broadcasts waiting to be published before new ones are dropped.
    pub publish_queue: usize,
    /// How long a question to the other servers waits (`--redis-timeout`).
    pub request_timeout: Duration,
}

impl RedisConfig {
    /// The defaults for `url`.
    pub fn new(url: &str) -> RedisConfig {
        RedisConfig {
            url: url.to_string(),
            key: DEFAULT_KEY.to_string(),
            optional: false,
            max_message: DEFAULT_MAX_MESSAGE,
            publish_queue: DEFAULT_PUBLISH_QUEUE,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// Why the link to Redis could not start.
#[derive(Debug, Error)]
pub enum RedisLinkError {
    /// The URL is not a Redis URL.
    #[error("`{url}` is not a Redis URL ({detail}); write it like redis://127.0.0.1:6379")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What the client library said.
        detail: String,
    },
    /// Nothing answered.
    #[error(
        "cannot reach Redis at {url}: {detail}. Start one with \
         `redis-server --port 6379 --save ''` (Debian: apt install redis-server), \
         or add --redis-optional to serve this server's clients alone"
    )]
    Unreachable {
        /// The URL given.
        url: String,
        /// What went wrong.
        detail: String,
    },
}

/// What the link reports as it runs (for the server's log and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkNote {
    /// Subscribed: broadcasts flow both ways.
    Connected {
        /// This server's uid on the channels.
        uid: String,
        /// The Redis URL.
        url: String,
    },
    /// Lost Redis: local delivery goes on, other servers are out of reach.
    CutOff {
        /// What happened.
        detail: String,
    },
    /// Back after being cut off.
    Reconnected {
        /// How long it was away.
        after: Duration,
        /// Broadcasts from here that no other server got meanwhile.
        not_published: u64,
    },
    /// A message from Redis was dropped (the first of each minute is said).
    Rejected {
        /// Why.
        detail: String,
        /// How many so far.
        total: u64,
    },
}

type NoteSink = Arc<dyn Fn(&LinkNote) + Send + Sync>;

/// A server's place in the cluster: its uid, channels and counters, and the
/// queue its adapter publishes into.
pub struct Cluster {
    config: RedisConfig,
    client: redis::Client,
    uid: String,
    channels: Channels,
    stats: Arc<ClusterStats>,
    outbox: mpsc::Sender<Publish>,
    inbox: Option<mpsc::Receiver<Publish>>,
    connected: Arc<AtomicBool>,
    on_note: Option<NoteSink>,
}

impl Cluster {
    /// Checks that Redis answers (`PING`) and prepares the link. Fails with
    /// a clear error when it does not, unless `config.optional`: then the
    /// server starts alone, and the link keeps trying in the background.
    pub async fn connect(config: RedisConfig) -> Result<Cluster, RedisLinkError> {
        let client =
            redis::Client::open(config.url.as_str()).map_err(|e| RedisLinkError::BadUrl {
                url: config.url.clone(),
                detail: e.to_string(),
            })?;
        let ping = async {
            let mut c = client.get_multiplexed_async_connection().await?;
            redis::cmd("PING").query_async::<String>(&mut c).await
        };
        let up = match tokio::time::timeout(CONNECT_TIMEOUT, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {CONNECT_TIMEOUT:?}")),
        };
        if let Err(detail) = up {
            if !config.optional {
                return Err(RedisLinkError::Unreachable {
                    url: config.url.clone(),
                    detail,
                });
            }
        }
        let (outbox, inbox) = mpsc::channel(config.publish_queue.max(1));
        Ok(Cluster {
            uid: server_uid(),
            channels: Channels::new(&config.key, NAMESPACE),
            stats: Arc::new(ClusterStats::default()),
            client,
            config,
            outbox,
            inbox: Some(inbox),
            connected: Arc::new(AtomicBool::new(false)),
            on_note: None,
        })
    }

    /// Reports every [`LinkNote`] to `sink`.
    pub fn with_observer(mut self, sink: impl Fn(&LinkNote) + Send + Sync + 'static) -> Self {
        self.on_note = Some(Arc::new(sink));
        self
    }

    /// This server's uid on the channels.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The counters.
    pub fn stats(&self) -> &Arc<ClusterStats> {
        &self.stats
    }

    /// Whether the subscriber is connected right now.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// The adapter the server's hub broadcasts through.
    pub fn adapter(&self) -> ClusterAdapter {
        ClusterAdapter::new(
            &self.uid,
            NAMESPACE,
            self.channels.clone(),
            self.outbox.clone(),
            self.stats.clone(),
        )
    }

    /// Starts the publisher and the subscriber for `server` (built with
    /// [`Cluster::adapter`]); they run until the runtime stops.
    pub fn start(&mut self, server: Arc<ChatServer>) {
        let Some(inbox) = self.inbox.take() else {
            return;
        };
        let link = Link {
            client: self.client.clone(),
            url: self.config.url.clone(),
            uid: self.uid.clone(),
            channels: self.channels.clone(),
            max_message: self.config.max_message,
            request_timeout: self.config.request_timeout,
            pending: std::sync::Mutex::new(HashMap::new()),
            stats: self.stats.clone(),
            connected: self.connected.clone(),
            on_note: self.on_note.clone(),
        };
        let link = Arc::new(link);
        tokio::spawn(link.clone().publisher(inbox));
        // The server's questions go to the other servers through the link;
        // a weak handle, so the server and its link don't keep each other alive.
        let weak = Arc::downgrade(&server);
        let asking = link.clone();
        let runtime = tokio::runtime::Handle::current();
        server.set_asker(Box::new(move |id, question| {
            runtime.spawn(asking.clone().ask(weak.clone(), id, question));
        }));
        tokio::spawn(link.subscriber(server));
    }
}

/// A random uid like the Node adapter's (`uid2(6)`: six characters).
fn server_uid() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 6];
    // Without the OS generator the uid only needs to differ between
    // servers: the clock's nanoseconds do.
    if getrandom::getrandom(&mut bytes).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes.copy_from_slice(&t.to_le_bytes()[..6]);
    }
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// What both tasks share.
struct Link {
    client: redis::Client,
    url: String,
    uid: String,
    channels: Channels,
    max_message: usize,
    request_timeout: Duration,
    /// This server's questions waiting for answers, by request id.
    pending: std::sync::Mutex<HashMap<String, mpsc::UnboundedSender<Value>>>,
    stats: Arc<ClusterStats>,
    connected: Arc<AtomicBool>,
    on_note: Option<NoteSink>,
}

impl Link {
    fn note(&self, n: LinkNote) {
        if let Some(sink) = &self.on_note {
            sink(&n);
        }
    }

    /// Empties the adapter's queue into `PUBLISH`. While Redis is away each
    /// message fails fast and is counted: the queue never waits for Redis.
    async fn publisher(self: Arc<Self>, mut inbox: mpsc::Receiver<Publish>) {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT)
            .set_number_of_retries(1);
        let mut conn = None;
        while let Some(p) = inbox.recv().await {
            if conn.is_none() {
                conn = self
                    .client
                    .get_connection_manager_with_config(config.clone())
                    .await
                    .ok();
            }
            let ok = match conn.as_mut() {
                Some(c) => {
                    let r: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                        .arg(&p.channel)
                        .arg(&p.payload)
                        .query_async(c)
                        .await;
                    r.is_ok()
                }
                None => false,
            };
            if ok {
                ClusterStats::count(&self.stats.published);
            } else {
                ClusterStats::count(&self.stats.publish_failed);
            }
        }
    }

    /// Subscribes, then delivers and answers until the connection drops;
    /// then says so, and reconnects with backoff.
    async fn subscriber(self: Arc<Self>, server: Arc<ChatServer>) {
        let mut backoff = MIN_BACKOFF;
        let mut down_since: Option<(Instant, u64)> = None;
        let mut last_reject_note: Option<Instant> = None;
        loop {
            match self.subscribe().await {
                Ok(pubsub) => {
                    backoff = MIN_BACKOFF;
                    self.connected.store(true, Ordering::Relaxed);
                    match down_since.take() {
                        Some((t, failed_before)) => self.note(LinkNote::Reconnected {
                            after: t.elapsed(),
                            not_published: ClusterStats::get(&self.stats.publish_failed)
                                - failed_before,
                        }),
                        None => self.note(LinkNote::Connected {
                            uid: self.uid.clone(),
                            url: self.url.clone(),
                        }),
                    }
                    let mut stream = pubsub.into_on_message();
                    while let Some(msg) = stream.next().await {
                        let channel = msg.get_channel_name();
                        if let Err(e) = self
                            .on_message(&server, channel, msg.get_payload_bytes())
                            .await
                        {
                            ClusterStats::count(&self.stats.rejected);
                            let quiet = last_reject_note
                                .is_some_and(|t| t.elapsed() < Duration::from_secs(60));
                            if !quiet {
                                last_reject_note = Some(Instant::now());
                                self.note(LinkNote::Rejected {
                                    detail: format!("on {channel}: {e}"),
                                    total: ClusterStats::get(&self.stats.rejected),
                                });
                            }
                        }
                    }
                    self.connected.store(false, Ordering::Relaxed);
                    self.note(LinkNote::CutOff {
                        detail: "the subscription ended (Redis closed the connection)".into(),
                    });
                    down_since = Some((
                        Instant::now(),
                        ClusterStats::get(&self.stats.publish_failed),
                    ));
                }
                Err(e) => {
                    if down_since.is_none() {
                        self.note(LinkNote::CutOff {
                            detail: e.to_string(),
                        });
                        down_since = Some((
                            Instant::now(),
                            ClusterStats::get(&self.stats.publish_failed),
                        ));
                    }
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    async fn subscribe(&self) -> redis::RedisResult<redis::aio::PubSub> {
        let go = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.psubscribe(self.channels.pattern()).await?;
            pubsub
                .subscribe(&[&self.channels.request, &self.channels.response])
                .await?;
            Ok(pubsub)
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, go).await {
            Ok(r) => r,
            Err(_) => Err(redis::RedisError::from((
                redis::ErrorKind::IoError,
                "no answer from Redis",
            ))),
        }
    }

    /// One message from Redis.
    async fn on_message(
        &self,
        server: &ChatServer,
        channel: &str,
        payload: &[u8],
    ) -> Result<(), MessageError> {
        if let Some(room) = self.channels.room_of(channel) {
            // A one-room broadcast for a room nobody here is in: skip it
            // unread, as the Node adapter does.
            if !room.is_empty() && !server.has_room(room) {
                return Ok(());
            }
            return self.on_broadcast(server, payload);
        }
        if channel == self.channels.request {
            return self.on_request(server, payload).await;
        }
        if channel == self.channels.response {
            let answer = decode_request(payload, self.max_message)?;
            let id = answer.get("requestId").and_then(Value::as_str);
            let pending = self.pending.lock().expect("pending lock");
            if let Some(tx) = id.and_then(|id| pending.get(id)) {
                let _ = tx.send(Value::Object(answer));
            }
        }
        Ok(())
    }

    /// Asks the other servers `question`, and delivers the whole answer (or
    /// what came in time, marked partial) to connection `id`.
    async fn ask(self: Arc<Self>, server: Weak<ChatServer>, id: ConnId, question: Question) {
        let Question::Who { room, mut members } = question;
        let partial = match self.fetch_elsewhere(&room).await {
            Ok((found, missing)) => {
                for m in found {
                    if !members.iter().any(|have| have.id == m.id) {
                        members.push(m);
                    }
                }
                members.sort_by(|a, b| a.nick.cmp(&b.nick).then(a.id.cmp(&b.id)));
                missing
            }
            Err(e) => Some(format!(
                "cut off from Redis ({e}): only this server's members are listed"
            )),
        };
        if let Some(server) = server.upgrade() {
            server.deliver(
                id,
                &ServerEvent::Who {
                    room,
                    members,
                    partial,
                },
            );
        }
    }

    /// `fetchSockets` in `room` on every other server (request type 5, as
    /// the Node adapter asks it): the members they hold, and why the list
    /// may be short.
    async fn fetch_elsewhere(
        &self,
        room: &str,
    ) -> redis::RedisResult<(Vec<Member>, Option<String>)> {
        let mut c = tokio::time::timeout(
            CONNECT_TIMEOUT,
            self.client.get_multiplexed_async_connection(),
        )
        .await
        .map_err(|_| {
            redis::RedisError::from((redis::ErrorKind::IoError, "no answer from Redis"))
        })??;
        // How many servers listen for requests, this one included.
        let (_, listening): (String, usize) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&self.channels.request)
            .query_async(&mut c)
            .await?;
        let others = listening.saturating_sub(1);
        if others == 0 {
            return Ok((Vec::new(), None));
        }
        let request_id = server_uid();
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.pending
            .lock()
            .expect("pending lock")
            .insert(request_id.clone(), tx);
        let request = json!({
            "uid": self.uid,
            "requestId": request_id,
            "type": RequestType::RemoteFetch as u8,
            "opts": {"rooms": [room], "except": []},
        });
        let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(&self.channels.request)
            .arg(request.to_string())
            .query_async(&mut c)
            .await;
        let mut found = Vec::new();
        let mut answered = 0;
        if sent.is_ok() {
            let deadline = tokio::time::Instant::now() + self.request_timeout;
            while answered < others {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(answer)) => {
                        answered += 1;
                        found.extend(members_in(&answer));
                    }
                    _ => break,
                }
            }
        }
        self.pending
            .lock()
            .expect("pending lock")
            .remove(&request_id);
        sent?;
        let missing = (answered < others).then(|| {
            format!(
                "{} of {others} other servers did not answer within {:?}",
                others - answered,
                self.request_timeout
            )
        });
        Ok((found, missing))
    }

    fn on_broadcast(&self, server: &ChatServer, payload: &[u8]) -> Result<(), MessageError> {
        let b = Broadcast::decode(payload, self.max_message)?;
        let Some(target) = b.local_target(&self.uid).filter(|_| b.nsp == NAMESPACE) else {
            return Ok(());
        };
        let native = native_of_data(&b.data)
            .ok_or(MessageError::Shape("data is [event name, ...arguments]"))?;
        server.emit(&target, ServerEvent::Relayed(Relayed(native)));
        ClusterStats::count(&self.stats.received);
        Ok(())
    }

    /// A question or command from another server.
    async fn on_request(&self, server: &ChatServer, payload: &[u8]) -> Result<(), MessageError> {
        let req = decode_request(payload, self.max_message)?;
        if req.get("uid").and_then(Value::as_str) == Some(self.uid.as_str()) {
            return Ok(());
        }
        let kind = req
            .get("type")
            .and_then(Value::as_u64)
            .and_then(RequestType::from_number)
            .ok_or(MessageError::Shape("a request has a known numeric type"))?;
        let request_id = req.get("requestId").cloned().unwrap_or(Value::Null);
        let target = target_of(req.get("opts"))?;
        let rooms_arg = strings(req.get("rooms"));
        let answer = match kind {
            RequestType::AllRooms => {
                Some(json!({"requestId": request_id, "rooms": server.room_names()}))
            }
            RequestType::Sockets => {
                let t = Target::rooms(rooms_arg.clone());
                let ids: Vec<String> = server
                    .members_where(&t)
                    .into_iter()
                    .map(|(id, _, _)| id.to_hex())
                    .collect();
                Some(json!({"requestId": request_id, "sockets": ids}))
            }
            RequestType::RemoteFetch => {
                let sockets: Vec<Value> = server
                    .members_where(&target)
                    .into_iter()
                    .map(|(id, nick, rooms)| {
                        json!({"id": id.to_hex(), "handshake": {}, "rooms": rooms, "data": {"nick": nick}})
                    })
                    .collect();
                Some(json!({"requestId": request_id, "sockets": sockets}))
            }
            RequestType::RemoteJoin | RequestType::RemoteLeave => {
                // Either `opts` picks the sockets and `rooms` the rooms, or
                // one socket `sid` and one `room`.
                let (t, rooms) = match req.get("sid").and_then(Value::as_str) {
                    Some(sid) => (Target::rooms([sid]), strings(req.get("room"))),
                    None => (target, rooms_arg),
                };
                for room in &rooms {
                    if kind == RequestType::RemoteJoin {
                        server.join_where(&t, room);
                    } else {
                        server.leave_where(&t, room);
                    }
                }
                req.get("sid").map(|_| json!({"requestId": request_id}))
            }
            RequestType::RemoteDisconnect => {
                let t = match req.get("sid").and_then(Value::as_str) {
                    Some(sid) => Target::rooms([sid]),
                    None => target,
                };
                server.disconnect_where(&t, "another server, over Redis");
                req.get("sid").map(|_| json!({"requestId": request_id}))
            }
            RequestType::Broadcast => {
                // A broadcast whose receivers should answer: delivered, and
                // the sender told that none of the receivers here will (the
                // hub has no acks for server broadcasts).
                let packet = req.get("packet").and_then(Value::as_object);
                let data = packet.and_then(|p| p.get("data")).and_then(Value::as_array);
                let native = data
                    .and_then(|d| native_of_data(d))
                    .ok_or(MessageError::Shape(
                        "a broadcast request carries an event packet",
                    ))?;
                server.emit(&target.only_local(), ServerEvent::Relayed(Relayed(native)));
                Some(
                    json!({"type": RequestType::BroadcastClientCount as u8, "requestId": request_id, "clientCount": 0}),
                )
            }
            // Events for server code (netlab has none) and answers meant
            // for the server that asked.
            RequestType::ServerSideEmit
            | RequestType::BroadcastClientCount
            | RequestType::BroadcastAck => None,
        };
        ClusterStats::count(&self.stats.requests);
        if let Some(answer) = answer {
            self.respond(answer).await;
        }
        Ok(())
    }

    async fn respond(&self, answer: Value) {
        let Ok(mut c) = self.client.get_multiplexed_async_connection().await else {
            return;
        };
        let _: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(&self.channels.response)
            .arg(answer.to_string())
            .query_async(&mut c)
            .await;
    }
}

/// The sockets of a `fetchSockets` answer as members: their id, and the
/// nickname in their `data` when they have one.
fn members_in(answer: &Value) -> Vec<Member> {
    let Some(sockets) = answer.get("sockets").and_then(Value::as_array) else {
        return Vec::new();
    };
    sockets
        .iter()
        .filter_map(|s| {
            let id = s.get("id")?.as_str()?.to_string();
            let nick = s
                .pointer("/data/nick")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            Some(Member { id, nick })
        })
        .collect()
}

/// A request's `opts` (`{rooms, except}`) as a target (absent: everyone).
fn target_of(opts: Option<&Value>) -> Result<Target, MessageError> {
    let Some(opts) = opts else {
        return Ok(Target::everyone().only_local());
    };
    let Value::Object(o) = opts else {
        return Err(MessageError::Shape("opts is an object"));
    };
    Ok(Target {
        rooms: strings(o.get("rooms")),
        except: strings(o.get("except")),
        skip: None,
        local: true,
    })
}

/// A JSON string or array of strings as a list (anything else: empty).
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
