//! A lesson's hints, from a nudge to the approach — never the code.
//!
//! `lessons/NN-topic/hints.md` holds them as `## ` sections, in the order
//! they are given: first a question that points at what was overlooked, then
//! where to read (the lesson's section, the RFC clause), then the approach in
//! words. `netlab hint NN` shows one more each time it is asked.

/// One hint: its heading (what kind of hint it is) and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint<'a> {
    /// The section heading, e.g. `A question`.
    pub title: &'a str,
    /// The hint itself (Markdown).
    pub text: &'a str,
}

/// The hints of a `hints.md`, in order. Text before the first `## ` heading
/// is the file's own introduction and is not a hint.
pub fn parse(markdown: &str) -> Vec<Hint<'_>> {
    let mut hints = Vec::new();
    let mut rest = markdown;
    // Skip to the first section.
    let Some(start) = find_heading(rest) else {
        return hints;
    };
    rest = &rest[start..];
    while !rest.is_empty() {
        let line_end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        let heading = rest[..line_end].trim_start_matches("## ").trim();
        let body = &rest[line_end..];
        let next = find_heading(body).unwrap_or(body.len());
        hints.push(Hint {
            title: strip_number(heading),
            text: body[..next].trim(),
        });
        rest = &body[next..];
    }
    hints
}

/// The byte offset of the next line starting with `## `.
fn find_heading(text: &str) -> Option<usize> {
    if text.starts_with("## ") {
        return Some(0);
    }
    text.find("\n## ").map(|i| i + 1)
}

/// `2. Where to read` → `Where to read`.
fn strip_number(heading: &str) -> &str {
    match heading.split_once(". ") {
        Some((n, title)) if n.chars().all(|c| c.is_ascii_digit()) => title,
        _ => heading,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_become_hints_in_order() {
        let md = "# Lesson 99\n\nintro, not a hint\n\n## 1. A question\n\nWhy?\n\n## 2. Where to read\n\nRFC 1, section 2.\nMore.\n";
        assert_eq!(
            parse(md),
            vec![
                Hint {
                    title: "A question",
                    text: "Why?"
                },
                Hint {
                    title: "Where to read",
                    text: "RFC 1, section 2.\nMore."
                },
            ]
        );
        assert_eq!(parse("no sections"), vec![]);
    }

    #[test]
    fn every_lesson_has_three_hints_that_grow() {
        for l in super::super::LESSONS {
            let Some(ex) = l.exercise else { continue };
            let hints = parse(ex.hints);
            assert!(
                hints.len() >= 3,
                "lesson {:02} has {} hints; every exercise needs a question, a pointer and an approach",
                l.number,
                hints.len()
            );
            assert!(
                hints.iter().all(|h| !h.text.is_empty()),
                "lesson {:02} has an empty hint",
                l.number
            );
        }
    }

    #[test]
    fn every_lesson_nudges_before_it_explains_and_never_gives_code() {
        for l in super::super::LESSONS {
            let Some(ex) = l.exercise else { continue };
            let n = l.number;
            assert!(
                ex.hints
                    .starts_with(&format!("# Lesson {n:02} — hints\n\n`netlab hint {n:02}` shows")),
                "lesson {n:02}'s hints.md must open with its title and how `netlab hint {n:02}` works"
            );
            let hints = parse(ex.hints);
            let titles: Vec<&str> = hints.iter().take(3).map(|h| h.title).collect();
            assert_eq!(
                titles,
                ["A question", "Where to read", "The approach"],
                "lesson {n:02}: the hints go from a question to a pointer to the approach"
            );
            assert!(
                hints[0].text.contains('?'),
                "lesson {n:02}: the first hint asks a question"
            );
            for h in &hints {
                assert!(
                    !h.text.contains("```") && !h.text.contains("fn "),
                    "lesson {n:02}'s hint \"{}\" has code in it: a hint says the approach in words",
                    h.title
                );
            }
        }
    }
}
