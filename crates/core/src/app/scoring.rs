//! Live scoring over HTTP: the admin sets a match up, scorers post deliveries (and undo
//! the last), any member reads the scorecard. Every accepted ball and every undo emits
//! `match.score.updated`.
//!
//! A match's state is kept in a small cache, checked against the store's revision in
//! one read, so applying a ball costs one delivery, not a replay of the innings; a cold
//! process (a fresh Lambda) replays once.

use super::ErrorKind;
use super::{ApiError, Ports, require};
use crate::ports::{BallWrite, MatchHead};
use pitchside_domain::auth::{Principal, Role};
use pitchside_domain::event::{Event, EventType, NewEvent};
use pitchside_domain::ids::{MatchId, OrganizationId};
use pitchside_domain::scoring::{Delivery, MatchSetup, MatchState, ScoringError};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

/// How many matches' states a process keeps.
const CACHED_MATCHES: usize = 256;

/// The states of recently scored matches, each with the revision it reflects.
#[derive(Default)]
pub struct ScoreCache {
    states: Mutex<HashMap<(OrganizationId, MatchId), (u64, MatchState)>>,
}

impl ScoreCache {
    fn get(&self, org: &OrganizationId, id: &MatchId, revision: u64) -> Option<MatchState> {
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        match states.get(&(org.clone(), id.clone())) {
            Some((r, s)) if *r == revision => Some(s.clone()),
            _ => None,
        }
    }

    fn put(&self, org: &OrganizationId, id: &MatchId, revision: u64, state: MatchState) {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        if states.len() >= CACHED_MATCHES && !states.contains_key(&(org.clone(), id.clone())) {
            // Any one goes: a miss costs a replay, not a wrong answer.
            if let Some(k) = states.keys().next().cloned() {
                states.remove(&k);
            }
        }
        states.insert((org.clone(), id.clone()), (revision, state));
    }
}

fn refused(e: ScoringError) -> ApiError {
    match e {
        ScoringError::MatchOver => ApiError::new(ErrorKind::Conflict, "match_over", e.to_string()),
        e => ApiError::new(ErrorKind::BadRequest, "invalid_delivery", e.to_string()),
    }
}

/// `PUT /matches/{matchId}` (admin). A setup that the recorded deliveries do not fit
/// is a 409.
pub async fn put_match(
    ports: &Ports,
    who: &Principal,
    id: MatchId,
    setup: MatchSetup,
) -> Result<Value, ApiError> {
    require(who, &[Role::Admin], "setting up a match")?;
    setup
        .check()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if ports.matches.match_head(&who.org, &id).await?.is_some() {
        let balls = ports.matches.balls(&who.org, &id).await?;
        MatchState::replay(setup.clone(), &balls).map_err(|e| {
            ApiError::new(
                ErrorKind::Conflict,
                "conflict",
                format!("the recorded deliveries do not fit this setup: {e}"),
            )
        })?;
    }
    let revision = ports.matches.put_match(&who.org, &id, &setup).await?;
    Ok(json!({"matchId": id, "revision": revision, "setup": setup}))
}

/// The match's head and its state at that head.
async fn load(
    ports: &Ports,
    cache: &ScoreCache,
    org: &OrganizationId,
    id: &MatchId,
) -> Result<(MatchHead, MatchState), ApiError> {
    let head = ports
        .matches
        .match_head(org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("match"))?;
    if let Some(state) = cache.get(org, id, head.revision) {
        return Ok((head, state));
    }
    let balls = ports.matches.balls(org, id).await?;
    let state = MatchState::replay(head.setup.clone(), &balls).map_err(|e| {
        ApiError::new(
            ErrorKind::Internal,
            "corrupt",
            format!("the recorded deliveries: {e}"),
        )
    })?;
    cache.put(org, id, head.revision, state.clone());
    Ok((head, state))
}

/// `match.score.updated` for the state at `revision`: the summary, the match, the
/// revision (which only grows, an undo included) and whether it was an undo. It is
/// written with the ball (or the undo) in one step, so it is built first.
fn score_updated(
    ports: &Ports,
    id: &MatchId,
    revision: u64,
    state: &MatchState,
    last: Option<&Delivery>,
    undone: bool,
) -> NewEvent {
    let mut payload = state.summary(last);
    payload["matchId"] = json!(id);
    payload["revision"] = json!(revision);
    payload["undone"] = json!(undone);
    NewEvent {
        kind: EventType::MatchScoreUpdated,
        payload,
        timestamp: ports.clock.now(),
        dedup_key: Some(format!("score:{id}:{revision}")),
    }
}

