//! `netlab serve`: the chat hub on TCP, UDP and HTTP/WebSocket, every limit a flag.

use super::guard::{guards_line, ServerGuards};
use super::{parse_size, runtime, CliResult};
use crate::chat::heartbeat::HeartbeatConfig;
use crate::chat::id::ConnId;
use crate::chat::limits::{self, Limits};
use crate::term;
use crate::transport::udp_log::{UdpLog, UdpNote};
use crate::transport::{self, ChatServer, ServerConfig, ServerNote};
use clap::Args;
use std::error::Error;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The examples under `netlab serve --help`.
pub(super) const AFTER_HELP: &str = "Prints `listening on tcp://ADDR` first (port 0 picks a free port), then `listening on udp://ADDR` with --udp and `listening on http://ADDR` with --http.\nUDP clients open a session with a padded hello, keep it with heartbeats and leave with bye (or expire).\n\nExamples:\n  netlab serve --tcp 127.0.0.1:7100\n  netlab serve --tcp 127.0.0.1:7100 --udp 127.0.0.1:7101\n  netlab serve --tcp 127.0.0.1:7100 --http 127.0.0.1:8080     (then open http://127.0.0.1:8080/)\n  netlab serve --http 127.0.0.1:8080 --allow-origin http://localhost:3000\n  netlab serve --udp 127.0.0.1:7101 --udp-expiry 5s --udp-heartbeat 1s --udp-max-sessions 100\n  netlab serve --tcp 127.0.0.1:0 --max-rooms 8 --rate 20 --burst 40\n  netlab serve --tcp 0.0.0.0:7100 --quiet\n  netlab serve --tcp 127.0.0.1:7100 --heartbeat 10s --heartbeat-timeout 5s     (drop silent clients within 15s)\n  netlab serve --tcp 127.0.0.1:7100 --history 100 --session-ttl 60s     (lesson 07: resume, join since)\n  netlab serve --tcp 127.0.0.1:7100 --history-file chat.log --confirm-timeout 2s --confirm-retries 3\n  netlab serve --tcp 127.0.0.1:7100 --redis redis://127.0.0.1:6379     (lesson 12: a second server on another port shares the rooms)";

