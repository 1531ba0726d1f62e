//! Live scoring through the HTTP routes, in both modes: a viewer filtering on a match
//! sees each ball arrive with its version in order; `seq` makes posting idempotent and
//! refuses gaps and forks; undo; concurrent scorers cannot fork the innings.

use pitchside_tests::*;
use serde_json::{Value, json};

const PHONE: &str = "106540352242999";
const WA: &str = "16505550101";

fn setup(overs: u32) -> Value {
    let team = |id: &str, p: &str| json!({"id": id, "name": id, "players": (1..=11).map(|i| format!("{p}{i}")).collect::<Vec<_>>()});
    json!({"name": "Sunday league", "teams": [team("t_a", "a"), team("t_b", "b")], "oversPerInnings": overs})
}

/// A delivery of innings 1, bowled by b1 (over 0) or b2 (over 1).
fn ball(seq: u32, batter: &str, non_striker: &str, runs: u32, extras: Value) -> Value {
    let extra: u32 = extras
        .as_object()
        .map(|o| o.values().map(|v| v.as_u64().unwrap() as u32).sum())
        .unwrap_or(0);
    let mut b = json!({
        "seq": seq, "innings": 1, "over": (seq - 1) / 6, "batter": batter,
        "bowler": if (seq - 1) / 6 == 0 { "b1" } else { "b2" }, "non_striker": non_striker,
        "runs": {"batter": runs, "extras": extra, "total": runs + extra},
    });
    if extra > 0 {
        b["extras"] = extras;
    }
    b
}

async fn post(gw: &Gateway, token: &str, match_id: &str, b: &Value) -> (u16, Value) {
    gw.call(
        "POST",
        &format!("/matches/{match_id}/balls"),
        token,
        Some(b.clone()),
    )
    .await
    .unwrap()
}

