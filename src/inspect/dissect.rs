//! The dissection: bytes → a tree of fields, each with its name, value, byte
//! range and the layer it belongs to in both models (from [`crate::layers`]).
//!
//! The tree is stored flat, in order, with a depth per node (depth 0 is a
//! protocol header, deeper nodes its fields), so one `Vec` is reused from
//! packet to packet. A packet is dissected as far as its bytes go; the first
//! rule broken stops the descent and is recorded as [`Malformed`] with the
//! layer and the byte offset where that layer starts — never a panic.

use super::checksum::{self, Verdict};
use super::ethernet::{self, EtherType};
use super::flow::{FlowKey, FlowState, FlowTable, Pending};
use super::ipv4::{self, IpProtocol};
use super::link::{self, LinkType};
use super::wire::{be16, MacAddr};
use super::{arp, dns, engineio, http, icmp, ipv6, netframe, resp, tcp, udp, websocket};
use crate::layers::{osi_layer, OsiLayer, Protocol, TcpIpLayer};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

/// Most WebSocket frames shown per TCP segment.
pub const MAX_WS_FRAMES_PER_SEGMENT: usize = 256;
/// Most IPv6 extension headers walked before giving up.
pub const MAX_IPV6_EXTENSIONS: usize = 8;

/// A field's value, kept cheap: most variants hold numbers, and text is a range
/// into the packet, formatted only when shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A header node; the value is in its children.
    None,
    /// A number.
    Uint(u64),
    /// A number best read in hex, with its digit count.
    Hex(u64, u8),
    /// A number with its registry name, e.g. `6 (TCP)`.
    Named(u64, &'static str),
    /// A registry number best read in hex with its name and digit count, e.g. `0x0800 (IPv4)`.
    NamedHex(u64, &'static str, u8),
    /// A yes/no flag.
    Flag(bool),
    /// A MAC address.
    Mac(MacAddr),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
    /// A fixed word.
    Str(&'static str),
    /// Computed text.
    Text(String),
    /// The packet's bytes in this range, shown as text.
    Printable(Range<usize>),
    /// The packet's bytes in this range, shown as hex.
    Bytes(Range<usize>),
    /// A checksum field and the verdict of checking it.
    Checksum(u16, Verdict),
    /// TCP's flag bits, shown with their names.
    TcpFlags(u16),
}

impl Value {
    /// The value as text, reading ranges from `packet`.
    pub fn display(&self, packet: &[u8]) -> String {
        let slice = |r: &Range<usize>| packet.get(r.clone()).unwrap_or(&[]);
        match self {
            Value::None => String::new(),
            Value::Uint(n) => n.to_string(),
            Value::Hex(n, d) => format!("0x{:0width$x}", n, width = usize::from(*d)),
            Value::Named(n, name) => format!("{n} ({name})"),
            Value::NamedHex(n, name, d) => {
                format!("0x{:0width$x} ({name})", n, width = usize::from(*d))
            }
            Value::Flag(b) => if *b { "set" } else { "not set" }.to_string(),
            Value::Mac(m) => m.to_string(),
            Value::Ipv4(a) => a.to_string(),
            Value::Ipv6(a) => a.to_string(),
            Value::Str(s) => (*s).to_string(),
            // Text from a packet is a peer's: shown escaped, never obeyed.
            Value::Text(s) => crate::term::peer_text(s).into_owned(),
            Value::Printable(r) => crate::term::printable(slice(r), 200),
            Value::Bytes(r) => crate::term::hex(slice(r), 32),
            Value::TcpFlags(f) => format!("0x{f:03x} ({})", tcp::flag_string(*f)),
            Value::Checksum(v, verdict) => match verdict {
                Verdict::Good => format!("0x{v:04x} [correct]"),
                Verdict::Bad { expected } => {
                    format!("0x{v:04x} [incorrect, should be 0x{expected:04x}]")
                }
                Verdict::Unverified => format!("0x{v:04x} [unverified]"),
            },
        }
    }

    /// The value for `--json`: numbers stay numbers, text stays text.
    pub fn to_json(&self, packet: &[u8]) -> serde_json::Value {
        use serde_json::json;
        match self {
            Value::None => serde_json::Value::Null,
            Value::Uint(n) | Value::Hex(n, _) => json!(n),
            Value::TcpFlags(f) => json!({ "value": f, "name": tcp::flag_string(*f) }),
            Value::Named(n, name) | Value::NamedHex(n, name, _) => {
                json!({ "value": n, "name": name })
            }
            Value::Flag(b) => json!(b),
            Value::Checksum(v, verdict) => json!({
                "value": v,
                "status": match verdict {
                    Verdict::Good => "good",
                    Verdict::Bad { .. } => "bad",
                    Verdict::Unverified => "unverified",
                },
            }),
            Value::Printable(r) => {
                json!(String::from_utf8_lossy(
                    packet.get(r.clone()).unwrap_or(&[])
                ))
            }
            other => json!(other.display(packet)),
        }
    }
}

/// One node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The field's (or header's) name.
    pub name: Cow<'static, str>,
    /// Its value.
    pub value: Value,
    /// The bytes it covers, counted from the packet's first byte.
    pub range: Range<usize>,
    /// The protocol it belongs to (its layers follow from this).
    pub protocol: Protocol,
    /// 0 for a protocol header, 1 for its fields, 2 for sub-fields.
    pub depth: u8,
}

impl Node {
    /// The node's OSI layer.
    pub fn osi(&self) -> OsiLayer {
        osi_layer(self.protocol)
    }
    /// The node's TCP/IP layer.
    pub fn tcpip(&self) -> TcpIpLayer {
        self.osi().tcpip()
    }
}

/// Where and why dissection stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The protocol whose rule was broken.
    pub protocol: Protocol,
    /// Where that protocol's bytes start in the packet.
    pub offset: usize,
    /// The rule, in words.
    pub error: String,
}

/// The dissection of one packet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dissection {
    /// The tree, flat, in order.
    pub nodes: Vec<Node>,
    /// Set when a rule was broken; the bytes from `offset` on are not dissected.
    pub malformed: Option<Malformed>,
    /// A one-line summary of the highest layer understood.
    pub info: String,
    /// Source and destination addresses, when there is an IP layer.
    pub addrs: Option<(IpAddr, IpAddr)>,
    /// Source and destination ports, when there is TCP or UDP.
    pub ports: Option<(u16, u16)>,
    /// Bytes dissected.
    pub len: usize,
}

impl Dissection {
    /// Empties the dissection, keeping its allocations for the next packet.
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.malformed = None;
        self.info.clear();
        self.addrs = None;
        self.ports = None;
        self.len = 0;
    }

    /// The protocol headers (depth-0 nodes), lowest first.
    pub fn protocols(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.depth == 0)
    }

    /// The first node named `name` under the first header of `protocol`.
    pub fn field(&self, protocol: Protocol, name: &str) -> Option<&Node> {
        self.nodes
            .iter()
            .find(|n| n.protocol == protocol && n.depth > 0 && n.name == name)
    }

    /// The innermost node covering byte `offset` (what a student points at).
    pub fn node_at(&self, offset: usize) -> Option<&Node> {
        self.nodes
            .iter()
            .filter(|n| n.range.contains(&offset))
            .max_by_key(|n| (n.depth, std::cmp::Reverse(n.range.len())))
    }

    /// The OSI layer of the byte at `offset`, if it was dissected.
    pub fn layer_of(&self, offset: usize) -> Option<OsiLayer> {
        self.node_at(offset).map(Node::osi)
    }
}