/// `netlab serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address for TCP clients (length-prefixed JSON events).
    #[arg(
        help_heading = "Where clients connect (lessons 03–05, 10)",
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:7100"
    )]
    pub tcp: String,
    /// Address for UDP clients too (one JSON event per datagram; same rooms).
    #[arg(
        help_heading = "Where clients connect (lessons 03–05, 10)",
        long,
        value_name = "ADDR"
    )]
    pub udp: Option<String>,
    /// Address for browsers too: the page at /, JSON events as WebSocket text messages on /ws (same rooms).
    #[arg(
        help_heading = "Where clients connect (lessons 03–05, 10)",
        long,
        value_name = "ADDR"
    )]
    pub http: Option<String>,
    /// A browser origin (e.g. http://localhost:8080) whose pages may use /ws besides this server's own; repeat it, or `*` for any.
    #[arg(
        help_heading = "Where clients connect (lessons 03–05, 10)",
        long = "allow-origin",
        value_name = "ORIGIN"
    )]
    pub allow_origins: Vec<String>,
    /// The server's limits.
    #[command(
        flatten,
        next_help_heading = "Limits: what one client may do (lessons 03–04)"
    )]
    pub limits: LimitArgs,
    /// Limits across every TCP and HTTP connection (floods, stalls).
    #[command(
        flatten,
        next_help_heading = "Limits: the whole server, against floods and stalls (TCP, HTTP)"
    )]
    pub guards: ServerGuards,
    /// Most UDP sessions with a verified address at once (a hello past it gets `bye server_full`).
    #[arg(help_heading = "UDP sessions (lesson 05)", long, value_name = "N", default_value_t = transport::udp::DEFAULT_MAX_SESSIONS)]
    pub udp_max_sessions: usize,
    /// Most UDP sessions still proving their address, in a pool of their own: when full, a new hello replaces the oldest.
    #[arg(help_heading = "UDP sessions (lesson 05)", long, value_name = "N", default_value_t = transport::udp::DEFAULT_MAX_UNVERIFIED)]
    pub udp_max_unverified: usize,
    /// A UDP session whose heartbeat has not echoed its id this long after its hello is reclaimed.
    #[arg(help_heading = "UDP sessions (lesson 05)", long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "5s")]
    pub udp_verify_timeout: Duration,
    /// Most UDP sessions one IP address may hold (past it: its oldest unverified one is replaced, else `bye address_limit`).
    #[arg(help_heading = "UDP sessions (lesson 05)", long, value_name = "N", default_value_t = transport::udp::DEFAULT_MAX_PER_IP)]
    pub udp_max_per_ip: usize,
    /// A UDP session that is silent this long expires (its rooms see it leave).
    #[arg(help_heading = "UDP sessions (lesson 05)", long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "30s")]
    pub udp_expiry: Duration,
    /// How often UDP clients are told to send a heartbeat (below --udp-expiry).
    #[arg(help_heading = "UDP sessions (lesson 05)", long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "10s")]
    pub udp_heartbeat: Duration,
    /// Ping a TCP or WebSocket client after this much silence from it; one that stays silent is dropped (0 = off, as lesson 07's demo runs).
    #[arg(help_heading = "Heartbeats (lesson 07)", long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "25s")]
    pub heartbeat: Duration,
    /// After a ping, a client that sends no frame at all within this is dropped ("heartbeat timeout").
    #[arg(help_heading = "Heartbeats (lesson 07)", long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "20s")]
    pub heartbeat_timeout: Duration,
    /// Missed events: history, sessions and confirmations (lesson 07).
    #[command(
        flatten,
        next_help_heading = "Missed events: history, sessions, confirmations (lesson 07)"
    )]
    pub history: HistoryArgs,
    /// Socket.IO (on --http, path /socket.io/): time between the server's pings.
    #[arg(help_heading = "Socket.IO on --http (lesson 10)", long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "25s")]
    pub ping_interval: Duration,
    /// Socket.IO: a client that does not answer a ping within this is dropped.
    #[arg(help_heading = "Socket.IO on --http (lesson 10)", long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "20s")]
    pub ping_timeout: Duration,
    /// Socket.IO: also offer this namespace (e.g. /admin), with rooms of its own; repeat it (/ is always offered).
    #[arg(
        help_heading = "Socket.IO on --http (lesson 10)",
        long = "namespace",
        value_name = "NSP"
    )]
    pub namespaces: Vec<String>,
    /// Many servers, one chat (lesson 12).
    #[command(
        flatten,
        next_help_heading = "Many servers, one chat: rooms shared over Redis (lesson 12)"
    )]
    pub redis: RedisArgs,
    /// Don't log connections and disconnections.
    #[arg(help_heading = RUNNING, long, short)]
    pub quiet: bool,
    /// When stopped (Ctrl-C, SIGTERM), print the server's counts as one JSON object on stdout (docs/commands.md).
    #[arg(help_heading = RUNNING, long)]
    pub json: bool,
    /// Worker threads (default: one per core this process may use).
    #[arg(help_heading = RUNNING, long, value_name = "N")]
    pub threads: Option<usize>,
}

/// The heading of the flags about the process itself (logs, report, threads).
const RUNNING: &str = "Running the server";

/// Lesson 12's flags: share rooms with other servers over Redis.
#[derive(Debug, Args, Clone)]
pub struct RedisArgs {
    /// Share every broadcast with the other servers on this Redis (e.g. redis://127.0.0.1:6379), in the format of Socket.IO's Redis adapter, so Node Socket.IO servers share the rooms too.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// The prefix of every channel (`KEY#/#`, `KEY-request#/#`): servers share rooms only under the same key.
    #[arg(long, value_name = "KEY", default_value = crate::cluster::message::DEFAULT_KEY)]
    pub redis_key: String,
    /// If Redis cannot be reached at start, serve this server's clients alone (and keep trying) instead of stopping.
    #[arg(long)]
    pub redis_optional: bool,
    /// Largest message taken from Redis; bigger ones are counted and dropped.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = crate::cluster::message::DEFAULT_MAX_MESSAGE)]
    pub redis_max_message: usize,
    /// How long `who` waits for the other servers' members; those that don't answer in time are left out and the answer says it is partial.
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "2s")]
    pub redis_timeout: Duration,
}

