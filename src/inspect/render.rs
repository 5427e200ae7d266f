//! Showing a dissection: a tree with both layer labels, a hex dump coloured by
//! layer with a legend, a one-line summary, nested boxes for encapsulation, and
//! JSON for scripts. Colours come from [`crate::term`], so every netlab view
//! paints a layer the same way.

use super::dissect::{Dissection, Node, Value};
use crate::layers::{OsiLayer, TcpIpLayer};
use crate::term;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::json;
use std::fmt::Write as _;

/// Bytes per hex-dump row.
pub const HEX_ROW: usize = 16;

/// Timestamp and numbering of a packet, for headings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Meta {
    /// 1-based packet number.
    pub number: u64,
    /// Seconds since the epoch.
    pub ts_sec: u64,
    /// Nanoseconds.
    pub ts_nsec: u32,
    /// Length on the wire.
    pub orig_len: u32,
}

/// A capture timestamp as UTC, e.g. `2026-11-22 00:06:53.731510000` (days to a
/// civil date by Howard Hinnant's algorithm, so no time-zone library is needed).
pub fn utc(ts_sec: u64, ts_nsec: u32) -> String {
    let days = (ts_sec / 86_400) as i64;
    let secs = ts_sec % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{ts_nsec:09}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn layer_tag(n: &Node) -> String {
    let osi = n.osi();
    term::paint(
        term::osi_style(osi),
        format!("[L{} {} | {}]", osi.number(), osi.name(), n.tcpip().name()),
    )
}

/// The tree: one line per node, indented by depth, with byte ranges and layers.
pub fn tree(d: &Dissection, packet: &[u8], meta: &Meta) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}",
        term::bold(format!(
            "Packet {}: {} bytes captured ({} on the wire), {} UTC",
            meta.number,
            packet.len(),
            meta.orig_len,
            utc(meta.ts_sec, meta.ts_nsec)
        )),
        term::dim(&d.info)
    );
    for n in &d.nodes {
        let indent = "  ".repeat(usize::from(n.depth) + 1);
        let range = term::dim(format!("[{}..{}]", n.range.start, n.range.end));
        let style = term::osi_style(n.osi());
        if n.depth == 0 {
            let _ = writeln!(
                out,
                "{indent}{} {range} {}",
                term::paint(style.underline(), &n.name),
                layer_tag(n)
            );
        } else {
            let v = n.value.display(packet);
            let _ = writeln!(out, "{indent}{}: {v} {range}", term::paint(style, &n.name));
        }
    }
    if let Some(m) = &d.malformed {
        let _ = writeln!(
            out,
            "  {} {} from byte {}: {}",
            term::bad("malformed"),
            m.protocol,
            m.offset,
            m.error
        );
    }
    out
}

/// The TCP/IP layer of every byte (the innermost header covering it), or `None`.
pub fn byte_layers(d: &Dissection, len: usize) -> Vec<Option<OsiLayer>> {
    let mut layers = vec![None; len];
    // Headers come lowest first; a later (higher) header overrides a lower one.
    for n in d.nodes.iter().filter(|n| n.depth == 0) {
        for slot in layers
            .iter_mut()
            .take(n.range.end.min(len))
            .skip(n.range.start)
        {
            *slot = Some(n.osi());
        }
    }
    layers
}

/// The hex dump: every byte painted in its layer's colour, ASCII alongside.
pub fn hex_dump(d: &Dissection, packet: &[u8]) -> String {
    let layers = byte_layers(d, packet.len());
    let mut out = String::new();
    for (row, chunk) in packet.chunks(HEX_ROW).enumerate() {
        let base = row * HEX_ROW;
        let _ = write!(out, "  {} ", term::dim(format!("{base:04x}")));
        for (i, b) in chunk.iter().enumerate() {
            let cell = format!("{b:02x}");
            let _ = match layers[base + i] {
                Some(l) => write!(out, " {}", term::paint(term::osi_style(l), cell)),
                None => write!(out, " {}", term::bad(cell)),
            };
            if i == 7 {
                out.push(' ');
            }
        }
        for i in chunk.len()..HEX_ROW {
            out.push_str("   ");
            if i == 7 {
                out.push(' ');
            }
        }
        out.push_str("  ");
        for (i, &b) in chunk.iter().enumerate() {
            let c = if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            };
            let _ = match layers[base + i] {
                Some(l) => write!(out, "{}", term::paint(term::osi_style(l), c)),
                None => write!(out, "{c}"),
            };
        }
        out.push('\n');
    }
    out
}

