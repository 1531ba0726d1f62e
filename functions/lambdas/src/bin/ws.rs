//! The `ws` function (API Gateway WebSocket API): `$connect` authenticates (token
//! header, cookie or `ticket` query parameter) and registers the connection in its
//! organization; `$disconnect` removes it; every other route answers the client through
//! the management API. A message's organization is its connection's, from the store.

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use pitchside_aws::ManagementApi;
use pitchside_core::app::authn::{Authenticator, credential};
use pitchside_core::app::{ApiError, ErrorKind, push, ws};
use pitchside_core::ports::Ports;
use pitchside_core::ports::{ConnectionId, Posted};
use pitchside_domain::throttle::TokenBucket;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tracing::Instrument;

struct Function {
    ports: Ports,
    auth: Authenticator,
    sdk: aws_config::SdkConfig,
    /// The configured management endpoint; else derived from the first event.
    endpoint: Option<String>,
    /// Built once, on the first message: every event of this function names the same
    /// API and stage.
    replies: OnceLock<ManagementApi>,
    /// Token buckets of the connections this instance has served. Per instance: API
    /// Gateway spreads a connection's messages over instances, so its stage throttling
    /// (in the template) is the hard limit and this one the polite, per-message answer.
    buckets: Mutex<HashMap<ConnectionId, TokenBucket>>,
    rate: (f64, f64),
}

/// How long an answer may take to post, its retries included.
const REPLY_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// Buckets kept before the oldest are forgotten (a forgotten one starts full).
const MAX_BUCKETS: usize = 50_000;

impl Function {
    fn allow(&self, id: &ConnectionId) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(id) {
            buckets.clear();
        }
        buckets
            .entry(id.clone())
            .or_insert_with(|| TokenBucket::new(self.rate.0, self.rate.1, now))
            .take(now)
    }
}

fn respond(status: i64, body: String) -> ApiGatewayProxyResponse {
    let mut r = ApiGatewayProxyResponse::default();
    r.status_code = status;
    r.body = Some(Body::Text(body));
    r
}

fn refused(e: ApiError) -> ApiGatewayProxyResponse {
    respond(
        i64::from(pitchside_http::error::status_of(e.kind).as_u16()),
        e.body().to_string(),
    )
}

impl Function {
    async fn handle(
        &self,
        event: LambdaEvent<ApiGatewayWebsocketProxyRequest>,
    ) -> Result<ApiGatewayProxyResponse, Error> {
        let req = event.payload;
        let ctx = &req.request_context;
        let Some(id) = ctx.connection_id.clone().map(ConnectionId) else {
            return Ok(refused(ApiError::bad_request("no connection id")));
        };
        let route = ctx.route_key.clone().unwrap_or_else(|| "$default".into());
        let span = tracing::info_span!(
            "ws",
            request_id = %event.context.request_id,
            route = %route,
            connection = %id.0,
            org = tracing::field::Empty
        );
        self.route(&route, id, &req).instrument(span).await
    }

    async fn route(
        &self,
        route: &str,
        id: ConnectionId,
        req: &ApiGatewayWebsocketProxyRequest,
    ) -> Result<ApiGatewayProxyResponse, Error> {
        let ctx = &req.request_context;
        let span = tracing::Span::current();
        match route {
            "$connect" => {
                let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
                let ticket = req.query_string_parameters.first("ticket");
                let cred = match credential(header("authorization"), ticket, header("cookie")) {
                    Ok(c) => c,
                    Err(e) => return Ok(refused(e.into())),
                };
                match ws::connect(&self.auth, &self.ports, id, &cred).await {
                    Ok((who, _)) => {
                        span.record("org", who.org.as_str());
                        tracing::info!("connected");
                        Ok(respond(200, String::new()))
                    }
                    Err(e) => Ok(refused(e)),
                }
            }
            "$disconnect" => {
                ws::disconnect(self.ports.registry.as_ref(), &id)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(respond(200, String::new()))
            }
            _ => {
                let Some(conn) = self
                    .ports
                    .registry
                    .lookup(&id)
                    .await
                    .map_err(|e| e.to_string())?
                else {
                    return Ok(refused(ApiError::new(
                        ErrorKind::Unauthenticated,
                        "unauthorized",
                        "unknown connection",
                    )));
                };
                span.record("org", conn.org.as_str());
                let reply = if self.allow(&id) {
                    ws::handle(
                        &self.ports,
                        &conn,
                        None,
                        req.body.as_deref().unwrap_or_default(),
                    )
                    .await
                    .text
                } else {
                    ws::rate_limited()
                };
                let endpoint = match (&self.endpoint, &ctx.domain_name, &ctx.stage) {
                    (Some(e), _, _) => e.clone(),
                    (None, Some(domain), Some(stage)) => format!("https://{domain}/{stage}"),
                    _ => return Err("no management endpoint: set PITCHSIDE_WS_ENDPOINT".into()),
                };
                let replies = self
                    .replies
                    .get_or_init(|| pitchside_aws::wiring::connections(&self.sdk, &endpoint));
                // An answer waits on no more than the policy's few tries.
                let deadline = tokio::time::Instant::now() + REPLY_BUDGET;
                let policy = push::Policy::default();
                match push::reply(replies, &id, reply.as_bytes(), deadline, &policy).await {
                    Some(Posted::Sent) => {}
                    Some(Posted::Gone) => {
                        if let Err(e) = self.ports.registry.remove(&conn.org, &id).await {
                            tracing::warn!(error = %e, "cannot forget a gone connection");
                        }
                    }
                    other => {
                        tracing::warn!(outcome = ?other, "the answer did not reach the connection")
                    }
                }
                Ok(respond(200, String::new()))
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    pitchside_lambdas::logging::init();
    let settings = pitchside_lambdas::settings(pitchside_lambdas::wants::WS)?;
    let sdk = pitchside_aws::sdk_config().await;
    let ports = pitchside_lambdas::ports(&settings, &sdk);
    let keys = pitchside_lambdas::keys(&settings, &sdk, &ports).await?;
    let auth = pitchside_lambdas::authenticator(&keys, &ports);
    let function = Arc::new(Function {
        ports,
        auth,
        sdk,
        endpoint: settings.aws.as_ref().and_then(|a| a.ws_endpoint.clone()),
        replies: OnceLock::new(),
        buckets: Mutex::new(HashMap::new()),
        rate: (f64::from(settings.ws_rate), f64::from(settings.ws_burst)),
    });
    lambda_runtime::run(service_fn(move |event| {
        let f = function.clone();
        async move { pitchside_lambdas::metered(f.handle(event)).await }
    }))
    .await
}
