//! What every Lambda function starts from: JSON logs, the settings (the same variables
//! as the local gateway), the metrics, and the AWS ports. The functions themselves are
//! in `bin/`.

use anyhow::{Context, Result, bail};
use pitchside_core::app::authn::Authenticator;
use pitchside_core::config::{self, SecretName, Settings};
use pitchside_core::live::Hub;
use pitchside_core::ports::Ports;
use pitchside_core::secrets::Keys;
use pitchside_http::sockets::LocalSockets;
use pitchside_http::state::{AppState, SseSource, WsDelivery};
use std::sync::Arc;

pub use pitchside_http::logging;

pub use pitchside_core::config::wanted_by as wants;

/// The settings, which must name the AWS backend, with the secrets in `wanted`; and,
/// unless they turn them off, the metrics recorder installed.
pub fn settings(wanted: &[SecretName]) -> Result<Settings> {
    let s =
        Settings::wanting(|k| std::env::var(k).ok(), wanted).context("invalid configuration")?;
    if s.aws.is_none() {
        bail!(
            "{}: the Lambda functions run on the AWS backend; set it to `aws`",
            config::BACKEND
        );
    }
    if s.metrics {
        install_metrics().context("installing the metrics recorder")?;
    }
    Ok(s)
}

/// The namespace of every function's metrics in CloudWatch.
pub const METRICS_NAMESPACE: &str = "Pitchside";

static METRICS: std::sync::OnceLock<&'static metrics_cloudwatch_embedded::Collector> =
    std::sync::OnceLock::new();

/// Records the metrics as CloudWatch's Embedded Metric Format: one JSON document on
/// stdout (the function's log stream) per invocation, which CloudWatch turns into
/// metrics under [`METRICS_NAMESPACE`], with the function's name as a dimension.
fn install_metrics() -> Result<()> {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(METRICS_NAMESPACE)
        .with_dimension("function", function)
        .init()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    pitchside_core::metrics::describe();
    let _ = METRICS.set(collector);
    Ok(())
}

/// Writes what this invocation recorded, once it is done: Lambda may freeze the
/// process as soon as it has answered, so nothing waits for a timer.
pub fn flush_metrics() {
    if let Some(collector) = METRICS.get()
        && let Err(e) = collector.flush(std::io::stdout().lock())
    {
        tracing::warn!(error = %e, "cannot write the invocation's metrics");
    }
}

/// Runs one invocation, then writes its metrics.
pub async fn metered<T>(invocation: impl std::future::Future<Output = T>) -> T {
    let out = invocation.await;
    flush_metrics();
    out
}

/// The AWS ports. No function but `push` posts to WebSocket connections (and `ws` its
/// own answers): an appended event reaches them from the table's stream.
pub fn ports(settings: &Settings, sdk: &aws_config::SdkConfig) -> Ports {
    let aws_settings = settings.aws.as_ref().expect("checked by settings()");
    pitchside_aws::wiring::ports(sdk, aws_settings, settings.retention, None)
}

/// The push queue, which the settings must name.
pub fn push_queue(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
) -> Result<pitchside_aws::SqsChunkQueue> {
    let aws_settings = settings.aws.as_ref().expect("checked by settings()");
    pitchside_aws::wiring::push_queue(sdk, aws_settings).with_context(|| {
        format!(
            "{}: this function needs the push queue (SQS FIFO); set it",
            config::PUSH_QUEUE_URL
        )
    })
}

/// The function's secrets, the stored ones read now (a missing or unreadable one stops
/// the start, naming it).
pub async fn keys(settings: &Settings, sdk: &aws_config::SdkConfig, ports: &Ports) -> Result<Keys> {
    pitchside_aws::wiring::keys(settings, Some(sdk), ports.clock.clone())
        .await
        .context("reading the secrets")
}

pub fn authenticator(keys: &Keys, ports: &Ports) -> Authenticator {
    Authenticator::new(
        keys.tokens.clone(),
        ports.directory.clone(),
        ports.tickets.clone(),
        ports.clock.clone(),
    )
}

/// The state the HTTP functions serve their routes with.
pub async fn http_state(wanted: &[SecretName]) -> Result<AppState> {
    let settings = settings(wanted)?;
    let sdk = pitchside_aws::sdk_config().await;
    let ports = ports(&settings, &sdk);
    let keys = keys(&settings, &sdk, &ports).await?;
    let auth = authenticator(&keys, &ports);
    let buffer = settings.subscriber_buffer;
    Ok(AppState {
        ports,
        hub: Arc::new(Hub::new(buffer)),
        auth,
        keys: Arc::new(keys),
        settings: Arc::new(settings),
        sockets: Arc::new(LocalSockets::new(buffer)),
        ws_delivery: WsDelivery::Management,
        sse_source: SseSource::Poll,
        scores: Default::default(),
        // A function's streams end by their lifetime; Lambda stops it, not a signal.
        shutdown: Default::default(),
    })
}

/// Puts the Lambda request id on the request, where the routes' request span reads it.
pub fn with_lambda_request_id(mut req: lambda_http::Request) -> lambda_http::Request {
    use lambda_http::RequestExt;
    let id = req.lambda_context_ref().map(|c| c.request_id.clone());
    if let Some(id) = id
        && let Ok(v) = id.parse()
    {
        req.headers_mut()
            .insert(pitchside_http::routes::REQUEST_ID_HEADER, v);
    }
    req
}

/// Runs an HTTP function (API Gateway or Function URL) serving `routes` with the
/// secrets it wants, buffered or streamed.
pub async fn serve_http(
    routes: fn(AppState) -> axum::Router,
    wanted: &[SecretName],
    streaming: bool,
) -> Result<(), lambda_http::Error> {
    logging::init();
    let state = http_state(wanted).await?;
    // A streamed response's own metrics are written with the next invocation's.
    let app = tower::ServiceBuilder::new()
        .map_future(metered)
        .map_request(with_lambda_request_id)
        .service(routes(state));
    if streaming {
        lambda_http::run_with_streaming_response(app).await
    } else {
        lambda_http::run(app).await
    }
}
