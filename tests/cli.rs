//! The real `netlab` binary, driven the way a student or a script drives it.

mod support;

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn netlab(args: &[&str]) -> Output {
    Command::new(support::netlab_bin())
        .args(args)
        .output()
        .expect("run netlab")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A running `netlab tcp echo` on a free port; killed when dropped.
fn echo_server(extra: &[&str]) -> support::Listening {
    let mut args = vec!["tcp", "echo", "--listen", "127.0.0.1:0", "--quiet"];
    args.extend_from_slice(extra);
    support::listen(&args)
}

#[test]
fn tcp_send_gets_every_message_echoed_through_the_real_server() {
    let server = echo_server(&[]);
    let out = netlab(&["tcp", "send", &server.addr, "hello", "", "wörld", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let received: Vec<&str> = lines
        .iter()
        .map(|v| v["received"].as_str().unwrap())
        .collect();
    assert_eq!(received, vec!["hello", "", "wörld"]);
    assert_eq!(lines[2]["bytes"], 6, "ö is two bytes in UTF-8");
    assert!(lines.iter().all(|v| v["matches"] == true));
}

#[test]
fn tcp_send_reads_messages_from_stdin() {
    let server = echo_server(&[]);
    let mut child = Command::new(support::netlab_bin())
        .args(["tcp", "send", &server.addr, "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"one\ntwo\nthree\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let received: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["received"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(received, vec!["one", "two", "three"]);
}

#[test]
fn tcp_send_to_a_closed_port_explains_what_to_do() {
    // Bind then drop a listener: the port is free and nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = netlab(&["tcp", "send", &format!("127.0.0.1:{port}"), "hi"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("could not connect") && err.contains("netlab tcp echo --listen"),
        "{err}"
    );
}

#[test]
fn the_client_refuses_to_send_over_its_max_frame() {
    let server = echo_server(&[]);
    let big = "x".repeat(2000);
    let out = netlab(&["tcp", "send", &server.addr, &big, "--max-frame", "1KiB"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("frame too long"), "{}", stderr(&out));
}

#[test]
fn layers_json_places_protocols_in_both_models() {
    let out = netlab(&["layers", "--json"]);
    assert!(out.status.success());
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let numbers: Vec<u64> = rows.iter().map(|r| r["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, vec![7, 6, 5, 4, 3, 2, 1], "top to bottom");
    let at = |n: u64| rows.iter().find(|r| r["number"] == n).unwrap();
    assert_eq!(at(4)["protocols"], serde_json::json!(["TCP", "UDP"]));
    assert_eq!(at(4)["tcpip"], "Transport");
    assert_eq!(at(2)["tcpip"], "Link");
    assert_eq!(at(1)["tcpip"], "Link");
    assert_eq!(at(3)["tcpip"], "Internet");
    for p in ["HTTP", "WebSocket", "Socket.IO", "DNS"] {
        assert!(
            at(7)["protocols"]
                .as_array()
                .unwrap()
                .contains(&Value::from(p)),
            "{p} at L7"
        );
    }
}

#[test]
fn layers_picture_has_no_colour_codes_when_piped() {
    let out = netlab(&["layers"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}'), "ANSI escapes written to a pipe");
    assert!(
        text.contains("Application") && text.contains("Internet") && text.contains("Ethernet ARP")
    );
    let forced = netlab(&["layers", "--color", "always"]);
    assert!(
        stdout(&forced).contains('\u{1b}'),
        "--color always must colour"
    );
}

#[test]
fn lessons_lists_the_course_and_lesson_prints_one() {
    let out = netlab(&["lessons", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 13, "lessons 00 to 12");
    for (n, row) in rows.iter().enumerate().take(3) {
        assert_eq!(row["ready"], true, "lesson {n} is written");
        assert!(
            row["lesson"]["exercise"].is_object(),
            "lesson {n} has an exercise"
        );
    }

    let text = stdout(&netlab(&["lesson", "2"]));
    assert!(
        text.contains("big-endian") && text.contains("netlab check 02"),
        "{text}"
    );

    let err = netlab(&["lesson", "99"]);
    assert!(!err.status.success());
    assert!(stderr(&err).contains("there is no lesson 99"));
}

#[test]
fn tour_runs_every_step_for_real() {
    let out = netlab(&["tour"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    for step in netlab::tour::STEPS {
        assert!(text.contains(step.title), "missing step {:?}", step.title);
    }
    assert!(text.contains("Tour complete"));
    assert!(
        text.contains("00 00 00 05 68 65 6c 6c 6f"),
        "the frame for \"hello\" is shown"
    );
    // Lesson 10: Socket.IO starts with HTTP long-polling, then upgrades; the
    // packets are dissected by the inspector as they go.
    for line in [
        "GET /socket.io/?EIO=4&transport=polling HTTP/1.1",
        "HTTP/1.1 200 OK [polling payload: open]",
        "[polling payload: CONNECT]",
        "HTTP/1.1 200 OK [polling payload: CONNECT, EVENT]",
        "WebSocket Text 2probe [Engine.IO ping]",
        "WebSocket Text 3probe [Engine.IO pong]",
        "HTTP/1.1 200 OK [polling payload: noop]",
        "WebSocket Text 5 [Engine.IO upgrade]",
        r#"a poll gets 400 {"code":3,"message":"Bad request"}"#,
        "separator (0x1e, record separator): 0x1e",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    // Lesson 12: a broadcast crosses Redis, or the step says why it cannot.
    if support::redis_available() {
        for line in [
            "bo (on server B) got [lobby] ana: hello from server A",
            "it crossed as PUBLISH socket.io#/#lobby# <",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
    } else {
        assert!(
            text.contains("skipped: redis-server is not installed here"),
            "{text}"
        );
    }
}

#[test]
fn bench_tcp_measures_the_real_server_and_its_cpu() {
    let server = echo_server(&["--threads", "1"]);
    let pid = server.child.id().to_string();
    let out = netlab(&[
        "bench",
        "tcp",
        &server.addr,
        "--conns",
        "4",
        "--pipeline",
        "4",
        "--size",
        "100",
        "--secs",
        "0.5",
        "--warmup",
        "0.1",
        "--server-pid",
        &pid,
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["messages"].as_u64().unwrap() > 0);
    assert_eq!(r["failed_conns"], 0);
    assert_eq!(r["conns"], 4);
    assert!(r["p50_us"].as_f64().unwrap() <= r["p99_us"].as_f64().unwrap());
    assert!(r["p99_us"].as_f64().unwrap() <= r["p999_us"].as_f64().unwrap());
    assert!(r["server_cpu_us_per_msg"].as_f64().is_some(), "{r}");
    // Fairness: the per-connection counts bound the total, and Jain's index is in (0, 1].
    let f = &r["fairness"];
    let (min, median, max) = (
        f["min"].as_u64().unwrap(),
        f["median"].as_u64().unwrap(),
        f["max"].as_u64().unwrap(),
    );
    let messages = r["messages"].as_u64().unwrap();
    assert!(min <= median && median <= max, "{f}");
    assert!(
        min * 4 <= messages && messages <= max * 4,
        "4 connections: {r}"
    );
    let jain = f["jain"].as_f64().unwrap();
    assert!(jain > 0.25 - 1e-9 && jain <= 1.0 + 1e-9, "{f}");
}

#[test]
fn help_lists_the_commands_in_course_order() {
    let o = netlab(&["--help"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let commands: Vec<&str> = text
        .split("Commands:")
        .nth(1)
        .expect("a Commands: section")
        .lines()
        .skip(1) // the rest of the "Commands:" line
        .take_while(|l| !l.trim().is_empty())
        // A command's line starts two spaces in; wrapped summaries further in.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        [
            "tour",
            "lessons",
            "lesson",
            "check",
            "watch",
            "hint",
            "reset",
            "predict",
            "layers",
            "tcp",
            "serve",
            "chat",
            "compare",
            "link",
            "reliable",
            "ws",
            "socketio",
            "inspect",
            "bench",
            "completions",
            "help"
        ]
    );
}

#[test]
fn serve_help_groups_its_flags_by_lesson() {
    let o = netlab(&["serve", "--help"]);
    let text = stdout(&o);
    let headings: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(' ') && l.ends_with(':'))
        .collect();
    assert_eq!(
        headings,
        [
            "Options:",
            "Where clients connect (lessons 03–05, 10):",
            "Limits: what one client may do (lessons 03–04):",
            "Limits: the whole server, against floods and stalls (TCP, HTTP):",
            "UDP sessions (lesson 05):",
            "Heartbeats (lesson 07):",
            "Missed events: history, sessions, confirmations (lesson 07):",
            "Socket.IO on --http (lesson 10):",
            "Many servers, one chat: rooms shared over Redis (lesson 12):",
            "Running the server:",
            "Examples:"
        ]
    );
    // A flag sits under its lesson's heading, not under Options.
    let history = text.find("--history <N>").expect("--history");
    let missed = text.find("Missed events:").unwrap();
    assert!(history > missed);
    // The whole-server limits sit under theirs, each with its unit and default.
    let whole = text.find("Limits: the whole server").unwrap();
    let udp = text.find("UDP sessions (lesson 05):").unwrap();
    for flag in [
        "--frame-timeout <DURATION>",
        "--max-memory <SIZE>",
        "--max-per-ip <N>",
    ] {
        let at = text
            .find(flag)
            .unwrap_or_else(|| panic!("{flag} in {text}"));
        assert!(whole < at && at < udp, "{flag} under its heading");
    }
    assert!(text.contains("[default: 10s]") && text.contains("[default: 256MiB]"));
    // Heartbeats are on by default, with the interval shown.
    let heartbeat = &text[text.find("--heartbeat <DURATION>").unwrap()..];
    assert!(
        heartbeat[..heartbeat.find("--heartbeat-timeout").unwrap()].contains("[default: 25s]"),
        "{heartbeat}"
    );
}

#[test]
fn echo_servers_show_their_guards_in_help() {
    for cmd in [["tcp", "echo"], ["ws", "echo"]] {
        let text = stdout(&netlab(&[cmd[0], cmd[1], "--help"]));
        for flag in [
            "--frame-timeout <DURATION>",
            "--idle-timeout <DURATION>",
            "--max-memory <SIZE>",
            "--max-per-ip <N>",
        ] {
            assert!(text.contains(flag), "{cmd:?} --help lacks {flag}: {text}");
        }
        assert!(text.contains("0 = off"), "{text}");
        assert!(text.contains("[default: 5min]"), "{text}");
    }
}

#[test]
fn completions_cover_every_command_and_flag_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_netlab()"),
        ("zsh", "#compdef netlab"),
        ("fish", "complete -c netlab"),
    ] {
        let o = netlab(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        assert!(script.contains(marker), "{shell} script lacks {marker}");
        // Deep in the tree: a subcommand's subcommand and a flattened flag.
        for word in ["serve", "inspect", "history-file", "max-frame"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    let o = netlab(&["completions", "tcsh"]);
    assert!(!o.status.success(), "an unknown shell is refused");
    assert!(stderr(&o).contains("possible values"), "{}", stderr(&o));
}

/// Stopped with Ctrl-C (SIGINT), every stream server says how much of its
/// memory budget it held at most: the peak of `--max-memory`.
#[test]
fn servers_report_their_memory_peak_when_stopped() {
    for args in [
        &[
            "tcp",
            "echo",
            "--listen",
            "127.0.0.1:0",
            "--max-memory",
            "1MiB",
        ][..],
        &[
            "ws",
            "echo",
            "--listen",
            "127.0.0.1:0",
            "--max-memory",
            "1MiB",
        ][..],
        &["serve", "--tcp", "127.0.0.1:0", "--max-memory", "1MiB"][..],
    ] {
        let mut server = support::Proc::spawn_with_stderr(args);
        // The start-up line names the guards in force (and comes after the
        // Ctrl-C handler is in place).
        server.expect("memory budget 1.0 MiB");
        let interrupted = Command::new("kill")
            .args(["-INT", &server.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(interrupted.success());
        let line = server.expect("memory budget: peak");
        assert!(line.contains("(limit 1.0 MiB)"), "{args:?}: {line}");
    }
}
