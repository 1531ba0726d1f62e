//! Auction documents: writes conditional on the revision.

use crate::fresh_org;
use pitchside_core::ports::*;
use pitchside_domain::ids::AuctionId;

/// One test per case, for an adapter that `$make` builds afresh.
#[macro_export]
macro_rules! auctions_tests {
    ($make:expr) => {
        $crate::cases!(auctions, $make, [auctions]);
    };
}

pub async fn auctions(store: &dyn AuctionStore) {
    let (a, b) = (fresh_org("auc-a"), fresh_org("auc-b"));
    let id = AuctionId::new("a_1").unwrap();
    assert_eq!(store.auction_doc(&a, &id).await.unwrap(), None);
    assert_eq!(
        store
            .put_auction_doc(&a, &id, "{\"v\":1}", None)
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        store.put_auction_doc(&a, &id, "{}", None).await.unwrap(),
        None,
        "it exists already"
    );
    assert_eq!(
        store.auction_doc(&b, &id).await.unwrap(),
        None,
        "per organization"
    );
    assert_eq!(
        store
            .put_auction_doc(&a, &id, "{\"v\":2}", Some(1))
            .await
            .unwrap(),
        Some(2)
    );
    assert_eq!(
        store
            .put_auction_doc(&a, &id, "{\"v\":9}", Some(1))
            .await
            .unwrap(),
        None,
        "stale"
    );
    assert_eq!(
        store.auction_doc(&a, &id).await.unwrap(),
        Some(("{\"v\":2}".to_string(), 2))
    );
    // Of many writers on one revision, exactly one wins.
    let wins = futures_util::future::join_all((0..8).map(|i| {
        let (a, id) = (a.clone(), id.clone());
        async move {
            store
                .put_auction_doc(&a, &id, &format!("{{\"w\":{i}}}"), Some(2))
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(wins.iter().filter(|w| w.is_some()).count(), 1);
    assert_eq!(store.auction_doc(&a, &id).await.unwrap().unwrap().1, 3);
}