both_modes!(a_viewer_sees_each_ball_with_its_version_in_order);
async fn a_viewer_sees_each_ball_with_its_version_in_order(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-s", PHONE, WA).await.unwrap();
    gw.seed_org("org-o", "106540352242998", "16505550102")
        .await
        .unwrap();
    for (user, roles) in [
        ("scorer-1", json!(["scorer"])),
        ("viewer-1", json!(["viewer"])),
    ] {
        let (code, _) = gw
            .admin(
                "PUT",
                &format!("/admin/organizations/org-s/members/{user}"),
                Some(json!({"roles": roles})),
            )
            .await
            .unwrap();
        assert_eq!(code, 200);
    }
    let admin = token(JWT_SECRET, "org-s", "admin-org-s", &["admin"]);
    let scorer = token(JWT_SECRET, "org-s", "scorer-1", &["scorer"]);
    let viewer = token(JWT_SECRET, "org-s", "viewer-1", &["viewer"]);
    let outsider = token(JWT_SECRET, "org-o", "admin-org-o", &["admin"]);

    for m in ["m-1", "m-2"] {
        let (code, body) = gw
            .call("PUT", &format!("/matches/{m}"), &admin, Some(setup(2)))
            .await
            .unwrap();
        assert_eq!(code, 200, "{body}");
    }
    let (code, _) = gw
        .call("PUT", "/matches/m-3", &scorer, Some(setup(2)))
        .await
        .unwrap();
    assert_eq!(code, 403, "only an admin sets a match up");
    let (code, body) = gw
        .call(
            "PUT",
            "/matches/m-3",
            &admin,
            Some(json!({"name": "x", "teams": [], "oversPerInnings": 2})),
        )
        .await
        .unwrap();
    assert_eq!(
        (code, body["error"]["code"].clone()),
        (400, json!("bad_request"))
    );
    let mut lone = setup(2);
    lone["teams"][1]["players"] = json!(["b1"]);
    let (code, body) = gw
        .call("PUT", "/matches/m-3", &admin, Some(lone))
        .await
        .unwrap();
    assert_eq!(code, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at least two players"),
        "{body}"
    );

    let (code, score) = gw
        .call("GET", "/matches/m-1/score", &viewer, None)
        .await
        .unwrap();
    assert_eq!(code, 200, "{score}");
    assert_eq!(score["status"], "scheduled");
    let from = score["lastEventId"].as_str().unwrap().to_string();
    let mut sse = SseClient::connect(
        &gw.url("/sse/events?matchId=m-1"),
        Some(&viewer),
        Some(&from),
    )
    .await
    .unwrap();

    // Another match's ball first: the viewer filtering on m-1 must not see it.
    let (code, _) = post(&gw, &scorer, "m-2", &ball(1, "a1", "a2", 6, json!({}))).await;
    assert_eq!(code, 200);

    let balls = [
        ball(1, "a1", "a2", 1, json!({})),
        ball(2, "a2", "a1", 0, json!({"wides": 1})),
        ball(3, "a2", "a1", 4, json!({})),
        ball(4, "a2", "a1", 0, json!({"legbyes": 1})),
        ball(5, "a1", "a2", 2, json!({"noballs": 1})),
    ];
    let mut cards = Vec::new();
    for b in &balls {
        let (code, card) = post(&gw, &scorer, "m-1", b).await;
        assert_eq!(code, 200, "{card}");
        cards.push(card);
    }
    for (i, card) in cards.iter().enumerate() {
        let frame = sse.next_frame().await.unwrap();
        assert_eq!(frame.event.as_deref(), Some("match.score.updated"));
        let e = frame.json();
        assert_eq!(e["payload"]["matchId"], "m-1");
        assert_eq!(e["payload"]["version"], i + 1, "in order, each once");
        assert_eq!(card["lastEventId"], e["id"]);
        assert_eq!(e["payload"]["runs"], card["innings"][0]["runs"]);
    }
    let last = &cards[4];
    let i = &last["innings"][0];
    assert_eq!(
        (
            i["runs"].clone(),
            i["overs"].clone(),
            i["legalBalls"].clone()
        ),
        (json!(10), json!("0.3"), json!(3))
    );
    assert_eq!(
        i["extras"],
        json!({"wides": 1, "noballs": 1, "byes": 0, "legbyes": 1, "penalty": 0})
    );
    assert_eq!(
        i["batting"][0],
        json!({"player": "a1", "runs": 3, "balls": 2, "fours": 0, "sixes": 0, "out": null})
    );
    assert_eq!(
        i["bowling"][0]["runs"], 9,
        "wides and no-balls are the bowler's, leg byes not"
    );

    // Idempotent on seq: the same body answers the same; another body, or a gap, is 409.
    let (code, again) = post(&gw, &scorer, "m-1", &balls[2]).await;
    assert_eq!(code, 200);
    assert_eq!(again["innings"], cards[2]["innings"]);
    let (code, body) = post(&gw, &scorer, "m-1", &ball(3, "a2", "a1", 6, json!({}))).await;
    assert_eq!(
        (
            code,
            body["error"]["code"].clone(),
            body["error"]["expectedSeq"].clone()
        ),
        (409, json!("seq_conflict"), json!(6))
    );
    let (code, body) = post(&gw, &scorer, "m-1", &ball(8, "a1", "a2", 0, json!({}))).await;
    assert_eq!(
        (
            code,
            body["error"]["code"].clone(),
            body["error"]["expectedSeq"].clone()
        ),
        (409, json!("seq_gap"), json!(6))
    );
    let (code, body) = post(&gw, &scorer, "m-1", &ball(6, "a1", "z9", 0, json!({}))).await;
    assert_eq!(
        (code, body["error"]["code"].clone()),
        (400, json!("invalid_delivery"))
    );
    let (code, _) = post(&gw, &viewer, "m-1", &ball(6, "a1", "a2", 0, json!({}))).await;
    assert_eq!(code, 403);
    let (code, _) = gw
        .call("GET", "/matches/m-1/score", &outsider, None)
        .await
        .unwrap();
    assert_eq!(code, 404, "another organization's match is not found");

    // Undo the last ball: the state before it, and an event that says so.
    let (code, undone) = gw
        .call("DELETE", "/matches/m-1/balls/last", &scorer, None)
        .await
        .unwrap();
    assert_eq!(code, 200, "{undone}");
    assert_eq!(undone["innings"], cards[3]["innings"]);
    let e = sse.next_frame().await.unwrap().json();
    assert_eq!(
        (
            e["payload"]["version"].clone(),
            e["payload"]["undone"].clone()
        ),
        (json!(4), json!(true))
    );

    // Ten scorers race for seq 5: exactly one is recorded, the rest are told the next.
    // Ten different bodies (a repeat of the winner's body would be answered 200 too).
    let racing: Vec<Value> = (0..10)
        .map(|r| {
            let extras = if r / 4 > 0 {
                json!({"byes": r / 4})
            } else {
                json!({})
            };
            ball(5, "a1", "a2", r % 4, extras)
        })
        .collect();
    let results =
        futures_util::future::join_all(racing.iter().map(|b| post(&gw, &scorer, "m-1", b))).await;
    let ok: Vec<&Value> = results
        .iter()
        .filter(|(c, _)| *c == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(ok.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|(c, b)| *c == 200 || (*c == 409 && b["error"]["expectedSeq"] == 6))
    );
    let e = sse.next_frame().await.unwrap().json();
    assert_eq!(e["payload"]["version"], 5);
    assert_eq!(e["id"], ok[0]["lastEventId"]);
    let (_, score) = gw
        .call("GET", "/matches/m-1/score", &viewer, None)
        .await
        .unwrap();
    assert_eq!(score["innings"], ok[0]["innings"]);
    assert_eq!(score["lastEventId"], e["id"]);
}

