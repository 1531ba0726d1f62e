//! Each Lambda function binary, run as Lambda runs it: through the Runtime API, with the
//! sample events of `infra/events/`, against the emulator.

#![allow(clippy::disallowed_methods)] // a test may read the clock

use pitchside_aws::{DynamoRegistry, DynamoStore, SqsQueue};
use pitchside_core::ports::*;
use pitchside_domain::auth::{Membership, Role};
use pitchside_domain::event::{EventId, EventType, NewEvent};
use pitchside_domain::ids::{OrganizationId, PhoneNumberId, UserId};
use pitchside_domain::work::QueuedWork;
use pitchside_tests::runtime_api::{Chunk, RuntimeApi};
use pitchside_tests::*;
use serde_json::Value;
use std::time::Duration;

fn sample(name: &str) -> Value {
    let path = format!("{}/../infra/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).unwrap()
}

/// An AWS-mode environment seeded with the sample organization, the sample secrets
/// stored in Secrets Manager, and the variables every function gets.
struct Fixture {
    env: Env,
    vars: Vec<(String, String)>,
    /// Each sample secret's variable and the ARN of the secret holding it.
    secrets: Vec<(String, String)>,
    store: DynamoStore,
    org: OrganizationId,
}

/// The secrets a function is given, as `template.yaml` gives them.
fn wanted(function: &str) -> &'static [&'static str] {
    match function {
        "webhook" => &[
            "PITCHSIDE_WHATSAPP_APP_SECRET",
            "PITCHSIDE_WHATSAPP_VERIFY_TOKEN",
        ],
        "api" => &["PITCHSIDE_JWT_SECRET", "PITCHSIDE_ADMIN_API_KEY"],
        "ws" | "sse" => &["PITCHSIDE_JWT_SECRET"],
        _ => &[],
    }
}

async fn fixture() -> Fixture {
    let env = Env::new(Mode::Aws).await;
    let meta = sample("sample-env.json");
    // Not the gateway's secrets: each function gets the sample's, by ARN.
    let vars: Vec<(String, String)> = env
        .vars
        .iter()
        .filter(|(k, _)| !k.ends_with("_ARN"))
        .cloned()
        .collect();
    let sdk = pitchside_aws::sdk_config().await;
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let mut secrets = Vec::new();
    for (k, v) in meta["values"].as_object().unwrap() {
        let id = format!("{}/{k}", env.var("PITCHSIDE_TABLE").unwrap());
        let arn = pitchside_aws::bootstrap::put_secret(&sm, &id, v.as_str().unwrap())
            .await
            .unwrap();
        secrets.push((format!("{k}_ARN"), arn));
    }
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        env.var("PITCHSIDE_TABLE").unwrap(),
        pitchside_aws::dynamo::DEFAULT_RETENTION,
    );
    let org = OrganizationId::new(meta["organization"].as_str().unwrap()).unwrap();
    store
        .put_organization(&Organization {
            id: org.clone(),
            name: "Sample Club".into(),
        })
        .await
        .unwrap();
    store
        .put_whatsapp_number(
            &org,
            &PhoneNumberId::new(meta["phoneNumberId"].as_str().unwrap()).unwrap(),
        )
        .await
        .unwrap();
    store
        .put_member(
            &org,
            &UserId::new(meta["user"].as_str().unwrap()).unwrap(),
            &Membership {
                roles: vec![Role::Admin, Role::Viewer],
                team_id: None,
                active: true,
            },
            None,
        )
        .await
        .unwrap();
    Fixture {
        env,
        vars,
        secrets,
        store,
        org,
    }
}

impl Fixture {
    /// The variables `function` runs with: the shared ones and its own secrets' ARNs.
    fn vars(&self, function: &str) -> Vec<(String, String)> {
        let mut vars = self.vars.clone();
        for (k, arn) in &self.secrets {
            if wanted(function).contains(&k.trim_end_matches("_ARN")) {
                vars.push((k.clone(), arn.clone()));
            }
        }
        vars
    }

    async fn queue(&self) -> SqsQueue {
        let sdk = pitchside_aws::sdk_config().await;
        SqsQueue::new(
            aws_sdk_sqs::Client::new(&sdk),
            self.env.var("PITCHSIDE_QUEUE_URL").unwrap(),
            None,
        )
    }

