//! The queue: at-least-once, visibility, receive counts and the dead letters.

use pitchside_core::ports::*;
use std::time::Duration;

/// One test per case, for a queue that `$make` builds afresh: empty, and moving a
/// message to its dead letters after `QUEUE_MAX_RECEIVES` receives.
#[macro_export]
macro_rules! queue_tests {
    ($make:expr) => {
        $crate::cases!(
            queue,
            $make,
            [
                received_messages_are_hidden_until_deleted_or_timed_out,
                a_message_never_deleted_goes_to_the_dead_letters,
                a_long_poll_answers_when_a_message_arrives,
                a_delayed_message_stays_out_of_sight_until_its_delay,
                its_depth_counts_messages_by_state,
            ]
        );
    };
}

/// The receives after which the queues under test dead-letter a message.
pub const QUEUE_MAX_RECEIVES: u32 = 3;

const HIDDEN: Duration = Duration::from_secs(30);
const NOW: Duration = Duration::ZERO;

pub async fn received_messages_are_hidden_until_deleted_or_timed_out(queue: &dyn Queue) {
    let (hidden, now) = (HIDDEN, NOW);
    assert!(queue.receive(10, hidden, now).await.unwrap().is_empty());

    let id1 = queue.send(b"first").await.unwrap();
    let id2 = queue.send(b"second").await.unwrap();
    assert_ne!(id1, id2);
    let got = queue
        .receive(10, hidden, Duration::from_secs(2))
        .await
        .unwrap();
    let bodies: Vec<&[u8]> = got.iter().map(|r| r.body.as_slice()).collect();
    assert_eq!(bodies, [b"first".as_slice(), b"second".as_slice()]);
    assert!(got.iter().all(|r| r.receive_count == 1));
    // Received messages are hidden until their visibility timeout.
    assert!(queue.receive(10, hidden, now).await.unwrap().is_empty());
    for r in &got {
        queue.delete(&r.receipt).await.unwrap();
    }
    assert!(
        queue
            .receive(10, Duration::ZERO, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty(),
        "deleted messages never come back"
    );
}

/// A message never deleted comes back (visibility 0) with its count, then goes to the
/// dead letters after its last receive.
pub async fn a_message_never_deleted_goes_to_the_dead_letters(queue: &dyn Queue) {
    let max_receives = QUEUE_MAX_RECEIVES;
    let poison = queue.send(b"poison").await.unwrap();
    for n in 1..=max_receives {
        let got = queue
            .receive(1, Duration::ZERO, Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!(got.len(), 1, "receive {n}");
        assert_eq!(
            (got[0].message_id.as_str(), got[0].receive_count),
            (poison.as_str(), n)
        );
    }
    assert!(
        queue
            .receive(1, Duration::ZERO, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty()
    );
    let dead = queue.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    let depth = queue.depth().await.unwrap();
    assert_eq!((depth.visible, depth.in_flight, depth.dead), (0, 0, 1));
    assert_eq!(
        (dead[0].body.as_slice(), dead[0].receive_count),
        (b"poison".as_slice(), max_receives)
    );
}

pub async fn a_long_poll_answers_when_a_message_arrives(queue: &dyn Queue) {
    let hidden = HIDDEN;
    let body = b"late".to_vec();
    let (got, _) = tokio::join!(queue.receive(1, hidden, Duration::from_secs(10)), async {
        tokio::task::yield_now().await;
        queue.send(&body).await.unwrap()
    });
    let got = got.unwrap();
    assert_eq!(got.len(), 1);
    queue.delete(&got[0].receipt).await.unwrap();
}

pub async fn a_delayed_message_stays_out_of_sight_until_its_delay(queue: &dyn Queue) {
    let (hidden, now) = (HIDDEN, NOW);
    let sent = std::time::Instant::now();
    queue
        .send_delayed(b"timer", Duration::from_secs(1))
        .await
        .unwrap();
    assert!(queue.receive(1, hidden, now).await.unwrap().is_empty());
    let got = queue
        .receive(1, hidden, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(got.len(), 1, "the delayed message arrives");
    assert_eq!(got[0].body, b"timer");
    assert!(sent.elapsed() >= Duration::from_millis(900));
    queue.delete(&got[0].receipt).await.unwrap();
}

/// What a readiness check and the queue's gauges read: every message in one state.
pub async fn its_depth_counts_messages_by_state(queue: &dyn Queue) {
    assert_eq!(queue.depth().await.unwrap(), QueueDepth::default());
    queue.send(b"one").await.unwrap();
    queue.send(b"two").await.unwrap();
    queue
        .send_delayed(b"timer", Duration::from_secs(600))
        .await
        .unwrap();
    let got = queue
        .receive(1, HIDDEN, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let depth = queue.depth().await.unwrap();
    assert_eq!(
        (depth.visible, depth.in_flight, depth.delayed, depth.dead),
        (1, 1, 1, 0),
        "{depth:?}"
    );
    if let Some(oldest) = depth.oldest {
        assert!(oldest < Duration::from_secs(60), "{oldest:?}");
    }
    queue.delete(&got[0].receipt).await.unwrap();
    let depth = queue.depth().await.unwrap();
    assert_eq!((depth.visible, depth.in_flight), (1, 0), "{depth:?}");
}
