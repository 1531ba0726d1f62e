//! Every metric Pitchside records, named once. Handlers and adapters call the functions
//! here; what carries them is the process's recorder: Prometheus in the local gateway,
//! nothing at all where none is installed (the facade's calls are then no-ops).
//!
//! No metric carries the organization: tenants are unbounded, and a label per tenant
//! would multiply every series (and, on CloudWatch, every custom metric's bill) by the
//! number of clubs. Every label here takes values from a fixed, documented set; the
//! organization is on the log lines instead (`docs/OPERATIONS.md`).

use metrics::{Counter, Unit, counter, describe_counter, describe_gauge, describe_histogram};
use std::sync::OnceLock;
use std::time::Duration;

pub const WEBHOOKS_RECEIVED: &str = "pitchside_webhooks_received_total";
pub const WEBHOOKS_ACKNOWLEDGED: &str = "pitchside_webhooks_acknowledged_total";
pub const WEBHOOKS_REFUSED: &str = "pitchside_webhooks_refused_total";
pub const WEBHOOK_ACK_SECONDS: &str = "pitchside_webhook_ack_seconds";
pub const WORK: &str = "pitchside_work_total";
pub const WEBHOOK_TO_APPEND_SECONDS: &str = "pitchside_webhook_to_append_seconds";
pub const QUEUE_MESSAGES: &str = "pitchside_queue_messages";
pub const QUEUE_OLDEST_AGE_SECONDS: &str = "pitchside_queue_oldest_age_seconds";
pub const QUEUE_DEAD_LETTERED: &str = "pitchside_queue_dead_lettered_total";
pub const EVENTS_APPENDED: &str = "pitchside_events_appended_total";
pub const APPEND_TO_PUSH_SECONDS: &str = "pitchside_append_to_push_seconds";
pub const PUSH_ATTEMPTS: &str = "pitchside_push_attempts_total";
pub const PUSHES: &str = "pitchside_pushes_total";
pub const CONNECTIONS: &str = "pitchside_connections";
pub const CONNECTIONS_OPENED: &str = "pitchside_connections_opened_total";
pub const CUT_OFF: &str = "pitchside_subscribers_cut_off_total";
pub const RESUMES: &str = "pitchside_resumes_total";
pub const CATCH_UP_READS: &str = "pitchside_catch_up_reads_total";
pub const BIDS: &str = "pitchside_bids_total";
pub const BALLS: &str = "pitchside_balls_total";

/// Every metric, with its kind, unit and meaning: what the recorders describe, and the
/// table in `docs/OPERATIONS.md` (a test holds the two together).
pub const ALL: &[(&str, Kind, Unit, &str)] = &[
    (
        WEBHOOKS_RECEIVED,
        Kind::Counter,
        Unit::Count,
        "Webhook POSTs received, by source (whatsapp, stripe).",
    ),
    (
        WEBHOOKS_ACKNOWLEDGED,
        Kind::Counter,
        Unit::Count,
        "Webhooks answered 200: their payload is durably queued.",
    ),
    (
        WEBHOOKS_REFUSED,
        Kind::Counter,
        Unit::Count,
        "Webhooks refused, by source and reason (the error code answered).",
    ),
    (
        WEBHOOK_ACK_SECONDS,
        Kind::Histogram,
        Unit::Seconds,
        "From a webhook's verification to its acknowledgement (queueing included).",
    ),
    (
        WORK,
        Kind::Counter,
        Unit::Count,
        "Queued messages the worker ran, by kind and outcome (processed, retried, failed).",
    ),
    (
        WEBHOOK_TO_APPEND_SECONDS,
        Kind::Histogram,
        Unit::Seconds,
        "From a webhook's acknowledgement to the worker's events for it, by kind.",
    ),
    (
        QUEUE_MESSAGES,
        Kind::Gauge,
        Unit::Count,
        "Messages on the work queue, by state (visible, in_flight, delayed, dead), when scraped.",
    ),
    (
        QUEUE_OLDEST_AGE_SECONDS,
        Kind::Gauge,
        Unit::Seconds,
        "How long the oldest visible message on the work queue has waited, when scraped.",
    ),
    (
        QUEUE_DEAD_LETTERED,
        Kind::Counter,
        Unit::Count,
        "Messages moved to the dead letters after their last receive.",
    ),
    (
        EVENTS_APPENDED,
        Kind::Counter,
        Unit::Count,
        "Events appended to an organization's log, by type (redeliveries excluded).",
    ),
    (
        APPEND_TO_PUSH_SECONDS,
        Kind::Histogram,
        Unit::Seconds,
        "From an event's append to its hand-over to this process's live subscribers.",
    ),
    (
        PUSH_ATTEMPTS,
        Kind::Counter,
        Unit::Count,
        "Calls to the WebSocket management API, retries included.",
    ),
    (
        PUSHES,
        Kind::Counter,
        Unit::Count,
        "Frames pushed to one connection, by transport and outcome (delivered, gone, throttled, failed).",
    ),
    (
        CONNECTIONS,
        Kind::Gauge,
        Unit::Count,
        "Live connections this process holds, by transport.",
    ),
    (
        CONNECTIONS_OPENED,
        Kind::Counter,
        Unit::Count,
        "Connections opened, by transport.",
    ),
    (
        CUT_OFF,
        Kind::Counter,
        Unit::Count,
        "Subscribers cut off for falling a whole ring behind, by transport.",
    ),
    (
        RESUMES,
        Kind::Counter,
        Unit::Count,
        "SSE streams resumed from a Last-Event-ID, by outcome (served, reset).",
    ),
    (
        CATCH_UP_READS,
        Kind::Counter,
        Unit::Count,
        "Catch-up pages read, by outcome (page, reset).",
    ),
    (
        BIDS,
        Kind::Counter,
        Unit::Count,
        "Bids placed, by outcome (accepted, or the refusal's code).",
    ),
    (
        BALLS,
        Kind::Counter,
        Unit::Count,
        "Scoring writes, by action (scored, undone).",
    ),
];

