//! `template.yaml` repeats limits the code holds: these hold it to them, so a change on
//! one side only fails here rather than in production.

use pitchside_core::config::{SecretName, wanted_by};
use pitchside_domain::limits::MAX_RECEIVES;

fn template() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    std::fs::read_to_string(path).expect("template.yaml beside the workspace")
}

/// The values of every `key: value` line of the template with this key.
fn values_of(key: &str) -> Vec<String> {
    template()
        .lines()
        .filter_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_string())
        .collect()
}

#[test]
fn the_dead_letter_queues_take_messages_after_the_receives_the_code_counts() {
    // The inbound queue's and the push queue's.
    assert_eq!(
        values_of("maxReceiveCount"),
        vec![MAX_RECEIVES.to_string(); 2]
    );
}

fn resources() -> serde_yaml::Mapping {
    let doc: serde_yaml::Value = serde_yaml::from_str(&template()).expect("template.yaml parses");
    doc["Resources"].as_mapping().expect("Resources").clone()
}

fn resource(name: &str) -> serde_yaml::Value {
    resources()
        .get(name)
        .unwrap_or_else(|| panic!("{name} is in the template"))
        .clone()
}

/// A string, a `!Ref`/`!GetAtt`/`!Sub` (by its tag and argument) or a list, as text.
fn text(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Tagged(t) => format!("{} {}", t.tag, text(&t.value)),
        serde_yaml::Value::Sequence(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => serde_yaml::to_string(other)
            .expect("a YAML value prints")
            .trim()
            .to_string(),
    }
}

fn list(v: &serde_yaml::Value) -> Vec<serde_yaml::Value> {
    match v {
        serde_yaml::Value::Sequence(items) => items.clone(),
        other => vec![other.clone()],
    }
}

/// The worker's and the api's: reading and writing records, queueing. Neither pushes:
/// that is the push path's (README, "On AWS").
const RECORDS_AND_QUEUE: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "sqs:SendMessage",
];

const READ_SECRET: &str = "secretsmanager:GetSecretValue";

/// Each function's actions, as the README's "On AWS" lists them: what its code calls.
const ALLOWED: [(&str, &[&[&str]]); 7] = [
    (
        "WebhookFunction",
        &[&["sqs:SendMessage", "dynamodb:PutItem", READ_SECRET]],
    ),
    ("WorkerFunction", &[RECORDS_AND_QUEUE]),
    ("ApiFunction", &[RECORDS_AND_QUEUE, &[READ_SECRET]]),
    (
        "FanoutFunction",
        &[&["dynamodb:GetItem", "dynamodb:Query", "sqs:SendMessage"]],
    ),
    (
        "PushFunction",
        &[&[
            "execute-api:ManageConnections",
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "sqs:ChangeMessageVisibility",
        ]],
    ),
    (
        "SseFunction",
        &[&[
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
            READ_SECRET,
        ]],
    ),
    (
        "WsFunction",
        &[&[
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            "execute-api:ManageConnections",
            READ_SECRET,
        ]],
    ),
];

#[test]
fn each_function_is_granted_only_the_actions_it_uses_on_named_resources() {
    let all = resources();
    let functions: Vec<String> = all
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(k, _)| k.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        functions.len(),
        ALLOWED.len(),
        "every function has its list"
    );
    for (name, allowed) in ALLOWED {
        let policies = list(&resource(name)["Properties"]["Policies"]);
        for policy in &policies {
            // SAM's policy templates (DynamoDBCrudPolicy and the like) grant more than
            // the code uses: statements only.
            let statements = policy.get("Statement").unwrap_or_else(|| {
                panic!("{name}: a policy template instead of statements: {policy:?}")
            });
            for statement in list(statements) {
                for action in list(&statement["Action"]) {
                    let action = text(&action);
                    assert!(
                        allowed.iter().any(|list| list.contains(&action.as_str())),
                        "{name} is granted {action}"
                    );
                }
                for resource in list(&statement["Resource"]) {
                    let resource = text(&resource);
                    assert!(
                        !resource.is_empty() && !resource.ends_with(" *") && resource != "*",
                        "{name}: {resource:?} where a specific resource is possible"
                    );
                }
            }
        }
    }
}