    async fn append(&self, text: &str) -> EventId {
        let e = NewEvent {
            kind: EventType::MessageReceived,
            payload: serde_json::json!({ "text": text }),
            timestamp: chrono::Utc::now(),
            dedup_key: None,
        };
        self.store.append(&self.org, e).await.unwrap().event.id
    }
}

#[tokio::test]
async fn a_function_whose_secret_cannot_be_read_does_not_start_and_names_it() {
    let f = fixture().await;
    let api = RuntimeApi::start().await.unwrap();
    let missing = format!("{}/never-stored", f.env.var("PITCHSIDE_TABLE").unwrap());
    let mut vars = f.vars("webhook");
    vars.retain(|(k, _)| k != "PITCHSIDE_WHATSAPP_APP_SECRET_ARN");
    vars.push(("PITCHSIDE_WHATSAPP_APP_SECRET_ARN".into(), missing.clone()));
    let (status, stderr) = api.run_to_exit("webhook", &vars).await.unwrap();
    assert!(!status.success());
    assert!(
        stderr.contains("PITCHSIDE_WHATSAPP_APP_SECRET_ARN") && stderr.contains(&missing),
        "{stderr}"
    );
    assert!(stderr.contains("no such secret"), "{stderr}");
    // And one given no secret that it wants names the variable to set.
    let mut vars = f.vars("api");
    vars.retain(|(k, _)| k != "PITCHSIDE_ADMIN_API_KEY_ARN");
    let (status, stderr) = api.run_to_exit("api", &vars).await.unwrap();
    assert!(!status.success());
    assert!(stderr.contains("PITCHSIDE_ADMIN_API_KEY"), "{stderr}");
    for (_, v) in sample("sample-env.json")["values"].as_object().unwrap() {
        assert!(!stderr.contains(v.as_str().unwrap()), "{stderr}");
    }
}

/// Invokes the function with an HTTP API event and checks the status it answered.
async fn answered(api: &RuntimeApi, event: Value, status: u16) -> Value {
    let answer = api.invoke(event).json().await.unwrap();
    assert_eq!(answer["statusCode"], status, "{answer}");
    answer
}

