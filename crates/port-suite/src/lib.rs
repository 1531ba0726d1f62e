//! The one test suite of each port. Every adapter (embedded, AWS against the emulator)
//! runs these same functions, so both behave alike where the handlers can tell.
//!
//! Each suite works in organizations of its own (a random suffix), so suites can share
//! one emulator and one database.

#![allow(clippy::disallowed_methods)] // a test suite may read the clock

use chrono::{Duration as Age, Utc};
use pitchside_core::ports::*;
use pitchside_domain::auth::{Membership, Role};
use pitchside_domain::event::{EventId, EventType, NewEvent};
use pitchside_domain::ids::{AuctionId, OrganizationId, PhoneNumberId, PlayerId, TeamId, UserId};
use std::time::Duration;

/// A fresh organization id for one suite run.
pub fn fresh_org(tag: &str) -> OrganizationId {
    OrganizationId::new(format!("{tag}-{}", hex::encode(rand::random::<[u8; 6]>()))).unwrap()
}

fn new_event(text: &str, dedup: Option<&str>) -> NewEvent {
    NewEvent {
        kind: EventType::MessageReceived,
        payload: serde_json::json!({ "text": text }),
        timestamp: Utc::now(),
        dedup_key: dedup.map(str::to_string),
    }
}

pub async fn event_log(log: &dyn EventLog) {
    let a = fresh_org("log-a");
    let b = fresh_org("log-b");
    assert_eq!(log.bounds(&a).await.unwrap(), LogBounds::default());

    let first = log.append(&a, new_event("one", Some("k1"))).await.unwrap();
    assert!(first.created);
    assert_eq!(first.event.id, EventId(1));
    assert_eq!(first.event.organization_id, a);
    let second = log.append(&a, new_event("two", None)).await.unwrap();
    assert_eq!(second.event.id, EventId(2));
    // Another organization has its own sequence.
    let other = log.append(&b, new_event("b-one", None)).await.unwrap();
    assert_eq!(other.event.id, EventId(1));

    // The same dedup key returns the first event and writes nothing.
    let again = log
        .append(&a, new_event("one, redelivered", Some("k1")))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.event, first.event);
    // A dedup key is scoped to its organization.
    assert!(
        log.append(&b, new_event("b-two", Some("k1")))
            .await
            .unwrap()
            .created
    );

    let page = log
        .read(&a, ReadFrom::After(EventId::ZERO), 10)
        .await
        .unwrap();
    assert_eq!(page.events, vec![first.event.clone(), second.event.clone()]);
    assert_eq!(page.bounds.head, EventId(2));
    let page = log.read(&a, ReadFrom::After(EventId(1)), 10).await.unwrap();
    assert_eq!(page.events, vec![second.event.clone()]);
    let page = log
        .read(&a, ReadFrom::After(EventId::ZERO), 1)
        .await
        .unwrap();
    assert_eq!(page.events, vec![first.event.clone()]);
    let page = log.read(&a, ReadFrom::After(EventId(2)), 10).await.unwrap();
    assert!(page.events.is_empty());

    let since = log
        .read(
            &a,
            ReadFrom::Since(first.event.timestamp - Age::seconds(1)),
            10,
        )
        .await
        .unwrap();
    assert_eq!(since.events.len(), 2);
    let future = log
        .read(&a, ReadFrom::Since(Utc::now() + Age::hours(1)), 10)
        .await
        .unwrap();
    assert!(future.events.is_empty());

    // Concurrent appends never share an id.
    let mut tasks = Vec::new();
    for i in 0..20 {
        tasks.push(log.append(&a, new_event(&format!("c{i}"), None)));
    }
    let mut ids: Vec<u64> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap().event.id.0)
        .collect();
    ids.sort();
    assert_eq!(ids, (3..23).collect::<Vec<_>>());
    assert_eq!(log.bounds(&a).await.unwrap().head, EventId(22));
}

