//! HTTP/1.x framing on the SMFv2 listener's TLS stream: one request in, one fixed-length
//! response out, then the connection closes.
//!
//! Written by hand rather than with hyper because the client's parser has rules hyper does not
//! keep: header names are matched case-sensitively (`Transfer-Encoding`), so a chunked or
//! lower-cased response breaks it; the body is read until `</arms-message>` whatever the
//! framing. Requests come as HTTP/1.0 with `Content-Length` (pulls, method query) or HTTP/1.1
//! chunked (push confirmation); both are read here, and a chunked body is taken as complete at
//! its last chunk or as soon as the message's closing tag has arrived.

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// The largest request head (request line and headers).
pub const HEAD_LIMIT: usize = 8 * 1024;

/// The largest request body: requests are a few hundred bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

const END_OF_MESSAGE: &[u8] = b"</arms-message>";

/// A request read from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names as sent, with their values.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header named `name`, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The user and password of `Authorization: Basic …`.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        use base64::Engine as _;
        let value = self.header("authorization")?;
        let (scheme, encoded) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }
}

/// Why a request could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("the connection closed before the request was complete")]
    Truncated,
    #[error("request larger than the limit")]
    TooLarge,
    #[error("malformed request: {0}")]
    Malformed(&'static str),
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads more bytes into `buf`; false at the end of the stream.
async fn fill<R: AsyncRead + Unpin>(stream: &mut R, buf: &mut Vec<u8>) -> Result<bool, HttpError> {
    let mut chunk = [0u8; 4096];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

/// Reads one request.
///
/// # Errors
/// [`HttpError`] for a broken or oversized request or a failed connection.
pub async fn read_request<R: AsyncRead + Unpin>(stream: &mut R) -> Result<Request, HttpError> {
    let (mut request, rest) = read_head(stream).await?;
    read_body(stream, &mut request, rest).await?;
    Ok(request)
}

/// Reads the request line and headers only, leaving the body unread: the tunnel's body never
/// ends, so its path is looked at before anything else is read. Answers the request without
/// its body, and the bytes read past the head.
///
/// # Errors
/// [`HttpError`] for a broken or oversized head or a failed connection.
pub async fn read_head<R: AsyncRead + Unpin>(
    stream: &mut R,
) -> Result<(Request, Vec<u8>), HttpError> {
    let mut buf = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > HEAD_LIMIT {
            return Err(HttpError::TooLarge);
        }
        if !fill(stream, &mut buf).await? {
            return Err(HttpError::Truncated);
        }
    };
    if head_end > HEAD_LIMIT {
        return Err(HttpError::TooLarge);
    }
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| HttpError::Malformed("head"))?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(path), Some(version)) = (
        request_line.next(),
        request_line.next(),
        request_line.next(),
    ) else {
        return Err(HttpError::Malformed("request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Malformed("version"));
    }
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(HttpError::Malformed("header"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let request = Request {
        method: method.to_owned(),
        path: path.to_owned(),
        headers,
        body: Vec::new(),
    };
    let rest = buf.split_off(head_end + 4);
    Ok((request, rest))
}

/// Reads the body of a request whose head [`read_head`] read, `rest` being the bytes read
/// past the head.
///
/// # Errors
/// [`HttpError`] for a broken or oversized body or a failed connection.
pub async fn read_body<R: AsyncRead + Unpin>(
    stream: &mut R,
    request: &mut Request,
    rest: Vec<u8>,
) -> Result<(), HttpError> {
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    request.body = if chunked {
        read_chunked(stream, rest).await?
    } else if let Some(length) = request.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| HttpError::Malformed("content-length"))?;
        read_exact(stream, rest, length).await?
    } else {
        read_to_message_end(stream, rest).await?
    };
    Ok(())
}

async fn read_exact<R: AsyncRead + Unpin>(
    stream: &mut R,
    mut body: Vec<u8>,
    length: usize,
) -> Result<Vec<u8>, HttpError> {
    if length > BODY_LIMIT {
        return Err(HttpError::TooLarge);
    }
    while body.len() < length {
        if !fill(stream, &mut body).await? {
            return Err(HttpError::Truncated);
        }
    }
    body.truncate(length);
    Ok(body)
}

async fn read_to_message_end<R: AsyncRead + Unpin>(
    stream: &mut R,
    mut body: Vec<u8>,
) -> Result<Vec<u8>, HttpError> {
    while find(&body, END_OF_MESSAGE).is_none() {
        if body.len() > BODY_LIMIT {
            return Err(HttpError::TooLarge);
        }
        if !fill(stream, &mut body).await? {
            break;
        }
    }
    Ok(body)
}

/// Decodes chunks (`HEXLEN[;extensions]\r\n data \r\n`) until the last one, or until the body
/// holds the end of the ARMS message: a client that keeps the request open is answered then.
async fn read_chunked<R: AsyncRead + Unpin>(
    stream: &mut R,
    mut raw: Vec<u8>,
) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(line_end) = find(&raw[at..], b"\r\n").map(|i| i + at) else {
            if raw.len() - at > 1024 {
                return Err(HttpError::Malformed("chunk size"));
            }
            if !fill(stream, &mut raw).await? {
                return Err(HttpError::Truncated);
            }
            continue;
        };
        let line = std::str::from_utf8(&raw[at..line_end])
            .map_err(|_| HttpError::Malformed("chunk size"))?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size, 16).map_err(|_| HttpError::Malformed("chunk size"))?;
        if size == 0 {
            return Ok(body);
        }
        if size > BODY_LIMIT - body.len() {
            return Err(HttpError::TooLarge);
        }
        let data = line_end + 2;
        while raw.len() < data + size {
            if !fill(stream, &mut raw).await? {
                return Err(HttpError::Truncated);
            }
        }
        body.extend_from_slice(&raw[data..data + size]);
        if find(&body, END_OF_MESSAGE).is_some() {
            return Ok(body);
        }
        while raw.len() < data + size + 2 {
            if !fill(stream, &mut raw).await? {
                return Err(HttpError::Truncated);
            }
        }
        at = data + size + 2;
    }
}