#[tokio::test]
async fn webhook_answers_http_api_events_and_queues_only_signed_bodies() {
    let f = fixture().await;
    let api = RuntimeApi::start().await.unwrap();
    let _fn = api.spawn("webhook", &f.vars("webhook")).unwrap();

    let verify = answered(&api, sample("webhook-verify.json"), 200).await;
    assert_eq!(verify["body"], "1158201444");

    answered(&api, sample("webhook-forged.json"), 401).await;
    let queue = f.queue().await;
    assert!(
        queue
            .receive(10, Duration::from_secs(30), Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );

    let event = sample("webhook-post.json");
    answered(&api, event.clone(), 200).await;
    let got = queue
        .receive(10, Duration::from_secs(30), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let (_, raw) = QueuedWork::decode(&got[0].body).unwrap();
    assert_eq!(
        raw,
        pitchside_domain::work::Body::Inline(event["body"].as_str().unwrap().as_bytes().to_vec()),
        "queued byte for byte"
    );
}

/// The webhook function's log carries CloudWatch Embedded Metric Format documents:
/// the directive with the namespace, dimensions and units, and the values of exactly
/// the invocations made.
#[tokio::test]
async fn webhook_writes_its_metrics_as_embedded_metric_format() {
    use tokio::io::AsyncBufReadExt;
    let f = fixture().await;
    let api = RuntimeApi::start().await.unwrap();
    let mut function = api
        .spawn_with_stdout("webhook", &f.vars("webhook"))
        .unwrap();
    answered(&api, sample("webhook-forged.json"), 401).await;
    answered(&api, sample("webhook-post.json"), 200).await;

    // Each metric's value by its name and dimensions, summed over the documents.
    type Seen = std::collections::BTreeMap<(String, Vec<(String, String)>), f64>;
    let mut seen = Seen::new();
    let mut units = std::collections::BTreeMap::new();
    let mut lines = tokio::io::BufReader::new(function.stdout.take().unwrap()).lines();
    let wanted = |seen: &Seen| {
        seen.keys()
            .any(|(name, _)| name == "pitchside_webhooks_acknowledged_total")
    };
    while !wanted(&seen) {
        let line = tokio::time::timeout(PATIENCE, lines.next_line())
            .await
            .expect("the function writes its metrics after each invocation")
            .unwrap()
            .expect("the function is running");
        let Ok(doc) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let Some(directive) = doc["_aws"]["CloudWatchMetrics"].as_array() else {
            continue;
        };
        assert!(doc["_aws"]["Timestamp"].as_u64().is_some(), "{doc}");
        for d in directive {
            assert_eq!(d["Namespace"], "Pitchside", "{doc}");
            let dims = d["Dimensions"][0].as_array().unwrap();
            let dims: Vec<(String, String)> = dims
                .iter()
                .map(|k| {
                    let k = k.as_str().unwrap();
                    (k.to_string(), doc[k].as_str().unwrap().to_string())
                })
                .collect();
            assert!(
                dims.contains(&("function".into(), "webhook".into())),
                "{doc}"
            );
            for m in d["Metrics"].as_array().unwrap() {
                let name = m["Name"].as_str().unwrap().to_string();
                units.insert(name.clone(), m["Unit"].clone());
                let value = match &doc[&name] {
                    Value::Array(values) => values.len() as f64,
                    v => v.as_f64().unwrap(),
                };
                let mut dims = dims.clone();
                dims.sort();
                *seen.entry((name, dims)).or_default() += value;
            }
        }
    }
    let get = |name: &str, extra: &[(&str, &str)]| {
        let mut dims: Vec<(String, String)> = [("function", "webhook")]
            .iter()
            .chain(extra)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        dims.sort();
        seen.get(&(name.to_string(), dims)).copied().unwrap_or(0.0)
    };
    let wa = [("source", "whatsapp")];
    assert_eq!(
        get("pitchside_webhooks_received_total", &wa),
        2.0,
        "{seen:?}"
    );
    assert_eq!(
        get("pitchside_webhooks_acknowledged_total", &wa),
        1.0,
        "{seen:?}"
    );
    assert_eq!(
        get(
            "pitchside_webhooks_refused_total",
            &[("source", "whatsapp"), ("reason", "bad_signature")]
        ),
        1.0,
        "{seen:?}"
    );
    assert_eq!(
        get("pitchside_webhook_ack_seconds", &wa),
        1.0,
        "one sample: {seen:?}"
    );
    assert_eq!(units["pitchside_webhooks_received_total"], "Count");
    assert_eq!(units["pitchside_webhook_ack_seconds"], "Seconds");
}

#[tokio::test]
async fn worker_reports_the_bad_record_and_processes_the_good_one() {
    let f = fixture().await;
    let api = RuntimeApi::start().await.unwrap();
    let _fn = api.spawn("worker", &f.vars("worker")).unwrap();
    let reply = api.invoke(sample("worker-sqs.json")).json().await.unwrap();
    assert_eq!(
        reply["batchItemFailures"],
        serde_json::json!([{"itemIdentifier": "sample-bad"}]),
        "{reply}"
    );
    let page = f
        .store
        .read(&f.org, ReadFrom::After(EventId::ZERO), 10)
        .await
        .unwrap();
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].kind, EventType::MessageReceived);
    assert_eq!(page.events[0].payload["text"], "maybe");

    // Redelivered, the good record changes nothing.
    let again = api.invoke(sample("worker-sqs.json")).json().await.unwrap();
    assert_eq!(again["batchItemFailures"].as_array().unwrap().len(), 1);
    assert_eq!(f.store.bounds(&f.org).await.unwrap().head, EventId(1));
}

