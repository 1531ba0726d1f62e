//! `bench`: starts the local gateway (embedded backend, pinned to CPU 0 when the machine
//! has two or more) and drives it over loopback like real clients, from CPU 1: live
//! scoring, SSE and WebSocket fan-out, webhook ingest, and an auction race; then the seed
//! peer (`BENCH_SEED_DIR`, the seed's design as a Node server) under the same SSE and
//! ingest load, and the floor (the same frame written to as many sockets by the simplest
//! loop). Prints a table, the three side by side, and one JSON line. Every loop is
//! bounded in count and time. `make bench` runs it in the `gateway` profile.
//!
//! Options (environment): `BENCH_FANOUT` (subscriber counts, default `1000,10000`),
//! `BENCH_TRANSPORTS` (`sse,ws`),
//! `BENCH_EVENTS` (50), `BENCH_INGEST_SECONDS` (10), `BENCH_BALLS` (200),
//! `BENCH_BIDDERS` (200), `BENCH_AUCTION_SECONDS` (30), `BENCH_INGEST_RATE` (5000) and
//! `BENCH_PACED_SECONDS` (30) for the paced ingest, `BENCH_FLOOR_BYTES` (512),
//! `BENCH_SEED_DIR` (unset: no seed figures), `BENCH_LAMBDA_INVOCATIONS`
//! (200), `BENCH_POLL_SECONDS` (30) and `BENCH_POLL_EVENTS` (20) for the polling SSE
//! viewer's DynamoDB requests. The Lambda and polling figures need the emulator:
//! `make bench` starts moto and sets `AWS_ENDPOINT_URL`; without it they are skipped.

mod floor;
mod peer;
mod raw;

use anyhow::{Context, Result, bail};
use pitchside_tests::*;
use raw::SseConn;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const PHONE_B: &str = "900000000000002";
const PHONE_C: &str = "900000000000003";
const WA: &str = "16505550001";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Percentiles of a sample, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    p50: f64,
    p99: f64,
    max: f64,
    n: usize,
}

fn stats(mut ms: Vec<f64>) -> Stats {
    if ms.is_empty() {
        return Stats::default();
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    Stats {
        p50: at(0.50),
        p99: at(0.99),
        max: *ms.last().unwrap(),
        n: ms.len(),
    }
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Pins this process to `cpu` (best effort).
fn pin_self(cpu: &str) {
    let _ = std::process::Command::new("taskset")
        .args(["-p", "-c", cpu, &std::process::id().to_string()])
        .output();
}

/// What a subscriber saw: each event's index (from its message id), when it arrived,
/// and the organization its message id names.
type Seen = Vec<(u64, Instant, String)>;

/// The bench's WhatsApp message ids read `wamid.{org}.{round}.{n}.{index}`, and both
/// servers carry them in each event's data (Pitchside's `payload.messageId`, the seed's
/// `messages[].id`), so one parse serves both without decoding the JSON.
fn wamid(org: &str, round: &str, n: usize, index: usize) -> String {
    format!("wamid.{org}.{round}.{n}.{index}")
}

/// The organization and index of the bench message an event's text carries.
fn wamid_key(text: &str) -> Option<(String, u64)> {
    let rest = text.split("\"wamid.").nth(1)?;
    let id = rest.split('"').next()?;
    let parts: Vec<&str> = id.split('.').collect();
    match parts.as_slice() {
        [org, _, _, index] => Some((org.to_string(), index.parse().ok()?)),
        _ => None,
    }
}

/// The last `id:` of an SSE chunk, for resuming.
fn last_sse_id(text: &str) -> Option<u64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .filter_map(|i| i.trim().parse().ok())
        .next_back()
}

/// A lean SSE subscriber over one raw connection: records when each event arrives.
/// `permit` is held until the stream is open, so a crowd connects a few at a time.
async fn sse_subscriber(
    addr: String,
    token: String,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ready: Arc<tokio::sync::Barrier>,
    want: usize,
    patience: Duration,
) -> Result<Seen> {
    let mut conn = SseConn::open(&addr, &token, "", None).await?;
    drop(permit);
    ready.wait().await;
    let mut got = Vec::with_capacity(want);
    let deadline = Instant::now() + patience;
    while got.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(chunk) = tokio::time::timeout(left, conn.next_chunk()).await else {
            break;
        };
        let Some(text) = chunk? else { break };
        let now = Instant::now();
        // One event per chunk from both servers; a heartbeat carries no message id.
        for event in text.split("\n\n") {
            if let Some((org, i)) = wamid_key(event) {
                got.push((i, now, org));
            }
        }
    }
    Ok(got)
}

/// A lean WebSocket subscriber: records when each event arrives.
async fn ws_subscriber(
    addr: String,
    token: String,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ready: Arc<tokio::sync::Barrier>,
    want: usize,
    patience: Duration,
) -> Result<Seen> {
    let mut ws = raw::WsConn::open(&addr, &token).await?;
    drop(permit);
    ready.wait().await;
    let mut got = Vec::with_capacity(want);
    let deadline = Instant::now() + patience;
    while got.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(text) = tokio::time::timeout(left, ws.next_text()).await else {
            break;
        };
        let Some(text) = text? else { break };
        let now = Instant::now();
        if let Some((org, i)) = wamid_key(text) {
            got.push((i, now, org));
        }
    }
    Ok(got)
}

/// A server under the bench's load: the gateway, or the seed peer.
pub struct Server {
    pub name: &'static str,
    pub addr: String,
    pub pid: u32,
    /// Where its WhatsApp webhook is.
    pub webhook: &'static str,
}

