//! The AWS push path under load, for the bench: the `fanout` and `push` function
//! binaries run as Lambda runs them (the Runtime API harness, several `push` processes
//! at once, a stand-in for the SQS event source mapping that hands each a batch of the
//! FIFO push queue as Lambda would), against moto and a management API stand-in that
//! answers after a latency, throttles a share of calls and has gone connections.
//! Figures, not assertions: the bench prints them.

// Like the adapters, this plays AWS's part, and keeps time as it does: the wall clock.
#![allow(clippy::disallowed_methods)]

use crate::management_api::{Behaviour, ManagementApi};
use crate::runtime_api::RuntimeApi;
use crate::{Env, Mode};
use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use futures_util::StreamExt;
use pitchside_aws::DynamoStore;
use pitchside_core::ports::EventLog;
use pitchside_domain::event::{EventType, NewEvent};
use pitchside_domain::ids::OrganizationId;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The push function's timeout in the template (the Globals').
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(30);
/// Memory of the fan-out function (the template's Globals') and of the push function
/// (its own), for GB-seconds.
pub const FANOUT_MB: f64 = 256.0;
pub const PUSH_MB: f64 = 1024.0;

/// The push trigger's batch size in the template.
pub const BATCH_SIZE: i32 = 1;

/// One room size's run.
#[derive(Debug, Clone)]
pub struct Round {
    pub connections: usize,
    pub gone: usize,
    pub throttle: f64,
    pub events: usize,
    /// Append to the last live connection reached, per event (ms).
    pub reach_ms: Vec<f64>,
    /// Calls to the management API per delivered (connection, event).
    pub posts_per_delivery: f64,
    pub fanout_invocations: u64,
    pub push_invocations: u64,
    pub longest_push_ms: f64,
    /// GB-seconds of both functions, from the invocations' durations.
    pub gb_seconds: f64,
    pub push_seconds: f64,
    pub fanout_seconds: f64,
    pub dead_letters: u64,
    pub out_of_order: u64,
    pub repeats: u64,
    /// Requests moto received, by action (`AmazonSQS.SendMessageBatch`, …).
    pub requests: HashMap<String, usize>,
    pub api_calls: u64,
}

/// A worker batch of ten messages with a room of `connections` on the organization:
/// the invocation's time (ms).
#[derive(Debug, Clone)]
pub struct WorkerBatch {
    pub connections: usize,
    pub ms: f64,
    /// Requests the batch made, by service.
    pub dynamodb: usize,
    pub sqs: usize,
}

fn org() -> OrganizationId {
    OrganizationId::new("sim-club").expect("a valid id")
}

/// Writes `n` connections of the organization's `org` room straight into the
/// registry's rows (batch writes: registering each would take moto minutes), `gone` of
/// them answering 410.
async fn seed_connections(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    n: usize,
) -> Result<Vec<String>> {
    let ids: Vec<String> = (0..n).map(|i| format!("sim{i:07}AbCd=")).collect();
    let expires = chrono::Utc::now().timestamp() + 3 * 3600;
    let s = |v: &str| AttributeValue::S(v.to_string());
    let mut requests = Vec::new();
    for id in &ids {
        let conn = HashMap::from([
            ("pk".to_string(), s(&pitchside_aws::keys::connection(id))),
            ("sk".to_string(), s(pitchside_aws::keys::CONN)),
            ("org".to_string(), s(org().as_str())),
            ("user".to_string(), s("sim-viewer")),
            ("roles".to_string(), s("[\"viewer\"]")),
            ("rooms".to_string(), AttributeValue::Ss(vec!["org".into()])),
            (
                "expiresAt".to_string(),
                AttributeValue::N(expires.to_string()),
            ),
        ]);
        let room = HashMap::from([
            (
                "pk".to_string(),
                s(&pitchside_aws::keys::room(&org(), "org")),
            ),
            ("sk".to_string(), s(id)),
            (
                "expiresAt".to_string(),
                AttributeValue::N(expires.to_string()),
            ),
        ]);
        for item in [conn, room] {
            requests.push(
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item)).build()?)
                    .build(),
            );
        }
    }
    let batches: Vec<Vec<WriteRequest>> = requests.chunks(25).map(<[_]>::to_vec).collect();
    let results: Vec<Result<()>> = futures_util::stream::iter(batches)
        .map(|batch| async move {
            let mut pending = batch;
            for _ in 0..20 {
                let out = client
                    .batch_write_item()
                    .request_items(table, pending.clone())
                    .send()
                    .await?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(table))
                    .unwrap_or_default();
                if pending.is_empty() {
                    return Ok(());
                }
            }
            bail!("moto kept items unprocessed")
        })
        .buffer_unordered(8)
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(ids)
}