#[tokio::test]
async fn api_serves_catch_up_for_the_tokens_organization() {
    let f = fixture().await;
    f.append("one").await;
    let api = RuntimeApi::start().await.unwrap();
    let _fn = api.spawn("api", &f.vars("api")).unwrap();
    let reply = api
        .invoke(sample("api-catch-up.json"))
        .json()
        .await
        .unwrap();
    assert_eq!(reply["statusCode"], 200, "{reply}");
    let body: Value = serde_json::from_str(reply["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["data"][0]["payload"]["text"], "one");
    assert_eq!(body["data"][0]["organizationId"], f.org.as_str());

    let mut anonymous = sample("api-catch-up.json");
    anonymous["headers"] = serde_json::json!({});
    let reply = api.invoke(anonymous).json().await.unwrap();
    assert_eq!(reply["statusCode"], 401);
}

/// The `ws` function under the Runtime API, posting to a local gateway's management API.
/// The gateway holds no socket for the sample connection, so it answers 410 Gone as API
/// Gateway would for a vanished client.
async fn ws_function(f: &Fixture) -> (Gateway, RuntimeApi, tokio::process::Child) {
    let gateway = f.env.start().await;
    let mut vars = f.vars("ws");
    vars.push(("PITCHSIDE_WS_ENDPOINT".into(), gateway.base.clone()));
    let api = RuntimeApi::start().await.unwrap();
    let function = api.spawn("ws", &vars).unwrap();
    (gateway, api, function)
}

#[tokio::test]
async fn ws_connects_answers_through_the_management_api_and_disconnects() {
    let f = fixture().await;
    let (_gateway, api, _fn) = ws_function(&f).await;
    let registry = DynamoRegistry::new(
        aws_sdk_dynamodb::Client::new(&pitchside_aws::sdk_config().await),
        f.env.var("PITCHSIDE_TABLE").unwrap(),
    );
    let conn = ConnectionId("sample-connection=".into());

    let mut anonymous = sample("ws-connect.json");
    anonymous.as_object_mut().unwrap().remove("headers");
    anonymous
        .as_object_mut()
        .unwrap()
        .remove("multiValueHeaders");
    let refused = api.invoke(anonymous).json().await.unwrap();
    assert_eq!(refused["statusCode"], 401, "{refused}");
    assert_eq!(registry.lookup(&conn).await.unwrap(), None);

    let connected = api.invoke(sample("ws-connect.json")).json().await.unwrap();
    assert_eq!(connected["statusCode"], 200, "{connected}");
    assert_eq!(registry.lookup(&conn).await.unwrap().unwrap().org, f.org);

    // The pong is posted to the connection; the 410 removes it.
    let pinged = api.invoke(sample("ws-ping.json")).json().await.unwrap();
    assert_eq!(pinged["statusCode"], 200, "{pinged}");
    assert_eq!(registry.lookup(&conn).await.unwrap(), None);

    api.invoke(sample("ws-connect.json")).json().await.unwrap();
    assert!(registry.lookup(&conn).await.unwrap().is_some());
    let gone = api
        .invoke(sample("ws-disconnect.json"))
        .json()
        .await
        .unwrap();
    assert_eq!(gone["statusCode"], 200);
    assert_eq!(registry.lookup(&conn).await.unwrap(), None);
    assert!(registry.members(&f.org, ORG_ROOM).await.unwrap().is_empty());
}

/// A bid through the `ws` function: the organization comes from the registry, the
/// bidder's team from the store, and the bid lands in the auction and its log.
#[tokio::test]
async fn ws_places_a_bid_for_the_connections_organization() {
    let f = fixture().await;
    let (gateway, api, _fn) = ws_function(&f).await;
    let user = sample("sample-env.json")["user"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, _) = gateway
        .admin(
            "PUT",
            &format!("/admin/organizations/{}/members/{user}", f.org),
            Some(serde_json::json!({"roles": ["admin", "viewer", "team_owner"], "teamId": "t_1"})),
        )
        .await
        .unwrap();
    assert_eq!(code, 200);
    let (code, _) = gateway
        .admin(
            "PUT",
            &format!("/admin/organizations/{}/members/auc", f.org),
            Some(serde_json::json!({"roles": ["auctioneer"]})),
        )
        .await
        .unwrap();
    assert_eq!(code, 200);
    let auc = token(JWT_SECRET, f.org.as_str(), "auc", &["auctioneer"]);
    let setup = serde_json::json!({"name": "Lambda auction",
        "teams": [{"id": "t_1", "name": "One", "purse": 10_000_000}, {"id": "t_2", "name": "Two", "purse": 10_000_000}],
        "squad": {"min": 1, "max": 5, "overseasMax": 1}, "lotSeconds": 600});
    for (method, path, body) in [
        ("PUT", "/auctions/a_1", Some(setup)),
        (
            "PUT",
            "/auctions/a_1/players/p_1",
            Some(serde_json::json!({"name": "P1", "basePrice": 2_000_000})),
        ),
        (
            "POST",
            "/auctions/a_1/lots",
            Some(serde_json::json!({"playerId": "p_1"})),
        ),
    ] {
        let (code, body) = gateway.call(method, path, &auc, body).await.unwrap();
        assert_eq!(code, 200, "{path}: {body}");
    }

    // A role counts when the token grants it too: this connection's token is the
    // sample's, signed again with the team owner's role.
    let mut connect = sample("ws-connect.json");
    let secret = sample("sample-env.json")["values"]["PITCHSIDE_JWT_SECRET"]
        .as_str()
        .unwrap()
        .to_string();
    let bearer = format!(
        "Bearer {}",
        token(
            &secret,
            f.org.as_str(),
            &user,
            &["admin", "viewer", "team_owner"]
        )
    );
    connect["headers"]["Authorization"] = bearer.clone().into();
    connect["multiValueHeaders"]["Authorization"] = serde_json::json!([bearer]);
    let connected = api.invoke(connect).json().await.unwrap();
    assert_eq!(connected["statusCode"], 200, "{connected}");
    let mut message = sample("ws-ping.json");
    message["body"] =
        serde_json::json!({"action": "place_bid", "auctionId": "a_1", "playerId": "p_1",
        "teamId": "t_1", "amount": 2_000_000, "requestId": "r1"})
        .to_string()
        .into();
    let replied = api.invoke(message).json().await.unwrap();
    assert_eq!(replied["statusCode"], 200, "{replied}");

    let (_, state) = gateway
        .call("GET", "/auctions/a_1", &auc, None)
        .await
        .unwrap();
    let lot = &state["data"]["lot"];
    assert_eq!(
        (
            lot["bids"].as_u64(),
            lot["leadingTeam"].as_str(),
            lot["currentBid"].as_u64()
        ),
        (Some(1), Some("t_1"), Some(2_000_000)),
        "{state}"
    );
    let log = gateway.catch_up(&auc, "after=0").await.unwrap();
    let kinds: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["auction.lot.opened", "auction.bid.placed"]);
}

#[tokio::test]
async fn sse_streams_the_log_then_polls_then_ends_with_a_retry_hint() {
    let f = fixture().await;
    f.append("one").await;
    f.append("two").await;
    let mut vars = f.vars("sse");
    vars.push(("PITCHSIDE_SSE_POLL_MS".into(), "100".into()));
    vars.push(("PITCHSIDE_SSE_LIFETIME_SECONDS".into(), "5".into()));
    let api = RuntimeApi::start().await.unwrap();
    let _fn = api.spawn("sse", &vars).unwrap();

    let mut reply = api.invoke(sample("sse-events.json"));
    reply.until("\"text\":\"two\"").await.unwrap();
    let so_far = String::from_utf8_lossy(&reply.streamed).to_string();
    // The streaming prelude (status and headers), eight NUL bytes, then the body.
    let (prelude, body) = so_far
        .split_once("\0\0\0\0\0\0\0\0")
        .expect("a streaming prelude");
    let prelude: Value = serde_json::from_str(prelude).unwrap();
    assert_eq!(prelude["statusCode"], 200);
    assert_eq!(prelude["headers"]["content-type"], "text/event-stream");
    assert!(body.starts_with("retry: "), "{body}");
    assert!(body.contains("id: 1\nevent: message.received\n"), "{body}");

    // Appended while the stream is open: the poll finds it.
    f.append("three").await;
    reply.until("\"text\":\"three\"").await.unwrap();
    // And the stream ends on purpose, with a reconnection hint.
    loop {
        match reply.next().await.unwrap() {
            Chunk::Data(_) => {}
            Chunk::End => break,
            Chunk::Error(e) => panic!("{e}"),
        }
    }
    let all = String::from_utf8_lossy(&reply.streamed).to_string();
    assert!(all.trim_end().ends_with("retry: 3000"), "{all}");
    assert_eq!(
        all.matches("event: message.received").count(),
        3,
        "no event twice: {all}"
    );
}

/// The worker function is killed in the middle of a batch; Lambda invokes the batch
/// again, and every message is stored and emitted exactly once. A WebSocket client on
/// the local gateway (which serves the management API the worker pushes through)
/// shows when the worker is inside the batch.
#[tokio::test]
async fn worker_killed_mid_batch_is_retried_without_losing_or_doubling() {
    let f = fixture().await;
    let gateway = f.env.start().await;
    let mut vars = f.vars("worker");
    vars.push(("PITCHSIDE_WS_ENDPOINT".into(), gateway.base.clone()));
    let meta = sample("sample-env.json");
    let tok = token(
        JWT_SECRET,
        f.org.as_str(),
        meta["user"].as_str().unwrap(),
        &["admin"],
    );
    let mut ws = ws_connect(&gateway.addr, Some(&tok)).await.unwrap();
    ws_send(&mut ws, serde_json::json!({"action": "ping"}))
        .await
        .unwrap();
    assert_eq!(ws_next(&mut ws).await.unwrap()["type"], "pong");

    let n = 60;
    let messages: Vec<Value> = (0..n)
        .map(|i| {
            serde_json::json!({"from": meta["playerWhatsapp"], "id": format!("wamid.k.{i:03}"),
            "timestamp": "1764140000", "type": "text", "text": {"body": format!("{i}")}})
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({"object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "metadata": {"phone_number_id": meta["phoneNumberId"]}, "messages": messages}}]}]}))
    .unwrap();
    let work = QueuedWork::new(
        pitchside_domain::work::WorkKind::WhatsappNotification,
        chrono::Utc::now(),
        None,
        &body,
    );
    let event = serde_json::json!({"Records": [{
        "messageId": "batch-1", "receiptHandle": "r1",
        "body": String::from_utf8(work.to_bytes()).unwrap(),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
        "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:pitchside-inbound", "awsRegion": "us-east-1"}]});

    let api = RuntimeApi::start().await.unwrap();
    let mut first_worker = api.spawn("worker", &vars).unwrap();
    let _lost = api.invoke(event.clone());
    let first = ws_next(&mut ws).await.unwrap();
    assert_eq!(first["payload"]["messageId"], "wamid.k.000");
    first_worker.kill().await.unwrap();

    let _second_worker = api.spawn("worker", &vars).unwrap();
    let reply = api.invoke(event).json().await.unwrap();
    assert_eq!(reply["batchItemFailures"], serde_json::json!([]), "{reply}");
    let page = f
        .store
        .read(&f.org, ReadFrom::After(EventId::ZERO), 1000)
        .await
        .unwrap();
    let ids: Vec<String> = page
        .events
        .iter()
        .map(|e| e.payload["messageId"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..n).map(|i| format!("wamid.k.{i:03}")).collect();
    assert_eq!(ids, expected, "each message once, in order");
    assert_eq!(page.bounds.head, EventId(n as u64));
}

/// The push path's two functions as Lambda runs them: `fanout` takes the stream's
/// records of the log head's moves (the sample, and its neighbours) and queues chunks;
/// `push` takes the push queue's batches as the FIFO queue hands them out and posts
/// each event to every connection of its room, in order, through the management API
/// (a loopback stand-in that is slow, throttles a tenth of the calls, and answers 410
/// for gone connections). A gone connection is forgotten; a revoked member's gets the
/// notice and is closed.
#[tokio::test]
async fn fanout_and_push_take_each_append_to_every_connection_in_order() {
    use pitchside_tests::management_api::{Behaviour, ManagementApi};
    let f = fixture().await;
    let sdk = pitchside_aws::sdk_config().await;
    let registry = DynamoRegistry::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        f.env.var("PITCHSIDE_TABLE").unwrap(),
    );
    let ids: Vec<String> = (0..40).map(|i| format!("conn-{i:02}=")).collect();
    let revoked = UserId::new("revoked-member").unwrap();
    for (i, id) in ids.iter().enumerate() {
        let user = if i == 7 {
            revoked.clone()
        } else {
            UserId::new(format!("member-{i}")).unwrap()
        };
        let conn = ConnectionInfo {
            id: ConnectionId(id.clone()),
            org: f.org.clone(),
            user: user.clone(),
            roles: vec![Role::Viewer],
        };
        registry.register(&conn).await.unwrap();
        let own = pitchside_domain::rooms::Room::User(user).to_string();
        registry.join(&f.org, &conn.id, &own).await.unwrap();
    }
    let gone: std::collections::HashSet<String> = ["conn-03=", "conn-11=", "conn-29="]
        .map(String::from)
        .into();
    f.append("one").await;
    f.append("two").await;
    let revocation = pitchside_domain::revocation::event(&revoked, chrono::Utc::now());
    f.store.append(&f.org, revocation).await.unwrap();
    let stub = ManagementApi::start(Behaviour {
        latency: Duration::from_millis(2),
        throttle: 0.1,
        gone: gone.clone(),
        tally_only: false,
    })
    .await
    .unwrap();

    let sample = sample("fanout-dynamodb-stream.json");
    let record = sample["Records"][0].clone();
    let moved = |old: u64, new: u64| {
        let mut r = record.clone();
        r["dynamodb"]["OldImage"]["head"]["N"] = Value::from(old.to_string());
        r["dynamodb"]["NewImage"]["head"]["N"] = Value::from(new.to_string());
        r["dynamodb"]["SequenceNumber"] = Value::from(format!("1111{new:020}"));
        r
    };
    let fanout = RuntimeApi::start().await.unwrap();
    let _fanout = fanout.spawn("fanout", &f.vars("fanout")).unwrap();
    let event = serde_json::json!({"Records": [moved(0, 1), record, moved(2, 3)]});
    let reply = fanout.invoke(event).json().await.unwrap();
    assert_eq!(reply["batchItemFailures"], serde_json::json!([]), "{reply}");

    let push = RuntimeApi::start().await.unwrap();
    let mut vars = f.vars("push");
    vars.push(("PITCHSIDE_WS_ENDPOINT".into(), stub.url.clone()));
    let _push = push.spawn("push", &vars).unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = f.env.var("PITCHSIDE_PUSH_QUEUE_URL").unwrap();
    let mut batches = 0;
    loop {
        // As the event source mapping does: a batch of up to ten, to one invocation;
        // what it did not report failed is deleted.
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        if out.messages().is_empty() {
            break;
        }
        batches += 1;
        let records: Vec<Value> = out
            .messages()
            .iter()
            .map(pitchside_tests::push_sim::sqs_record)
            .collect();
        let reply = push
            .invoke(serde_json::json!({ "Records": records }))
            .json()
            .await
            .unwrap();
        assert_eq!(reply["batchItemFailures"], serde_json::json!([]), "{reply}");
        for m in out.messages() {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    assert!(batches > 1, "the events took several batches");

    let got = stub.received();
    for id in &ids {
        let texts: Vec<Value> = got
            .get(id)
            .map(|r| {
                r.iter()
                    .map(|m| serde_json::from_slice(&m.body).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        if gone.contains(id) {
            assert!(texts.is_empty(), "{id} is gone");
            continue;
        }
        let seen: Vec<&str> = texts
            .iter()
            .map(|v| v["payload"]["text"].as_str().unwrap_or("notice"))
            .collect();
        if id == "conn-07=" {
            assert_eq!(seen, ["one", "two", "notice"], "{id}");
            assert_eq!(texts[2]["code"], pitchside_domain::revocation::CODE);
        } else {
            assert_eq!(seen, ["one", "two"], "{id}: each event once, in order");
        }
    }
    assert_eq!(stub.closed(), vec!["conn-07=".to_string()]);
    assert_eq!(stub.order(), (0, 0), "nothing out of order, nothing twice");
    assert_eq!(stub.reach(2).unwrap().connections, 37);
    for id in gone.iter().chain(["conn-07=".to_string()].iter()) {
        assert_eq!(
            registry.lookup(&ConnectionId(id.clone())).await.unwrap(),
            None,
            "{id} is forgotten"
        );
    }
    assert_eq!(registry.members(&f.org, ORG_ROOM).await.unwrap().len(), 36);
}
