//! Real matches replayed ball by ball through `POST /matches/{id}/balls`, in both modes,
//! and the scorecard the routes answer held to the published one: every innings' total,
//! wickets, overs, extras and fall of wickets, every batter's runs, balls, fours, sixes
//! and how out, every bowler's overs, maidens, runs and wickets, and the result.
//!
//! The files are in Cricsheet's match format (`tests/fixtures/matches/`, where the README
//! says where each came from); the route takes a Cricsheet delivery plus its `seq`,
//! `innings` and `over`, so the replay adds only those three. Each match has its own
//! table: moto copies a whole table on every `TransactWriteItems`, so one table holding
//! both matches cost the AWS mode about 170 s, against 110 s apart.

use pitchside_tests::*;
use serde_json::{Value, json};

const PHONE: &str = "106540352242999";
const WA: &str = "16505550101";

fn load(name: &str) -> Value {
    serde_json::from_slice(&fixture(&format!("matches/{name}"), &[])).unwrap()
}

/// The match setup from the file's `info`: each team's eleven, and the over limit.
fn setup(m: &Value) -> Value {
    let info = &m["info"];
    let teams: Vec<Value> = info["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let name = t.as_str().unwrap();
            json!({"id": name, "name": name, "players": info["players"][name]})
        })
        .collect();
    json!({"name": info["event"]["name"], "teams": teams, "oversPerInnings": info["overs"]})
}

/// Every delivery of the file as the route takes it, in the order bowled.
fn deliveries(m: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, innings) in m["innings"].as_array().unwrap().iter().enumerate() {
        for over in innings["overs"].as_array().unwrap() {
            for d in over["deliveries"].as_array().unwrap() {
                let mut d = d.clone();
                d["seq"] = json!(out.len() + 1);
                d["innings"] = json!(i + 1);
                d["over"] = over["over"].clone();
                if innings["super_over"] == true {
                    d["super_over"] = json!(true);
                }
                out.push(d);
            }
        }
    }
    out
}

/// The card's rows (batters or bowlers) against the published ones: the same players,
/// no one more, and each figure in `keys` the same (and `legalBalls` where the card
/// gives it).
fn same_rows(what: &str, got: &Value, want: &Value, keys: &[&str]) {
    let (got, want) = (got.as_array().unwrap(), want.as_array().unwrap());
    assert_eq!(got.len(), want.len(), "{what}: the same players: {got:?}");
    for w in want {
        let player = &w["player"];
        let row = got.iter().find(|r| r["player"] == *player);
        let row = row.unwrap_or_else(|| panic!("{what}: {player} is missing"));
        for key in keys
            .iter()
            .chain(w.get("legalBalls").map(|_| &"legalBalls"))
        {
            assert_eq!(row[key], w[key], "{what}: {player} {key}");
        }
    }
}

