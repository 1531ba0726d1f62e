//! Helpers for the black-box tests: they start the real `pitchside` binary and talk to
//! it only as clients do (HTTP, SSE, WebSocket). Signatures and tokens are made here
//! with the crypto crates directly, not with Pitchside's own code, so that a bug there
//! cannot hide itself.

use anyhow::{Context, Result, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub mod management_api;
pub mod push_sim;
pub mod runtime_api;

pub const JWT_SECRET: &str = "black-box-test-jwt-secret-0123456789abcdef";
pub const APP_SECRET: &str = "black-box-test-whatsapp-app-secret";
pub const VERIFY_TOKEN: &str = "black-box-verify-token";
pub const ADMIN_KEY: &str = "black-box-admin-key-0123456789";
pub const STRIPE_SECRET: &str = "whsec_black_box_test";

/// The test settings' secrets: each variable and its value.
pub const SECRETS: [(&str, &str); 5] = [
    ("PITCHSIDE_JWT_SECRET", JWT_SECRET),
    ("PITCHSIDE_WHATSAPP_APP_SECRET", APP_SECRET),
    ("PITCHSIDE_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN),
    ("PITCHSIDE_ADMIN_API_KEY", ADMIN_KEY),
    ("PITCHSIDE_STRIPE_WEBHOOK_SECRET", STRIPE_SECRET),
];

/// The longest any single expected thing may take before a test fails. A guard against
/// hanging, never a synchronization.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The `pitchside` binary built by the test command, found next to this test's own
/// executable (target/<profile>/deps/..), whatever the target directory.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PITCHSIDE_BIN") {
        return PathBuf::from(p);
    }
    binary_named("pitchside")
}

/// A binary of the workspace, built next to the tests.
/// A Lambda function's binary: from `PITCHSIDE_LAMBDA_DIR` when set (`make bench` points
/// it at the release build, the profile `sam build` uses), else as `binary_named`.
pub fn lambda_binary(name: &str) -> PathBuf {
    match std::env::var_os("PITCHSIDE_LAMBDA_DIR") {
        Some(dir) => Path::new(&dir).join(name),
        None => binary_named(name),
    }
}

