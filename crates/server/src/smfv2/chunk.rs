//! The HTTPS tunnel's framing (brief §4.3): HTTP/1.1 chunks carrying the ARMS client's own
//! chunk extensions, which hyper can neither read nor write.
//!
//! A chunk is `HEXLEN;ext;ext\r\n<data>\r\n`. A message is the data of every chunk with one
//! `id=N`, in order, up to the chunk that also carries `trail`; each message is a bare
//! `<arms-message>` document. `4;echo-request;trail\r\necho\r\n` is the client's keep-alive,
//! answered by the same chunk with `echo-response`; `0\r\n\r\n` ends the tunnel.
//!
//! The decoder never panics and holds bounded memory whatever it is fed: a chunk header line,
//! a chunk, a message and the number of messages being assembled at once all have limits, and
//! anything past them is an error that ends the tunnel.

/// The longest chunk header line (`HEXLEN` and its extensions), without its CRLF.
pub const LINE_LIMIT: usize = 128;

/// The most data one chunk may carry.
pub const CHUNK_LIMIT: usize = 16 * 1024;

/// The largest message (all chunks of one id): the client's messages are a few hundred bytes.
pub const MESSAGE_LIMIT: usize = 64 * 1024;

/// Messages being assembled at once (ids seen without their `trail` yet).
pub const OPEN_LIMIT: usize = 4;

/// The largest chunk id accepted: the client keeps ids in a C `int`.
pub const ID_LIMIT: u32 = i32::MAX as u32;

/// The chunk that ends the tunnel.
pub const END: &[u8] = b"0\r\n\r\n";

/// The client's keep-alive (brief §4.3 step 3).
pub const ECHO_REQUEST: &[u8] = b"4;echo-request;trail\r\necho\r\n";

/// The answer to [`ECHO_REQUEST`].
pub const ECHO_RESPONSE: &[u8] = b"4;echo-response;trail\r\necho\r\n";

/// What the decoder found in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A whole message: the data of every chunk with `id`, the last carrying `trail`.
    Message { id: u32, body: Vec<u8> },
    /// The peer's keep-alive: answer [`ECHO_RESPONSE`].
    EchoRequest,
    /// The answer to our keep-alive.
    EchoResponse,
    /// `0\r\n\r\n`: the peer ends the tunnel.
    End,
}

/// Why the stream is not a tunnel any more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("chunk header line longer than {LINE_LIMIT} bytes")]
    LineTooLong,
    #[error("malformed chunk header line")]
    Line,
    #[error("chunk larger than {CHUNK_LIMIT} bytes")]
    ChunkTooLarge,
    #[error("chunk id out of range")]
    Id,
    #[error("a data chunk without an id")]
    NoId,
    #[error("chunk data not followed by CRLF")]
    Framing,
    #[error("message larger than {MESSAGE_LIMIT} bytes")]
    MessageTooLarge,
    #[error("more than {OPEN_LIMIT} messages open at once")]
    TooManyOpen,
}

/// The extensions of one chunk header line.
#[derive(Debug, Default, PartialEq, Eq)]
struct Header {
    size: usize,
    id: Option<u32>,
    trail: bool,
    echo_request: bool,
    echo_response: bool,
}

fn parse_header(line: &[u8]) -> Result<Header, ChunkError> {
    let line = std::str::from_utf8(line).map_err(|_| ChunkError::Line)?;
    let mut parts = line.split(';');
    let size = parts.next().unwrap_or("").trim();
    if size.is_empty() || size.len() > 8 || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ChunkError::Line);
    }
    let size = usize::from_str_radix(size, 16).map_err(|_| ChunkError::Line)?;
    if size > CHUNK_LIMIT {
        return Err(ChunkError::ChunkTooLarge);
    }
    let mut header = Header {
        size,
        ..Header::default()
    };
    for ext in parts {
        let ext = ext.trim();
        if let Some(id) = ext.strip_prefix("id=") {
            if id.is_empty() || id.len() > 10 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ChunkError::Id);
            }
            let id: u64 = id.parse().map_err(|_| ChunkError::Id)?;
            let id = u32::try_from(id).map_err(|_| ChunkError::Id)?;
            if id > ID_LIMIT || header.id.replace(id).is_some() {
                return Err(ChunkError::Id);
            }
        } else {
            match ext {
                "trail" => header.trail = true,
                "echo-request" => header.echo_request = true,
                "echo-response" => header.echo_response = true,
                // Other extensions carry nothing mpc acts on; their syntax is still checked.
                _ if ext
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_=.".contains(&b)) => {}
                _ => return Err(ChunkError::Line),
            }
        }
    }
    Ok(header)
}

