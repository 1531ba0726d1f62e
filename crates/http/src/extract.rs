//! The request's parts a handler needs, each validated as it is extracted and refused
//! with the contract's error body: the caller (`Who`), the admin key (`AdminKey`), typed
//! path ids (`Ids`) and a JSON body (`JsonBody`). Axum runs them in argument order, so a
//! handler that lists `Who` first refuses a bad token before it reads a bad id or body.

use crate::error::HttpError;
use crate::routes::record_org;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::path::ErrorKind as PathErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{AUTHORIZATION, AsHeaderName, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use pitchside_core::app::admin::{API_KEY_HEADER, check_api_key, parse_body};
use pitchside_core::app::authn::credential;
use pitchside_core::app::{ApiError, ErrorKind};
use pitchside_core::config::SecretName;
use pitchside_core::secrets::Keys;
use pitchside_domain::auth::{Claims, Principal};
use serde::de::DeserializeOwned;

fn header(headers: &HeaderMap, name: impl AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The authenticated caller, from the `Authorization` header or the session cookie,
/// checked against the store's membership; the organization goes on the request's logs.
/// (SSE, WebSocket and catch-up also take a single-use ticket: see `principal`.)
pub struct Who(pub Principal);

impl FromRequestParts<AppState> for Who {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Who, HttpError> {
        Ok(Who(principal(state, &parts.headers, None).await?))
    }
}

/// Authenticates from the header, a `ticket` (query parameter) or the cookie.
pub async fn principal(
    state: &AppState,
    headers: &HeaderMap,
    ticket: Option<&str>,
) -> Result<Principal, ApiError> {
    let claims = claims(state, headers, ticket).await?;
    state.auth.authorize(claims).await
}

/// The verified claims of the header, a `ticket` or the cookie, before the membership
/// is read (see `Authenticator::claims`).
pub async fn claims(
    state: &AppState,
    headers: &HeaderMap,
    ticket: Option<&str>,
) -> Result<Claims, ApiError> {
    let cred = credential(
        header(headers, AUTHORIZATION),
        ticket,
        header(headers, COOKIE),
    )?;
    let claims = state.auth.claims(&cred).await?;
    record_org(&claims.org);
    Ok(claims)
}

/// A server-to-server caller holding the operator's `X-Api-Key`.
pub struct AdminKey;

impl FromRequestParts<AppState> for AdminKey {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<AdminKey, HttpError> {
        let expected = Keys::current(&state.keys.admin_api_key, SecretName::AdminApiKey).await?;
        check_api_key(header(&parts.headers, API_KEY_HEADER), expected.expose())?;
        Ok(AdminKey)
    }
}

/// The path's ids, deserialized into their domain types (which validate themselves): a
/// malformed id is a 400 that names it, never a handler's concern.
pub struct Ids<T>(pub T);

impl<T, S> FromRequestParts<S> for Ids<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Ids<T>, HttpError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(ids)) => Ok(Ids(ids)),
            Err(rejection) => Err(HttpError(path_error(rejection))),
        }
    }
}

fn path_error(rejection: PathRejection) -> ApiError {
    match rejection {
        // The id type's own message (e.g. "matchId must be 1 to 128 characters …").
        PathRejection::FailedToDeserializePathParams(e) => match e.into_kind() {
            PathErrorKind::Message(m) => ApiError::bad_request(m),
            other => ApiError::bad_request(other.to_string()),
        },
        other => ApiError::new(ErrorKind::Internal, "internal", other.body_text()),
    }
}

/// A JSON body of type `T`; an empty body reads as `{}` (so a body with only optional
/// fields may be left out).
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<JsonBody<T>, HttpError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            let (kind, code) = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                (ErrorKind::TooLarge, "too_large")
            } else {
                (ErrorKind::BadRequest, "bad_request")
            };
            HttpError(ApiError::new(kind, code, r.body_text()))
        })?;
        Ok(JsonBody(parse_body(&bytes)?))
    }
}
