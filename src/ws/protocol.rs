//! Lesson 09 — the protocol core, without sockets: bytes in, messages out.
//!
//! [`Receiver::read`] takes frames off the front of a buffer and assembles
//! messages: it checks each header as soon as it is complete (so a hostile
//! header is refused before its payload is awaited or allocated), unmasks and
//! UTF-8-checks payload bytes *as they arrive* (so invalid text fails on its
//! first bad byte, even in the middle of a 16 MiB frame), joins fragments, and
//! hands control frames out between them. [`encode_frame`] and [`Sender`] go the
//! other way. The connection ([`super::connection`]) only moves bytes between
//! these and a socket, so everything here is tested, fuzzed and benchmarked
//! without a network.

use super::close::{parse_close_payload, CloseCode, CloseError};
use super::frame::{FrameError, FrameHeader, OpCode, Role};
use super::mask::{apply_mask, key_at, MASK_LEN};
use super::message::{Message, Text, Utf8Validator};
use super::{DEFAULT_MAX_FRAME, DEFAULT_MAX_MESSAGE};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use thiserror::Error;

/// Size limits on what a peer may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest payload of one frame (default [`DEFAULT_MAX_FRAME`]).
    pub max_frame: usize,
    /// Largest message, all fragments together (default [`DEFAULT_MAX_MESSAGE`]).
    pub max_message: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame: DEFAULT_MAX_FRAME,
            max_message: DEFAULT_MAX_MESSAGE,
        }
    }
}

/// A broken protocol rule: the connection is failed with [`ProtocolError::close_code`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    /// A frame header broke a rule of §5.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// §5.4: a continuation frame arrived with no fragmented message in progress.
    #[error("continuation frame with no message to continue (RFC 6455 §5.4)")]
    ContinuationWithoutStart,
    /// §5.4: a new text/binary frame started before the fragmented message ended.
    #[error(
        "new {0} message started before the fragmented message before it ended (RFC 6455 §5.4)"
    )]
    MessageInsideFragmentedMessage(&'static str),
    /// §8.1: a text message is not UTF-8 (status 1007).
    #[error("text message is not valid UTF-8 at byte {offset} (RFC 6455 §8.1)")]
    InvalidUtf8 {
        /// Offset of the first invalid byte in the message.
        offset: usize,
    },
    /// This side's limit on a whole message (status 1009).
    #[error("message of at least {len} bytes is over the limit of {max} bytes (raise it with --max-message)")]
    MessageTooBig {
        /// Bytes the message would have (so far).
        len: u64,
        /// The limit.
        max: usize,
    },
    /// A Close frame broke a rule of §5.5.1 / §7.4.
    #[error(transparent)]
    Close(#[from] CloseError),
}

impl ProtocolError {
    /// The status to fail the connection with (§7.4.1): 1007 for bad UTF-8,
    /// 1009 for a limit, 1002 for everything else.
    pub fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::Frame(e) => e.close_code(),
            ProtocolError::InvalidUtf8 { .. } => CloseCode::InvalidPayload,
            ProtocolError::MessageTooBig { .. } => CloseCode::MessageTooBig,
            ProtocolError::Close(e) => e.close_code(),
            _ => CloseCode::ProtocolError,
        }
    }
}

/// Most buffer space reserved ahead for a frame still arriving (1 MiB): the
/// buffer grows as the payload actually comes, so a hostile header announcing
/// 16 MiB costs nothing until 16 MiB are sent.
pub const RESERVE_AHEAD: usize = 1024 * 1024;

/// Payloads up to this size are copied out of the inbox rather than split
/// off it (cheaper than sharing the buffer for small messages).
pub const COPY_SMALL: usize = 256;

/// The frame whose payload is still arriving.
#[derive(Debug, Clone, Copy)]
struct Partial {
    header: FrameHeader,
    header_len: usize,
    /// Payload bytes already unmasked (and UTF-8-checked) in place.
    done: usize,
    /// Is the payload part of a text message?
    text: bool,
}

/// A fragmented message being assembled.
#[derive(Debug)]
struct Fragmented {
    text: bool,
    buf: BytesMut,
}

/// The receiving half of the protocol: frames in, messages out.
#[derive(Debug)]
pub struct Receiver {
    role: Role,
    limits: Limits,
    current: Option<Partial>,
    fragments: Option<Fragmented>,
    utf8: Utf8Validator,
    /// Every complete frame header read, if tracing is on (for `--frames`).
    trace: Option<Vec<FrameHeader>>,
}