impl Server {
    fn of(gw: &Gateway) -> Result<Server> {
        Ok(Server {
            name: "pitchside",
            addr: gw.addr.clone(),
            pid: gw.pid().context("gateway pid")?,
            webhook: "/whatsapp/webhook",
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// CPU time (user and system) a process has used so far, in seconds, from
/// `/proc/<pid>/stat` (`self` for this one); its clock ticks are 10 ms.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// CPU used over a stretch of wall time, by a server and by this load generator.
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    server_s: f64,
    load_s: f64,
    wall_s: f64,
}

impl Cpu {
    fn start(pid: u32) -> (f64, f64, Instant) {
        (
            cpu_seconds(&pid.to_string()).unwrap_or(0.0),
            cpu_seconds("self").unwrap_or(0.0),
            Instant::now(),
        )
    }

    fn since(pid: u32, (server, load, at): (f64, f64, Instant)) -> Cpu {
        Cpu {
            server_s: cpu_seconds(&pid.to_string()).unwrap_or(0.0) - server,
            load_s: cpu_seconds("self").unwrap_or(0.0) - load,
            wall_s: at.elapsed().as_secs_f64(),
        }
    }

    /// The load generator's share of its one core: near 100% it, not the server, may
    /// be what the figures measure.
    fn load_share(&self) -> f64 {
        if self.wall_s > 0.0 {
            self.load_s / self.wall_s
        } else {
            0.0
        }
    }

    fn load_note(&self) -> String {
        let share = self.load_share() * 100.0;
        let saturated = if share >= 90.0 {
            " (SATURATED: the figures measure the load generator too)"
        } else {
            ""
        };
        format!("load generator {share:.0}% of its core{saturated}")
    }
}

struct Fanout {
    server: &'static str,
    transport: &'static str,
    subscribers: usize,
    latency: Stats,
    last_subscriber_p50: f64,
    delivered: usize,
    expected: usize,
    control_leaks: usize,
    /// Resident memory per connection, idle (just connected) and after the events.
    rss_per_conn_kib: f64,
    rss_after_per_conn_kib: f64,
    /// Webhook acknowledgement while it fans out.
    ack: Stats,
    cpu: Cpu,
}

impl Fanout {
    fn server_us_per_delivery(&self) -> f64 {
        self.cpu.server_s * 1e6 / self.delivered.max(1) as f64
    }

    fn load_us_per_delivery(&self) -> f64 {
        self.cpu.load_s * 1e6 / self.delivered.max(1) as f64
    }
}

/// `n` subscribers of `org` (and 100 of org B, who must see only their own), then
/// `events` webhooks for `org` through `phone`, one every 100 ms.
async fn fanout(
    server: &Server,
    transport: &'static str,
    n: usize,
    events: usize,
    org: &str,
    phone: &str,
) -> Result<Fanout> {
    let t_a = token(JWT_SECRET, org, &format!("admin-{org}"), &["admin"]);
    let t_b = token(JWT_SECRET, "org-b", "admin-org-b", &["admin"]);
    let control = 100;
    let ready = Arc::new(tokio::sync::Barrier::new(n + control + 1));
    let pid = server.pid;
    let before = rss_kib(pid).unwrap_or(0);
    let patience = Duration::from_secs(60);
    let mut tasks = Vec::with_capacity(n + control);
    // Connected a few hundred at a time, as a crowd arrives.
    let gate = Arc::new(tokio::sync::Semaphore::new(256));
    for i in 0..n + control {
        let tok = if i < n { t_a.clone() } else { t_b.clone() };
        let addr = server.addr.clone();
        let want = if i < n { events } else { 1 };
        let ready = ready.clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.ok();
            match transport {
                "sse" => sse_subscriber(addr, tok, permit, ready, want, patience).await,
                _ => ws_subscriber(addr, tok, permit, ready, want, patience).await,
            }
        }));
    }
    tokio::time::timeout(Duration::from_secs(180), ready.wait())
        .await
        .context("the subscribers did not all connect in time")?;
    let after = rss_kib(pid).unwrap_or(0);
    let cpu = Cpu::start(pid);
    let mut sent = Vec::with_capacity(events);
    let mut acks = Vec::with_capacity(events);
    let client = reqwest::Client::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for i in 0..events {
        tick.tick().await;
        let body = text_message(phone, WA, &wamid(org, transport, n, i), "x");
        let t0 = Instant::now();
        let resp = client
            .post(server.url(server.webhook))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign(APP_SECRET, &body))
            .body(body)
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("webhook answered {}", resp.status());
        }
        acks.push(t0.elapsed().as_secs_f64() * 1000.0);
        sent.push(t0);
    }
    // The control group's marker: the first event they see must be org B's own.
    let marker = text_message(PHONE_B, WA, &wamid("org-b", transport, n, 0), "b");
    client
        .post(server.url(server.webhook))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign(APP_SECRET, &marker))
        .body(marker)
        .send()
        .await?;
    let mut latencies = Vec::with_capacity(n * events);
    let mut last = vec![Duration::ZERO; events];
    let mut delivered = 0;
    let mut leaks = 0;
    let mut results = Vec::with_capacity(tasks.len());
    for t in tasks {
        results.push(t.await??);
    }
    let cpu = Cpu::since(pid, cpu);
    let after_events = rss_kib(pid).unwrap_or(0);
    for (i, got) in results.into_iter().enumerate() {
        if i >= n {
            // The control group must see only its own organization's marker.
            leaks += got.iter().filter(|(_, _, o)| o != "org-b").count();
            continue;
        }
        for (k, at, o) in got {
            let k = k as usize;
            if o == org && k < events {
                delivered += 1;
                let d = at.duration_since(sent[k]);
                latencies.push(d.as_secs_f64() * 1000.0);
                last[k] = last[k].max(d);
            }
        }
    }
    let last_ms: Vec<f64> = last.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    let conns = (n + control) as f64;
    Ok(Fanout {
        server: server.name,
        transport,
        subscribers: n,
        latency: stats(latencies),
        last_subscriber_p50: stats(last_ms).p50,
        delivered,
        expected: n * events,
        control_leaks: leaks,
        rss_per_conn_kib: after.saturating_sub(before) as f64 / conns,
        rss_after_per_conn_kib: after_events.saturating_sub(before) as f64 / conns,
        ack: stats(acks),
        cpu,
    })
}

struct Ingest {
    server: &'static str,
    /// The schedule's rate, if it had one.
    rate: Option<f64>,
    acked: u64,
    seconds: f64,
    latency: Stats,
    /// Acknowledged webhooks a live subscriber got within the run and 15 s.
    live: u64,
    /// From the webhook POST to the live subscriber's receipt.
    delivery: Stats,
    /// Pitchside's, once the worker drained the queue: the run's distinct messages in
    /// the log, and those there twice.
    durable: Option<(u64, u64)>,
    cpu: Cpu,
}

/// A live subscriber of org C through an ingest: resumes from its last id when the
/// server cuts it off (a subscriber that falls a ring behind is, on Pitchside), and
/// stops at `until` or once it has `target` events.
async fn ingest_viewer(
    addr: String,
    token: String,
    mine: String,
    opened: tokio::sync::oneshot::Sender<()>,
    target: Arc<AtomicU64>,
    until: Instant,
) -> Result<Vec<(u64, Instant)>> {
    let mut got = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut last_id = None;
    let mut conn = SseConn::open(&addr, &token, "", None).await?;
    let _ = opened.send(());
    loop {
        if seen.len() as u64 >= target.load(Ordering::Relaxed) || Instant::now() >= until {
            return Ok(got);
        }
        let left = until.saturating_duration_since(Instant::now());
        // Checks the target at least every second while nothing comes.
        let next = tokio::time::timeout(left.min(Duration::from_secs(1)), conn.next_chunk()).await;
        match next {
            Err(_) => continue,
            Ok(Ok(Some(text))) => {
                let now = Instant::now();
                last_id = last_sse_id(text).or(last_id);
                for event in text.split("\n\n") {
                    if event.contains(&mine)
                        && let Some((_, i)) = wamid_key(event)
                        && seen.insert(i)
                    {
                        got.push((i, now));
                    }
                }
            }
            Ok(_) => conn = SseConn::open(&addr, &token, "", last_id).await?,
        }
    }
}

