//! Lesson 08 — the server's side of the opening handshake on a blocking socket.
//!
//! [`accept_handshake`] is [`server::accept`](super::server::accept) without
//! an async runtime: read the request head from a `std` stream however it is
//! cut into pieces, never past [`DEFAULT_MAX_HEADER`] bytes, check it against
//! RFC 6455 §4.2.1 ([`parse_request`]) and answer `101 Switching Protocols`
//! (§4.2.2) or the HTTP error the broken rule calls for
//! ([`HandshakeError::response`](super::handshake::HandshakeError::response)).

use super::handshake::{accept_response, parse_request, Policy, DEFAULT_MAX_HEADER};
use std::io::{self, ErrorKind, Read, Write};

/// Bytes asked for per `read` while the head has not ended: a typical
/// browser request (about 500 bytes) arrives in one read.
pub const HEAD_READ_CHUNK: usize = 1024;

/// How the opening handshake ended, when the stream did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeOutcome {
    /// `101 Switching Protocols` was sent: from the next byte on, both sides
    /// speak WebSocket frames (RFC 6455 §4.2.2).
    Accepted {
        /// The request target, e.g. `/chat`.
        path: String,
        /// Bytes read after the request head (usually empty): frames from a
        /// client that did not wait for the 101 — RFC 6455 §4.1 says it
        /// MUST wait, but a server that read them must not lose them.
        leftover: Vec<u8>,
    },
    /// The upgrade was refused with this HTTP status (400, 405, 426, 431, 505).
    Refused {
        /// The status code sent.
        status: u16,
    },
}

/// Runs the server's side of the opening handshake on `stream`: reads the
/// request head (at most [`DEFAULT_MAX_HEADER`] bytes), answers 101 with the
/// `Sec-WebSocket-Accept` for its key, or the HTTP error for the first rule it
/// breaks, and says which.
///
/// How long the client may take is the stream's read timeout (the caller's
/// to set); a read that fails or times out is returned as is, and a client
/// that hangs up before the head ends is `UnexpectedEof`, with nothing sent.
/// After a refusal the caller closes the connection (the answer says
/// `Connection: close`).
pub fn accept_handshake<S: Read + Write + ?Sized>(stream: &mut S) -> io::Result<HandshakeOutcome> {
    let mut head = Vec::with_capacity(HEAD_READ_CHUNK);
    let mut chunk = [0u8; HEAD_READ_CHUNK];
    loop {
        match parse_request(&head, DEFAULT_MAX_HEADER, &Policy::default()) {
            Ok(Some((request, used))) => {
                stream.write_all(&accept_response(&request, None))?;
                stream.flush()?;
                return Ok(HandshakeOutcome::Accepted {
                    path: request.path,
                    leftover: head.split_off(used),
                });
            }
            Err(refusal) => {
                stream.write_all(&refusal.response())?;
                stream.flush()?;
                return Ok(HandshakeOutcome::Refused {
                    status: refusal.status().0,
                });
            }
            Ok(None) => {}
        }
        // Never read past the limit: parse_request refuses a head that is
        // still open at DEFAULT_MAX_HEADER bytes, so there is room here.
        let room = (DEFAULT_MAX_HEADER - head.len()).min(HEAD_READ_CHUNK);
        match stream.read(&mut chunk[..room]) {
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "the client closed the connection before its request head ended",
                ))
            }
            Ok(n) => head.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use std::io::Cursor;

    /// A stream whose reads come from `input`, `step` bytes at most, and whose
    /// writes are kept.
    struct Scripted {
        input: Cursor<Vec<u8>>,
        step: usize,
        output: Vec<u8>,
    }

    impl Read for Scripted {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.step);
            self.input.read(&mut buf[..n])
        }
    }

    impl Write for Scripted {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn run(input: &[u8], step: usize) -> (io::Result<HandshakeOutcome>, String) {
        let mut s = Scripted {
            input: Cursor::new(input.to_vec()),
            step,
            output: Vec::new(),
        };
        let outcome = accept_handshake(&mut s);
        (outcome, String::from_utf8(s.output).unwrap())
    }

    const REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    #[test]
    fn accepts_a_trickled_request_and_keeps_what_follows() {
        let input = [REQUEST.as_bytes(), b"\x89\x80abcd"].concat();
        let (outcome, out) = run(&input, 3);
        let leftover = match outcome.unwrap() {
            HandshakeOutcome::Accepted { path, leftover } => {
                assert_eq!(path, "/chat");
                leftover
            }
            other => panic!("{other:?}"),
        };
        assert!(b"\x89\x80abcd".starts_with(&leftover));
        assert!(out.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        assert!(out.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    }

    #[test]
    fn refuses_a_broken_rule_with_its_status() {
        let (outcome, out) = run(
            REQUEST.replace("Version: 13", "Version: 8").as_bytes(),
            4096,
        );
        assert_eq!(outcome.unwrap(), HandshakeOutcome::Refused { status: 426 });
        assert!(out.contains("\r\nSec-WebSocket-Version: 13\r\n"), "{out}");
    }

    #[test]
    fn reads_no_further_than_the_head_limit() {
        let endless = [
            b"GET / HTTP/1.1\r\nX-Pad: ".as_slice(),
            &[b'a'; 3 * DEFAULT_MAX_HEADER],
        ]
        .concat();
        let mut s = Scripted {
            input: Cursor::new(endless),
            step: 4096,
            output: Vec::new(),
        };
        let outcome = accept_handshake(&mut s).unwrap();
        assert_eq!(outcome, HandshakeOutcome::Refused { status: 431 });
        assert_eq!(s.input.position(), DEFAULT_MAX_HEADER as u64);
    }

    #[test]
    fn a_client_gone_mid_head_is_unexpected_eof() {
        let (outcome, out) = run(&REQUEST.as_bytes()[..40], 4096);
        assert_eq!(outcome.unwrap_err().kind(), ErrorKind::UnexpectedEof);
        assert_eq!(out, "");
    }
}
