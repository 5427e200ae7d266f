// Lesson 08 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_08.rs (against your lessons/08-websocket-handshake/exercise.rs),
// inside a module where `subject` is the code under test.

use self::subject::{accept_key, token_list_contains};
use pretty_assertions::assert_eq;

#[test]
fn accept_key_matches_the_rfc_example() {
    // RFC 6455 §1.3: this key must give this accept value.
    assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

#[test]
fn accept_key_for_other_keys() {
    // Computed independently (Python: base64(sha1(key + GUID))).
    assert_eq!(accept_key("AQIDBAUGBwgJCgsMDQ4PEA=="), "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=");
    assert_eq!(accept_key("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

#[test]
fn accept_key_uses_the_key_as_text_and_ignores_surrounding_spaces() {
    assert_eq!(accept_key("  dGhlIHNhbXBsZSBub25jZQ== "), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    let a = accept_key("AQIDBAUGBwgJCgsMDQ4PEA==");
    assert_eq!(a.len(), 28, "base64 of a 20-byte SHA-1 digest is 28 characters");
    assert!(a.ends_with('='));
}

#[test]
fn tokens_are_found_in_lists_in_any_case() {
    assert!(token_list_contains("Upgrade", "upgrade"));
    assert!(token_list_contains("keep-alive, Upgrade", "upgrade"));
    assert!(token_list_contains("keep-alive,UPGRADE", "Upgrade"));
    assert!(token_list_contains("websocket", "websocket"));
    assert!(token_list_contains("WebSocket ,  h2c", "websocket"));
}

#[test]
fn tokens_must_match_whole() {
    assert!(!token_list_contains("keep-alive", "upgrade"));
    assert!(!token_list_contains("upgrades", "upgrade"));
    assert!(!token_list_contains("websocket2, x-websocket", "websocket"));
    assert!(!token_list_contains("", "upgrade"));
}
