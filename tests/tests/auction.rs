//! Live auctions and chat over real WebSocket clients, in both modes: a whole auction
//! with a race of 30 simultaneous bids for one step (exactly one accepted, every one of
//! the 50 clients in the room converging on the same state), the purse and squad rules, another organization's
//! attempts refused, the lot timer, chat rooms, rate limiting and bad frames.

use futures_util::future::join_all;
use pitchside_tests::*;
use serde_json::{Value, json};

const LAKH: u64 = 100_000;

async fn member(gw: &Gateway, org: &str, user: &str, roles: Value, team: Option<&str>) {
    let mut body = json!({"roles": roles});
    if let Some(t) = team {
        body["teamId"] = json!(t);
    }
    let (code, _) = gw
        .admin(
            "PUT",
            &format!("/admin/organizations/{org}/members/{user}"),
            Some(body),
        )
        .await
        .unwrap();
    assert_eq!(code, 200);
}

fn owner_token(org: &str, user: &str) -> String {
    token(JWT_SECRET, org, user, &["team_owner"])
}

/// A WebSocket client that keeps the events that arrive while it waits for a reply, so
/// that none is lost between a request and the next read.
struct Client {
    team: &'static str,
    ws: Ws,
    backlog: std::collections::VecDeque<Value>,
}

impl Client {
    async fn connect(gw: &Gateway, team: &'static str, token: &str) -> Client {
        Client {
            team,
            ws: ws_connect(&gw.addr, Some(token)).await.unwrap(),
            backlog: Default::default(),
        }
    }

    /// Sends an action and answers the reply to it (by `requestId`).
    async fn request(&mut self, mut action: Value, rid: &str) -> Value {
        action["requestId"] = json!(rid);
        ws_send(&mut self.ws, action).await.unwrap();
        loop {
            let m = ws_next(&mut self.ws).await.unwrap();
            if m["requestId"] == rid {
                return m;
            }
            assert!(m.get("id").is_some(), "an unexpected non-event: {m}");
            self.backlog.push_back(m);
        }
    }

    /// The next event; fails on anything else.
    async fn event(&mut self) -> Value {
        if let Some(e) = self.backlog.pop_front() {
            return e;
        }
        let m = ws_next(&mut self.ws).await.unwrap();
        assert!(
            m.get("id").is_some() && m.get("type").is_some(),
            "not an event: {m}"
        );
        m
    }
}

fn auction_setup(teams: &[(&str, u64)], lot_seconds: u32) -> Value {
    json!({
        "name": "Season 2027 auction", "currency": "INR",
        "teams": teams.iter().map(|(id, purse)| json!({"id": id, "name": id.to_uppercase(), "purse": purse})).collect::<Vec<_>>(),
        "squad": {"min": 2, "max": 3, "overseasMax": 1},
        "lotSeconds": lot_seconds, "softCloseSeconds": 1, "acceleratedLotSeconds": lot_seconds
    })
}

async fn put_players(gw: &Gateway, auc: &str, auction: &str, players: &[(&str, u64, bool)]) {
    for (id, base, overseas) in players {
        let (code, body) = gw
            .call(
                "PUT",
                &format!("/auctions/{auction}/players/{id}"),
                auc,
                Some(json!({"name": id.to_uppercase(), "basePrice": base, "overseas": overseas})),
            )
            .await
            .unwrap();
        assert_eq!(code, 200, "{body}");
    }
}

fn bid(auction: &str, player: &str, team: &str, amount: u64) -> Value {
    json!({"action": "place_bid", "auctionId": auction, "playerId": player, "teamId": team, "amount": amount})
}

