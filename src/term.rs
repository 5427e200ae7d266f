//! Terminal output: one colour per layer, headings, and a small Markdown renderer
//! for lessons.
//!
//! Everything here writes ANSI styles; print through [`anstream`]'s `println!`
//! and the styles are removed automatically when stdout is not a terminal, or
//! when `NO_COLOR` is set (and forced with `CLICOLOR_FORCE=1`).

use crate::layers::{OsiLayer, TcpIpLayer};
use anstyle::{AnsiColor, Color, Style};

/// The colour every netlab view uses for a TCP/IP layer, so the same layer
/// looks the same in `layers`, the tour and the inspector.
pub fn tcpip_style(layer: TcpIpLayer) -> Style {
    let color = match layer {
        TcpIpLayer::Link => AnsiColor::Magenta,
        TcpIpLayer::Internet => AnsiColor::Blue,
        TcpIpLayer::Transport => AnsiColor::Green,
        TcpIpLayer::Application => AnsiColor::Yellow,
    };
    Style::new().fg_color(Some(Color::Ansi(color)))
}

/// The colour for an OSI layer: that of the TCP/IP layer it falls in, bold for L7.
pub fn osi_style(layer: OsiLayer) -> Style {
    let style = tcpip_style(layer.tcpip());
    match layer {
        OsiLayer::Application | OsiLayer::Network | OsiLayer::Transport | OsiLayer::DataLink => {
            style.bold()
        }
        _ => style,
    }
}

/// `text` wrapped in `style`.
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{}{}{}", style.render(), text, style.render_reset())
}

/// Bold text.
pub fn bold(text: impl std::fmt::Display) -> String {
    paint(Style::new().bold(), text)
}

/// Dimmed text, for explanations next to results.
pub fn dim(text: impl std::fmt::Display) -> String {
    paint(Style::new().dimmed(), text)
}

/// Green text for success marks.
pub fn good(text: impl std::fmt::Display) -> String {
    paint(
        Style::new().fg_color(Some(AnsiColor::Green.into())).bold(),
        text,
    )
}

/// Red text for failures.
pub fn bad(text: impl std::fmt::Display) -> String {
    paint(
        Style::new().fg_color(Some(AnsiColor::Red.into())).bold(),
        text,
    )
}

/// Cyan text for headings.
pub fn heading(text: impl std::fmt::Display) -> String {
    paint(
        Style::new()
            .fg_color(Some(AnsiColor::Cyan.into()))
            .bold()
            .underline(),
        text,
    )
}

/// Bytes as spaced hex pairs, e.g. `00 00 00 05 68 69`, at most `limit` bytes then `…`.
pub fn hex(bytes: &[u8], limit: usize) -> String {
    let mut out = String::with_capacity(bytes.len().min(limit) * 3 + 2);
    for (i, b) in bytes.iter().take(limit).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{b:02x}"));
    }
    if bytes.len() > limit {
        out.push_str(" …");
    }
    out
}

/// Bytes shown as text where printable, escaped otherwise, at most `limit` bytes.
pub fn printable(bytes: &[u8], limit: usize) -> String {
    let mut out = String::new();
    for &b in bytes.iter().take(limit) {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    if bytes.len() > limit {
        out.push('…');
    }
    out
}

/// Makes text that came from a peer (a chat message, a nick, a WebSocket
/// text message, a string inside a captured packet) safe to print on a
/// terminal: every control character and every bidirectional-override mark
/// is shown escaped instead of obeyed.
///
/// Without this, a peer's `ESC ] 0 ; title BEL` renames the reader's window,
/// `ESC [ 2 J` clears the screen, and `\r\n[private] admin: …` prints a
/// forged line that looks like the server's own. Escapes: `\e` for ESC,
/// `\r`, `\n`, `\t`, `\u{XX}` for any other C0, DEL or C1 control, and
/// `\u{202e}`-style for the Unicode bidi controls (U+061C, U+200E–U+200F,
/// U+202A–U+202E, U+2066–U+2069), which can make text read backwards.
pub fn peer_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\x1b' => out.push_str("\\e"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether [`peer_text`] shows `c` escaped: C0 and C1 controls, DEL, and the
/// Unicode bidirectional formatting characters.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Renders lesson Markdown for a terminal: headings, bold, inline code and code
/// blocks styled; everything else printed as written.
pub fn render_markdown(md: &str) -> String {
    let mut out = String::with_capacity(md.len() + md.len() / 4);
    let mut in_code = false;
    let code = Style::new().fg_color(Some(AnsiColor::Green.into()));
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str("    ");
            out.push_str(&paint(code, line));
        } else if let Some(h) = line.strip_prefix("# ") {
            out.push_str(&heading(h));
        } else if let Some(h) = line
            .strip_prefix("## ")
            .or_else(|| line.strip_prefix("### "))
        {
            out.push_str(&bold(paint(
                Style::new().fg_color(Some(AnsiColor::Cyan.into())),
                h,
            )));
        } else {
            out.push_str(&inline_markdown(line, code));
        }
        out.push('\n');
    }
    out
}

/// Styles `**bold**` and `` `code` `` spans inside one line.
fn inline_markdown(line: &str, code: Style) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("**") {
            if let Some(end) = after.find("**") {
                out.push_str(&bold(&after[..end]));
                rest = &after[end + 2..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix('`') {
            if let Some(end) = after.find('`') {
                out.push_str(&paint(code, &after[..end]));
                rest = &after[end + 1..];
                continue;
            }
        }
        let ch = rest.chars().next().unwrap_or(' ');
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_spaced_and_cut() {
        assert_eq!(hex(&[0, 0x0a, 0xff], 10), "00 0a ff");
        assert_eq!(hex(&[1, 2, 3], 2), "01 02 …");
    }

    #[test]
    fn peer_text_shows_escape_sequences_instead_of_obeying_them() {
        assert_eq!(peer_text("plain text, ünïcode ✓"), "plain text, ünïcode ✓");
        assert!(matches!(peer_text("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(
            peer_text("\x1b]0;pwned\x07\x1b[2J"),
            "\\e]0;pwned\\u{7}\\e[2J"
        );
        assert_eq!(
            peer_text("hi\r\n[private] admin: psst"),
            "hi\\r\\n[private] admin: psst"
        );
        assert_eq!(peer_text("a\tb\x7f\u{9b}c"), "a\\tb\\u{7f}\\u{9b}c");
        assert_eq!(peer_text("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(peer_text("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
    }

    proptest::proptest! {
        #[test]
        fn peer_text_never_lets_a_control_character_through(s in "\\PC*|[\\x00-\\x7f\\u{80}-\\u{9f}\\u{202a}-\\u{202e}]*") {
            let shown = peer_text(&s);
            proptest::prop_assert!(!shown.chars().any(needs_escape), "{shown:?}");
        }
    }

    #[test]
    fn printable_escapes_controls() {
        assert_eq!(printable(b"hi\n\x00", 10), "hi\\n\\x00");
    }

    #[test]
    fn markdown_keeps_text_and_drops_fences() {
        let out = render_markdown("# Title\nplain `code` and **bold**\n```\nlet x = 1;\n```\n");
        assert!(out.contains("Title"));
        assert!(out.contains("let x = 1;"));
        assert!(!out.contains("```"));
        assert!(!out.contains("**"));
        assert!(!out.contains('`'));
    }
}
