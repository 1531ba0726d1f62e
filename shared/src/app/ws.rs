//! The WebSocket handlers shared by the local gateway and the `ws` Lambda: the
//! connection's registration, and the answer to each client message. The organization
//! of a message is the connection's (from the registry), never the message's.

use super::ApiError;
use super::authn::{Authenticator, Credential};
use crate::domain::auth::Principal;
use crate::domain::ws::{self, Action};
use crate::ports::{ConnectionId, ConnectionInfo, ConnectionRegistry};

/// `$connect`: authenticates and registers the connection.
pub async fn connect(
    auth: &Authenticator,
    registry: &dyn ConnectionRegistry,
    id: ConnectionId,
    cred: &Credential,
) -> Result<(Principal, ConnectionInfo), ApiError> {
    let who = auth.authenticate(cred).await?;
    let conn = ConnectionInfo {
        id,
        org: who.org.clone(),
        user: who.user.clone(),
    };
    registry.register(&conn).await?;
    Ok((who, conn))
}

/// `$disconnect`: forgets the connection (best-effort on AWS; rows also expire).
pub async fn disconnect(
    registry: &dyn ConnectionRegistry,
    id: &ConnectionId,
) -> Result<(), ApiError> {
    if let Some(conn) = registry.lookup(id).await? {
        registry.remove(&conn.org, id).await?;
    }
    Ok(())
}

/// The answer to one client message.
pub fn reply(text: &str) -> String {
    match ws::parse(text) {
        Ok(Action::Ping { request_id }) => ws::pong(request_id.as_deref()),
        Err(refusal) => refusal.to_json(),
    }
}
