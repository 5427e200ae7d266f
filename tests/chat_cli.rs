//! The real binary: `netlab serve` and several `netlab chat` processes
//! driven through their standard input and output, as a student (or a
//! script) would use them.

mod support;

use support::Proc;

use std::io::Write;
use std::process::{Command, Stdio};

fn start_server(extra: &[&str]) -> (Proc, String) {
    let mut args = vec!["serve", "--tcp", "127.0.0.1:0", "--quiet"];
    args.extend_from_slice(extra);
    let mut server = Proc::spawn(&args);
    let first = server.expect("listening on ");
    let url = first.trim_start_matches("listening on ").trim().to_string();
    assert!(url.starts_with("tcp://127.0.0.1:"), "{url}");
    (server, url)
}

#[test]
fn two_people_chat_through_the_real_binary() {
    let (_server, url) = start_server(&[]);
    let mut bob = Proc::spawn(&["chat", &url, "--nick", "bob", "--room", "lobby"]);
    bob.expect("[lobby] → bob (you) joined");

    let mut ana = Proc::spawn(&["chat", &url, "--nick", "ana", "--room", "lobby"]);
    ana.expect("[lobby] → ana (you) joined");
    bob.expect("[lobby] → ana joined");
    for line in [
        "hello lobby",
        "/join dev",
        "/to dev only dev hears this",
        "/all hi everyone",
        "/nick ana2",
        "/rooms",
    ] {
        ana.type_line(line);
    }
    ana.expect("your rooms:");
    let (ok, out) = ana.finish();
    assert!(ok, "ana's session succeeded: {out:#?}");
    assert!(
        out.iter().any(|l| l.contains("[dev] → ana (you) joined")),
        "{out:#?}"
    );

    assert_eq!(bob.expect("ana:"), "[lobby] ana: hello lobby");
    assert_eq!(
        bob.expect("ana:"),
        "[everyone] ana: hi everyone",
        "bob is not in dev"
    );
    bob.expect("ana is now ana2");
    bob.expect("[lobby] ← ana2 disconnected");
    bob.type_line("/who");
    let who = bob.expect("in lobby:");
    assert!(who.starts_with("in lobby: bob (you)"), "{who}");
    bob.type_line("/quit");
    let (ok, _) = bob.finish();
    assert!(ok);
}

#[test]
fn a_refused_command_is_shown_and_sets_a_failing_exit_status() {
    let (_server, url) = start_server(&["--max-rooms", "1"]);
    let mut c = Proc::spawn(&["chat", &url, "--nick", "ana", "--room", "one"]);
    c.expect("joined");
    c.type_line("/join two");
    c.type_line("/to nowhere hi");
    let line = c.expect("refused (too_many_rooms)");
    assert!(line.contains("1 rooms"), "{line}");
    c.expect("refused (not_a_member)");
    let (ok, _) = c.finish();
    assert!(!ok, "a refused command makes the exit status non-zero");
}