/// The colour legend: which colour is which layer, in both models.
pub fn legend() -> String {
    let mut out = String::from("  legend:");
    for t in TcpIpLayer::ALL {
        let osi: Vec<String> = t
            .osi_layers()
            .iter()
            .map(|l| format!("L{}", l.number()))
            .collect();
        let _ = write!(
            out,
            "  {}",
            term::paint(
                term::tcpip_style(t),
                format!("■ {} ({})", t.name(), osi.join(","))
            )
        );
    }
    let _ = write!(out, "  {}", term::bad("■ not dissected"));
    out
}

/// One line per packet: number, time, protocols and the highest layer's info.
pub fn summary(d: &Dissection, meta: &Meta) -> String {
    let mut out = String::with_capacity(160);
    write_summary(&mut out, d, meta, true);
    out
}

/// Appends the summary line (with a newline) to `out`; `color: false` writes no
/// escape codes at all (faster than writing them and stripping them again).
pub fn write_summary(out: &mut String, d: &Dissection, meta: &Meta, color: bool) {
    let top = d
        .protocols()
        .last()
        .map(|n| n.osi())
        .unwrap_or(OsiLayer::DataLink);
    let _ = write!(
        out,
        "{:>6} {}.{:06} ",
        meta.number,
        meta.ts_sec,
        meta.ts_nsec / 1000
    );
    let style = term::osi_style(top);
    if color {
        let _ = write!(out, "{}", style.render());
    }
    let mut last = None;
    for n in d.protocols() {
        let name = n.protocol.name();
        if last != Some(name) {
            if last.is_some() {
                out.push('/');
            }
            out.push_str(name);
            last = Some(name);
        }
    }
    if color {
        let _ = write!(out, "{}", style.render_reset());
    }
    out.push(' ');
    out.push_str(&d.info);
}

/// Width of the outermost box in `--layers`.
pub const BOX_WIDTH: usize = 78;

/// The encapsulation as nested boxes: each header's box holds the layers it
/// carries; headers of the same protocol one after another (two frames in one
/// segment) are boxes side by side in the same parent.
pub fn layer_boxes(d: &Dissection, packet: &[u8]) -> String {
    let headers: Vec<&Node> = d.protocols().collect();
    // What the innermost boxes show: a header's payload field (unmasked for
    // WebSocket) if it has one, else its bytes.
    let mut bodies = Vec::with_capacity(headers.len());
    for (i, n) in d.nodes.iter().enumerate().filter(|(_, n)| n.depth == 0) {
        let payload = d.nodes[i + 1..]
            .iter()
            .take_while(|f| f.depth > 0)
            .find(|f| f.name == "payload" || f.name == "payload (unmasked)");
        bodies.push(match payload {
            Some(f) => f.value.display(packet),
            None => term::printable(packet.get(n.range.clone()).unwrap_or(&[]), 200),
        });
    }
    let mut levels = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let level = match i {
            0 => 0,
            _ if headers[i - 1].protocol == h.protocol => levels[i - 1],
            _ => levels[i - 1] + 1,
        };
        levels.push(level);
    }
    let mut lines = Vec::new();
    let mut i = 0;
    while i < headers.len() {
        i = draw_box(&headers, &levels, &bodies, i, BOX_WIDTH, &mut lines);
    }
    let mut out = String::new();
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// Draws header `i` and its children `width` columns wide; returns the index after them.
fn draw_box(
    hs: &[&Node],
    levels: &[usize],
    bodies: &[String],
    i: usize,
    width: usize,
    out: &mut Vec<String>,
) -> usize {
    let h = hs[i];
    let style = term::osi_style(h.osi());
    let inner = width.saturating_sub(2).max(8);
    let title = format!(
        " {} · L{} {} · bytes {}..{} ",
        h.name,
        h.osi().number(),
        h.osi().name(),
        h.range.start,
        h.range.end
    );
    let title: String = title.chars().take(inner).collect();
    let fill = inner.saturating_sub(title.chars().count());
    out.push(term::paint(style, format!("┌{title}{}┐", "─".repeat(fill))));
    let mut j = i + 1;
    let mut children = Vec::new();
    while j < hs.len() && levels[j] > levels[i] {
        j = draw_box(
            hs,
            levels,
            bodies,
            j,
            inner.saturating_sub(2),
            &mut children,
        );
    }
    if children.is_empty() {
        let body: String = bodies[i].chars().take(inner.saturating_sub(2)).collect();
        let pad = inner.saturating_sub(body.chars().count() + 1);
        out.push(format!(
            "{} {body}{}{}",
            term::paint(style, "│"),
            " ".repeat(pad),
            term::paint(style, "│")
        ));
    }
    for c in children {
        out.push(format!(
            "{} {c} {}",
            term::paint(style, "│"),
            term::paint(style, "│")
        ));
    }
    out.push(term::paint(style, format!("└{}┘", "─".repeat(inner))));
    j
}

