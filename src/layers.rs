//! Lesson 00 — the layer models.
//!
//! Two models describe how networking is split into layers. The **OSI model**
//! (ISO/IEC 7498-1) has seven; the **TCP/IP model** (RFC 1122 §1.1.3) has four and is
//! the one the Internet was actually built on. Each layer serves the one above it
//! and wraps ("encapsulates") its data in a header of its own.
//!
//! This module is the single place netlab decides which layer something belongs
//! to: `netlab layers` draws it, the lessons grade against it, and the packet
//! inspector labels every byte with it.

use serde::Serialize;
use std::fmt;

/// One of the seven layers of the OSI reference model, numbered from the wire up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum OsiLayer {
    /// 1 — bits as signals on copper, fibre or radio.
    Physical = 1,
    /// 2 — frames between neighbours on one link, addressed by MAC address.
    DataLink = 2,
    /// 3 — packets across many links, addressed by IP address, forwarded by routers.
    Network = 3,
    /// 4 — end-to-end between processes, addressed by port: TCP segments, UDP datagrams.
    Transport = 4,
    /// 5 — dialogues between applications (in practice folded into the application).
    Session = 5,
    /// 6 — representation of data: encodings, compression, encryption (TLS is usually put here).
    Presentation = 6,
    /// 7 — the protocols programs speak: HTTP, DNS, WebSocket, Socket.IO.
    Application = 7,
}

impl OsiLayer {
    /// All seven layers, from the wire (1) up.
    pub const ALL: [OsiLayer; 7] = [
        OsiLayer::Physical,
        OsiLayer::DataLink,
        OsiLayer::Network,
        OsiLayer::Transport,
        OsiLayer::Session,
        OsiLayer::Presentation,
        OsiLayer::Application,
    ];

    /// The layer's number, 1 to 7.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The layer with this number, if it is 1 to 7.
    pub fn from_number(n: u8) -> Option<OsiLayer> {
        OsiLayer::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// The layer's name as textbooks write it.
    pub fn name(self) -> &'static str {
        match self {
            OsiLayer::Physical => "Physical",
            OsiLayer::DataLink => "Data link",
            OsiLayer::Network => "Network",
            OsiLayer::Transport => "Transport",
            OsiLayer::Session => "Session",
            OsiLayer::Presentation => "Presentation",
            OsiLayer::Application => "Application",
        }
    }

    /// What one unit of data is called at this layer (its "PDU").
    pub fn data_unit(self) -> &'static str {
        match self {
            OsiLayer::Physical => "bits",
            OsiLayer::DataLink => "frame",
            OsiLayer::Network => "packet",
            OsiLayer::Transport => "segment (TCP) / datagram (UDP)",
            OsiLayer::Session | OsiLayer::Presentation | OsiLayer::Application => "message",
        }
    }

    /// Where this OSI layer sits in the TCP/IP model.
    pub fn tcpip(self) -> TcpIpLayer {
        tcpip_layer(self)
    }
}

impl fmt::Display for OsiLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "L{} {}", self.number(), self.name())
    }
}

/// One of the four layers of the TCP/IP model (RFC 1122 §1.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TcpIpLayer {
    /// Link: OSI 1 and 2 — getting a frame to the next machine on the same link.
    Link,
    /// Internet: OSI 3 — IP and its helpers, getting a packet to any host.
    Internet,
    /// Transport: OSI 4 — TCP and UDP, getting data to the right process (port).
    Transport,
    /// Application: OSI 5, 6 and 7 together — everything the program speaks itself.
    Application,
}

impl TcpIpLayer {
    /// All four layers, from the wire up.
    pub const ALL: [TcpIpLayer; 4] = [
        TcpIpLayer::Link,
        TcpIpLayer::Internet,
        TcpIpLayer::Transport,
        TcpIpLayer::Application,
    ];