pub async fn directory(dir: &dyn Directory) {
    let a = fresh_org("dir-a");
    let b = fresh_org("dir-b");
    assert_eq!(dir.organization(&a).await.unwrap(), None);
    let org = Organization {
        id: a.clone(),
        name: "Club A".into(),
    };
    dir.put_organization(&org).await.unwrap();
    dir.put_organization(&org).await.unwrap();
    assert_eq!(dir.organization(&a).await.unwrap(), Some(org));
    dir.put_organization(&Organization {
        id: b.clone(),
        name: "Club B".into(),
    })
    .await
    .unwrap();

    let number = PhoneNumberId::new(format!("pn-{a}")).unwrap();
    assert_eq!(dir.resolve_whatsapp_number(&number).await.unwrap(), None);
    dir.put_whatsapp_number(&a, &number).await.unwrap();
    dir.put_whatsapp_number(&a, &number).await.unwrap();
    assert_eq!(
        dir.resolve_whatsapp_number(&number).await.unwrap(),
        Some(a.clone())
    );
    assert!(matches!(
        dir.put_whatsapp_number(&b, &number).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        dir.resolve_whatsapp_number(&number).await.unwrap(),
        Some(a.clone())
    );

    let user = UserId::new("u-1").unwrap();
    let m = Membership {
        roles: vec![Role::TeamOwner, Role::Player],
        team_id: Some(TeamId::new("t-1").unwrap()),
        active: true,
    };
    dir.put_member(&a, &user, &m).await.unwrap();
    assert_eq!(dir.membership(&a, &user).await.unwrap(), Some(m.clone()));
    assert_eq!(
        dir.membership(&b, &user).await.unwrap(),
        None,
        "members are per organization"
    );
    let inactive = Membership { active: false, ..m };
    dir.put_member(&a, &user, &inactive).await.unwrap();
    assert_eq!(dir.membership(&a, &user).await.unwrap(), Some(inactive));

    let ravi = Player {
        id: PlayerId::new("p-ravi").unwrap(),
        name: "Ravi".into(),
        whatsapp: Some("919800000001".into()),
        whatsapp_user_id: None,
    };
    dir.put_player(&a, &ravi).await.unwrap();
    dir.put_player(&a, &ravi).await.unwrap();
    assert_eq!(
        dir.player_by_whatsapp(&a, "919800000001").await.unwrap(),
        Some(ravi.clone())
    );
    assert_eq!(
        dir.player_by_whatsapp(&b, "919800000001").await.unwrap(),
        None
    );
    let thief = Player {
        id: PlayerId::new("p-other").unwrap(),
        ..ravi.clone()
    };
    assert!(matches!(
        dir.put_player(&a, &thief).await,
        Err(StoreError::Conflict(_))
    ));
    // The same number may belong to a player in another organization.
    dir.put_player(&b, &thief).await.unwrap();
    // A player's number can change; the old one then finds nobody.
    let moved = Player {
        whatsapp: Some("919800000009".into()),
        ..ravi
    };
    dir.put_player(&a, &moved).await.unwrap();
    assert_eq!(
        dir.player_by_whatsapp(&a, "919800000001").await.unwrap(),
        None
    );
    assert_eq!(
        dir.player_by_whatsapp(&a, "919800000009").await.unwrap(),
        Some(moved.clone())
    );
    assert_eq!(
        dir.player(&a, &moved.id).await.unwrap(),
        Some(moved.clone())
    );
    assert_eq!(dir.player(&b, &moved.id).await.unwrap(), None);

    // A player may be known by the business-scoped user id too, or by it alone.
    let with_user = Player {
        whatsapp_user_id: Some("US.1349".into()),
        ..moved.clone()
    };
    dir.put_player(&a, &with_user).await.unwrap();
    assert_eq!(
        dir.player_by_whatsapp_user(&a, "US.1349").await.unwrap(),
        Some(with_user.clone())
    );
    assert_eq!(
        dir.player_by_whatsapp(&a, "919800000009").await.unwrap(),
        Some(with_user.clone())
    );
    assert_eq!(
        dir.player_by_whatsapp_user(&b, "US.1349").await.unwrap(),
        None
    );
    let user_only = Player {
        id: PlayerId::new("p-asha").unwrap(),
        name: "Asha".into(),
        whatsapp: None,
        whatsapp_user_id: Some("US.1349".into()),
    };
    assert!(
        matches!(
            dir.put_player(&a, &user_only).await,
            Err(StoreError::Conflict(_))
        ),
        "a user id belongs to one player"
    );
    let user_only = Player {
        whatsapp_user_id: Some("US.2000".into()),
        ..user_only
    };
    dir.put_player(&a, &user_only).await.unwrap();
    assert_eq!(
        dir.player_by_whatsapp_user(&a, "US.2000").await.unwrap(),
        Some(user_only)
    );
    // Dropping the user id frees it.
    dir.put_player(&a, &moved).await.unwrap();
    assert_eq!(
        dir.player_by_whatsapp_user(&a, "US.1349").await.unwrap(),
        None
    );
}

pub async fn tickets(store: &dyn TicketStore) {
    let grant = TicketGrant {
        org: fresh_org("tix"),
        user: UserId::new("u-1").unwrap(),
        roles: vec![Role::Viewer],
        name: Some("Asha".into()),
    };
    let digest: [u8; 32] = rand::random();
    let now = Utc::now();
    store
        .put_ticket(&digest, &grant, now + Age::seconds(60))
        .await
        .unwrap();
    assert_eq!(
        store.redeem_ticket(&digest, now).await.unwrap(),
        Some(grant.clone())
    );
    assert_eq!(
        store.redeem_ticket(&digest, now).await.unwrap(),
        None,
        "single use"
    );
    let expired: [u8; 32] = rand::random();
    store
        .put_ticket(&expired, &grant, now + Age::seconds(60))
        .await
        .unwrap();
    assert_eq!(
        store
            .redeem_ticket(&expired, now + Age::seconds(61))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.redeem_ticket(&rand::random(), now).await.unwrap(),
        None
    );
}

pub async fn messages(store: &dyn MessageStore) {
    let a = fresh_org("msg-a");
    let b = fresh_org("msg-b");
    let rec = InboundRecord {
        message_id: "wamid.1".into(),
        from: Some("9198".into()),
        from_user_id: None,
        player_id: Some(PlayerId::new("p-1").unwrap()),
        name: Some("Ravi".into()),
        kind: "text".into(),
        text: Some("yes".into()),
        content: serde_json::json!({"kind": "text", "body": "yes"}),
        reply_to: None,
        sent_at: Utc::now(),
        received_at: Utc::now(),
    };
    assert!(store.record_inbound(&a, &rec).await.unwrap());
    assert!(
        !store.record_inbound(&a, &rec).await.unwrap(),
        "recorded once"
    );
    assert!(
        store.record_inbound(&b, &rec).await.unwrap(),
        "ids are per organization"
    );
    let got = store.inbound(&a, "wamid.1").await.unwrap().unwrap();
    assert_eq!(got.text, rec.text);
    assert_eq!(got.player_id, rec.player_id);
    assert_eq!(store.inbound(&a, "wamid.2").await.unwrap(), None);

    // Statuses only move forward.
    use pitchside_domain::receipts::{DeliveryStatus as D, StatusChange as C, StatusRecord};
    let status = |s| StatusRecord {
        message_id: "wamid.out".into(),
        status: s,
        at: Utc::now(),
        recipient: Some("9198".into()),
        recipient_user_id: None,
        errors: vec![],
    };
    assert_eq!(
        store
            .advance_status(&a, &status(D::Delivered))
            .await
            .unwrap(),
        C::Advanced
    );
    assert_eq!(
        store.advance_status(&a, &status(D::Sent)).await.unwrap(),
        C::Stale
    );
    assert_eq!(
        store
            .advance_status(&a, &status(D::Delivered))
            .await
            .unwrap(),
        C::Same
    );
    assert_eq!(
        store.advance_status(&a, &status(D::Read)).await.unwrap(),
        C::Advanced
    );
    assert_eq!(
        store
            .advance_status(&a, &status(D::Delivered))
            .await
            .unwrap(),
        C::Stale
    );
    assert_eq!(
        store.status(&a, "wamid.out").await.unwrap().unwrap().status,
        D::Read
    );
    assert_eq!(store.status(&b, "wamid.out").await.unwrap(), None);
    assert_eq!(
        store.advance_status(&b, &status(D::Sent)).await.unwrap(),
        C::Advanced
    );
    // Of concurrent updates, the furthest wins whatever the order.
    let other = "wamid.race".to_string();
    let racing = [
        D::Sent,
        D::Read,
        D::Delivered,
        D::Sent,
        D::Delivered,
        D::Read,
    ];
    let results = futures_util::future::join_all(racing.iter().map(|d| {
        let rec = StatusRecord {
            message_id: other.clone(),
            ..status(*d)
        };
        let a = a.clone();
        async move { store.advance_status(&a, &rec).await.unwrap() }
    }))
    .await;
    assert!(results.contains(&C::Advanced));
    assert_eq!(
        store.status(&a, &other).await.unwrap().unwrap().status,
        D::Read
    );
}

pub async fn availability(store: &dyn AvailabilityStore) {
    use pitchside_domain::availability::{Answer, Response, Source};
    use pitchside_domain::ids::MatchId;
    let a = fresh_org("avail-a");
    let b = fresh_org("avail-b");
    let m1 = MatchId::new("m-1").unwrap();
    let m2 = MatchId::new("m-2").unwrap();
    let (p1, p2) = (PlayerId::new("p-1").unwrap(), PlayerId::new("p-2").unwrap());
    let t0 = Utc::now();
    assert_eq!(store.latest_request(&a, &p1).await.unwrap(), None);
    store
        .request_availability(&a, &m1, &[p1.clone(), p2.clone()], t0)
        .await
        .unwrap();
    assert_eq!(
        store.latest_request(&a, &p1).await.unwrap(),
        Some(m1.clone())
    );
    assert_eq!(store.latest_request(&b, &p1).await.unwrap(), None);
    assert_eq!(
        store.availability(&a, &m1).await.unwrap(),
        vec![(p1.clone(), None), (p2.clone(), None)]
    );
    let answer = |r, at| Answer {
        player_id: p1.clone(),
        response: r,
        updated_at: at,
        updated_by: Source::Whatsapp,
        message_id: Some("wamid.a".into()),
    };
    let yes = answer(Response::Yes, t0 + Age::seconds(10));
    assert_eq!(
        store.set_availability(&a, &m1, &yes).await.unwrap(),
        Applied::Yes
    );
    assert_eq!(
        store.set_availability(&a, &m1, &yes).await.unwrap(),
        Applied::Yes,
        "the same answer again is harmless"
    );
    let older = answer(Response::No, t0 + Age::seconds(5));
    assert_eq!(
        store.set_availability(&a, &m1, &older).await.unwrap(),
        Applied::Stale
    );
    let sheet = store.availability(&a, &m1).await.unwrap();
    assert_eq!(
        sheet,
        vec![(p1.clone(), Some(yes.clone())), (p2.clone(), None)]
    );
    assert!(store.availability(&b, &m1).await.unwrap().is_empty());
    // Asking again keeps the answer; a later request becomes the latest.
    store
        .request_availability(&a, &m1, std::slice::from_ref(&p1), t0 + Age::seconds(20))
        .await
        .unwrap();
    assert_eq!(store.availability(&a, &m1).await.unwrap()[0].1, Some(yes));
    store
        .request_availability(&a, &m2, std::slice::from_ref(&p1), t0 + Age::seconds(30))
        .await
        .unwrap();
    assert_eq!(
        store.latest_request(&a, &p1).await.unwrap(),
        Some(m2.clone())
    );
    // A request recorded late, older than the latest, does not take over.
    store
        .request_availability(&a, &m1, std::slice::from_ref(&p1), t0 + Age::seconds(25))
        .await
        .unwrap();
    assert_eq!(store.latest_request(&a, &p1).await.unwrap(), Some(m2));
}

pub async fn quarantine(store: &dyn QuarantineStore) {
    use pitchside_domain::quarantine::Reason;
    use pitchside_domain::work::WorkKind;
    let tag = hex::encode(rand::random::<[u8; 6]>());
    // Larger than one DynamoDB item, so the AWS adapter must split it.
    let body: Vec<u8> = format!("{tag}:")
        .into_bytes()
        .into_iter()
        .chain((0..900_000u32).map(|i| (i % 251) as u8))
        .collect();
    let t0 = Utc::now();
    let first = store
        .quarantine(
            WorkKind::WhatsappNotification,
            Reason::UnknownNumber,
            "no org",
            &body,
            t0,
        )
        .await
        .unwrap();
    assert_eq!((first.times, first.bytes), (1, body.len()));
    let again = store
        .quarantine(
            WorkKind::WhatsappNotification,
            Reason::UnknownNumber,
            "still no org",
            &body,
            t0 + Age::seconds(1),
        )
        .await
        .unwrap();
    assert_eq!(again.id, first.id, "the same payload is one entry");
    assert_eq!((again.times, again.detail.as_str()), (2, "still no org"));
    let small = store
        .quarantine(
            WorkKind::StripeEvent,
            Reason::Malformed,
            "bad",
            tag.as_bytes(),
            t0 + Age::seconds(2),
        )
        .await
        .unwrap();
    let listed = store.quarantined(1000).await.unwrap();
    let pos = |id: &str| listed.iter().position(|e| e.id == id).unwrap();
    assert!(pos(&small.id) < pos(&first.id), "newest first");
    let (entry, got) = store.quarantined_body(&first.id).await.unwrap().unwrap();
    assert_eq!(entry, again);
    assert!(got == body, "the body comes back byte for byte");
    assert_eq!(store.quarantined_body("q_nope").await.unwrap(), None);
    store
        .mark_replayed(&small.id, t0 + Age::seconds(3))
        .await
        .unwrap();
    let (replayed, _) = store.quarantined_body(&small.id).await.unwrap().unwrap();
    assert!(replayed.replayed_at.is_some());
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

/// `queue` must be empty and dead-letter after `max_receives` receives.
pub async fn queue(queue: &dyn Queue, max_receives: u32) {
    let hidden = Duration::from_secs(30);
    let now = Duration::ZERO;
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

    // A message never deleted comes back (visibility 0) with its count, then goes to
    // the dead letters after max_receives.
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
    assert_eq!(
        (dead[0].body.as_slice(), dead[0].receive_count),
        (b"poison".as_slice(), max_receives)
    );

    // A long poll returns as soon as a message arrives.
    let body = b"late".to_vec();
    let (got, _) = tokio::join!(queue.receive(1, hidden, Duration::from_secs(10)), async {
        tokio::task::yield_now().await;
        queue.send(&body).await.unwrap()
    });
    let got = got.unwrap();
    assert_eq!(got.len(), 1);
    queue.delete(&got[0].receipt).await.unwrap();

    // A delayed message stays out of sight until its delay has passed.
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
    };
    reg.register(&conn("c1", &a)).await.unwrap();
    reg.register(&conn("c2", &a)).await.unwrap();
    reg.register(&conn("c3", &b)).await.unwrap();
    assert_eq!(reg.lookup(&c("c3")).await.unwrap(), Some(conn("c3", &b)));
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

pub async fn matches(store: &dyn MatchStore) {
    use pitchside_domain::ids::MatchId;
    use pitchside_domain::scoring::{Delivery, MatchSetup, Runs, Team};
    let a = fresh_org("match-a");
    let b = fresh_org("match-b");
    let id = MatchId::new("m-1").unwrap();
    let setup = MatchSetup {
        name: "Final".into(),
        teams: vec![
            Team {
                id: "t1".into(),
                name: "One".into(),
                players: vec!["a1".into(), "a2".into()],
            },
            Team {
                id: "t2".into(),
                name: "Two".into(),
                players: vec!["b1".into()],
            },
        ],
        overs_per_innings: 20,
        revised_target: None,
    };
    assert_eq!(store.match_head(&a, &id).await.unwrap(), None);
    let r1 = store.put_match(&a, &id, &setup).await.unwrap();
    let head = store.match_head(&a, &id).await.unwrap().unwrap();
    assert_eq!((head.balls, head.revision, &head.setup), (0, r1, &setup));
    assert_eq!(
        store.match_head(&b, &id).await.unwrap(),
        None,
        "per organization"
    );
    let ball = |seq: u32, runs: u32| Delivery {
        seq,
        innings: 1,
        over: 0,
        batter: "a1".into(),
        bowler: "b1".into(),
        non_striker: "a2".into(),
        runs: Runs {
            batter: runs,
            extras: 0,
            total: runs,
            non_boundary: false,
        },
        extras: Default::default(),
        wickets: vec![],
        review: None,
        replacements: None,
        fielding_penalty: 0,
        super_over: false,
    };
    let at0 = head.at();
    let w1 = store.append_ball(&a, &id, at0, &ball(1, 4)).await.unwrap();
    assert_eq!(w1, BallWrite::Written { revision: r1 + 1 });
    assert_eq!(
        store.append_ball(&a, &id, at0, &ball(1, 6)).await.unwrap(),
        BallWrite::Stale { balls: 1 },
        "the count moved on"
    );
    // Of concurrent writers at the same count, exactly one wins.
    let at1 = store.match_head(&a, &id).await.unwrap().unwrap().at();
    assert_eq!(
        at1,
        At {
            balls: 1,
            revision: r1 + 1
        }
    );
    let racing: Vec<Delivery> = (0..8).map(|i| ball(2, i % 7)).collect();
    let results =
        futures_util::future::join_all(racing.iter().map(|d| store.append_ball(&a, &id, at1, d)))
            .await;
    let written = results
        .iter()
        .filter(|r| matches!(r, Ok(BallWrite::Written { .. })))
        .count();
    assert_eq!(written, 1, "{results:?}");
    let balls = store.balls(&a, &id).await.unwrap();
    assert_eq!(balls.iter().map(|b| b.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(balls[0], ball(1, 4));
    // Undo: only the last, only where the match stands.
    assert_eq!(
        store.remove_last_ball(&a, &id, at1).await.unwrap(),
        BallWrite::Stale { balls: 2 }
    );
    let at2 = store.match_head(&a, &id).await.unwrap().unwrap().at();
    assert_eq!(
        store.remove_last_ball(&a, &id, at2).await.unwrap(),
        BallWrite::Written {
            revision: at2.revision + 1
        }
    );
    assert_eq!(store.balls(&a, &id).await.unwrap(), vec![ball(1, 4)]);
    // A new setup keeps the balls and moves the revision.
    let before = store.match_head(&a, &id).await.unwrap().unwrap();
    let r2 = store
        .put_match(
            &a,
            &id,
            &MatchSetup {
                overs_per_innings: 10,
                ..setup
            },
        )
        .await
        .unwrap();
    let after = store.match_head(&a, &id).await.unwrap().unwrap();
    assert!(r2 > before.revision);
    assert_eq!(
        store
            .append_ball(&a, &id, before.at(), &ball(2, 0))
            .await
            .unwrap(),
        BallWrite::Stale { balls: 1 },
        "a ball computed on the old setup is not written"
    );
    assert_eq!((after.balls, after.setup.overs_per_innings), (1, 10));
    assert!(store.balls(&b, &id).await.unwrap().is_empty());
}