/// `senders` webhooks in flight at most, as fast as they are answered, or, with `rate`,
/// each sent at its time on a schedule of `rate` a second (while fewer than 32 wait).
async fn ingest(
    server: &Server,
    gw: Option<&Gateway>,
    seconds: u64,
    rate: Option<f64>,
) -> Result<Ingest> {
    // Each run's own message ids: Pitchside would take a second run's as redeliveries.
    let tag: &'static str = if rate.is_some() { "paced" } else { "ingest" };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let t = token(JWT_SECRET, "org-c", "admin-org-c", &["admin"]);
    let target = Arc::new(AtomicU64::new(u64::MAX));
    let until = Instant::now() + Duration::from_secs(seconds + 15);
    let (opened, open) = tokio::sync::oneshot::channel();
    let viewer = tokio::spawn(ingest_viewer(
        server.addr.clone(),
        t.clone(),
        format!("\"wamid.org-c.{tag}."),
        opened,
        target.clone(),
        until,
    ));
    open.await.context("the ingest's viewer did not connect")?;
    let acked = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(Mutex::new(std::collections::HashMap::new()));
    let seq = Arc::new(AtomicUsize::new(0));
    let cpu = Cpu::start(server.pid);
    let stop = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..32 {
        let (client, acked, sent, seq) = (client.clone(), acked.clone(), sent.clone(), seq.clone());
        let url = server.url(server.webhook);
        senders.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while Instant::now() < stop {
                let i = seq.fetch_add(1, Ordering::Relaxed);
                if let Some(rate) = rate {
                    let due = started + Duration::from_secs_f64(i as f64 / rate);
                    if due >= stop {
                        break;
                    }
                    tokio::time::sleep_until(due.into()).await;
                }
                let body = text_message(PHONE_C, WA, &wamid("org-c", tag, 0, i), "in");
                let t0 = Instant::now();
                let ok = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", sign(APP_SECRET, &body))
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                if ok {
                    mine.push((i as u64, t0, t0.elapsed()));
                    acked.fetch_add(1, Ordering::Relaxed);
                }
            }
            sent.lock()
                .await
                .extend(mine.into_iter().map(|(i, t0, d)| (i, (t0, d))));
        }));
    }
    for s in senders {
        s.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let acked = acked.load(Ordering::Relaxed);
    target.store(acked, Ordering::Relaxed);
    let got = viewer.await??;
    let cpu = Cpu::since(server.pid, cpu);
    let sent = std::mem::take(&mut *sent.lock().await);
    let latencies = sent
        .values()
        .map(|(_, d)| d.as_secs_f64() * 1000.0)
        .collect();
    let delivery: Vec<f64> = got
        .iter()
        .filter_map(|(i, at)| {
            sent.get(i)
                .map(|(t0, _)| at.duration_since(*t0).as_secs_f64() * 1000.0)
        })
        .collect();
    let live = delivery.len() as u64;
    let durable = match gw {
        Some(gw) => Some(durable_count(gw, &t, acked, tag).await?),
        None => None,
    };
    Ok(Ingest {
        server: server.name,
        rate,
        acked,
        seconds: elapsed,
        latency: stats(latencies),
        live,
        delivery: stats(delivery),
        durable,
        cpu,
    })
}