#[test]
fn the_data_stays_when_the_stack_goes_and_deployments_follow_the_routes() {
    for name in ["Table", "DeadLetterQueue"] {
        let r = resource(name);
        assert_eq!(text(&r["DeletionPolicy"]), "Retain", "{name}");
        assert_eq!(text(&r["UpdateReplacePolicy"]), "Retain", "{name}");
    }
    assert!(
        resources()
            .values()
            .all(|r| r["Type"].as_str() != Some("AWS::ApiGatewayV2::Deployment")),
        "a fixed Deployment never picks up a route added later"
    );
    let stage = resource("WebSocketStage")["Properties"].clone();
    assert_eq!(stage["AutoDeploy"], serde_yaml::Value::Bool(true));
    assert!(text(&stage["AccessLogSettings"]["DestinationArn"]).contains("WebSocketAccessLogs"));
    let http = resource("HttpApi")["Properties"].clone();
    assert!(text(&http["AccessLogSettings"]["DestinationArn"]).contains("HttpApiAccessLogs"));
}

#[test]
fn sse_is_capped_and_ingest_keeps_its_own_concurrency() {
    let reserved = |name: &str| text(&resource(name)["Properties"]["ReservedConcurrentExecutions"]);
    assert!(reserved("SseFunction").contains("SseReservedConcurrency"));
    assert!(reserved("WebhookFunction").contains("WebhookReservedConcurrency"));
    assert!(reserved("WorkerFunction").contains("WorkerReservedConcurrency"));
    let scaling = text(
        &resource("WorkerFunction")["Properties"]["Events"]["Inbound"]["Properties"]["ScalingConfig"],
    );
    assert!(
        scaling.contains("WorkerReservedConcurrency"),
        "the trigger runs no more than the reservation: {scaling}"
    );
    assert_eq!(
        resource("SseFunction")["Properties"]["MemorySize"],
        serde_yaml::Value::from(128)
    );
}

#[test]
fn cors_is_one_setting_that_opens_nothing_by_default() {
    let doc: serde_yaml::Value = serde_yaml::from_str(&template()).unwrap();
    assert_eq!(text(&doc["Parameters"]["CorsOrigins"]["Default"]), "");
    let http = text(&resource("HttpApi")["Properties"]["CorsConfiguration"]);
    let sse = text(&resource("SseFunction")["Properties"]["FunctionUrlConfig"]["Cors"]);
    for cors in [&http, &sse] {
        assert!(cors.contains("CorsOrigins"), "{cors}");
        assert!(!cors.contains('*'), "{cors}");
    }
    assert!(http.contains("authorization") && sse.contains("last-event-id"));
    let outputs = text(&doc["Outputs"]["ClientConfig"]["Value"]);
    for key in ["apiUrl", "sseUrl", "wsUrl"] {
        assert!(outputs.contains(key), "{outputs}");
    }
}

/// The template's parameter holding each secret's ARN.
fn parameter(name: SecretName) -> &'static str {
    match name {
        SecretName::JwtSecret => "JwtSecretArn",
        SecretName::WhatsAppAppSecret => "WhatsAppAppSecretArn",
        SecretName::WhatsAppVerifyToken => "WhatsAppVerifyTokenArn",
        SecretName::StripeWebhookSecret => "StripeWebhookSecretArn",
        SecretName::AdminApiKey => "AdminApiKeyArn",
    }
}

#[test]
fn each_function_reads_only_its_own_secrets_at_run_time() {
    assert!(
        !template().contains("{{resolve:"),
        "no secret is resolved into an environment at deploy time"
    );
    let doc: serde_yaml::Value = serde_yaml::from_str(&template()).unwrap();
    let globals = text(&doc["Globals"]["Function"]["Environment"]);
    for n in SecretName::ALL {
        assert!(
            !globals.contains(n.variable()),
            "every function gets {}",
            n.variable()
        );
    }
    let functions = [
        ("ApiFunction", wanted_by::API),
        ("SseFunction", wanted_by::SSE),
        ("WsFunction", wanted_by::WS),
        ("WebhookFunction", wanted_by::WEBHOOK),
        ("WorkerFunction", wanted_by::WORKER),
        ("FanoutFunction", wanted_by::FANOUT),
        ("PushFunction", wanted_by::PUSH),
    ];
    for (function, wanted) in functions {
        let props = resource(function)["Properties"].clone();
        let env = props["Environment"]["Variables"]
            .as_mapping()
            .cloned()
            .unwrap_or_default();
        let granted: Vec<String> = list(&props["Policies"])
            .iter()
            .flat_map(|p| list(&p["Statement"]))
            .filter(|s| list(&s["Action"]).iter().any(|a| text(a) == READ_SECRET))
            .map(|s| text(&s["Resource"]))
            .collect();
        let granted = granted.join(",");
        for n in SecretName::ALL {
            let given = env.get(n.arn_variable());
            assert_eq!(
                given.is_some(),
                wanted.contains(&n),
                "{function} and {}",
                n.arn_variable()
            );
            if let Some(v) = given {
                assert!(text(v).contains(parameter(n)), "{function}: {}", text(v));
            }
            assert!(
                env.get(n.variable()).is_none(),
                "{function} holds a secret's value"
            );
            assert_eq!(
                granted.contains(parameter(n)),
                wanted.contains(&n),
                "{function} may read {}: {granted}",
                parameter(n)
            );
        }
    }
}