impl Receiver {
    /// A receiver for `role` (which decides the masking rule) with `limits`.
    pub fn new(role: Role, limits: Limits) -> Receiver {
        Receiver {
            role,
            limits,
            current: None,
            fragments: None,
            utf8: Utf8Validator::new(),
            trace: None,
        }
    }

    /// Keep every frame header read, to be taken with [`Receiver::take_trace`].
    pub fn enable_trace(&mut self) {
        self.trace = Some(Vec::new());
    }

    /// The frame headers read since the last call (empty unless tracing).
    pub fn take_trace(&mut self) -> Vec<FrameHeader> {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Takes the next message or control frame off the front of `src`.
    ///
    /// `Ok(None)`: more bytes are needed (whatever has arrived of a frame was
    /// already checked, unmasked and validated, and stays in `src`).
    /// `Err`: the peer broke a rule; fail the connection with its close code.
    pub fn read(&mut self, src: &mut BytesMut) -> Result<Option<Message>, ProtocolError> {
        loop {
            let partial = match self.current.take() {
                Some(p) => p,
                None => {
                    let Some((header, header_len)) = FrameHeader::parse(src)? else {
                        return Ok(None);
                    };
                    let text = self.start_frame(&header)?;
                    Partial {
                        header,
                        header_len,
                        done: 0,
                        text,
                    }
                }
            };
            // The header was checked against max_frame, so this fits in usize.
            let len = partial.header.payload_len as usize;
            let have = (src.len() - partial.header_len).min(len);
            if have > partial.done {
                let fresh = &mut src[partial.header_len + partial.done..partial.header_len + have];
                if let Some(key) = partial.header.mask {
                    apply_mask(fresh, key_at(key, partial.done));
                }
                if partial.text {
                    self.utf8
                        .feed(fresh)
                        .map_err(|e| ProtocolError::InvalidUtf8 { offset: e.offset })?;
                }
            }
            if have < len {
                // Room for more of this frame, at most RESERVE_AHEAD at a time:
                // a header alone must not make us allocate a whole max_frame.
                src.reserve((partial.header_len + len - src.len()).min(RESERVE_AHEAD));
                self.current = Some(Partial {
                    done: have,
                    ..partial
                });
                return Ok(None);
            }
            let payload = if len <= COPY_SMALL {
                // Small payloads are copied out: the inbox then never becomes a
                // shared buffer, and no reference counts are touched per message.
                let start = partial.header_len;
                let payload = BytesMut::from(&src[start..start + len]);
                src.advance(start + len);
                payload
            } else {
                src.advance(partial.header_len);
                src.split_to(len)
            };
            if let Some(t) = self.trace.as_mut() {
                t.push(partial.header);
            }
            if let Some(msg) = self.finish_frame(partial.header, payload)? {
                return Ok(Some(msg));
            }
        }
    }

    /// Checks a complete header against the frame rules and the message in
    /// progress. Returns whether its payload is text to validate.
    #[inline]
    fn start_frame(&mut self, h: &FrameHeader) -> Result<bool, ProtocolError> {
        h.check(self.role, self.limits.max_frame)?;
        let so_far = match (h.opcode, &self.fragments) {
            (OpCode::Continuation, None) => return Err(ProtocolError::ContinuationWithoutStart),
            (OpCode::Continuation, Some(f)) => f.buf.len() as u64,
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::MessageInsideFragmentedMessage(
                    h.opcode.name(),
                ))
            }
            (OpCode::Text, None) => {
                self.utf8.reset();
                0
            }
            _ => 0,
        };
        if !h.opcode.is_control() && so_far + h.payload_len > self.limits.max_message as u64 {
            return Err(ProtocolError::MessageTooBig {
                len: so_far + h.payload_len,
                max: self.limits.max_message,
            });
        }
        Ok(match h.opcode {
            OpCode::Text => true,
            OpCode::Continuation => self.fragments.as_ref().is_some_and(|f| f.text),
            _ => false,
        })
    }

    /// A whole frame has arrived (unmasked): a message, or `None` for a fragment.
    #[inline]
    fn finish_frame(
        &mut self,
        h: FrameHeader,
        payload: BytesMut,
    ) -> Result<Option<Message>, ProtocolError> {
        let utf8_end = |v: &Utf8Validator| {
            v.finish()
                .map_err(|e| ProtocolError::InvalidUtf8 { offset: e.offset })
        };
        Ok(match h.opcode {
            OpCode::Ping => Some(Message::Ping(payload.freeze())),
            OpCode::Pong => Some(Message::Pong(payload.freeze())),
            OpCode::Close => Some(Message::Close(parse_close_payload(&payload)?)),
            OpCode::Text | OpCode::Binary if !h.fin => {
                self.fragments = Some(Fragmented {
                    text: h.opcode == OpCode::Text,
                    buf: payload,
                });
                None
            }
            OpCode::Text => {
                utf8_end(&self.utf8)?;
                Some(Message::Text(Text::from_validated(payload.freeze())))
            }
            OpCode::Binary => Some(Message::Binary(payload.freeze())),
            OpCode::Continuation => {
                let f = self
                    .fragments
                    .as_mut()
                    .ok_or(ProtocolError::ContinuationWithoutStart)?;
                f.buf.unsplit(payload);
                if !h.fin {
                    return Ok(None);
                }
                let f = self
                    .fragments
                    .take()
                    .ok_or(ProtocolError::ContinuationWithoutStart)?;
                if f.text {
                    utf8_end(&self.utf8)?;
                    Some(Message::Text(Text::from_validated(f.buf.freeze())))
                } else {
                    Some(Message::Binary(f.buf.freeze()))
                }
            }
            // Reserved opcodes were refused by `check`.
            OpCode::ReservedData(n) | OpCode::ReservedControl(n) => {
                return Err(FrameError::ReservedOpcode(n).into())
            }
        })
    }

    /// Bytes the message in progress will occupy once its current frame is
    /// whole: the fragments so far, plus the frame arriving (header and its
    /// whole announced payload). What a server must be ready to hold for this
    /// peer; 0 between messages.
    pub fn pending_len(&self) -> usize {
        let fragments = self.fragments.as_ref().map_or(0, |f| f.buf.len());
        let frame = self.current.as_ref().map_or(0, |p| {
            // Checked against max_frame when the header arrived, so it fits.
            p.header_len
                .saturating_add(usize::try_from(p.header.payload_len).unwrap_or(usize::MAX))
        });
        fragments.saturating_add(frame)
    }

    /// Is a frame or a fragmented message half-way through? (EOF now loses data.)
    pub fn in_message(&self) -> bool {
        self.current.is_some() || self.fragments.is_some()
    }
}

