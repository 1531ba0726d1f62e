//! Fan-out on AWS: an append to the log becomes chunks on the push queue, one per lane
//! of each room's connections (`pitchside_domain::push`). The `fanout` function runs it
//! for each move of an organization's log head on the table's stream, in stream order,
//! so the chunks of each lane are queued in log order.

use crate::ports::{ChunkQueue, Ports, StoreResult};
use pitchside_domain::event::{Event, EventId};
use pitchside_domain::ids::OrganizationId;
use pitchside_domain::push::{Action, Chunk, Parts, plan_page};
use pitchside_domain::{revocation, rooms};
use std::collections::HashMap;

/// Events read from the log per query.
const PAGE: usize = 100;
/// Connections of a room read per query: about what DynamoDB's 1 MB page holds of the
/// room's rows, so a large room's first chunks are queued after its first page and its
/// chunks stay large (a smaller page splits every lane's chunk at each page, so more
/// invocations for as many posts).
const MEMBERS_PAGE: usize = 12_000;

/// What one fan-out queued.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub events: usize,
    pub chunks: usize,
    pub connections: usize,
}

/// Queues the chunks that take the events after `after` up to `upto` to their rooms.
/// An error leaves the caller to run it again (the stream record stays): what was
/// queued already is deduplicated by the queue.
pub async fn fan_out(
    ports: &Ports,
    queue: &dyn ChunkQueue,
    org: &OrganizationId,
    after: EventId,
    upto: EventId,
) -> StoreResult<Queued> {
    fan_out_in_pages(ports, queue, org, after, upto, MEMBERS_PAGE).await
}

/// As [`fan_out`], reading rooms `members_page` connections at a time.
pub async fn fan_out_in_pages(
    ports: &Ports,
    queue: &dyn ChunkQueue,
    org: &OrganizationId,
    after: EventId,
    upto: EventId,
    members_page: usize,
) -> StoreResult<Queued> {
    let mut queued = Queued::default();
    // Each room's members, page by page, as the first event for it read them.
    let mut members: HashMap<String, Vec<Vec<String>>> = HashMap::new();
    let mut from = after;
    while from < upto {
        let events = match read(ports, org, from).await? {
            Some(events) => events,
            None => {
                from = from.next();
                continue;
            }
        };
        let Some(last) = events.last() else {
            // Retention removed them, or the store has not caught up: nothing to send.
            tracing::warn!(after = %from, upto = %upto, "the log holds no events the head moved over");
            break;
        };
        from = last.id;
        // Chunks wait here and go out together (one send for a page of small rooms'
        // events), in the order planned; a large room's go out page by page.
        let mut pending = Vec::new();
        for event in events.iter().filter(|e| e.id <= upto) {
            let Some((action, room, data)) = what_to_post(event) else {
                continue;
            };
            let mut parts = Parts::default();
            let mut reached = 0;
            let planned = match members.get(&room) {
                Some(pages) => pages.iter().try_for_each(|page| {
                    reached += page.len();
                    plan_page(
                        org,
                        event.id,
                        action,
                        &data,
                        page.iter().cloned(),
                        &mut parts,
                    )
                    .map(|c| pending.extend(c))
                }),
                None => {
                    let mut pages = Vec::new();
                    let mut after = None;
                    let planned = loop {
                        let (page, next) = ports
                            .registry
                            .members_page(org, &room, after.as_ref(), members_page)
                            .await?;
                        let page: Vec<String> = page.into_iter().map(|c| c.0).collect();
                        reached += page.len();
                        let chunks = plan_page(
                            org,
                            event.id,
                            action,
                            &data,
                            page.iter().cloned(),
                            &mut parts,
                        );
                        pages.push(page);
                        match chunks {
                            Ok(c) => pending.extend(c),
                            Err(e) => break Err(e),
                        }
                        let Some(next) = next else { break Ok(()) };
                        // A large room: what is planned goes out before the next page
                        // is read, so its first connections are reached sooner.
                        queued.chunks += pending.len();
                        send(queue, &pending).await?;
                        pending.clear();
                        after = Some(next);
                    };
                    // Kept only whole: an event refused at its first page read no more.
                    if planned.is_ok() {
                        members.insert(room, pages);
                    }
                    planned
                }
            };
            match planned {
                Ok(()) => {
                    queued.events += 1;
                    queued.connections += reached;
                }
                // It cannot be posted, to anyone: clients read it by catch-up.
                Err(e) => {
                    tracing::error!(error = %e, "an event not pushed to WebSocket connections")
                }
            }
        }
        queued.chunks += pending.len();
        send(queue, &pending).await?;
    }
    Ok(queued)
}

/// The events after `from`; `None` when the next one cannot be read at all (stored
/// corrupt): retrying cannot help, and the events after it must still go out, so it is
/// skipped, loudly. Ids are consecutive, so the one that fails is `from`'s next.
async fn read(
    ports: &Ports,
    org: &OrganizationId,
    from: EventId,
) -> StoreResult<Option<Vec<Event>>> {
    let err = match ports.log.after(org, from, PAGE).await {
        Ok(events) => return Ok(Some(events)),
        Err(e) if e.is_transient() => return Err(e),
        Err(e) => e,
    };
    match ports.log.after(org, from, 1).await {
        Ok(events) => Ok(Some(events)),
        Err(e) if e.is_transient() => Err(e),
        Err(_) => {
            tracing::error!(event_id = %from.next(), error = %err, "an event the log cannot read is not pushed");
            Ok(None)
        }
    }
}

async fn send(queue: &dyn ChunkQueue, chunks: &[Chunk]) -> StoreResult<()> {
    if chunks.is_empty() {
        return Ok(());
    }
    queue.send(chunks).await
}

/// What an event asks of a room's connections, if anything: the event itself, or for a
/// revocation the notice before the revoked member's connections are closed.
fn what_to_post(event: &Event) -> Option<(Action, String, String)> {
    if let Some(user) = revocation::revoked_user(event) {
        let room = rooms::Room::User(user).to_string();
        return Some((Action::End, room, revocation::ws_notice()));
    }
    if !event.kind.reaches_clients() {
        return None;
    }
    Some((
        Action::Deliver,
        rooms::of_event(event).to_string(),
        event.to_json(),
    ))
}