/// UDP ports whose datagrams are dissected as DNS unless told otherwise (DNS, mDNS).
pub const DEFAULT_DNS_PORTS: [u16; 2] = [53, 5353];

/// Dissects packets one after another, remembering flows between them.
#[derive(Debug)]
pub struct Dissector {
    flows: FlowTable,
    dns_ports: Vec<u16>,
}

impl Default for Dissector {
    fn default() -> Self {
        Dissector {
            flows: FlowTable::new(),
            dns_ports: DEFAULT_DNS_PORTS.to_vec(),
        }
    }
}

/// Dissects one packet on its own (no flow memory).
pub fn dissect(link: LinkType, data: &[u8]) -> Dissection {
    let mut out = Dissection::default();
    Dissector::new().dissect(link, data, &mut out);
    out
}

struct Ctx<'a, 'b> {
    data: &'a [u8],
    /// The current TCP segment's sequence number and payload length (as announced).
    seg_seq: u32,
    seg_len: usize,
    out: &'b mut Dissection,
    flows: &'b mut FlowTable,
    dns_ports: &'b [u16],
}

type Step = Result<(), (Protocol, usize, String)>;

fn fail<T>(
    protocol: Protocol,
    offset: usize,
    e: impl ToString,
) -> Result<T, (Protocol, usize, String)> {
    Err((protocol, offset, e.to_string()))
}

impl Dissector {
    /// A dissector with no flows remembered.
    pub fn new() -> Self {
        Self::default()
    }

    /// A dissector remembering at most `max_flows` connections (default [`super::flow::MAX_FLOWS`]).
    pub fn with_max_flows(max_flows: usize) -> Self {
        Dissector {
            flows: FlowTable::with_limit(max_flows),
            ..Self::default()
        }
    }

    /// Dissects UDP datagrams to or from `port` as DNS too, like Wireshark's
    /// "Decode As" (a resolver on a test port is still DNS).
    pub fn add_dns_port(&mut self, port: u16) {
        if !self.dns_ports.contains(&port) {
            self.dns_ports.push(port);
        }
    }

    /// Dissects `data`, which starts with a `link` header, into `out` (cleared first).
    pub fn dissect(&mut self, link: LinkType, data: &[u8], out: &mut Dissection) {
        out.clear();
        out.len = data.len();
        let mut cx = Ctx {
            data,
            seg_seq: 0,
            seg_len: 0,
            out,
            flows: &mut self.flows,
            dns_ports: &self.dns_ports,
        };
        if let Err((protocol, offset, error)) = cx.link(link) {
            let end = data.len();
            cx.out.nodes.push(Node {
                name: Cow::Borrowed("malformed"),
                value: Value::Text(error.clone()),
                range: offset.min(end)..end,
                protocol,
                depth: 0,
            });
            if cx.out.info.is_empty() {
                cx.out.info = format!("[malformed {protocol}] {error}");
            } else {
                let _ = write!(cx.out.info, " [malformed {protocol}]");
            }
            cx.out.malformed = Some(Malformed {
                protocol,
                offset,
                error,
            });
        }
    }
}

impl Ctx<'_, '_> {
    fn push(
        &mut self,
        depth: u8,
        protocol: Protocol,
        name: &'static str,
        range: Range<usize>,
        value: Value,
    ) {
        self.out.nodes.push(Node {
            name: Cow::Borrowed(name),
            value,
            range,
            protocol,
            depth,
        });
    }

    fn header(&mut self, protocol: Protocol, range: Range<usize>) {
        self.push(0, protocol, protocol.name(), range, Value::None);
    }

    fn field(&mut self, protocol: Protocol, name: &'static str, range: Range<usize>, value: Value) {
        self.push(1, protocol, name, range, value);
    }

    fn link(&mut self, link: LinkType) -> Step {
        let data = self.data;
        match link {
            LinkType::Ethernet => self.ethernet(0),
            LinkType::Raw => match data.first().map(|b| b >> 4) {
                Some(6) => self.ipv6(0),
                Some(_) => self.ipv4(0),
                None => fail(Protocol::Ipv4, 0, "empty packet"),
            },
            LinkType::Ipv4 => self.ipv4(0),
            LinkType::Ipv6 => self.ipv6(0),
            LinkType::LinuxSll | LinkType::LinuxSll2 => {
                let v2 = link == LinkType::LinuxSll2;
                let c = link::cooked(data, v2).or_else(|e| fail(Protocol::LinuxCooked, 0, e))?;
                let p = Protocol::LinuxCooked;
                self.header(p, 0..c.header_len);
                for (name, r) in &c.fields {
                    let value = match *name {
                        "packet type" => Value::Named(
                            u64::from(c.packet_type),
                            link::packet_type_name(c.packet_type),
                        ),
                        "protocol" => Value::NamedHex(
                            u64::from(c.protocol),
                            EtherType::from(c.protocol).name(),
                            4,
                        ),
                        "interface index" => Value::Uint(u64::from(c.ifindex.unwrap_or(0))),
                        "link-layer address type" => Value::Uint(u64::from(c.arphrd)),
                        "link-layer address length" => Value::Uint(u64::from(c.addr_len)),
                        _ => Value::Bytes(r.clone()),
                    };
                    self.field(p, name, r.clone(), value);
                }
                self.ethertype(c.protocol.into(), c.header_len)
            }
            LinkType::Null | LinkType::Loop => {
                let fam = link::null_family(data, link == LinkType::Loop)
                    .or_else(|e| fail(Protocol::Loopback, 0, e))?;
                let v6 = link::family_is_ipv6(fam);
                self.header(Protocol::Loopback, 0..link::NULL_LEN);
                self.field(
                    Protocol::Loopback,
                    "address family",
                    0..4,
                    Value::Named(u64::from(fam), if v6 { "IPv6" } else if fam == 2 { "IPv4" } else { "unknown" }),
                );
                if v6 {
                    self.ipv6(link::NULL_LEN)
                } else if fam == 2 {
                    self.ipv4(link::NULL_LEN)
                } else {
                    self.data_node(Protocol::Loopback, link::NULL_LEN);
                    Ok(())
                }
            }
            LinkType::Unknown(t) => fail(
                Protocol::Ethernet,
                0,
                format!("link type {t} is not supported (Ethernet, raw IP, Linux SLL/SLL2, null/loop are)"),
            ),
        }
    }

