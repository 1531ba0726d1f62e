//! In-process push: the `Pusher` and `ConnectionRegistry` of a process that holds its
//! connections itself (the local gateway, either backend). It needs no I/O, so it lives
//! with the ports rather than in an adapter crate: a function on AWS could use it too.
//!
//! Each organization has one broadcast ring of pre-rendered frames. Publishing never
//! waits on a subscriber: a subscriber that falls a whole ring behind finds out when it
//! next reads (it lagged), is cut off, and resumes from the log by id. So a slow client
//! costs at most its share of one bounded ring, and a broadcast costs one render plus
//! one ring write however many subscribers there are.

use crate::ports::*;
use async_trait::async_trait;
use bytes::Bytes;
use pitchside_domain::auth::Role;
use pitchside_domain::event::{Event, EventId, EventType};
use pitchside_domain::ids::{OrganizationId, TeamId, UserId};
use pitchside_domain::revocation;
use pitchside_domain::rooms;
use pitchside_domain::sse;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// One event, rendered once for every channel.
#[derive(Debug)]
pub struct Frame {
    pub id: EventId,
    pub kind: EventType,
    pub match_id: Option<String>,
    /// The room it goes to on WebSocket (`domain::rooms`).
    pub room: String,
    /// The team whose members alone may read it (a team room's chat).
    pub private_to: Option<TeamId>,
    /// Whose connections it ends, if it is a revocation (sent to no one).
    pub revoked: Option<UserId>,
    /// The envelope as JSON: a WebSocket text frame.
    pub json: Bytes,
    /// The SSE frame.
    pub sse: Bytes,
}

impl Frame {
    pub fn new(event: &Event) -> Frame {
        let json = event.to_json();
        let sse = sse::frame(event, &json);
        Frame {
            id: event.id,
            kind: event.kind,
            match_id: event.match_id().map(str::to_string),
            room: rooms::of_event(event).to_string(),
            private_to: rooms::private_to(event),
            revoked: revocation::revoked_user(event),
            json: Bytes::from(json),
            sse: Bytes::from(sse),
        }
    }
}

/// How many events a subscriber may fall behind before it is cut off.
pub const DEFAULT_RING: usize = 1024;

pub struct Hub {
    ring: usize,
    /// What times a push from its event's append.
    clock: Arc<dyn crate::clock::Clock>,
    orgs: Mutex<HashMap<OrganizationId, broadcast::Sender<Arc<Frame>>>>,
}

impl Hub {
    pub fn new(ring: usize) -> Hub {
        Hub {
            ring: ring.max(1),
            clock: Arc::new(crate::clock::SystemClock),
            orgs: Mutex::new(HashMap::new()),
        }
    }

    /// Subscribes to the organization's live events. Subscribe before reading the log
    /// for a replay, and drop what the replay already sent, so nothing falls in the seam.
    pub fn subscribe(&self, org: &OrganizationId) -> broadcast::Receiver<Arc<Frame>> {
        let mut orgs = self.orgs.lock().unwrap_or_else(|p| p.into_inner());
        orgs.entry(org.clone())
            .or_insert_with(|| broadcast::channel(self.ring).0)
            .subscribe()
    }

    /// How many live subscribers an organization has.
    pub fn subscribers(&self, org: &OrganizationId) -> usize {
        let orgs = self.orgs.lock().unwrap_or_else(|p| p.into_inner());
        orgs.get(org).map_or(0, |s| s.receiver_count())
    }

    /// Broadcasts a pre-rendered frame.
    pub fn send(&self, org: &OrganizationId, frame: Arc<Frame>) {
        let mut orgs = self.orgs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = orgs.get(org)
            && tx.send(frame).is_err()
        {
            // Nobody listens any more: forget the ring.
            orgs.remove(org);
        }
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(DEFAULT_RING)
    }
}

#[async_trait]
impl Pusher for Hub {
    async fn publish(&self, event: &Event) -> StoreResult<()> {
        if self.subscribers(&event.organization_id) > 0 {
            self.send(&event.organization_id, Arc::new(Frame::new(event)));
            crate::metrics::append_to_push(crate::metrics::between(
                event.timestamp,
                self.clock.now(),
            ));
        }
        Ok(())
    }
}

/// A `Pusher` that holds what it is given until it is taken: the local worker appends a
/// batch's events without waiting for the disk, and pushes them once the disk has them,
/// so that no push carries an event a power cut could take back.
#[derive(Default)]
pub struct Held {
    held: Mutex<Vec<Event>>,
}

impl Held {
    /// What was pushed since the last take, in the order it was pushed.
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.held.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait]
impl Pusher for Held {
    async fn publish(&self, event: &Event) -> StoreResult<()> {
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event.clone());
        Ok(())
    }
}

/// The in-process connection registry. Local WebSocket connections live in this process
/// and die with it, so their registry does too.
#[derive(Default)]
pub struct MemoryRegistry {
    inner: Mutex<RegistryInner>,
}

#[derive(Default)]
struct RegistryInner {
    users: HashMap<(OrganizationId, ConnectionId), (UserId, Vec<Role>)>,
    rooms: HashMap<(OrganizationId, String), BTreeSet<ConnectionId>>,
}

#[async_trait]
impl ConnectionRegistry for MemoryRegistry {
    async fn register(&self, conn: &ConnectionInfo) -> StoreResult<()> {
        let mut r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        r.users.insert(
            (conn.org.clone(), conn.id.clone()),
            (conn.user.clone(), conn.roles.clone()),
        );
        r.rooms
            .entry((conn.org.clone(), ORG_ROOM.to_string()))
            .or_default()
            .insert(conn.id.clone());
        Ok(())
    }

    async fn remove(&self, org: &OrganizationId, id: &ConnectionId) -> StoreResult<()> {
        let mut r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        r.users.remove(&(org.clone(), id.clone()));
        r.rooms.retain(|(o, _), members| {
            if o == org {
                members.remove(id);
            }
            !members.is_empty()
        });
        Ok(())
    }

    async fn join(&self, org: &OrganizationId, id: &ConnectionId, room: &str) -> StoreResult<()> {
        let mut r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if !r.users.contains_key(&(org.clone(), id.clone())) {
            return Err(StoreError::Conflict(format!(
                "connection {} is not registered in {org}",
                id.0
            )));
        }
        r.rooms
            .entry((org.clone(), room.to_string()))
            .or_default()
            .insert(id.clone());
        Ok(())
    }

    async fn leave(&self, org: &OrganizationId, id: &ConnectionId, room: &str) -> StoreResult<()> {
        let mut r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let key = (org.clone(), room.to_string());
        if let Some(members) = r.rooms.get_mut(&key) {
            members.remove(id);
            if members.is_empty() {
                r.rooms.remove(&key);
            }
        }
        Ok(())
    }

    async fn members(&self, org: &OrganizationId, room: &str) -> StoreResult<Vec<ConnectionId>> {
        let r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        Ok(r.rooms
            .get(&(org.clone(), room.to_string()))
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default())
    }

    async fn lookup(&self, id: &ConnectionId) -> StoreResult<Option<ConnectionInfo>> {
        let r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        Ok(r.users
            .iter()
            .find(|((_, c), _)| c == id)
            .map(|((org, c), (user, roles))| ConnectionInfo {
                id: c.clone(),
                org: org.clone(),
                user: user.clone(),
                roles: roles.clone(),
            }))
    }
}
