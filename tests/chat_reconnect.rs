//! `netlab chat` losing its connection, with the real binaries: a TCP proxy
//! sits between the chat client and `netlab serve`, and the test cuts it
//! (both sockets closed: a network cut) or freezes it (sockets open, nothing
//! forwarded: a laptop lid closed somewhere on the path). The client must
//! notice, reconnect by itself, and show what the server's settings promise:
//! without history, the events said meanwhile are gone (at-most-once); with
//! `--history`, each of them exactly once after "resumed".

mod support;

use support::{say, Proc, Proxy};

use netlab::chat::protocol::ClientEvent;
use netlab::client::tcp::{AckOutcome, ChatClient};
use std::process::Command;
use std::time::Duration;

/// Bound for "this line must appear": a hang fails instead of blocking.
const PATIENCE: Duration = Duration::from_secs(30);

fn serve(extra: &[&str]) -> (Proc, String) {
    let mut args = vec!["serve", "--quiet"];
    if !extra.contains(&"--tcp") {
        args.extend(["--tcp", "127.0.0.1:0"]);
    }
    args.extend_from_slice(extra);
    let mut server = Proc::spawn(&args);
    let first = server.expect("listening on ");
    let addr = first
        .trim_start_matches("listening on tcp://")
        .trim()
        .to_string();
    (server, addr)
}

async fn watcher(server: &str) -> ChatClient {
    member(server, "bob").await
}

/// A library client named `nick` in lobby (nicknames are unique per server).
async fn member(server: &str, nick: &str) -> ChatClient {
    let mut bob = ChatClient::connect(server).await.unwrap();
    for e in [
        ClientEvent::Nick { nick: nick.into() },
        ClientEvent::Join {
            room: "lobby".into(),
            since: None,
        },
    ] {
        assert!(matches!(bob.call(e).await.unwrap(), AckOutcome::Reached(_)));
    }
    bob
}

/// Waits (off the async threads) for a line from a chat process.
async fn expect(p: &mut Proc, text: &str) -> String {
    tokio::task::block_in_place(|| p.expect(text))
}