pub fn binary_named(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // Tests run from target/<profile>/deps, binaries (the bench) from target/<profile>.
    let beside = exe.parent().map(|d| d.join(name)).filter(|p| p.exists());
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let bin = beside.unwrap_or_else(|| profile_dir.join(name));
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build --workspace`, which `make test` does)",
        bin.display()
    );
    bin
}

/// Which backend the gateway runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// SQLite in a temporary folder.
    Embedded,
    /// DynamoDB and SQS on the emulator at `AWS_ENDPOINT_URL` (moto, started by
    /// `make test`), with a fresh table and queue.
    Aws,
}

/// Where one test's gateway keeps its data, so that a restart finds it again.
pub struct Env {
    pub mode: Mode,
    pub dir: tempfile::TempDir,
    pub vars: Vec<(String, String)>,
}

/// The AWS client settings passed through to the gateway.
const AWS_PASSTHROUGH: [&str; 4] = [
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
];

impl Env {
    pub async fn new(mode: Mode) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let mut vars = vec![(
            "PITCHSIDE_DATA_DIR".to_string(),
            dir.path().display().to_string(),
        )];
        if mode == Mode::Aws {
            assert!(
                std::env::var_os("AWS_ENDPOINT_URL").is_some(),
                "AWS_ENDPOINT_URL is not set: run the tests through `make test`, which starts moto"
            );
            for k in AWS_PASSTHROUGH {
                if let Ok(v) = std::env::var(k) {
                    vars.push((k.to_string(), v));
                }
            }
            let sdk = pitchside_aws::sdk_config().await;
            let name = format!("bb-{}", hex::encode(rand::random::<[u8; 6]>()));
            pitchside_aws::bootstrap::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &name)
                .await
                .unwrap();
            let (url, dlq) = pitchside_aws::bootstrap::create_queues(
                &aws_sdk_sqs::Client::new(&sdk),
                &name,
                pitchside_domain::limits::MAX_RECEIVES,
            )
            .await
            .unwrap();
            let (push, _) = pitchside_aws::bootstrap::create_push_queues(
                &aws_sdk_sqs::Client::new(&sdk),
                &name,
                pitchside_domain::limits::MAX_RECEIVES,
            )
            .await
            .unwrap();
            // The secrets, as on AWS: stored in Secrets Manager and named by ARN, so the
            // gateway reads them at start.
            let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
            for (variable, value) in SECRETS {
                let id = format!("{name}/{}", variable.to_ascii_lowercase());
                let arn = pitchside_aws::bootstrap::put_secret(&secrets, &id, value)
                    .await
                    .unwrap();
                vars.push((format!("{variable}_ARN"), arn));
            }
            vars.push(("PITCHSIDE_BACKEND".into(), "aws".into()));
            vars.push(("PITCHSIDE_TABLE".into(), name));
            vars.push(("PITCHSIDE_QUEUE_URL".into(), url));
            vars.push(("PITCHSIDE_DEAD_LETTER_QUEUE_URL".into(), dlq));
            vars.push(("PITCHSIDE_PUSH_QUEUE_URL".into(), push));
        }
        Env { mode, dir, vars }
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub async fn start(&self) -> Gateway {
        let vars: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Gateway::start_with(self.dir.path(), &vars).await.unwrap()
    }
}

/// Runs one scenario in both modes: `both_modes!(name);` makes `name::embedded` and
/// `name::aws` from `async fn name(mode: Mode)`.
#[macro_export]
macro_rules! both_modes {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test]
            async fn embedded() {
                super::$scenario($crate::Mode::Embedded).await;
            }
            #[tokio::test]
            async fn aws() {
                super::$scenario($crate::Mode::Aws).await;
            }
        }
    };
}

/// A running gateway process.
pub struct Gateway {
    child: Child,
    pub base: String,
    pub addr: String,
}

impl Gateway {
    /// Starts `pitchside serve` on a free port with the test settings, `data_dir`, and
    /// `extra_env` on top.
    pub async fn start_with(data_dir: &Path, extra_env: &[(&str, &str)]) -> Result<Gateway> {
        Gateway::start_on(None, data_dir, extra_env).await
    }

    /// As `start_with`, pinned to the CPUs `cpus` (`taskset -c`) when given.
    pub async fn start_on(
        cpus: Option<&str>,
        data_dir: &Path,
        extra_env: &[(&str, &str)],
    ) -> Result<Gateway> {
        let mut cmd = match cpus {
            Some(c) => {
                let mut t = Command::new("taskset");
                t.args(["-c", c]).arg(binary());
                t
            }
            None => Command::new(binary()),
        };
        cmd.arg("serve")
            .env_clear()
            .env("PITCHSIDE_ADDR", "127.0.0.1:0")
            .env("PITCHSIDE_DATA_DIR", data_dir)
            // `PITCHSIDE_TEST_GATEWAY_LOG` (a `RUST_LOG` filter) shows more of what a
            // failing test's gateway did.
            .env(
                "RUST_LOG",
                std::env::var("PITCHSIDE_TEST_GATEWAY_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        // Each secret as its value, unless the environment names its stored secret.
        for (variable, value) in SECRETS {
            let stored = format!("{variable}_ARN");
            if !extra_env.iter().any(|(k, _)| *k == stored) {
                cmd.env(variable, value);
            }
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().context("spawning pitchside")?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(PATIENCE, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.strip_prefix("pitchside listening on http://") {
                    return Ok::<_, anyhow::Error>(url.trim().to_string());
                }
            }
            bail!("pitchside exited before listening")
        })
        .await
        .context("pitchside did not start in time")??;
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Gateway {
            child,
            base: format!("http://{addr}"),
            addr,
        })
    }

    /// The process id (for reading its memory).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the process at once (SIGKILL): what survives must have been durable.
    pub async fn kill(mut self) -> Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// Sends SIGTERM, as a deploy or `docker stop` does, and answers how the process
    /// exited, if it did within `patience`.
    pub async fn terminate(mut self, patience: Duration) -> Result<std::process::ExitStatus> {
        let pid = self.child.id().context("the gateway already exited")?;
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await?;
        ensure!(sent.success(), "kill -TERM {pid} failed");
        tokio::time::timeout(patience, self.child.wait())
            .await
            .context("the gateway did not exit after SIGTERM")?
            .map_err(Into::into)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn admin_put(&self, path: &str, body: Value) -> Result<reqwest::Response> {
        Ok(reqwest::Client::new()
            .put(self.url(path))
            .header("x-api-key", ADMIN_KEY)
            .json(&body)
            .send()
            .await?)
    }

    /// Seeds an organization with a WhatsApp number, an admin member and a player.
    pub async fn seed_org(&self, org: &str, phone_number_id: &str, player_wa: &str) -> Result<()> {
        let calls = [
            (
                format!("/admin/organizations/{org}"),
                json!({"name": format!("Club {org}")}),
            ),
            (
                format!("/admin/organizations/{org}/whatsapp/{phone_number_id}"),
                json!({}),
            ),
            (
                format!("/admin/organizations/{org}/members/admin-{org}"),
                json!({"roles": ["admin", "viewer"], "active": true}),
            ),
            (
                format!("/admin/organizations/{org}/players/p-{org}"),
                json!({"name": format!("Player of {org}"), "whatsapp": player_wa}),
            ),
        ];
        for (path, body) in calls {
            let resp = self.admin_put(&path, body).await?;
            if !resp.status().is_success() {
                bail!("PUT {path}: {} {}", resp.status(), resp.text().await?);
            }
        }
        Ok(())
    }

    /// POSTs a webhook body with the given signature header (None: no header).
    pub async fn post_webhook(
        &self,
        body: &[u8],
        signature: Option<String>,
    ) -> Result<reqwest::Response> {
        let mut req = reqwest::Client::new()
            .post(self.url("/whatsapp/webhook"))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(sig) = signature {
            req = req.header("x-hub-signature-256", sig);
        }
        Ok(req.send().await?)
    }

    /// Sends a correctly signed text message and asserts it was accepted.
    pub async fn send_text(
        &self,
        phone_number_id: &str,
        from: &str,
        wamid: &str,
        text: &str,
    ) -> Result<()> {
        let body = text_message(phone_number_id, from, wamid, text);
        let resp = self
            .post_webhook(&body, Some(sign(APP_SECRET, &body)))
            .await?;
        if resp.status() != 200 {
            bail!("webhook answered {}: {}", resp.status(), resp.text().await?);
        }
        Ok(())
    }

    /// POSTs a body correctly signed with the app secret; answers the status.
    pub async fn post_signed(&self, body: &[u8]) -> Result<u16> {
        let resp = self
            .post_webhook(body, Some(sign(APP_SECRET, body)))
            .await?;
        Ok(resp.status().as_u16())
    }

    /// POSTs a Stripe event with the given `Stripe-Signature` header.
    pub async fn post_payment(&self, body: &[u8], signature: Option<String>) -> Result<u16> {
        let mut req = reqwest::Client::new()
            .post(self.url("/payments/webhook"))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(sig) = signature {
            req = req.header("stripe-signature", sig);
        }
        Ok(req.send().await?.status().as_u16())
    }

    /// A request with the admin API key; answers the status and the JSON body.
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let mut req = reqwest::Client::new()
            .request(method.parse()?, self.url(path))
            .header("x-api-key", ADMIN_KEY);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    /// A request with a bearer token; answers the status and the JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let mut req = reqwest::Client::new()
            .request(method.parse()?, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    /// Reads the organization's events after `after` over SSE until `n` have come, and
    /// answers them. The stream is the synchronization: no polling, no sleeping.
    pub async fn events(&self, token: &str, after: &str, n: usize) -> Result<Vec<Value>> {
        let mut sse =
            SseClient::connect(&self.url("/sse/events"), Some(token), Some(after)).await?;
        if sse.status != 200 {
            bail!("SSE answered {}", sse.status);
        }
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            out.push(sse.next_frame().await?.json());
        }
        Ok(out)
    }

    pub async fn catch_up(&self, token: &str, query: &str) -> Result<Value> {
        let resp = reqwest::Client::new()
            .get(self.url(&format!("/events/catch-up?{query}")))
            .bearer_auth(token)
            .send()
            .await?;
        if resp.status() != 200 {
            bail!(
                "catch-up answered {}: {}",
                resp.status(),
                resp.text().await?
            );
        }
        Ok(resp.json().await?)
    }
}

/// `sha256=<hex>` of the body, as Meta signs it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A fixture file of `tests/fixtures/`, with its placeholders replaced.
pub fn fixture(name: &str, subs: &[(&str, &str)]) -> Vec<u8> {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (k, v) in subs {
        text = text.replace(k, v);
    }
    text.into_bytes()
}

/// `Stripe-Signature` for `body` at `t`, as Stripe computes it.
pub fn stripe_sign(secret: &str, body: &[u8], t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

pub fn unix_now() -> i64 {
    chrono_like_now().cast_signed()
}

/// A WhatsApp Cloud API notification carrying one text message.
pub fn text_message(phone_number_id: &str, from: &str, wamid: &str, text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "waba-1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
            "contacts": [{"profile": {"name": "Test Sender"}, "wa_id": from}],
            "messages": [{"from": from, "id": wamid, "timestamp": "1764140000", "type": "text", "text": {"body": text}}]
        }}]}]
    }))
    .unwrap()
}

/// An HS256 access token as the club platform would issue it.
pub fn token(secret: &str, org: &str, sub: &str, roles: &[&str]) -> String {
    let claims = json!({
        "sub": sub, "org": org, "roles": roles, "name": sub,
        "exp": chrono_like_now() + 3600,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn chrono_like_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// One SSE frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SseFrame {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

impl SseFrame {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).expect("SSE data is JSON")
    }
}

/// A minimal SSE client over a streaming HTTP response.
pub struct SseClient {
    stream:
        std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    /// Comment lines seen (heartbeats), and `retry:` values.
    pub retry: Option<String>,
}

impl SseClient {
    pub async fn connect(
        url: &str,
        token: Option<&str>,
        last_event_id: Option<&str>,
    ) -> Result<SseClient> {
        let mut req = reqwest::Client::new()
            .get(url)
            .header("accept", "text/event-stream");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let resp = req.send().await?;
        Ok(SseClient {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            stream: Box::pin(resp.bytes_stream()),
            buf: String::new(),
            retry: None,
        })
    }

    /// The next event frame (comments and the retry hint are consumed on the way).
    pub async fn next_frame(&mut self) -> Result<SseFrame> {
        loop {
            if let SseItem::Event(f) = self.next_item().await? {
                return Ok(f);
            }
        }
    }

    /// The next event or comment (`: heartbeat`).
    pub async fn next_item(&mut self) -> Result<SseItem> {
        self.next_item_within(PATIENCE).await
    }

    /// The next event frame, waiting up to `patience`.
    pub async fn next_frame_within(&mut self, patience: Duration) -> Result<SseFrame> {
        loop {
            if let SseItem::Event(f) = self.next_item_within(patience).await? {
                return Ok(f);
            }
        }
    }

    async fn next_item_within(&mut self, patience: Duration) -> Result<SseItem> {
        tokio::time::timeout(patience, self.read_item())
            .await
            .context("nothing on the SSE stream in time")?
    }

    /// Reads to the end of the stream; answers the events that came before it.
    pub async fn until_end(&mut self) -> Result<Vec<SseFrame>> {
        let mut frames = Vec::new();
        loop {
            match tokio::time::timeout(PATIENCE, self.read_item())
                .await
                .context("the stream did not end in time")?
            {
                Ok(SseItem::Event(f)) => frames.push(f),
                Ok(SseItem::Comment(_)) => {}
                Err(_) => return Ok(frames),
            }
        }
    }

    async fn read_item(&mut self) -> Result<SseItem> {
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut frame = SseFrame::default();
                let mut has_data = false;
                let mut comment = None;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        frame.id = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        frame.event = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        frame.data.push_str(v);
                        has_data = true;
                    } else if let Some(v) = line.strip_prefix("retry: ") {
                        self.retry = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix(':') {
                        comment = Some(v.trim().to_string());
                    }
                }
                if has_data {
                    return Ok(SseItem::Event(frame));
                }
                if let Some(c) = comment {
                    return Ok(SseItem::Comment(c));
                }
            }
            match self.stream.next().await {
                Some(chunk) => self.buf.push_str(std::str::from_utf8(&chunk?)?),
                None => bail!("the SSE stream ended"),
            }
        }
    }
}

/// What an SSE stream carries.
#[derive(Debug, Clone, PartialEq)]
pub enum SseItem {
    Event(SseFrame),
    Comment(String),
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket with a bearer token; Err carries the handshake's HTTP status.
pub async fn ws_connect(addr: &str, token: Option<&str>) -> Result<Ws, u16> {
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    if let Some(t) = token {
        req.headers_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("websocket connect failed: {e}"),
    }
}

/// The next JSON text frame.
pub async fn ws_next(ws: &mut Ws) -> Result<Value> {
    tokio::time::timeout(PATIENCE, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(&t)?),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => bail!("websocket: expected a text frame, got {other:?}"),
            }
        }
    })
    .await
    .context("no WebSocket message in time")?
}

pub async fn ws_send(ws: &mut Ws, v: Value) -> Result<()> {
    ws.send(Message::Text(v.to_string().into())).await?;
    Ok(())
}
