//! Availability over HTTP: the admin records that players were asked, a player (or an
//! admin) answers, any member reads the match's sheet.

use super::ApiError;
use super::ErrorKind;
use crate::ports::Applied;
use crate::ports::Ports;
use pitchside_domain::auth::{Principal, Role};
use pitchside_domain::availability::{self, Answer, Response, Source};
use pitchside_domain::event::format_timestamp;
use pitchside_domain::ids::{MatchId, PlayerId};
use serde::Deserialize;
use serde_json::{Value, json};

/// The most players one request may name.
pub const MAX_PLAYERS_PER_REQUEST: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RequestBody {
    pub player_ids: Vec<PlayerId>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    pub response: Response,
}

/// `POST /matches/{matchId}/availability-requests` (admin).
pub async fn request(
    ports: &Ports,
    who: &Principal,
    match_id: MatchId,
    body: RequestBody,
) -> Result<Value, ApiError> {
    super::require(who, &[Role::Admin], "recording availability requests")?;
    let mut players = body.player_ids;
    players.sort();
    players.dedup();
    if players.is_empty() || players.len() > MAX_PLAYERS_PER_REQUEST {
        return Err(ApiError::bad_request(format!(
            "playerIds must name 1 to {MAX_PLAYERS_PER_REQUEST} players"
        )));
    }
    for p in &players {
        if ports.directory.player(&who.org, p).await?.is_none() {
            return Err(ApiError::new(
                ErrorKind::NotFound,
                "not_found",
                format!("player {p} not found"),
            ));
        }
    }
    ports
        .availability
        .request_availability(&who.org, &match_id, &players, ports.clock.now())
        .await?;
    Ok(json!({"matchId": match_id, "requested": players}))
}

/// `PUT /matches/{matchId}/availability/{playerId}`: a `player` answers for themself (the
/// player whose id is their user id), an `admin` for anyone of the organization.
pub async fn answer(
    ports: &Ports,
    who: &Principal,
    match_id: MatchId,
    player: PlayerId,
    body: AnswerBody,
) -> Result<Value, ApiError> {
    let is_self = who.has_role(Role::Player) && who.user.as_str() == player.as_str();
    if !is_self && !who.has_role(Role::Admin) {
        return Err(ApiError::forbidden(
            "a player answers only for themself; an admin for anyone",
        ));
    }
    if ports.directory.player(&who.org, &player).await?.is_none() {
        return Err(ApiError::not_found("player"));
    }
    let now = ports.clock.now();
    let answer = Answer {
        player_id: player,
        response: body.response,
        updated_at: now,
        updated_by: Source::Api,
        message_id: None,
    };
    let event = match ports
        .availability
        .set_availability(
            &who.org,
            &match_id,
            &answer,
            availability::availability_updated(&match_id, &answer, now),
        )
        .await?
    {
        Applied::Yes(appended) => {
            crate::metrics::appended(&appended);
            super::push(ports, &appended.event).await;
            Some(appended.event.id)
        }
        Applied::Stale => None,
    };
    Ok(json!({
        "matchId": match_id,
        "playerId": answer.player_id,
        "response": answer.response,
        "updatedAt": format_timestamp(&answer.updated_at),
        "updatedBy": answer.updated_by,
        "applied": event.is_some(),
        "eventId": event.map(|id| id.to_string()),
    }))
}

/// `GET /matches/{matchId}/availability`: every player asked or answering, with the
/// `lastEventId` the sheet reflects (read before the sheet, so a client that subscribes
/// from it misses nothing).
pub async fn sheet(ports: &Ports, who: &Principal, match_id: MatchId) -> Result<Value, ApiError> {
    let head = ports.log.bounds(&who.org).await?.head;
    let rows = ports.availability.availability(&who.org, &match_id).await?;
    let mut counts = json!({"yes": 0, "no": 0, "maybe": 0, "pending": 0});
    let players: Vec<Value> = rows
        .into_iter()
        .map(|(player, answer)| {
            let key = answer.as_ref().map_or("pending", |a| a.response.as_str());
            counts[key] = json!(counts[key].as_u64().unwrap_or(0) + 1);
            match answer {
                Some(a) => json!({
                    "playerId": player, "response": a.response,
                    "updatedAt": format_timestamp(&a.updated_at),
                    "updatedBy": a.updated_by, "messageId": a.message_id,
                }),
                None => json!({"playerId": player, "response": null}),
            }
        })
        .collect();
    Ok(json!({
        "matchId": match_id,
        "lastEventId": head.to_string(),
        "players": players,
        "counts": counts,
    }))
}
