//! A Lambda Runtime API on loopback: what the Lambda service does for a function
//! process (hand out invocations at `/next`, take responses, streamed or not, and
//! errors), so each function binary is run exactly as Lambda runs it.

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::path::Path as FsPath;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::process::{Child, Command};
use tokio::sync::{Notify, mpsc};

/// What a function sent back for one invocation, chunk by chunk.
#[derive(Debug)]
pub enum Chunk {
    Data(Bytes),
    /// The function reported an error (`/error`) instead of a response.
    Error(Value),
    End,
}

struct Shared {
    /// How long an invocation may run: its deadline, as the function sees it.
    timeout: std::time::Duration,
    pending: Mutex<VecDeque<(String, Value)>>,
    arrived: Notify,
    replies: Mutex<HashMap<String, mpsc::UnboundedSender<Chunk>>>,
    init_error: Mutex<Option<Value>>,
    /// When the function first asked for an invocation: the end of its init phase,
    /// which is what Lambda reports as a cold start's "Init Duration".
    first_poll: Mutex<Option<Instant>>,
}

pub struct RuntimeApi {
    shared: Arc<Shared>,
    pub addr: String,
}

/// One invocation's reply, as it streams in.
pub struct Reply {
    rx: mpsc::UnboundedReceiver<Chunk>,
    pub streamed: Vec<u8>,
    patience: std::time::Duration,
}

impl Reply {
    /// Waits up to `patience` for each chunk instead of the tests' patience (an
    /// invocation that may run to its timeout).
    pub fn patience(mut self, patience: std::time::Duration) -> Reply {
        self.patience = patience;
        self
    }

    /// The next chunk (bounded by the reply's patience).
    pub async fn next(&mut self) -> Result<Chunk> {
        let c = tokio::time::timeout(self.patience, self.rx.recv())
            .await
            .context("no reply from the function in time")?
            .context("the runtime API went away")?;
        if let Chunk::Data(d) = &c {
            self.streamed.extend_from_slice(d);
        }
        Ok(c)
    }

    /// The whole (buffered) reply as JSON.
    pub async fn json(mut self) -> Result<Value> {
        loop {
            match self.next().await? {
                Chunk::Data(_) => {}
                Chunk::Error(e) => bail!("the function failed: {e}"),
                Chunk::End => return Ok(serde_json::from_slice(&self.streamed)?),
            }
        }
    }

    /// Reads until `needle` has streamed in.
    pub async fn until(&mut self, needle: &str) -> Result<()> {
        while !String::from_utf8_lossy(&self.streamed).contains(needle) {
            match self.next().await? {
                Chunk::Data(_) => {}
                other => bail!(
                    "stream ended before {needle:?}: {other:?}; got {}",
                    String::from_utf8_lossy(&self.streamed)
                ),
            }
        }
        Ok(())
    }
}

impl RuntimeApi {
    /// A runtime API whose invocations have 15 minutes, Lambda's longest timeout.
    pub async fn start() -> Result<RuntimeApi> {
        RuntimeApi::with_timeout(std::time::Duration::from_secs(900)).await
    }

    /// A runtime API whose invocations end `timeout` after they are handed out.
    pub async fn with_timeout(timeout: std::time::Duration) -> Result<RuntimeApi> {
        let shared = Arc::new(Shared {
            timeout,
            pending: Default::default(),
            arrived: Default::default(),
            replies: Default::default(),
            init_error: Default::default(),
            first_poll: Default::default(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(RuntimeApi { shared, addr })
    }

    /// Queues an invocation with `event` as its payload.
    pub fn invoke(&self, event: Value) -> Reply {
        let id = format!("req-{}", hex::encode(rand::random::<[u8; 8]>()));
        let (tx, rx) = mpsc::unbounded_channel();
        self.shared.replies.lock().unwrap().insert(id.clone(), tx);
        self.shared.pending.lock().unwrap().push_back((id, event));
        self.shared.arrived.notify_one();
        Reply {
            rx,
            streamed: Vec::new(),
            patience: crate::PATIENCE,
        }
    }

    /// When the function process first polled `/next` (its init phase over).
    pub fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.lock().unwrap()
    }

    pub fn init_error(&self) -> Option<Value> {
        self.shared.init_error.lock().unwrap().clone()
    }

    /// Starts a function binary against this API, with `env` (plus what the runtime
    /// client requires of the Lambda environment).
    pub fn spawn(&self, binary: &str, env: &[(String, String)]) -> Result<Child> {
        self.launch(binary, env, Stdio::inherit())
    }

    /// `spawn`, with the function's stdout (where its metrics go) piped to the caller.
    pub fn spawn_with_stdout(&self, binary: &str, env: &[(String, String)]) -> Result<Child> {
        self.launch(binary, env, Stdio::piped())
    }

    fn launch(&self, binary: &str, env: &[(String, String)], stdout: Stdio) -> Result<Child> {
        self.command(binary, env, Stdio::inherit())
            .stdout(stdout)
            .spawn()
            .with_context(|| {
                format!(
                    "spawning {}",
                    FsPath::new(&crate::lambda_binary(binary)).display()
                )
            })
    }

    /// Runs a function that is expected to stop during its start: its exit status and
    /// what it wrote to stderr.
    pub async fn run_to_exit(
        &self,
        binary: &str,
        env: &[(String, String)],
    ) -> Result<(std::process::ExitStatus, String)> {
        let child = self.command(binary, env, Stdio::piped()).spawn()?;
        let out = tokio::time::timeout(crate::PATIENCE, child.wait_with_output())
            .await
            .context("the function did not stop in time")??;
        Ok((
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    fn command(&self, binary: &str, env: &[(String, String)], stderr: Stdio) -> Command {
        let path = crate::lambda_binary(binary);
        let mut cmd = Command::new(&path);
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", &self.addr)
            .env("AWS_LAMBDA_FUNCTION_NAME", binary)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }
}

async fn next(State(s): State<Arc<Shared>>) -> Response {
    s.first_poll
        .lock()
        .unwrap()
        .get_or_insert_with(Instant::now);
    loop {
        let arrived = s.arrived.notified();
        if let Some((id, event)) = s.pending.lock().unwrap().pop_front() {
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + s.timeout.as_millis();
            return (
                [
                    ("lambda-runtime-aws-request-id", id),
                    ("lambda-runtime-deadline-ms", deadline.to_string()),
                    (
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:000000000000:function:test".to_string(),
                    ),
                    (
                        "lambda-runtime-trace-id",
                        "Root=1-00000000-000000000000000000000000".to_string(),
                    ),
                    ("content-type", "application/json".to_string()),
                ],
                event.to_string(),
            )
                .into_response();
        }
        arrived.await;
    }
}

async fn response(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    _h: HeaderMap,
    body: Body,
) -> StatusCode {
    let Some(tx) = s.replies.lock().unwrap().remove(&id) else {
        return StatusCode::BAD_REQUEST;
    };
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                let _ = tx.send(Chunk::Data(c));
            }
            Err(_) => break,
        }
    }
    let _ = tx.send(Chunk::End);
    StatusCode::ACCEPTED
}

async fn error(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    if let Some(tx) = s.replies.lock().unwrap().remove(&id) {
        let _ = tx.send(Chunk::Error(
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        ));
    }
    StatusCode::ACCEPTED
}

async fn init_error(State(s): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    *s.init_error.lock().unwrap() = Some(serde_json::from_slice(&body).unwrap_or(Value::Null));
    StatusCode::ACCEPTED
}
