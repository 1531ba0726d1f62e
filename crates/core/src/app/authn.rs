//! Turning what a request presents (a bearer token, the cookie, a ticket) into a
//! principal, and issuing tickets.

use super::{ApiError, ErrorKind};
use crate::clock::Clock;
use crate::ports::{Directory, TicketGrant, TicketStore};
use crate::secrets::{Live, TokenKeys};
use chrono::Duration;
use pitchside_domain::auth::{AuthError, Claims, Principal, authorize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// How long a ticket is valid.
pub const TICKET_SECONDS: i64 = 60;

/// The cookie a browser may carry the token in.
pub const TOKEN_COOKIE: &str = "pitchside_token";

/// What a request presented, in order of precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Token(String),
    Ticket(String),
}

/// Picks the credential: the `Authorization: Bearer` header, else the `ticket` query
/// parameter, else the `pitchside_token` cookie.
pub fn credential(
    authorization: Option<&str>,
    ticket: Option<&str>,
    cookie_header: Option<&str>,
) -> Result<Credential, AuthError> {
    if let Some(h) = authorization {
        let (scheme, token) = h
            .trim()
            .split_once(' ')
            .ok_or(AuthError::Invalid("malformed Authorization header"))?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(AuthError::Invalid("malformed Authorization header"));
        }
        return Ok(Credential::Token(token.trim().to_string()));
    }
    if let Some(t) = ticket.filter(|t| !t.is_empty()) {
        return Ok(Credential::Ticket(t.to_string()));
    }
    cookie_header
        .into_iter()
        .flat_map(|h| h.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, value)| *name == TOKEN_COOKIE && !value.is_empty())
        .map(|(_, value)| Credential::Token(value.to_string()))
        .ok_or(AuthError::Missing)
}

fn digest(ticket: &str) -> [u8; 32] {
    Sha256::digest(ticket.as_bytes()).into()
}

#[derive(Clone)]
pub struct Authenticator {
    /// The token key as it is now (a stored HS256 secret is re-read when rotated);
    /// `None` in a process that takes no tokens (the webhook function).
    verifier: Option<Arc<Live<TokenKeys>>>,
    directory: Arc<dyn Directory>,
    tickets: Arc<dyn TicketStore>,
    clock: Arc<dyn Clock>,
}

impl Authenticator {
    pub fn new(
        verifier: Option<Arc<Live<TokenKeys>>>,
        directory: Arc<dyn Directory>,
        tickets: Arc<dyn TicketStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            verifier,
            directory,
            tickets,
            clock,
        }
    }

    /// Verifies the credential and checks the membership it claims in the store.
    pub async fn authenticate(&self, cred: &Credential) -> Result<Principal, ApiError> {
        let claims = self.claims(cred).await?;
        self.authorize(claims).await
    }

    /// What the credential claims, verified (a ticket is redeemed), before the store's
    /// membership is read: a stream that must read the log's head before the membership
    /// (so a revocation cannot fall between the two) takes the organization from here.
    pub async fn claims(&self, cred: &Credential) -> Result<Claims, ApiError> {
        Ok(match cred {
            Credential::Token(t) => {
                let Some(verifier) = &self.verifier else {
                    return Err(ApiError::new(
                        ErrorKind::Unavailable,
                        "not_configured",
                        "this function takes no tokens: PITCHSIDE_JWT_SECRET is not set",
                    ));
                };
                let keys = verifier.current().await;
                keys.verifier.verify(t, self.clock.now().timestamp())?
            }
            Credential::Ticket(t) => {
                let grant = self
                    .tickets
                    .redeem_ticket(&digest(t), self.clock.now())
                    .await?
                    .ok_or(AuthError::BadTicket)?;
                Claims {
                    sub: grant.user,
                    org: grant.org,
                    roles: grant.roles,
                    team_id: None,
                    name: grant.name,
                    exp: 0,
                    nbf: None,
                    iss: None,
                    aud: None,
                }
            }
        })
    }

    /// The claims joined with the store's membership, as it is now.
    pub async fn authorize(&self, claims: Claims) -> Result<Principal, ApiError> {
        let membership = self.directory.membership(&claims.org, &claims.sub).await?;
        Ok(authorize(claims, membership.as_ref())?)
    }

    /// Issues a single-use ticket for the principal; answers the ticket and its lifetime
    /// in seconds.
    pub async fn issue_ticket(&self, who: &Principal) -> Result<(String, i64), ApiError> {
        let ticket = hex::encode(rand::random::<[u8; 32]>());
        let grant = TicketGrant {
            org: who.org.clone(),
            user: who.user.clone(),
            roles: who.roles.clone(),
            name: who.name.clone(),
        };
        self.tickets
            .put_ticket(
                &digest(&ticket),
                &grant,
                self.clock.now() + Duration::seconds(TICKET_SECONDS),
            )
            .await?;
        Ok((ticket, TICKET_SECONDS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_wins_then_ticket_then_cookie() {
        assert_eq!(
            credential(Some("Bearer abc"), Some("t"), Some("pitchside_token=c")),
            Ok(Credential::Token("abc".into()))
        );
        assert_eq!(
            credential(None, Some("t"), Some("pitchside_token=c")),
            Ok(Credential::Ticket("t".into()))
        );
        assert_eq!(
            credential(None, None, Some("theme=dark; pitchside_token=c; x=y")),
            Ok(Credential::Token("c".into()))
        );
        assert_eq!(
            credential(None, None, Some("theme=dark")),
            Err(AuthError::Missing)
        );
        assert_eq!(credential(None, Some(""), None), Err(AuthError::Missing));
        assert!(credential(Some("Basic abc"), None, None).is_err());
        assert!(credential(Some("Bearer "), None, None).is_err());
    }
}
