//! `GET /sse/events`: replay from the log after the client's id, then live from the hub,
//! with no gap and no double at the seam.

use super::HttpError;
use crate::extract::claims;
use crate::state::{AppState, SseSource, Stopping};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use pitchside_core::app::{ApiError, ErrorKind};
use pitchside_core::clock::Clock;
use pitchside_core::live::Frame;
use pitchside_core::metrics::{self, Pushed, Transport};
use pitchside_core::ports::{EventLog, StreamLeases};
use pitchside_domain::auth::Principal;
use pitchside_domain::catchup::{must_reset, resume_point};
use pitchside_domain::event::{Event, EventId};
use pitchside_domain::ids::{OrganizationId, UserId};
use pitchside_domain::revocation;
use pitchside_domain::rooms;
use pitchside_domain::sse::{self, Filter};
use serde::Deserialize;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{Interval, MissedTickBehavior};

/// Events read from the log per replay step.
const REPLAY_PAGE: usize = 200;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    last_event_id: Option<String>,
    types: Option<String>,
    match_id: Option<String>,
    ticket: Option<String>,
}

pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, HttpError> {
    let claims = claims(&state, &headers, q.ticket.as_deref()).await?;
    let org = claims.org.clone();
    let filter = Filter::parse(q.types.as_deref(), q.match_id.as_deref())
        .map_err(|e| ApiError::bad_request(format!("types: {e}")))?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(q.last_event_id.as_deref())
        .map(|id| {
            id.parse::<EventId>()
                .map_err(|e| ApiError::bad_request(format!("Last-Event-ID: {e}")))
        })
        .transpose()?;

    // Subscribe before reading the log, so that nothing appended in between is missed;
    // read the log's head before the membership, so that a revocation is either seen by
    // the membership check or after the head, where the stream acts on it.
    let live = match state.sse_source {
        SseSource::Hub => Live::Hub(state.hub.subscribe(&org)),
        SseSource::Poll => {
            let mut poll = tokio::time::interval(state.settings.sse.poll);
            poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
            Live::Poll {
                poll,
                deadline: tokio::time::Instant::now() + state.settings.sse.lifetime,
            }
        }
    };
    let bounds = state.ports.log.bounds(&org).await.map_err(ApiError::from)?;
    let who = state.auth.authorize(claims).await?;
    let lease = Lease::take(&state, &who).await?;
    let filter = Filter {
        team: who.team_id.clone(),
        ..filter
    };
    let mut pending = VecDeque::from([Bytes::from(sse::retry_hint())]);
    let cursor = match resume {
        // A new follower starts at the head: it loaded its state just before.
        None => bounds.head,
        Some(after) => {
            metrics::resumed(must_reset(after, bounds));
            if must_reset(after, bounds) {
                let reset =
                    Event::stream_reset(who.org.clone(), bounds.head, state.ports.clock.now());
                pending.push_back(Bytes::from(sse::frame(&reset, &reset.to_json())));
            }
            resume_point(after, bounds)
        }
    };
    tracing::info!(after = %cursor, "sse stream opened");

    // Heartbeat comments keep idle streams open through proxies.
    let period = state.settings.sse.heartbeat;
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let stream = Stream {
        _counted: metrics::Connection::open(Transport::Sse),
        stopping: state.shutdown.watch(),
        log: state.ports.log.clone(),
        clock: state.ports.clock.clone(),
        org: who.org,
        lease,
        opened_at: bounds.head,
        live,
        done: false,
        cursor,
        replaying: resume.is_some(),
        pending,
        filter,
        heartbeat,
    };
    let body = Body::from_stream(futures_util::stream::unfold(stream, Stream::next));
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(resp)
}

