//! `pitchside serve`: settings, the backend (embedded or AWS), the worker loop and the
//! HTTP server, in one process.

use crate::aws_push;
use crate::demo;
use crate::worker;
use anyhow::{Context, Result};
use pitchside_aws::stream::LogStream;
use pitchside_aws::{ManagementApi, SqsChunkQueue};
use pitchside_core::app::authn::Authenticator;
use pitchside_core::config::{self, Settings, SseFollow};
use pitchside_core::live::{Held, Hub, MemoryRegistry};
use pitchside_core::ports::Ports;
use pitchside_domain::limits::MAX_RECEIVES;
use pitchside_embedded::{Db, SqliteQueue, SqliteStore};
use pitchside_http::routes;
use pitchside_http::sockets::LocalSockets;
use pitchside_http::state::{AppState, SseSource, WsDelivery};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tracing::info;

/// The kernel send buffer of each connection (Linux doubles it for bookkeeping).
const SEND_BUFFER_BYTES: usize = 64 * 1024;

/// How long a stop waits for connections and streams to end after the signal: well
/// inside the 10 s a container runtime or systemd gives before SIGKILL by default.
const STOP_WITHIN: std::time::Duration = std::time::Duration::from_secs(3);

/// And then for the worker and the push path to finish what they hold.
const WORK_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

pub async fn run(demo_mode: bool) -> Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    let settings = if demo_mode {
        Settings::demo_from_lookup(env)
    } else {
        Settings::from_lookup(env)
    }
    .context("invalid configuration")?;

    // Before anything records: the hot paths take their handles on first use.
    let metrics = settings
        .metrics
        .then(crate::metrics::install)
        .transpose()
        .context("installing the metrics recorder")?;

    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .with_context(|| format!("{}: cannot listen on {}", config::ADDR, settings.addr))?;
    let addr = listener.local_addr()?;

    let hub = Arc::new(Hub::new(settings.subscriber_buffer));
    let Backend {
        ports,
        ws_delivery,
        where_,
        push_path,
        work,
    } = backend(&settings, addr, hub.clone()).await?;
    let keys = pitchside_aws::wiring::keys(&settings, None, ports.clock.clone())
        .await
        .context("reading the secrets")?;
    let auth = Authenticator::new(
        keys.tokens.clone(),
        ports.directory.clone(),
        ports.tickets.clone(),
        ports.clock.clone(),
    );
    let sockets = Arc::new(LocalSockets::new(settings.subscriber_buffer));
    let sse_source = match settings.sse.follow {
        SseFollow::Hub => SseSource::Hub,
        SseFollow::Poll => SseSource::Poll,
    };
    let state = AppState {
        ports: ports.clone(),
        hub,
        auth,
        keys: Arc::new(keys),
        settings: Arc::new(settings),
        sockets,
        ws_delivery,
        sse_source,
        scores: Default::default(),
        shutdown: Default::default(),
    };

    if demo_mode {
        demo::seed(&ports)
            .await
            .context("seeding the demo organization")?;
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = tokio::spawn(work.run(stop_rx.clone()));
    let push_path = push_path.map(|p| {
        tokio::spawn(aws_push::run(
            ports.clone(),
            p.stream,
            p.queue,
            p.endpoint,
            stop_rx,
        ))
    });

    // Tests and scripts wait for this line; it names the real port when the address
    // asked for port 0.
    println!("pitchside listening on http://{addr}");
    if demo_mode {
        demo::print_guide(demo::token(&state.settings, &state.keys).await, addr);
    }
    info!(%addr, backend = %where_, "gateway started");

    let limits = crate::listen::Limits {
        header_timeout: state.settings.header_timeout,
        max_pending: state.settings.max_pending_connections,
    };
    let own = metrics.map(crate::metrics::routes).unwrap_or_default();
    let app = routes::router_with(state.clone(), own).layer(cors(&state.settings.cors_origins)?);
    let shutdown = state.shutdown.clone();
    let streams = tokio::runtime::Builder::new_multi_thread()
        .thread_name("pitchside-streams")
        .enable_all()
        .build()
        .context("starting the streams' runtime")?;
    let runtimes = crate::listen::Runtimes {
        streams: streams.handle().clone(),
    };
    let stop_by = crate::listen::serve(
        listener,
        app,
        limits,
        runtimes,
        |tcp| {
            // Live streams write small frames: no Nagle delay, and a bounded kernel
            // send buffer, so a client that stops reading is noticed (and cut off)
            // after a bounded amount of memory instead of megabytes of autotuned buffer.
            let _ = tcp.set_nodelay(true);
            let _ = socket2::SockRef::from(tcp).set_send_buffer_size(SEND_BUFFER_BYTES);
        },
        async {
            shutdown_signal().await;
            // Live streams end now; the accept loop then waits for their connections.
            shutdown.begin();
            tokio::time::Instant::now() + STOP_WITHIN
        },
    )
    .await;
    // Upgraded WebSockets are no longer the HTTP server's: wait for their closes too.
    if tokio::time::timeout_at(stop_by, shutdown.streams_ended())
        .await
        .is_err()
    {
        tracing::warn!(
            open = shutdown.open_streams(),
            "streams still open at the stop deadline; exiting anyway"
        );
    }
    // The worker finishes the message it holds; what it has not begun stays queued
    // for the next process (released at start-up, or by SQS's visibility timeout).
    let _ = stop_tx.send(true);
    let work = async {
        let _ = worker.await;
        if let Some(p) = push_path {
            let _ = p.await;
        }
    };
    if tokio::time::timeout_at(stop_by + WORK_GRACE, work)
        .await
        .is_err()
    {
        tracing::warn!("queue work still running at the stop deadline; left to the queue");
    }
    // Whatever the streams' runtime still runs (a slot's release) dies with the process.
    streams.shutdown_background();
    info!("gateway stopped");
    Ok(())
}

