//! `netlab link`, the real binary, relaying real UDP datagrams between a client
//! and an echo server on loopback.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::net::UdpSocket;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A UDP echo server on a free port, in a thread; returns its address.
fn udp_echo() -> String {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let _ = sock.send_to(&buf[..n], from);
        }
    });
    addr
}

/// Starts `netlab link` towards `to` with `flags`; returns the child and the address to send to.
fn start_link(to: &str, flags: &[&str]) -> (Child, String) {
    let mut args = vec!["link", "--listen", "127.0.0.1:0", "--to", to, "--json"];
    args.extend_from_slice(flags);
    let (mut child, addr, out) = support::start_listening(&args);
    // Keep the rest of stdout readable for the final report.
    child.stdout = Some(out.into_inner());
    (child, addr)
}

/// Sends `n` numbered datagrams through the link and collects the echoes until `quiet` passes with none.
fn exchange(link: &str, n: u32, quiet: Duration) -> (Vec<u32>, Vec<Duration>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(link).unwrap();
    let start = Instant::now();
    let mut sent_at = Vec::new();
    for i in 0..n {
        sent_at.push(start.elapsed());
        sock.send(&i.to_be_bytes()).unwrap();
        if i % 50 == 49 {
            std::thread::sleep(Duration::from_millis(2)); // don't overflow socket buffers
        }
    }
    sock.set_read_timeout(Some(quiet)).unwrap();
    let (mut got, mut rtts) = (Vec::new(), Vec::new());
    let mut buf = [0u8; 64];
    while let Ok(len) = sock.recv(&mut buf) {
        assert_eq!(len, 4);
        let i = u32::from_be_bytes(buf[..4].try_into().unwrap());
        rtts.push(start.elapsed() - sent_at[i as usize]);
        got.push(i);
    }
    (got, rtts)
}

fn final_report(child: Child) -> Value {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().expect("a JSON report")).unwrap()
}

#[test]
fn loss_is_counted_exactly_and_reproducible_from_the_seed() {
    let echo = udp_echo();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let (child, addr) =
            start_link(&echo, &["--loss", "30%", "--seed", "7", "--duration", "2s"]);
        let (got, _) = exchange(&addr, 500, Duration::from_millis(500));
        let r = final_report(child);
        let (fwd, back) = (&r["forward"], &r["backward"]);
        assert_eq!(fwd["received"], 500);
        assert_eq!(
            fwd["lost"].as_u64().unwrap() + fwd["delivered"].as_u64().unwrap(),
            500
        );
        assert_eq!(
            back["received"], fwd["delivered"],
            "the echo server answered every forwarded datagram"
        );
        assert_eq!(
            back["delivered"].as_u64().unwrap(),
            got.len() as u64,
            "the client got exactly what the link let through"
        );
        let lost_share = 1.0 - got.len() as f64 / 500.0;
        assert!(
            (0.35..0.65).contains(&lost_share),
            "two 30% hops lose about 51%, lost {lost_share}"
        );
        runs.push(got.into_iter().collect::<BTreeSet<u32>>());
    }
    assert_eq!(
        runs[0], runs[1],
        "the same seed must lose the same datagrams"
    );
}

#[test]
fn duplication_doubles_each_way() {
    let echo = udp_echo();
    let (child, addr) = start_link(&echo, &["--duplicate", "100%", "--duration", "1500ms"]);
    let (got, _) = exchange(&addr, 50, Duration::from_millis(400));
    let r = final_report(child);
    assert_eq!(
        got.len(),
        200,
        "2 copies to the server, each echoed twice back"
    );
    assert_eq!(r["forward"]["duplicated"], 50);
    assert_eq!(r["backward"]["duplicated"], 100);
}

#[test]
fn delay_is_added_in_both_directions() {
    let echo = udp_echo();
    let (child, addr) = start_link(&echo, &["--delay", "40ms", "--duration", "1500ms"]);
    let (got, rtts) = exchange(&addr, 20, Duration::from_millis(400));
    final_report(child);
    assert_eq!(got.len(), 20);
    // The link never delivers early: every round trip includes both 40 ms delays.
    assert!(
        rtts.iter().all(|r| *r >= Duration::from_millis(80)),
        "{rtts:?}"
    );
}

#[test]
fn invalid_settings_are_refused_with_the_rule() {
    let out = Command::new(support::netlab_bin())
        .args([
            "link",
            "--listen",
            "127.0.0.1:0",
            "--to",
            "127.0.0.1:9",
            "--loss",
            "150%",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside 0%–100%"));
}

/// The relay sends a burst of equal-sized datagrams upstream in one system call
/// (UDP segmentation offload); the server must still get each datagram alone,
/// byte for byte.
#[test]
fn a_burst_of_equal_sized_datagrams_arrives_as_separate_datagrams() {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (child, link) = start_link(
        &sink.local_addr().unwrap().to_string(),
        &["--duration", "3s"],
    );
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(&link).unwrap();
    let datagram = |i: u32| {
        let mut d = vec![i as u8; 64];
        d[..4].copy_from_slice(&i.to_be_bytes());
        d
    };
    for i in 0..150u32 {
        sock.send(&datagram(i)).unwrap();
        if i % 50 == 49 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    sink.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let mut got = BTreeSet::new();
    while let Ok(n) = sink.recv(&mut buf) {
        assert_eq!(n, 64, "one datagram per recv, never a glued run");
        let i = u32::from_be_bytes(buf[..4].try_into().unwrap());
        assert_eq!(buf[..n], datagram(i)[..], "datagram {i} intact");
        assert!(got.insert(i), "datagram {i} twice");
    }
    assert_eq!(got, (0..150).collect::<BTreeSet<u32>>());
    let report = final_report(child);
    assert_eq!(report["forward"]["delivered"], 150);
}