    fn ethernet(&mut self, off: usize) -> Step {
        let p = Protocol::Ethernet;
        let b = &self.data[off..];
        let f = ethernet::Frame::new_checked(b).or_else(|e| fail(p, off, e))?;
        self.header(p, off..off + ethernet::HEADER_LEN);
        self.field(p, "destination", off..off + 6, Value::Mac(f.destination()));
        self.field(p, "source", off + 6..off + 12, Value::Mac(f.source()));
        let mut et = f.ethertype();
        self.field(
            p,
            "type",
            off + 12..off + 14,
            Value::NamedHex(u16::from(et).into(), et.name(), 4),
        );
        let mut at = off + ethernet::HEADER_LEN;
        let mut tags = 0;
        while matches!(et, EtherType::Vlan | EtherType::QinQ) && tags < 2 {
            let tag =
                ethernet::VlanTag::new_checked(&self.data[at..]).or_else(|e| fail(p, at, e))?;
            self.push(0, p, "802.1Q VLAN tag", at..at + 4, Value::None);
            self.field(
                p,
                "priority",
                at..at + 1,
                Value::Uint(tag.priority().into()),
            );
            self.field(
                p,
                "drop eligible",
                at..at + 1,
                Value::Flag(tag.drop_eligible()),
            );
            self.field(p, "VLAN ID", at..at + 2, Value::Uint(tag.vlan_id().into()));
            et = tag.ethertype();
            self.field(
                p,
                "type",
                at + 2..at + 4,
                Value::NamedHex(u16::from(et).into(), et.name(), 4),
            );
            at += ethernet::VLAN_TAG_LEN;
            tags += 1;
        }
        if !matches!(et, EtherType::Ipv4 | EtherType::Ipv6 | EtherType::Arp) {
            let _ = write!(
                self.out.info,
                "{} → {} {}",
                f.source(),
                f.destination(),
                et.name()
            );
        }
        self.ethertype(et, at)
    }

    fn ethertype(&mut self, et: EtherType, at: usize) -> Step {
        match et {
            EtherType::Ipv4 => self.ipv4(at),
            EtherType::Ipv6 => self.ipv6(at),
            EtherType::Arp => self.arp(at),
            _ => {
                self.data_node(Protocol::Ethernet, at);
                Ok(())
            }
        }
    }

    fn data_node(&mut self, protocol: Protocol, at: usize) {
        if at < self.data.len() {
            self.push(
                1,
                protocol,
                "data",
                at..self.data.len(),
                Value::Bytes(at..self.data.len()),
            );
        }
    }

    fn arp(&mut self, off: usize) -> Step {
        let p = Protocol::Arp;
        let a = arp::Packet::new_checked(&self.data[off..]).or_else(|e| fail(p, off, e))?;
        let end = off + a.tpa_range().end;
        self.header(p, off..end);
        self.field(
            p,
            "hardware type",
            off..off + 2,
            Value::Uint(a.hardware_type().into()),
        );
        self.field(
            p,
            "protocol type",
            off + 2..off + 4,
            Value::Hex(a.protocol_type().into(), 4),
        );
        self.field(
            p,
            "hardware size",
            off + 4..off + 5,
            Value::Uint(a.hardware_len().into()),
        );
        self.field(
            p,
            "protocol size",
            off + 5..off + 6,
            Value::Uint(a.protocol_len().into()),
        );
        let op = a.operation();
        self.field(
            p,
            "opcode",
            off + 6..off + 8,
            Value::Named(u64::from(be16(&self.data[off..], 6..8)), op.name()),
        );
        let addr = |r: Range<usize>, b: &[u8]| -> Value {
            match b.len() {
                6 => Value::Mac(MacAddr::from_slice(b)),
                4 => Value::Ipv4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
                _ => Value::Bytes(r),
            }
        };
        let shift = |r: Range<usize>| off + r.start..off + r.end;
        let v = addr(shift(a.sha_range()), a.sender_hardware_addr());
        self.field(p, "sender MAC address", shift(a.sha_range()), v);
        let spa = addr(shift(a.spa_range()), a.sender_protocol_addr());
        self.field(p, "sender IP address", shift(a.spa_range()), spa.clone());
        let t = addr(shift(a.tpa_range()), a.target_protocol_addr());
        let v = addr(shift(a.tha_range()), a.target_hardware_addr());
        self.field(p, "target MAC address", shift(a.tha_range()), v);
        self.field(p, "target IP address", shift(a.tpa_range()), t.clone());
        let v = spa;
        self.out.info.clear();
        let _ = match op {
            arp::Operation::Request => write!(
                self.out.info,
                "ARP who has {}? tell {}",
                t.display(&[]),
                v.display(&[])
            ),
            _ => write!(self.out.info, "ARP {} {}", op.name(), v.display(&[])),
        };
        Ok(())
    }

    fn ipv4(&mut self, off: usize) -> Step {
        let p = Protocol::Ipv4;
        let ip = ipv4::Packet::new_checked(&self.data[off..]).or_else(|e| fail(p, off, e))?;
        let hl = ip.header_len();
        self.header(p, off..off + hl);
        let r = |x: Range<usize>| off + x.start..off + x.end;
        self.field(p, "version", r(0..1), Value::Uint(ip.version().into()));
        self.field(p, "header length", r(0..1), Value::Uint(hl as u64));
        self.field(p, "DSCP", r(1..2), Value::Uint(ip.dscp().into()));
        self.field(p, "ECN", r(1..2), Value::Uint(ip.ecn().into()));
        self.field(
            p,
            "total length",
            r(2..4),
            Value::Uint(ip.total_len().into()),
        );
        self.field(
            p,
            "identification",
            r(4..6),
            Value::Hex(ip.ident().into(), 4),
        );
        self.field(
            p,
            "flags",
            r(6..7),
            Value::Hex(u64::from(ip.flags() >> 13), 1),
        );
        self.push(2, p, "don't fragment", r(6..7), Value::Flag(ip.dont_frag()));
        self.push(
            2,
            p,
            "more fragments",
            r(6..7),
            Value::Flag(ip.more_frags()),
        );
        self.field(
            p,
            "fragment offset",
            r(6..8),
            Value::Uint(ip.frag_offset().into()),
        );
        self.field(p, "time to live", r(8..9), Value::Uint(ip.ttl().into()));
        let proto = ip.protocol();
        self.field(
            p,
            "protocol",
            r(9..10),
            Value::Named(u8::from(proto).into(), proto.name()),
        );
        self.field(
            p,
            "header checksum",
            r(10..12),
            Value::Checksum(ip.checksum(), ip.verify_checksum()),
        );
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        self.field(p, "source", r(12..16), Value::Ipv4(src));
        self.field(p, "destination", r(16..20), Value::Ipv4(dst));
        self.out.addrs = Some((src.into(), dst.into()));
        if hl > ipv4::HEADER_LEN {
            self.field(p, "options", r(20..hl), Value::Uint((hl - 20) as u64));
            match ipv4::parse_options(ip.options()) {
                Ok(opts) => {
                    for o in opts {
                        let range = off + 20 + o.range.start..off + 20 + o.range.end;
                        self.push(
                            2,
                            p,
                            ipv4::IpOption::name(o.kind),
                            range,
                            Value::Uint(o.kind.into()),
                        );
                    }
                }
                Err(e) => return fail(p, off, e),
            }
        }
        self.out.info.clear();
        let _ = write!(self.out.info, "{src} → {dst} {}", proto.name());
        let payload_start = off + hl;
        let payload_end = payload_start + ip.payload().len();
        let announced = usize::from(ip.total_len()) - hl;
        if ip.frag_offset() > 0 {
            let _ = write!(self.out.info, " fragment at offset {}", ip.frag_offset());
            self.data_node(p, payload_start);
            return Ok(());
        }
        let pseudo = |len: usize| checksum::pseudo_v4(src, dst, proto.into(), len as u32);
        let whole = !ip.more_frags();
        self.transport(
            proto,
            payload_start,
            payload_end,
            announced,
            whole.then_some(pseudo(announced)),
            true,
        )
    }

