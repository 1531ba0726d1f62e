//! The WebSocket connections this process holds, by connection id: what the local
//! `@connections` endpoint posts to, as API Gateway does for its own connections.

use axum::extract::ws::Utf8Bytes;
use pitchside_core::ports::ConnectionId;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::mpsc;

pub struct LocalSockets {
    /// Frames a connection may have queued before it counts as too slow and is dropped.
    outbox: usize,
    outboxes: Mutex<HashMap<ConnectionId, mpsc::Sender<Outgoing>>>,
}

/// What the management endpoint hands a connection's session.
#[derive(Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// A text frame to send (`POST`).
    Text(Utf8Bytes),
    /// Close the connection normally, as API Gateway's `DeleteConnection` does (1000).
    Close,
}

/// What became of a post to a connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Posted {
    Sent,
    /// Unknown or closed; or too slow, and now dropped.
    Gone,
}

impl LocalSockets {
    pub fn new(outbox: usize) -> LocalSockets {
        LocalSockets {
            outbox: outbox.max(1),
            outboxes: Mutex::new(HashMap::new()),
        }
    }

    pub fn open(&self, id: ConnectionId) -> mpsc::Receiver<Outgoing> {
        let (tx, rx) = mpsc::channel(self.outbox);
        self.outboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, tx);
        rx
    }

    pub fn close(&self, id: &ConnectionId) {
        self.outboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    pub fn post(&self, id: &ConnectionId, text: Utf8Bytes) -> Posted {
        let mut map = self.outboxes.lock().unwrap_or_else(|p| p.into_inner());
        let Some(tx) = map.get(id) else {
            return Posted::Gone;
        };
        match tx.try_send(Outgoing::Text(text)) {
            Ok(()) => Posted::Sent,
            Err(_) => {
                // Full (a client that stopped reading) or closed: drop it; the session
                // ends when its receiver sees the sender gone, and the client resumes.
                map.remove(id);
                Posted::Gone
            }
        }
    }

    /// Closes a connection from the server's side (`DELETE`); false if it was gone.
    pub fn disconnect(&self, id: &ConnectionId) -> bool {
        let mut map = self.outboxes.lock().unwrap_or_else(|p| p.into_inner());
        match map.remove(id) {
            // A full outbox cannot take the close: the dropped sender ends the session
            // as too slow, which is closed all the same.
            Some(tx) => {
                let _ = tx.try_send(Outgoing::Close);
                true
            }
            None => false,
        }
    }

    pub fn contains(&self, id: &ConnectionId) -> bool {
        self.outboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(id)
    }
}
