// Lesson 10 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_10.rs (against your lessons/10-browser-socketio/exercise.rs),
// inside a module where `subject` is the code under test.
//
// The expected bytes are written out by hand from the engine.io-protocol v4
// document ("Packet encoding" → "HTTP long-polling", "Upgrade") and from what
// a real socket.io-client 4.8 sent to `netlab serve` (lesson 10's capture).

use self::subject::{decode_payload, encode_payload, upgrade_step};
use bytes::Bytes;
use netlab::web::engineio::{Data, EngineError, Packet, TransportEvent, Upgrade, UpgradeStep};
use pretty_assertions::assert_eq;

fn text(t: &str) -> Packet {
    Packet::Message(Data::Text(t.to_string()))
}

fn binary(b: &[u8]) -> Packet {
    Packet::Message(Data::Binary(Bytes::copy_from_slice(b)))
}

/// A payload as text, so a failing test shows `\u{1e}` rather than numbers.
fn shown(payload: Vec<u8>) -> String {
    String::from_utf8_lossy(&payload).into_owned()
}

/// Asserts that your payload for `packets` is `expected`, byte for byte; a
/// mismatch is shown in hex and as text (`\u{1e}` is the separator).
#[track_caller]
fn assert_payload(packets: &[Packet], expected: &str, why: &str) {
    let yours = encode_payload(packets);
    netlab::assert_bytes_eq!(
        yours,
        expected,
        "{why}\nyours as text:    {:?}\nexpected as text: {expected:?}",
        shown(yours.clone())
    );
}

#[test]
fn payloads_from_the_protocol_document() {
    // "Packet encoding" → "HTTP long-polling": its two examples.
    assert_payload(
        &[text("hello"), Packet::Ping(String::new()), text("world")],
        "4hello\u{1e}2\u{1e}4world",
        "the protocol document's example: each packet's type digit and data, with 0x1e between two packets",
    );
    assert_payload(
        &[text("hello"), binary(&[1, 2, 3, 4])],
        "4hello\u{1e}bAQIDBA==",
        "the protocol document's example: a binary message is `b` and its bytes in base64",
    );
    assert_eq!(
        decode_payload(b"4hello\x1e2\x1e4world", 16),
        Ok(vec![text("hello"), Packet::Ping(String::new()), text("world")]),
        "the protocol document's example, read back: three packets cut at the two 0x1e bytes"
    );
    assert_eq!(
        decode_payload(b"4hello\x1ebAQIDBA==", 16),
        Ok(vec![text("hello"), binary(&[1, 2, 3, 4])]),
        "the protocol document's example, read back: a piece starting with `b` is base64 for binary bytes"
    );
}

#[test]
fn separators_go_between_packets_only() {
    assert_payload(&[], "", "no packets at all is an empty body");
    assert_payload(&[text("hello")], "4hello", "one packet needs no separator, before or after it");
    assert_payload(&[Packet::Noop], "6", "a noop is just its type digit, 6");
    assert_payload(
        &[Packet::Pong(String::new()), Packet::Close],
        "3\u{1e}1",
        "the separator goes between two packets: nothing before the first packet or after the last",
    );
}

