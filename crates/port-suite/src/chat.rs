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

pub async fn chat(store: &dyn ChatStore) {
    use pitchside_domain::chat::ChatMessage;
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
    for i in 0..5 {
        assert!(store.post_chat(&a, &msg(i, "team:t_1")).await.unwrap());
    }
    assert!(store.post_chat(&a, &msg(9, "org")).await.unwrap());
    assert!(
        !store.post_chat(&a, &msg(3, "team:t_1")).await.unwrap(),
        "once per message id"
    );
    let got = store.chat_history(&a, "team:t_1", 3).await.unwrap();
    let texts: Vec<&str> = got.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["hello 2", "hello 3", "hello 4"],
        "the latest, oldest first"
    );
    assert_eq!(got[2], msg(4, "team:t_1").with_millis());
    assert_eq!(store.chat_history(&a, "org", 10).await.unwrap().len(), 1);
    assert!(
        store
            .chat_history(&b, "team:t_1", 10)
            .await
            .unwrap()
            .is_empty()
    );
}
