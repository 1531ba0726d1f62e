//! The load generator's raw connections: an SSE stream whose chunks are read as they
//! come, and a lean WebSocket subscriber, one raw connection read through one small
//! buffer, frames parsed in place. A full client library costs about twice
//! the server's CPU per delivered frame, and a load generator that needs more than its
//! core measures itself as much as the server.

use anyhow::{Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const TEXT: u8 = 0x1;
const CONTINUATION: u8 = 0x0;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// Sends `req` on a new connection (no Nagle delay) and reads the answer's head; fails
/// unless its status is `status`. Answers the connection, positioned at the body.
pub async fn request(addr: &str, req: &str, status: u16) -> Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut r = BufReader::new(stream);
    r.get_mut().write_all(req.as_bytes()).await?;
    let mut line = String::new();
    r.read_line(&mut line).await?;
    if !line.contains(&format!(" {status} ")) {
        bail!("{req:.30}… answered {line:?}");
    }
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            bail!("closed before the end of the answer's head");
        }
        if line == "\r\n" {
            return Ok(r);
        }
    }
}

/// One raw SSE connection (chunked HTTP/1.1, as both servers answer).
pub struct SseConn {
    r: BufReader<TcpStream>,
    line: String,
    chunk: Vec<u8>,
}

impl SseConn {
    pub async fn open(
        addr: &str,
        token: &str,
        query: &str,
        last_id: Option<u64>,
    ) -> Result<SseConn> {
        let resume = last_id.map_or(String::new(), |id| format!("Last-Event-ID: {id}\r\n"));
        let req = format!(
            "GET /sse/events{query} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n{resume}\r\n"
        );
        Ok(SseConn {
            r: request(addr, &req, 200).await?,
            line: String::new(),
            chunk: Vec::new(),
        })
    }

    /// The next chunk's text, or None when the stream ended.
    pub async fn next_chunk(&mut self) -> Result<Option<&str>> {
        loop {
            // Chunked transfer: a hex size line, the bytes, CRLF.
            self.line.clear();
            if self.r.read_line(&mut self.line).await? == 0 {
                return Ok(None);
            }
            let size = usize::from_str_radix(self.line.trim(), 16).unwrap_or(0);
            if size == 0 {
                if self.line.trim().is_empty() {
                    continue;
                }
                return Ok(None);
            }
            self.chunk.resize(size + 2, 0);
            self.r.read_exact(&mut self.chunk).await?;
            return Ok(Some(std::str::from_utf8(&self.chunk[..size]).unwrap_or("")));
        }
    }
}

pub struct WsConn {
    r: BufReader<TcpStream>,
    message: Vec<u8>,
    frame: Vec<u8>,
}

impl WsConn {
    /// Opens `/ws` with a bearer token; fails unless the server switches protocols.
    pub async fn open(addr: &str, token: &str) -> Result<WsConn> {
        // The key is any 16 bytes in base64; the server's accept value is not checked,
        // since the server under test is the one being measured, not trusted.
        let req = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Authorization: Bearer {token}\r\n\r\n"
        );
        Ok(WsConn {
            r: request(addr, &req, 101).await?,
            message: Vec::new(),
            frame: Vec::new(),
        })
    }

    /// The next text message, or None when the connection closed.
    pub async fn next_text(&mut self) -> Result<Option<&str>> {
        self.message.clear();
        loop {
            let mut head = [0u8; 2];
            if self.r.read_exact(&mut head).await.is_err() {
                return Ok(None);
            }
            let fin = head[0] & 0x80 != 0;
            let opcode = head[0] & 0x0f;
            if head[1] & 0x80 != 0 {
                bail!("the server masked a frame (RFC 6455 section 5.1 forbids it)");
            }
            let len = match head[1] & 0x7f {
                126 => u64::from(self.r.read_u16().await?),
                127 => self.r.read_u64().await?,
                n => u64::from(n),
            };
            self.frame.resize(usize::try_from(len)?, 0);
            self.r.read_exact(&mut self.frame).await?;
            match opcode {
                TEXT | CONTINUATION => {
                    self.message.extend_from_slice(&self.frame);
                    if fin {
                        return Ok(Some(std::str::from_utf8(&self.message)?));
                    }
                }
                CLOSE => return Ok(None),
                PING => self.pong().await?,
                _ => {}
            }
        }
    }

    /// Answers a ping with its payload, masked (as a client must) with a zero key.
    async fn pong(&mut self) -> Result<()> {
        if self.frame.len() > 125 {
            bail!("a ping of {} bytes (at most 125)", self.frame.len());
        }
        let mut out = vec![0x80 | PONG, 0x80 | self.frame.len() as u8, 0, 0, 0, 0];
        out.extend_from_slice(&self.frame);
        self.r.get_mut().write_all(&out).await?;
        Ok(())
    }
}