#[test]
fn a_piped_script_runs_to_the_end_and_json_mode_prints_every_event() {
    let (_server, url) = start_server(&[]);
    let out = Command::new(support::netlab_bin())
        .args(["chat", &url, "--nick", "bot", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"/join lab\n/who lab\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success());
    let events: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["welcome", "nick", "joined", "ack", "who", "ack"]
    );
    assert_eq!(events[4]["members"][0]["nick"], "bot");
    assert_eq!(
        events[0]["limits"]["max_rooms"], 32,
        "the welcome carries the server's limits"
    );
    assert_eq!(events[0]["id"].as_str().map(str::len), Some(32));
}

#[test]
fn eight_listeners_each_print_the_speakers_line_once() {
    let (_server, url) = start_server(&[]);
    let mut listeners: Vec<Proc> = (0..8)
        .map(|i| {
            let nick = format!("l{i}");
            let mut p = Proc::spawn(&["chat", &url, "--nick", &nick, "--room", "hall"]);
            p.expect("(you) joined");
            p
        })
        .collect();
    let mut speaker = Proc::spawn(&["chat", &url, "--nick", "speaker", "--room", "hall"]);
    speaker.expect("(you) joined");
    speaker.type_line("one for all");
    speaker.type_line("/quit");
    let (ok, _) = speaker.finish();
    assert!(ok);
    for l in listeners.iter_mut() {
        assert_eq!(l.expect("speaker:"), "[hall] speaker: one for all");
        l.expect("← speaker disconnected");
        l.type_line("/quit");
    }
    for l in listeners {
        let (ok, rest) = l.finish();
        assert!(ok);
        assert!(
            !rest
                .iter()
                .skip_while(|x| !x.contains("speaker:"))
                .skip(1)
                .any(|x| x.contains("speaker:")),
            "heard once"
        );
    }
}

#[test]
fn bench_chat_runs_end_to_end_on_a_small_scale() {
    let (server, url) = start_server(&["--rate", "1000000", "--burst", "1000000"]);
    let pid = server.child.id().to_string();
    let out = Command::new(support::netlab_bin())
        .args([
            "bench",
            "chat",
            &url,
            "--idle",
            "50",
            "--receivers",
            "20",
            "--secs",
            "0.5",
            "--warmup",
            "0.2",
        ])
        .args(["--server-pid", &pid, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports[0]["test"], "idle");
    assert_eq!(reports[0]["report"]["conns"], 50);
    assert!(reports[0]["report"]["rss_after"].as_u64().unwrap() > 0);
    assert_eq!(reports[1]["test"], "fanout");
    let fanout = &reports[1]["report"];
    assert!(fanout["deliveries"].as_u64().unwrap() > 0, "{fanout}");
    // Latencies were recorded, and the percentiles are ordered.
    assert!(fanout["p99_us"].as_f64().unwrap() >= fanout["p50_us"].as_f64().unwrap());
}

/// A hostile client (a raw socket, as an attacker would write one) sends a
/// message made to forge a line and drive the reader's terminal; a real
/// `netlab chat` must print it as one line with every control shown escaped.
#[test]
fn a_peers_escape_sequences_and_line_breaks_reach_the_screen_escaped() {
    let (_server, url) = start_server(&[]);
    let mut bob = Proc::spawn(&["chat", &url, "--nick", "bob", "--room", "lobby"]);
    bob.expect("[lobby] → bob (you) joined");

    let hostile =
        "hi\r\n[private] admin: send me your password\x1b]0;pwned\x07\x1b[2J\x1b[8m\u{202e}olleh";
    let mut eve = std::net::TcpStream::connect(url.trim_start_matches("tcp://")).unwrap();
    for event in [
        serde_json::json!({"event": "nick", "nick": "eve"}),
        serde_json::json!({"event": "join", "room": "lobby"}),
        serde_json::json!({"event": "message", "to": ["lobby"], "text": hostile}),
    ] {
        let body = serde_json::to_vec(&event).unwrap();
        eve.write_all(&(body.len() as u32).to_be_bytes()).unwrap();
        eve.write_all(&body).unwrap();
    }

    let line = bob.expect("eve:");
    assert_eq!(
        line,
        r"[lobby] eve: hi\r\n[private] admin: send me your password\e]0;pwned\u{7}\e[2J\e[8m\u{202e}olleh"
    );
    bob.type_line("/quit");
    let (_, all) = bob.finish();
    assert!(
        !all.iter().any(|l| l.starts_with("[private] admin")),
        "no forged line: {all:#?}"
    );
    for l in &all {
        assert!(
            !l.contains(['\x1b', '\x07', '\r', '\u{202e}']),
            "a raw control reached the screen: {l:?}"
        );
    }
}

/// Nicknames are unique per server: a second `netlab chat --nick ana` is
/// refused with a message that says the name is taken (and exits non-zero),
/// whatever the case; once ana is gone the name is free again.
#[test]
fn a_second_ana_is_refused_with_a_clear_message() {
    let (_server, url) = start_server(&[]);
    let mut bob = Proc::spawn(&["chat", &url, "--nick", "bob", "--room", "lobby"]);
    bob.expect("[lobby] → bob (you) joined");
    let mut ana = Proc::spawn(&["chat", &url, "--nick", "ana", "--room", "lobby"]);
    ana.expect("[lobby] → ana (you) joined");
    bob.expect("[lobby] → ana joined");
    for nick in ["ana", "ANA"] {
        let second = Proc::spawn_with_stderr(&["chat", &url, "--nick", nick, "--room", "lobby"]);
        let (ok, lines) = second.finish();
        assert!(!ok, "a second {nick} must not get in: {lines:#?}");
        let said = lines
            .iter()
            .find(|l| l.contains("refused the nickname"))
            .unwrap_or_else(|| panic!("no refusal shown: {lines:#?}"));
        assert!(
            said.contains(&format!("`{nick}` is taken")),
            "says why: {said}"
        );
        assert!(
            !lines.iter().any(|l| l.contains("(you) joined")),
            "{lines:#?}"
        );
    }
    bob.type_line("/who");
    let who = bob.expect("in lobby:");
    assert_eq!(who.matches("ana").count(), 1, "one ana only: {who}");
    // Once ana has left (bob sees it), the name is free.
    ana.type_line("/quit");
    let (ok, _) = ana.finish();
    assert!(ok);
    bob.expect("[lobby] ← ana disconnected");
    let mut again = Proc::spawn(&["chat", &url, "--nick", "ana", "--room", "lobby"]);
    again.expect("[lobby] → ana (you) joined");
}