both_modes!(a_short_match_is_played_to_its_result);
async fn a_short_match_is_played_to_its_result(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-r", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-r", "admin-org-r", &["admin", "scorer"]);
    let (code, _) = gw
        .admin(
            "PUT",
            "/admin/organizations/org-r/members/admin-org-r",
            Some(json!({"roles": ["admin", "scorer", "viewer"]})),
        )
        .await
        .unwrap();
    assert_eq!(code, 200);
    let (code, _) = gw
        .call("PUT", "/matches/m-9", &t, Some(setup(1)))
        .await
        .unwrap();
    assert_eq!(code, 200);
    // A bats one over for 9; B chases 10 and gets there in four balls.
    let mut seq = 0;
    let mut next = |innings: u32, batter: &str, ns: &str, bowler: &str, runs: u32| {
        seq += 1;
        json!({"seq": seq, "innings": innings, "over": 0, "batter": batter, "bowler": bowler,
               "non_striker": ns, "runs": {"batter": runs, "extras": 0, "total": runs}})
    };
    let script = [
        next(1, "a1", "a2", "b1", 4),
        next(1, "a1", "a2", "b1", 0),
        next(1, "a1", "a2", "b1", 1),
        next(1, "a2", "a1", "b1", 0),
        next(1, "a2", "a1", "b1", 0),
        next(1, "a2", "a1", "b1", 4),
        next(2, "b1", "b2", "a1", 6),
        next(2, "b1", "b2", "a1", 0),
        next(2, "b1", "b2", "a1", 0),
        next(2, "b1", "b2", "a1", 4),
    ];
    let mut last = Value::Null;
    for b in &script {
        let (code, card) = post(&gw, &t, "m-9", b).await;
        assert_eq!(code, 200, "{card}");
        last = card;
    }
    assert_eq!(last["status"], "complete");
    assert_eq!(last["result"]["winner"], "t_b");
    assert_eq!(
        (
            last["result"]["by"].clone(),
            last["result"]["margin"].clone()
        ),
        (json!("wickets"), json!(10))
    );
    assert_eq!(last["innings"][0]["bowling"][0]["maidens"], 0);
    assert_eq!(last["innings"][1]["target"], 10);
    let (code, body) = post(&gw, &t, "m-9", &next(2, "b1", "b2", "a1", 1)).await;
    assert_eq!(
        (code, body["error"]["code"].clone()),
        (409, json!("match_over"))
    );
}

both_modes!(penalty_runs_to_the_fielding_side_move_the_target);
async fn penalty_runs_to_the_fielding_side_move_the_target(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-p", PHONE, WA).await.unwrap();
    let (code, _) = gw
        .admin(
            "PUT",
            "/admin/organizations/org-p/members/admin-org-p",
            Some(json!({"roles": ["admin", "scorer"]})),
        )
        .await
        .unwrap();
    assert_eq!(code, 200);
    let t = token(JWT_SECRET, "org-p", "admin-org-p", &["admin", "scorer"]);
    let (code, _) = gw
        .call("PUT", "/matches/m-p", &t, Some(setup(1)))
        .await
        .unwrap();
    assert_eq!(code, 200);
    let ball = |seq: u32, innings: u32, batter: &str, ns: &str, bowler: &str, runs: u32| {
        json!({"seq": seq, "innings": innings, "over": 0, "batter": batter, "bowler": bowler,
               "non_striker": ns, "runs": {"batter": runs, "extras": 0, "total": runs}})
    };
    // A makes 12 off the over, and is awarded 5 while fielding, before B bats.
    for seq in 1..=6 {
        let mut b = ball(seq, 1, "a1", "a2", "b1", 2);
        if seq == 6 {
            b["fielding_penalty"] = json!(3);
            let (code, body) = post(&gw, &t, "m-p", &b).await;
            assert_eq!(
                (code, body["error"]["code"].clone()),
                (400, json!("invalid_delivery")),
                "penalty runs come in fives: {body}"
            );
            b["fielding_penalty"] = json!(5);
        }
        let (code, body) = post(&gw, &t, "m-p", &b).await;
        assert_eq!(code, 200, "{body}");
    }
    let (_, card) = post(&gw, &t, "m-p", &ball(7, 2, "b1", "b2", "a1", 1)).await;
    assert_eq!(card["innings"][0]["runs"], 12);
    assert_eq!(
        card["innings"][1]["penaltyRuns"],
        json!({"pre": 5, "post": 0})
    );
    assert_eq!(
        card["innings"][1]["runs"], 6,
        "B starts on the 5 it was awarded"
    );
    assert_eq!(card["innings"][1]["target"], 13);
    // Then B's batters are penalised: 5 to A, and the target moves.
    let mut b = ball(8, 2, "b2", "b1", "a1", 0);
    b["fielding_penalty"] = json!(5);
    let (code, card) = post(&gw, &t, "m-p", &b).await;
    assert_eq!(code, 200, "{card}");
    assert_eq!(
        (
            card["innings"][0]["runs"].clone(),
            card["innings"][0]["penaltyRuns"]["post"].clone(),
            card["innings"][1]["target"].clone(),
            card["innings"][1]["runsNeeded"].clone()
        ),
        (json!(17), json!(5), json!(18), json!(12))
    );
    let (_, score) = gw
        .call("GET", "/matches/m-p/score", &t, None)
        .await
        .unwrap();
    assert_eq!(score["innings"], card["innings"]);
}