/// A write that landed with its event: caches the state, pushes the event, answers the
/// card.
async fn written(
    ports: &Ports,
    cache: &ScoreCache,
    org: &OrganizationId,
    id: &MatchId,
    (revision, event): (u64, Event),
    state: MatchState,
) -> Value {
    crate::metrics::event_appended(event.kind);
    super::push(ports, &event).await;
    let answer = card(id, &state, &event.id.to_string());
    cache.put(org, id, revision, state);
    answer
}

fn card(id: &MatchId, state: &MatchState, last_event_id: &str) -> Value {
    let mut card = state.scorecard();
    card["matchId"] = json!(id);
    card["lastEventId"] = json!(last_event_id);
    card
}

/// `POST /matches/{matchId}/balls` (scorer): idempotent on `seq`.
pub async fn post_ball(
    ports: &Ports,
    cache: &ScoreCache,
    who: &Principal,
    id: MatchId,
    ball: Delivery,
) -> Result<Value, ApiError> {
    require(who, &[Role::Scorer], "scoring")?;
    let (head, state) = load(ports, cache, &who.org, &id).await?;
    let next = head.balls + 1;
    if ball.seq == 0 || ball.seq > next {
        return Err(ApiError::new(
            ErrorKind::Conflict,
            "seq_gap",
            format!("the next delivery is seq {next}"),
        )
        .with("expectedSeq", next));
    }
    if ball.seq < next {
        // A repeat: the same body answers what it answered the first time.
        let balls = ports.matches.balls(&who.org, &id).await?;
        let at = ball.seq as usize;
        if balls.get(at - 1) != Some(&ball) {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                "seq_conflict",
                format!(
                    "delivery {} is recorded with another body; the next is seq {next}",
                    ball.seq
                ),
            )
            .with("expectedSeq", next));
        }
        let then = MatchState::replay(head.setup, &balls[..at]).map_err(refused)?;
        let last = ports.log.bounds(&who.org).await?.head.to_string();
        return Ok(card(&id, &then, &last));
    }
    let mut state = state;
    state.apply(&ball).map_err(refused)?;
    let at = head.at();
    let event = score_updated(ports, &id, at.next_revision(), &state, Some(&ball), false);
    match ports
        .matches
        .append_ball(&who.org, &id, at, &ball, event)
        .await?
    {
        BallWrite::Stale { balls } => Err(ApiError::new(
            ErrorKind::Conflict,
            "stale",
            format!(
                "the match changed while scoring (another scorer, or its setup); the next is seq {}",
                balls + 1
            ),
        )
        .with("expectedSeq", balls + 1)),
        BallWrite::Written { revision, event } => {
            crate::metrics::ball(false);
            Ok(written(ports, cache, &who.org, &id, (revision, event), state).await)
        }
    }
}

/// `DELETE /matches/{matchId}/balls/last` (scorer).
pub async fn undo(
    ports: &Ports,
    cache: &ScoreCache,
    who: &Principal,
    id: MatchId,
) -> Result<Value, ApiError> {
    require(who, &[Role::Scorer], "scoring")?;
    let head = ports
        .matches
        .match_head(&who.org, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("match"))?;
    if head.balls == 0 {
        return Err(ApiError::new(
            ErrorKind::Conflict,
            "nothing_to_undo",
            "no delivery is recorded",
        ));
    }
    let balls = ports.matches.balls(&who.org, &id).await?;
    let kept = &balls[..balls.len().saturating_sub(1)];
    let at = head.at();
    let state = MatchState::replay(head.setup, kept).map_err(refused)?;
    let event = score_updated(ports, &id, at.next_revision(), &state, kept.last(), true);
    match ports
        .matches
        .remove_last_ball(&who.org, &id, at, event)
        .await?
    {
        BallWrite::Stale { balls } => Err(ApiError::new(
            ErrorKind::Conflict,
            "stale",
            "the match changed while undoing; read the score and try again",
        )
        .with("expectedSeq", balls + 1)),
        BallWrite::Written { revision, event } => {
            crate::metrics::ball(true);
            Ok(written(ports, cache, &who.org, &id, (revision, event), state).await)
        }
    }
}

/// `GET /matches/{matchId}/score` (any member), with the `lastEventId` it reflects (read
/// before the state, so a client subscribing from it misses nothing).
pub async fn score(
    ports: &Ports,
    cache: &ScoreCache,
    who: &Principal,
    id: MatchId,
) -> Result<Value, ApiError> {
    let last = ports.log.bounds(&who.org).await?.head.to_string();
    let (_, state) = load(ports, cache, &who.org, &id).await?;
    Ok(card(&id, &state, &last))
}