/// A metric's kind, as its recorder holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Gives the installed recorder every metric's unit and meaning.
pub fn describe() {
    for &(name, kind, unit, help) in ALL {
        match kind {
            Kind::Counter => describe_counter!(name, unit, help),
            Kind::Gauge => describe_gauge!(name, unit, help),
            Kind::Histogram => describe_histogram!(name, unit, help),
        }
    }
}

/// The histograms' buckets, in seconds: from a millisecond to half a minute.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Where a webhook came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Whatsapp,
    Stripe,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Whatsapp => "whatsapp",
            Source::Stripe => "stripe",
        }
    }
}

pub fn webhook_received(source: Source) {
    counter!(WEBHOOKS_RECEIVED, "source" => source.as_str()).increment(1);
}

/// A webhook answered: acknowledged after `took`, or refused with `code`.
pub fn webhook_answered(source: Source, answer: Result<Duration, &'static str>) {
    match answer {
        Ok(took) => {
            counter!(WEBHOOKS_ACKNOWLEDGED, "source" => source.as_str()).increment(1);
            metrics::histogram!(WEBHOOK_ACK_SECONDS, "source" => source.as_str())
                .record(took.as_secs_f64());
        }
        Err(code) => {
            counter!(WEBHOOKS_REFUSED, "source" => source.as_str(), "reason" => code).increment(1);
        }
    }
}

/// What became of one queued message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkOutcome {
    Processed,
    /// Left on the queue to be received again.
    Retried,
    /// Retrying cannot help; left to the dead letters.
    Failed,
}

pub fn work(kind: &'static str, outcome: WorkOutcome) {
    let outcome = match outcome {
        WorkOutcome::Processed => "processed",
        WorkOutcome::Retried => "retried",
        WorkOutcome::Failed => "failed",
    };
    counter!(WORK, "kind" => kind, "outcome" => outcome).increment(1);
}

pub fn webhook_to_append(kind: &'static str, took: Duration) {
    metrics::histogram!(WEBHOOK_TO_APPEND_SECONDS, "kind" => kind).record(took.as_secs_f64());
}

/// Sets the queue's gauges from a reading of it.
pub fn queue_depth(depth: &crate::ports::QueueDepth) {
    #[allow(clippy::cast_precision_loss)]
    for (state, n) in [
        ("visible", depth.visible),
        ("in_flight", depth.in_flight),
        ("delayed", depth.delayed),
        ("dead", depth.dead),
    ] {
        metrics::gauge!(QUEUE_MESSAGES, "state" => state).set(n as f64);
    }
    metrics::gauge!(QUEUE_OLDEST_AGE_SECONDS).set(depth.oldest.unwrap_or_default().as_secs_f64());
}

pub fn dead_lettered(n: u64) {
    counter!(QUEUE_DEAD_LETTERED).increment(n);
}

pub fn event_appended(kind: pitchside_domain::event::EventType) {
    counter!(EVENTS_APPENDED, "type" => kind.as_str()).increment(1);
}

/// Counts an append's event, unless a previous run had appended it.
pub fn appended(appended: &crate::ports::Appended) {
    if appended.created {
        event_appended(appended.event.kind);
    }
}

