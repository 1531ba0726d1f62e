//! The extractors refuse as the contract does: a malformed id or body is a 400 with the
//! project's error body, naming what was wrong, before the handler runs.

#![allow(clippy::unwrap_used)] // a test may panic

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use axum::routing::put;
use pitchside_domain::ids::{MatchId, PlayerId};
use pitchside_http::extract::{Ids, JsonBody};
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

#[derive(Deserialize)]
struct Answer {
    response: Option<String>,
}

async fn answer(Ids((m, p)): Ids<(MatchId, PlayerId)>, JsonBody(body): JsonBody<Answer>) -> String {
    format!("{m}/{p}/{}", body.response.unwrap_or_default())
}

async fn call(path: &str, body: &str) -> (StatusCode, String) {
    let app = Router::new().route("/matches/{m}/availability/{p}", put(answer));
    let req = Request::put(path)
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn error(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["success"], false, "{v}");
    v["error"].clone()
}

#[tokio::test]
async fn typed_ids_and_a_body_reach_the_handler() {
    let (status, body) = call("/matches/m-1/availability/p_1", r#"{"response":"yes"}"#).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "m-1/p_1/yes"));
    // An empty body reads as `{}`.
    let (status, body) = call("/matches/m-1/availability/p_1", "").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "m-1/p_1/"));
}

#[tokio::test]
async fn a_malformed_id_is_a_400_that_names_it() {
    let (status, body) = call("/matches/m%3A1/availability/p_1", "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let e = error(&body);
    assert_eq!(e["code"], "bad_request");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("matchId must be"),
        "{e}"
    );
    let (status, body) = call("/matches/m-1/availability/p%20q", "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error(&body)["message"]
            .as_str()
            .unwrap()
            .starts_with("playerId must be")
    );
}

#[tokio::test]
async fn a_malformed_body_is_a_400_that_says_why() {
    let (status, body) = call("/matches/m-1/availability/p_1", "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let e = error(&body);
    assert_eq!(e["code"], "bad_request");
    assert!(
        e["message"].as_str().unwrap().starts_with("invalid body"),
        "{e}"
    );
    let (status, _) = call(
        "/matches/m-1/availability/p_1",
        &json!({"response": 7}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