/// The stream record of a log head's move, as Lambda hands it to `fanout`.
fn head_moved(org: &OrganizationId, old: u64, new: u64) -> Value {
    let image = |head: u64| json!({"pk": {"S": format!("ORG#{org}")}, "sk": {"S": "LOG"}, "head": {"N": head.to_string()}});
    json!({"eventID": format!("sim-{new}"), "eventName": "MODIFY", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "dynamodb": {"Keys": {"pk": {"S": format!("ORG#{org}")}, "sk": {"S": "LOG"}},
            "OldImage": image(old), "NewImage": image(new),
            "SequenceNumber": format!("1111{new:020}"), "SizeBytes": 98,
            "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/sim/stream/2026-12-01T00:00:00.000"})
}

/// The event source mapping of the push queue: `pollers` loops, each receiving a batch
/// (of the template's size) and invoking the function with it, deleting what it did not report failed; until
/// `stop`. Answers the invocations' count, the longest, and their total time.
async fn event_source(
    sqs: aws_sdk_sqs::Client,
    url: String,
    api: Arc<RuntimeApi>,
    pollers: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> (u64, f64, f64) {
    let invocations = Arc::new(AtomicU64::new(0));
    let longest_us = Arc::new(AtomicU64::new(0));
    let total_us = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..pollers)
        .map(|_| {
            let (sqs, url, api, stop) = (sqs.clone(), url.clone(), api.clone(), stop.clone());
            let (invocations, longest_us, total_us) =
                (invocations.clone(), longest_us.clone(), total_us.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let Ok(out) = sqs
                        .receive_message()
                        .queue_url(&url)
                        .max_number_of_messages(BATCH_SIZE)
                        .wait_time_seconds(1)
                        .visibility_timeout(180)
                        .message_system_attribute_names(
                            aws_sdk_sqs::types::MessageSystemAttributeName::All,
                        )
                        .send()
                        .await
                    else {
                        continue;
                    };
                    if out.messages().is_empty() {
                        continue;
                    }
                    let records: Vec<Value> = out.messages().iter().map(sqs_record).collect();
                    let t0 = Instant::now();
                    let reply = api
                        .invoke(json!({ "Records": records }))
                        .patience(PUSH_TIMEOUT + Duration::from_secs(5))
                        .json()
                        .await;
                    let us = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX);
                    invocations.fetch_add(1, Ordering::SeqCst);
                    total_us.fetch_add(us, Ordering::SeqCst);
                    longest_us.fetch_max(us, Ordering::SeqCst);
                    // No answer: Lambda counts the whole batch failed, and SQS gives it
                    // again after its visibility timeout.
                    let Ok(reply) = reply else { continue };
                    let failed: HashSet<String> = reply["batchItemFailures"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_string))
                        .collect();
                    for m in out.messages() {
                        if !failed.contains(m.message_id().unwrap_or_default()) {
                            let _ = sqs
                                .delete_message()
                                .queue_url(&url)
                                .receipt_handle(m.receipt_handle().unwrap_or_default())
                                .send()
                                .await;
                        }
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    (
        invocations.load(Ordering::SeqCst),
        longest_us.load(Ordering::SeqCst) as f64 / 1000.0,
        total_us.load(Ordering::SeqCst) as f64 / 1000.0,
    )
}

/// A message received from SQS as Lambda's event source mapping hands it to a
/// function: one record of an SQS event.
pub fn sqs_record(m: &aws_sdk_sqs::types::Message) -> Value {
    let attributes: serde_json::Map<String, Value> = m
        .attributes()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str().to_string(), Value::from(v.clone())))
        .collect();
    json!({"messageId": m.message_id(), "receiptHandle": m.receipt_handle(),
        "body": m.body(), "attributes": attributes, "messageAttributes": {},
        "md5OfBody": m.md5_of_body(), "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:pitchside-push.fifo",
        "awsRegion": "us-east-1"})
}

/// The variables a function of the simulation runs with: the environment's, without
/// the gateway's secrets (these functions want none), and `extra`.
fn function_vars(env: &Env, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = env
        .vars
        .iter()
        .filter(|(k, _)| !k.ends_with("_ARN"))
        .cloned()
        .collect();
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    vars
}

/// Requests moto receives while `during` runs, by action.
pub async fn moto_requests<T>(
    during: impl std::future::Future<Output = Result<T>>,
) -> Result<(HashMap<String, usize>, T)> {
    let moto = std::env::var("AWS_ENDPOINT_URL")?;
    let http = reqwest::Client::new();
    for step in ["reset-recording", "start-recording"] {
        http.post(format!("{moto}/moto-api/recorder/{step}"))
            .send()
            .await?
            .error_for_status()?;
    }
    let out = during.await;
    http.post(format!("{moto}/moto-api/recorder/stop-recording"))
        .send()
        .await?
        .error_for_status()?;
    let log = http
        .get(format!("{moto}/moto-api/recorder/download-recording"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let mut by_action: HashMap<String, usize> = HashMap::new();
    for entry in log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        let target = entry["headers"].as_object().and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"))
                .and_then(|(_, v)| v.as_str().map(str::to_string))
        });
        if let Some(t) = target {
            *by_action.entry(t).or_default() += 1;
        }
    }
    Ok((by_action, out?))
}

