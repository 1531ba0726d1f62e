//! The push path of the AWS mode, end to end: the worker's real API Gateway client
//! posts through the gateway's own `@connections` endpoint, which answers 410 Gone for a
//! connection it does not hold, exactly as API Gateway does; the pusher then deletes
//! that connection, and only that one.

use pitchside_aws::DynamoRegistry;
use pitchside_core::ports::{ConnectionId, ConnectionInfo, ConnectionRegistry, ORG_ROOM};
use pitchside_domain::ids::{OrganizationId, UserId};
use pitchside_tests::*;
use serde_json::json;

#[tokio::test]
async fn a_gone_connection_is_removed_and_the_live_one_still_served() {
    let env = Env::new(Mode::Aws).await;
    let gw = env.start().await;
    gw.seed_org("org-g", "333000333", "919800000303")
        .await
        .unwrap();
    let org = OrganizationId::new("org-g").unwrap();
    let registry = DynamoRegistry::new(
        aws_sdk_dynamodb::Client::new(&pitchside_aws::sdk_config().await),
        env.var("PITCHSIDE_TABLE").unwrap(),
    );

    // A connection whose $disconnect never came: in the registry, on no socket.
    let stale = ConnectionId("stale-connection".into());
    registry
        .register(&ConnectionInfo {
            id: stale.clone(),
            org: org.clone(),
            user: UserId::new("ghost").unwrap(),
            roles: vec![],
        })
        .await
        .unwrap();

    let t = token(JWT_SECRET, "org-g", "admin-org-g", &["admin"]);
    let mut ws = ws_connect(&gw.addr, Some(&t)).await.unwrap();
    ws_send(&mut ws, json!({"action": "ping"})).await.unwrap();
    assert_eq!(ws_next(&mut ws).await.unwrap(), json!({"type": "pong"}));
    assert_eq!(registry.members(&org, ORG_ROOM).await.unwrap().len(), 2);

    // The management endpoint itself answers 410 for an unknown connection.
    let resp = reqwest::Client::new()
        .post(gw.url("/@connections/stale-connection"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 410);
    assert_eq!(resp.headers()["x-amzn-errortype"], "GoneException");

    gw.send_text(
        "333000333",
        "919800000303",
        "wamid.g1",
        "through @connections",
    )
    .await
    .unwrap();
    let event = ws_next(&mut ws).await.unwrap();
    assert_eq!(event["payload"]["text"], "through @connections");
    assert_eq!(event["organizationId"], "org-g");

    // A broadcast finishes (the worker awaits every post) before the next message is
    // processed: once a second event arrives, the first one's posts are all done.
    gw.send_text("333000333", "919800000303", "wamid.g2", "second")
        .await
        .unwrap();
    assert_eq!(ws_next(&mut ws).await.unwrap()["payload"]["text"], "second");

    // The event was posted to both; the stale one answered 410 and was removed.
    let members = registry.members(&org, ORG_ROOM).await.unwrap();
    assert_eq!(members.len(), 1, "{members:?}");
    assert_ne!(members[0], stale);
    assert_eq!(registry.lookup(&stale).await.unwrap(), None);
}