impl RedisArgs {
    /// The link's configuration (`None`: no `--redis`).
    pub fn config(&self) -> Option<transport::redis::RedisConfig> {
        let url = self.redis.as_ref()?;
        let mut c = transport::redis::RedisConfig::new(url);
        c.key = self.redis_key.clone();
        c.optional = self.redis_optional;
        c.max_message = self.redis_max_message;
        c.request_timeout = self.redis_timeout;
        Some(c)
    }
}

/// Lesson 07's flags: what the hub does for a client that missed events.
#[derive(Debug, Args, Clone)]
pub struct HistoryArgs {
    /// Keep the last N events of each room, id and `*` (each with a per-key seq) and offer sessions a reconnecting client can resume (0 = off).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub history: usize,
    /// Most rooms and connection ids that keep a history ring (`*` besides); past it the least recently recorded one is dropped, and a client asking for its events gets `gap`.
    #[arg(long, value_name = "N", default_value_t = crate::chat::history::DEFAULT_HISTORY_KEYS)]
    pub history_keys: usize,
    /// Durable history: append every recorded event to PATH and rebuild the history from it on start (implies --history 1000 unless given).
    #[arg(long, value_name = "PATH")]
    pub history_file: Option<std::path::PathBuf>,
    /// How long a disconnected session waits to be resumed before it leaves its rooms.
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "120s")]
    pub session_ttl: Duration,
    /// Recorded events must be confirmed with `seen` within this, else they are resent from history (0 = off).
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "0")]
    pub confirm_timeout: Duration,
    /// Resends of unconfirmed events before the peer is treated as dead (its session stays resumable).
    #[arg(long, value_name = "N", default_value_t = crate::chat::history::DEFAULT_CONFIRM_RETRIES)]
    pub confirm_retries: u32,
}

impl HistoryArgs {
    /// The history configuration these flags describe.
    pub fn config(&self) -> Result<crate::chat::history::HistoryConfig, String> {
        let len = match (self.history, &self.history_file) {
            (0, Some(_)) => crate::chat::history::DEFAULT_FILE_HISTORY,
            (n, _) => n,
        };
        let on = len > 0;
        if !on && !self.confirm_timeout.is_zero() {
            return Err("--confirm-timeout resends from history: give --history N too".into());
        }
        if self.history_keys == 0 {
            return Err("--history-keys must be at least 1".into());
        }
        if on && self.session_ttl.is_zero() {
            return Err(
                "--session-ttl must be above 0 (a session must be resumable for some time)".into(),
            );
        }
        Ok(crate::chat::history::HistoryConfig {
            len,
            file: self.history_file.clone(),
            session_ttl: self.session_ttl,
            confirm_timeout: (!self.confirm_timeout.is_zero()).then_some(self.confirm_timeout),
            confirm_retries: self.confirm_retries,
            max_keys: self.history_keys,
        })
    }
}

/// Every limit of the chat server, as flags.
#[derive(Debug, Args, Clone)]
pub struct LimitArgs {
    /// Largest frame a client may send (e.g. 65536, 64KiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = limits::DEFAULT_MAX_FRAME)]
    pub max_frame: usize,
    /// Longest nickname (characters: letters, digits, - _ .).
    #[arg(long, value_name = "N", default_value_t = limits::DEFAULT_MAX_NICK)]
    pub max_nick: usize,
    /// Longest room name (characters: letters, digits, - _ .).
    #[arg(long, value_name = "N", default_value_t = limits::DEFAULT_MAX_ROOM)]
    pub max_room: usize,
    /// Most rooms one connection may be in.
    #[arg(long, value_name = "N", default_value_t = limits::DEFAULT_MAX_ROOMS)]
    pub max_rooms: usize,
    /// Longest message text in bytes.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = limits::DEFAULT_MAX_TEXT)]
    pub max_text: usize,
    /// Sustained events per second per connection.
    #[arg(long, value_name = "N", default_value_t = limits::DEFAULT_RATE)]
    pub rate: u32,
    /// Events a connection may send at once before --rate applies.
    #[arg(long, value_name = "N", default_value_t = limits::DEFAULT_BURST)]
    pub burst: u32,
    /// Violations in a row after which a connection is closed.
    #[arg(long, value_name = "N", default_value_t = limits::DEFAULT_MAX_STRIKES)]
    pub max_strikes: u32,
    /// Outbound queue per connection, in events (when full, the oldest is dropped).
    #[arg(long, value_name = "N", default_value_t = limits::DEFAULT_MAX_QUEUE)]
    pub max_queue: usize,
    /// Most connections at once.
    #[arg(long, value_name = "N", default_value_t = limits::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
}