    /// The layer's name.
    pub fn name(self) -> &'static str {
        match self {
            TcpIpLayer::Link => "Link",
            TcpIpLayer::Internet => "Internet",
            TcpIpLayer::Transport => "Transport",
            TcpIpLayer::Application => "Application",
        }
    }

    /// The OSI layers this TCP/IP layer covers, lowest first.
    pub fn osi_layers(self) -> &'static [OsiLayer] {
        match self {
            TcpIpLayer::Link => &OsiLayer::ALL[0..2],
            TcpIpLayer::Internet => &OsiLayer::ALL[2..3],
            TcpIpLayer::Transport => &OsiLayer::ALL[3..4],
            TcpIpLayer::Application => &OsiLayer::ALL[4..7],
        }
    }
}

impl fmt::Display for TcpIpLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an OSI layer sits in the TCP/IP model.
pub fn tcpip_layer(layer: OsiLayer) -> TcpIpLayer {
    match layer {
        OsiLayer::Physical | OsiLayer::DataLink => TcpIpLayer::Link,
        OsiLayer::Network => TcpIpLayer::Internet,
        OsiLayer::Transport => TcpIpLayer::Transport,
        OsiLayer::Session | OsiLayer::Presentation | OsiLayer::Application => {
            TcpIpLayer::Application
        }
    }
}

/// The protocols the course meets, each placed in the models by [`osi_layer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Protocol {
    /// Ethernet II (IEEE 802.3): frames on a LAN, MAC addresses.
    Ethernet,
    /// ARP (RFC 826): asks "who has this IPv4 address?" on the local link.
    Arp,
    /// IPv4 (RFC 791).
    Ipv4,
    /// IPv6 (RFC 8200).
    Ipv6,
    /// ICMP (RFC 792): IPv4's error and diagnostic messages (ping).
    Icmp,
    /// ICMPv6 (RFC 4443): the same for IPv6, plus neighbour discovery.
    Icmpv6,
    /// TCP (RFC 9293): a reliable, ordered byte stream between two ports.
    Tcp,
    /// UDP (RFC 768): single datagrams between two ports, no delivery promise.
    Udp,
    /// DNS (RFC 1035): names to addresses.
    Dns,
    /// HTTP/1.1 (RFC 9112): requests and responses; where a WebSocket starts.
    Http,
    /// TLS (RFC 8446): encryption and authentication above TCP.
    Tls,
    /// WebSocket (RFC 6455): message frames in both directions over one TCP connection.
    WebSocket,
    /// Socket.IO (with Engine.IO beneath it): events, rooms and acks on top of WebSocket or HTTP polling.
    SocketIo,
    /// netlab's own length-prefixed frames (lesson 02).
    NetlabFrame,
    /// Linux "cooked" capture header (SLL/SLL2): what the kernel records instead of
    /// an Ethernet header when capturing on "any" interface.
    LinuxCooked,
    /// The loopback ("null") link header: a 4-byte address family instead of MAC addresses.
    Loopback,
    /// Application bytes no dissector recognised: still the application's data.
    AppData,
}

impl Protocol {
    /// Every protocol in the table, lowest layer first.
    pub const ALL: [Protocol; 17] = [
        Protocol::Ethernet,
        Protocol::Arp,
        Protocol::LinuxCooked,
        Protocol::Loopback,
        Protocol::Ipv4,
        Protocol::Ipv6,
        Protocol::Icmp,
        Protocol::Icmpv6,
        Protocol::Tcp,
        Protocol::Udp,
        Protocol::Tls,
        Protocol::Dns,
        Protocol::Http,
        Protocol::WebSocket,
        Protocol::SocketIo,
        Protocol::NetlabFrame,
        Protocol::AppData,
    ];

