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

#[test]
fn payloads_from_the_protocol_document() {
    // "Packet encoding" → "HTTP long-polling": its two examples.
    assert_eq!(
        shown(encode_payload(&[text("hello"), Packet::Ping(String::new()), text("world")])),
        "4hello\u{1e}2\u{1e}4world"
    );
    assert_eq!(shown(encode_payload(&[text("hello"), binary(&[1, 2, 3, 4])])), "4hello\u{1e}bAQIDBA==");
    assert_eq!(
        decode_payload(b"4hello\x1e2\x1e4world", 16),
        Ok(vec![text("hello"), Packet::Ping(String::new()), text("world")])
    );
    assert_eq!(decode_payload(b"4hello\x1ebAQIDBA==", 16), Ok(vec![text("hello"), binary(&[1, 2, 3, 4])]));
}

#[test]
fn separators_go_between_packets_only() {
    assert_eq!(shown(encode_payload(&[])), "");
    assert_eq!(shown(encode_payload(&[text("hello")])), "4hello", "one packet needs no separator");
    assert_eq!(shown(encode_payload(&[Packet::Noop])), "6");
    assert_eq!(
        shown(encode_payload(&[Packet::Pong(String::new()), Packet::Close])),
        "3\u{1e}1",
        "nothing before the first packet or after the last"
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
    assert_eq!(shown(encode_payload(&packets)), wire);
    assert_eq!(decode_payload(wire.as_bytes(), 16), Ok(packets.to_vec()));
}

#[test]
fn binary_is_b_then_standard_base64_with_padding() {
    // 0xfb 0xef 0xff 0xff uses both of the standard alphabet's own characters
    // (`+` and `/`) and needs padding: not URL-safe (`-_`), not unpadded.
    assert_eq!(shown(encode_payload(&[binary(&[0xfb, 0xef, 0xff, 0xff])])), "b++///w==");
    assert_eq!(decode_payload(b"b++///w==", 16), Ok(vec![binary(&[0xfb, 0xef, 0xff, 0xff])]));
    assert_eq!(shown(encode_payload(&[binary(&[0, 0xff, 0x10])])), "bAP8Q");
    // An empty binary message is just the mark.
    assert_eq!(shown(encode_payload(&[binary(&[])])), "b");
    assert_eq!(decode_payload(b"b", 16), Ok(vec![binary(&[])]));
    // Text and binary side by side: Socket.IO sends an attachment right behind its event.
    assert_eq!(
        shown(encode_payload(&[text(r#"51-["file",{"_placeholder":true,"num":0}]"#), binary(&[1, 2, 3, 4])])),
        "451-[\"file\",{\"_placeholder\":true,\"num\":0}]\u{1e}bAQIDBA=="
    );
}

#[test]
fn only_a_leading_b_marks_binary() {
    // A text message whose data starts with `b` (or holds base64) is text.
    assert_eq!(decode_payload(b"4bAQIDBA==", 16), Ok(vec![text("bAQIDBA==")]));
    assert_eq!(decode_payload(b"4b\x1eb", 16), Ok(vec![text("b"), binary(&[])]));
    assert_eq!(shown(encode_payload(&[text("bAQIDBA==")])), "4bAQIDBA==");
}

#[test]
fn text_is_cut_at_the_separator_and_nowhere_else() {
    // Newlines, spaces, colons (Engine.IO v3's length prefixes), digits, `b`,
    // and characters of several bytes all stay inside their packet.
    let texts = ["a\nb", " spaced ", "2:4€", "12345", "€", "ünïcødé 😀", r#"2["x","a,b;c"]"#];
    let packets: Vec<Packet> = texts.iter().map(|t| text(t)).collect();
    let wire = encode_payload(&packets);
    assert_eq!(shown(wire.clone()), format!("4{}", texts.join("\u{1e}4")));
    assert_eq!(decode_payload(&wire, 16), Ok(packets));
}

#[test]
fn empty_pieces_are_refused() {
    assert_eq!(decode_payload(b"", 16), Err(EngineError::Empty));
    assert_eq!(decode_payload(b"4a\x1e", 16), Err(EngineError::Empty), "a separator at the end");
    assert_eq!(decode_payload(b"\x1e4a", 16), Err(EngineError::Empty), "a separator at the start");
    assert_eq!(decode_payload(b"4a\x1e\x1e4b", 16), Err(EngineError::Empty), "two in a row");
    // A hostile body of 100,000 separators: refused at its first piece.
    assert_eq!(decode_payload(&[0x1e; 100_000], 1 << 20), Err(EngineError::Empty));
}

#[test]
fn broken_pieces_are_refused_with_their_rule() {
    assert_eq!(decode_payload(b"b!!!not base64", 16), Err(EngineError::Base64));
    assert_eq!(decode_payload(b"4ok\x1eb@@@@", 16), Err(EngineError::Base64));
    assert_eq!(decode_payload(b"4\xff", 16), Err(EngineError::Utf8));
    assert_eq!(decode_payload(b"9", 16), Err(EngineError::Type("9".into())));
    assert_eq!(decode_payload(b"1x", 16), Err(EngineError::UnexpectedData('1')));
    // Piece by piece: the first broken piece decides, even if a later one is broken too.
    assert_eq!(decode_payload(b"bA=A=\x1e4\xff", 16), Err(EngineError::Base64));
    assert_eq!(decode_payload(b"4\xff\x1eb!", 16), Err(EngineError::Utf8));
}

#[test]
fn the_packet_count_is_bounded_at_the_edge() {
    assert_eq!(decode_payload(b"3\x1e3\x1e3", 3).map(|p| p.len()), Ok(3));
    assert_eq!(decode_payload(b"3\x1e3\x1e3\x1e3", 3), Err(EngineError::TooManyPackets(3)));
    // The piece past the limit is not even looked at.
    assert_eq!(decode_payload(b"3\x1e3\x1e3\x1e\xff", 3), Err(EngineError::TooManyPackets(3)));
    assert_eq!(decode_payload(b"3", 0), Err(EngineError::TooManyPackets(0)));
    let many = vec!["3"; 10_000].join("\u{1e}");
    assert_eq!(decode_payload(many.as_bytes(), 10_000).map(|p| p.len()), Ok(10_000));
    assert_eq!(decode_payload(many.as_bytes(), 9_999), Err(EngineError::TooManyPackets(9_999)));
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
            assert_eq!(decode_payload(&wire, 16), Ok(all[start..end].to_vec()), "{}", shown(wire.clone()));
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
        assert_eq!(upgrade_step(state, event), next, "{event:?} while {state:?}");
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
    assert_eq!(run(&[Poll, Poll, Poll, Probe, Poll, Poll, UpgradePacket]), Ok(Upgraded));
}

#[test]
fn after_the_upgrade_polling_is_over() {
    use TransportEvent::*;
    use Upgrade::*;
    assert_eq!(run(&[Probe, UpgradePacket, Poll]), Err((Upgraded, Poll)));
    // One WebSocket per session: a second one is refused, during the probe or after it.
    assert_eq!(run(&[Probe, Probe]), Err((Probing, Probe)));
    assert_eq!(run(&[Probe, UpgradePacket, Probe]), Err((Upgraded, Probe)));
}

#[test]
fn a_failed_probe_leaves_the_session_on_polling() {
    use TransportEvent::*;
    use Upgrade::*;
    assert_eq!(run(&[Probe, ProbeFailed, Poll, Poll]), Ok(Polling));
    // ... from where it may try again.
    assert_eq!(run(&[Probe, ProbeFailed, Probe, UpgradePacket]), Ok(Upgraded));
    // A `5` with no probe before it is refused.
    assert_eq!(run(&[Poll, UpgradePacket]), Err((Polling, UpgradePacket)));
    assert_eq!(run(&[ProbeFailed]), Err((Polling, ProbeFailed)));
}