/// How many masking keys one call to the OS random generator fetches.
const KEYS_PER_REFILL: usize = 256;

/// Masking keys from the operating system's random generator (§5.3: "MUST be
/// derived from a strong source of entropy"), fetched 256 at a time so a
/// client sending many small frames does not make one system call per frame.
#[derive(Debug)]
pub struct MaskKeys {
    pool: Box<[u8; KEYS_PER_REFILL * MASK_LEN]>,
    next: usize,
}

impl MaskKeys {
    /// An empty pool; the first key fetches from the OS.
    pub fn new() -> MaskKeys {
        MaskKeys {
            pool: Box::new([0; KEYS_PER_REFILL * MASK_LEN]),
            next: KEYS_PER_REFILL,
        }
    }

    /// The next unpredictable key.
    pub fn next_key(&mut self) -> [u8; MASK_LEN] {
        if self.next == KEYS_PER_REFILL {
            // The OS generator only fails if the kernel has no entropy source at
            // all; sending predictable keys instead would break §10.3's guarantee.
            getrandom::getrandom(&mut self.pool[..])
                .expect("the OS random number generator failed");
            self.next = 0;
        }
        let i = self.next * MASK_LEN;
        self.next += 1;
        [
            self.pool[i],
            self.pool[i + 1],
            self.pool[i + 2],
            self.pool[i + 3],
        ]
    }
}

impl Default for MaskKeys {
    fn default() -> Self {
        MaskKeys::new()
    }
}

/// Appends one frame to `dst`: header (shortest length form), then the
/// payload, masked with `mask` if given.
pub fn encode_frame(
    opcode: OpCode,
    fin: bool,
    payload: &[u8],
    mask: Option<[u8; MASK_LEN]>,
    dst: &mut BytesMut,
) {
    let header = FrameHeader {
        fin,
        mask,
        ..FrameHeader::new(opcode, payload.len() as u64)
    };
    dst.reserve(header.encoded_len() + payload.len());
    header.emit(dst);
    let start = dst.len();
    dst.put_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut dst[start..], key);
    }
}

/// The sending half: masks when we are the client, never when we are the server.
#[derive(Debug)]
pub struct Sender {
    role: Role,
    keys: Option<MaskKeys>,
}

