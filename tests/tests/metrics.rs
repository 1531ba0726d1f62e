//! `/metrics` and `/readyz`, black-box, in both modes: the scrape parses with
//! Prometheus' own text parser, and its counters moved by exactly what the test did.

use pitchside_tests::*;
use serde_json::Value;
use std::path::Path;
use tokio::io::AsyncWriteExt;

const PHONE: &str = "555000555";
const WA: &str = "919800000505";

/// The scrape's samples, parsed by `prometheus_client` (the venv `make test` installs).
async fn scrape(gw: &Gateway) -> Vec<Value> {
    let resp = reqwest::Client::new()
        .get(gw.url("/metrics"))
        .header("x-api-key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = resp.text().await.unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut parser = tokio::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/metrics_text.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the test venv's python (make test installs it)");
    parser
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .await
        .unwrap();
    let out = parser.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "the exposition does not parse: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The value of the sample `name` whose labels include `labels` (0 when absent).
fn value(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s["name"] == name)
        .filter(|s| labels.iter().all(|(k, v)| s["labels"][k] == *v))
        .map(|s| s["value"].as_f64().unwrap())
        .sum()
}

both_modes!(a_scrape_counts_exactly_what_happened);
async fn a_scrape_counts_exactly_what_happened(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-m", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-m", "admin-org-m", &["viewer"]);

    // Behind the admin key.
    let anonymous = reqwest::get(gw.url("/metrics")).await.unwrap();
    assert_eq!(anonymous.status(), 401);

    let before = scrape(&gw).await;
    let mut sse = SseClient::connect(&gw.url("/sse/events"), Some(&t), None)
        .await
        .unwrap();
    const N: usize = 3;
    for i in 1..=N {
        gw.send_text(PHONE, WA, &format!("wamid.m{i}"), &format!("m{i}"))
            .await
            .unwrap();
    }
    for _ in 1..=N {
        sse.next_frame().await.unwrap();
    }
    // One refused: a body signed with the wrong secret.
    let body = text_message(PHONE, WA, "wamid.bad", "bad");
    let status = reqwest::Client::new()
        .post(gw.url("/whatsapp/webhook"))
        .header("x-hub-signature-256", sign("not-the-secret", &body))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);

    let after = scrape(&gw).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    let n = N as f64;
    let wa = [("source", "whatsapp")];
    assert_eq!(moved("pitchside_webhooks_received_total", &wa), n + 1.0);
    assert_eq!(moved("pitchside_webhooks_acknowledged_total", &wa), n);
    assert_eq!(
        moved(
            "pitchside_webhooks_refused_total",
            &[("source", "whatsapp"), ("reason", "bad_signature")]
        ),
        1.0
    );
    assert_eq!(moved("pitchside_webhook_ack_seconds_count", &wa), n);
    assert_eq!(
        moved(
            "pitchside_work_total",
            &[("kind", "whatsapp.notification"), ("outcome", "processed")]
        ),
        n
    );
    assert_eq!(
        moved(
            "pitchside_events_appended_total",
            &[("type", "message.received")]
        ),
        n
    );
    assert_eq!(
        moved(
            "pitchside_pushes_total",
            &[("transport", "sse"), ("outcome", "delivered")]
        ),
        n
    );
    assert_eq!(moved("pitchside_append_to_push_seconds_count", &[]), n);
    assert_eq!(
        value(&after, "pitchside_connections", &[("transport", "sse")]),
        1.0
    );
    // The queue is read at the scrape: everything was processed.
    assert_eq!(
        value(&after, "pitchside_queue_messages", &[("state", "visible")]),
        0.0
    );
    // Histograms are histograms (buckets), not summaries.
    let histogram = after
        .iter()
        .find(|s| s["name"] == "pitchside_webhook_to_append_seconds_bucket")
        .expect("a histogram with buckets");
    assert_eq!(histogram["type"], "histogram");

    drop(sse);
    let ready = reqwest::get(gw.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(
        ready["data"],
        serde_json::json!({"store": "ok", "queue": "ok"})
    );
}

/// A gateway whose queue is gone is alive but not ready, and says which part failed;
/// the scrape still answers.
#[tokio::test]
async fn readiness_names_the_part_it_cannot_reach() {
    let mut env = Env::new(Mode::Aws).await;
    let url = env.var("PITCHSIDE_QUEUE_URL").unwrap().to_string();
    env.vars
        .push(("PITCHSIDE_QUEUE_URL".into(), format!("{url}-gone")));
    let gw = env.start().await;
    let alive = reqwest::get(gw.url("/healthz")).await.unwrap();
    assert_eq!(alive.status(), 200);
    let ready = reqwest::get(gw.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "not_ready");
    assert_eq!(
        body["error"]["failing"],
        serde_json::json!(["queue"]),
        "{body}"
    );
    assert!(
        !body.to_string().contains(&url),
        "the queue's address stays in the log: {body}"
    );
    scrape(&gw).await;
}
