//! A connection that opens with `GET /sse/events`, served without an HTTP server
//! library: its head is parsed here, the router answers it as it answers any request,
//! and the answer's frames are written straight to the socket.
//!
//! A general HTTP/1 connection keeps a read buffer and a write buffer of 8 KiB each for
//! as long as it lives, and polls its body a chunk at a time through its dispatcher; a
//! stream lives for hours, and 10,000 of them kept 150 MiB for buffers that carried one
//! request. Here the head is read into a buffer dropped once parsed, each frame goes out
//! in one vectored write from the bytes every subscriber shares, and the client's side
//! is watched by readiness alone. The connection serves that one request and closes:
//! an event stream is the last request a connection carries anyway.

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::ConnectInfo;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Version};
use http_body_util::BodyExt;
use std::io::{IoSlice, Write};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tower::ServiceExt;

/// The most a request's head may take, and how many headers it may have.
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;

/// Serves the connection's one request; `_stopping` is held until the connection ends
/// (the accept loop's stop waits for every connection's to go).
pub async fn serve(
    mut tcp: TcpStream,
    remote: SocketAddr,
    app: Router,
    permit: OwnedSemaphorePermit,
    header_timeout: Duration,
    _stopping: watch::Receiver<()>,
) {
    let mut req = match tokio::time::timeout(header_timeout, read_head(&tcp)).await {
        Ok(Ok(req)) => req,
        Ok(Err(refusal)) => return refuse(&mut tcp, refusal).await,
        Err(_) => return refuse(&mut tcp, StatusCode::REQUEST_TIMEOUT).await,
    };
    // The first request arrived: from here on this is a live connection.
    drop(permit);
    let http10 = req.version() == Version::HTTP_10;
    req.extensions_mut().insert(ConnectInfo(remote));
    // Boxed: the router's future is needed once, and the task lives for hours.
    let Ok(resp) = Box::pin(app.oneshot(req)).await;
    if let Err(e) = answer(&mut tcp, resp, http10).await {
        tracing::trace!(error = %e, %remote, "event stream ended");
    }
}

/// Reads and parses a request's head; its body, if any, is never read (the connection
/// closes after the answer). Answers the status to refuse it with otherwise.
async fn read_head(tcp: &TcpStream) -> Result<Request<Body>, StatusCode> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        tcp.readable().await.map_err(|_| StatusCode::BAD_REQUEST)?;
        buf.reserve(2048);
        match tcp.try_read_buf(&mut buf) {
            Ok(0) => return Err(StatusCode::BAD_REQUEST),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return Err(StatusCode::BAD_REQUEST),
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => return build(&parsed),
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) | Err(httparse::Error::TooManyHeaders) => {
                return Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
            }
            Err(_) => return Err(StatusCode::BAD_REQUEST),
        }
    }
}

fn build(parsed: &httparse::Request<'_, '_>) -> Result<Request<Body>, StatusCode> {
    let method = Method::from_bytes(parsed.method.unwrap_or("").as_bytes())
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let version = match parsed.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let mut req = Request::builder()
        .method(method)
        .uri(parsed.path.unwrap_or("/"))
        .version(version)
        .body(Body::empty())
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let headers = req.headers_mut();
    for h in parsed.headers.iter() {
        let name =
            HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| StatusCode::BAD_REQUEST)?;
        let value = HeaderValue::from_bytes(h.value).map_err(|_| StatusCode::BAD_REQUEST)?;
        headers.append(name, value);
    }
    Ok(req)
}

/// Answers a request that could not be read, as an HTTP server would, and closes.
async fn refuse(tcp: &mut TcpStream, status: StatusCode) {
    let _ = tcp
        .write_all(&head(status, &HeaderMap::new(), Some(0), false))
        .await;
    let _ = tcp.shutdown().await;
}

/// Writes the router's answer: its head, then its body as the body yields it (chunked,
/// or up to the close for an HTTP/1.0 client), while watching for the client to go.
async fn answer(tcp: &mut TcpStream, resp: Response<Body>, http10: bool) -> std::io::Result<()> {
    let (parts, mut body) = resp.into_parts();
    let length = body.size_hint().exact();
    let chunked = length.is_none() && !http10;
    // The head is written and its parts dropped before the body: the stream's task
    // keeps none of them while it waits.
    let head = head(parts.status, &parts.headers, length, chunked);
    drop(parts);
    tcp.write_all(&head).await?;
    drop(head);
    loop {
        let frame = tokio::select! {
            frame = body.frame() => frame,
            gone = client_gone(tcp) => {
                gone?;
                return Ok(());
            }
        };
        match frame {
            None => break,
            Some(Err(e)) => return Err(std::io::Error::other(e)),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data()
                    && !data.is_empty()
                {
                    send(tcp, data, chunked).await?;
                }
            }
        }
    }
    if chunked {
        tcp.write_all(b"0\r\n\r\n").await?;
    }
    tcp.shutdown().await
}

/// The answer's status line and headers, with its framing and `connection: close`.
fn head(status: StatusCode, headers: &HeaderMap, length: Option<u64>, chunked: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {} {}\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
        .as_bytes(),
    );
    for (name, value) in headers {
        if name == http::header::CONNECTION
            || name == http::header::CONTENT_LENGTH
            || name == http::header::TRANSFER_ENCODING
        {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !headers.contains_key(http::header::DATE) {
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        out.extend_from_slice(format!("date: {date}\r\n").as_bytes());
    }
    match (length, chunked) {
        (Some(n), _) => out.extend_from_slice(format!("content-length: {n}\r\n").as_bytes()),
        (None, true) => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        (None, false) => {}
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out
}

/// Writes one frame: in one vectored write when the socket takes it whole, as it
/// nearly always does; what it does not take is written after, in order.
async fn send(tcp: &mut TcpStream, data: Bytes, chunked: bool) -> std::io::Result<()> {
    if !chunked {
        return tcp.write_all(&data).await;
    }
    // The chunk's size line, formatted on the stack: this runs once per subscriber
    // per event.
    let mut line = [0u8; 18];
    let mut rest = &mut line[..];
    write!(rest, "{:x}\r\n", data.len())?;
    let left = rest.len();
    let size = line.len() - left;
    let parts: [&[u8]; 3] = [&line[..size], &data, b"\r\n"];
    let mut written = match tcp.try_write_vectored(&parts.map(IoSlice::new)) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
        Err(e) => return Err(e),
    };
    for part in parts {
        if written >= part.len() {
            written -= part.len();
            continue;
        }
        tcp.write_all(&part[written..]).await?;
        written = 0;
    }
    Ok(())
}

/// Resolves when the client closed its side (or the socket failed); bytes it sends
/// meanwhile are read and dropped, since this connection serves no second request.
async fn client_gone(tcp: &TcpStream) -> std::io::Result<()> {
    loop {
        tcp.readable().await?;
        let mut sink = [0u8; 256];
        match tcp.try_read(&mut sink) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}