impl Sender {
    /// A sender for `role`.
    pub fn new(role: Role) -> Sender {
        Sender {
            role,
            keys: (role == Role::Client).then(MaskKeys::new),
        }
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Appends one frame, masked if we are the client.
    pub fn frame(&mut self, opcode: OpCode, fin: bool, payload: &[u8], dst: &mut BytesMut) {
        let mask = self.keys.as_mut().map(MaskKeys::next_key);
        encode_frame(opcode, fin, payload, mask, dst);
    }

    /// Appends a message as one frame (control payloads over 125 bytes are cut
    /// to 125, close reasons to 123, so what we send is always valid).
    pub fn message(&mut self, msg: &Message, dst: &mut BytesMut) {
        const MAX: usize = super::frame::MAX_CONTROL_PAYLOAD;
        match msg {
            Message::Text(t) => self.frame(OpCode::Text, true, t.as_bytes(), dst),
            Message::Binary(b) => self.frame(OpCode::Binary, true, b, dst),
            Message::Ping(b) => self.frame(OpCode::Ping, true, &b[..b.len().min(MAX)], dst),
            Message::Pong(b) => self.frame(OpCode::Pong, true, &b[..b.len().min(MAX)], dst),
            Message::Close(c) => {
                let payload = super::close::close_payload(c.as_ref());
                self.frame(OpCode::Close, true, &payload, dst)
            }
        }
    }

    /// Appends a message split into frames of at most `fragment` payload bytes
    /// (§5.4); control messages are never split.
    pub fn fragmented(&mut self, msg: &Message, fragment: usize, dst: &mut BytesMut) {
        let (opcode, payload) = match msg {
            Message::Text(t) => (OpCode::Text, t.as_bytes()),
            Message::Binary(b) => (OpCode::Binary, &b[..]),
            control => return self.message(control, dst),
        };
        let fragment = fragment.max(1);
        if payload.len() <= fragment {
            return self.frame(opcode, true, payload, dst);
        }
        let pieces: Vec<&[u8]> = payload.chunks(fragment).collect();
        let last = pieces.len() - 1;
        for (i, piece) in pieces.into_iter().enumerate() {
            let op = if i == 0 { opcode } else { OpCode::Continuation };
            self.frame(op, i == last, piece, dst);
        }
    }
}

/// Bytes of a Close frame's payload turned into a [`Bytes`] (for tests and tools).
pub fn bytes_of(msg: &Message) -> Bytes {
    Bytes::copy_from_slice(msg.payload())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::close::CloseFrame;
    use pretty_assertions::assert_eq;

    fn server() -> Receiver {
        Receiver::new(Role::Server, Limits::default())
    }

    fn client_frame(op: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode_frame(op, fin, payload, Some([0x37, 0xfa, 0x21, 0x3d]), &mut b);
        b.to_vec()
    }

    fn read_all(r: &mut Receiver, bytes: &[u8]) -> Result<Vec<Message>, ProtocolError> {
        let mut src = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(m) = r.read(&mut src)? {
            out.push(m);
        }
        Ok(out)
    }

    #[test]
    fn rfc_5_7_masked_hello() {
        let wire = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        assert_eq!(
            read_all(&mut server(), &wire).unwrap(),
            vec![Message::text("Hello")]
        );
    }

    #[test]
    fn fragments_join_with_a_ping_between() {
        let mut wire = client_frame(OpCode::Text, false, b"Hel");
        wire.extend(client_frame(OpCode::Ping, true, b"p"));
        wire.extend(client_frame(OpCode::Continuation, false, b""));
        wire.extend(client_frame(OpCode::Continuation, true, b"lo"));
        assert_eq!(
            read_all(&mut server(), &wire).unwrap(),
            vec![
                Message::Ping(Bytes::from_static(b"p")),
                Message::text("Hello")
            ]
        );
    }

    #[test]
    fn every_byte_at_a_time_gives_the_same_messages() {
        let mut wire = client_frame(OpCode::Binary, true, &[7; 300]);
        wire.extend(client_frame(OpCode::Text, false, "añ".as_bytes()));
        wire.extend(client_frame(OpCode::Continuation, true, "o 🦀".as_bytes()));
        let mut r = server();
        let mut src = BytesMut::new();
        let mut got = Vec::new();
        for &b in &wire {
            src.put_u8(b);
            while let Some(m) = r.read(&mut src).unwrap() {
                got.push(m);
            }
        }
        assert_eq!(
            got,
            vec![Message::binary(vec![7; 300]), Message::text("año 🦀")]
        );
        assert!(src.is_empty());
    }

    #[test]
    fn invalid_utf8_fails_before_the_frame_is_complete() {
        let wire = client_frame(OpCode::Text, true, &[b'o', b'k', 0xff, b'x', b'y', b'z']);
        // Only the header and the first three payload bytes have arrived.
        let mut src = BytesMut::from(&wire[..6 + 3]);
        assert_eq!(
            server().read(&mut src),
            Err(ProtocolError::InvalidUtf8 { offset: 2 })
        );
    }

    #[test]
    fn sequencing_rules() {
        let cont = client_frame(OpCode::Continuation, true, b"x");
        assert_eq!(
            read_all(&mut server(), &cont),
            Err(ProtocolError::ContinuationWithoutStart)
        );
        let mut two_starts = client_frame(OpCode::Text, false, b"a");
        two_starts.extend(client_frame(OpCode::Binary, true, b"b"));
        assert_eq!(
            read_all(&mut server(), &two_starts),
            Err(ProtocolError::MessageInsideFragmentedMessage("binary"))
        );
    }

    #[test]
    fn message_limit_counts_all_fragments() {
        let limits = Limits {
            max_frame: 10,
            max_message: 15,
        };
        let mut wire = client_frame(OpCode::Binary, false, &[0; 10]);
        wire.extend(client_frame(OpCode::Continuation, true, &[0; 5]));
        let got = read_all(&mut Receiver::new(Role::Server, limits), &wire).unwrap();
        assert_eq!(got, vec![Message::binary(vec![0; 15])]);
        let mut wire = client_frame(OpCode::Binary, false, &[0; 10]);
        wire.extend(client_frame(OpCode::Continuation, true, &[0; 6]));
        let err = read_all(&mut Receiver::new(Role::Server, limits), &wire).unwrap_err();
        assert_eq!(err, ProtocolError::MessageTooBig { len: 16, max: 15 });
        assert_eq!(err.close_code(), CloseCode::MessageTooBig);
    }

    #[test]
    fn close_payloads_are_validated() {
        let wire = client_frame(OpCode::Close, true, &[0x03, 0xe8, b'o', b'k']);
        assert_eq!(
            read_all(&mut server(), &wire).unwrap(),
            vec![Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "ok".into()
            }))]
        );
        let one = client_frame(OpCode::Close, true, &[0x03]);
        let err = read_all(&mut server(), &one).unwrap_err();
        assert_eq!(err.close_code(), CloseCode::ProtocolError);
    }

    #[test]
    fn a_header_alone_does_not_reserve_the_whole_announced_frame() {
        let mut src = BytesMut::new();
        FrameHeader {
            mask: Some([0; 4]),
            ..FrameHeader::new(OpCode::Binary, DEFAULT_MAX_FRAME as u64)
        }
        .emit(&mut src);
        assert_eq!(server().read(&mut src), Ok(None));
        assert!(
            src.capacity() <= 2 * RESERVE_AHEAD,
            "reserved {} bytes for a bare header",
            src.capacity()
        );
    }

    #[test]
    fn pending_len_is_the_fragments_so_far_and_the_whole_announced_frame() {
        let mut r = server();
        assert_eq!(r.pending_len(), 0);
        let mut wire = client_frame(OpCode::Binary, false, &[1; 100]);
        let next = client_frame(OpCode::Continuation, true, &[2; 1000]);
        // The continuation's header (2 + 2 length + 4 mask) and 12 payload bytes.
        wire.extend_from_slice(&next[..20]);
        let mut src = BytesMut::from(&wire[..]);
        assert_eq!(r.read(&mut src), Ok(None));
        assert_eq!(r.pending_len(), 100 + 8 + 1000);
        src.extend_from_slice(&next[20..]);
        assert_eq!(
            r.read(&mut src).unwrap().map(|m| m.payload().len()),
            Some(1100)
        );
        assert_eq!(r.pending_len(), 0);
    }

    #[test]
    fn the_client_masks_with_fresh_keys_and_the_server_does_not() {
        let mut dst = BytesMut::new();
        Sender::new(Role::Server).message(&Message::text("hi"), &mut dst);
        assert_eq!(&dst[..], &[0x81, 0x02, b'h', b'i']);
        let mut c = Sender::new(Role::Client);
        let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
        c.message(&Message::text("hi"), &mut a);
        c.message(&Message::text("hi"), &mut b);
        assert_eq!(a[1], 0x82, "MASK bit set, length 2");
        assert_ne!(a[2..6], b[2..6], "two frames got the same key");
        let mut r = Receiver::new(Role::Server, Limits::default());
        assert_eq!(r.read(&mut a).unwrap(), Some(Message::text("hi")));
    }
}