#[test]
fn every_packet_type_keeps_its_digit() {
    // What netlab's server answers a default client's first GET, and the rest.
    let open = r#"{"sid":"cd5nGfHE0kJ1KguAnhWktQ","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":65536}"#;
    let packets = [
        Packet::Open(open.to_string()),
        Packet::Close,
        Packet::Ping("probe".into()),
        Packet::Pong("probe".into()),
        text(r#"2["message",{"text":"hi"}]"#),
        Packet::Upgrade,
        Packet::Noop,
    ];
    let wire = format!("0{open}\u{1e}1\u{1e}2probe\u{1e}3probe\u{1e}42[\"message\",{{\"text\":\"hi\"}}]\u{1e}5\u{1e}6");
    assert_payload(
        &packets,
        &wire,
        "every packet is its type digit (open 0, close 1, ping 2, pong 3, message 4, upgrade 5, noop 6) and its data",
    );
    assert_eq!(
        decode_payload(wire.as_bytes(), 16),
        Ok(packets.to_vec()),
        "each of the seven pieces is read back as the packet its type digit names"
    );
}

#[test]
fn binary_is_b_then_standard_base64_with_padding() {
    // 0xfb 0xef 0xff 0xff uses both of the standard alphabet's own characters
    // (`+` and `/`) and needs padding: not URL-safe (`-_`), not unpadded.
    assert_payload(
        &[binary(&[0xfb, 0xef, 0xff, 0xff])],
        "b++///w==",
        "fb ef ff ff in standard base64 is `++///w==`: the standard alphabet's `+` and `/` (not URL-safe `-` and `_`), padded with `=`",
    );
    assert_eq!(
        decode_payload(b"b++///w==", 16),
        Ok(vec![binary(&[0xfb, 0xef, 0xff, 0xff])]),
        "`b++///w==` is standard, padded base64 for fb ef ff ff"
    );
    assert_payload(&[binary(&[0, 0xff, 0x10])], "bAP8Q", "3 bytes are exactly 4 base64 characters: no padding needed");
    // An empty binary message is just the mark.
    assert_payload(&[binary(&[])], "b", "an empty binary message is just the mark `b`");
    assert_eq!(decode_payload(b"b", 16), Ok(vec![binary(&[])]), "`b` alone is an empty binary message");
    // Text and binary side by side: Socket.IO sends an attachment right behind its event.
    assert_payload(
        &[text(r#"51-["file",{"_placeholder":true,"num":0}]"#), binary(&[1, 2, 3, 4])],
        "451-[\"file\",{\"_placeholder\":true,\"num\":0}]\u{1e}bAQIDBA==",
        "Socket.IO sends a binary attachment right behind its event: text, 0x1e, then `b` and base64",
    );
}

#[test]
fn only_a_leading_b_marks_binary() {
    // A text message whose data starts with `b` (or holds base64) is text.
    assert_eq!(
        decode_payload(b"4bAQIDBA==", 16),
        Ok(vec![text("bAQIDBA==")]),
        "a piece starting with `4` is a text message, even if its data starts with `b` or looks like base64"
    );
    assert_eq!(
        decode_payload(b"4b\x1eb", 16),
        Ok(vec![text("b"), binary(&[])]),
        "`4b` is the text \"b\"; only a piece whose first byte is `b` is binary"
    );
    assert_payload(&[text("bAQIDBA==")], "4bAQIDBA==", "a text message is `4` and its text, whatever the text holds");
}

#[test]
fn text_is_cut_at_the_separator_and_nowhere_else() {
    // Newlines, spaces, colons (Engine.IO v3's length prefixes), digits, `b`,
    // and characters of several bytes all stay inside their packet.
    let texts = ["a\nb", " spaced ", "2:4€", "12345", "€", "ünïcødé 😀", r#"2["x","a,b;c"]"#];
    let packets: Vec<Packet> = texts.iter().map(|t| text(t)).collect();
    let wire = encode_payload(&packets);
    netlab::assert_bytes_eq!(
        wire,
        format!("4{}", texts.join("\u{1e}4")),
        "newlines, spaces, colons, digits and characters of several bytes are written as they are, with 0x1e only between packets"
    );
    assert_eq!(
        decode_payload(&wire, 16),
        Ok(packets),
        "a payload is cut at the 0x1e bytes and nowhere else: not at newlines, commas, colons or inside a multi-byte character"
    );
}

#[test]
fn empty_pieces_are_refused() {
    assert_eq!(decode_payload(b"", 16), Err(EngineError::Empty), "an empty body is one empty piece: EngineError::Empty");
    assert_eq!(
        decode_payload(b"4a\x1e", 16),
        Err(EngineError::Empty),
        "a separator at the end leaves an empty piece after it: EngineError::Empty, not skipped"
    );
    assert_eq!(
        decode_payload(b"\x1e4a", 16),
        Err(EngineError::Empty),
        "a separator at the start leaves an empty piece before it: EngineError::Empty, not skipped"
    );
    assert_eq!(
        decode_payload(b"4a\x1e\x1e4b", 16),
        Err(EngineError::Empty),
        "two separators in a row leave an empty piece between them: EngineError::Empty, not skipped"
    );
    // A hostile body of 100,000 separators: refused at its first piece.
    assert_eq!(
        decode_payload(&[0x1e; 100_000], 1 << 20),
        Err(EngineError::Empty),
        "a body of 100,000 separators is refused at its first (empty) piece"
    );
}

#[test]
fn broken_pieces_are_refused_with_their_rule() {
    assert_eq!(
        decode_payload(b"b!!!not base64", 16),
        Err(EngineError::Base64),
        "after `b` comes base64; `!!!not base64` is not: EngineError::Base64"
    );
    assert_eq!(
        decode_payload(b"4ok\x1eb@@@@", 16),
        Err(EngineError::Base64),
        "the second piece's `@@@@` is not base64: EngineError::Base64"
    );
    assert_eq!(decode_payload(b"4\xff", 16), Err(EngineError::Utf8), "the byte ff is not UTF-8: EngineError::Utf8");
    assert_eq!(
        decode_payload(b"9", 16),
        Err(EngineError::Type("9".into())),
        "9 is no packet type: Packet::parse_text's EngineError::Type"
    );
    assert_eq!(
        decode_payload(b"1x", 16),
        Err(EngineError::UnexpectedData('1')),
        "a close (1) carries no data: Packet::parse_text's EngineError::UnexpectedData"
    );
    // Piece by piece: the first broken piece decides, even if a later one is broken too.
    assert_eq!(
        decode_payload(b"bA=A=\x1e4\xff", 16),
        Err(EngineError::Base64),
        "pieces are checked in order: the first, broken base64, decides before the second, broken UTF-8"
    );
    assert_eq!(
        decode_payload(b"4\xff\x1eb!", 16),
        Err(EngineError::Utf8),
        "pieces are checked in order: the first, broken UTF-8, decides before the second, broken base64"
    );
}

#[test]
fn the_packet_count_is_bounded_at_the_edge() {
    assert_eq!(
        decode_payload(b"3\x1e3\x1e3", 3).map(|p| p.len()),
        Ok(3),
        "exactly max_packets (3 of 3) pieces are allowed"
    );
    assert_eq!(
        decode_payload(b"3\x1e3\x1e3\x1e3", 3),
        Err(EngineError::TooManyPackets(3)),
        "a 4th piece with max_packets 3 is one too many: EngineError::TooManyPackets(3)"
    );
    // The piece past the limit is not even looked at.
    assert_eq!(
        decode_payload(b"3\x1e3\x1e3\x1e\xff", 3),
        Err(EngineError::TooManyPackets(3)),
        "the piece past the limit is refused for being there, before anyone looks inside it"
    );
    assert_eq!(
        decode_payload(b"3", 0),
        Err(EngineError::TooManyPackets(0)),
        "with max_packets 0 even one piece is too many"
    );
    let many = vec!["3"; 10_000].join("\u{1e}");
    assert_eq!(
        decode_payload(many.as_bytes(), 10_000).map(|p| p.len()),
        Ok(10_000),
        "10,000 pieces with max_packets 10,000: all allowed"
    );
    assert_eq!(
        decode_payload(many.as_bytes(), 9_999),
        Err(EngineError::TooManyPackets(9_999)),
        "10,000 pieces with max_packets 9,999: one too many"
    );
}

#[test]
fn what_is_encoded_decodes_back() {
    let all = [
        text(r#"0{"token":"abc"}"#),
        binary(&[0; 1]),
        binary(&(0..=255).collect::<Vec<u8>>()),
        Packet::Pong(String::new()),
        text("é"),
        binary(&[]),
        Packet::Close,
    ];
    for start in 0..all.len() {
        for end in start + 1..=all.len() {
            let wire = encode_payload(&all[start..end]);
            assert_eq!(
                decode_payload(&wire, 16),
                Ok(all[start..end].to_vec()),
                "decode_payload must read back exactly the packets encode_payload wrote as {}",
                shown(wire.clone())
            );
        }
    }
}

#[test]
fn every_state_and_event_of_the_upgrade() {
    use TransportEvent::*;
    use Upgrade::*;
    use UpgradeStep::{Ok as To, Refuse};
    let table = [
        (Polling, Poll, To(Polling)),
        (Polling, Probe, To(Probing)),
        (Polling, UpgradePacket, Refuse),
        (Polling, ProbeFailed, Refuse),
        (Probing, Poll, To(Probing)),
        (Probing, Probe, Refuse),
        (Probing, UpgradePacket, To(Upgraded)),
        (Probing, ProbeFailed, To(Polling)),
        (Upgraded, Poll, Refuse),
        (Upgraded, Probe, Refuse),
        (Upgraded, UpgradePacket, Refuse),
        (Upgraded, ProbeFailed, Refuse),
    ];
    for (state, event, next) in table {
        assert_eq!(
            upgrade_step(state, event),
            next,
            "{event:?} while {state:?}: polls go on while probing, a probe starts only from polling, `5` only ends a probe, and after the upgrade everything but the WebSocket is refused"
        );
    }
}

/// Runs events from `Polling`: the final state, or the first refused event.
fn run(events: &[TransportEvent]) -> Result<Upgrade, (Upgrade, TransportEvent)> {
    events.iter().try_fold(Upgrade::Polling, |state, &event| match upgrade_step(state, event) {
        UpgradeStep::Ok(next) => Ok(next),
        UpgradeStep::Refuse => Err((state, event)),
    })
}

#[test]
fn a_default_client_polls_probes_and_upgrades() {
    use TransportEvent::*;
    use Upgrade::*;
    // As captured: open GET, POST 40, GET, then the WebSocket's 2probe while a
    // GET waits (answered 6) and a POST still carries an event; then 5.
    assert_eq!(
        run(&[Poll, Poll, Poll, Probe, Poll, Poll, UpgradePacket]),
        Ok(Upgraded),
        "what a real client did: three polls, a probe, two more polls during the probe (a waiting GET and a POST), then `5`: Upgraded, nothing refused"
    );
}

#[test]
fn after_the_upgrade_polling_is_over() {
    use TransportEvent::*;
    use Upgrade::*;
    assert_eq!(
        run(&[Probe, UpgradePacket, Poll]),
        Err((Upgraded, Poll)),
        "once upgraded, only the WebSocket carries packets: a poll is refused"
    );
    // One WebSocket per session: a second one is refused, during the probe or after it.
    assert_eq!(
        run(&[Probe, Probe]),
        Err((Probing, Probe)),
        "a session has one WebSocket at a time: a second probe during the first is refused"
    );
    assert_eq!(
        run(&[Probe, UpgradePacket, Probe]),
        Err((Upgraded, Probe)),
        "a session has one WebSocket: a probe after the upgrade is refused"
    );
}

#[test]
fn a_failed_probe_leaves_the_session_on_polling() {
    use TransportEvent::*;
    use Upgrade::*;
    assert_eq!(
        run(&[Probe, ProbeFailed, Poll, Poll]),
        Ok(Polling),
        "a WebSocket that closes before `5` sends the session back to polling, where polls go on"
    );
    // ... from where it may try again.
    assert_eq!(
        run(&[Probe, ProbeFailed, Probe, UpgradePacket]),
        Ok(Upgraded),
        "after a failed probe the client may probe again, and upgrade"
    );
    // A `5` with no probe before it is refused.
    assert_eq!(
        run(&[Poll, UpgradePacket]),
        Err((Polling, UpgradePacket)),
        "a `5` with no probe before it is refused: there is no WebSocket to upgrade to"
    );
    assert_eq!(
        run(&[ProbeFailed]),
        Err((Polling, ProbeFailed)),
        "a probe cannot fail when none was started: refused"
    );
}
