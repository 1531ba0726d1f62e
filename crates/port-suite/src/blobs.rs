//! Blobs: bodies of any size, stored and read back.

use chrono::{Duration as Age, Utc};
use pitchside_core::ports::*;

/// One test per case, for an adapter that `$make` builds afresh.
#[macro_export]
macro_rules! blobs_tests {
    ($make:expr) => {
        $crate::cases!(blobs, $make, [blobs]);
    };
}

pub async fn blobs(store: &dyn BlobStore) {
    let key = format!("work/{}", hex::encode(rand::random::<[u8; 8]>()));
    assert_eq!(store.blob(&key).await.unwrap(), None);
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    store
        .put_blob(&key, &big, Utc::now() + Age::days(1))
        .await
        .unwrap();
    assert!(
        store.blob(&key).await.unwrap().unwrap() == big,
        "byte for byte"
    );
    let small = format!("{key}-small");
    store
        .put_blob(&small, b"", Utc::now() + Age::days(1))
        .await
        .unwrap();
    assert_eq!(store.blob(&small).await.unwrap(), Some(vec![]));
}