both_modes!(a_whole_auction_with_a_race_and_the_rules);
async fn a_whole_auction_with_a_race_and_the_rules(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-x", "106540352242991", "16505550111")
        .await
        .unwrap();
    gw.seed_org("org-y", "106540352242992", "16505550112")
        .await
        .unwrap();
    member(&gw, "org-x", "auc", json!(["auctioneer"]), None).await;
    let teams = ["t_1", "t_2", "t_3", "t_4", "t_5"];
    for t in teams {
        member(
            &gw,
            "org-x",
            &format!("own-{t}"),
            json!(["team_owner"]),
            Some(t),
        )
        .await;
    }
    member(&gw, "org-x", "viewer", json!(["viewer"]), None).await;
    member(&gw, "org-y", "own-y", json!(["team_owner"]), Some("t_1")).await;
    let auc = token(JWT_SECRET, "org-x", "auc", &["auctioneer"]);
    let http = |method: &'static str, path: String, body: Option<Value>| {
        let (gw, auc) = (&gw, auc.clone());
        async move {
            let (code, body) = gw.call(method, &path, &auc, body).await.unwrap();
            assert_eq!(code, 200, "{method} {path}: {body}");
            body["data"].clone()
        }
    };

    // The auctioneer sets the auction up; owners cannot; a bad setup says what is wrong.
    let mut purses: Vec<(&str, u64)> = teams.iter().map(|t| (*t, 200 * LAKH)).collect();
    purses[4].1 = 75 * LAKH; // t_5 is poor
    let setup = auction_setup(&purses, 300);
    let (code, body) = gw
        .call(
            "PUT",
            "/auctions/a_1",
            &owner_token("org-x", "own-t_1"),
            Some(setup.clone()),
        )
        .await
        .unwrap();
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    http("PUT", "/auctions/a_1".into(), Some(setup)).await;
    let mut bad = auction_setup(&purses, 300);
    bad["increments"] = json!([{"upTo": 100, "step": 5}]);
    let (code, body) = gw
        .call("PUT", "/auctions/a_2", &auc, Some(bad))
        .await
        .unwrap();
    assert_eq!(code, 400);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("upTo"),
        "{body}"
    );
    put_players(
        &gw,
        &auc,
        "a_1",
        &[
            ("p_1", 20 * LAKH, false),
            ("p_2", 50 * LAKH, true),
            ("p_3", 30 * LAKH, true),
            ("p_4", 20 * LAKH, false),
            ("p_5", 20 * LAKH, false),
        ],
    )
    .await;

    // Another organization: the same ids are not found, over HTTP and WebSocket.
    let (code, _) = gw
        .call("GET", "/auctions/a_1", &owner_token("org-y", "own-y"), None)
        .await
        .unwrap();
    assert_eq!(code, 404);
    let mut foreign = Client::connect(&gw, "t_1", &owner_token("org-y", "own-y")).await;
    let r = foreign
        .request(json!({"action": "join_auction", "auctionId": "a_1"}), "j")
        .await;
    assert_eq!(
        (r["type"].as_str(), r["code"].as_str()),
        (Some("error"), Some("not_found"))
    );
    let r = foreign
        .request(bid("a_1", "p_1", "t_1", 20 * LAKH), "b")
        .await;
    assert_eq!(r["code"], "not_found");

    // 50 connections: ten for each team's owner, all in the room.
    let mut conns = Vec::new();
    for i in 0..50 {
        let team = teams[i % 5];
        let mut c = Client::connect(&gw, team, &owner_token("org-x", &format!("own-{team}"))).await;
        let ack = c
            .request(
                json!({"action": "join_auction", "auctionId": "a_1"}),
                "join",
            )
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
        assert_eq!(ack["state"]["teams"].as_array().unwrap().len(), 5);
        conns.push(c);
    }
    // A viewer in the organization who did not join the room gets none of its events.
    let mut outsider =
        Client::connect(&gw, "-", &token(JWT_SECRET, "org-x", "viewer", &["viewer"])).await;

    // The lot opens: every member sees it.
    let lot = http(
        "POST",
        "/auctions/a_1/lots".into(),
        Some(json!({"playerId": "p_1"})),
    )
    .await;
    assert_eq!(lot["lot"]["nextBid"], 20 * LAKH);
    for c in conns.iter_mut() {
        let e = c.event().await;
        assert_eq!(
            (e["type"].as_str(), e["payload"]["version"].as_u64()),
            (Some("auction.lot.opened"), Some(0))
        );
        assert_eq!(e["payload"]["playerId"], "p_1");
    }

    // The race: the 30 connections of t_1 to t_3 bid the base price at once (t_4 and
    // t_5 watch: the purse and squad rules below are checked on their squads, which a
    // win here would change). Exactly one is accepted.
    let racing = |team: &str| ["t_1", "t_2", "t_3"].contains(&team);
    let replies = join_all(
        conns
            .iter_mut()
            .enumerate()
            .filter(|(_, c)| racing(c.team))
            .map(|(i, c)| async move {
                let team = c.team;
                let r = c
                    .request(bid("a_1", "p_1", team, 20 * LAKH), &format!("race-{i}"))
                    .await;
                (i, r)
            }),
    )
    .await;
    assert_eq!(replies.len(), 30);
    let accepted: Vec<usize> = replies
        .iter()
        .filter(|(_, r)| r["type"] == "ack")
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(accepted.len(), 1, "exactly one bid wins the step");
    let winner = conns[accepted[0]].team;
    for (i, r) in &replies {
        let i = *i;
        if i == accepted[0] {
            assert_eq!(r["state"]["lot"]["bids"], 1);
            continue;
        }
        // Refused with the new state: so no one acts on a stale price.
        let expected = if conns[i].team == winner {
            "own_bid"
        } else {
            "bid_too_low"
        };
        assert_eq!(r["code"], expected, "{r}");
        assert_eq!(r["state"]["lot"]["leadingTeam"], winner, "{r}");
        assert_eq!(r["state"]["lot"]["nextBid"], 25 * LAKH);
    }
    // Every member gets exactly one bid event, version 1, for the winner (the next
    // event being the lot's close proves there was no other).
    let idx = |conns: &[Client], team: &str| conns.iter().position(|c| c.team == team).unwrap();
    let other = if winner == "t_1" { "t_2" } else { "t_1" };
    let (o, w) = (idx(&conns, other), idx(&conns, winner));

    // Then in turn: the rules, each refusal with the state.
    let r = conns[o]
        .request(bid("a_1", "p_1", other, 40 * LAKH), "jump")
        .await;
    assert_eq!(
        (r["code"].as_str(), r["state"]["lot"]["nextBid"].as_u64()),
        (Some("bid_off_step"), Some(25 * LAKH))
    );
    let r = conns[o]
        .request(bid("a_1", "p_1", "t_3", 25 * LAKH), "not-mine")
        .await;
    assert_eq!(r["code"], "unauthorized");
    let r = conns[o]
        .request(bid("a_1", "p_9", other, 25 * LAKH), "other-lot")
        .await;
    assert_eq!(r["code"], "lot_closed");
    let r = conns[o]
        .request(bid("a_1", "p_1", other, 25 * LAKH), "v2")
        .await;
    assert_eq!(
        (r["type"].as_str(), r["state"]["lot"]["bids"].as_u64()),
        (Some("ack"), Some(2))
    );
    let r = conns[w]
        .request(bid("a_1", "p_1", winner, 30 * LAKH), "v3")
        .await;
    assert_eq!(r["type"], "ack", "{r}");

    // The auctioneer closes: sold, the purse debited.
    http("POST", "/auctions/a_1/lots/current/close".into(), None).await;
    // Every client converges: versions 1, 2, 3 in order, then the same close.
    for c in conns.iter_mut() {
        let mut bids = Vec::new();
        for _ in 0..3 {
            let e = c.event().await;
            assert_eq!(e["type"], "auction.bid.placed", "{e}");
            bids.push((
                e["payload"]["version"].as_u64().unwrap(),
                e["payload"]["teamId"].as_str().unwrap().to_string(),
            ));
        }
        assert_eq!(
            bids,
            [
                (1, winner.to_string()),
                (2, other.to_string()),
                (3, winner.to_string())
            ]
        );
        let e = c.event().await;
        assert_eq!(e["type"], "auction.lot.closed");
        assert_eq!(
            (
                e["payload"]["outcome"].as_str(),
                e["payload"]["teamId"].as_str(),
                e["payload"]["amount"].as_u64(),
                e["payload"]["version"].as_u64()
            ),
            (Some("sold"), Some(winner), Some(30 * LAKH), Some(3))
        );
        assert_eq!(e["payload"]["purseLeft"], 170 * LAKH);
    }
    let state = http("GET", "/auctions/a_1".into(), None).await;
    let team_state = state["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == winner)
        .unwrap()
        .clone();
    assert_eq!(team_state["purseLeft"], 170 * LAKH);
    assert_eq!(team_state["squad"], json!(["p_1"]));
    let r = conns[o]
        .request(bid("a_1", "p_1", other, 35 * LAKH), "late")
        .await;
    assert_eq!(r["code"], "lot_closed");

    // The purse must keep enough to fill the minimum squad: t_5 has 75 lakh and needs
    // one more player after this one (squad min 2), the cheapest at 20 lakh.
    http(
        "POST",
        "/auctions/a_1/lots".into(),
        Some(json!({"playerId": "p_2"})),
    )
    .await;
    let (p5, p4) = (idx(&conns, "t_5"), idx(&conns, "t_4"));
    let r = conns[p5]
        .request(bid("a_1", "p_2", "t_5", 50 * LAKH), "p2-1")
        .await;
    assert_eq!(r["type"], "ack", "{r}");
    let r = conns[p4]
        .request(bid("a_1", "p_2", "t_4", 55 * LAKH), "p2-2")
        .await;
    assert_eq!(r["type"], "ack", "{r}");
    let r = conns[p5]
        .request(bid("a_1", "p_2", "t_5", 60 * LAKH), "p2-3")
        .await;
    assert_eq!(r["code"], "purse_exceeded", "{r}");
    assert!(
        r["message"].as_str().unwrap().contains("minimum squad"),
        "{r}"
    );
    http("POST", "/auctions/a_1/lots/current/close".into(), None).await;
    // t_4 now holds an overseas player: another one is refused.
    http(
        "POST",
        "/auctions/a_1/lots".into(),
        Some(json!({"playerId": "p_3"})),
    )
    .await;
    let r = conns[p4]
        .request(bid("a_1", "p_3", "t_4", 30 * LAKH), "os")
        .await;
    assert_eq!(r["code"], "overseas_full", "{r}");
    http("POST", "/auctions/a_1/lots/current/close".into(), None).await;
    // Squad max 3: t_4 buys p_4 and p_5, then is full.
    for p in ["p_4", "p_5"] {
        http(
            "POST",
            "/auctions/a_1/lots".into(),
            Some(json!({"playerId": p})),
        )
        .await;
        let r = conns[p4].request(bid("a_1", p, "t_4", 20 * LAKH), p).await;
        assert_eq!(r["type"], "ack", "{r}");
        http("POST", "/auctions/a_1/lots/current/close".into(), None).await;
    }
    // p_3 went unsold: it comes back in the accelerated round, where t_4 is full.
    let lot = http(
        "POST",
        "/auctions/a_1/lots".into(),
        Some(json!({"playerId": "p_3"})),
    )
    .await;
    assert_eq!(lot["lot"]["round"], 2, "{lot}");
    let r = conns[p4]
        .request(bid("a_1", "p_3", "t_4", 30 * LAKH), "full")
        .await;
    assert_eq!(r["code"], "squad_full", "{r}");
    let (code, body) = gw
        .call(
            "POST",
            "/auctions/a_1/lots",
            &auc,
            Some(json!({"playerId": "p_1"})),
        )
        .await
        .unwrap();
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (409, Some("lot_open"))
    );

    // The outsider saw none of it: its next message is the answer to its ping.
    let r = outsider.request(json!({"action": "ping"}), "after").await;
    assert_eq!(r["type"], "pong");
    assert!(outsider.backlog.is_empty(), "{:?}", outsider.backlog);
    // Every member's view is the same final state.
    let a = http("GET", "/auctions/a_1".into(), None).await;
    let (_, b) = gw
        .call(
            "GET",
            "/auctions/a_1",
            &owner_token("org-x", "own-t_3"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(a["teams"], b["data"]["teams"]);
    assert_eq!(a["results"].as_array().unwrap().len(), 5);
}

both_modes!(the_timer_closes_a_lot_when_its_time_runs_out);
async fn the_timer_closes_a_lot_when_its_time_runs_out(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-t", "106540352242993", "16505550113")
        .await
        .unwrap();
    member(&gw, "org-t", "auc", json!(["auctioneer"]), None).await;
    member(&gw, "org-t", "own-1", json!(["team_owner"]), Some("t_1")).await;
    let auc = token(JWT_SECRET, "org-t", "auc", &["auctioneer"]);
    let (code, body) = gw
        .call(
            "PUT",
            "/auctions/quick",
            &auc,
            Some(auction_setup(
                &[("t_1", 100 * LAKH), ("t_2", 100 * LAKH)],
                2,
            )),
        )
        .await
        .unwrap();
    assert_eq!(code, 200, "{body}");
    put_players(
        &gw,
        &auc,
        "quick",
        &[("p_1", 20 * LAKH, false), ("p_2", 20 * LAKH, false)],
    )
    .await;
    let mut c = Client::connect(&gw, "t_1", &owner_token("org-t", "own-1")).await;
    let ack = c
        .request(json!({"action": "join_auction", "auctionId": "quick"}), "j")
        .await;
    assert_eq!(ack["type"], "ack");

    // A lot nobody bids on: the timer closes it, unsold.
    gw.call(
        "POST",
        "/auctions/quick/lots",
        &auc,
        Some(json!({"playerId": "p_1"})),
    )
    .await
    .unwrap();
    assert_eq!(c.event().await["type"], "auction.lot.opened");
    let closed = c.event().await;
    assert_eq!(closed["type"], "auction.lot.closed");
    assert_eq!(
        (
            closed["payload"]["outcome"].as_str(),
            closed["payload"]["closedBy"].as_str()
        ),
        (Some("unsold"), Some("timer"))
    );

    // A lot with a bid: sold when its time runs out, not before.
    gw.call(
        "POST",
        "/auctions/quick/lots",
        &auc,
        Some(json!({"playerId": "p_2"})),
    )
    .await
    .unwrap();
    assert_eq!(c.event().await["type"], "auction.lot.opened");
    let r = c.request(bid("quick", "p_2", "t_1", 20 * LAKH), "b").await;
    assert_eq!(r["type"], "ack", "{r}");
    let placed = c.event().await;
    assert_eq!(placed["type"], "auction.bid.placed");
    let closed = c.event().await;
    assert_eq!(
        (
            closed["payload"]["outcome"].as_str(),
            closed["payload"]["teamId"].as_str(),
            closed["payload"]["closedBy"].as_str()
        ),
        (Some("sold"), Some("t_1"), Some("timer"))
    );
    let ends = placed["payload"]["endsAt"].as_str().unwrap();
    assert!(
        closed["timestamp"].as_str().unwrap() >= ends,
        "{closed} before {ends}"
    );
    let (_, state) = gw.call("GET", "/auctions/quick", &auc, None).await.unwrap();
    assert_eq!(state["data"]["lot"], Value::Null);
    assert_eq!(state["data"]["teams"][0]["squad"], json!(["p_2"]));
}

both_modes!(chat_rooms_rate_limits_and_bad_frames);
async fn chat_rooms_rate_limits_and_bad_frames(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-c", "106540352242994", "16505550114")
        .await
        .unwrap();
    member(&gw, "org-c", "own-1", json!(["team_owner"]), Some("t_1")).await;
    member(&gw, "org-c", "own-2", json!(["team_owner"]), Some("t_2")).await;
    let (t1, t2) = (owner_token("org-c", "own-1"), owner_token("org-c", "own-2"));
    let mut a = Client::connect(&gw, "t_1", &t1).await;
    let mut a2 = Client::connect(&gw, "t_1", &t1).await;
    let mut b = Client::connect(&gw, "t_2", &t2).await;

    // Team chat reaches the team only; org chat everyone.
    let chat = |room: &str, text: &str| json!({"action": "chat", "room": room, "text": text});
    let r = a.request(chat("team:t_1", "bid for p_2?"), "c1").await;
    assert_eq!(r["type"], "ack", "{r}");
    let e = a2.event().await;
    assert_eq!(
        (
            e["type"].as_str(),
            e["payload"]["text"].as_str(),
            e["payload"]["room"].as_str(),
            e["payload"]["from"].as_str()
        ),
        (
            Some("chat.message.sent"),
            Some("bid for p_2?"),
            Some("team:t_1"),
            Some("own-1")
        )
    );
    let r = b.request(chat("team:t_1", "let me in"), "c2").await;
    assert_eq!(r["code"], "unauthorized", "{r}");
    let r = b
        .request(json!({"action": "join_room", "room": "team:t_1"}), "j")
        .await;
    assert_eq!(r["code"], "unauthorized", "{r}");
    let r = b.request(chat("org", "good luck all"), "c3").await;
    assert_eq!(r["type"], "ack");
    // b's first event is its own org message: the team message never reached it.
    assert_eq!(b.event().await["payload"]["text"], "good luck all");
    assert_eq!(
        a.event().await["payload"]["text"],
        "bid for p_2?",
        "the sender's room echo"
    );
    assert_eq!(a.event().await["payload"]["text"], "good luck all");
    // A repeated requestId posts once.
    let r1 = a.request(chat("org", "once"), "same").await;
    let r2 = a.request(chat("org", "once"), "same").await;
    assert_eq!(
        (&r1["messageId"], &r1["eventId"]),
        (&r2["messageId"], &r2["eventId"])
    );
    // A match room, joined on request.
    let r = b
        .request(json!({"action": "join_room", "room": "match:m_1"}), "jm")
        .await;
    assert_eq!(r["type"], "ack");
    let r = a.request(chat("match:m_1", "rain at 3?"), "cm").await;
    assert_eq!(r["type"], "ack");
    assert_eq!(b.event().await["payload"]["text"], "once");
    let e = b.event().await;
    assert_eq!(
        (
            e["payload"]["text"].as_str(),
            e["payload"]["matchId"].as_str()
        ),
        (Some("rain at 3?"), Some("m_1"))
    );
    // The size limit on text.
    let r = a.request(chat("org", &"x".repeat(1001)), "long").await;
    assert_eq!(r["code"], "too_large");
    // History: a team's room to its members only; catch-up alike.
    let (code, h) = gw
        .call("GET", "/chat/team:t_1/messages", &t1, None)
        .await
        .unwrap();
    assert_eq!(code, 200);
    let texts: Vec<&str> = h["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["bid for p_2?"]);
    let (code, _) = gw
        .call("GET", "/chat/team:t_1/messages", &t2, None)
        .await
        .unwrap();
    assert_eq!(code, 404);
    let (_, h) = gw
        .call("GET", "/chat/org/messages?limit=10", &t2, None)
        .await
        .unwrap();
    assert_eq!(h["data"]["messages"].as_array().unwrap().len(), 2, "{h}");
    let seen_by_b = gw.catch_up(&t2, "after=0").await.unwrap();
    let texts: Vec<&str> = seen_by_b["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["payload"]["text"].as_str())
        .collect();
    assert_eq!(texts, ["good luck all", "once", "rain at 3?"]);
    let seen_by_a = gw.catch_up(&t1, "after=0").await.unwrap();
    assert_eq!(seen_by_a["data"].as_array().unwrap().len(), 4);

    // Bad frames are answered and the connection kept.
    for (frame, code) in [
        ("not json".to_string(), "bad_request"),
        (json!({"action": "dance"}).to_string(), "bad_request"),
        (
            json!({"action": "place_bid", "auctionId": "a"}).to_string(),
            "bad_request",
        ),
        (chat("org", &"y".repeat(20_000)).to_string(), "too_large"),
    ] {
        a.ws.send(Message::Text(frame.into())).await.unwrap();
        let r = ws_next(&mut a.ws).await.unwrap();
        assert_eq!(
            (r["type"].as_str(), r["code"].as_str()),
            (Some("error"), Some(code)),
            "{r}"
        );
    }
    let r = a.request(json!({"action": "ping"}), "alive").await;
    assert_eq!(r["type"], "pong");

    // The token bucket: 40 pings at once; the burst (20) passes, the rest are limited.
    let mut fresh = ws_connect(&gw.addr, Some(&t1)).await.unwrap();
    for i in 0..40 {
        ws_send(
            &mut fresh,
            json!({"action": "ping", "requestId": format!("p{i}")}),
        )
        .await
        .unwrap();
    }
    let (mut pongs, mut limited) = (0, 0);
    for _ in 0..40 {
        let r = ws_next(&mut fresh).await.unwrap();
        match (r["type"].as_str(), r["code"].as_str()) {
            (Some("pong"), _) => pongs += 1,
            (Some("error"), Some("rate_limited")) => limited += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!((20..40).contains(&pongs), "pongs {pongs}");
    assert_eq!(pongs + limited, 40);
}

use futures_util::SinkExt as _;
use tokio_tungstenite::tungstenite::Message;

both_modes!(over_websocket_a_role_needs_the_token_and_the_membership);
async fn over_websocket_a_role_needs_the_token_and_the_membership(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-w", "106540352242993", "16505550113")
        .await
        .unwrap();
    member(&gw, "org-w", "auc", json!(["auctioneer"]), None).await;
    member(
        &gw,
        "org-w",
        "own",
        json!(["team_owner", "viewer"]),
        Some("t_1"),
    )
    .await;
    let auc = token(JWT_SECRET, "org-w", "auc", &["auctioneer"]);
    let put = gw
        .call(
            "PUT",
            "/auctions/a_w",
            &auc,
            Some(auction_setup(
                &[("t_1", 200 * LAKH), ("t_2", 200 * LAKH)],
                300,
            )),
        )
        .await
        .unwrap();
    assert_eq!(put.0, 200, "{}", put.1);
    put_players(&gw, &auc, "a_w", &[("p_1", 20 * LAKH, false)]).await;
    let (code, body) = gw
        .call(
            "POST",
            "/auctions/a_w/lots",
            &auc,
            Some(json!({"playerId": "p_1"})),
        )
        .await
        .unwrap();
    assert_eq!(code, 200, "{body}");

    // The membership says team owner; this token was issued for a viewer only. Over
    // HTTP that is a viewer; over WebSocket too: its bid is refused.
    let viewer_token = token(JWT_SECRET, "org-w", "own", &["viewer"]);
    let mut as_viewer = Client::connect(&gw, "t_1", &viewer_token).await;
    let r = as_viewer
        .request(bid("a_w", "p_1", "t_1", 20 * LAKH), "v-bid")
        .await;
    assert_eq!(
        (r["type"].as_str(), r["code"].as_str()),
        (Some("error"), Some("unauthorized")),
        "{r}"
    );
    // The same user with a team owner's token bids.
    let mut as_owner = Client::connect(&gw, "t_1", &owner_token("org-w", "own")).await;
    let r = as_owner
        .request(bid("a_w", "p_1", "t_1", 20 * LAKH), "o-bid")
        .await;
    assert_eq!(r["type"], "ack", "{r}");

    // The team owner is sacked mid-auction: the connection is told, then closed, and
    // bids no more (a message that races the close is refused with its requestId: see
    // the handlers' tests).
    let (code, _) = gw
        .admin(
            "PUT",
            "/admin/organizations/org-w/members/own",
            Some(json!({"roles": ["team_owner"], "teamId": "t_1", "active": false})),
        )
        .await
        .unwrap();
    assert_eq!(code, 200);
    let notice = loop {
        let m = ws_next(&mut as_owner.ws).await.unwrap();
        if m.get("id").is_none() {
            break m;
        }
    };
    assert_eq!(
        (notice["type"].as_str(), notice["code"].as_str()),
        (Some("error"), Some("membership_ended")),
        "{notice}"
    );
    assert!(
        ws_next(&mut as_owner.ws).await.is_err(),
        "the connection is closed after the notice"
    );
}