/// Every acknowledged webhook of this run (its `tag`) becomes one event in org C's log
/// once the worker has drained the queue (bounded: it must keep making progress).
/// Answers the run's distinct messages in the log, and how many were there twice.
async fn durable_count(gw: &Gateway, t: &str, acked: u64, tag: &str) -> Result<(u64, u64)> {
    let mine = format!("\"wamid.org-c.{tag}.");
    let mut seen = std::collections::HashSet::new();
    let (mut twice, mut after, mut idle_since) = (0u64, 0u64, Instant::now());
    while (seen.len() as u64) < acked && idle_since.elapsed() < Duration::from_secs(30) {
        let page = gw.catch_up(t, &format!("after={after}&limit=1000")).await?;
        let events = page["data"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        for e in &events {
            let text = e.to_string();
            if text.contains(&mine)
                && let Some((_, i)) = wamid_key(&text)
                && !seen.insert(i)
            {
                twice += 1;
            }
        }
        after = page["next"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(after);
        idle_since = Instant::now();
    }
    Ok((seen.len() as u64, twice))
}

async fn scoring(gw: &Gateway, balls: u32) -> Result<Stats> {
    let admin = token(
        JWT_SECRET,
        "org-s",
        "admin-org-s",
        &["admin", "scorer", "viewer"],
    );
    let players = |p: &str| (1..=11).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
    let setup = json!({"name": "bench", "oversPerInnings": 50, "teams": [
        {"id": "t_a", "name": "A", "players": players("a")},
        {"id": "t_b", "name": "B", "players": players("b")}]});
    let (code, body) = gw
        .call("PUT", "/matches/m-bench", &admin, Some(setup))
        .await?;
    if code != 200 {
        bail!("PUT match: {code} {body}");
    }
    let mut sse =
        SseClient::connect(&gw.url("/sse/events?matchId=m-bench"), Some(&admin), None).await?;
    let client = reqwest::Client::new();
    let mut ms = Vec::new();
    for seq in 1..=balls {
        let ball = json!({"seq": seq, "innings": 1, "over": (seq - 1) / 6, "batter": "a1",
            "bowler": if ((seq - 1) / 6) % 2 == 0 { "b1" } else { "b2" }, "non_striker": "a2",
            "runs": {"batter": 0, "extras": 0, "total": 0}});
        let t0 = Instant::now();
        let resp = client
            .post(gw.url("/matches/m-bench/balls"))
            .bearer_auth(&admin)
            .json(&ball)
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("ball {seq}: {}", resp.text().await?);
        }
        loop {
            let e = sse.next_frame().await?.json();
            if e["payload"]["version"] == seq {
                break;
            }
        }
        ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        drop(resp);
    }
    Ok(stats(ms))
}

/// The auction race's figures.
struct AuctionRun {
    bidders: usize,
    seconds: f64,
    /// Bids answered with an ack or a rule's refusal.
    validated: usize,
    accepted: usize,
    ack: Stats,
    /// One accepted bid per step, and every client's events and final state agree.
    consistent: bool,
    problems: Vec<String>,
}

/// One bidder: bids the next step for its team, as fast as the answers come, until
/// the race's time is up; then reads the room until the lot's close. Answers its accepted versions,
/// latencies, the versions of the bid events it saw, and the close it saw.
async fn bidder(
    addr: String,
    token: String,
    team: String,
    start: Arc<tokio::sync::Barrier>,
    race: Duration,
) -> Result<(Vec<u64>, Vec<f64>, usize, Vec<u64>, Value)> {
    let mut ws = ws_connect(&addr, Some(&token))
        .await
        .map_err(|c| anyhow::anyhow!("ws connect: {c}"))?;
    let mut seen = Vec::new();
    let mut accepted = Vec::new();
    let mut latencies = Vec::new();
    let mut validated = 0usize;
    let mut next: u64 = 2_000_000;
    let mut n = 0u64;
    // Reads until the reply to `rid`, keeping the versions of the bid events on the way.
    async fn reply(ws: &mut Ws, rid: &str, seen: &mut Vec<u64>) -> Result<Option<Value>> {
        loop {
            let m = ws_next(ws).await?;
            if m["requestId"] == rid {
                return Ok(Some(m));
            }
            match m["type"].as_str() {
                Some("auction.bid.placed") => {
                    seen.push(m["payload"]["version"].as_u64().unwrap_or(0))
                }
                Some("auction.lot.closed") => bail!("the lot closed while bidding"),
                _ => {}
            }
        }
    }
    ws_send(
        &mut ws,
        json!({"action": "join_auction", "auctionId": "race", "requestId": "join"}),
    )
    .await?;
    let joined = reply(&mut ws, "join", &mut seen).await?.context("join")?;
    if let Some(b) = joined["state"]["lot"]["nextBid"].as_u64() {
        next = b;
    }
    // Everyone is in the room before anyone bids, so every client can see every bid.
    start.wait().await;
    let until = Instant::now() + race;
    while Instant::now() < until {
        n += 1;
        let rid = format!("b{n}");
        let t0 = Instant::now();
        ws_send(
            &mut ws,
            json!({"action": "place_bid", "auctionId": "race", "playerId": "p_1",
            "teamId": team, "amount": next, "requestId": rid}),
        )
        .await?;
        let r = reply(&mut ws, &rid, &mut seen).await?.context("reply")?;
        latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
        match (r["type"].as_str(), r["code"].as_str()) {
            (Some("ack"), _) => {
                validated += 1;
                accepted.push(r["state"]["lot"]["bids"].as_u64().unwrap_or(0));
            }
            (Some("error"), Some("bid_too_low" | "own_bid" | "bid_off_step")) => validated += 1,
            _ => bail!("unexpected answer {r}"),
        }
        next = r["state"]["lot"]["nextBid"].as_u64().unwrap_or(next);
        if r["code"] == "own_bid" {
            // Wait for someone else to bid (or the close) before trying again.
            loop {
                let m = ws_next(&mut ws).await?;
                match m["type"].as_str() {
                    Some("auction.bid.placed") => {
                        seen.push(m["payload"]["version"].as_u64().unwrap_or(0));
                        next = m["payload"]["nextBid"].as_u64().unwrap_or(next);
                        break;
                    }
                    Some("auction.lot.closed") => {
                        return Ok((accepted, latencies, validated, seen, m["payload"].clone()));
                    }
                    _ => {}
                }
            }
        }
    }
    let closed = loop {
        let m = ws_next(&mut ws).await?;
        match m["type"].as_str() {
            Some("auction.bid.placed") => seen.push(m["payload"]["version"].as_u64().unwrap_or(0)),
            Some("auction.lot.closed") => break m["payload"].clone(),
            _ => {}
        }
    };
    Ok((accepted, latencies, validated, seen, closed))
}

/// `bidders` WebSocket clients of 20 teams race for one lot for `seconds`.
async fn auction(gw: &Gateway, bidders: usize, seconds: u64) -> Result<AuctionRun> {
    const TEAMS: usize = 20;
    gw.seed_org("org-a", "900000000000007", "16505550007")
        .await?;
    gw.admin_put(
        "/admin/organizations/org-a/members/auc",
        json!({"roles": ["auctioneer"]}),
    )
    .await?;
    for t in 0..TEAMS {
        gw.admin_put(
            &format!("/admin/organizations/org-a/members/own-{t}"),
            json!({"roles": ["team_owner"], "teamId": format!("t_{t}")}),
        )
        .await?;
    }
    let auc = token(JWT_SECRET, "org-a", "auc", &["auctioneer"]);
    let teams: Vec<Value> = (0..TEAMS)
        .map(|t| json!({"id": format!("t_{t}"), "name": format!("T{t}"), "purse": 1_000_000_000_000_000u64}))
        .collect();
    let setup = json!({"name": "race", "teams": teams, "squad": {"min": 0, "max": 25, "overseasMax": 8},
        "lotSeconds": 900, "softCloseSeconds": 10});
    for (method, path, body) in [
        ("PUT", "/auctions/race", Some(setup)),
        (
            "PUT",
            "/auctions/race/players/p_1",
            Some(json!({"name": "P1", "basePrice": 2_000_000})),
        ),
        (
            "POST",
            "/auctions/race/lots",
            Some(json!({"playerId": "p_1"})),
        ),
    ] {
        let (code, body) = gw.call(method, path, &auc, body).await?;
        if code != 200 {
            bail!("{method} {path}: {code} {body}");
        }
    }
    let start = Arc::new(tokio::sync::Barrier::new(bidders + 1));
    let tasks: Vec<_> = (0..bidders)
        .map(|i| {
            let t = i % TEAMS;
            tokio::spawn(bidder(
                gw.addr.clone(),
                token(JWT_SECRET, "org-a", &format!("own-{t}"), &["team_owner"]),
                format!("t_{t}"),
                start.clone(),
                Duration::from_secs(seconds),
            ))
        })
        .collect();
    start.wait().await;
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    // Close once every bidder has stopped bidding: after `until`, the last replies.
    tokio::time::sleep_until((until + Duration::from_millis(500)).into()).await;
    let (code, body) = gw
        .call("POST", "/auctions/race/lots/current/close", &auc, None)
        .await?;
    if code != 200 {
        bail!("close: {code} {body}");
    }
    let elapsed = started.elapsed().as_secs_f64().min(seconds as f64);
    let mut versions = Vec::new();
    let mut latencies = Vec::new();
    let mut validated = 0;
    let mut problems = Vec::new();
    let mut closes = Vec::new();
    let mut views = Vec::new();
    for t in tasks {
        let (acc, lat, val, seen, closed) = t.await??;
        versions.extend(acc);
        latencies.extend(lat);
        validated += val;
        closes.push(closed);
        views.push(seen);
    }
    versions.sort_unstable();
    let accepted = versions.len();
    if versions != (1..=accepted as u64).collect::<Vec<_>>() {
        problems.push("accepted versions are not exactly 1..N, once each".into());
    }
    let all: Vec<u64> = (1..=accepted as u64).collect();
    if views.iter().any(|v| *v != all) {
        problems.push("a client did not see every bid event, in order".into());
    }
    if closes.iter().any(|c| *c != closes[0]) || closes[0]["version"] != accepted as u64 {
        problems.push("clients ended on different states".into());
    }
    Ok(AuctionRun {
        bidders,
        seconds: elapsed,
        validated,
        accepted,
        ack: stats(latencies),
        consistent: problems.is_empty(),
        problems,
    })
}

/// One Lambda function's figures.
struct LambdaRun {
    name: &'static str,
    bytes: u64,
    /// The arm64 `bootstrap` of `sam build`, when one has been built.
    arm64_bytes: Option<u64>,
    /// Process start to its first poll of `/next`: Lambda's "Init Duration" (the
    /// median over the cold starts, and the slowest).
    init_ms: f64,
    init_max_ms: f64,
    /// Process start to the first invocation's reply: init plus the first invocation,
    /// whose time is mostly the emulator's answers to the function's first calls.
    cold_ms: f64,
    /// CPU time (user + system) per warm invocation; `None` for a streaming function.
    cpu_ms: Option<f64>,
}

fn sample(name: &str) -> Result<Value> {
    let path = format!("{}/../infra/events/{name}", env!("CARGO_MANIFEST_DIR"));
    Ok(serde_json::from_str(
        &std::fs::read_to_string(&path).context(path)?,
    )?)
}

/// User plus system CPU time of a process so far, in milliseconds.
fn cpu_ms(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0) // USER_HZ is 100 on Linux
}

/// What one SSE viewer following by polling (the `sse` function's path, run in the
/// gateway with `PITCHSIDE_SSE_FOLLOW=poll` against moto) costs in DynamoDB requests,
/// counted by moto's request recorder.
struct PollReads {
    idle_seconds: f64,
    idle_requests: usize,
    busy_events: usize,
    busy_requests_per_minute: f64,
}

