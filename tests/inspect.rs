//! The inspector from outside: the real `netlab inspect` binary on hex dumps
//! and capture files, hand-decoded packets, flow state across packets, and
//! proptests that no byte string makes it panic.

mod support;

use netlab::inspect::build::{tcp_frame, udp_frame};
use netlab::inspect::dissect::{Dissection, Dissector, Value};
use netlab::inspect::pcap::{Reader, Writer};
use netlab::inspect::tcp::{FLG_ACK, FLG_PSH, FLG_SYN};
use netlab::inspect::{dissect, LinkType};
use netlab::layers::{OsiLayer, Protocol, TcpIpLayer};
use proptest::prelude::*;
use serde_json::Value as Json;
use std::net::Ipv4Addr;
use std::process::{Command, Output};

fn netlab(args: &[&str]) -> Output {
    Command::new(support::netlab_bin())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run netlab")
}

/// ICMP echo request 127.0.0.1 → 127.0.0.1, id 0x1234 seq 1, no data, decoded by hand:
/// IPv4 header checksum = ~(4500+001c+0001+0000+4001+7f00+0001+7f00+0001) = 0x7cde;
/// ICMP checksum = ~(0800+1234+0001) = 0xe5ca.
const PING: &str =
    "45 00 00 1c 00 01 00 00 40 01 7c de 7f 00 00 01 7f 00 00 01 08 00 e5 ca 12 34 00 01";

fn json_lines(out: &Output) -> Vec<Json> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn find<'a>(fields: &'a Json, name: &str) -> &'a Json {
    fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name} in {fields}"))
}