    fn ipv6(&mut self, off: usize) -> Step {
        let p = Protocol::Ipv6;
        let ip = ipv6::Packet::new_checked(&self.data[off..]).or_else(|e| fail(p, off, e))?;
        self.header(p, off..off + ipv6::HEADER_LEN);
        let r = |x: Range<usize>| off + x.start..off + x.end;
        self.field(p, "version", r(0..1), Value::Uint(6));
        self.field(
            p,
            "traffic class",
            r(0..2),
            Value::Hex(ip.traffic_class().into(), 2),
        );
        self.field(
            p,
            "flow label",
            r(1..4),
            Value::Hex(ip.flow_label().into(), 5),
        );
        self.field(
            p,
            "payload length",
            r(4..6),
            Value::Uint(ip.payload_len().into()),
        );
        let mut next = ip.next_header();
        self.field(
            p,
            "next header",
            r(6..7),
            Value::Named(u8::from(next).into(), next.name()),
        );
        self.field(p, "hop limit", r(7..8), Value::Uint(ip.hop_limit().into()));
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        self.field(p, "source", r(8..24), Value::Ipv6(src));
        self.field(p, "destination", r(24..40), Value::Ipv6(dst));
        self.out.addrs = Some((src.into(), dst.into()));
        let end = off + ipv6::HEADER_LEN + ip.payload().len();
        let mut at = off + ipv6::HEADER_LEN;
        let mut remaining = usize::from(ip.payload_len());
        let mut whole = true;
        let mut walked = 0;
        while ipv6::is_extension(next) {
            walked += 1;
            if walked > MAX_IPV6_EXTENSIONS {
                return fail(
                    p,
                    at,
                    "more extension headers than netlab walks (MAX_IPV6_EXTENSIONS)",
                );
            }
            let h = ipv6::ExtHeader::new_checked(&self.data[at..end], next)
                .or_else(|e| fail(p, at, e))?;
            let hl = h.header_len();
            self.push(0, p, next.name(), at..at + hl, Value::None);
            let nh = h.next_header();
            self.field(
                p,
                "next header",
                at..at + 1,
                Value::Named(u8::from(nh).into(), nh.name()),
            );
            self.field(p, "length", at + 1..at + 2, Value::Uint(hl as u64));
            match next {
                IpProtocol::Ipv6Frag => {
                    self.field(
                        p,
                        "fragment offset",
                        at + 2..at + 4,
                        Value::Uint(h.frag_offset().into()),
                    );
                    self.field(
                        p,
                        "more fragments",
                        at + 3..at + 4,
                        Value::Flag(h.more_frags()),
                    );
                    self.field(
                        p,
                        "identification",
                        at + 4..at + 8,
                        Value::Hex(h.frag_ident().into(), 8),
                    );
                    if h.frag_offset() > 0 {
                        let _ = write!(self.out.info, "{src} → {dst} IPv6 fragment");
                        self.data_node(p, at + hl);
                        return Ok(());
                    }
                    whole = !h.more_frags();
                }
                IpProtocol::Ipv6Route => {
                    self.field(
                        p,
                        "routing type",
                        at + 2..at + 3,
                        Value::Uint(h.routing_type().into()),
                    );
                    self.field(
                        p,
                        "segments left",
                        at + 3..at + 4,
                        Value::Uint(h.segments_left().into()),
                    );
                }
                _ => self.field(p, "options", at + 2..at + hl, Value::Bytes(at + 2..at + hl)),
            }
            remaining = remaining.saturating_sub(hl);
            at += hl;
            next = nh;
        }
        self.out.info.clear();
        let _ = write!(self.out.info, "{src} → {dst} {}", next.name());
        let pseudo = checksum::pseudo_v6(src, dst, next.into(), remaining as u32);
        self.transport(next, at, end, remaining, whole.then_some(pseudo), false)
    }

    /// `announced`: the transport length per the IP header; `pseudo`: None when
    /// the checksum cannot be verified (a fragment).
    fn transport(
        &mut self,
        proto: IpProtocol,
        start: usize,
        end: usize,
        announced: usize,
        pseudo: Option<u64>,
        v4: bool,
    ) -> Step {
        match proto {
            IpProtocol::Tcp => self.tcp(start, end, announced, pseudo),
            IpProtocol::Udp => self.udp(start, end, pseudo, v4),
            IpProtocol::Icmp | IpProtocol::Icmpv6 => {
                let p = if proto == IpProtocol::Icmp {
                    Protocol::Icmp
                } else {
                    Protocol::Icmpv6
                };
                let m = icmp::Packet::new_checked(&self.data[start..end], p)
                    .or_else(|e| fail(p, start, e))?;
                self.header(p, start..end);
                let name = m.type_name();
                self.field(
                    p,
                    "type",
                    start..start + 1,
                    Value::Named(m.msg_type().into(), name),
                );
                self.field(
                    p,
                    "code",
                    start + 1..start + 2,
                    Value::Uint(m.msg_code().into()),
                );
                let v = match (p, pseudo) {
                    (Protocol::Icmp, _) => m.verify_checksum(0, announced),
                    (_, Some(ps)) => m.verify_checksum(ps, announced),
                    _ => Verdict::Unverified,
                };
                self.field(
                    p,
                    "checksum",
                    start + 2..start + 4,
                    Value::Checksum(m.checksum(), v),
                );
                if m.is_echo() {
                    self.field(
                        p,
                        "identifier",
                        start + 4..start + 6,
                        Value::Uint(m.echo_ident().into()),
                    );
                    self.field(
                        p,
                        "sequence number",
                        start + 6..start + 8,
                        Value::Uint(m.echo_seq_no().into()),
                    );
                }
                if end > start + icmp::HEADER_LEN {
                    self.push(1, p, "data", start + 8..end, Value::Bytes(start + 8..end));
                }
                let _ = write!(self.out.info, " {name}");
                Ok(())
            }
            _ => {
                self.data_node(Protocol::Ipv4, start);
                Ok(())
            }
        }
    }