#[test]
fn the_push_path_runs_from_the_tables_stream_through_a_fifo_queue_with_its_alarms() {
    let table = resource("Table")["Properties"].clone();
    assert_eq!(
        text(&table["StreamSpecification"]["StreamViewType"]),
        "NEW_AND_OLD_IMAGES",
        "a head's move needs the head before and after"
    );
    let trigger = resource("FanoutFunction")["Properties"]["Events"]["LogHeads"].clone();
    assert_eq!(text(&trigger["Type"]), "DynamoDB");
    let t = trigger["Properties"].clone();
    assert!(text(&t["Stream"]).contains("Table.StreamArn"));
    assert_eq!(text(&t["FunctionResponseTypes"]), "ReportBatchItemFailures");
    assert!(
        text(&t["DestinationConfig"]["OnFailure"]["Destination"]).contains("FanoutFailureQueue")
    );
    // Only the LOG items' changes invoke it: the filter names the key the code reads.
    let pattern: serde_json::Value =
        serde_json::from_str(&text(&t["FilterCriteria"]["Filters"][0]["Pattern"])).unwrap();
    assert_eq!(
        pattern["dynamodb"]["Keys"][pitchside_aws::keys::SK]["S"],
        serde_json::json!([pitchside_aws::keys::LOG])
    );

    let push = resource("PushQueue")["Properties"].clone();
    assert_eq!(push["FifoQueue"], serde_yaml::Value::Bool(true));
    assert!(text(&push["RedrivePolicy"]["deadLetterTargetArn"]).contains("PushDeadLetterQueue"));
    assert_eq!(
        resource("PushDeadLetterQueue")["Properties"]["FifoQueue"],
        serde_yaml::Value::Bool(true),
        "a FIFO queue's dead-letter queue is FIFO"
    );
    let visibility = push["VisibilityTimeout"].as_u64().unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&template()).unwrap();
    let timeout = resource("PushFunction")["Properties"]["Timeout"]
        .as_u64()
        .or_else(|| doc["Globals"]["Function"]["Timeout"].as_u64())
        .unwrap();
    assert!(
        visibility >= 6 * timeout,
        "Lambda's advice for an SQS trigger"
    );
    let chunks = resource("PushFunction")["Properties"]["Events"]["Chunks"].clone();
    assert!(text(&chunks["Properties"]["Queue"]).contains("PushQueue"));
    // One chunk an invocation, as the bench's simulation of the trigger takes them.
    assert_eq!(
        chunks["Properties"]["BatchSize"],
        serde_yaml::Value::from(pitchside_tests_batch_size())
    );
    assert_eq!(
        text(&chunks["Properties"]["FunctionResponseTypes"]),
        "ReportBatchItemFailures"
    );

    for (alarm, watches) in [
        ("PushDeadLetterAlarm", "PushDeadLetterQueue"),
        ("FanoutFailureAlarm", "FanoutFailureQueue"),
        ("FanoutLagAlarm", "FanoutFunction"),
        ("PushLagAlarm", "PushQueue"),
    ] {
        let dims = text(&resource(alarm)["Properties"]["Dimensions"]);
        assert!(dims.contains(watches), "{alarm} watches {watches}: {dims}");
    }
}

/// The push trigger's batch size the bench simulates (`tests/src/push_sim.rs`); the
/// template must match it.
fn pitchside_tests_batch_size() -> i64 {
    let sim = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/src/push_sim.rs");
    let text = std::fs::read_to_string(sim).expect("the simulation beside the workspace");
    text.lines()
        .find_map(|l| l.trim().strip_prefix("pub const BATCH_SIZE: i32 = "))
        .and_then(|v| v.trim_end_matches(';').parse().ok())
        .expect("push_sim.rs names BATCH_SIZE")
}
