// Lesson 00 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_00.rs (against your lessons/00-models/exercise.rs), inside a
// module where `subject` is the code under test.

use self::subject::{field_layer, osi_layer, tcpip_layer};
use netlab::layers::{HeaderField, OsiLayer, Protocol, TcpIpLayer};
use pretty_assertions::assert_eq;

#[test]
fn protocols_sit_at_their_osi_layer() {
    // The answer table, written out independently of the library.
    let expected = [
        (Protocol::Ethernet, 2),
        (Protocol::Arp, 2),
        (Protocol::Ipv4, 3),
        (Protocol::Ipv6, 3),
        (Protocol::Icmp, 3),
        (Protocol::Icmpv6, 3),
        (Protocol::Tcp, 4),
        (Protocol::Udp, 4),
        (Protocol::Tls, 6),
        (Protocol::Dns, 7),
        (Protocol::Http, 7),
        (Protocol::WebSocket, 7),
        (Protocol::SocketIo, 7),
        (Protocol::NetlabFrame, 7),
    ];
    let got: Vec<(Protocol, u8)> = expected
        .iter()
        .map(|&(p, _)| (p, osi_layer(p).number()))
        .collect();
    assert_eq!(
        got,
        expected.to_vec(),
        "(protocol, OSI layer number): a protocol sits at the layer whose job it does, e.g. TLS encrypts for the application above it, so it is 6 (presentation), not 4 or 7"
    );
}

#[test]
fn websocket_and_socketio_are_application_protocols_not_transports() {
    // A common mix-up: "WebSocket is a transport like TCP". It runs *on* TCP.
    assert_eq!(
        osi_layer(Protocol::WebSocket),
        OsiLayer::Application,
        "WebSocket is an application protocol (layer 7): it is carried inside TCP, it is not a transport like TCP"
    );
    assert_eq!(
        osi_layer(Protocol::SocketIo),
        OsiLayer::Application,
        "Socket.IO is an application protocol (layer 7): it runs on top of WebSocket or HTTP"
    );
    assert!(
        osi_layer(Protocol::Tcp) < osi_layer(Protocol::WebSocket),
        "TCP must sit below WebSocket, whose frames travel inside TCP segments"
    );
}

#[test]
fn seven_osi_layers_fold_into_four_tcpip_layers() {
    let got: Vec<(u8, TcpIpLayer)> = (1..=7)
        .map(|n| {
            let l = OsiLayer::from_number(n).unwrap();
            (n, tcpip_layer(l))
        })
        .collect();
    let expected = vec![
        (1, TcpIpLayer::Link),
        (2, TcpIpLayer::Link),
        (3, TcpIpLayer::Internet),
        (4, TcpIpLayer::Transport),
        (5, TcpIpLayer::Application),
        (6, TcpIpLayer::Application),
        (7, TcpIpLayer::Application),
    ];
    assert_eq!(
        got,
        expected,
        "(OSI layer number, TCP/IP layer): 1 and 2 fold into Link, 3 is Internet, 4 is Transport, and 5, 6 and 7 all fold into Application"
    );
}

#[test]
fn header_fields_belong_to_the_layer_of_their_header() {
    let expected = [
        (HeaderField::DestinationMac, 2),
        (HeaderField::SourceMac, 2),
        (HeaderField::EtherType, 2),
        (HeaderField::TimeToLive, 3),
        (HeaderField::SourceIp, 3),
        (HeaderField::DestinationIp, 3),
        (HeaderField::SourcePort, 4),
        (HeaderField::DestinationPort, 4),
        (HeaderField::SequenceNumber, 4),
        (HeaderField::TcpFlags, 4),
        (HeaderField::WindowSize, 4),
        (HeaderField::HttpMethod, 7),
        (HeaderField::HostHeader, 7),
        (HeaderField::WebSocketOpcode, 7),
        (HeaderField::MaskingKey, 7),
        (HeaderField::QueryName, 7),
        (HeaderField::FrameLength, 7),
    ];
    let got: Vec<(HeaderField, u8)> = expected
        .iter()
        .map(|&(f, _)| (f, field_layer(f).number()))
        .collect();
    assert_eq!(
        got,
        expected.to_vec(),
        "(header field, OSI layer number): a field belongs to the layer of the header that carries it, e.g. ports are in the TCP/UDP header (4), not in the IP header (3)"
    );
}