    fn tcp(&mut self, start: usize, end: usize, announced: usize, pseudo: Option<u64>) -> Step {
        let p = Protocol::Tcp;
        let seg = &self.data[start..end];
        let t = tcp::Packet::new_checked(seg).or_else(|e| fail(p, start, e))?;
        let hl = t.header_len();
        self.header(p, start..start + hl);
        let r = |x: Range<usize>| start + x.start..start + x.end;
        let (sp, dp) = (t.src_port(), t.dst_port());
        self.field(p, "source port", r(0..2), Value::Uint(sp.into()));
        self.field(p, "destination port", r(2..4), Value::Uint(dp.into()));
        self.field(
            p,
            "sequence number",
            r(4..8),
            Value::Uint(t.seq_number().into()),
        );
        self.field(
            p,
            "acknowledgment number",
            r(8..12),
            Value::Uint(t.ack_number().into()),
        );
        self.field(p, "header length", r(12..13), Value::Uint(hl as u64));
        let flags = t.flags();
        self.field(p, "flags", r(12..14), Value::TcpFlags(flags));
        for (bit, name) in tcp::FLAG_NAMES.iter().rev() {
            self.push(2, p, name, r(13..14), Value::Flag(flags & bit != 0));
        }
        self.field(p, "window", r(14..16), Value::Uint(t.window_len().into()));
        let verdict = pseudo.map_or(Verdict::Unverified, |ps| t.verify_checksum(ps, announced));
        self.field(
            p,
            "checksum",
            r(16..18),
            Value::Checksum(t.checksum(), verdict),
        );
        self.field(
            p,
            "urgent pointer",
            r(18..20),
            Value::Uint(t.urgent_at().into()),
        );
        if hl > tcp::HEADER_LEN {
            self.field(p, "options", r(20..hl), Value::Uint((hl - 20) as u64));
            match tcp::parse_options(t.options()) {
                Ok(opts) => {
                    for (o, range) in opts {
                        let range = start + 20 + range.start..start + 20 + range.end;
                        let value = match o {
                            tcp::TcpOption::MaxSegmentSize(m) => Value::Uint(m.into()),
                            tcp::TcpOption::WindowScale(s) => {
                                Value::Text(format!("shift {s} (×{})", 1u32 << s.min(14)))
                            }
                            tcp::TcpOption::Timestamps { value, echo } => {
                                Value::Text(format!("TSval {value}, TSecr {echo}"))
                            }
                            tcp::TcpOption::Sack(ref blocks) => Value::Text(
                                blocks
                                    .iter()
                                    .map(|(l, r)| format!("{l}-{r}"))
                                    .collect::<Vec<_>>()
                                    .join(" "),
                            ),
                            tcp::TcpOption::Unknown { kind } => Value::Uint(kind.into()),
                            _ => Value::None,
                        };
                        self.push(2, p, o.name(), range, value);
                    }
                }
                Err(e) => return fail(p, start, e),
            }
        }
        self.out.ports = Some((sp, dp));
        let payload_start = start + hl;
        let _ = write!(
            self.out.info,
            " {sp} → {dp} [{}] seq={} ack={} win={} len={}",
            tcp::flag_string(flags),
            t.seq_number(),
            t.ack_number(),
            t.window_len(),
            announced.saturating_sub(hl)
        );
        let Some((src, dst)) = self.out.addrs else {
            return Ok(());
        };
        let key = FlowKey::new((src, sp), (dst, dp));
        self.seg_seq = t.seq_number();
        self.seg_len = announced.saturating_sub(hl);
        if payload_start < end {
            self.tcp_payload(key, (src, sp), payload_start, end)?;
        }
        // A FIN or RST ends what the flow carries; forgetting it keeps the
        // table (and memory) as small as the number of open connections.
        // Except a polling client's FIN: it closes only its own direction
        // (a client that gave up on a long-poll), and the answer may still
        // come the other way.
        let client_fin = flags & tcp::FLG_RST == 0
            && matches!(self.flows.get(&key), FlowState::Polling { client } if client == (src, sp));
        if flags & (tcp::FLG_FIN | tcp::FLG_RST) != 0 && !client_fin {
            self.flows.remove(&key);
        }
        Ok(())
    }

    fn tcp_payload(&mut self, key: FlowKey, from: (IpAddr, u16), start: usize, end: usize) -> Step {
        let b = &self.data[start..end];
        match self.flows.get(&key) {
            FlowState::WebSocket {
                client,
                socketio,
                mut pending,
            } => {
                let dir = usize::from(from != client);
                let carry = pending[dir];
                let carry = if carry.remaining > 0 && carry.next_seq == self.seg_seq {
                    carry
                } else {
                    Pending::default()
                };
                let mut next = self.websocket(start, end, from == client, socketio, carry)?;
                next.next_seq = self.seg_seq.wrapping_add(self.seg_len as u32);
                pending[dir] = next;
                self.flows.set(
                    key,
                    FlowState::WebSocket {
                        client,
                        socketio,
                        pending,
                    },
                );
                return Ok(());
            }
            FlowState::NetlabFrames if self.netlab_frames(start, end) => return Ok(()),
            _ => {}
        }
        if http::looks_like_http(b) {
            return self.http(key, from, start, end);
        }
        let (sp, dp) = self.out.ports.unwrap_or((0, 0));
        if (sp == 53 || dp == 53) && b.len() > 2 {
            // DNS over TCP: a 2-byte length, then the message (RFC 1035 §4.2.2).
            self.push(
                0,
                Protocol::Dns,
                "DNS length",
                start..start + 2,
                Value::Uint(be16(b, 0..2).into()),
            );
            return self.dns(start + 2, end);
        }
        if self.netlab_frames(start, end) {
            self.flows.set(key, FlowState::NetlabFrames);
            return Ok(());
        }
        if let Some(values) = resp::tile(b) {
            // Redis (lesson 12): the application's bytes, each value whole.
            for v in values {
                let r = start + v.range.start..start + v.range.end;
                let _ = write!(
                    self.out.info,
                    " RESP {}",
                    crate::term::printable(v.summary.as_bytes(), 80)
                );
                self.push(0, Protocol::AppData, "RESP (Redis)", r.clone(), Value::None);
                self.field(Protocol::AppData, "value", r, Value::Text(v.summary));
            }
            return Ok(());
        }
        self.push(
            1,
            Protocol::Tcp,
            "payload",
            start..end,
            Value::Printable(start..end),
        );
        Ok(())
    }

    /// Bytes above TCP/UDP that no dissector recognised: still application data.
    fn app_data(&mut self, start: usize, end: usize) {
        self.header(Protocol::AppData, start..end);
        self.field(
            Protocol::AppData,
            "payload",
            start..end,
            Value::Printable(start..end),
        );
        let _ = write!(self.out.info, " data {}B", end - start);
    }