/// The stream's slot among its member's (`PITCHSIDE_SSE_MAX_STREAMS_PER_USER`), held
/// across processes in the store: freed when the stream ends, or when its time runs out
/// if the process died first (the stream's lifetime and a margin when it polls; a few
/// heartbeats, renewed at each, when it follows the hub).
struct Lease {
    leases: Arc<dyn StreamLeases>,
    org: OrganizationId,
    user: UserId,
    slot: u32,
    id: String,
    /// Renewed at each heartbeat for this long, or never (a polling stream's lease
    /// outlives it).
    renew_for: Option<Duration>,
}

impl Lease {
    async fn take(state: &AppState, who: &Principal) -> Result<Lease, ApiError> {
        let sse = &state.settings.sse;
        let renew_for = (state.sse_source == SseSource::Hub).then(|| sse.heartbeat * 4);
        let hold = renew_for.unwrap_or(sse.lifetime + Duration::from_secs(30));
        let id = uuid::Uuid::new_v4().simple().to_string();
        let now = state.ports.clock.now();
        let max = sse.max_streams_per_user;
        let slot = state
            .ports
            .leases
            .acquire(&who.org, &who.user, &id, max, now, now + hold)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::TooMany,
                    "too_many_streams",
                    format!(
                        "at most {max} streams at once per member: close one, or follow over WebSocket"
                    ),
                )
            })?;
        Ok(Lease {
            leases: state.ports.leases.clone(),
            org: who.org.clone(),
            user: who.user.clone(),
            slot,
            id,
            renew_for,
        })
    }

    async fn renew(&self, now: chrono::DateTime<chrono::Utc>) {
        if let Some(hold) = self.renew_for {
            match self
                .leases
                .renew(&self.org, &self.user, self.slot, &self.id, now + hold)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(org = %self.org, "sse stream lost its slot; it goes on")
                }
                Err(e) => {
                    tracing::warn!(org = %self.org, error = %e, "cannot renew the sse stream's slot")
                }
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let (leases, org, user, slot, id) = (
            self.leases.clone(),
            self.org.clone(),
            self.user.clone(),
            self.slot,
            std::mem::take(&mut self.id),
        );
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = leases.release(&org, &user, slot, &id).await {
                    tracing::warn!(org = %org, error = %e, "cannot free the sse stream's slot; it expires");
                }
            });
        }
    }
}

/// How the stream follows new events once it has replayed.
enum Live {
    Hub(broadcast::Receiver<Arc<Frame>>),
    /// Reads the log every `poll` tick until `deadline`, then ends the stream on purpose
    /// (the client reconnects and resumes from its last id).
    Poll {
        poll: Interval,
        deadline: tokio::time::Instant,
    },
}

/// What a stream keeps while it is open, times 10,000 open streams: only what it uses.
struct Stream {
    log: Arc<dyn EventLog>,
    clock: Arc<dyn Clock>,
    org: OrganizationId,
    lease: Lease,
    /// The log's head when the stream opened: a revocation of its user after it ends
    /// the stream (one before it was checked by the membership, or is history).
    opened_at: EventId,
    live: Live,
    done: bool,
    /// The last id this stream has accounted for (sent, or filtered out).
    cursor: EventId,
    replaying: bool,
    pending: VecDeque<Bytes>,
    filter: Filter,
    heartbeat: Interval,
    stopping: Stopping,
    _counted: metrics::Connection,
}

