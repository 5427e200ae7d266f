// Lesson 08 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_08.rs (against your lessons/08-websocket-handshake/exercise.rs),
// inside a module where `subject` is the code under test.

use self::subject::{accept_key, token_list_contains};
use pretty_assertions::assert_eq;

#[test]
fn accept_key_matches_the_rfc_example() {
    // RFC 6455 §1.3: this key must give this accept value.
    assert_eq!(
        accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "RFC 6455 §1.3's example: base64(SHA-1(the key's text + the GUID)); a browser refuses any other answer"
    );
}

#[test]
fn accept_key_for_other_keys() {
    // Computed independently (Python: base64(sha1(key + GUID))).
    assert_eq!(
        accept_key("AQIDBAUGBwgJCgsMDQ4PEA=="),
        "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=",
        "base64(SHA-1(\"AQIDBAUGBwgJCgsMDQ4PEA==\" + GUID)), computed with Python"
    );
    assert_eq!(
        accept_key("x3JJHMbDL1EzLkh9GBhXDw=="),
        "HSmrc0sMlYUkAGmm5OPpG2HaGWk=",
        "base64(SHA-1(\"x3JJHMbDL1EzLkh9GBhXDw==\" + GUID)), computed with Python"
    );
}

#[test]
fn accept_key_uses_the_key_as_text_and_ignores_surrounding_spaces() {
    assert_eq!(
        accept_key("  dGhlIHNhbXBsZSBub25jZQ== "),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "spaces around the header value are not part of the key: trim them before hashing"
    );
    let a = accept_key("AQIDBAUGBwgJCgsMDQ4PEA==");
    assert_eq!(a.len(), 28, "base64 of a 20-byte SHA-1 digest is 28 characters");
    assert!(a.ends_with('='), "base64 of 20 bytes ends with one `=` of padding (standard base64, padded)");
}

#[test]
fn tokens_are_found_in_lists_in_any_case() {
    assert!(token_list_contains("Upgrade", "upgrade"), "tokens compare without regard to case: `Upgrade` is `upgrade`");
    assert!(
        token_list_contains("keep-alive, Upgrade", "upgrade"),
        "a browser sends `Connection: keep-alive, Upgrade`: the second token, after a comma and a space, is `upgrade`"
    );
    assert!(
        token_list_contains("keep-alive,UPGRADE", "Upgrade"),
        "tokens compare without regard to case, and need no space after the comma"
    );
    assert!(token_list_contains("websocket", "websocket"), "a list of one token contains it");
    assert!(
        token_list_contains("WebSocket ,  h2c", "websocket"),
        "spaces around a token are not part of it, and case does not matter"
    );
}

#[test]
fn tokens_must_match_whole() {
    assert!(!token_list_contains("keep-alive", "upgrade"), "`keep-alive` alone does not list `upgrade`");
    assert!(
        !token_list_contains("upgrades", "upgrade"),
        "`upgrades` is another token: a token must match whole, not as a substring"
    );
    assert!(
        !token_list_contains("websocket2, x-websocket", "websocket"),
        "`websocket2` and `x-websocket` only contain `websocket`: a token must match whole, not as a substring"
    );
    assert!(!token_list_contains("", "upgrade"), "an empty header value lists no token");
}