#[test]
fn hex_ping_as_json_labels_every_field_with_both_layers() {
    let out = netlab(&["inspect", "--hex", PING, "--json"]);
    let p = &json_lines(&out)[0];
    let layers = p["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2, "IPv4 then ICMP: {p}");
    let ip = &layers[0];
    assert_eq!(ip["protocol"], "IPv4");
    assert_eq!(ip["osi"]["number"], 3);
    assert_eq!(ip["tcpip"], "Internet");
    assert_eq!(find(ip, "total length")["value"], 28);
    assert_eq!(find(ip, "time to live")["value"], 64);
    assert_eq!(find(ip, "protocol")["value"]["value"], 1);
    assert_eq!(find(ip, "header checksum")["value"]["status"], "good");
    assert_eq!(find(ip, "source")["value"], "127.0.0.1");
    assert_eq!(find(ip, "source")["range"], serde_json::json!([12, 16]));
    let icmp = &layers[1];
    assert_eq!(icmp["protocol"], "ICMP");
    assert_eq!(icmp["osi"]["number"], 3, "ICMP is network-layer machinery");
    assert_eq!(find(icmp, "type")["value"]["name"], "Echo Request");
    assert_eq!(find(icmp, "checksum")["value"]["status"], "good");
    assert_eq!(find(icmp, "identifier")["value"], 0x1234);
    assert_eq!(
        find(icmp, "sequence number")["range"],
        serde_json::json!([26, 28])
    );
    assert_eq!(p["malformed"], Json::Null);
}

#[test]
fn hex_tree_shows_layers_ranges_and_a_hex_dump_with_legend() {
    let out = netlab(&["inspect", "--hex", PING]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("IPv4 [0..20] [L3 Network | Internet]"),
        "{text}"
    );
    assert!(
        text.contains("header checksum: 0x7cde [correct] [10..12]"),
        "{text}"
    );
    assert!(text.contains("type: 8 (Echo Request) [20..21]"), "{text}");
    assert!(text.contains("legend:"), "{text}");
    assert!(text.contains("0010  7f 00 00 01 08 00 e5 ca"), "{text}");
    assert!(!text.contains('\x1b'), "no colour codes when piped");
}

#[test]
fn a_cut_packet_is_dissected_as_far_as_it_goes() {
    // The ping above without its last 6 bytes: IPv4 is complete, ICMP is not.
    let cut = &PING[..PING.len() - 18];
    let out = netlab(&["inspect", "--hex", cut, "--json"]);
    let p = &json_lines(&out)[0];
    assert_eq!(p["layers"][0]["protocol"], "IPv4");
    assert_eq!(p["malformed"]["protocol"], "ICMP");
    assert_eq!(p["malformed"]["offset"], 20);
    assert!(
        p["malformed"]["error"]
            .as_str()
            .unwrap()
            .contains("needs 8 bytes, only 2"),
        "{p}"
    );
}

#[test]
fn bad_input_gets_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("netlab-inspect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("not.pcap");
    std::fs::write(&f, b"hello, this is not a capture").unwrap();
    let out = netlab(&["inspect", f.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a capture file"), "{err}");
    let out = netlab(&["inspect", "--hex", "4 5"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("odd number of hex digits"));
    let out = netlab(&["inspect", dir.join("missing.pcap").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));
    let _ = std::fs::remove_dir_all(&dir);
}

const A: (Ipv4Addr, u16) = (Ipv4Addr::LOCALHOST, 50000);
const B: (Ipv4Addr, u16) = (Ipv4Addr::LOCALHOST, 8080);

/// A conversation: handshake, HTTP upgrade to /socket.io/, 101, then frames both ways.
fn conversation() -> Vec<Vec<u8>> {
    let req = b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    // Client text frame, masked with 37 fa 21 3d: "42[\"hi\"]" XOR the key, worked out by hand.
    let text = br#"42["hi"]"#;
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut masked = vec![0x81, 0x80 | text.len() as u8];
    masked.extend_from_slice(&key);
    masked.extend(text.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    vec![
        tcp_frame(A, B, 100, 0, FLG_SYN, b""),
        tcp_frame(B, A, 500, 101, FLG_SYN | FLG_ACK, b""),
        tcp_frame(A, B, 101, 501, FLG_PSH | FLG_ACK, req),
        tcp_frame(B, A, 501, 101 + req.len() as u32, FLG_PSH | FLG_ACK, resp),
        tcp_frame(
            A,
            B,
            101 + req.len() as u32,
            501,
            FLG_PSH | FLG_ACK,
            &masked,
        ),
        tcp_frame(B, A, 600, 1, FLG_PSH | FLG_ACK, b"\x81\x023\x30"),
        tcp_frame(
            (A.0, 50001),
            (B.0, 7000),
            7,
            7,
            FLG_PSH | FLG_ACK,
            b"\x00\x00\x00\x05hello\x00\x00\x00\x00",
        ),
        udp_frame(
            A,
            (Ipv4Addr::LOCALHOST, 9999),
            br#"{"type":"message","room":"lobby","text":"hi"}"#,
        ),
    ]
}

#[test]
fn flow_state_turns_an_upgraded_connection_into_websocket_and_socketio() {
    let mut dis = Dissector::new();
    let mut d = Dissection::default();
    let frames = conversation();
    let protos = |d: &Dissection| d.protocols().map(|n| n.protocol).collect::<Vec<_>>();
    dis.dissect(LinkType::Ethernet, &frames[2], &mut d);
    assert!(protos(&d).contains(&Protocol::Http));
    assert_eq!(
        d.field(Protocol::Http, "Upgrade")
            .unwrap()
            .value
            .display(&frames[2]),
        "websocket"
    );
    dis.dissect(LinkType::Ethernet, &frames[3], &mut d);
    assert_eq!(
        d.field(Protocol::Http, "status code").unwrap().value,
        Value::Uint(101)
    );
    dis.dissect(LinkType::Ethernet, &frames[4], &mut d);
    assert!(protos(&d).contains(&Protocol::WebSocket), "{:?}", d.info);
    assert_eq!(
        d.field(Protocol::WebSocket, "masking key")
            .unwrap()
            .value
            .display(&frames[4]),
        "37 fa 21 3d"
    );
    assert_eq!(
        d.field(Protocol::WebSocket, "payload (unmasked)")
            .unwrap()
            .value,
        Value::Text(r#"42["hi"]"#.into())
    );
    let sio: Vec<String> = d
        .nodes
        .iter()
        .filter(|n| n.protocol == Protocol::SocketIo && n.name == "packet type")
        .map(|n| n.value.display(&[]))
        .collect();
    assert_eq!(sio, vec!["4 (message)", "2 (EVENT)"]);
    // Without the flow memory the same bytes are only TCP payload.
    let alone = dissect(LinkType::Ethernet, &frames[4]);
    assert!(!alone.protocols().any(|n| n.protocol == Protocol::WebSocket));
    // Server frame: unmasked, Engine.IO pong "3" + "0"?  "30" is type 3 (pong) with data "0".
    dis.dissect(LinkType::Ethernet, &frames[5], &mut d);
    assert_eq!(
        d.field(Protocol::WebSocket, "MASK").unwrap().value,
        Value::Flag(false)
    );
    // netlab frames tile the payload exactly: "hello" and an empty frame.
    dis.dissect(LinkType::Ethernet, &frames[6], &mut d);
    let lens: Vec<Value> = d
        .nodes
        .iter()
        .filter(|n| n.protocol == Protocol::NetlabFrame && n.name == "length")
        .map(|n| n.value.clone())
        .collect();
    assert_eq!(lens, vec![Value::Uint(5), Value::Uint(0)]);
    // A chat event in a UDP datagram.
    dis.dissect(LinkType::Ethernet, &frames[7], &mut d);
    assert!(d.info.contains("chat message"), "{}", d.info);
    assert_eq!(
        d.field(Protocol::NetlabFrame, "room").unwrap().value,
        Value::Text("lobby".into())
    );
}

#[test]
fn a_pcap_written_by_netlab_reads_back_through_the_cli() {
    let dir = std::env::temp_dir().join(format!("netlab-inspect-w-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("conv.pcap");
    let mut w = Writer::new(std::fs::File::create(&path).unwrap(), LinkType::Ethernet).unwrap();
    for (i, f) in conversation().iter().enumerate() {
        w.write(1_700_000_000 + i as u64, 1000, f.len() as u32, f)
            .unwrap();
    }
    w.finish().unwrap();
    let out = netlab(&["inspect", path.to_str().unwrap(), "--summary"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8, "{text}");
    assert!(lines[0].contains("[SYN] seq=100"), "{}", lines[0]);
    assert!(lines[1].contains("[SYN,ACK]"), "{}", lines[1]);
    assert!(lines[2].contains("GET /socket.io/"), "{}", lines[2]);
    assert!(
        lines[4].contains("WebSocket Text 42[\"hi\"] [Socket.IO EVENT]"),
        "{}",
        lines[4]
    );
    assert!(
        lines[6].contains("netlab frame 5B netlab frame 0B"),
        "{}",
        lines[6]
    );
    // The port filter keeps only the UDP chat datagram.
    let out = netlab(&[
        "inspect",
        path.to_str().unwrap(),
        "--summary",
        "--port",
        "9999",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    // --layers draws one box per header.
    let out = netlab(&["inspect", path.to_str().unwrap(), "--layers", "-c", "1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("┌ TCP · L4 Transport · bytes 34..54"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_record_limit_is_a_flag_tested_at_the_edge() {
    let dir = std::env::temp_dir().join(format!("netlab-inspect-max-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("one.pcap");
    let f = tcp_frame(A, B, 1, 2, FLG_ACK, &[b'x'; 46]); // 14 + 20 + 20 + 46 = 100 bytes
    assert_eq!(f.len(), 100);
    let mut w = Writer::new(std::fs::File::create(&path).unwrap(), LinkType::Ethernet).unwrap();
    w.write(1, 0, 100, &f).unwrap();
    w.finish().unwrap();
    let p = path.to_str().unwrap();
    let out = netlab(&["inspect", p, "--summary", "--max-record", "100"]);
    assert!(
        out.status.success(),
        "a record of exactly the limit is read"
    );
    let out = netlab(&["inspect", p, "--summary", "--max-record", "99"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("announces 100 bytes, above the limit of 99"),
        "{err}"
    );
    assert!(err.contains("at byte 24"), "says where: {err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_byte_of_a_frame_gets_its_layer() {
    let f = tcp_frame(A, B, 1, 2, FLG_PSH | FLG_ACK, b"\x00\x00\x00\x02hi");
    let d = dissect(LinkType::Ethernet, &f);
    // Outside truth: Ethernet 0..14, IPv4 14..34, TCP 34..54, netlab frame 54..60.
    let expect = |i: usize| match i {
        0..=13 => OsiLayer::DataLink,
        14..=33 => OsiLayer::Network,
        34..=53 => OsiLayer::Transport,
        _ => OsiLayer::Application,
    };
    for i in 0..f.len() {
        assert_eq!(d.layer_of(i), Some(expect(i)), "byte {i}");
    }
    assert_eq!(d.node_at(23).unwrap().name, "protocol");
    assert_eq!(d.node_at(23).unwrap().tcpip(), TcpIpLayer::Internet);
    assert!(d
        .field(Protocol::Tcp, "checksum")
        .unwrap()
        .value
        .display(&f)
        .contains("[correct]"));
}

fn all_links() -> [LinkType; 7] {
    [
        LinkType::Ethernet,
        LinkType::Raw,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Null,
        LinkType::Loop,
        LinkType::Ipv6,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_bytes_dissect_without_panic_and_ranges_stay_inside(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        for link in all_links() {
            let d = dissect(link, &data);
            for n in &d.nodes {
                prop_assert!(n.range.start <= n.range.end && n.range.end <= data.len(), "{n:?}");
                let _ = n.value.display(&data);
            }
        }
    }

    #[test]
    fn mutated_real_frames_never_panic(idx in 0usize..8, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6), cut in any::<usize>()) {
        let frames = conversation();
        let mut f = frames[idx].clone();
        for (at, v) in flips {
            let n = f.len();
            f[at % n] = v;
        }
        f.truncate(cut % (f.len() + 1));
        let mut dis = Dissector::new();
        let mut d = Dissection::default();
        for g in &frames[..idx] {
            dis.dissect(LinkType::Ethernet, g, &mut d);
        }
        dis.dissect(LinkType::Ethernet, &f, &mut d);
        for n in &d.nodes {
            prop_assert!(n.range.end <= f.len());
        }
    }

    #[test]
    fn emitted_frames_parse_back_to_their_fields(sp in 1u16.., dp in 1u16.., seq in any::<u32>(), ack in any::<u32>(), payload in proptest::collection::vec(any::<u8>(), 0..64)) {
        let f = tcp_frame((Ipv4Addr::new(10, 0, 0, 1), sp), (Ipv4Addr::new(10, 0, 0, 2), dp), seq, ack, FLG_ACK, &payload);
        let d = dissect(LinkType::Ethernet, &f);
        prop_assert_eq!(d.ports, Some((sp, dp)));
        prop_assert_eq!(&d.field(Protocol::Tcp, "sequence number").unwrap().value, &Value::Uint(seq.into()));
        prop_assert_eq!(&d.field(Protocol::Tcp, "acknowledgment number").unwrap().value, &Value::Uint(ack.into()));
        prop_assert!(d.field(Protocol::Tcp, "checksum").unwrap().value.display(&f).contains("[correct]"));
        prop_assert!(d.field(Protocol::Ipv4, "header checksum").unwrap().value.display(&f).contains("[correct]"));
    }

    #[test]
    fn any_file_bytes_read_without_panic(data in proptest::collection::vec(any::<u8>(), 0..400), magic in 0usize..5) {
        let mut file = match magic {
            0 => vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0],
            1 => vec![0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 101],
            2 => vec![0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0, 1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0],
            _ => vec![],
        };
        file.extend_from_slice(&data);
        if let Ok(mut r) = Reader::new(&file[..]) {
            for _ in 0..1000 {
                match r.next() {
                    Ok(Some(rec)) => { let _ = dissect(rec.link, rec.data); }
                    _ => break,
                }
            }
        }
    }
}

fn hexbytes(s: &str) -> Vec<u8> {
    netlab::inspect::parse_hex(s).unwrap()
}

fn value(d: &Dissection, p: Protocol, name: &str, packet: &[u8]) -> String {
    d.field(p, name)
        .unwrap_or_else(|| panic!("no {p} field {name}: {:#?}", d.nodes))
        .value
        .display(packet)
}

#[test]
fn arp_behind_a_vlan_tag() {
    // Hand-built: broadcast, VLAN 100 priority 5, then ARP "who has 10.0.0.1? tell 10.0.0.2".
    let f = hexbytes(
        "ff ff ff ff ff ff 52 54 00 12 34 56 81 00 a0 64 08 06 \
         00 01 08 00 06 04 00 01 52 54 00 12 34 56 0a 00 00 02 00 00 00 00 00 00 0a 00 00 01",
    );
    let d = dissect(LinkType::Ethernet, &f);
    assert_eq!(d.malformed, None);
    assert_eq!(value(&d, Protocol::Ethernet, "VLAN ID", &f), "100");
    assert_eq!(value(&d, Protocol::Ethernet, "priority", &f), "5");
    assert_eq!(value(&d, Protocol::Arp, "opcode", &f), "1 (request)");
    assert_eq!(
        value(&d, Protocol::Arp, "target IP address", &f),
        "10.0.0.1"
    );
    assert_eq!(
        d.field(Protocol::Arp, "sender MAC address").unwrap().range,
        26..32
    );
    assert_eq!(d.info, "ARP who has 10.0.0.1? tell 10.0.0.2");
    assert_eq!(
        d.layer_of(30),
        Some(OsiLayer::DataLink),
        "ARP stays on the link"
    );
}

#[test]
fn icmpv6_echo_checksum_uses_the_pseudo_header() {
    // ::1 → ::1 echo request id 1 seq 1. Checksum by hand (RFC 4443 §2.3, RFC 8200 §8.1):
    // pseudo-header 0001 + 0001 + 0008 (length) + 003a (next header), then the message
    // 8000 + 0001 + 0001: sum 8046, complemented = 7fb9.
    let mut p = hexbytes("60 00 00 00 00 08 3a 40");
    p.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    p.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    p.extend_from_slice(&hexbytes("80 00 7f b9 00 01 00 01"));
    let d = dissect(LinkType::Raw, &p);
    assert_eq!(value(&d, Protocol::Ipv6, "next header", &p), "58 (ICMPv6)");
    assert_eq!(
        value(&d, Protocol::Icmpv6, "type", &p),
        "128 (Echo Request)"
    );
    assert_eq!(
        value(&d, Protocol::Icmpv6, "checksum", &p),
        "0x7fb9 [correct]"
    );
    p[43] ^= 2;
    let d = dissect(LinkType::Raw, &p);
    assert_eq!(
        value(&d, Protocol::Icmpv6, "checksum", &p),
        "0x7fbb [incorrect, should be 0x7fb9]"
    );
}

#[test]
fn ipv6_extension_headers_are_walked_to_udp() {
    // IPv6 → Hop-by-Hop (8 bytes, PadN) → Fragment (offset 0, M=0) → UDP 1 → 2, "hi".
    let mut p = hexbytes("60 00 00 00 00 1a 00 40");
    p.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    p.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    p.extend_from_slice(&hexbytes("2c 00 01 04 00 00 00 00")); // next: Fragment
    p.extend_from_slice(&hexbytes("11 00 00 00 00 00 00 2a")); // next: UDP, ident 42
    p.extend_from_slice(&hexbytes("00 01 00 02 00 0a 00 00 68 69"));
    let d = dissect(LinkType::Raw, &p);
    assert_eq!(d.malformed, None, "{:#?}", d.nodes);
    let headers: Vec<&str> = d.protocols().map(|n| n.name.as_ref()).collect();
    assert_eq!(
        headers,
        vec!["IPv6", "IPv6 Hop-by-Hop", "IPv6 Fragment", "UDP", "data"]
    );
    assert_eq!(d.ports, Some((1, 2)));
    assert_eq!(d.field(Protocol::Udp, "source port").unwrap().range, 56..58);
}

#[test]
fn dns_over_tcp_has_a_two_byte_length() {
    let query =
        b"\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06netlab\x04test\x00\x00\x01\x00\x01";
    let mut payload = (query.len() as u16).to_be_bytes().to_vec();
    payload.extend_from_slice(query);
    let f = tcp_frame(
        A,
        (Ipv4Addr::LOCALHOST, 53),
        1,
        1,
        FLG_PSH | FLG_ACK,
        &payload,
    );
    let d = dissect(LinkType::Ethernet, &f);
    assert_eq!(value(&d, Protocol::Dns, "transaction ID", &f), "0xbeef");
    assert_eq!(value(&d, Protocol::Dns, "name", &f), "netlab.test");
    assert!(
        d.info.contains("DNS query 0xbeef A netlab.test"),
        "{}",
        d.info
    );
}

#[test]
fn cooked_and_loopback_link_headers_via_the_cli() {
    // Linux SLL2 (IPv4, ifindex 1, loopback, outgoing) + the ping from above.
    let sll2 = format!("08 00 00 00 00 00 00 01 03 04 04 06 00 00 00 00 00 00 00 00 {PING}");
    let out = netlab(&["inspect", "--hex", &sll2, "--link", "sll2", "--json"]);
    let p = &json_lines(&out)[0];
    assert_eq!(p["layers"][0]["protocol"], "Linux cooked");
    assert_eq!(find(&p["layers"][0], "interface index")["value"], 1);
    assert_eq!(
        find(&p["layers"][0], "packet type")["value"]["name"],
        "sent by us"
    );
    assert_eq!(p["layers"][1]["protocol"], "IPv4");
    assert_eq!(p["layers"][1]["range"], serde_json::json!([20, 40]));
    // BSD null header, family 2 in little-endian (as a little-endian host writes it).
    let null = format!("02 00 00 00 {PING}");
    let out = netlab(&["inspect", "--hex", &null, "--link", "null", "--json"]);
    let p = &json_lines(&out)[0];
    assert_eq!(find(&p["layers"][0], "address family")["value"]["value"], 2);
    assert_eq!(p["layers"][2]["protocol"], "ICMP");
}

#[test]
fn a_websocket_frame_longer_than_its_segment_continues_in_the_next() {
    let frames = conversation();
    let mut dis = Dissector::new();
    let mut d = Dissection::default();
    for f in &frames[..4] {
        dis.dissect(LinkType::Ethernet, f, &mut d); // handshake, upgrade, 101
    }
    // A masked text frame of 3000 bytes: header 81 fe 0b b8 + key, split after 1000
    // payload bytes; the second segment also carries a whole frame "bye".
    let text: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let key = [1u8, 2, 3, 4];
    let masked: Vec<u8> = text
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ key[i % 4])
        .collect();
    let mut seg1 = vec![0x81, 0xfe, 0x0b, 0xb8];
    seg1.extend_from_slice(&key);
    seg1.extend_from_slice(&masked[..1000]);
    let mut seg2 = masked[1000..].to_vec();
    seg2.extend_from_slice(&[0x81, 0x83, 0, 0, 0, 0, b'b', b'y', b'e']);
    let p1 = tcp_frame(A, B, 5000, 1, FLG_PSH | FLG_ACK, &seg1);
    let p2 = tcp_frame(A, B, 5000 + seg1.len() as u32, 1, FLG_PSH | FLG_ACK, &seg2);
    dis.dissect(LinkType::Ethernet, &p1, &mut d);
    assert!(
        d.info.contains("WebSocket Text (1000 of 3000 bytes here)"),
        "{}",
        d.info
    );
    dis.dissect(LinkType::Ethernet, &p2, &mut d);
    assert_eq!(d.malformed, None, "{:#?}", d.nodes);
    let cont = d.field(Protocol::WebSocket, "payload (continued)").unwrap();
    assert_eq!(cont.range.len(), 2000);
    assert_eq!(
        cont.value,
        Value::Text(String::from_utf8(text[1000..].to_vec()).unwrap()),
        "unmasked with the key's phase"
    );
    assert_eq!(
        d.field(Protocol::WebSocket, "payload (unmasked)")
            .unwrap()
            .value,
        Value::Text("bye".into())
    );
    // The same second segment arriving out of order (a sequence gap) is not claimed as the rest.
    let mut dis2 = Dissector::new();
    for f in &frames[..4] {
        dis2.dissect(LinkType::Ethernet, f, &mut d);
    }
    dis2.dissect(LinkType::Ethernet, &p1, &mut d);
    let gap = tcp_frame(A, B, 9999, 1, FLG_PSH | FLG_ACK, &seg2);
    dis2.dissect(LinkType::Ethernet, &gap, &mut d);
    assert!(d
        .field(Protocol::WebSocket, "payload (continued)")
        .is_none());
}

/// `netlab inspect --hex -` with `input` on stdin; returns the output and how
/// many bytes of `input` the process took before it stopped reading.
fn inspect_hex_stdin(extra: &[&str], input: &[u8]) -> (Output, usize) {
    use std::io::Write;
    let mut child = Command::new(support::netlab_bin())
        .args(["--color", "never", "inspect", "--hex", "-"])
        .args(extra)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("netlab runs");
    let mut stdin = child.stdin.take().unwrap();
    let mut taken = 0;
    for chunk in input.chunks(64 * 1024) {
        if stdin.write_all(chunk).is_err() {
            break; // the process stopped reading: it refused the rest
        }
        taken += chunk.len();
    }
    drop(stdin);
    (child.wait_with_output().unwrap(), taken)
}

#[test]
fn a_huge_hex_paste_is_refused_without_reading_it_all() {
    let flood = b"00 ".repeat(10 * 1024 * 1024 / 3);
    let (out, taken) = inspect_hex_stdin(&[], &flood);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--max-record"), "{err}");
    assert!(
        taken < flood.len(),
        "the whole 10 MB was read ({taken} bytes): the input is not bounded"
    );
}

#[test]
fn hex_packets_up_to_max_record_are_dissected_and_one_byte_more_is_refused() {
    // An IPv4 header claiming 40 bytes, then padding: 64 bytes in all.
    let mut packet = "45 00 00 28 00 01 00 00 40 06 00 00 7f 00 00 01 7f 00 00 01 ".to_string();
    packet.push_str(&"00 ".repeat(64 - 20));
    let (ok, _) = inspect_hex_stdin(&["--max-record", "64", "--json"], packet.as_bytes());
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let (over, _) = inspect_hex_stdin(&["--max-record", "64"], format!("{packet}00").as_bytes());
    assert!(!over.status.success());
    let err = String::from_utf8_lossy(&over.stderr);
    assert!(err.contains("more than 64 bytes"), "{err}");
}

/// Lesson 10's capture: an unmodified socket.io-client 4.8 against `netlab
/// serve --http`, recorded by `scripts/make-socketio-sample` (real bytes).
const SOCKETIO_SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/lessons/10-browser-socketio/socketio.pcap"
);

/// Every packet of a capture file, dissected in order through one Dissector.
fn dissect_file(path: &str) -> Vec<(Vec<u8>, Dissection)> {
    let bytes = std::fs::read(path).unwrap();
    let mut r = Reader::new(&bytes[..]).unwrap();
    let mut dis = Dissector::new();
    let mut out = Vec::new();
    while let Some(rec) = r.next().unwrap() {
        let mut d = Dissection::default();
        dis.dissect(rec.link, rec.data, &mut d);
        out.push((rec.data.to_vec(), d));
    }
    out
}

/// The Engine.IO (and Socket.IO) packet types in a dissection, in order.
fn packet_types(d: &Dissection) -> Vec<String> {
    d.nodes
        .iter()
        .filter(|n| n.protocol == Protocol::SocketIo && n.name == "packet type")
        .map(|n| n.value.display(&[]))
        .collect()
}

#[test]
fn a_default_socketio_client_polls_then_upgrades_and_every_payload_is_split() {
    let packets = dissect_file(SOCKETIO_SAMPLE);
    let has = |d: &Dissection, p: Protocol| d.protocols().any(|n| n.protocol == p);
    let mut seen = Vec::new();
    for (i, (bytes, d)) in packets.iter().enumerate() {
        assert_eq!(d.malformed, None, "packet {}: {:#?}", i + 1, d.nodes);
        let Some(payload) = d
            .nodes
            .iter()
            .find(|n| n.name == "Engine.IO payload (HTTP long-polling)")
        else {
            if has(d, Protocol::WebSocket) && has(d, Protocol::SocketIo) {
                seen.push(format!("ws {}", packet_types(d).join(" ")));
            }
            continue;
        };
        // The payload is exactly the HTTP body, every byte of it layer 7.
        let body = d.field(Protocol::Http, "body").unwrap();
        assert_eq!(payload.range, body.range);
        for at in body.range.clone() {
            assert_eq!(d.layer_of(at), Some(OsiLayer::Application));
        }
        // Its Engine.IO packets and separators tile it, in order.
        let mut at = body.range.start;
        for n in &d.nodes {
            if n.range.start < body.range.start || n.depth > 1 {
                continue;
            }
            if n.protocol == Protocol::SocketIo && n.depth == 0 && n.name == "Engine.IO" {
                assert_eq!(n.range.start, at, "packet {}", i + 1);
                at = n.range.end;
            } else if n.name.starts_with("separator") {
                assert_eq!((n.range.start, bytes[n.range.start]), (at, 0x1e));
                at += 1;
            }
        }
        assert_eq!(at, body.range.end, "packet {}: {:#?}", i + 1, d.nodes);
        let method = if d.info.contains(" POST ") {
            "POST"
        } else if d.info.contains(" GET ") {
            "GET"
        } else {
            "answer"
        };
        seen.push(format!("{method} {}", packet_types(d).join(" ")));
    }
    let (first, connect) = (&seen[0], &seen[1]);
    assert_eq!(first, "answer 0 (open)", "{seen:#?}");
    assert_eq!(connect, "POST 4 (message) 0 (CONNECT)", "{seen:#?}");
    let open = packets
        .iter()
        .find_map(|(b, d)| {
            d.field(Protocol::SocketIo, "data")
                .map(|n| n.value.display(b))
        })
        .unwrap();
    assert!(open.contains(r#""upgrades":["websocket"]"#), "{open}");
    // The upgrade, in the order the protocol gives: probe, pong, the waiting
    // poll released with noop, then `5` — and the WebSocket carries the rest.
    let pos = |what: &str| {
        seen.iter()
            .position(|s| s == what)
            .unwrap_or_else(|| panic!("no {what:?} in {seen:#?}"))
    };
    let (probe, noop, upgrade) = (
        pos("ws 2 (ping)"),
        pos("answer 6 (noop)"),
        pos("ws 5 (upgrade)"),
    );
    assert!(probe < noop && noop < upgrade, "{seen:#?}");
    assert!(pos("answer 4 (message) 0 (CONNECT) 4 (message) 2 (EVENT)") < probe);
    // The polling-only client: the heartbeat over HTTP, ping in a GET's answer, pong in a POST.
    let ping = seen.iter().rposition(|s| s == "answer 2 (ping)").unwrap();
    assert!(
        ping > upgrade && seen[ping..].contains(&"POST 3 (pong)".to_string()),
        "{seen:#?}"
    );
    assert!(seen.contains(&"answer 1 (close)".to_string()), "{seen:#?}");
}

/// A long-poll answered: the GET from A, then B's `200` with `body`.
fn polling_answer(body: &[u8], content_length: usize) -> [Vec<u8>; 2] {
    let get = b"GET /socket.io/?EIO=4&transport=polling&sid=S HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {content_length}\r\n\r\n"
    )
    .into_bytes();
    resp.extend_from_slice(body);
    [
        tcp_frame(A, B, 1, 1, FLG_PSH | FLG_ACK, get),
        tcp_frame(B, A, 1, 1 + get.len() as u32, FLG_PSH | FLG_ACK, &resp),
    ]
}

fn dissect_exchange(frames: &[Vec<u8>]) -> Dissection {
    let mut dis = Dissector::new();
    let mut d = Dissection::default();
    for f in frames {
        dis.dissect(LinkType::Ethernet, f, &mut d);
    }
    d
}

#[test]
fn polling_bodies_binary_and_cut_ones_are_labelled() {
    // Engine.IO v4's own example: a text message, then 01 02 03 04 in base64.
    let body = b"4hello\x1ebAQIDBA==";
    let frames = polling_answer(body, body.len());
    let d = dissect_exchange(&frames);
    assert_eq!(
        packet_types(&d),
        ["4 (message)", "b (binary message, base64 on polling)"]
    );
    assert_eq!(
        value(&d, Protocol::SocketIo, "data (base64)", &frames[1]),
        "4 bytes: 01 02 03 04"
    );
    assert!(
        d.info.contains("[polling payload: message, binary]"),
        "{}",
        d.info
    );
    // Not base64: said so, not a panic.
    let frames = polling_answer(b"b!!!", 4);
    let d = dissect_exchange(&frames);
    assert_eq!(
        value(&d, Protocol::SocketIo, "data (base64)", &frames[1]),
        "not valid base64"
    );
    // Content-Length announces more than this segment holds: labelled as far as it goes.
    let frames = polling_answer(b"42[\"a\"]\x1ebAQI", 100);
    let d = dissect_exchange(&frames);
    assert_eq!(
        value(&d, Protocol::SocketIo, "data (base64)", &frames[1]),
        "base64, cut at the end of this segment"
    );
    assert!(d.field(Protocol::SocketIo, "continues").is_some());
    // ... and less: the payload stops where the body does.
    let frames = polling_answer(b"3\x1e3", 1);
    let d = dissect_exchange(&frames);
    assert_eq!(packet_types(&d), ["3 (pong)"]);
    // The same body without the polling request before it is only an HTTP body,
    // and so is an Engine.IO error or the `ok` that answers a POST.
    let alone = dissect(LinkType::Ethernet, &polling_answer(b"4hello", 6)[1]);
    assert!(packet_types(&alone).is_empty());
    let err = br#"{"code":1,"message":"Session ID unknown"}"#;
    assert!(packet_types(&dissect_exchange(&polling_answer(err, err.len()))).is_empty());
    assert!(packet_types(&dissect_exchange(&polling_answer(b"ok", 2))).is_empty());
}

#[test]
fn a_hostile_polling_body_costs_a_bounded_dissection() {
    use netlab::inspect::engineio::MAX_PAYLOAD_PIECES;
    let seps = vec![0x1e; 60_000];
    let frames = polling_answer(&seps, seps.len());
    // A body of separators does not look like a payload: only HTTP.
    assert!(packet_types(&dissect_exchange(&frames)).is_empty());
    // 20,000 tiny packets: the first MAX_PAYLOAD_PIECES are labelled, the rest is one field.
    let many = vec!["3"; 20_000].join("\x1e");
    let frames = polling_answer(many.as_bytes(), many.len());
    let d = dissect_exchange(&frames);
    assert_eq!(packet_types(&d).len(), MAX_PAYLOAD_PIECES);
    assert!(
        d.nodes.len() < 4 * MAX_PAYLOAD_PIECES + 64,
        "{}",
        d.nodes.len()
    );
    let rest = d
        .field(
            Protocol::SocketIo,
            "more packets (past the inspector's limit, MAX_PAYLOAD_PIECES)",
        )
        .unwrap();
    assert_eq!(rest.range.end, frames[1].len());
    assert!(d.info.contains("pong, pong, pong, pong, …]"), "{}", d.info);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn any_polling_body_dissects_without_panic(body in proptest::collection::vec(prop_oneof![Just(0x1e_u8), Just(b'b'), Just(b'4'), Just(b'2'), any::<u8>()], 0..400), announced in 0usize..600) {
        let frames = polling_answer(&body, announced);
        let d = dissect_exchange(&frames);
        for n in &d.nodes {
            prop_assert!(n.range.start <= n.range.end && n.range.end <= frames[1].len(), "{n:?}");
            let _ = n.value.display(&frames[1]);
        }
    }
}