const PHONE_P: &str = "900000000000009";

/// DynamoDB requests moto receives while `during` runs.
async fn dynamodb_requests<T>(
    during: impl std::future::Future<Output = Result<T>>,
) -> Result<(usize, T)> {
    let (by_action, out) = pitchside_tests::push_sim::moto_requests(during).await?;
    let count = by_action
        .iter()
        .filter(|(action, _)| action.starts_with("DynamoDB_"))
        .map(|(_, n)| n)
        .sum();
    Ok((count, out))
}

async fn sse_poll_reads(idle: Duration, events: usize) -> Result<PollReads> {
    let mut env = Env::new(Mode::Aws).await;
    env.vars
        .push(("PITCHSIDE_SSE_FOLLOW".into(), "poll".into()));
    env.vars
        .push(("PITCHSIDE_SSE_POLL_MS".into(), "1000".into()));
    let gw = env.start().await;
    gw.seed_org("org-poll", PHONE_P, WA).await?;
    let t = token(JWT_SECRET, "org-poll", "admin-org-poll", &["viewer"]);
    let url = gw.url("/sse/events");
    let viewer = || SseClient::connect(&url, Some(&t), None);

    // Idle: a viewer and nothing happening.
    let sse = viewer().await?;
    let started = Instant::now();
    let (idle_requests, ()) = dynamodb_requests(async {
        tokio::time::sleep(idle).await;
        Ok(())
    })
    .await?;
    let idle_seconds = started.elapsed().as_secs_f64();
    drop(sse);

    // Busy: events with a second's pause after each, a WebSocket client to know when each has been
    // pushed; once without the viewer and once with it, so the worker's own requests
    // (the same both times) cancel out.
    let mut busy = Vec::new();
    for with_viewer in [false, true] {
        let mut ws = ws_connect(&gw.addr, Some(&t))
            .await
            .map_err(|c| anyhow::anyhow!("ws {c}"))?;
        ws_send(&mut ws, json!({"action": "ping", "requestId": "r"})).await?;
        ws_next(&mut ws).await?;
        let mut sse = match with_viewer {
            true => Some(viewer().await?),
            false => None,
        };
        let round = busy.len();
        let started = Instant::now();
        let (n, ()) = dynamodb_requests(async {
            for i in 0..events {
                gw.send_text(PHONE_P, WA, &format!("wamid.poll{round}.{i}"), "tick")
                    .await?;
                ws_next(&mut ws).await?;
                if let Some(sse) = sse.as_mut() {
                    sse.next_frame().await?;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(())
        })
        .await?;
        busy.push((n, started.elapsed().as_secs_f64()));
        drop(sse);
    }
    let ((without, _), (with, seconds)) = (busy[0], busy[1]);
    gw.kill().await?;
    Ok(PollReads {
        idle_seconds,
        idle_requests,
        busy_events: events,
        busy_requests_per_minute: with.saturating_sub(without) as f64 * 60.0 / seconds,
    })
}

/// Each function binary run as Lambda runs it (the Runtime API harness), against the
/// emulator at `AWS_ENDPOINT_URL`: its size, its cold start (process start to its
/// first poll of `/next`, which Lambda reports as the init duration, and to the first
/// completed invocation of its sample event) and its CPU time per invocation.
async fn lambdas(cold_starts: usize, warm: usize) -> Result<Vec<LambdaRun>> {
    use pitchside_tests::runtime_api::{Chunk, RuntimeApi};
    let env = Env::new(Mode::Aws).await;
    let meta = sample("sample-env.json")?;
    let mut vars = env.vars.clone();
    for (k, v) in meta["values"].as_object().context("sample values")? {
        vars.push((k.clone(), v.as_str().unwrap_or_default().to_string()));
    }
    vars.push(("PITCHSIDE_SSE_LIFETIME_SECONDS".into(), "5".into()));
    // The worker's sample batch has a malformed record on purpose: keep its warning quiet.
    vars.push(("RUST_LOG".into(), "error".into()));
    // The sample organization, as the sample events expect it.
    let gw = env.start().await;
    let org = meta["organization"].as_str().unwrap_or_default();
    gw.seed_org(
        org,
        meta["phoneNumberId"].as_str().unwrap_or_default(),
        meta["playerWhatsapp"].as_str().unwrap_or_default(),
    )
    .await?;
    gw.admin_put(
        &format!(
            "/admin/organizations/{org}/members/{}",
            meta["user"].as_str().unwrap_or_default()
        ),
        json!({"roles": ["admin", "viewer"]}),
    )
    .await?;
    let mut out = Vec::new();
    for (name, event, stack_name) in [
        ("webhook", "webhook-post.json", "WebhookFunction"),
        ("worker", "worker-sqs.json", "WorkerFunction"),
        ("ws", "ws-connect.json", "WsFunction"),
        ("api", "api-catch-up.json", "ApiFunction"),
        ("sse", "sse-events.json", "SseFunction"),
    ] {
        let event = sample(event)?;
        let path = pitchside_tests::lambda_binary(name);
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let arm64 = format!(
            "{}/../target/sam-build/{stack_name}/bootstrap",
            env!("CARGO_MANIFEST_DIR")
        );
        let arm64_bytes = std::fs::metadata(arm64).ok().map(|m| m.len());
        // Several cold starts, each a fresh process against a fresh Runtime API: one
        // start is too noisy a sample on a shared machine. The last one stays up for
        // the warm invocations.
        let mut inits = Vec::new();
        let mut colds = Vec::new();
        let mut last = None;
        for _ in 0..cold_starts.max(1) {
            let api = RuntimeApi::start().await?;
            let mut first = api.invoke(event.clone());
            let t0 = Instant::now();
            let child = api.spawn(name, &vars)?;
            // Complete: the whole reply, or for the stream its first chunk.
            match first.next().await? {
                Chunk::Error(e) => bail!("{name}: the sample failed: {e}"),
                _ if name == "sse" => {}
                _ => {
                    first
                        .json()
                        .await
                        .with_context(|| format!("{name}: reply"))?;
                }
            }
            colds.push(t0.elapsed().as_secs_f64() * 1000.0);
            inits.push(
                api.first_poll()
                    .context("the function never polled /next")?
                    .duration_since(t0)
                    .as_secs_f64()
                    * 1000.0,
            );
            last = Some((api, child));
        }
        let (api, child) = last.context("at least one cold start")?;
        let pid = child.id().context("function pid")?;
        let init = stats(inits);
        let cold = stats(colds);
        let cpu = if name == "sse" {
            None
        } else {
            let before = cpu_ms(pid).context("cpu time")?;
            for _ in 0..warm {
                api.invoke(event.clone()).json().await?;
            }
            Some((cpu_ms(pid).context("cpu time")? - before) / warm as f64)
        };
        drop(child);
        out.push(LambdaRun {
            name,
            bytes,
            arm64_bytes,
            init_ms: init.p50,
            init_max_ms: init.max,
            cold_ms: cold.p50,
            cpu_ms: cpu,
        });
    }
    Ok(out)
}

async fn seed(gw: &Gateway) -> Result<()> {
    for (org, phone) in [("org-b", PHONE_B), ("org-c", PHONE_C)] {
        gw.seed_org(org, phone, WA).await?;
    }
    gw.seed_org("org-s", "900000000000009", "16505550009")
        .await?;
    gw.admin_put(
        "/admin/organizations/org-s/members/admin-org-s",
        json!({"roles": ["admin", "scorer", "viewer"]}),
    )
    .await?;
    Ok(())
}

/// The AWS push path simulated (`pitchside_tests::push_sim`): rooms of each size with a
/// 5% throttle, one 10,000 room without, and the worker's batch time at 10 and 10,000
/// connections. Prints its table; answers its JSON.
async fn push_path() -> Result<Value> {
    use pitchside_tests::push_sim;
    let rooms: Vec<usize> = std::env::var("BENCH_PUSH_ROOMS")
        .unwrap_or_else(|_| "1000,10000,50000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let latency = Duration::from_millis(env_or("BENCH_PUSH_LATENCY_MS", 30));
    let throttle: f64 = env_or("BENCH_PUSH_THROTTLE", 0.05);
    let instances: usize = env_or("BENCH_PUSH_INSTANCES", 8);
    let mut runs = Vec::new();
    let mut plan: Vec<(usize, f64)> = rooms.iter().map(|&n| (n, throttle)).collect();
    plan.push((10_000, 0.0));
    for (n, t) in plan {
        // Enough events for a p99 where they are cheap, a few where each is 50,000 posts.
        let events = (20_000 / n).clamp(3, 20);
        eprintln!("bench: push path x{n}, {events} events, throttle {t}");
        runs.push(push_sim::round(n, (n / 200).max(5), t, latency, events, instances).await?);
    }
    let mut workers = Vec::new();
    for n in [10, 10_000] {
        eprintln!("bench: worker batch with {n} connections");
        workers.push(push_sim::worker_batch(n).await?);
    }
    println!(
        "\nAWS push path (fanout + {instances} push processes via the Runtime API, moto, a management API stand-in answering after {} ms; push timeout {} s)\n",
        latency.as_millis(),
        push_sim::PUSH_TIMEOUT.as_secs()
    );
    println!(
        "| connections (gone) | throttled | events | append to last connection p50 / p99 ms | fan-out invocation ms per event | posts per delivery | invocations (fanout + push) | longest push invocation ms | dead letters | out of order | repeats |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in &runs {
        let st = stats(r.reach_ms.clone());
        println!(
            "| {} ({}) | {:.0}% | {} | {:.0} / {:.0} | {:.0} | {:.3} | {} + {} | {:.0} | {} | {} | {} |",
            r.connections,
            r.gone,
            r.throttle * 100.0,
            r.events,
            st.p50,
            st.p99,
            r.fanout_seconds * 1000.0 / r.events as f64,
            r.posts_per_delivery,
            r.fanout_invocations,
            r.push_invocations,
            r.longest_push_ms,
            r.dead_letters,
            r.out_of_order,
            r.repeats
        );
    }
    for w in &workers {
        println!(
            "worker: a batch of 10 messages with {} connections open: {} DynamoDB and {} SQS requests, {:.1} ms (moto's time grows with the table)",
            w.connections, w.dynamodb, w.sqs, w.ms
        );
    }
    Ok(json!({
        "rounds": runs.iter().map(|r| {
            let st = stats(r.reach_ms.clone());
            json!({"connections": r.connections, "gone": r.gone, "throttle": r.throttle,
                "events": r.events, "reachP50Ms": st.p50, "reachP99Ms": st.p99,
                "postsPerDelivery": r.posts_per_delivery, "fanoutInvocations": r.fanout_invocations,
                "pushInvocations": r.push_invocations, "longestPushMs": r.longest_push_ms,
                "timeoutMs": push_sim::PUSH_TIMEOUT.as_millis() as u64,
                "gbSeconds": r.gb_seconds, "pushSeconds": r.push_seconds,
                "fanoutSeconds": r.fanout_seconds, "deadLetters": r.dead_letters,
                "outOfOrder": r.out_of_order, "repeats": r.repeats,
                "apiCalls": r.api_calls, "requests": r.requests})
        }).collect::<Vec<_>>(),
        "workerBatch": workers.iter().map(|w| json!({"connections": w.connections, "ms": w.ms,
            "dynamodbRequests": w.dynamodb, "sqsRequests": w.sqs})).collect::<Vec<_>>(),
    }))
}

/// `a ÷ b`, or a dash when either is missing.
fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.1}×", a / b),
        _ => "—".into(),
    }
}