/// What the gateway runs of AWS's push path in AWS mode (`aws_push`).
struct PushPath {
    stream: LogStream,
    queue: SqsChunkQueue,
    endpoint: ManagementApi,
}

/// The ports of the configured backend, how WebSockets get their events, a line
/// saying where the data lives, in AWS mode the push path to run, and the worker's.
struct Backend {
    ports: Ports,
    ws_delivery: WsDelivery,
    where_: String,
    push_path: Option<PushPath>,
    work: worker::Worker,
}

async fn backend(settings: &Settings, addr: SocketAddr, hub: Arc<Hub>) -> Result<Backend> {
    match &settings.aws {
        None => {
            let db = Db::open(&settings.data_dir).with_context(|| {
                format!(
                    "{}: cannot open the store in {}",
                    config::DATA_DIR,
                    settings.data_dir.display()
                )
            })?;
            let store = Arc::new(SqliteStore::new(db.clone()));
            tokio::spawn(retention(store.clone(), settings.retention));
            let queue = SqliteQueue::new(db.clone(), MAX_RECEIVES);
            let released = queue
                .release_in_flight()
                .await
                .context("releasing the queue's in-flight messages")?;
            if released > 0 {
                info!(
                    released,
                    "messages a previous run was processing are queued again"
                );
            }
            let registry = Arc::new(MemoryRegistry::default());
            let held = Arc::new(Held::default());
            let work = worker::Worker {
                ports: Ports::new(
                    Arc::new(SqliteStore::new(db.applied())),
                    Arc::new(queue.applied()),
                    registry.clone(),
                    held.clone(),
                ),
                batch: worker::EMBEDDED_BATCH,
                delivery: worker::Delivery::AfterFlush {
                    db: db.clone(),
                    held,
                    to: hub.clone(),
                },
            };
            let ports = Ports::new(store, Arc::new(queue), registry, hub);
            Ok(Backend {
                ports,
                ws_delivery: WsDelivery::Hub,
                where_: format!("embedded ({})", db.path().display()),
                push_path: None,
                work,
            })
        }
        Some(aws_settings) => {
            let sdk = pitchside_aws::sdk_config().await;
            // WebSockets live in this process: the push path posts to this gateway's
            // own @connections endpoint, unless told otherwise.
            let endpoint = aws_settings
                .ws_endpoint
                .clone()
                .unwrap_or_else(|| format!("http://{addr}"));
            let queue = pitchside_aws::wiring::push_queue(&sdk, aws_settings).with_context(|| {
                format!(
                    "{}: AWS mode takes events to WebSocket clients through the push queue (SQS FIFO); `pitchside aws-bootstrap` creates it",
                    config::PUSH_QUEUE_URL
                )
            })?;
            let stream = LogStream::open(&sdk, &aws_settings.table)
                .await
                .with_context(|| format!("opening the stream of table {}", aws_settings.table))?;
            let ports =
                pitchside_aws::wiring::ports(&sdk, aws_settings, settings.retention, Some(hub));
            Ok(Backend {
                work: worker::Worker {
                    ports: ports.clone(),
                    batch: worker::SQS_BATCH,
                    delivery: worker::Delivery::AtOnce,
                },
                ports,
                ws_delivery: WsDelivery::Management,
                where_: format!(
                    "aws (table {}, queue {})",
                    aws_settings.table, aws_settings.queue_url
                ),
                push_path: Some(PushPath {
                    stream,
                    queue,
                    endpoint: pitchside_aws::wiring::connections(&sdk, &endpoint),
                }),
            })
        }
    }
}