/// One room of `connections` (`gone` of them 410), `events` events appended one after
/// another, each fanned out by one `fanout` invocation and delivered by `instances`
/// `push` processes.
pub async fn round(
    connections: usize,
    gone: usize,
    throttle: f64,
    latency: Duration,
    events: usize,
    instances: usize,
) -> Result<Round> {
    let env = Env::new(Mode::Aws).await;
    let sdk = pitchside_aws::sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let table = env.var("PITCHSIDE_TABLE").context("table")?.to_string();
    let ids = seed_connections(&dynamo, &table, connections).await?;
    let gone: HashSet<String> = ids
        .iter()
        .step_by(ids.len() / gone.max(1))
        .take(gone)
        .cloned()
        .collect();
    let live = (connections - gone.len()) as u64;
    let store = DynamoStore::new(dynamo, &table, pitchside_aws::dynamo::DEFAULT_RETENTION);
    let stub = ManagementApi::start(Behaviour {
        latency,
        throttle,
        gone,
        tally_only: true,
    })
    .await?;
    // `BENCH_PUSH_LOG`: the functions' log filter (warnings by default: a chunk handed
    // back, a connection not forgotten).
    let log = std::env::var("BENCH_PUSH_LOG").unwrap_or_else(|_| "warn".into());
    let vars = function_vars(
        &env,
        &[("PITCHSIDE_WS_ENDPOINT", &stub.url), ("RUST_LOG", &log)],
    );

    let fanout = RuntimeApi::start().await?;
    let _fanout = fanout.spawn("fanout", &vars)?;
    let push = Arc::new(RuntimeApi::with_timeout(PUSH_TIMEOUT).await?);
    let _push: Vec<_> = (0..instances)
        .map(|_| push.spawn("push", &vars))
        .collect::<Result<_>>()?;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = env
        .var("PITCHSIDE_PUSH_QUEUE_URL")
        .context("push queue")?
        .to_string();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let source = tokio::spawn(event_source(
        sqs.clone(),
        url.clone(),
        push.clone(),
        instances,
        stop.clone(),
    ));

    let (requests, (reach_ms, fanout_ms)) = moto_requests(async {
        let mut reach_ms = Vec::new();
        let mut fanout_ms = 0.0;
        for i in 0..events {
            let new = NewEvent {
                kind: EventType::MessageReceived,
                payload: json!({"text": format!("event {i}"), "from": "sim"}),
                timestamp: chrono::Utc::now(),
                dedup_key: None,
            };
            let id = store.append(&org(), new).await?.event.id.0;
            let appended = Instant::now();
            let reply = fanout
                .invoke(json!({"Records": [head_moved(&org(), id - 1, id)]}))
                .patience(Duration::from_secs(120))
                .json()
                .await?;
            fanout_ms += appended.elapsed().as_secs_f64() * 1000.0;
            if reply["batchItemFailures"]
                .as_array()
                .is_none_or(|f| !f.is_empty())
            {
                bail!("fanout failed: {reply}");
            }
            let deadline = appended + Duration::from_secs(120);
            loop {
                if let Some(r) = stub.reach(id)
                    && r.connections >= live
                {
                    reach_ms.push(r.last.duration_since(appended).as_secs_f64() * 1000.0);
                    break;
                }
                if Instant::now() > deadline {
                    bail!(
                        "event {id} reached {:?} of {live} connections in 120 s",
                        stub.reach(id).map(|r| r.connections)
                    );
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        Ok((reach_ms, fanout_ms))
    })
    .await?;
    stop.store(true, Ordering::SeqCst);
    let (push_invocations, longest_push_ms, push_ms) = source.await?;

    let dlq_url = url.replace("-push.fifo", "-push-dlq.fifo");
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await?;
    let dead_letters = attrs
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let (calls, _) = stub.calls();
    let (out_of_order, repeats) = stub.order();
    let delivered = live * events as u64;
    Ok(Round {
        connections,
        gone: connections - live as usize,
        throttle,
        events,
        reach_ms,
        posts_per_delivery: calls as f64 / delivered as f64,
        fanout_invocations: events as u64,
        push_invocations,
        longest_push_ms,
        gb_seconds: (push_ms * PUSH_MB + fanout_ms * FANOUT_MB) / 1000.0 / 1024.0,
        push_seconds: push_ms / 1000.0,
        fanout_seconds: fanout_ms / 1000.0,
        dead_letters,
        out_of_order,
        repeats,
        requests,
        api_calls: calls,
    })
}

/// The `worker` function's time for a batch of ten WhatsApp messages to an
/// organization with `connections` open WebSocket connections: the record path, which
/// must not grow with the room.
pub async fn worker_batch(connections: usize) -> Result<WorkerBatch> {
    use pitchside_core::ports::*;
    use pitchside_domain::ids::PhoneNumberId;
    let env = Env::new(Mode::Aws).await;
    let sdk = pitchside_aws::sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let table = env.var("PITCHSIDE_TABLE").context("table")?.to_string();
    seed_connections(&dynamo, &table, connections).await?;
    let store = DynamoStore::new(dynamo, &table, pitchside_aws::dynamo::DEFAULT_RETENTION);
    store
        .put_organization(&pitchside_domain::tenancy::Organization {
            id: org(),
            name: "Sim Club".into(),
        })
        .await?;
    let phone = "900000000000077";
    store
        .put_whatsapp_number(&org(), &PhoneNumberId::new(phone)?)
        .await?;
    let vars = function_vars(&env, &[("RUST_LOG", "error")]);
    let api = RuntimeApi::start().await?;
    let _worker = api.spawn("worker", &vars)?;
    let batch = |n: usize| {
        let records: Vec<Value> = (0..10)
            .map(|i| {
                let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1",
                    "changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": phone},
                    "messages": [{"from": "919800000077", "id": format!("wamid.sim.{n}.{i}"),
                    "timestamp": "1764140000", "type": "text", "text": {"body": "in"}}]}}]}]});
                let work = pitchside_domain::work::QueuedWork::new(
                    pitchside_domain::work::WorkKind::WhatsappNotification,
                    chrono::Utc::now(),
                    None,
                    body.to_string().as_bytes(),
                );
                json!({"messageId": format!("sim-{n}-{i}"), "receiptHandle": "r",
                    "body": String::from_utf8_lossy(&work.to_bytes()),
                    "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                    "md5OfBody": "", "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:sim-inbound", "awsRegion": "us-east-1"})
            })
            .collect();
        json!({ "Records": records })
    };
    // A warm-up batch, then the one measured. moto copies a whole table for each
    // transaction, so its time grows with the table's rows, connections' included; the
    // requests the batch makes are what show whether the worker's work does.
    let patience = Duration::from_secs(300);
    api.invoke(batch(0)).patience(patience).json().await?;
    let t0 = Instant::now();
    let (requests, reply) = moto_requests(async {
        let reply = api.invoke(batch(1)).patience(patience).json().await?;
        Ok(reply)
    })
    .await?;
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    if reply["batchItemFailures"]
        .as_array()
        .is_none_or(|f| !f.is_empty())
    {
        bail!("the worker failed records: {reply}");
    }
    let count = |prefix: &str| {
        requests
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    };
    Ok(WorkerBatch {
        connections,
        ms,
        dynamodb: count("DynamoDB_"),
        sqs: count("AmazonSQS."),
    })
}
