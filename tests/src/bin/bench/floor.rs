//! The floor: the same frame written to the same number of loopback sockets by the
//! simplest loop there is (non-blocking writes, `TCP_NODELAY`, one after the other), in
//! its own process on the gateway's CPU, while this process reads on the other. Nothing
//! that writes once per subscriber does better on one core, so every fan-out figure reads
//! as a ratio to it.

use anyhow::{Context, Result, bail};
use std::io::{ErrorKind, Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The subcommand that runs the writer: `bench floor-writer ADDR SOCKETS EVENTS BYTES`.
pub const WRITER: &str = "floor-writer";

pub struct Floor {
    pub sockets: usize,
    pub bytes: usize,
    /// The writer's loop time per write.
    pub per_write_us: f64,
    /// The median over the events of the time the loop took to reach the last socket.
    pub last_p50_ms: f64,
}

/// Starts the writer (pinned to `cpu` when given), accepts its sockets, reads every byte
/// it writes, and checks that each socket got all of them.
pub async fn measure(
    sockets: usize,
    events: usize,
    bytes: usize,
    cpu: Option<&str>,
) -> Result<Floor> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let exe = std::env::current_exe()?;
    let mut cmd = match cpu {
        Some(c) => {
            let mut t = tokio::process::Command::new("taskset");
            t.args(["-c", c]).arg(exe);
            t
        }
        None => tokio::process::Command::new(exe),
    };
    let mut child = cmd
        .args([
            WRITER,
            &addr,
            &sockets.to_string(),
            &events.to_string(),
            &bytes.to_string(),
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting the floor's writer")?;
    let want = events * bytes;
    let mut readers = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        let (mut s, _) = tokio::time::timeout(Duration::from_secs(60), listener.accept())
            .await
            .context("the floor's writer did not connect in time")??;
        readers.push(tokio::spawn(async move {
            // One byte says the socket is accepted; then read until all has come.
            s.write_all(b"!").await?;
            let mut buf = vec![0u8; 4096];
            let mut got = 0;
            while got < want {
                let n = s.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                got += n;
            }
            Ok::<_, std::io::Error>(got)
        }));
    }
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
        .await
        .context("the floor's writer did not finish in time")??
        .context("the floor's writer printed nothing")?;
    let mut short = 0;
    for r in readers {
        if r.await?? < want {
            short += 1;
        }
    }
    if short > 0 {
        bail!("the floor: {short} sockets did not get every frame");
    }
    let mut fields = line.split_whitespace().skip(1).map(str::parse::<f64>);
    match (fields.next(), fields.next()) {
        (Some(Ok(per_write_us)), Some(Ok(last_p50_ms))) => Ok(Floor {
            sockets,
            bytes,
            per_write_us,
            last_p50_ms,
        }),
        _ => bail!("the floor's writer said {line:?}"),
    }
}

/// The writer's process: connects, waits for each socket's accept, then writes one
/// frame to every socket per event, one event every 100 ms as the fan-out rounds do.
pub fn writer(args: &[String]) -> Result<()> {
    let [addr, sockets, events, bytes] = args else {
        bail!("usage: bench {WRITER} ADDR SOCKETS EVENTS BYTES");
    };
    let (sockets, events, bytes): (usize, usize, usize) =
        (sockets.parse()?, events.parse()?, bytes.parse()?);
    let mut conns = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        let s = std::net::TcpStream::connect(addr.as_str())?;
        s.set_nodelay(true)?;
        conns.push(s);
    }
    for s in &mut conns {
        let mut one = [0u8; 1];
        s.read_exact(&mut one)?;
        s.set_nonblocking(true)?;
    }
    // An SSE event's frame of the given size.
    let mut frame = b"data: ".to_vec();
    frame.resize(bytes.saturating_sub(2).max(6), b'x');
    frame.extend_from_slice(b"\n\n");
    frame.truncate(bytes);
    let mut loops = Vec::with_capacity(events);
    for _ in 0..events {
        let t0 = Instant::now();
        for s in &mut conns {
            write_all(s, &frame)?;
        }
        loops.push(t0.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
    let total: Duration = loops.iter().sum();
    loops.sort();
    println!(
        "floor {:.3} {:.3}",
        total.as_secs_f64() * 1e6 / (sockets * events) as f64,
        loops[loops.len() / 2].as_secs_f64() * 1e3
    );
    Ok(())
}

fn write_all(s: &mut std::net::TcpStream, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        match s.write(buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::hint::spin_loop(),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
