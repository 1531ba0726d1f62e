//! A lean WebSocket subscriber for the fan-out rounds: one raw connection read through
//! one small buffer, frames parsed in place. A full client library costs about twice
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

pub struct WsConn {
    r: BufReader<TcpStream>,
    message: Vec<u8>,
    frame: Vec<u8>,
}

impl WsConn {
    /// Opens `/ws` with a bearer token; fails unless the server switches protocols.
    pub async fn open(addr: &str, token: &str) -> Result<WsConn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        // The key is any 16 bytes in base64; the server's accept value is not checked,
        // since the server under test is the one being measured, not trusted.
        let req = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Authorization: Bearer {token}\r\n\r\n"
        );
        let mut r = BufReader::new(stream);
        r.get_mut().write_all(req.as_bytes()).await?;
        let mut line = String::new();
        r.read_line(&mut line).await?;
        if !line.contains(" 101 ") {
            bail!("WebSocket answered {line:?}");
        }
        loop {
            line.clear();
            if r.read_line(&mut line).await? == 0 {
                bail!("WebSocket closed during the handshake");
            }
            if line == "\r\n" {
                break;
            }
        }
        Ok(WsConn {
            r,
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
