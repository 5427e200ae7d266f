//! The picture: sequence number against arrival time, TCP above UDP.
//!
//! A healthy stream is a straight diagonal. UDP's lost messages are holes in
//! it (marked in red at the time they were sent); TCP never has holes, but a
//! lost segment makes a **stall** — a flat stretch while TCP waits to
//! retransmit, then a vertical burst as everything held back is delivered at
//! once (head-of-line blocking). Reordering shows as dots below the line,
//! duplicates as dots drawn twice.

use super::report::{ScenarioReport, TransportResult, Workload};
use std::collections::BTreeSet;
use std::fmt::Write;

/// Most dots drawn per panel: larger runs are thinned evenly so the file stays small.
pub const MAX_POINTS: usize = 20_000;

const PANEL_W: f64 = 520.0;
const PANEL_H: f64 = 220.0;
const MARGIN_L: f64 = 60.0;
const MARGIN_T: f64 = 58.0;
const GAP: f64 = 70.0;

/// Sequence numbers sent but never delivered.
fn missing(r: &TransportResult, w: &Workload) -> Vec<u64> {
    let got: BTreeSet<u64> = r.timeline.iter().map(|&(_, s)| s).collect();
    (0..r.sent.min(w.count))
        .filter(|s| !got.contains(s))
        .collect()
}

/// The time axis both panels of a scenario share, in µs.
fn time_span(rep: &ScenarioReport) -> u64 {
    let last = |r: &TransportResult| r.timeline.iter().map(|p| p.0).max().unwrap_or(0);
    last(&rep.tcp)
        .max(last(&rep.udp))
        .max(rep.workload.send_time(rep.workload.count).as_micros() as u64)
        .max(1)
}

/// An SVG picture of every scenario: one row each, TCP left, UDP right.
pub fn svg(reports: &[ScenarioReport]) -> String {
    let width = MARGIN_L + 2.0 * PANEL_W + GAP + 20.0;
    let row_h = PANEL_H + MARGIN_T + 50.0;
    let height = row_h * reports.len().max(1) as f64 + 20.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (i, rep) in reports.iter().enumerate() {
        let top = i as f64 * row_h + MARGIN_T;
        let _ = writeln!(
            s,
            r#"<text x="10" y="{}" font-size="14"><tspan font-weight="bold">{}</tspan> — {}</text>"#,
            top - 36.0,
            esc(rep.scenario),
            esc(&rep.stack)
        );
        let _ = writeln!(
            s,
            r##"<text x="10" y="{}" font-size="11" fill="#555">{}</text>"##,
            top - 21.0,
            esc(&rep.impairment)
        );
        let span = time_span(rep);
        for (j, r) in [&rep.tcp, &rep.udp].into_iter().enumerate() {
            let left = MARGIN_L + j as f64 * (PANEL_W + GAP);
            panel(&mut s, r, &rep.workload, left, top, span);
        }
    }
    s.push_str("</svg>\n");
    s
}

fn panel(s: &mut String, r: &TransportResult, w: &Workload, left: f64, top: f64, span: u64) {
    let max_seq = w.count.max(1) as f64;
    let x = |t: u64| left + t as f64 / span as f64 * PANEL_W;
    let y = |q: u64| top + PANEL_H - q as f64 / max_seq * PANEL_H;
    let _ = writeln!(
        s,
        r##"<rect x="{left}" y="{top}" width="{PANEL_W}" height="{PANEL_H}" fill="#fafafa" stroke="#888"/>"##
    );
    let title = match (r.retransmissions, r.kernel_drops) {
        (Some(n), _) => format!(
            "{}: {} of {} delivered, {} retransmissions",
            r.transport, r.delivered, r.sent, n
        ),
        (_, Some(d)) => format!(
            "{}: {} of {} delivered, {} dropped by the kernel",
            r.transport, r.delivered, r.sent, d
        ),
        _ => format!(
            "{}: {} of {} delivered, {} lost",
            r.transport, r.delivered, r.sent, r.lost
        ),
    };
    let _ = writeln!(
        s,
        r#"<text x="{left}" y="{}">{}</text>"#,
        top - 4.0,
        esc(&title)
    );
    // Axes labels.
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" fill="#555">arrival time (0 – {:.0} ms)</text>"##,
        left + PANEL_W / 2.0 - 60.0,
        top + PANEL_H + 16.0,
        span as f64 / 1000.0
    );
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" fill="#555" transform="rotate(-90 {} {})">sequence number</text>"##,
        left - 8.0,
        top + PANEL_H / 2.0 + 45.0,
        left - 8.0,
        top + PANEL_H / 2.0 + 45.0
    );
    // The ideal: each message arriving the moment it is sent.
    let end = w.send_time(w.count).as_micros() as u64;
    let _ = writeln!(
        s,
        r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#bbb" stroke-dasharray="4 3"/>"##,
        x(0),
        y(0),
        x(end),
        y(w.count)
    );
    let step = r.timeline.len().div_ceil(MAX_POINTS).max(1);
    let mut path = String::new();
    for &(t, q) in r.timeline.iter().step_by(step) {
        let _ = write!(path, "M{:.1} {:.1}h1.5", x(t), y(q));
    }
    let _ = writeln!(
        s,
        r##"<path d="{path}" stroke="{}" stroke-width="2.5" fill="none"/>"##,
        if r.transport == "TCP" {
            "#1f6feb"
        } else {
            "#2da44e"
        }
    );
    // Lost messages: red ticks where they would have been.
    let lost = missing(r, w);
    let lstep = lost.len().div_ceil(MAX_POINTS).max(1);
    let mut ticks = String::new();
    for &q in lost.iter().step_by(lstep) {
        let t = w.send_time(q).as_micros() as u64;
        let _ = write!(ticks, "M{:.1} {:.1}h5", x(t) - 2.5, y(q));
    }
    if !ticks.is_empty() {
        let _ = writeln!(
            s,
            r##"<path d="{ticks}" stroke="#d1242f" stroke-width="2" fill="none"/>"##
        );
    }
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Width of the terminal plot, in characters.
pub const TERM_COLS: usize = 64;
/// Height of the terminal plot, in lines.
pub const TERM_ROWS: usize = 10;

/// A compact terminal plot of one transport: `•` arrivals, `×` lost messages
/// (placed where they were sent), time to the right, sequence upwards.
pub fn terminal(r: &TransportResult, w: &Workload, span: u64) -> Vec<String> {
    let mut grid = vec![vec![' '; TERM_COLS]; TERM_ROWS];
    let max_seq = w.count.max(1);
    let cell = |t: u64, q: u64| {
        let c = ((t as u128 * TERM_COLS as u128) / (span.max(1) as u128 + 1)) as usize;
        let rrow = ((q as u128 * TERM_ROWS as u128) / (max_seq as u128)) as usize;
        (
            c.min(TERM_COLS - 1),
            TERM_ROWS - 1 - rrow.min(TERM_ROWS - 1),
        )
    };
    for &(t, q) in &r.timeline {
        let (c, row) = cell(t, q);
        grid[row][c] = '•';
    }
    for q in missing(r, w) {
        let (c, row) = cell(w.send_time(q).as_micros() as u64, q);
        grid[row][c] = '×';
    }
    grid.into_iter()
        .map(|row| row.into_iter().collect())
        .collect()
}

/// The shared time axis of a scenario's two panels, in µs.
pub fn span(rep: &ScenarioReport) -> u64 {
    time_span(rep)
}