/// `netlab chat URL --nick ana --room lobby EXTRA…`, returned once it has
/// joined and reads typed lines (an answer to `/rooms` proves it), so a cut
/// made afterwards never lands before the client has settled.
async fn ana_in_lobby(url: &str, extra: &[&str]) -> Proc {
    let mut args = vec!["chat", url, "--nick", "ana", "--room", "lobby"];
    args.extend_from_slice(extra);
    let mut ana = Proc::spawn(&args);
    expect(&mut ana, "[lobby] → ana (you) joined").await;
    ana.type_line("/rooms");
    expect(&mut ana, "your rooms:").await;
    ana
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_history_a_cut_client_reconnects_and_what_was_said_meanwhile_is_lost() {
    let (_server, server_addr) = serve(&[]);
    let proxy = Proxy::start(server_addr.clone()).await;
    let mut bob = watcher(&server_addr).await;
    let url = format!("tcp://{}", proxy.addr);
    let mut ana = ana_in_lobby(&url, &["--reconnect"]).await;

    proxy.cut();
    expect(&mut ana, "connection lost").await;
    let line = expect(&mut ana, "reconnecting in").await;
    assert!(line.ends_with("s…"), "{line}");
    // Said while ana is away: at-most-once, she never sees it.
    bob.call(say("said during the cut")).await.unwrap();
    expect(&mut ana, "reconnected as a new connection").await;
    expect(&mut ana, "[lobby] → ana (you) joined").await;
    bob.call(say("welcome back")).await.unwrap();
    assert_eq!(
        expect(&mut ana, "bob:").await,
        "[lobby] bob: welcome back",
        "the event said while away was lost, the one after arrives"
    );
    let (ok, lines) = tokio::task::block_in_place(|| ana.finish());
    assert!(ok, "{lines:#?}");
    assert!(
        !lines.iter().any(|l| l.contains("said during the cut")),
        "{lines:#?}"
    );
    assert_eq!(proxy.connections(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_path_is_noticed_by_the_heartbeat_and_the_client_comes_back() {
    let (_server, server_addr) = serve(&[]);
    let proxy = Proxy::start(server_addr.clone()).await;
    let mut bob = watcher(&server_addr).await;
    let url = format!("tcp://{}", proxy.addr);
    let mut ana = ana_in_lobby(
        &url,
        &[
            "--reconnect",
            "--heartbeat",
            "1s",
            "--heartbeat-timeout",
            "1s",
        ],
    )
    .await;
    proxy.freeze();
    // Nothing closes: only the unanswered ping tells the client.
    let lost = expect(&mut ana, "connection lost").await;
    assert!(lost.contains("did not answer a ping"), "{lost}");
    // Without history she comes back as a new connection while the old one
    // is still open on the server (frozen, never closed): it still holds the
    // name, so the new one is refused `ana` (nicknames are unique per
    // server) and is back in the room under its guest name.
    let refused = expect(&mut ana, "refused (nick_taken)").await;
    assert!(refused.contains("`ana` is taken"), "{refused}");
    expect(&mut ana, "[lobby] → guest-").await;
    bob.call(say("are you back?")).await.unwrap();
    assert_eq!(expect(&mut ana, "bob:").await, "[lobby] bob: are you back?");
    assert_eq!(proxy.connections(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_reconnect_a_cut_ends_the_session() {
    let (_server, server_addr) = serve(&[]);
    let proxy = Proxy::start(server_addr).await;
    let url = format!("tcp://{}", proxy.addr);
    let mut ana = Proc::spawn(&["chat", &url, "--nick", "ana", "--room", "lobby"]);
    expect(&mut ana, "[lobby] → ana (you) joined").await;
    // Typed lines are read once the nick and room are settled: an answer proves it.
    ana.type_line("/rooms");
    expect(&mut ana, "your rooms:").await;
    proxy.cut();
    expect(&mut ana, "connection closed").await;
    let status = tokio::task::block_in_place(|| ana.child.wait().unwrap());
    assert!(status.success(), "nothing was left unanswered");
    assert_eq!(proxy.connections(), 1, "no reconnect without a session");
}

/// With `--history`, the cut client resumes and shows exactly the missed
/// events, once each, in order; then live traffic goes on.
async fn resumes_and_shows_exactly_the_missed_events(ws: bool) {
    let (mut server, tcp_addr) = serve(&["--history", "100", "--http", "127.0.0.1:0"]);
    let http = tokio::task::block_in_place(|| server.expect("listening on http://"))
        .trim_start_matches("listening on http://")
        .trim()
        .to_string();
    let proxy = Proxy::start(if ws { http } else { tcp_addr.clone() }).await;
    let mut bob = watcher(&tcp_addr).await;
    let url = if ws {
        format!("ws://{}/ws", proxy.addr)
    } else {
        format!("tcp://{}", proxy.addr)
    };
    // No --reconnect: the session in the welcome turns it on.
    let mut ana = Proc::spawn(&["chat", &url, "--nick", "ana", "--room", "lobby"]);
    // Settled (nick and room acknowledged): the session is kept from here.
    expect(&mut ana, "this session resumes").await;
    bob.call(say("before the cut")).await.unwrap();
    expect(&mut ana, "before the cut").await;

    proxy.cut();
    for text in ["missed one", "missed two", "missed three"] {
        bob.call(say(text)).await.unwrap();
    }
    expect(&mut ana, "reconnecting in").await;
    expect(&mut ana, "resumed: 3 missed events replayed").await;
    expect(&mut ana, "missed three").await;
    bob.call(say("live again")).await.unwrap();
    expect(&mut ana, "live again").await;
    ana.type_line("/who");
    let who = expect(&mut ana, "in lobby:").await;
    assert!(who.contains("ana (you)") && who.contains("bob"), "{who}");
    let (ok, lines) = tokio::task::block_in_place(|| ana.finish());
    assert!(ok, "{lines:#?}");
    let said: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("[lobby] bob: "))
        .collect();
    assert_eq!(
        said,
        vec![
            "before the cut",
            "missed one",
            "missed two",
            "missed three",
            "live again"
        ],
        "each event exactly once, in order: {lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("ana disconnected")),
        "a resumed session never left the room: {lines:#?}"
    );
    assert_eq!(proxy.connections(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_history_a_cut_tcp_client_resumes_with_exactly_the_missed_events() {
    resumes_and_shows_exactly_the_missed_events(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_history_a_cut_ws_client_resumes_with_exactly_the_missed_events() {
    resumes_and_shows_exactly_the_missed_events(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_rejoins_its_room_since_the_last_seq_seen() {
    // The session outlives the cut by 300 ms only; the proxy stays frozen
    // longer, so the resume is refused and the client joins again with `since`.
    let (_server, server_addr) = serve(&["--history", "100", "--session-ttl", "300ms"]);
    let proxy = Proxy::start(server_addr.clone()).await;
    let mut bob = watcher(&server_addr).await;
    let url = format!("tcp://{}", proxy.addr);
    let mut ana = Proc::spawn(&["chat", &url, "--nick", "ana", "--room", "lobby"]);
    // Settled (nick and room acknowledged): the session is kept from here.
    expect(&mut ana, "this session resumes").await;
    // Keep ana away past the TTL: her reconnects are refused for 1.5 s.
    proxy.refuse(true);
    proxy.cut();
    bob.call(say("said while she was away")).await.unwrap();
    expect(&mut ana, "reconnecting in").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    proxy.refuse(false);
    let line = expect(&mut ana, "session expired: rejoined lobby since").await;
    assert!(line.contains("lobby since"), "{line}");
    expect(&mut ana, "said while she was away").await;
    let (ok, lines) = tokio::task::block_in_place(|| ana.finish());
    assert!(ok, "{lines:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_event_whose_ack_was_lost_is_applied_once() {
    // The server gets ana's line but its ack never reaches her: she resends
    // it with the same ack id after resuming, and the hub does not apply it twice.
    let (_server, server_addr) = serve(&["--history", "100"]);
    let proxy = Proxy::start(server_addr.clone()).await;
    let mut bob = watcher(&server_addr).await;
    let url = format!("tcp://{}", proxy.addr);
    let mut ana = Proc::spawn(&[
        "chat",
        &url,
        "--nick",
        "ana",
        "--room",
        "lobby",
        "--heartbeat",
        "1s",
        "--heartbeat-timeout",
        "1s",
    ]);
    // Settled (nick and room acknowledged): the session is kept from here.
    expect(&mut ana, "this session resumes").await;
    proxy.freeze_down();
    ana.type_line("only once please");
    // Bob sees it (the server applied it); ana never gets the ack.
    let got = tokio::time::timeout(PATIENCE, async {
        loop {
            if let netlab::chat::protocol::ServerEvent::Message { text, .. } =
                bob.next_event().await.unwrap()
            {
                return text;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("bob never saw ana's line; ana printed {:#?}", ana.seen));
    assert_eq!(got, "only once please");
    expect(&mut ana, "connection lost").await;
    expect(&mut ana, "resumed:").await;
    bob.call(say("got it")).await.unwrap();
    expect(&mut ana, "got it").await;
    // Everything bob received after the first copy: no second one.
    let mut later = Vec::new();
    while let Ok(Ok(e)) = tokio::time::timeout(Duration::from_millis(500), bob.next_event()).await {
        later.push(e);
    }
    assert!(
        !later.iter().any(|e| matches!(e, netlab::chat::protocol::ServerEvent::Message { text, .. } if text == "only once please")),
        "the resent event was applied twice: {later:?}"
    );
    let (ok, lines) = tokio::task::block_in_place(|| ana.finish());
    assert!(ok, "the retried event was answered: {lines:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_more_than_the_history_keeps_shows_the_gap() {
    let (_server, server_addr) = serve(&["--history", "2"]);
    let proxy = Proxy::start(server_addr.clone()).await;
    let mut bob = watcher(&server_addr).await;
    let url = format!("tcp://{}", proxy.addr);
    let mut ana = Proc::spawn(&["chat", &url, "--nick", "ana", "--room", "lobby"]);
    // Settled (nick and room acknowledged): the session is kept from here.
    expect(&mut ana, "this session resumes").await;
    proxy.refuse(true);
    proxy.cut();
    for i in 1..=5 {
        bob.call(say(&format!("line {i}"))).await.unwrap();
    }
    proxy.refuse(false);
    let gap = expect(&mut ana, "gap:").await;
    assert!(gap.contains("lobby"), "{gap}");
    expect(&mut ana, "line 5").await;
    let (_, lines) = tokio::task::block_in_place(|| ana.finish());
    let said: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("[lobby] bob: "))
        .collect();
    assert_eq!(
        said,
        vec!["line 4", "line 5"],
        "only what is kept: {lines:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_but_live_server_answers_the_clients_pings_and_the_client_stays() {
    let (_server, server_addr) = serve(&[]);
    let proxy = Proxy::start(server_addr).await;
    let url = format!("tcp://{}", proxy.addr);
    let mut ana = ana_in_lobby(
        &url,
        &[
            "--reconnect",
            "--heartbeat",
            "200ms",
            "--heartbeat-timeout",
            "2s",
        ],
    )
    .await;
    // Ten heartbeat intervals of silence from everyone: pings and pongs only.
    tokio::time::sleep(Duration::from_secs(2)).await;
    ana.type_line("/rooms");
    expect(&mut ana, "your rooms:").await;
    let (ok, lines) = tokio::task::block_in_place(|| ana.finish());
    assert!(ok, "{lines:#?}");
    assert!(
        !lines.iter().any(|l| l.contains("connection lost")),
        "the pongs kept the connection: {lines:#?}"
    );
    assert_eq!(proxy.connections(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_server_restart_the_client_rejoins_and_gets_the_missed_lines_from_the_history_file()
{
    let file = std::env::temp_dir().join(format!("netlab-restart-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let path = file.to_str().unwrap().to_string();
    let (server, server_addr) = serve(&["--history-file", &path]);
    let proxy = Proxy::start(server_addr.clone()).await;
    let url = format!("tcp://{}", proxy.addr);
    let mut ana = Proc::spawn(&["chat", &url, "--nick", "ana", "--room", "lobby"]);
    // Settled (nick and room acknowledged): the session is kept from here.
    expect(&mut ana, "this session resumes").await;
    let mut bob = watcher(&server_addr).await;
    bob.call(say("before the restart")).await.unwrap();
    expect(&mut ana, "before the restart").await;

    // The server dies (its sessions with it) and comes back on the same
    // address with the same file; ana cannot get through meanwhile.
    proxy.refuse(true);
    drop(server); // killed
    drop(bob);
    let (_server, again) = serve(&["--tcp", &server_addr, "--history-file", &path]);
    assert_eq!(again, server_addr);
    let mut bob = watcher(&server_addr).await;
    bob.call(say("said after the restart")).await.unwrap();
    proxy.refuse(false);

    let line = expect(&mut ana, "session expired: rejoined lobby since").await;
    assert!(line.contains("lobby since"), "{line}");
    expect(&mut ana, "said after the restart").await;
    let (ok, lines) = tokio::task::block_in_place(|| ana.finish());
    assert!(ok, "{lines:#?}");
    let said: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("[lobby] bob: "))
        .collect();
    assert_eq!(
        said,
        vec!["before the restart", "said after the restart"],
        "each once, nothing from before replayed twice: {lines:#?}"
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn zero_timeouts_are_refused_with_a_clear_error() {
    for flag in ["--ack-timeout", "--heartbeat-timeout"] {
        let out = Command::new(support::netlab_bin())
            .args(["chat", "tcp://127.0.0.1:9", flag, "0"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("must be above 0"), "{flag}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmations_are_batched_so_a_busy_room_does_not_rate_limit_the_client() {
    // 4 senders × 55 lines = 220 events to ana, far more than her 60-event
    // burst: one `seen` per event would get her refused and closed.
    let (_server, addr) = serve(&["--history", "1000", "--rate", "50", "--burst", "60"]);
    let mut ana = Proc::spawn(&[
        "chat",
        &format!("tcp://{addr}"),
        "--nick",
        "ana",
        "--room",
        "lobby",
    ]);
    // Settled (nick and room acknowledged): the session is kept from here.
    expect(&mut ana, "this session resumes").await;
    let mut senders = Vec::new();
    for s in 0..4 {
        let addr = addr.clone();
        senders.push(tokio::spawn(async move {
            let mut c = member(&addr, &format!("sender{s}")).await;
            for i in 0..55 {
                let outcome = c.call(say(&format!("s{s} line {i}"))).await.unwrap();
                assert!(matches!(outcome, AckOutcome::Reached(_)), "{outcome:?}");
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    ana.type_line("/who");
    expect(&mut ana, "in lobby:").await;
    let (ok, lines) = tokio::task::block_in_place(|| ana.finish());
    let got = lines.iter().filter(|l| l.contains(" line ")).count();
    assert_eq!(got, 220, "every line once");
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("rate_limited") || l.contains("closed")),
        "{lines:#?}"
    );
    assert!(ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_never_answered_is_resent_then_given_up_and_applied_once() {
    let (_server, server_addr) = serve(&["--history", "100"]);
    let proxy = Proxy::start(server_addr.clone()).await;
    let mut bob = watcher(&server_addr).await;
    let url = format!("tcp://{}", proxy.addr);
    let mut ana = Proc::spawn(&[
        "chat",
        &url,
        "--nick",
        "ana",
        "--room",
        "lobby",
        "--heartbeat",
        "0",
        "--ack-timeout",
        "200ms",
        "--retries",
        "2",
    ]);
    // Settled (nick and room acknowledged): the session is kept from here.
    expect(&mut ana, "this session resumes").await;
    proxy.freeze_down(); // her lines arrive, no answer comes back
    ana.type_line("is anyone there");
    let gave_up = expect(&mut ana, "giving up").await;
    assert!(gave_up.contains("after 2 retries"), "{gave_up}");
    let mut texts = Vec::new();
    while let Ok(Ok(e)) = tokio::time::timeout(Duration::from_millis(500), bob.next_event()).await {
        if let netlab::chat::protocol::ServerEvent::Message { text, .. } = e {
            texts.push(text);
        }
    }
    assert_eq!(texts, vec!["is anyone there"], "three sends, applied once");
    let (ok, _) = tokio::task::block_in_place(|| ana.finish());
    assert!(!ok, "an event given up on makes the exit status non-zero");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listen_only_client_resumes_too() {
    // No --nick, no --room: it listens to messages for everyone.
    let (_server, server_addr) = serve(&["--history", "100"]);
    let proxy = Proxy::start(server_addr.clone()).await;
    let mut bob = watcher(&server_addr).await;
    let mut ana = Proc::spawn(&["chat", &format!("tcp://{}", proxy.addr)]);
    // Said once the server has kept the session (after the client's silent `rooms`).
    expect(&mut ana, "this session resumes").await;
    let all = |text: &str| ClientEvent::Message {
        to: vec![],
        except: vec![],
        text: text.into(),
        include_self: false,
    };
    bob.call(all("first")).await.unwrap();
    expect(&mut ana, "[everyone] bob: first").await;
    proxy.cut();
    bob.call(all("while cut")).await.unwrap();
    expect(&mut ana, "resumed: 1 missed event replayed").await;
    expect(&mut ana, "[everyone] bob: while cut").await;
    let (ok, lines) = tokio::task::block_in_place(|| ana.finish());
    assert!(ok, "{lines:#?}");
    assert!(
        !lines.iter().any(|l| l.contains("your rooms")),
        "the client's own rooms question is not shown: {lines:#?}"
    );
}
