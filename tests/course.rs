//! `netlab check` grades a student's exercise for real: in a copy of the source
//! tree, an untouched exercise fails with a hint, a solved one passes and shows
//! up as passed in `netlab lessons`.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Copies the parts of the source tree the exercises build needs.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if ["target", "node_modules", ".git", "fuzz"].contains(&name.as_ref()) {
            continue;
        }
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

fn netlab_in(root: &Path, args: &[&str]) -> Output {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    Command::new(support::netlab_bin())
        .args(args)
        .env("NETLAB_ROOT", root)
        // Share compiled dependencies with this build; never touch the network.
        .env("CARGO_TARGET_DIR", target.join("course-check"))
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap()
}

#[test]
fn check_fails_a_hole_with_a_hint_and_passes_a_solution() {
    let tmp = std::env::temp_dir().join(format!("netlab-course-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    copy_tree(Path::new(env!("CARGO_MANIFEST_DIR")), &tmp);

    // Lesson 00 solved by the student: a correct answer written as they would.
    std::fs::write(
        tmp.join("lessons/00-models/exercise.rs"),
        r#"
use netlab::layers::{HeaderField, OsiLayer, Protocol, TcpIpLayer};
pub fn osi_layer(p: Protocol) -> OsiLayer {
    use Protocol::*;
    match p {
        Ethernet | Arp | LinuxCooked | Loopback => OsiLayer::DataLink,
        Ipv4 | Ipv6 | Icmp | Icmpv6 => OsiLayer::Network,
        Tcp | Udp => OsiLayer::Transport,
        Tls => OsiLayer::Presentation,
        Dns | Http | WebSocket | SocketIo | NetlabFrame | AppData => OsiLayer::Application,
    }
}
pub fn tcpip_layer(l: OsiLayer) -> TcpIpLayer {
    match l.number() {
        1 | 2 => TcpIpLayer::Link,
        3 => TcpIpLayer::Internet,
        4 => TcpIpLayer::Transport,
        _ => TcpIpLayer::Application,
    }
}
pub fn field_layer(f: HeaderField) -> OsiLayer {
    osi_layer(f.protocol())
}
"#,
    )
    .unwrap();

    let solved = netlab_in(&tmp, &["check", "00"]);
    let text = String::from_utf8_lossy(&solved.stdout);
    assert!(
        solved.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&solved.stderr)
    );
    assert!(
        text.contains("lesson 00 passes") && text.contains("Next: netlab lesson 01"),
        "{text}"
    );

    let hole = netlab_in(&tmp, &["check", "02"]);
    let text = String::from_utf8_lossy(&hole.stdout);
    let err = String::from_utf8_lossy(&hole.stderr);
    assert!(
        !hole.status.success(),
        "an untouched exercise must not pass"
    );
    assert!(
        text.contains("does not pass yet") && text.contains("Hint:") && text.contains("big-endian"),
        "{text}"
    );
    assert!(
        format!("{text}{err}").contains("not yet implemented"),
        "the todo!() shows in the grader output"
    );

    let list = netlab_in(&tmp, &["lessons", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&list.stdout).unwrap();
    let status: Vec<&str> = rows[..3]
        .iter()
        .map(|r| r["exercise_status"].as_str().unwrap())
        .collect();
    assert_eq!(status, vec!["passed", "not-started", "not-started"]);

    // Editing a passed exercise forgets the pass.
    let path = tmp.join("lessons/00-models/exercise.rs");
    let edited = std::fs::read_to_string(&path).unwrap() + "\n// changed\n";
    std::fs::write(&path, edited).unwrap();
    let list = netlab_in(&tmp, &["lessons", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows[0]["exercise_status"], "in-progress");

    let _ = std::fs::remove_dir_all(&tmp);
}