fn cell(v: Option<f64>, unit: &str) -> String {
    v.map_or("—".into(), |v| format!("{v:.1} {unit}"))
}

/// Pitchside next to the seed peer and the floor: each row with the seed's figure as a
/// multiple of Pitchside's, and Pitchside's as a multiple of the floor's.
fn side_by_side(rounds: &[Fanout], seed: &[Fanout], ingests: &[Ingest], floors: &[floor::Floor]) {
    println!(
        "\n| figure | Pitchside | seed (Node) | seed ÷ Pitchside | floor | Pitchside ÷ floor |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    let row = |name: String, p: Option<f64>, s: Option<f64>, f: Option<f64>, unit: &str| {
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            cell(p, unit),
            cell(s, unit),
            ratio(s, p),
            cell(f, unit),
            ratio(p, f)
        );
    };
    // Each fan-out row: its label (`{t}` the transport), the figure of a round, and the
    // floor's, if it has one.
    type Figure = fn(&Fanout) -> f64;
    type FloorFigure = Option<fn(&floor::Floor) -> f64>;
    const ROWS: [(&str, Figure, FloorFigure, &str); 6] = [
        (
            "{t} subscribers: delivery p50",
            |f| f.latency.p50,
            None,
            "ms",
        ),
        (
            "{t} subscribers: delivery p99",
            |f| f.latency.p99,
            None,
            "ms",
        ),
        (
            "{t}: time to the last subscriber, p50",
            |f| f.last_subscriber_p50,
            Some(|f| f.last_p50_ms),
            "ms",
        ),
        (
            "{t}: server CPU per delivered event",
            Fanout::server_us_per_delivery,
            Some(|f| f.per_write_us),
            "µs",
        ),
        (
            "{t}: webhook ack p99 while fanning out",
            |f| f.ack.p99,
            None,
            "ms",
        ),
        (
            "{t}: resident memory per idle connection",
            |f| f.rss_per_conn_kib,
            None,
            "KiB",
        ),
    ];
    fn find<'a>(rs: &'a [Fanout], t: &str, n: usize) -> Option<&'a Fanout> {
        rs.iter().find(|r| r.transport == t && r.subscribers == n)
    }
    let mut ns: Vec<usize> = rounds.iter().map(|r| r.subscribers).collect();
    ns.dedup();
    for n in ns {
        let fl = floors.iter().find(|f| f.sockets == n);
        let transports = [
            ("SSE", find(rounds, "sse", n), find(seed, "sse", n)),
            ("WebSocket", find(rounds, "ws", n), None),
        ];
        for (t, p, s) in transports {
            if p.is_none() && s.is_none() {
                continue;
            }
            for (label, figure, floor_figure, unit) in &ROWS {
                row(
                    format!("{n} {}", label.replace("{t}", t)),
                    p.map(figure),
                    s.map(figure),
                    fl.zip(*floor_figure).map(|(f, g)| g(f)),
                    unit,
                );
            }
        }
    }
    let per_s = |i: &Ingest| i.acked as f64 / i.seconds;
    let live = |i: &Ingest| 100.0 * i.live as f64 / i.acked.max(1) as f64;
    for paced in [false, true] {
        let ing = |name: &str| {
            ingests
                .iter()
                .find(|i| i.server == name && i.rate.is_some() == paced)
        };
        let (p, s) = (ing("pitchside"), ing("seed"));
        let how = p
            .or(s)
            .and_then(|i| i.rate)
            .map_or("flat out".to_string(), |r| format!("at {r:.0}/s offered"));
        row(
            format!("ingest {how}: acknowledged per second"),
            p.map(per_s),
            s.map(per_s),
            None,
            "/s",
        );
        row(
            format!("ingest {how}: delivered live within the run + 15 s"),
            p.map(live),
            s.map(live),
            None,
            "%",
        );
        row(
            format!("ingest {how}: delivery p99 (POST to the live subscriber)"),
            p.map(|i| i.delivery.p99),
            s.map(|i| i.delivery.p99),
            None,
            "ms",
        );
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(floor::WRITER) {
        return floor::writer(&args[1..]);
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned = cpus >= 2;
    if pinned {
        pin_self("1");
    }
    // `BENCH_ONLY=push`: the AWS push path's simulation alone.
    if std::env::var("BENCH_ONLY").as_deref() == Ok("push") {
        let push = push_path().await?;
        println!("{}", json!({ "cpus": cpus, "pushPath": push }));
        return Ok(());
    }
    let fanouts: Vec<usize> = std::env::var("BENCH_FANOUT")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let events: usize = env_or("BENCH_EVENTS", 50).max(1);
    let ingest_seconds: u64 = env_or("BENCH_INGEST_SECONDS", 10);
    let balls: u32 = env_or("BENCH_BALLS", 200);
    let bidders: usize = env_or("BENCH_BIDDERS", 200);
    let auction_seconds: u64 = env_or("BENCH_AUCTION_SECONDS", 30);
    let floor_bytes: usize = env_or("BENCH_FLOOR_BYTES", 512);
    let ingest_rate: f64 = env_or("BENCH_INGEST_RATE", 5000.0);
    let paced_seconds: u64 = env_or("BENCH_PACED_SECONDS", 30);
    let seed_dir = std::env::var("BENCH_SEED_DIR")
        .ok()
        .filter(|d| !d.is_empty());
    let server_cpu = pinned.then_some("0");
    // `BENCH_METRICS=off` runs every gateway without its recorder, so a pair of runs
    // shows what recording the metrics costs.
    let metrics: &'static str = match std::env::var("BENCH_METRICS").as_deref() {
        Err(_) | Ok("on") => "on",
        Ok("off") => "off",
        Ok(other) => bail!("BENCH_METRICS must be on or off, not {other:?}"),
    };

    let gateway = |dir: std::path::PathBuf| async move {
        Gateway::start_on(
            server_cpu,
            &dir,
            &[
                ("RUST_LOG", "error"),
                ("PITCHSIDE_METRICS", metrics),
                ("PITCHSIDE_SUBSCRIBER_BUFFER", "1024"),
                // The race measures the server, not the per-connection politeness limit.
                ("PITCHSIDE_WS_RATE", "10000"),
                ("PITCHSIDE_WS_BURST", "10000"),
                // The fan-out's subscribers are one member's: the per-member cap is lifted.
                ("PITCHSIDE_SSE_MAX_STREAMS_PER_USER", "100000"),
            ],
        )
        .await
    };
    let dir = tempfile::tempdir()?;
    let gw = gateway(dir.path().to_path_buf()).await?;
    seed(&gw).await?;
    let pitchside = Server::of(&gw)?;
    let started = Instant::now();

    eprintln!("bench: scoring");
    let score = scoring(&gw, balls).await?;
    let mut rounds = Vec::new();
    let wanted = std::env::var("BENCH_TRANSPORTS").unwrap_or_else(|_| "sse,ws".into());
    let transports: Vec<&'static str> = ["sse", "ws"]
        .into_iter()
        .filter(|t| wanted.split(',').any(|w| w == *t))
        .collect();
    for &n in &fanouts {
        for &transport in &transports {
            // A fresh process a round: memory the last round freed but the allocator
            // kept would otherwise count as this round's connections costing nothing.
            let dir = tempfile::tempdir()?;
            let gw = gateway(dir.path().to_path_buf()).await?;
            seed(&gw).await?;
            let (org, phone) = ("org-f", "900000000001");
            gw.seed_org(org, phone, WA).await?;
            eprintln!("bench: fan-out {transport} x{n}");
            rounds.push(fanout(&Server::of(&gw)?, transport, n, events, org, phone).await?);
            gw.kill().await?;
        }
    }
    eprintln!("bench: ingest");
    let mut ingests = vec![ingest(&pitchside, Some(&gw), ingest_seconds, None).await?];
    eprintln!("bench: ingest at {ingest_rate}/s for {paced_seconds} s");
    ingests.push(ingest(&pitchside, Some(&gw), paced_seconds, Some(ingest_rate)).await?);
    eprintln!("bench: auction");
    let race = auction(&gw, bidders, auction_seconds).await?;
    let mut seed_rounds = Vec::new();
    match &seed_dir {
        Some(dir) => {
            eprintln!("bench: the seed peer ({dir})");
            let peer = peer::Peer::start(std::path::Path::new(dir), server_cpu).await?;
            let (phone, org) = peer::TENANTS[0];
            for &n in &fanouts {
                eprintln!("bench: seed fan-out sse x{n}");
                seed_rounds.push(fanout(&peer.server, "sse", n, events, org, phone).await?);
            }
            eprintln!("bench: seed ingest");
            ingests.push(ingest(&peer.server, None, ingest_seconds, None).await?);
            eprintln!("bench: seed ingest at {ingest_rate}/s");
            ingests.push(ingest(&peer.server, None, paced_seconds, Some(ingest_rate)).await?);
        }
        None => eprintln!("bench: BENCH_SEED_DIR unset: the seed peer is skipped"),
    }
    let mut floors = Vec::new();
    for &n in &fanouts {
        eprintln!("bench: the floor x{n}");
        floors.push(floor::measure(n, events, floor_bytes, server_cpu).await?);
    }
    let functions = if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        eprintln!("bench: lambda functions");
        lambdas(
            env_or("BENCH_COLD_STARTS", 5),
            env_or("BENCH_LAMBDA_INVOCATIONS", 200),
        )
        .await?
    } else {
        eprintln!("bench: no AWS_ENDPOINT_URL (moto): the Lambda figures are skipped");
        Vec::new()
    };
    let poll = if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        eprintln!("bench: an SSE viewer polling DynamoDB");
        Some(
            sse_poll_reads(
                Duration::from_secs(env_or("BENCH_POLL_SECONDS", 30)),
                env_or("BENCH_POLL_EVENTS", 20),
            )
            .await?,
        )
    } else {
        None
    };

    println!(
        "\nPitchside bench ({cpus} CPUs; gateway {}pinned to CPU 0, load on CPU 1)\n",
        if pinned { "" } else { "not " }
    );
    println!("| figure | p50 ms | p99 ms | max ms | other |");
    println!("| --- | --- | --- | --- | --- |");
    println!(
        "| scoring: POST ball to viewer's SSE receipt ({} balls) | {:.2} | {:.2} | {:.2} | |",
        score.n, score.p50, score.p99, score.max
    );
    for f in rounds.iter().chain(&seed_rounds) {
        println!(
            "| {} fan-out {} x{}, {} events every 100 ms: webhook POST to subscriber | {:.2} | {:.2} | {:.2} | last subscriber p50 {:.2} ms; delivered {}/{}; control leaks {}; RSS {:.1} KiB/conn idle, {:.1} after the events; webhook ack p99 {:.1} ms; server CPU {:.2} µs per delivery; {} ({:.2} µs per delivery) |",
            f.server,
            f.transport,
            f.subscribers,
            events,
            f.latency.p50,
            f.latency.p99,
            f.latency.max,
            f.last_subscriber_p50,
            f.delivered,
            f.expected,
            f.control_leaks,
            f.rss_per_conn_kib,
            f.rss_after_per_conn_kib,
            f.ack.p99,
            f.server_us_per_delivery(),
            f.cpu.load_note(),
            f.load_us_per_delivery(),
        );
    }
    for ing in &ingests {
        println!(
            "| {} ingest, 32 senders {} for {:.1} s: ack latency | {:.2} | {:.2} | {:.2} | {:.0} acked/s; live subscriber got {}/{} within the run + 15 s, delivery p50 {:.0} ms, p99 {:.0} ms{}; {} |",
            ing.server,
            ing.rate
                .map_or("flat out".to_string(), |r| format!("at {r:.0}/s")),
            ing.seconds,
            ing.latency.p50,
            ing.latency.p99,
            ing.latency.max,
            ing.acked as f64 / ing.seconds,
            ing.live,
            ing.acked,
            ing.delivery.p50,
            ing.delivery.p99,
            ing.durable.map_or(String::new(), |(d, twice)| format!(
                "; in the log once drained {d}/{}, {twice} twice",
                ing.acked
            )),
            ing.cpu.load_note(),
        );
    }
    println!(
        "| auction, {} bidders racing for {:.1} s: bid ack latency | {:.2} | {:.2} | {:.2} | {:.0} validated bids/s ({} accepted); consistent: {} |",
        race.bidders,
        race.seconds,
        race.ack.p50,
        race.ack.p99,
        race.ack.max,
        race.validated as f64 / race.seconds,
        race.accepted,
        if race.consistent {
            "yes".to_string()
        } else {
            race.problems.join("; ")
        }
    );
    if !functions.is_empty() {
        println!(
            "\n| function | binary (host, release) | arm64 bootstrap (sam build; target <= 8 MB) | init ms, median (max) of the cold starts (target <= 15) | first reply ms, median | CPU ms per invocation |"
        );
        println!("| --- | --- | --- | --- | --- | --- |");
        for f in &functions {
            println!(
                "| {} | {:.1} MB | {} | {:.1} ({:.1}) | {:.1} | {} |",
                f.name,
                f.bytes as f64 / 1e6,
                f.arm64_bytes
                    .map_or("not built".into(), |b| format!("{:.1} MB", b as f64 / 1e6)),
                f.init_ms,
                f.init_max_ms,
                f.cold_ms,
                f.cpu_ms.map_or("streams".into(), |c| format!("{c:.2}")),
            );
        }
    }
    if let Some(p) = &poll {
        println!(
            "\nSSE following by polling (the sse function's path, a read every 1 s): {:.2} DynamoDB requests per poll idle (target <= 1.05), {:.1} per viewer-minute idle; {:.1} per viewer-minute with events ({}, a second's pause after each)",
            p.idle_requests as f64 / p.idle_seconds,
            p.idle_requests as f64 * 60.0 / p.idle_seconds,
            p.busy_requests_per_minute,
            p.busy_events
        );
    }
    let push = if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        Some(push_path().await?)
    } else {
        None
    };
    side_by_side(&rounds, &seed_rounds, &ingests, &floors);
    println!("\n(total {:.1} s)", started.elapsed().as_secs_f64());
    let json = json!({
        "pushPath": push,
        "cpus": cpus, "pinned": pinned, "metrics": metrics,
        "scoring": {"p50": score.p50, "p99": score.p99, "max": score.max, "n": score.n},
        "fanout": rounds.iter().chain(&seed_rounds).map(|f| json!({
            "server": f.server, "ackP99": f.ack.p99, "rssAfterPerConnKiB": f.rss_after_per_conn_kib,
            "serverUsPerDelivery": f.server_us_per_delivery(), "loadUsPerDelivery": f.load_us_per_delivery(),
            "loadGeneratorShare": f.cpu.load_share(),
            "transport": f.transport, "subscribers": f.subscribers, "events": events,
            "p50": f.latency.p50, "p99": f.latency.p99, "max": f.latency.max,
            "lastSubscriberP50": f.last_subscriber_p50, "delivered": f.delivered,
            "expected": f.expected, "controlLeaks": f.control_leaks, "rssPerConnKiB": f.rss_per_conn_kib,
        })).collect::<Vec<_>>(),
        "ingest": ingests.iter().map(|ing| json!({"server": ing.server, "rate": ing.rate, "acked": ing.acked,
                   "seconds": ing.seconds, "ackedPerSecond": ing.acked as f64 / ing.seconds,
                   "p50": ing.latency.p50, "p99": ing.latency.p99, "deliveredLive": ing.live,
                   "deliveryP50": ing.delivery.p50, "deliveryP99": ing.delivery.p99,
                   "durable": ing.durable.map(|d| d.0), "durableTwice": ing.durable.map(|d| d.1), "loadGeneratorShare": ing.cpu.load_share()})).collect::<Vec<_>>(),
        "floor": floors.iter().map(|f| json!({"sockets": f.sockets, "bytes": f.bytes,
                   "usPerWrite": f.per_write_us, "lastSocketP50": f.last_p50_ms})).collect::<Vec<_>>(),
        "auction": {"bidders": race.bidders, "seconds": race.seconds, "validated": race.validated,
                    "validatedPerSecond": race.validated as f64 / race.seconds, "accepted": race.accepted,
                    "p50": race.ack.p50, "p99": race.ack.p99, "max": race.ack.max,
                    "consistent": race.consistent, "problems": race.problems},
        "lambda": functions.iter().map(|f| json!({"function": f.name, "bytes": f.bytes,
                    "arm64Bytes": f.arm64_bytes, "initMs": f.init_ms, "initMaxMs": f.init_max_ms, "coldStartMs": f.cold_ms, "cpuMsPerInvocation": f.cpu_ms}))
                    .collect::<Vec<_>>(),
        "ssePoll": poll.as_ref().map(|p| json!({"idleRequestsPerPoll": p.idle_requests as f64 / p.idle_seconds,
                    "idleRequestsPerMinute": p.idle_requests as f64 * 60.0 / p.idle_seconds,
                    "busyRequestsPerMinute": p.busy_requests_per_minute, "busyEvents": p.busy_events})),
    });
    println!("{json}");
    Ok(())
}