/// Writes one response with a fixed-length body and title-case headers, then flushes.
///
/// # Errors
/// The connection's.
pub async fn write_response<W: AsyncWrite + Unpin>(
    stream: &mut W,
    status: u16,
    reason: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let mut out = Vec::with_capacity(head.len() + body.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(body);
    stream.write_all(&out).await?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(raw: &[u8]) -> Result<Request, HttpError> {
        let mut stream = raw;
        read_request(&mut stream).await
    }

    #[tokio::test]
    async fn reads_a_pull_as_the_client_sends_it() {
        // Brief §1.3: HTTP/1.0, Content-Length, Basic.
        let body = "<arms-message><arms-request type=\"x\"></arms-request></arms-message>";
        let raw = format!(
            "POST /arms.cgi HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
             Authorization: Basic MDAwMS0wMDAwOmtleTprZXk=\r\n\r\n{body}",
            body.len()
        );
        let request = read(raw.as_bytes()).await.unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/arms.cgi");
        assert_eq!(request.body, body.as_bytes());
        // The password may hold a colon; the user may not.
        assert_eq!(
            request.basic_auth(),
            Some(("0001-0000".to_owned(), "key:key".to_owned()))
        );
    }

    #[tokio::test]
    async fn reads_a_chunked_request_with_or_without_its_last_chunk() {
        let head = "POST /rs.cgi HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
                    Transfer-Encoding: chunked\r\n\r\n";
        let whole = format!("{head}5;id=1\r\n<arms\r\nA\r\n-message/>\r\n0\r\n\r\n");
        assert_eq!(
            read(whole.as_bytes()).await.unwrap().body,
            b"<arms-message/>"
        );
        // Kept open after the message: answered at its closing tag.
        let open = format!("{head}f\r\n</arms-message>\r\n");
        assert_eq!(read(open.as_bytes()).await.unwrap().body, END_OF_MESSAGE);
        // A chunk size that would overflow is refused, not added.
        let huge = format!("{head}ffffffffffffffff\r\nx");
        assert!(matches!(
            read(huge.as_bytes()).await,
            Err(HttpError::TooLarge)
        ));
    }

    #[tokio::test]
    async fn refuses_what_is_broken_or_too_large() {
        assert!(matches!(
            read(b"POST / HTTP/1.0\r\n").await,
            Err(HttpError::Truncated)
        ));
        assert!(matches!(
            read(b"GARBAGE\r\n\r\n").await,
            Err(HttpError::Malformed(_))
        ));
        let big = format!(
            "POST / HTTP/1.0\r\nContent-Length: {}\r\n\r\n",
            BODY_LIMIT + 1
        );
        assert!(matches!(
            read(big.as_bytes()).await,
            Err(HttpError::TooLarge)
        ));
        let head = vec![b'a'; HEAD_LIMIT + 10];
        assert!(matches!(read(&head).await, Err(HttpError::TooLarge)));
    }

    proptest::proptest! {
        #[test]
        fn reading_survives_any_bytes(
            head in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            tail in "[0-9a-fA-F;\r\n<>/a-z-]{0,200}",
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let mut framed = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            framed.extend_from_slice(tail.as_bytes());
            runtime.block_on(async {
                let _ = read(&head).await;
                let _ = read(&framed).await;
            });
        }
    }

    #[tokio::test]
    async fn writes_a_fixed_length_response_with_title_case_headers() {
        let mut out = Vec::new();
        write_response(&mut out, 200, "OK", "text/xml", b"<arms-message/>")
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 15\r\n\
             Connection: close\r\n\r\n<arms-message/>"
        );
    }
}