/// The packet as JSON, serialised straight from the flat tree (no intermediate
/// `serde_json::Value`): headers with their fields nested under them.
struct JsonPacket<'a> {
    d: &'a Dissection,
    packet: &'a [u8],
    meta: &'a Meta,
}

/// The nodes of `nodes` at the shallowest depth, each with its children.
struct JsonNodes<'a> {
    nodes: &'a [Node],
    packet: &'a [u8],
}

struct JsonNode<'a> {
    node: &'a Node,
    children: &'a [Node],
    packet: &'a [u8],
}

struct JsonValue<'a> {
    value: &'a Value,
    packet: &'a [u8],
}

impl Serialize for JsonPacket<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("number", &self.meta.number)?;
        m.serialize_entry(
            "time",
            &format_args!("{}.{:09}", self.meta.ts_sec, self.meta.ts_nsec),
        )?;
        m.serialize_entry("captured_len", &self.packet.len())?;
        m.serialize_entry("orig_len", &self.meta.orig_len)?;
        m.serialize_entry("info", &self.d.info)?;
        m.serialize_entry(
            "layers",
            &JsonNodes {
                nodes: &self.d.nodes,
                packet: self.packet,
            },
        )?;
        match &self.d.malformed {
            Some(x) => m.serialize_entry(
                "malformed",
                &json!({ "protocol": x.protocol.name(), "offset": x.offset, "error": x.error }),
            )?,
            None => m.serialize_entry("malformed", &())?,
        }
        m.end()
    }
}

impl Serialize for JsonNodes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        let mut i = 0;
        while i < self.nodes.len() {
            let depth = self.nodes[i].depth;
            let end = self.nodes[i + 1..]
                .iter()
                .position(|n| n.depth <= depth)
                .map_or(self.nodes.len(), |p| i + 1 + p);
            seq.serialize_element(&JsonNode {
                node: &self.nodes[i],
                children: &self.nodes[i + 1..end],
                packet: self.packet,
            })?;
            i = end;
        }
        seq.end()
    }
}

impl Serialize for JsonNode<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = self.node;
        let osi = n.osi();
        let mut m = s.serialize_map(Some(8))?;
        m.serialize_entry("name", &n.name)?;
        m.serialize_entry(
            "value",
            &JsonValue {
                value: &n.value,
                packet: self.packet,
            },
        )?;
        m.serialize_entry("display", &n.value.display(self.packet))?;
        m.serialize_entry("range", &[n.range.start, n.range.end])?;
        m.serialize_entry("protocol", n.protocol.name())?;
        m.serialize_entry(
            "osi",
            &json!({ "number": osi.number(), "name": osi.name() }),
        )?;
        m.serialize_entry("tcpip", n.tcpip().name())?;
        m.serialize_entry(
            "fields",
            &JsonNodes {
                nodes: self.children,
                packet: self.packet,
            },
        )?;
        m.end()
    }
}

impl Serialize for JsonValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::None => s.serialize_unit(),
            Value::Uint(n) | Value::Hex(n, _) => s.serialize_u64(*n),
            Value::Flag(b) => s.serialize_bool(*b),
            Value::Str(t) => s.serialize_str(t),
            Value::Text(t) => s.serialize_str(t),
            Value::Printable(r) => s.serialize_str(&String::from_utf8_lossy(
                self.packet.get(r.clone()).unwrap_or(&[]),
            )),
            other => other.to_json(self.packet).serialize(s),
        }
    }
}

/// Writes the packet's JSON object (one line, no newline) to `out`.
pub fn write_json(
    out: &mut Vec<u8>,
    d: &Dissection,
    packet: &[u8],
    meta: &Meta,
) -> serde_json::Result<()> {
    serde_json::to_writer(out, &JsonPacket { d, packet, meta })
}

/// One JSON object for the packet: headers with their fields nested under them.
pub fn to_json(d: &Dissection, packet: &[u8], meta: &Meta) -> serde_json::Value {
    serde_json::to_value(JsonPacket { d, packet, meta }).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn utc_dates_from_known_timestamps() {
        assert_eq!(utc(0, 0), "1970-01-01 00:00:00.000000000");
        // `date -u -d @1700000000` → Tue Nov 14 22:13:20 UTC 2023
        assert_eq!(utc(1_700_000_000, 5), "2023-11-14 22:13:20.000000005");
        // 2000-02-29, a leap day in a century leap year: 951782400
        assert_eq!(utc(951_782_400, 0), "2000-02-29 00:00:00.000000000");
    }
}
