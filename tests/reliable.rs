//! Reliable delivery over UDP, end to end with the real binaries: `netlab
//! reliable recv` ← `netlab link --loss N% --seed S` ← `netlab reliable send`,
//! on loopback, port 0 everywhere.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

use support::start_listening as start;

fn last_json(mut out: impl Read) -> Value {
    let mut text = String::new();
    out.read_to_string(&mut text).unwrap();
    serde_json::from_str(text.lines().last().expect("a JSON line")).unwrap()
}

/// Bytes that are not a simple pattern, so a misplaced or repeated segment shows.
fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Kills the child if a failed assertion unwinds past it (the link runs until Ctrl-C).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Run {
    sender: Value,
    receiver: Value,
    link: Value,
}

fn transfer_through_link(data: &[u8], loss: &str, seed: &str) -> Run {
    let dir = std::env::temp_dir().join(format!("netlab-reliable-{}-{seed}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("in.bin"), dir.join("out.bin"));
    std::fs::write(&input, data).unwrap();
    let out_arg = output.to_str().unwrap().to_string();
    let (mut recv, recv_addr, recv_out) = start(&[
        "reliable",
        "recv",
        "--listen",
        "127.0.0.1:0",
        "--out",
        &out_arg,
        "--linger",
        "300ms",
        "--idle",
        "20s",
        "--json",
    ]);
    let (link, link_addr, link_out) = start(&[
        "link",
        "--listen",
        "127.0.0.1:0",
        "--to",
        &recv_addr,
        "--loss",
        loss,
        "--seed",
        seed,
        "--json",
    ]);
    let mut link = KillOnDrop(link);
    let sent = Command::new(support::netlab_bin())
        .args([
            "reliable",
            "send",
            "--to",
            &link_addr,
            "--give-up",
            "20s",
            "--json",
        ])
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        sent.status.success(),
        "send failed: {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(recv.wait().unwrap().success());
    let received = std::fs::read(&output).unwrap();
    assert!(
        received == data,
        "the received file differs from the sent one ({} vs {} bytes)",
        received.len(),
        data.len()
    );
    let receiver = last_json(recv_out);
    let sender = last_json(&sent.stdout[..]);
    // Ctrl-C stops the link, which then prints its counters.
    let pid = link.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    assert!(link.0.wait().unwrap().success());
    let link = last_json(link_out);
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        sender,
        receiver,
        link,
    }
}

#[test]
fn a_lossless_link_carries_each_segment_once() {
    let data = payload(100_000, 1);
    let r = transfer_through_link(&data, "0%", "1");
    // 100 000 bytes in 1200-byte segments = 84 segments, plus the FIN.
    assert_eq!(r.sender["stats"]["segments"], 85);
    assert_eq!(r.sender["stats"]["datagrams_sent"], 85);
    assert_eq!(r.sender["stats"]["retransmissions"], 0);
    assert_eq!(r.link["forward"]["received"], 85);
    assert_eq!(r.receiver["stats"]["duplicates"], 0);
}

#[test]
fn twenty_percent_loss_each_way_still_delivers_every_byte_in_order() {
    let data = payload(100_000, 2);
    let r = transfer_through_link(&data, "20%", "7");
    let (fwd, back) = (&r.link["forward"], &r.link["backward"]);
    let stats = &r.sender["stats"];
    // The link's own counters, seen from outside: it got every datagram the
    // sender sent, and dropped some in each direction.
    assert_eq!(fwd["received"], stats["datagrams_sent"]);
    assert!(fwd["lost"].as_u64().unwrap() > 0 && back["lost"].as_u64().unwrap() > 0);
    // What the link delivered is what the receiver parsed; what it sent back is every ACK.
    assert_eq!(fwd["delivered"], r.receiver["stats"]["datagrams"]);
    assert_eq!(back["received"], r.receiver["stats"]["acks_sent"]);
    // Every datagram is a first copy or a counted retransmission, and losses were repaired.
    let (segments, retx) = (
        stats["segments"].as_u64().unwrap(),
        stats["retransmissions"].as_u64().unwrap(),
    );
    assert_eq!(stats["datagrams_sent"].as_u64().unwrap(), segments + retx);
    assert!(retx > 0);
}

/// Runs recv with `--max-bytes max` and sends `len` bytes straight to it; returns recv's exit status and stderr.
fn send_with_limit(len: usize, max: &str) -> (bool, String) {
    let mut recv = Command::new(support::netlab_bin())
        .args([
            "reliable",
            "recv",
            "--listen",
            "127.0.0.1:0",
            "--max-bytes",
            max,
            "--linger",
            "100ms",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(recv.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let size = len.to_string();
    let _ = Command::new(support::netlab_bin())
        .args([
            "reliable",
            "send",
            "--to",
            &addr,
            "--size",
            &size,
            "--give-up",
            "2s",
        ])
        .output()
        .unwrap();
    let done = recv.wait_with_output().unwrap();
    (
        done.status.success(),
        String::from_utf8_lossy(&done.stderr).into_owned(),
    )
}

#[test]
fn the_receivers_byte_limit_holds_at_the_edge() {
    assert!(send_with_limit(5000, "5000").0, "exactly the limit is fine");
    let (ok, err) = send_with_limit(5001, "5000");
    assert!(!ok, "one byte over must be refused");
    assert!(err.contains("longer than the 5000-byte limit"), "{err}");
}

#[test]
fn bad_flags_are_refused_with_the_rule() {
    for (flag, value) in [("--mss", "0"), ("--mss", "65001"), ("--window", "0")] {
        let out = Command::new(support::netlab_bin())
            .args([
                "reliable",
                "send",
                "--to",
                "127.0.0.1:9",
                "--size",
                "1",
                flag,
                value,
            ])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{flag} {value} accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains(flag));
    }
}