/// How a frame reaches a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Sse,
    /// A WebSocket this process holds.
    Ws,
    /// A WebSocket on API Gateway, through its management API.
    WsManagement,
}

impl Transport {
    const ALL: [Transport; 3] = [Transport::Sse, Transport::Ws, Transport::WsManagement];

    fn as_str(self) -> &'static str {
        match self {
            Transport::Sse => "sse",
            Transport::Ws => "ws",
            Transport::WsManagement => "ws_management",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// An event handed to this process's live subscribers (SSE and WebSocket alike), so
/// long after its append. On AWS the same wait is the stream's and the push queue's,
/// which AWS measures itself (`IteratorAge`, `ApproximateAgeOfOldestMessage`).
pub fn append_to_push(took: Duration) {
    metrics::histogram!(APPEND_TO_PUSH_SECONDS).record(took.as_secs_f64());
}

/// What became of one frame pushed to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Delivered,
    /// The connection is gone (a 410, or a closed socket).
    Gone,
    /// Throttled (a 429); tried again.
    Throttled,
    /// Refused or failed for good.
    Failed,
}

impl Pushed {
    const ALL: [Pushed; 4] = [
        Pushed::Delivered,
        Pushed::Gone,
        Pushed::Throttled,
        Pushed::Failed,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Pushed::Delivered => "delivered",
            Pushed::Gone => "gone",
            Pushed::Throttled => "throttled",
            Pushed::Failed => "failed",
        }
    }
}

/// The push counters' handles, looked up once: a delivery to ten thousand subscribers
/// is ten thousand increments, and each lookup would hash the key again. Taken on the
/// first push, after the recorder is installed.
fn push_counters() -> &'static [[Counter; 4]; 3] {
    static COUNTERS: OnceLock<[[Counter; 4]; 3]> = OnceLock::new();
    COUNTERS.get_or_init(|| {
        Transport::ALL.map(|t| {
            Pushed::ALL
                .map(|p| counter!(PUSHES, "transport" => t.as_str(), "outcome" => p.as_str()))
        })
    })
}

pub fn pushed(transport: Transport, outcome: Pushed, n: u64) {
    push_counters()[transport.index()][outcome as usize].increment(n);
}

pub fn push_attempt() {
    counter!(PUSH_ATTEMPTS, "transport" => Transport::WsManagement.as_str()).increment(1);
}

/// A live connection held by this process: counted while it lives.
pub struct Connection(Transport);

impl Connection {
    pub fn open(transport: Transport) -> Connection {
        counter!(CONNECTIONS_OPENED, "transport" => transport.as_str()).increment(1);
        metrics::gauge!(CONNECTIONS, "transport" => transport.as_str()).increment(1.0);
        Connection(transport)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        metrics::gauge!(CONNECTIONS, "transport" => self.0.as_str()).decrement(1.0);
    }
}

/// A connection on API Gateway opened (the gauge is API Gateway's own
/// `ConnectCount`; a function holds none).
pub fn connection_opened(transport: Transport) {
    counter!(CONNECTIONS_OPENED, "transport" => transport.as_str()).increment(1);
}

pub fn cut_off(transport: Transport) {
    counter!(CUT_OFF, "transport" => transport.as_str()).increment(1);
}

/// An SSE stream resumed from a `Last-Event-ID`: served from the log, or reset.
pub fn resumed(reset: bool) {
    let outcome = if reset { "reset" } else { "served" };
    counter!(RESUMES, "outcome" => outcome).increment(1);
}

pub fn catch_up_read(reset: bool) {
    let outcome = if reset { "reset" } else { "page" };
    counter!(CATCH_UP_READS, "outcome" => outcome).increment(1);
}

/// A bid: accepted, or refused with its code.
pub fn bid(outcome: Result<(), &'static str>) {
    counter!(BIDS, "outcome" => outcome.err().unwrap_or("accepted")).increment(1);
}

/// A scoring write: a ball, or the last one undone.
pub fn ball(undone: bool) {
    let action = if undone { "undone" } else { "scored" };
    counter!(BALLS, "action" => action).increment(1);
}

/// The time from `from` to `to`, none when the clock went back.
pub fn between(from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>) -> Duration {
    (to - from).to_std().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    /// The operators' table lists every metric, with its type.
    #[test]
    fn the_operations_doc_lists_every_metric() {
        let doc = include_str!("../../../docs/OPERATIONS.md");
        for &(name, kind, _, _) in super::ALL {
            let row = format!("| `{name}` | {} |", kind.as_str());
            assert!(doc.contains(&row), "docs/OPERATIONS.md lacks the row {row}");
        }
    }
}