    /// The protocol's usual short name.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ethernet => "Ethernet",
            Protocol::Arp => "ARP",
            Protocol::Ipv4 => "IPv4",
            Protocol::Ipv6 => "IPv6",
            Protocol::Icmp => "ICMP",
            Protocol::Icmpv6 => "ICMPv6",
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Dns => "DNS",
            Protocol::Http => "HTTP",
            Protocol::Tls => "TLS",
            Protocol::WebSocket => "WebSocket",
            Protocol::SocketIo => "Socket.IO",
            Protocol::NetlabFrame => "netlab frame",
            Protocol::LinuxCooked => "Linux cooked",
            Protocol::Loopback => "Loopback",
            Protocol::AppData => "data",
        }
    }

    /// A one-line caveat where textbooks disagree about the placement, if any.
    pub fn placement_note(self) -> Option<&'static str> {
        match self {
            Protocol::Arp => Some("ARP maps IP (L3) to MAC (L2) addresses but never leaves the link: usually placed at L2"),
            Protocol::Icmp | Protocol::Icmpv6 => Some("carried inside IP, yet part of the network layer's own machinery"),
            Protocol::Tls => Some("encrypts for the application: L6 in OSI terms, though some books say L5 or 'between 4 and 7'"),
            Protocol::SocketIo => Some("an application protocol on top of another one (WebSocket or HTTP long-polling)"),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The OSI layer a protocol is usually placed at.
pub fn osi_layer(protocol: Protocol) -> OsiLayer {
    match protocol {
        Protocol::Ethernet | Protocol::Arp | Protocol::LinuxCooked | Protocol::Loopback => {
            OsiLayer::DataLink
        }
        Protocol::Ipv4 | Protocol::Ipv6 | Protocol::Icmp | Protocol::Icmpv6 => OsiLayer::Network,
        Protocol::Tcp | Protocol::Udp => OsiLayer::Transport,
        Protocol::Tls => OsiLayer::Presentation,
        Protocol::Dns
        | Protocol::Http
        | Protocol::WebSocket
        | Protocol::SocketIo
        | Protocol::NetlabFrame
        | Protocol::AppData => OsiLayer::Application,
    }
}

/// Header fields students meet in captures, each owned by one protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum HeaderField {
    /// Ethernet: the MAC address of the next machine on the link.
    DestinationMac,
    /// Ethernet: the MAC address of the sending interface.
    SourceMac,
    /// Ethernet: which protocol the payload is (0x0800 IPv4, 0x86DD IPv6, 0x0806 ARP).
    EtherType,
    /// IPv4: hops left before a router discards the packet (IPv6 calls it Hop Limit).
    TimeToLive,
    /// IPv4/IPv6: the address of the sending host.
    SourceIp,
    /// IPv4/IPv6: the address of the final destination host.
    DestinationIp,
    /// TCP/UDP: the port of the sending process.
    SourcePort,
    /// TCP/UDP: the port of the receiving process.
    DestinationPort,
    /// TCP: the number of the first payload byte in the stream.
    SequenceNumber,
    /// TCP: the SYN, ACK, FIN, RST, PSH, URG flags.
    TcpFlags,
    /// TCP: how many more bytes the receiver can take (flow control).
    WindowSize,
    /// HTTP: GET, POST, ...
    HttpMethod,
    /// HTTP: the `Host:` header naming the site.
    HostHeader,
    /// WebSocket: text, binary, close, ping, pong, continuation.
    WebSocketOpcode,
    /// WebSocket: the 4-byte key a client XORs its payload with.
    MaskingKey,
    /// DNS: the name being looked up.
    QueryName,
    /// netlab frames: the 4-byte big-endian payload length.
    FrameLength,
}

impl HeaderField {
    /// Every field in the table.
    pub const ALL: [HeaderField; 17] = [
        HeaderField::DestinationMac,
        HeaderField::SourceMac,
        HeaderField::EtherType,
        HeaderField::TimeToLive,
        HeaderField::SourceIp,
        HeaderField::DestinationIp,
        HeaderField::SourcePort,
        HeaderField::DestinationPort,
        HeaderField::SequenceNumber,
        HeaderField::TcpFlags,
        HeaderField::WindowSize,
        HeaderField::HttpMethod,
        HeaderField::HostHeader,
        HeaderField::WebSocketOpcode,
        HeaderField::MaskingKey,
        HeaderField::QueryName,
        HeaderField::FrameLength,
    ];

