//! Byte strings compared the way the lessons talk about them: in hex, with offsets.
//!
//! Graders whose lessons speak in bytes (frames, headers, payloads) use
//! [`assert_bytes_eq!`](crate::assert_bytes_eq): on a mismatch it says where
//! the first difference is and shows both sides as rows of hex, the rows that
//! differ marked, instead of two long decimal `Vec<u8>` listings.

use std::fmt::Write;

/// Bytes per row of the side-by-side dump.
const ROW: usize = 8;

/// Where two byte strings first differ, or `None` when they are equal.
pub fn first_difference(yours: &[u8], expected: &[u8]) -> Option<usize> {
    if yours == expected {
        return None;
    }
    Some(
        yours
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(yours.len().min(expected.len())),
    )
}

/// The side-by-side hex dump of two byte strings, or `None` when they are equal.
///
/// ```
/// let text = netlab::course::hexdiff::hex_diff(&[0, 0, 0, 5], &[0, 0, 0, 6]).unwrap();
/// assert!(text.starts_with("first difference at offset 3 (0x0003): yours 0x05, expected 0x06"));
/// ```
pub fn hex_diff(yours: &[u8], expected: &[u8]) -> Option<String> {
    let at = first_difference(yours, expected)?;
    let byte = |b: Option<&u8>| b.map_or("(end)".to_string(), |b| format!("0x{b:02x}"));
    let mut out = format!(
        "first difference at offset {at} (0x{at:04x}): yours {}, expected {}; yours is {} bytes, expected {}\n",
        byte(yours.get(at)),
        byte(expected.get(at)),
        yours.len(),
        expected.len()
    );
    let _ = writeln!(out, "  offset  {:<w$}  expected", "yours", w = ROW * 3 - 1);
    let rows = yours.len().max(expected.len()).div_ceil(ROW);
    for r in 0..rows {
        let span = r * ROW..(r + 1) * ROW;
        let side = |b: &[u8]| {
            let row = b.get(span.start..span.end.min(b.len())).unwrap_or(&[]);
            row.iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let (a, b) = (side(yours), side(expected));
        let mark = if a == b { ' ' } else { '≠' };
        let _ = writeln!(
            out,
            "{mark} {:04x}    {a:<w$}  {b}",
            span.start,
            w = ROW * 3 - 1
        );
    }
    Some(out.trim_end().to_string())
}

/// Asserts two byte strings are equal; on failure panics with the reason
/// given and a hex dump of both (see [`hex_diff`]).
///
/// ```should_panic
/// netlab::assert_bytes_eq!(vec![1u8, 2], [1u8, 3], "the second byte is the length");
/// ```
#[macro_export]
macro_rules! assert_bytes_eq {
    ($yours:expr, $expected:expr, $($why:tt)+) => {{
        match (&$yours, &$expected) {
            (yours, expected) => {
                let yours: &[u8] = ::core::convert::AsRef::<[u8]>::as_ref(yours);
                let expected: &[u8] = ::core::convert::AsRef::<[u8]>::as_ref(expected);
                if let Some(diff) = $crate::course::hexdiff::hex_diff(yours, expected) {
                    panic!("{}\n{}", format_args!($($why)+), diff);
                }
            }
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bytes_have_no_diff() {
        assert_eq!(hex_diff(b"abc", b"abc"), None);
    }

    #[test]
    fn the_first_difference_and_the_differing_row_are_shown() {
        let yours = [0u8, 0, 0, 5, b'h', b'e', b'l', b'l', b'o'];
        let expected = [5u8, 0, 0, 0, b'h', b'e', b'l', b'l', b'o'];
        let text = hex_diff(&yours, &expected).expect("they differ");
        assert_eq!(
            text,
            "first difference at offset 0 (0x0000): yours 0x00, expected 0x05; yours is 9 bytes, expected 9\n  offset  yours                    expected\n≠ 0000    00 00 00 05 68 65 6c 6c  05 00 00 00 68 65 6c 6c\n  0008    6f                       6f"
        );
    }

    #[test]
    fn a_short_answer_differs_where_it_ends() {
        let text = hex_diff(&[1, 2], &[1, 2, 3]).expect("they differ");
        assert!(text.starts_with("first difference at offset 2 (0x0002): yours (end), expected 0x03; yours is 2 bytes, expected 3"), "{text}");
    }

    #[test]
    #[should_panic(expected = "why it matters\nfirst difference at offset 1")]
    fn the_macro_panics_with_the_reason_first() {
        crate::assert_bytes_eq!(vec![1u8, 2], [1u8, 3], "why {}", "it matters");
    }
}