    fn http(&mut self, key: FlowKey, from: (IpAddr, u16), start: usize, end: usize) -> Step {
        let p = Protocol::Http;
        let b = &self.data[start..end];
        let head = match http::parse(b) {
            Ok(Some(h)) => h,
            Ok(None) => {
                self.header(p, start..end);
                self.field(
                    p,
                    "head (continues in the next segment)",
                    start..end,
                    Value::Printable(start..end),
                );
                let _ = write!(self.out.info, " HTTP (partial head)");
                return Ok(());
            }
            Err(e) => return fail(p, start, e),
        };
        self.header(p, start..start + head.len);
        let r = |x: &Range<usize>| start + x.start..start + x.end;
        self.out.info.clear();
        let (src, dst) = self
            .out
            .addrs
            .map_or((String::new(), String::new()), |(a, b)| {
                (a.to_string(), b.to_string())
            });
        let _ = write!(self.out.info, "{src} → {dst} HTTP ");
        match &head.start {
            http::StartLine::Request {
                method,
                target,
                version,
            } => {
                self.field(
                    p,
                    "request line",
                    r(&head.start_line),
                    Value::Printable(r(&head.start_line)),
                );
                self.push(2, p, "method", r(method), Value::Printable(r(method)));
                self.push(2, p, "target", r(target), Value::Printable(r(target)));
                self.push(2, p, "version", r(version), Value::Printable(r(version)));
                self.out
                    .info
                    .push_str(&String::from_utf8_lossy(&b[head.start_line.clone()]));
            }
            http::StartLine::Response {
                version,
                status,
                status_range,
                reason,
            } => {
                self.field(
                    p,
                    "status line",
                    r(&head.start_line),
                    Value::Printable(r(&head.start_line)),
                );
                self.push(2, p, "version", r(version), Value::Printable(r(version)));
                self.push(
                    2,
                    p,
                    "status code",
                    r(status_range),
                    Value::Uint((*status).into()),
                );
                self.push(
                    2,
                    p,
                    "reason phrase",
                    r(reason),
                    Value::Printable(r(reason)),
                );
                self.out
                    .info
                    .push_str(&String::from_utf8_lossy(&b[head.start_line.clone()]));
            }
        }
        for h in &head.headers {
            let name = String::from_utf8_lossy(&b[h.name.clone()]).into_owned();
            self.out.nodes.push(Node {
                name: Cow::Owned(name),
                value: Value::Printable(r(&h.value)),
                range: r(&h.line),
                protocol: p,
                depth: 1,
            });
        }
        // An Engine.IO long-polling exchange: the request's body, and the
        // body of the 200 that answers it, are payloads of packets.
        let mut polling = false;
        match (&head.start, self.flows.get(&key)) {
            (http::StartLine::Request { target, .. }, _)
                if !head.is_websocket_upgrade(b)
                    && engineio::is_polling_request(&b[target.clone()]) =>
            {
                polling = true;
                self.flows.set(key, FlowState::Polling { client: from });
            }
            (http::StartLine::Request { .. }, FlowState::Polling { .. }) => {
                // The next request on this connection is something else.
                self.flows.set(key, FlowState::Unknown);
            }
            (http::StartLine::Response { status: 200, .. }, FlowState::Polling { client })
                if from != client =>
            {
                polling = true;
            }
            (http::StartLine::Request { target, .. }, _) if head.is_websocket_upgrade(b) => {
                let socketio = b[target.clone()].starts_with(b"/socket.io/");
                self.flows.set(
                    key,
                    FlowState::UpgradeRequested {
                        client: from,
                        socketio,
                    },
                );
            }
            (
                http::StartLine::Response { status: 101, .. },
                FlowState::UpgradeRequested { client, socketio },
            ) => {
                let mut pending = [Pending::default(); 2];
                if start + head.len < end {
                    let mut next =
                        self.websocket(start + head.len, end, false, socketio, Pending::default())?;
                    next.next_seq = self.seg_seq.wrapping_add(self.seg_len as u32);
                    pending[usize::from(from != client)] = next;
                }
                self.flows.set(
                    key,
                    FlowState::WebSocket {
                        client,
                        socketio,
                        pending,
                    },
                );
                if start + head.len < end {
                    return Ok(());
                }
            }
            _ => {}
        }
        let body = start + head.len;
        if body < end {
            if polling {
                // The body ends where Content-Length says; what it announces
                // beyond this segment comes in the next ones.
                let announced = head.content_length(b);
                let body_end = announced.map_or(end, |n| end.min(body.saturating_add(n)));
                let cut = announced.is_some_and(|n| n > body_end - body);
                self.push(
                    1,
                    p,
                    "body",
                    body..body_end,
                    Value::Printable(body..body_end),
                );
                if engineio::looks_like_payload(&self.data[body..body_end]) {
                    self.polling_payload(body..body_end, cut);
                }
            } else {
                self.push(1, p, "body", body..end, Value::Printable(body..end));
            }
        }
        Ok(())
    }

    /// An Engine.IO long-polling body: its packets, split at `0x1e`, each
    /// labelled like a WebSocket message's; `b…` pieces are binary messages
    /// in base64 (Engine.IO v4, "Packet encoding" → "HTTP long-polling").
    /// At most [`engineio::MAX_PAYLOAD_PIECES`] pieces are labelled. `cut`:
    /// the body continues in the next segment.
    fn polling_payload(&mut self, body: Range<usize>, cut: bool) {
        let p = Protocol::SocketIo;
        let data = self.data;
        let payload = engineio::split_payload(&data[body.clone()], engineio::MAX_PAYLOAD_PIECES);
        let at = |r: Range<usize>| body.start + r.start..body.start + r.end;
        self.push(
            0,
            p,
            "Engine.IO payload (HTTP long-polling)",
            body.clone(),
            Value::None,
        );
        self.field(
            p,
            "packets",
            body.clone(),
            Value::Uint(payload.pieces.len() as u64),
        );
        let _ = write!(self.out.info, " [polling payload:");
        for (i, piece) in payload.pieces.iter().enumerate() {
            let r = at(piece.range());
            let label = match piece {
                engineio::Piece::Text(_) => match engineio::parse(&data[r.clone()]) {
                    Some(e) => {
                        self.engineio_packet(r.clone(), &data[r.clone()], false);
                        match e.socket {
                            Some(s) => s.kind.name(),
                            None => e.kind.name(),
                        }
                    }
                    None => {
                        self.push(0, p, "Engine.IO", r.clone(), Value::None);
                        self.field(
                            p,
                            "not an Engine.IO packet (type digit 0-6, or b)",
                            r.clone(),
                            Value::Printable(r.clone()),
                        );
                        "not a packet"
                    }
                },
                engineio::Piece::Binary(b64) => {
                    let b64 = at(b64.clone());
                    self.push(0, p, "Engine.IO", r.clone(), Value::None);
                    self.field(
                        p,
                        "packet type",
                        r.start..r.start + 1,
                        Value::Str("b (binary message, base64 on polling)"),
                    );
                    let value = match BASE64.decode(&data[b64.clone()]) {
                        Ok(bytes) => Value::Text(format!(
                            "{} bytes: {}",
                            bytes.len(),
                            crate::term::hex(&bytes, 16)
                        )),
                        Err(_) if cut && i + 1 == payload.pieces.len() => {
                            Value::Str("base64, cut at the end of this segment")
                        }
                        Err(_) => Value::Str("not valid base64"),
                    };
                    self.field(p, "data (base64)", b64, value);
                    "binary"
                }
            };
            if i < 4 {
                let _ = write!(self.out.info, "{} {label}", if i == 0 { "" } else { "," });
            } else if i == 4 {
                self.out.info.push_str(", …");
            }
            if let Some(&sep) = payload.separators.get(i) {
                let sep = body.start + sep;
                self.field(
                    p,
                    "separator (0x1e, record separator)",
                    sep..sep + 1,
                    Value::Hex(u64::from(engineio::SEPARATOR), 2),
                );
            }
        }
        self.out.info.push(']');
        if let Some(rest) = payload.rest {
            let rest = body.start + rest..body.end;
            self.field(
                p,
                "more packets (past the inspector's limit, MAX_PAYLOAD_PIECES)",
                rest.clone(),
                Value::Printable(rest),
            );
        }
        if cut {
            self.field(
                p,
                "continues",
                body.end.saturating_sub(1)..body.end,
                Value::Str("the body goes on in the next segment (Content-Length)"),
            );
        }
    }