impl Stream {
    async fn next(mut self) -> Option<(Result<Bytes, std::io::Error>, Stream)> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Some((Ok(b), self));
            }
            if self.replaying {
                // A long replay is cut short too: the next process carries it on.
                if self.stopping.is_told() {
                    return self.end_stopping();
                }
                // Boxed, like the heartbeat: a waiting stream's future then holds
                // only what waiting needs.
                if !Box::pin(self.replay_page()).await {
                    return None;
                }
                continue;
            }
            if self.done {
                return None;
            }
            let heartbeat = self.heartbeat.tick();
            let stopping = self.stopping.told();
            match &mut self.live {
                Live::Hub(rx) => tokio::select! {
                    r = rx.recv() => match r {
                        Ok(frame) if frame.id <= self.cursor => {}
                        Ok(frame) if frame.id > self.cursor.next() => {
                            // Ids in between were appended but not (yet) seen live: read
                            // them from the log, which holds this frame too.
                            self.replaying = true;
                        }
                        Ok(frame) => {
                            self.cursor = frame.id;
                            if self.revokes_me(frame.id, frame.revoked.as_ref()) {
                                self.end_revoked();
                                continue;
                            }
                            if self.filter.matches(
                                frame.kind,
                                frame.match_id.as_deref(),
                                frame.private_to.as_ref(),
                            ) {
                                metrics::pushed(Transport::Sse, Pushed::Delivered, 1);
                                return Some((Ok(frame.sse.clone()), self));
                            }
                        }
                        Err(RecvError::Lagged(missed)) => {
                            // Too slow: cut off; the client resumes from its last id.
                            metrics::cut_off(Transport::Sse);
                            tracing::info!(org = %self.org, missed, "sse subscriber fell behind; closing");
                            return None;
                        }
                        Err(RecvError::Closed) => return None,
                    },
                    _ = heartbeat => return Box::pin(self.beat()).await,
                    () = stopping => return self.end_stopping(),
                },
                Live::Poll { poll, deadline } => tokio::select! {
                    // One cheap read of the head; the log itself only when it moved.
                    _ = poll.tick() => match self.log.head(&self.org).await {
                        Ok(head) if head > self.cursor => self.replaying = true,
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(org = %self.org, error = %e, "sse poll failed; closing");
                            return None;
                        }
                    },
                    _ = heartbeat => return Box::pin(self.beat()).await,
                    () = stopping => return self.end_stopping(),
                    _ = tokio::time::sleep_until(*deadline) => {
                        self.done = true;
                        return Some((Ok(Bytes::from(sse::retry_hint())), self));
                    }
                },
            }
        }
    }

    /// The process is stopping: a `retry:` hint, so the browser comes back (to the next
    /// process) soon and resumes from its last id, then the end.
    fn end_stopping(mut self) -> Option<(Result<Bytes, std::io::Error>, Stream)> {
        tracing::info!(org = %self.org, "sse stream ended: the gateway is stopping");
        self.done = true;
        self.replaying = false;
        Some((Ok(Bytes::from(sse::retry_hint())), self))
    }

    /// A heartbeat, which also keeps the stream's slot.
    async fn beat(self) -> Option<(Result<Bytes, std::io::Error>, Stream)> {
        self.lease.renew(self.clock.now()).await;
        Some((Ok(Bytes::from_static(sse::HEARTBEAT.as_bytes())), self))
    }

    /// Whether event `id`, revoking `revoked` (if anyone), ends this stream.
    fn revokes_me(&self, id: EventId, revoked: Option<&UserId>) -> bool {
        revoked == Some(&self.lease.user) && id > self.opened_at
    }

    /// Queues the revoked stream's last frame; the stream ends after it.
    fn end_revoked(&mut self) {
        tracing::info!(org = %self.org, "sse stream of a revoked member; closing");
        self.pending
            .push_back(Bytes::from(revocation::sse_notice()));
        self.done = true;
        self.replaying = false;
    }

    /// Queues the next page of the log; false when the log cannot be read (the stream
    /// then ends, and the client resumes).
    async fn replay_page(&mut self) -> bool {
        let events = match self.log.after(&self.org, self.cursor, REPLAY_PAGE).await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(org = %self.org, error = %e, "sse replay failed; closing");
                return false;
            }
        };
        if events.len() < REPLAY_PAGE {
            self.replaying = false;
        }
        for e in &events {
            self.cursor = e.id;
            if self.revokes_me(e.id, revocation::revoked_user(e).as_ref()) {
                self.end_revoked();
                return true;
            }
            if self
                .filter
                .matches(e.kind, e.match_id(), rooms::private_to(e).as_ref())
            {
                self.pending
                    .push_back(Bytes::from(sse::frame(e, &e.to_json())));
            }
        }
        true
    }
}