impl LimitArgs {
    /// The server configuration these flags describe.
    pub fn config(&self) -> Result<ServerConfig, String> {
        if self.max_strikes == 0 || self.burst == 0 || self.max_queue == 0 || self.max_nick == 0 {
            return Err(
                "--max-strikes, --burst, --max-queue and --max-nick must be at least 1".into(),
            );
        }
        Ok(ServerConfig {
            limits: Limits {
                max_nick: self.max_nick,
                max_room: self.max_room,
                max_rooms: self.max_rooms,
                max_text: self.max_text,
                rate: self.rate,
                burst: self.burst,
                max_strikes: self.max_strikes,
            },
            max_frame: self.max_frame,
            max_queue: self.max_queue,
            max_connections: self.max_connections,
            ..ServerConfig::default()
        })
    }
}

pub(super) fn run(args: ServeArgs) -> CliResult {
    let mut config = args.limits.config()?;
    config.heartbeat = args.heartbeat_config()?;
    args.guard_config(&mut config);
    config.history = args.history.config()?;
    let udp_config = args.udp_config()?;
    if args.ping_interval.is_zero() || args.ping_timeout.is_zero() {
        return Err("--ping-interval and --ping-timeout must be above 0".into());
    }
    if let Some(bad) = args
        .namespaces
        .iter()
        .find(|n| !crate::web::socketio::packet::valid_namespace(n))
    {
        return Err(format!("--namespace {bad:?}: a namespace is / then at most 63 visible ASCII characters, without , ? or #").into());
    }
    let redis = args.redis.config();
    if redis.is_some() && config.history.enabled() {
        return Err("--history with --redis: history shared across servers is not built yet; run --redis without --history and --history-file".into());
    }
    let quiet = args.quiet;
    runtime(args.threads)?.block_on(async move {
        // Redis and the history file first: a server that cannot use them
        // must not say it is listening.
        let mut cluster = match redis {
            Some(c) => Some(transport::redis::Cluster::connect(c).await?.with_observer(print_link_note)),
            None => None,
        };
        let (server, recovery) = match &cluster {
            Some(c) => (ChatServer::with_adapter(config.clone(), Box::new(c.adapter())), None),
            None => ChatServer::open(config.clone()).map_err(|e| e.to_string())?,
        };
        let listener = tokio::net::TcpListener::bind(&args.tcp)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.tcp))?;
        // The first line is machine-readable: scripts started with port 0 read it.
        let stop = super::guard::ctrl_c_armed();
        println!("listening on tcp://{}", listener.local_addr()?);
        let udp = match &args.udp {
            Some(a) => {
                let s = tokio::net::UdpSocket::bind(a)
                    .await
                    .map_err(|e| format!("cannot listen on udp {a}: {e}"))?;
                println!("listening on udp://{}", s.local_addr()?);
                Some(s)
            }
            None => None,
        };
        let http = match &args.http {
            Some(a) => {
                let l = tokio::net::TcpListener::bind(a)
                    .await
                    .map_err(|e| format!("cannot listen on http {a}: {e}"))?;
                println!("listening on http://{}", l.local_addr()?);
                Some(l)
            }
            None => None,
        };
        anstream::eprintln!(
            "{}",
            term::dim(format!(
                "chat hub: JSON events in length-prefixed frames; max frame {} B, {} rooms per connection, {}/s (burst {}); Ctrl-C stops",
                config.max_frame, config.limits.max_rooms, config.limits.rate, config.limits.burst
            ))
        );
        anstream::eprintln!(
            "{}",
            term::dim(format!(
                "guards: {}; {}",
                guards_line(&args.guards, None),
                match config.heartbeat {
                    Some(h) => format!("silent TCP/WebSocket clients pinged after {:?}, dropped {:?} later (--heartbeat)", h.interval, h.timeout),
                    None => "heartbeats off: a silent client keeps its slot".into(),
                }
            ))
        );
        if udp.is_some() {
            anstream::eprintln!(
                "{}",
                term::dim(format!(
                    "udp: one JSON event per datagram (at most {} B); sessions start with a padded hello, expire after {:?} of silence; at most {} sessions, {} per address, and {} still proving their address (reclaimed after {:?})",
                    crate::udp::MAX_DATAGRAM_PAYLOAD, udp_config.expiry, udp_config.max_sessions,
                    udp_config.max_per_ip, udp_config.max_unverified, udp_config.verify_timeout
                ))
            );
        }
        if let Some(l) = &http {
            anstream::eprintln!(
                "{}",
                term::dim(format!(
                    "http: open http://{}/ in a browser; JSON events as WebSocket text messages on {}, Socket.IO (EIO=4: long-polling, then the WebSocket upgrade) on {}; other sites' pages refused{}",
                    l.local_addr()?,
                    crate::web::WS_PATH,
                    crate::web::SOCKETIO_PATH,
                    if args.allow_origins.is_empty() { String::new() } else { format!(" except {}", args.allow_origins.join(", ")) }
                ))
            );
        }
        if config.history.enabled() {
            let h = &config.history;
            if h.len > config.max_queue {
                anstream::eprintln!(
                    "{} --history {} is above --max-queue {}: a replay longer than the queue loses its oldest events (the client sees `dropped`); raise --max-queue",
                    term::bad("!"),
                    h.len,
                    config.max_queue
                );
            }
            anstream::eprintln!(
                "{}",
                term::dim(format!(
                    "history: last {} events per room/id/everyone, for at most {} rooms and ids{}; sessions resumable for {:?}; {}",
                    h.len,
                    h.max_keys,
                    h.file.as_ref().map(|f| format!(", appended to {}", f.display())).unwrap_or_default(),
                    h.session_ttl,
                    match h.confirm_timeout {
                        Some(t) => format!("unconfirmed events resent after {t:?}, peer dropped after {} resends", h.confirm_retries),
                        None => "no confirmations asked".into(),
                    }
                ))
            );
        }
        if let Some(r) = recovery {
            anstream::eprintln!(
                "{}",
                term::dim(format!("history file: {} records read back", r.records))
            );
            if let Some(torn) = r.torn {
                anstream::eprintln!(
                    "{} history file: a torn last record ({} bytes at offset {}, a crash mid-write) was cut off",
                    term::bad("!"),
                    torn.bytes,
                    torn.offset
                );
            }
        }
        // A UDP session's lines wait until it proves its address; those that
        // never do are summed up per episode (transport::udp_log).
        let udp_log = Arc::new(Mutex::new(UdpLog::new()));
        let hub_log = udp_log.clone();
        let server = server.with_observer(move |note| {
            // Accept failures are printed even with --quiet: the server is in trouble.
            if quiet && !matches!(note, ServerNote::Accept(_)) {
                return;
            }
            if hub_log.lock().expect("udp log lock").show(note) {
                print_note(note);
            }
        });
        let server = Arc::new(server);
        server.start_ticker();
        if let Some(c) = cluster.as_mut() {
            anstream::eprintln!(
                "{}",
                term::dim(format!(
                    "redis: every broadcast shared on {} as server {} (channels {key}#/#…, {key}-request#/#), in the format of Socket.IO's Redis adapter",
                    args.redis.redis.as_deref().unwrap_or_default(),
                    c.uid(),
                    key = args.redis.redis_key,
                ))
            );
            c.start(server.clone());
        }
        let udp = async {
            match udp {
                Some(socket) => {
                    udp_serve(socket, server.clone(), udp_config, quiet, udp_log).await
                }
                None => std::future::pending().await,
            }
        };
        let web_config = crate::web::WebConfig {
            allowed_origins: args.allow_origins.clone(),
            heartbeat: crate::web::socketio::Heartbeat {
                interval: args.ping_interval,
                timeout: args.ping_timeout,
            },
            namespaces: args.namespaces.clone(),
            ..Default::default()
        };
        let web = async {
            match http {
                Some(l) => crate::web::serve(l, server.clone(), web_config).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = transport::tcp::serve(listener, server.clone()) => r?,
            r = udp => r?,
            r = web => r?,
            _ = stop => {}
        }
        let redis = cluster.as_ref().map(|c| c.stats().snapshot());
        super::guard::print_serve_report(args.json, &server, redis)?;
        Ok::<_, Box<dyn Error>>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

impl ServeArgs {
    /// Puts the whole-server limits (`--frame-timeout`, `--max-memory`,
    /// `--max-per-ip`) into `config`.
    pub fn guard_config(&self, config: &mut ServerConfig) {
        config.frame_timeout = self.guards.frame_timeout();
        config.max_memory = self.guards.max_memory;
        config.max_per_ip = self.guards.max_per_ip;
    }

    /// The native transports' heartbeat these flags describe (`None`: off).
    pub fn heartbeat_config(&self) -> Result<Option<HeartbeatConfig>, String> {
        if self.heartbeat.is_zero() {
            return Ok(None);
        }
        if self.heartbeat_timeout.is_zero() {
            return Err(
                "--heartbeat-timeout must be above 0 (a pinged client needs time to answer)".into(),
            );
        }
        Ok(Some(HeartbeatConfig {
            interval: self.heartbeat,
            timeout: self.heartbeat_timeout,
        }))
    }

    /// The UDP transport's limits these flags describe.
    pub fn udp_config(&self) -> Result<transport::udp::UdpConfig, String> {
        if self.udp_max_sessions == 0
            || self.udp_max_unverified == 0
            || self.udp_max_per_ip == 0
            || self.udp_verify_timeout.is_zero()
            || self.udp_heartbeat.is_zero()
            || self.udp_heartbeat >= self.udp_expiry
        {
            return Err("--udp-max-sessions, --udp-max-unverified and --udp-max-per-ip must be at least 1, --udp-verify-timeout above 0, and --udp-heartbeat above 0 and below --udp-expiry".into());
        }
        Ok(transport::udp::UdpConfig {
            max_sessions: self.udp_max_sessions,
            max_unverified: self.udp_max_unverified,
            verify_timeout: self.udp_verify_timeout,
            max_per_ip: self.udp_max_per_ip,
            expiry: self.udp_expiry,
            heartbeat: self.udp_heartbeat,
        })
    }
}

/// One line of the server's log for a hub note.
/// The Redis link's notes; trouble is said even with --quiet.
fn print_link_note(note: &transport::redis::LinkNote) {
    use transport::redis::LinkNote;
    match note {
        LinkNote::Connected { url, .. } => {
            anstream::eprintln!("{} redis: subscribed on {url}", term::good("="))
        }
        LinkNote::CutOff { detail } => anstream::eprintln!(
            "{} redis: cut off ({detail}); this server's clients are still served, other servers are out of reach until it is back",
            term::bad("!")
        ),
        LinkNote::Reconnected { after, not_published } => anstream::eprintln!(
            "{} redis: back after {:.1} s; {not_published} broadcasts from here could not reach the other servers meanwhile (pub/sub keeps nothing for the absent)",
            term::good("="),
            after.as_secs_f64()
        ),
        LinkNote::Rejected { detail, total } => anstream::eprintln!(
            "{} redis: dropped a message ({total} so far): {}",
            term::bad("!"),
            term::peer_text(detail)
        ),
    }
}

fn print_note(note: &ServerNote) {
    match note {
        ServerNote::Connected { id, peer } => {
            anstream::eprintln!("{} {} connected ({peer})", term::good("+"), id.short())
        }
        ServerNote::Disconnecting { id, rooms } => anstream::eprintln!(
            "{} {} disconnecting from {}",
            term::dim("-"),
            id.short(),
            rooms
                .iter()
                .map(|r| match r.parse::<ConnId>() {
                    Ok(own) => own.short(),
                    Err(_) => term::peer_text(r).into_owned(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ServerNote::Disconnected { id, reason } => {
            anstream::eprintln!(
                "{} {} disconnected: {}",
                term::dim("-"),
                id.short(),
                term::peer_text(reason)
            )
        }
        ServerNote::Accept(report) => anstream::eprintln!("{} {report}", term::bad("!")),
        ServerNote::AddressFull { peer, error } => {
            anstream::eprintln!("{} {peer} refused: {error}", term::bad("!"))
        }
        ServerNote::Detached { id, reason } => anstream::eprintln!(
            "{} {} detached ({}): resumable, still in its rooms",
            term::dim("~"),
            id.short(),
            term::peer_text(reason)
        ),
        ServerNote::Resumed { id, from } => anstream::eprintln!(
            "{} {} resumed (on the connection first known as {})",
            term::good("+"),
            id.short(),
            from.short()
        ),
        ServerNote::Closed { id } => anstream::eprintln!(
            "{} {} closed by the server (broke the rules)",
            term::bad("!"),
            id.short()
        ),
    }
}

/// Serves UDP, printing the transport's counters (drops, sessions) each
/// second they change, a session's `connected` line once it has proved its
/// address (`log` held it back), and a line per episode of sessions that
/// never did.
async fn udp_serve(
    socket: tokio::net::UdpSocket,
    server: Arc<ChatServer>,
    config: transport::udp::UdpConfig,
    quiet: bool,
    log: Arc<Mutex<UdpLog>>,
) -> std::io::Result<()> {
    let stats = transport::udp::new_stats();
    let report = {
        let stats = stats.clone();
        async move {
            let mut last = stats.snapshot();
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                let now = stats.snapshot();
                if now != last && !quiet {
                    anstream::eprintln!("{}", term::dim(now.to_string()));
                }
                last = now;
            }
        }
    };
    tokio::select! {
        r = transport::udp::serve_with_notes(socket, server, config, stats, move |note| {
            if quiet {
                return;
            }
            match note {
                UdpNote::Verified { id } => {
                    let held = log.lock().expect("udp log lock").verified(*id);
                    if let Some(connected) = held {
                        print_note(&connected);
                    }
                }
                UdpNote::Unverified(report) => {
                    anstream::eprintln!("{} {report}", term::dim("-"))
                }
            }
        }) => r,
        _ = report => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `netlab serve ...` as clap parses it (`argv` starts with "netlab", "serve").
    fn serve_args<'a>(argv: impl IntoIterator<Item = &'a &'a str>) -> Result<ServeArgs, String> {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        match cli.command {
            crate::cli::Command::Serve(args) => Ok(args),
            other => panic!("parsed as another command: {other:?}"),
        }
    }

    #[test]
    fn every_limit_flag_reaches_its_own_field() {
        let args = serve_args(&[
            "netlab",
            "serve",
            "--max-frame",
            "1KiB",
            "--max-nick",
            "3",
            "--max-room",
            "4",
            "--max-rooms",
            "5",
            "--max-text",
            "6",
            "--rate",
            "7",
            "--burst",
            "8",
            "--max-strikes",
            "9",
            "--max-queue",
            "10",
            "--max-connections",
            "11",
        ])
        .unwrap();
        let c = args.limits.config().unwrap();
        assert_eq!(
            c,
            ServerConfig {
                limits: Limits {
                    max_nick: 3,
                    max_room: 4,
                    max_rooms: 5,
                    max_text: 6,
                    rate: 7,
                    burst: 8,
                    max_strikes: 9,
                },
                max_frame: 1024,
                max_queue: 10,
                max_connections: 11,
                ..ServerConfig::default()
            }
        );
    }

    #[test]
    fn the_defaults_are_the_named_constants() {
        let args = serve_args(&["netlab", "serve"]).unwrap();
        assert_eq!(args.limits.config().unwrap(), ServerConfig::default());
    }

    fn history_flags(flags: &[&str]) -> Result<crate::chat::history::HistoryConfig, String> {
        serve_args(["netlab", "serve"].iter().chain(flags))?
            .history
            .config()
    }

    #[test]
    fn history_is_off_unless_asked_for() {
        use crate::chat::history::*;
        assert_eq!(history_flags(&[]).unwrap(), HistoryConfig::default());
        assert!(!HistoryConfig::default().enabled());
        let c = history_flags(&["--history-file", "h.log"]).unwrap();
        assert_eq!(c.len, DEFAULT_FILE_HISTORY, "a file implies a history");
        let c = history_flags(&[
            "--history",
            "5",
            "--session-ttl",
            "3s",
            "--confirm-timeout",
            "250ms",
            "--confirm-retries",
            "7",
            "--history-keys",
            "9",
        ])
        .unwrap();
        assert_eq!(
            c,
            HistoryConfig {
                len: 5,
                file: None,
                session_ttl: Duration::from_secs(3),
                confirm_timeout: Some(Duration::from_millis(250)),
                confirm_retries: 7,
                max_keys: 9,
            }
        );
        assert!(history_flags(&["--confirm-timeout", "1s"])
            .unwrap_err()
            .contains("--history"));
        assert!(history_flags(&["--history", "5", "--session-ttl", "0"]).is_err());
        assert!(history_flags(&["--history", "5", "--history-keys", "0"])
            .unwrap_err()
            .contains("--history-keys"));
        assert_eq!(
            history_flags(&["--history", "5", "--history-keys", "1"])
                .unwrap()
                .max_keys,
            1
        );
    }

    #[test]
    fn the_udp_flags_reach_their_fields_and_default_to_the_constants() {
        let parse = |argv: &[&str]| {
            let args = serve_args(argv).unwrap();
            args.udp_config()
        };
        assert_eq!(
            parse(&["netlab", "serve"]).unwrap(),
            transport::udp::UdpConfig::default()
        );
        assert_eq!(
            parse(&[
                "netlab",
                "serve",
                "--udp-max-sessions",
                "3",
                "--udp-expiry",
                "2s",
                "--udp-heartbeat",
                "500ms",
                "--udp-max-unverified",
                "4",
                "--udp-verify-timeout",
                "1500ms",
                "--udp-max-per-ip",
                "5"
            ])
            .unwrap(),
            transport::udp::UdpConfig {
                max_sessions: 3,
                max_unverified: 4,
                verify_timeout: Duration::from_millis(1500),
                max_per_ip: 5,
                expiry: Duration::from_secs(2),
                heartbeat: Duration::from_millis(500),
            }
        );
        // The heartbeat must come more often than the expiry: just below fits, equal does not.
        assert!(parse(&[
            "netlab",
            "serve",
            "--udp-expiry",
            "1s",
            "--udp-heartbeat",
            "999ms"
        ])
        .is_ok());
        assert!(parse(&[
            "netlab",
            "serve",
            "--udp-expiry",
            "1s",
            "--udp-heartbeat",
            "1s"
        ])
        .is_err());
        for zero in [
            "--udp-max-sessions",
            "--udp-max-unverified",
            "--udp-max-per-ip",
            "--udp-verify-timeout",
        ] {
            assert!(parse(&["netlab", "serve", zero, "0"]).is_err(), "{zero} 0");
        }
    }

    #[test]
    fn the_guard_flags_reach_their_fields_and_default_to_the_constants() {
        let parse = |argv: &[&str]| {
            let args = serve_args(argv).unwrap();
            let mut c = ServerConfig {
                frame_timeout: None,
                max_memory: 1,
                max_per_ip: 1,
                ..ServerConfig::default()
            };
            args.guard_config(&mut c);
            (c.frame_timeout, c.max_memory, c.max_per_ip)
        };
        let d = ServerConfig::default();
        assert_eq!(
            parse(&["netlab", "serve"]),
            (d.frame_timeout, d.max_memory, d.max_per_ip)
        );
        assert_eq!(
            parse(&[
                "netlab",
                "serve",
                "--frame-timeout",
                "300ms",
                "--max-memory",
                "1MiB",
                "--max-per-ip",
                "3"
            ]),
            (Some(Duration::from_millis(300)), 1 << 20, 3)
        );
        assert_eq!(
            parse(&[
                "netlab",
                "serve",
                "--frame-timeout",
                "0",
                "--max-memory",
                "0",
                "--max-per-ip",
                "0"
            ]),
            (None, 0, 0)
        );
    }

    #[test]
    fn the_heartbeat_flags_reach_their_fields_and_default_to_on() {
        let parse = |argv: &[&str]| {
            let args = serve_args(argv).unwrap();
            args.heartbeat_config()
        };
        assert_eq!(
            parse(&["netlab", "serve"]).unwrap(),
            ServerConfig::default().heartbeat,
            "on by default, at the named constants"
        );
        assert_eq!(
            parse(&["netlab", "serve", "--heartbeat", "0"]).unwrap(),
            None
        );
        assert_eq!(
            parse(&["netlab", "serve", "--heartbeat", "10s"]).unwrap(),
            Some(HeartbeatConfig {
                interval: Duration::from_secs(10),
                timeout: Duration::from_secs(20),
            })
        );
        assert_eq!(
            parse(&[
                "netlab",
                "serve",
                "--heartbeat",
                "1.5s",
                "--heartbeat-timeout",
                "300ms"
            ])
            .unwrap(),
            Some(HeartbeatConfig {
                interval: Duration::from_millis(1500),
                timeout: Duration::from_millis(300),
            })
        );
        assert!(parse(&[
            "netlab",
            "serve",
            "--heartbeat",
            "1s",
            "--heartbeat-timeout",
            "0"
        ])
        .is_err());
    }
}