    /// Dissects WebSocket frames in `start..end`. `carry`: the rest of a frame
    /// begun in an earlier segment, if this segment is known to continue it.
    /// Returns what continues in the next segment.
    fn websocket(
        &mut self,
        start: usize,
        end: usize,
        from_client: bool,
        socketio: bool,
        carry: Pending,
    ) -> Result<Pending, (Protocol, usize, String)> {
        let p = Protocol::WebSocket;
        let mut at = start;
        let mut first = true;
        if carry.remaining > 0 {
            let take = carry.remaining.min((end - start) as u64) as usize;
            self.push(0, p, "WebSocket (continued)", at..at + take, Value::None);
            let mut text = self.data[at..at + take].to_vec();
            if let Some(key) = carry.key {
                websocket::unmask(&mut text, key, (carry.offset % 4) as usize);
            }
            self.field(
                p,
                "payload (continued)",
                at..at + take,
                Value::Text(String::from_utf8_lossy(&text).into_owned()),
            );
            let _ = write!(
                self.out.info,
                " WebSocket continued: payload bytes {}..{}",
                carry.offset,
                carry.offset + take as u64
            );
            at += take;
            first = false;
            if (take as u64) < carry.remaining {
                return Ok(Pending {
                    remaining: carry.remaining - take as u64,
                    offset: carry.offset + take as u64,
                    ..carry
                });
            }
        }
        let mut count = 0;
        while at < end && count < MAX_WS_FRAMES_PER_SEGMENT {
            count += 1;
            let f = match websocket::Frame::new_checked(&self.data[at..end]) {
                Ok(f) => f,
                Err(e) if !first => return fail(p, at, e),
                Err(_) => {
                    // Not a frame start: the middle of a frame whose start was not seen.
                    self.push(
                        1,
                        Protocol::Tcp,
                        "payload (continuation)",
                        at..end,
                        Value::Bytes(at..end),
                    );
                    return Ok(Pending::default());
                }
            };
            first = false;
            let hl = f.header_len();
            let payload = f.payload();
            let frame_end = at + hl + payload.len();
            self.header(p, at..frame_end);
            let op = f.opcode();
            self.field(p, "FIN", at..at + 1, Value::Flag(f.fin()));
            self.field(p, "RSV", at..at + 1, Value::Uint(f.rsv().into()));
            self.field(
                p,
                "opcode",
                at..at + 1,
                Value::Named(u8::from(op).into(), op.name()),
            );
            self.field(p, "MASK", at + 1..at + 2, Value::Flag(f.masked()));
            self.field(
                p,
                "payload length",
                at + 1..at + 2 + f.ext_len_bytes(),
                Value::Uint(f.payload_len()),
            );
            if from_client != f.masked() {
                let rule = if from_client {
                    "a client frame must be masked (RFC 6455 §5.1)"
                } else {
                    "a server frame must not be masked (RFC 6455 §5.1)"
                };
                self.field(p, "warning", at + 1..at + 2, Value::Str(rule));
            }
            let mut text = payload.to_vec();
            if let Some(key) = f.masking_key() {
                let k = at + 2 + f.ext_len_bytes();
                self.field(p, "masking key", k..k + 4, Value::Bytes(k..k + 4));
                websocket::unmask(&mut text, key, 0);
            }
            let pr = at + hl..frame_end;
            let shown = String::from_utf8_lossy(&text).into_owned();
            let _ = write!(self.out.info, " WebSocket {}", op.name());
            if !f.is_complete() {
                let _ = write!(
                    self.out.info,
                    " ({} of {} bytes here)",
                    payload.len(),
                    f.payload_len()
                );
            }
            if op == websocket::Opcode::Close && text.len() >= 2 {
                let code = u16::from_be_bytes([text[0], text[1]]);
                self.field(
                    p,
                    "close code",
                    pr.start..pr.start + 2,
                    Value::Uint(code.into()),
                );
                self.field(
                    p,
                    "close reason",
                    pr.start + 2..pr.end,
                    Value::Text(String::from_utf8_lossy(&text[2..]).into_owned()),
                );
            } else {
                let _ = write!(self.out.info, " {}", crate::term::printable(&text, 60));
                self.field(
                    p,
                    if f.masked() {
                        "payload (unmasked)"
                    } else {
                        "payload"
                    },
                    pr.clone(),
                    Value::Text(shown),
                );
            }
            if socketio && op == websocket::Opcode::Text {
                self.engineio(pr.clone(), &text);
            } else if socketio && op == websocket::Opcode::Binary {
                // A binary frame is one Engine.IO binary message, bytes as they
                // are, no type digit (Engine.IO v4, "Packet encoding" →
                // "WebSocket"): Socket.IO sends its attachments this way.
                self.push(0, Protocol::SocketIo, "Engine.IO", pr.clone(), Value::None);
                self.field(
                    Protocol::SocketIo,
                    "packet type",
                    pr.clone(),
                    Value::Str("binary message (a binary frame, no type digit)"),
                );
                let _ = write!(self.out.info, " [Engine.IO binary message]");
            }
            if !f.is_complete() {
                return Ok(Pending {
                    next_seq: 0,
                    remaining: f.payload_len() - payload.len() as u64,
                    key: f.masking_key(),
                    offset: payload.len() as u64,
                });
            }
            at = frame_end;
        }
        Ok(Pending::default())
    }

    fn engineio(&mut self, range: Range<usize>, text: &[u8]) {
        self.engineio_packet(range, text, true);
    }

    /// One Engine.IO packet (and the Socket.IO packet inside a message);
    /// `info`: say so on the summary line too.
    fn engineio_packet(&mut self, range: Range<usize>, text: &[u8], info: bool) {
        let p = Protocol::SocketIo;
        let Some(e) = engineio::parse(text) else {
            return;
        };
        let at = |r: &Range<usize>| range.start + r.start..range.start + r.end;
        self.push(0, p, "Engine.IO", range.clone(), Value::None);
        self.field(
            p,
            "packet type",
            range.start..range.start + 1,
            Value::Named((text[0] - b'0').into(), e.kind.name()),
        );
        if e.socket.is_none() && !e.data.is_empty() {
            // The open packet's handshake JSON, a probe's `probe`, a message
            // that is not Socket.IO.
            self.field(
                p,
                "data",
                at(&e.data),
                Value::Text(String::from_utf8_lossy(&text[e.data.clone()]).into_owned()),
            );
        }
        if let Some(s) = e.socket {
            self.push(0, p, "Socket.IO", range.start + 1..range.end, Value::None);
            self.field(
                p,
                "packet type",
                range.start + 1..range.start + 2,
                Value::Named((text[1] - b'0').into(), s.kind.name()),
            );
            if let Some(n) = &s.namespace {
                self.field(
                    p,
                    "namespace",
                    at(n),
                    Value::Text(String::from_utf8_lossy(&text[n.clone()]).into_owned()),
                );
            }
            if let Some(a) = &s.ack_id {
                self.field(
                    p,
                    "ack id",
                    at(a),
                    Value::Text(String::from_utf8_lossy(&text[a.clone()]).into_owned()),
                );
            }
            self.field(
                p,
                "data",
                at(&s.data),
                Value::Text(String::from_utf8_lossy(&text[s.data.clone()]).into_owned()),
            );
            if info {
                let _ = write!(self.out.info, " [Socket.IO {}]", s.kind.name());
            }
        } else if info {
            let _ = write!(self.out.info, " [Engine.IO {}]", e.kind.name());
        }
    }

