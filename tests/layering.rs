//! The dependency rule of `src/lib.rs`, checked: every `crate::…` path in
//! `src/` must point to its own floor or one below, and never along one of
//! the arrows the "never to" table forbids. Both tables are read from
//! `src/lib.rs` itself, so the rule a student reads is the rule CI checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The rule as `src/lib.rs` states it.
struct Rule {
    /// Module → its floor (1 is the ground).
    floors: BTreeMap<String, u32>,
    /// (from, to) pairs that are never allowed.
    never: Vec<(String, String)>,
}

/// The backquoted names in one table cell: "`a`, `b`" → ["a", "b"].
fn names(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Reads the two tables from the crate doc (`//! | … |` rows).
fn parse_rule(lib_rs: &str) -> Rule {
    let mut floors = BTreeMap::new();
    let mut never = Vec::new();
    for line in lib_rs.lines() {
        let Some(row) = line.strip_prefix("//! |") else {
            continue;
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        if cells.len() < 3 {
            continue;
        }
        if let Ok(floor) = cells[0].parse::<u32>() {
            for m in names(cells[1]) {
                floors.insert(m, floor);
            }
        } else if let [from] = names(cells[0]).as_slice() {
            // Only the "never to" table has a single module in its first cell
            // and a list of modules in its second.
            let tos = names(cells[1]);
            if !tos.is_empty() && cells[0].starts_with('`') && !cells[1].contains("::") {
                for to in tos {
                    never.push((from.clone(), to));
                }
            }
        }
    }
    Rule { floors, never }
}

/// The top-level module a file under `src/` belongs to (`src/chat/hub.rs` →
/// `chat`, `src/framing.rs` → `framing`); `None` for `lib.rs` and `main.rs`.
fn area_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_string())
}

/// Every area a file's code names through `crate::AREA` (comments skipped).
fn arrows_in(source: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            // `$crate::` is a macro's own path, not an import.
            if before == Some('$') || before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push((n + 1, name));
            }
        }
    }
    out
}

/// The broken rules in one file: "FILE:LINE: a → b (why)".
fn violations(rule: &Rule, file: &str, area: &str, source: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let Some(&from_floor) = rule.floors.get(area) else {
        return vec![format!(
            "{file}: module `{area}` is in no floor of src/lib.rs's table; add it there"
        )];
    };
    for (line, to) in arrows_in(source) {
        if to == area {
            continue;
        }
        let Some(&to_floor) = rule.floors.get(&to) else {
            continue; // not a module of ours (e.g. a crate-root item)
        };
        if to_floor > from_floor {
            bad.push(format!(
                "{file}:{line}: `{area}` (floor {from_floor}) imports `{to}` (floor {to_floor}): arrows point down, never up"
            ));
        }
        if rule.never.iter().any(|(f, t)| f == area && *t == to) {
            bad.push(format!(
                "{file}:{line}: `{area}` imports `{to}`, an arrow src/lib.rs says is never drawn"
            ));
        }
    }
    bad
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn the_rule() -> Rule {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    parse_rule(&std::fs::read_to_string(root.join("src/lib.rs")).expect("src/lib.rs"))
}

#[test]
fn every_arrow_in_src_points_down_and_none_is_forbidden() {
    let rule = the_rule();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    for path in &files {
        let relative = path.strip_prefix(&src).unwrap();
        let Some(area) = area_of(relative) else {
            continue;
        };
        let source = std::fs::read_to_string(path).unwrap();
        bad.extend(violations(
            &rule,
            &format!("src/{}", relative.display()),
            &area,
            &source,
        ));
    }
    assert!(
        bad.is_empty(),
        "{} arrows break the rule in src/lib.rs:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn only_the_command_line_knows_clap() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let knowing: Vec<String> = files
        .iter()
        .filter(|p| !p.starts_with(src.join("cli")) && !p.ends_with("main.rs"))
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .any(|l| !l.trim_start().starts_with("//") && l.contains("clap::"))
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        knowing.is_empty(),
        "clap belongs in src/cli/ alone (the library takes plain config structs): {knowing:?}"
    );
}

#[test]
fn the_rule_is_read_from_lib_rs() {
    let rule = the_rule();
    assert_eq!(rule.floors.get("cli"), Some(&5));
    assert_eq!(rule.floors.get("chat"), Some(&2));
    assert_eq!(rule.floors.get("client"), Some(&3));
    assert_eq!(rule.floors.get("framing"), Some(&1));
    assert!(rule.never.contains(&("client".into(), "transport".into())));
    assert!(rule.never.contains(&("chat".into(), "ws".into())));
    // Every top-level module the crate declares has a floor.
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(m) = line.strip_prefix("pub mod ") {
            let m = m.trim_end_matches(';');
            assert!(
                rule.floors.contains_key(m),
                "`{m}` has no floor in src/lib.rs"
            );
        }
    }
}

#[test]
fn an_upward_or_forbidden_arrow_is_caught() {
    let rule = the_rule();
    let up = "use crate::cli::CliResult;\nfn f() {}\n";
    let found = violations(&rule, "src/ws/frame.rs", "ws", up);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("src/ws/frame.rs:1"), "{found:?}");
    assert!(found[0].contains("`ws` (floor 2) imports `cli` (floor 5)"));

    let inline = "fn f() { crate::client::udp::terminal(); }";
    assert_eq!(
        violations(&rule, "src/chat/hub.rs", "chat", inline).len(),
        1
    );

    let sideways = "use crate::client::tcp::ChatClient;";
    let found = violations(&rule, "src/transport/tcp.rs", "transport", sideways);
    assert_eq!(
        found.len(),
        1,
        "same floor, but a forbidden arrow: {found:?}"
    );
    assert!(found[0].contains("never drawn"));

    // Down, sideways where allowed, comments and macro paths are fine.
    let fine = "use crate::framing::FrameCodec;\n// use crate::cli::x;\n/// [`crate::cli`]\nuse crate::ws::Message;\n$crate::cli::x";
    assert_eq!(
        violations(&rule, "src/transport/ws.rs", "transport", fine),
        Vec::<String>::new()
    );
}