/// Enforces the event log's retention in the embedded store (on AWS, DynamoDB's TTL
/// does), at start-up and then hourly.
async fn retention(store: Arc<SqliteStore>, keep: std::time::Duration) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        let cutoff = chrono::Utc::now() - keep;
        match store.trim_before(cutoff).await {
            Ok(0) => {}
            Ok(n) => info!(removed = n, "event log retention"),
            Err(e) => tracing::warn!(error = %e, "event log retention failed; will retry"),
        }
    }
}

/// `pitchside aws-bootstrap`.
pub async fn aws_bootstrap(table: &str, queue: &str, secrets: Option<&str>) -> Result<()> {
    let sdk = pitchside_aws::sdk_config().await;
    pitchside_aws::bootstrap::create_table(&aws_sdk_dynamodb::Client::new(&sdk), table)
        .await
        .with_context(|| format!("creating table {table}"))?;
    let (url, dlq) = pitchside_aws::bootstrap::create_queues(
        &aws_sdk_sqs::Client::new(&sdk),
        queue,
        MAX_RECEIVES,
    )
    .await
    .with_context(|| format!("creating queue {queue}"))?;
    let (push_url, push_dlq) = pitchside_aws::bootstrap::create_push_queues(
        &aws_sdk_sqs::Client::new(&sdk),
        queue,
        MAX_RECEIVES,
    )
    .await
    .with_context(|| format!("creating the push queue of {queue}"))?;
    println!("{}=aws", config::BACKEND);
    println!("{}={table}", config::TABLE);
    println!("{}={url}", config::QUEUE_URL);
    println!("{}={dlq}", config::DEAD_LETTER_QUEUE_URL);
    println!("{}={push_url}", config::PUSH_QUEUE_URL);
    println!("# the push queue's dead-letter queue: {push_dlq}");
    if let Some(prefix) = secrets {
        // Each secret's value from the environment, else the demo's; stored as the
        // deployment stores them, one secret each, and named by ARN.
        let client = aws_sdk_secretsmanager::Client::new(&sdk);
        for name in config::SecretName::ALL {
            let value = std::env::var(name.variable()).ok().or_else(|| {
                config::DEMO_VALUES
                    .iter()
                    .find(|(k, _)| *k == name.variable())
                    .map(|(_, v)| v.to_string())
            });
            let Some(value) = value else { continue };
            let short = name.variable().trim_start_matches("PITCHSIDE_");
            let id = format!("{prefix}/{}", short.to_ascii_lowercase().replace('_', "-"));
            let arn = pitchside_aws::bootstrap::put_secret(&client, &id, &value)
                .await
                .with_context(|| format!("storing secret {id}"))?;
            println!("{}={arn}", name.arn_variable());
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    info!("shutting down");
}

/// Lets pages on the configured origins call the gateway (with the token in a header,
/// or cookies) and read its answers and streams; any other origin gets no CORS headers,
/// so the browser refuses it. On AWS the HTTP API and the Function URL answer CORS from
/// the template's `CorsOrigins`, with the same headers and methods.
fn cors(origins: &[String]) -> Result<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins = origins
        .iter()
        .map(|o| HeaderValue::from_str(o).with_context(|| format!("{}: {o}", config::CORS_ORIGINS)))
        .collect::<Result<Vec<_>>>()?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("last-event-id"),
        ])
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .max_age(std::time::Duration::from_secs(600)))
}