/// Reassembles frames from the bytes of one direction of a tunnel.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    open: Vec<(u32, Vec<u8>)>,
}

impl Decoder {
    /// A decoder at the start of the chunked body.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the stream.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, or None until more bytes arrive.
    ///
    /// # Errors
    /// [`ChunkError`] when the bytes break the framing or a limit; the tunnel is then closed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, ChunkError> {
        loop {
            let Some(line_end) = self.buf.windows(2).position(|w| w == b"\r\n") else {
                if self.buf.len() > LINE_LIMIT {
                    return Err(ChunkError::LineTooLong);
                }
                return Ok(None);
            };
            if line_end > LINE_LIMIT {
                return Err(ChunkError::LineTooLong);
            }
            let header = parse_header(&self.buf[..line_end])?;
            let data = line_end + 2;
            let end = data + header.size;
            if self.buf.len() < end + 2 {
                return Ok(None);
            }
            if &self.buf[end..end + 2] != b"\r\n" {
                return Err(ChunkError::Framing);
            }
            let chunk: Vec<u8> = self.buf[data..end].to_vec();
            self.buf.drain(..end + 2);
            if header.echo_request {
                return Ok(Some(Frame::EchoRequest));
            }
            if header.echo_response {
                return Ok(Some(Frame::EchoResponse));
            }
            let Some(id) = header.id else {
                if header.size == 0 {
                    return Ok(Some(Frame::End));
                }
                return Err(ChunkError::NoId);
            };
            let at = match self.open.iter().position(|(i, _)| *i == id) {
                Some(at) => at,
                None => {
                    if self.open.len() >= OPEN_LIMIT {
                        return Err(ChunkError::TooManyOpen);
                    }
                    self.open.push((id, Vec::new()));
                    self.open.len() - 1
                }
            };
            let body = &mut self.open[at].1;
            if body.len() + chunk.len() > MESSAGE_LIMIT {
                return Err(ChunkError::MessageTooLarge);
            }
            body.extend_from_slice(&chunk);
            if header.trail {
                let (id, body) = self.open.swap_remove(at);
                return Ok(Some(Frame::Message { id, body }));
            }
        }
    }
}