/// Puts an event of another writer at log id `id` of `org`, straight into the store,
/// so the next append there fails inside its transaction (as a crash between a write
/// and its event would cut it); `false` takes it out again.
async fn block_log_at(env: &Env, org: &str, id: u64, on: bool) {
    match env.mode {
        Mode::Embedded => {
            let path =
                std::path::Path::new(env.var("PITCHSIDE_DATA_DIR").unwrap()).join("pitchside.db");
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.busy_timeout(std::time::Duration::from_secs(10))
                .unwrap();
            let sql = if on {
                "INSERT INTO events (org, id, type, ts_ms, payload) VALUES (?1, ?2, 'chat.message.sent', 0, '{}')"
            } else {
                "DELETE FROM events WHERE org = ?1 AND id = ?2"
            };
            conn.execute(sql, rusqlite::params![org, id.cast_signed()])
                .unwrap();
        }
        Mode::Aws => {
            use aws_sdk_dynamodb::types::AttributeValue as A;
            use pitchside_aws::keys;
            let client = aws_sdk_dynamodb::Client::new(&pitchside_aws::sdk_config().await);
            let org = pitchside_domain::ids::OrganizationId::new(org).unwrap();
            let (pk, sk) = (
                A::S(keys::events(&org)),
                A::S(keys::event_sk(pitchside_domain::event::EventId(id))),
            );
            let table = env.var("PITCHSIDE_TABLE").unwrap();
            if on {
                client
                    .put_item()
                    .table_name(table)
                    .item(keys::PK, pk)
                    .item(keys::SK, sk)
                    .send()
                    .await
                    .unwrap();
            } else {
                client
                    .delete_item()
                    .table_name(table)
                    .key(keys::PK, pk)
                    .key(keys::SK, sk)
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

both_modes!(a_ball_whose_event_cannot_be_appended_is_not_recorded);
async fn a_ball_whose_event_cannot_be_appended_is_not_recorded(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-k", PHONE, WA).await.unwrap();
    gw.admin_put(
        "/admin/organizations/org-k/members/admin-org-k",
        json!({"roles": ["admin", "scorer", "viewer"]}),
    )
    .await
    .unwrap();
    let admin = token(
        JWT_SECRET,
        "org-k",
        "admin-org-k",
        &["admin", "scorer", "viewer"],
    );
    let (code, body) = gw
        .call("PUT", "/matches/m-k", &admin, Some(setup(2)))
        .await
        .unwrap();
    assert_eq!(code, 200, "{body}");
    let (code, first) = post(&gw, &admin, "m-k", &ball(1, "a1", "a2", 1, json!({}))).await;
    assert_eq!(code, 200, "{first}");
    let head: u64 = first["lastEventId"].as_str().unwrap().parse().unwrap();

    // The log cannot take the next event: the ball is refused whole, not recorded.
    block_log_at(&env, "org-k", head + 1, true).await;
    let second = ball(2, "a2", "a1", 4, json!({}));
    let (code, body) = post(&gw, &admin, "m-k", &second).await;
    assert_eq!(code, 503, "{body}");
    let (_, score) = gw
        .call("GET", "/matches/m-k/score", &admin, None)
        .await
        .unwrap();
    assert_eq!(
        score["innings"][0]["runs"], 1,
        "ball 2 is not in the score: {score}"
    );
    let (code, body) = gw
        .call("DELETE", "/matches/m-k/balls/last", &admin, None)
        .await
        .unwrap();
    assert_eq!(code, 503, "an undo is refused whole too: {body}");

    // Once the log takes events again, the scorer's retry records ball 2 with its
    // event, the very next one after ball 1's.
    block_log_at(&env, "org-k", head + 1, false).await;
    let (code, card) = post(&gw, &admin, "m-k", &second).await;
    assert_eq!(code, 200, "{card}");
    let events = gw.events(&admin, &head.to_string(), 1).await.unwrap();
    assert_eq!(
        (
            events[0]["id"].as_str(),
            events[0]["payload"]["version"].as_u64()
        ),
        (Some((head + 1).to_string().as_str()), Some(2))
    );
    assert_eq!(card["innings"][0]["runs"], 5);
}
