//! `netlab compare`, the real binary: each scenario's claim from lesson 06,
//! checked on its JSON output.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

/// Runs `netlab compare ARGS --json` and returns the reports.
fn compare(args: &[&str]) -> Vec<Value> {
    let out = Command::new(support::netlab_bin())
        .arg("compare")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "netlab compare {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn n(v: &Value, path: &str) -> u64 {
    v.pointer(path)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{path} missing in {v}"))
}

/// The sequence numbers in a timeline, in arrival order.
fn arrivals(v: &Value, transport: &str) -> Vec<u64> {
    v[transport]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_u64().unwrap())
        .collect()
}

#[test]
fn lossy_wire_udp_loses_tcp_retransmits_and_delivers_everything_in_order() {
    let reps = compare(&[
        "lossy-wire",
        "--count",
        "1000",
        "--loss",
        "5%",
        "--seed",
        "11",
    ]);
    let r = &reps[0];
    assert_eq!(r["scenario"], "lossy-wire");
    assert!(r["stack"].as_str().unwrap().contains("smoltcp"));
    assert!(r["impairment"].as_str().unwrap().contains("loss 5%"));
    // TCP: every message, each exactly once, in order — read from the timeline itself.
    assert_eq!(arrivals(r, "tcp"), (0..1000).collect::<Vec<u64>>());
    assert_eq!(n(r, "/tcp/lost"), 0);
    assert!(n(r, "/tcp/retransmissions") > 0);
    // UDP: about 5% of 1000 lost (binomial: 50 ± 4σ ≈ 50 ± 28), never duplicated.
    let udp = arrivals(r, "udp");
    let distinct: BTreeSet<u64> = udp.iter().copied().collect();
    assert_eq!(distinct.len(), udp.len(), "loss alone duplicates nothing");
    assert_eq!(n(r, "/udp/lost"), 1000 - distinct.len() as u64);
    assert!(
        (22..=78).contains(&n(r, "/udp/lost")),
        "{}",
        r["udp"]["lost"]
    );
    // Losses cost TCP latency: its p99 is above the wire's 10 ms.
    assert!(n(r, "/tcp/p99_latency_us") > 10_000);
    assert_eq!(
        n(r, "/udp/p50_latency_us"),
        10_000,
        "UDP latency is the wire's delay"
    );
}

#[test]
fn the_simulated_wire_is_reproducible_from_the_seed() {
    let args = ["lossy-wire", "--count", "300", "--seed", "5"];
    let a = compare(&args);
    let b = compare(&args);
    assert_eq!(a, b);
    let c = compare(&["lossy-wire", "--count", "300", "--seed", "6"]);
    assert_ne!(a[0]["udp"]["timeline"], c[0]["udp"]["timeline"]);
}

#[test]
fn reordering_reaches_udp_programs_but_tcp_puts_it_right() {
    let reps = compare(&["reordering", "--count", "500", "--reorder", "10%"]);
    let r = &reps[0];
    let udp = arrivals(r, "udp");
    let inversions = udp.windows(2).filter(|w| w[0] > w[1]).count();
    assert!(inversions > 0 && n(r, "/udp/out_of_order") > 0);
    assert_eq!(n(r, "/udp/lost"), 0, "reordering loses nothing");
    assert_eq!(arrivals(r, "tcp"), (0..500).collect::<Vec<u64>>());
}

#[test]
fn duplication_reaches_udp_programs_but_tcp_discards_copies() {
    let reps = compare(&["duplication", "--count", "500", "--duplicate", "10%"]);
    let r = &reps[0];
    let udp = arrivals(r, "udp");
    assert_eq!(udp.len() as u64, 500 + n(r, "/udp/duplicated"));
    assert!(n(r, "/udp/duplicated") > 20, "about 50 of 500");
    assert_eq!(arrivals(r, "tcp"), (0..500).collect::<Vec<u64>>());
}

#[test]
fn slow_receiver_udp_kernel_drops_what_tcp_flow_control_holds_back() {
    let reps = compare(&[
        "slow-receiver",
        "--count",
        "400",
        "--rate",
        "2000",
        "--read-delay",
        "2ms",
    ]);
    let r = &reps[0];
    assert!(r["stack"].as_str().unwrap().contains("kernel"));
    let drops = n(r, "/udp/kernel_drops");
    assert!(drops > 0, "the kernel dropped datagrams: {}", r["udp"]);
    // On loopback nothing else loses datagrams: every loss is a counted kernel drop.
    assert_eq!(n(r, "/udp/lost"), drops);
    assert_eq!(n(r, "/tcp/lost"), 0);
    assert_eq!(arrivals(r, "tcp"), (0..400).collect::<Vec<u64>>());
    // Flow control slowed TCP's sender below the offered 2000 msg/s, to about the reader's 500/s.
    assert!(r["tcp"]["throughput_msgs"].as_f64().unwrap() < 1000.0);
}

#[test]
fn the_svg_timeline_has_both_transports_and_marks_losses() {
    let dir = std::env::temp_dir().join(format!("netlab-svg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("t.svg");
    let out = Command::new(support::netlab_bin())
        .args(["compare", "lossy-wire", "--count", "200", "--svg"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let svg = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(">TCP: 200 of 200 delivered"));
    assert!(svg.contains(">UDP: "));
    assert!(
        svg.contains("#d1242f"),
        "lost UDP messages are marked in red"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("TCP retransmissions") && text.contains("× never arrived"));
}

#[test]
fn workload_limits_are_refused_with_the_rule() {
    for (args, needle) in [
        (&["--size", "7"][..], "sequence header"),
        (&["--size", "1473"][..], "1472"),
        (&["--count", "0"][..], "--count"),
        (&["--rate", "0"][..], "--rate"),
        (&["--loss", "150%"][..], "outside 0%–100%"),
        (&["--read-delay", "1001ms"][..], "--read-delay"),
    ] {
        let out = Command::new(support::netlab_bin())
            .arg("compare")
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// `--real`: the kernel's TCP and UDP in two namespaces. Runs as root with
/// iproute2 and iptables (scripts/install-peers); required under check-all.
#[test]
fn real_kernel_stacks_in_namespaces_show_the_same_lesson() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if !support::peer_available(
        "root with ip netns and iptables (for compare --real)",
        Command::new("sh").args([
            "-c",
            "[ \"$(id -u)\" = 0 ] && ip netns list && iptables --version",
        ]),
    ) {
        return;
    }
    assert!(root);
    let reps = compare(&[
        "lossy-wire",
        "--real",
        "--count",
        "500",
        "--rate",
        "1000",
        "--loss",
        "5%",
    ]);
    let r = &reps[0];
    assert!(r["stack"].as_str().unwrap().contains("kernel"));
    let imp = r["impairment"].as_str().unwrap();
    assert!(imp.contains("netem") || imp.contains("statistic"), "{imp}");
    assert_eq!(arrivals(r, "tcp"), (0..500).collect::<Vec<u64>>());
    assert!(n(r, "/tcp/retransmissions") > 0);
    assert!(n(r, "/udp/lost") > 0);
    // The namespaces are gone afterwards.
    let list = Command::new("ip").args(["netns", "list"]).output().unwrap();
    let left = String::from_utf8_lossy(&list.stdout);
    assert!(
        !left.lines().any(|l| l.starts_with("netlab")),
        "left behind: {left}"
    );
}