    /// The protocol whose header carries this field (IPv4 for IP fields, TCP for ports).
    pub fn protocol(self) -> Protocol {
        match self {
            HeaderField::DestinationMac | HeaderField::SourceMac | HeaderField::EtherType => {
                Protocol::Ethernet
            }
            HeaderField::TimeToLive | HeaderField::SourceIp | HeaderField::DestinationIp => {
                Protocol::Ipv4
            }
            HeaderField::SourcePort
            | HeaderField::DestinationPort
            | HeaderField::SequenceNumber
            | HeaderField::TcpFlags
            | HeaderField::WindowSize => Protocol::Tcp,
            HeaderField::HttpMethod | HeaderField::HostHeader => Protocol::Http,
            HeaderField::WebSocketOpcode | HeaderField::MaskingKey => Protocol::WebSocket,
            HeaderField::QueryName => Protocol::Dns,
            HeaderField::FrameLength => Protocol::NetlabFrame,
        }
    }

    /// The field's name as a capture tool shows it.
    pub fn name(self) -> &'static str {
        match self {
            HeaderField::DestinationMac => "destination MAC address",
            HeaderField::SourceMac => "source MAC address",
            HeaderField::EtherType => "EtherType",
            HeaderField::TimeToLive => "time to live",
            HeaderField::SourceIp => "source IP address",
            HeaderField::DestinationIp => "destination IP address",
            HeaderField::SourcePort => "source port",
            HeaderField::DestinationPort => "destination port",
            HeaderField::SequenceNumber => "sequence number",
            HeaderField::TcpFlags => "TCP flags",
            HeaderField::WindowSize => "window size",
            HeaderField::HttpMethod => "HTTP method",
            HeaderField::HostHeader => "Host header",
            HeaderField::WebSocketOpcode => "WebSocket opcode",
            HeaderField::MaskingKey => "masking key",
            HeaderField::QueryName => "DNS query name",
            HeaderField::FrameLength => "frame length prefix",
        }
    }
}

/// The OSI layer a header field belongs to: the layer of the protocol that carries it.
pub fn field_layer(field: HeaderField) -> OsiLayer {
    osi_layer(field.protocol())
}

/// One row of the side-by-side picture that `netlab layers` draws.
#[derive(Debug, Clone, Serialize)]
pub struct LayerRow {
    /// The OSI layer of this row.
    pub osi: OsiLayer,
    /// The OSI layer's number.
    pub number: u8,
    /// The OSI layer's name.
    pub name: &'static str,
    /// The TCP/IP layer covering it.
    pub tcpip: TcpIpLayer,
    /// What its unit of data is called.
    pub data_unit: &'static str,
    /// The protocols placed at this layer.
    pub protocols: Vec<&'static str>,
}

/// The whole model as rows, top (7) to bottom (1): what `netlab layers` prints.
pub fn model_table() -> Vec<LayerRow> {
    OsiLayer::ALL
        .iter()
        .rev()
        .map(|&osi| LayerRow {
            osi,
            number: osi.number(),
            name: osi.name(),
            tcpip: osi.tcpip(),
            data_unit: osi.data_unit(),
            protocols: Protocol::ALL
                .iter()
                .filter(|&&p| osi_layer(p) == osi)
                .map(|p| p.name())
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for l in OsiLayer::ALL {
            assert_eq!(OsiLayer::from_number(l.number()), Some(l));
        }
        assert_eq!(OsiLayer::from_number(0), None);
        assert_eq!(OsiLayer::from_number(8), None);
    }

    #[test]
    fn tcpip_layers_cover_osi_exactly_once() {
        let mut covered: Vec<OsiLayer> = TcpIpLayer::ALL
            .iter()
            .flat_map(|t| t.osi_layers().iter().copied())
            .collect();
        covered.sort();
        assert_eq!(covered, OsiLayer::ALL.to_vec());
        for t in TcpIpLayer::ALL {
            for &o in t.osi_layers() {
                assert_eq!(tcpip_layer(o), t);
            }
        }
    }

    #[test]
    fn table_places_every_protocol_once() {
        let rows = model_table();
        assert_eq!(rows.first().unwrap().number, 7);
        let placed: usize = rows.iter().map(|r| r.protocols.len()).sum();
        assert_eq!(placed, Protocol::ALL.len());
        let l4 = rows.iter().find(|r| r.number == 4).unwrap();
        assert_eq!(l4.protocols, vec!["TCP", "UDP"]);
    }
}