/// Replays `name` into a fresh match of a new organization and compares the score the
/// route answers with the published card, field by field so a failure names the figure.
async fn replay(gw: &Gateway, org: &str, phone: &str, wa: &str, name: &str) {
    let m = load(&format!("{name}.json"));
    let card = load(&format!("{name}.card.json"));
    gw.seed_org(org, phone, wa).await.unwrap();
    let user = format!("scorer-{org}");
    let (code, _) = gw
        .admin(
            "PUT",
            &format!("/admin/organizations/{org}/members/{user}"),
            Some(json!({"roles": ["admin", "scorer"]})),
        )
        .await
        .unwrap();
    assert_eq!(code, 200);
    let t = token(JWT_SECRET, org, &user, &["admin", "scorer"]);
    let (code, body) = gw
        .call("PUT", &format!("/matches/{name}"), &t, Some(setup(&m)))
        .await
        .unwrap();
    assert_eq!(code, 200, "{body}");

    let balls = deliveries(&m);
    let mut last = Value::Null;
    for b in &balls {
        let (code, answer) = gw
            .call(
                "POST",
                &format!("/matches/{name}/balls"),
                &t,
                Some(b.clone()),
            )
            .await
            .unwrap();
        assert_eq!(code, 200, "{name} seq {}: {answer}", b["seq"]);
        assert_eq!(answer["version"], b["seq"], "{name}: one version per ball");
        last = answer;
    }
    let (code, score) = gw
        .call("GET", &format!("/matches/{name}/score"), &t, None)
        .await
        .unwrap();
    assert_eq!(code, 200);
    assert_eq!(
        score["innings"], last["innings"],
        "{name}: GET answers the last POST"
    );

    let played = score["innings"].as_array().unwrap();
    let published = card["innings"].as_array().unwrap();
    assert_eq!(played.len(), published.len(), "{name}: innings");
    for (got, want) in played.iter().zip(published) {
        let team = want["team"].as_str().unwrap();
        assert_eq!(got["battingTeam"], want["team"], "{name}");
        assert_eq!(got["superOver"], want["superOver"], "{name}, {team}");
        for key in ["runs", "wickets", "overs", "extras", "fallOfWickets"] {
            assert_eq!(got[key], want[key], "{name}, {team}: {key}");
        }
        // Where a card gives the legal balls as bowled (a miscounted over's), they too.
        if !want["legalBalls"].is_null() {
            assert_eq!(got["legalBalls"], want["legalBalls"], "{name}, {team}");
        }
        let batting = ["runs", "balls", "fours", "sixes", "out"];
        same_rows(
            &format!("{name}, {team}, batting"),
            &got["batting"],
            &want["batting"],
            &batting,
        );
        let bowling = ["overs", "maidens", "runs", "wickets"];
        same_rows(
            &format!("{name}, {team}, bowling"),
            &got["bowling"],
            &want["bowling"],
            &bowling,
        );
    }
    assert_eq!(score["status"], "complete", "{name}");
    let result = &score["result"];
    let want = &card["result"];
    assert_eq!(
        (
            &result["winner"],
            &result["by"],
            &result["margin"],
            &result["superOver"]
        ),
        (
            &want["winner"],
            &want["by"],
            &want["margin"],
            &want["superOver"]
        ),
        "{name}: the result"
    );
    // Each chase is after the runs of the innings before it, plus one.
    for pair in played.chunks(2).filter(|p| p.len() == 2) {
        assert_eq!(pair[1]["target"], pair[0]["runs"].as_u64().unwrap() + 1);
    }
}

both_modes!(a_t20_chase_reproduces_its_scorecard);
async fn a_t20_chase_reproduces_its_scorecard(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    replay(
        &gw,
        "org-t20",
        PHONE,
        WA,
        "t20-2024-west-indies-v-papua-new-guinea",
    )
    .await;
}

both_modes!(an_odi_chase_reproduces_its_scorecard);
async fn an_odi_chase_reproduces_its_scorecard(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    replay(&gw, "org-odi", PHONE, WA, "odi-2023-england-v-new-zealand").await;
}

both_modes!(a_t20_with_two_run_outs_and_no_balls_reproduces_its_scorecard);
async fn a_t20_with_two_run_outs_and_no_balls_reproduces_its_scorecard(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    replay(&gw, "org-usa", PHONE, WA, "t20-2024-united-states-v-canada").await;
}

both_modes!(a_tie_decided_in_a_super_over_reproduces_its_scorecard);
async fn a_tie_decided_in_a_super_over_reproduces_its_scorecard(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    replay(&gw, "org-oman", PHONE, WA, "t20-2024-oman-v-namibia").await;
}

both_modes!(a_seven_ball_over_counts_as_the_umpire_counted_it);
async fn a_seven_ball_over_counts_as_the_umpire_counted_it(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    replay(
        &gw,
        "org-ipl",
        PHONE,
        WA,
        "t20-2008-deccan-chargers-v-mumbai-indians",
    )
    .await;
}