/// One message as chunks of `id`, the last carrying `trail`.
#[must_use]
pub fn encode_message(id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 32);
    let mut pieces = body.chunks(CHUNK_LIMIT).peekable();
    if pieces.peek().is_none() {
        out.extend_from_slice(format!("0;id={id};trail\r\n\r\n").as_bytes());
        return out;
    }
    while let Some(piece) = pieces.next() {
        let trail = if pieces.peek().is_none() {
            ";trail"
        } else {
            ""
        };
        out.extend_from_slice(format!("{:x};id={id}{trail}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frames(bytes: &[u8]) -> Result<Vec<Frame>, ChunkError> {
        let mut decoder = Decoder::new();
        decoder.feed(bytes);
        let mut out = Vec::new();
        while let Some(f) = decoder.next_frame()? {
            out.push(f);
        }
        Ok(out)
    }

    #[test]
    fn reads_the_echo_and_the_end_as_the_brief_shows() {
        // Brief §4.3 step 3: the keep-alive and its verified answer, then the end.
        let mut stream = ECHO_REQUEST.to_vec();
        stream.extend_from_slice(ECHO_RESPONSE);
        stream.extend_from_slice(END);
        assert_eq!(
            frames(&stream).unwrap(),
            [Frame::EchoRequest, Frame::EchoResponse, Frame::End]
        );
    }

    #[test]
    fn a_message_is_its_chunks_up_to_the_trail_even_interleaved() {
        let stream = b"5;id=7\r\n<arms\r\n3;id=8\r\nabc\r\n9;id=7;trail\r\n-message>\r\n2;id=8;trail\r\nde\r\n";
        assert_eq!(
            frames(stream).unwrap(),
            [
                Frame::Message {
                    id: 7,
                    body: b"<arms-message>".to_vec()
                },
                Frame::Message {
                    id: 8,
                    body: b"abcde".to_vec()
                },
            ]
        );
    }

    #[test]
    fn waits_for_the_rest_of_a_chunk() {
        let whole = encode_message(3, b"<arms-message/>");
        let mut decoder = Decoder::new();
        for (i, b) in whole.iter().enumerate() {
            decoder.feed(&[*b]);
            let got = decoder.next_frame().unwrap();
            if i + 1 < whole.len() {
                assert_eq!(got, None, "after {i} bytes");
            } else {
                assert_eq!(
                    got,
                    Some(Frame::Message {
                        id: 3,
                        body: b"<arms-message/>".to_vec()
                    })
                );
            }
        }
    }

    #[test]
    fn refuses_what_breaks_a_limit_or_the_framing() {
        assert_eq!(frames(b"zz;id=1\r\n"), Err(ChunkError::Line));
        assert_eq!(frames(b"123456789;id=1\r\n"), Err(ChunkError::Line));
        assert_eq!(frames(b"4001;id=1\r\n"), Err(ChunkError::ChunkTooLarge));
        assert_eq!(frames(b"1;id=2147483648\r\n"), Err(ChunkError::Id));
        assert_eq!(frames(b"1;id=-1\r\n"), Err(ChunkError::Id));
        assert_eq!(frames(b"1;id=1;id=2\r\n"), Err(ChunkError::Id));
        assert_eq!(frames(b"1\r\nx\r\n"), Err(ChunkError::NoId));
        assert_eq!(frames(b"1;id=1\r\nxy\r\n"), Err(ChunkError::Framing));
        assert_eq!(
            frames(&[b'1'; LINE_LIMIT + 1]),
            Err(ChunkError::LineTooLong)
        );
        let mut open = Vec::new();
        for id in 0..=OPEN_LIMIT {
            open.extend_from_slice(format!("1;id={id}\r\nx\r\n").as_bytes());
        }
        assert_eq!(frames(&open), Err(ChunkError::TooManyOpen));
        let mut big = Vec::new();
        for _ in 0..=MESSAGE_LIMIT / CHUNK_LIMIT {
            big.extend_from_slice(format!("{CHUNK_LIMIT:x};id=1\r\n").as_bytes());
            big.extend_from_slice(&[b'a'; CHUNK_LIMIT]);
            big.extend_from_slice(b"\r\n");
        }
        assert_eq!(frames(&big), Err(ChunkError::MessageTooLarge));
    }

    proptest! {
        #[test]
        fn decoding_survives_any_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            framed in "([0-9a-f]{1,3}(;id=[0-9]{1,11})?(;trail)?(;echo-request)?\r\n[a-z<>/]{0,20}\r\n){0,8}",
            split in 0usize..600,
        ) {
            for input in [bytes.as_slice(), framed.as_bytes()] {
                let mut decoder = Decoder::new();
                let at = split.min(input.len());
                for part in [&input[..at], &input[at..]] {
                    decoder.feed(part);
                    while let Ok(Some(_)) = decoder.next_frame() {}
                }
                prop_assert!(decoder.buf.len() <= input.len());
            }
        }

        #[test]
        fn encoded_messages_decode_to_themselves(
            body in proptest::collection::vec(any::<u8>(), 0..40_000),
            id in 0u32..=ID_LIMIT,
        ) {
            prop_assert_eq!(
                frames(&encode_message(id, &body)).unwrap(),
                vec![Frame::Message { id, body }]
            );
        }
    }
}
