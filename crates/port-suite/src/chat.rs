//! Chat history: idempotent posts, the latest messages of a room.

use crate::fresh_org;
use chrono::{Duration as Age, Utc};
use pitchside_core::ports::*;
use pitchside_domain::ids::UserId;

/// One test per case, for an adapter that `$make` builds afresh.
#[macro_export]
macro_rules! chat_tests {
    ($make:expr) => {
        $crate::cases!(chat, $make, [chat]);
    };
}

pub async fn chat<S: ChatStore + EventLog + ?Sized>(store: &S) {
    use pitchside_domain::chat::ChatMessage;
    use pitchside_domain::event::{EventId, EventType, NewEvent};
    let (a, b) = (fresh_org("chat-a"), fresh_org("chat-b"));
    let t0 = Utc::now();
    let msg = |i: i64, room: &str| ChatMessage {
        message_id: format!("m{i}"),
        room: room.into(),
        from: UserId::new("u_1").unwrap(),
        name: Some("Asha".into()),
        text: format!("hello {i}"),
        sent_at: t0 + Age::milliseconds(i),
    };
    let sent = |m: &ChatMessage| NewEvent {
        kind: EventType::ChatMessageSent,
        payload: serde_json::json!({"messageId": m.message_id, "text": m.text}),
        timestamp: m.sent_at,
        dedup_key: Some(format!("chat:{}", m.message_id)),
    };
    let a = &a;
    let post = |m: ChatMessage| async move { store.post_chat(a, &m, sent(&m)).await.unwrap() };
    let mut ids = Vec::new();
    for i in 0..5 {
        let appended = post(msg(i, "team:t_1")).await;
        assert!(appended.created);
        ids.push(appended.event.id);
    }
    assert!(post(msg(9, "org")).await.created);
    let again = post(msg(3, "team:t_1")).await;
    assert!(!again.created, "once per message id");
    assert_eq!(
        again.event.id, ids[3],
        "a repeat answers the event recorded with it"
    );
    let logged = store
        .read(a, ReadFrom::After(EventId::ZERO), 20)
        .await
        .unwrap();
    assert_eq!(logged.events.len(), 6, "each message's event, once");
    assert_eq!(logged.events[3].payload["messageId"], "m3");
    let got = store.chat_history(a, "team:t_1", 3).await.unwrap();
    let texts: Vec<&str> = got.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["hello 2", "hello 3", "hello 4"],
        "the latest, oldest first"
    );
    assert_eq!(got[2], msg(4, "team:t_1").with_millis());
    assert_eq!(store.chat_history(a, "org", 10).await.unwrap().len(), 1);
    assert!(
        store
            .chat_history(&b, "team:t_1", 10)
            .await
            .unwrap()
            .is_empty()
    );
}
