//! The connection registry: rooms per organization, lookups.

use crate::fresh_org;
use pitchside_core::ports::*;
use pitchside_domain::auth::Role;
use pitchside_domain::ids::{OrganizationId, UserId};

/// One test per case, for an adapter that `$make` builds afresh.
#[macro_export]
macro_rules! registry_tests {
    ($make:expr) => {
        $crate::cases!(registry, $make, [registry, members_in_pages]);
    };
}

pub async fn registry(reg: &dyn ConnectionRegistry) {
    let a = fresh_org("reg-a");
    let b = fresh_org("reg-b");
    // Connection ids are unique across organizations (API Gateway's are global).
    let tag = hex::encode(rand::random::<[u8; 4]>());
    let c = |n: &str| ConnectionId(format!("{n}-{tag}"));
    let conn = |id: &str, org: &OrganizationId| ConnectionInfo {
        id: c(id),
        org: org.clone(),
        user: UserId::new("u").unwrap(),
        roles: vec![Role::TeamOwner, Role::Viewer],
    };
    reg.register(&conn("c1", &a)).await.unwrap();
    reg.register(&conn("c2", &a)).await.unwrap();
    reg.register(&conn("c3", &b)).await.unwrap();
    assert_eq!(
        reg.lookup(&c("c3")).await.unwrap(),
        Some(conn("c3", &b)),
        "a lookup answers the connection as registered, its roles included"
    );
    let bare = ConnectionInfo {
        roles: vec![],
        ..conn("c4", &b)
    };
    reg.register(&bare).await.unwrap();
    assert_eq!(reg.lookup(&c("c4")).await.unwrap(), Some(bare));
    reg.remove(&b, &c("c4")).await.unwrap();
    assert_eq!(reg.lookup(&c("c9")).await.unwrap(), None);
    // Joining as another organization's connection is refused.
    assert!(reg.join(&b, &c("c1"), "auction:a1").await.is_err());
    assert!(reg.members(&b, "auction:a1").await.unwrap().is_empty());
    let mut members = reg.members(&a, ORG_ROOM).await.unwrap();
    members.sort();
    assert_eq!(members, vec![c("c1"), c("c2")]);
    assert_eq!(reg.members(&b, ORG_ROOM).await.unwrap(), vec![c("c3")]);

    reg.join(&a, &c("c1"), "auction:a1").await.unwrap();
    assert_eq!(reg.members(&a, "auction:a1").await.unwrap(), vec![c("c1")]);
    assert!(
        reg.members(&b, "auction:a1").await.unwrap().is_empty(),
        "rooms are per organization"
    );
    reg.leave(&a, &c("c1"), "auction:a1").await.unwrap();
    assert!(reg.members(&a, "auction:a1").await.unwrap().is_empty());

    reg.join(&a, &c("c2"), "team:t1").await.unwrap();
    reg.remove(&a, &c("c2")).await.unwrap();
    assert_eq!(reg.members(&a, ORG_ROOM).await.unwrap(), vec![c("c1")]);
    assert!(reg.members(&a, "team:t1").await.unwrap().is_empty());
    // Removing twice is harmless ($disconnect is best-effort and may repeat).
    reg.remove(&a, &c("c2")).await.unwrap();
    assert_eq!(reg.lookup(&c("c2")).await.unwrap(), None);
    // Another organization cannot remove a connection that is not its own.
    reg.remove(&b, &c("c1")).await.unwrap();
    assert_eq!(reg.members(&a, ORG_ROOM).await.unwrap(), vec![c("c1")]);
}

/// A room read page by page gives every member once, in id order, and ends.
pub async fn members_in_pages(reg: &dyn ConnectionRegistry) {
    let org = fresh_org("reg-p");
    let tag = hex::encode(rand::random::<[u8; 4]>());
    let mut ids: Vec<ConnectionId> = (0..23)
        .map(|i| ConnectionId(format!("p{i:02}-{tag}")))
        .collect();
    for id in &ids {
        reg.register(&ConnectionInfo {
            id: id.clone(),
            org: org.clone(),
            user: UserId::new("u").unwrap(),
            roles: vec![Role::Viewer],
        })
        .await
        .unwrap();
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let (page, next) = reg
            .members_page(&org, ORG_ROOM, after.as_ref(), 5)
            .await
            .unwrap();
        assert!(page.len() <= 5, "a page holds at most its limit");
        seen.extend(page);
        pages += 1;
        assert!(pages <= 6, "the pages end");
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every member once, in id order");
    let (empty, next) = reg
        .members_page(&org, "auction:none", None, 5)
        .await
        .unwrap();
    assert!(
        empty.is_empty() && next.is_none(),
        "an empty room is one empty page"
    );
}
