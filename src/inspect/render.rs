//! Showing a dissection: a tree with both layer labels, a hex dump coloured by
//! layer with a legend, a one-line summary, nested boxes for encapsulation, and
//! JSON for scripts. Colours come from [`crate::term`], so every netlab view
//! paints a layer the same way.

use super::dissect::{Dissection, Node};
use crate::layers::{OsiLayer, TcpIpLayer};
use crate::term;
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
            "Packet {}: {} bytes captured ({} on the wire), {}.{:09}",
            meta.number,
            packet.len(),
            meta.orig_len,
            meta.ts_sec,
            meta.ts_nsec
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
        i = draw_box(&headers, &levels, i, BOX_WIDTH, packet, &mut lines);
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
    i: usize,
    width: usize,
    packet: &[u8],
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
            j,
            inner.saturating_sub(2),
            packet,
            &mut children,
        );
    }
    if children.is_empty() {
        let bytes = packet.get(h.range.clone()).unwrap_or(&[]);
        let body: String = term::printable(bytes, inner.saturating_sub(2))
            .chars()
            .take(inner.saturating_sub(2))
            .collect();
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

fn node_json(n: &Node, packet: &[u8]) -> serde_json::Value {
    let osi = n.osi();
    json!({
        "name": n.name,
        "value": n.value.to_json(packet),
        "display": n.value.display(packet),
        "range": [n.range.start, n.range.end],
        "protocol": n.protocol.name(),
        "osi": { "number": osi.number(), "name": osi.name() },
        "tcpip": n.tcpip().name(),
    })
}

/// One JSON object for the packet: headers with their fields nested under them.
pub fn to_json(d: &Dissection, packet: &[u8], meta: &Meta) -> serde_json::Value {
    // Rebuild the nesting from depths with a stack of open nodes.
    let mut roots: Vec<serde_json::Value> = Vec::new();
    let mut stack: Vec<(u8, serde_json::Value)> = Vec::new();
    let close = |stack: &mut Vec<(u8, serde_json::Value)>, roots: &mut Vec<serde_json::Value>| {
        if let Some((_, done)) = stack.pop() {
            match stack.last_mut() {
                Some((_, parent)) => parent["fields"]
                    .as_array_mut()
                    .expect("fields array")
                    .push(done),
                None => roots.push(done),
            }
        }
    };
    for n in &d.nodes {
        while stack.last().is_some_and(|(depth, _)| *depth >= n.depth) {
            close(&mut stack, &mut roots);
        }
        let mut v = node_json(n, packet);
        v["fields"] = json!([]);
        stack.push((n.depth, v));
    }
    while !stack.is_empty() {
        close(&mut stack, &mut roots);
    }
    json!({
        "number": meta.number,
        "time": format!("{}.{:09}", meta.ts_sec, meta.ts_nsec),
        "captured_len": packet.len(),
        "orig_len": meta.orig_len,
        "info": d.info,
        "layers": roots,
        "malformed": d.malformed.as_ref().map(|m| json!({
            "protocol": m.protocol.name(),
            "offset": m.offset,
            "error": m.error,
        })),
    })
}
