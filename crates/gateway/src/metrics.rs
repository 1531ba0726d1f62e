//! The gateway's metrics: the Prometheus recorder behind `GET /metrics`.
//!
//! `/metrics` is on the gateway's own listener, behind the admin key (the
//! `x-api-key` header, as every admin route): a second listen address would be one
//! more port to open, forward and firewall on every deployment, while Prometheus sends
//! a header with every scrape (`http_headers` in its `scrape_config`,
//! `docs/OPERATIONS.md`). The queue's gauges are read at each scrape, so they are as
//! fresh as the scrape.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use pitchside_core::app::health::sample_queue;
use pitchside_core::metrics::{self, Kind};
use pitchside_http::extract::AdminKey;
use pitchside_http::state::AppState;
use std::time::Duration;

/// How often recorded histogram samples are folded into their buckets between scrapes,
/// so that memory stays bounded however rarely Prometheus scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

/// Prometheus' text format, version 0.0.4.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Installs the recorder for the whole process and starts its upkeep. Call it once,
/// before anything records (the push counters' handles are taken on first use).
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let mut builder = PrometheusBuilder::new();
    for &(name, kind, _, _) in metrics::ALL {
        if kind == Kind::Histogram {
            builder = builder.set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(name.to_string()),
                metrics::LATENCY_BUCKETS,
            )?;
        }
    }
    let handle = builder.install_recorder()?;
    metrics::describe();
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// `GET /metrics`, when the metrics are on.
pub fn routes(handle: PrometheusHandle) -> axum::Router<AppState> {
    axum::Router::new().route(
        "/metrics",
        get(
            move |State(state): State<AppState>, _: AdminKey| async move {
                if let Err(e) = sample_queue(&state.ports).await {
                    // The scrape still answers: the stale gauges and the counters are
                    // worth having, and `/readyz` names the failing part.
                    tracing::warn!(error = %e, "cannot read the queue's depth for a scrape");
                }
                ([(CONTENT_TYPE, TEXT_FORMAT)], handle.render()).into_response()
            },
        ),
    )
}