    fn netlab_frames(&mut self, start: usize, end: usize) -> bool {
        let Some(frames) = netframe::tile(&self.data[start..end]) else {
            return false;
        };
        let p = Protocol::NetlabFrame;
        for f in frames {
            let hr = start + f.header.start..start + f.header.end;
            let pr = start + f.payload.start..start + f.payload.end;
            self.header(p, hr.start..pr.end);
            self.field(p, "length", hr, Value::Uint(f.payload.len() as u64));
            self.field(p, "payload", pr.clone(), Value::Printable(pr.clone()));
            let _ = write!(self.out.info, " netlab frame {}B", f.payload.len());
            self.chat_event(pr);
        }
        true
    }

    fn chat_event(&mut self, pr: Range<usize>) {
        let Some(ev) = netframe::chat_event(&self.data[pr.clone()]) else {
            return;
        };
        self.push(
            2,
            Protocol::NetlabFrame,
            "chat event (JSON)",
            pr.clone(),
            Value::None,
        );
        for (k, v) in ev.iter().take(32) {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            self.out.nodes.push(Node {
                name: Cow::Owned(k.clone()),
                value: Value::Text(text),
                range: pr.clone(),
                protocol: Protocol::NetlabFrame,
                depth: 3,
            });
        }
        if let Some(kind) = ev
            .get("type")
            .or_else(|| ev.get("event"))
            .and_then(|v| v.as_str())
        {
            let _ = write!(self.out.info, " chat {kind}");
        }
    }

    fn udp(&mut self, start: usize, end: usize, pseudo: Option<u64>, v4: bool) -> Step {
        let p = Protocol::Udp;
        let u = udp::Packet::new_checked(&self.data[start..end]).or_else(|e| fail(p, start, e))?;
        self.header(p, start..start + udp::HEADER_LEN);
        let (sp, dp) = (u.src_port(), u.dst_port());
        self.field(p, "source port", start..start + 2, Value::Uint(sp.into()));
        self.field(
            p,
            "destination port",
            start + 2..start + 4,
            Value::Uint(dp.into()),
        );
        self.field(
            p,
            "length",
            start + 4..start + 6,
            Value::Uint(u.len().into()),
        );
        let verdict = pseudo.map_or(Verdict::Unverified, |ps| u.verify_checksum(ps, v4));
        self.field(
            p,
            "checksum",
            start + 6..start + 8,
            Value::Checksum(u.checksum(), verdict),
        );
        self.out.ports = Some((sp, dp));
        let _ = write!(
            self.out.info,
            " {sp} → {dp} len={}",
            usize::from(u.len()).saturating_sub(8)
        );
        let ps = start + udp::HEADER_LEN;
        let pe = ps + u.payload().len();
        if ps >= pe {
            return Ok(());
        }
        if self.dns_ports.contains(&sp) || self.dns_ports.contains(&dp) {
            return self.dns(ps, pe);
        }
        if netframe::chat_event(&self.data[ps..pe]).is_some() {
            self.push(
                0,
                Protocol::NetlabFrame,
                "chat datagram",
                ps..pe,
                Value::None,
            );
            self.chat_event(ps..pe);
            return Ok(());
        }
        self.app_data(ps, pe);
        Ok(())
    }

    fn dns(&mut self, start: usize, end: usize) -> Step {
        let p = Protocol::Dns;
        let m = dns::Message::new_checked(&self.data[start..end]).or_else(|e| fail(p, start, e))?;
        self.header(p, start..end);
        let r = |x: Range<usize>| start + x.start..start + x.end;
        self.field(p, "transaction ID", r(0..2), Value::Hex(m.id().into(), 4));
        let flags = m.flags();
        self.field(p, "flags", r(2..4), Value::Hex(flags.into(), 4));
        self.push(2, p, "response", r(2..3), Value::Flag(m.is_response()));
        self.push(2, p, "opcode", r(2..3), Value::Uint(m.opcode().into()));
        self.push(
            2,
            p,
            "recursion desired",
            r(2..3),
            Value::Flag(flags & dns::FLAG_RD != 0),
        );
        self.push(2, p, "reply code", r(3..4), Value::Uint(m.rcode().into()));
        self.field(p, "questions", r(4..6), Value::Uint(m.qdcount().into()));
        self.field(p, "answer RRs", r(6..8), Value::Uint(m.ancount().into()));
        self.field(
            p,
            "authority RRs",
            r(8..10),
            Value::Uint(m.nscount().into()),
        );
        self.field(
            p,
            "additional RRs",
            r(10..12),
            Value::Uint(m.arcount().into()),
        );
        let (records, err) = m.records();
        let _ = write!(
            self.out.info,
            " DNS {} 0x{:04x}",
            if m.is_response() { "response" } else { "query" },
            m.id()
        );
        for rec in &records {
            let name = match rec.section {
                dns::Section::Question => "query",
                dns::Section::Answer => "answer",
                dns::Section::Authority => "authority",
                dns::Section::Additional => "additional",
            };
            let tn = dns::type_name(rec.rtype);
            self.field(
                p,
                name,
                r(rec.range.clone()),
                Value::Text(format!("{} {tn}", rec.name)),
            );
            self.push(
                2,
                p,
                "name",
                r(rec.name_range.clone()),
                Value::Text(rec.name.clone()),
            );
            let ta = rec.name_range.end;
            self.push(
                2,
                p,
                "type",
                r(ta..ta + 2),
                Value::Named(rec.rtype.into(), tn),
            );
            self.push(
                2,
                p,
                "class",
                r(ta + 2..ta + 4),
                Value::Uint(rec.class.into()),
            );
            if let (Some(ttl), Some(rd)) = (rec.ttl, &rec.rdata) {
                self.push(
                    2,
                    p,
                    "time to live",
                    r(ta + 4..ta + 8),
                    Value::Uint(ttl.into()),
                );
                let rdr = r(rd.clone());
                let d = &self.data[rdr.clone()];
                let v = match (rec.rtype, d.len()) {
                    (1, 4) => Value::Ipv4(Ipv4Addr::new(d[0], d[1], d[2], d[3])),
                    (28, 16) => {
                        Value::Ipv6(Ipv6Addr::from(<[u8; 16]>::try_from(d).unwrap_or([0; 16])))
                    }
                    _ => Value::Bytes(rdr.clone()),
                };
                self.push(2, p, "data", rdr, v);
            }
            if rec.section == dns::Section::Question {
                let _ = write!(self.out.info, " {tn} {}", rec.name);
            }
        }
        if let Some(e) = err {
            return fail(p, start, e);
        }
        Ok(())
    }
}

/// The layer a byte belongs to, by offset: a convenience for lessons.
pub fn osi_layer_at(link: LinkType, data: &[u8], offset: usize) -> Option<OsiLayer> {
    dissect(link, data).layer_of(offset)
}
