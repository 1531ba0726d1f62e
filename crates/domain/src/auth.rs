//! Who is calling: verification of the club platform's access tokens, and the rule that
//! turns verified claims plus the store's membership into a principal.
//!
//! The algorithm is pinned by configuration (the kind of key configured), never read from
//! the token, so `alg: none` and algorithm confusion (an HS256 token signed with a public
//! key as its secret) are refused.

use super::ids::{OrganizationId, TeamId, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The roles of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Scorer,
    Auctioneer,
    TeamOwner,
    Player,
    Viewer,
}

/// The claims Pitchside reads from an access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub org: OrganizationId,
    /// Unknown role names are ignored rather than failing the whole token, so the
    /// platform can add roles before Pitchside knows them.
    #[serde(default, deserialize_with = "known_roles")]
    pub roles: Vec<Role>,
    #[serde(default, rename = "teamId", skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub exp: i64,
    /// Not before (RFC 7519 §4.1.5): a token presented earlier is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

fn known_roles<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Role>, D::Error> {
    let raw = Vec::<serde_json::Value>::deserialize(d)?;
    Ok(raw
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

/// The verification key, which also pins the algorithm.
#[derive(Clone)]
pub enum TokenKey {
    /// HS256 with a shared secret.
    Hs256(Vec<u8>),
    /// RS256 with an RSA public key (PEM).
    Rs256Pem(String),
    /// ES256 with a P-256 public key (PEM).
    Es256Pem(String),
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        match self {
            TokenKey::Hs256(_) => f.write_str("Hs256(<secret>)"),
            TokenKey::Rs256Pem(_) => f.write_str("Rs256Pem(..)"),
            TokenKey::Es256Pem(_) => f.write_str("Es256Pem(..)"),
        }
    }
}

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the HS256 secret must be at least 32 bytes")]
    SecretTooShort,
    #[error("the public key is neither an RSA nor a P-256 EC public key in PEM form")]
    UnrecognisedPem,
}

impl TokenKey {
    /// Reads a PEM public key and pins the algorithm its kind implies.
    pub fn from_public_pem(pem: &str) -> Result<TokenKey, KeyError> {
        if DecodingKey::from_rsa_pem(pem.as_bytes()).is_ok() {
            Ok(TokenKey::Rs256Pem(pem.to_string()))
        } else if DecodingKey::from_ec_pem(pem.as_bytes()).is_ok() {
            Ok(TokenKey::Es256Pem(pem.to_string()))
        } else {
            Err(KeyError::UnrecognisedPem)
        }
    }

    pub fn hs256(secret: impl Into<Vec<u8>>) -> Result<TokenKey, KeyError> {
        let secret = secret.into();
        if secret.len() < 32 {
            return Err(KeyError::SecretTooShort);
        }
        Ok(TokenKey::Hs256(secret))
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            TokenKey::Hs256(_) => Algorithm::HS256,
            TokenKey::Rs256Pem(_) => Algorithm::RS256,
            TokenKey::Es256Pem(_) => Algorithm::ES256,
        }
    }
}

/// Why a token was refused. The message is safe to show to the caller; it never
/// contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no access token was presented")]
    Missing,
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid yet (its nbf is in the future)")]
    NotYetValid,
    #[error("the access token is not valid: {0}")]
    Invalid(&'static str),
    #[error("the ticket is unknown, used or expired")]
    BadTicket,
    #[error("the caller is not an active member of the organization")]
    NotMember,
}

/// How far the platform's clock and ours may disagree when `exp` and `nbf` are read.
pub const CLOCK_LEEWAY_SECONDS: i64 = 30;

/// Verifies tokens with one pinned algorithm and key.
#[derive(Clone)]
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    pub fn new(
        key: &TokenKey,
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Self, KeyError> {
        let decoding = match key {
            TokenKey::Hs256(s) => DecodingKey::from_secret(s),
            TokenKey::Rs256Pem(p) => {
                DecodingKey::from_rsa_pem(p.as_bytes()).map_err(|_| KeyError::UnrecognisedPem)?
            }
            TokenKey::Es256Pem(p) => {
                DecodingKey::from_ec_pem(p.as_bytes()).map_err(|_| KeyError::UnrecognisedPem)?
            }
        };
        let mut validation = Validation::new(key.algorithm());
        // `exp` and `nbf` are checked against the clock the caller hands in (below),
        // not the one jsonwebtoken would read itself.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let mut required = vec!["exp", "sub"];
        required.extend(issuer.map(|_| "iss"));
        required.extend(audience.map(|_| "aud"));
        validation.set_required_spec_claims(&required);
        match issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Ok(Self {
            key: decoding,
            validation,
        })
    }

    /// Verifies the signature (with the pinned algorithm only), `exp` and `nbf` at
    /// `now` (Unix seconds, with [`CLOCK_LEEWAY_SECONDS`] either way), and `iss`/`aud`
    /// where configured.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::InvalidSignature => AuthError::Invalid("bad signature"),
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    AuthError::Invalid("algorithm not accepted")
                }
                ErrorKind::InvalidIssuer => AuthError::Invalid("wrong issuer"),
                ErrorKind::InvalidAudience => AuthError::Invalid("wrong audience"),
                ErrorKind::MissingRequiredClaim(_) => AuthError::Invalid("missing claim"),
                ErrorKind::Json(_) => AuthError::Invalid("malformed claims"),
                _ => AuthError::Invalid("malformed token"),
            })?;
        if claims.exp.saturating_add(CLOCK_LEEWAY_SECONDS) < now {
            return Err(AuthError::Expired);
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf.saturating_sub(CLOCK_LEEWAY_SECONDS) > now)
        {
            return Err(AuthError::NotYetValid);
        }
        Ok(claims)
    }
}

/// Signs HS256 tokens: for `--demo` and for tests, never for production callers (the
/// club platform issues those).
pub fn sign_hs256(secret: &[u8], claims: &Claims) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HS256 signing cannot fail")
}

/// What the store says about a user in an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
    pub active: bool,
}

/// A verified caller: the organization and roles every handler acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub org: OrganizationId,
    pub user: UserId,
    pub roles: Vec<Role>,
    pub team_id: Option<TeamId>,
    pub name: Option<String>,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// Joins verified claims with the store's membership. A role counts only when both
/// the token and the store grant it, so revoking a role in the store takes effect at
/// once and a token cannot claim more than the store allows; the team is the store's.
pub fn authorize(claims: Claims, membership: Option<&Membership>) -> Result<Principal, AuthError> {
    let (roles, team_id) = grant(&claims.roles, membership)?;
    Ok(Principal {
        org: claims.org,
        user: claims.sub,
        roles,
        team_id,
        name: claims.name,
    })
}

/// The one rule of every channel: the roles both the credential and an active
/// membership grant, and the membership's team. A WebSocket message is judged by it
/// with the roles its connection was opened with.
pub fn grant(
    granted: &[Role],
    membership: Option<&Membership>,
) -> Result<(Vec<Role>, Option<TeamId>), AuthError> {
    let membership = match membership {
        Some(m) if m.active => m,
        _ => return Err(AuthError::NotMember),
    };
    let mut roles: Vec<Role> = granted
        .iter()
        .copied()
        .filter(|r| membership.roles.contains(r))
        .collect();
    roles.sort();
    roles.dedup();
    Ok((roles, membership.team_id.clone()))
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may take any time, the real one included
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    const SECRET: &[u8] = b"an-hs256-secret-of-at-least-32-bytes!";

    // Key pairs generated for these tests only.
    const EC_PRIVATE: &str = include_str!("../testdata/ec256-private.pem");
    const EC_PUBLIC: &str = include_str!("../testdata/ec256-public.pem");
    const RSA_PRIVATE: &str = include_str!("../testdata/rsa-private.pem");
    const RSA_PUBLIC: &str = include_str!("../testdata/rsa-public.pem");

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: UserId::new("u_1").unwrap(),
            org: OrganizationId::new("org_a").unwrap(),
            roles: vec![Role::Admin, Role::Player],
            team_id: None,
            name: Some("Asha".into()),
            exp,
            nbf: None,
            iss: None,
            aud: None,
        }
    }

    /// The tests' "now": the verifier reads no clock of its own.
    const NOW: i64 = 1_800_000_000;

    fn future() -> i64 {
        NOW + 3600
    }

    fn hs() -> TokenVerifier {
        TokenVerifier::new(&TokenKey::hs256(SECRET).unwrap(), None, None).unwrap()
    }

    #[test]
    fn accepts_a_good_hs256_token() {
        let t = sign_hs256(SECRET, &claims(future()));
        let c = hs().verify(&t, NOW).unwrap();
        assert_eq!(c.org.as_str(), "org_a");
        assert_eq!(c.roles, vec![Role::Admin, Role::Player]);
    }

    #[test]
    fn refuses_expired_wrong_key_and_garbage() {
        let old = sign_hs256(SECRET, &claims(NOW - 3600));
        assert_eq!(hs().verify(&old, NOW), Err(AuthError::Expired));
        let other = sign_hs256(b"another-secret-another-secret-123", &claims(future()));
        assert_eq!(
            hs().verify(&other, NOW),
            Err(AuthError::Invalid("bad signature"))
        );
        assert!(matches!(
            hs().verify("a.b.c", NOW),
            Err(AuthError::Invalid(_))
        ));
        assert_eq!(hs().verify("", NOW), Err(AuthError::Missing));
    }

    #[test]
    fn refuses_alg_none() {
        let header = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = B64.encode(serde_json::to_vec(&claims(future())).unwrap());
        for token in [format!("{header}.{body}."), format!("{header}.{body}")] {
            assert!(matches!(
                hs().verify(&token, NOW),
                Err(AuthError::Invalid(_))
            ));
        }
    }

    #[test]
    fn refuses_algorithm_confusion() {
        // An attacker signs HS256 with the (public) EC key as the secret.
        let verifier =
            TokenVerifier::new(&TokenKey::from_public_pem(EC_PUBLIC).unwrap(), None, None).unwrap();
        let forged = sign_hs256(EC_PUBLIC.as_bytes(), &claims(future()));
        assert_eq!(
            verifier.verify(&forged, NOW),
            Err(AuthError::Invalid("algorithm not accepted"))
        );
        // And an HS256 verifier refuses an ES256 token.
        let es = jsonwebtoken::encode(
            &Header::new(Algorithm::ES256),
            &claims(future()),
            &EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(verifier.verify(&es, NOW).unwrap().sub.as_str(), "u_1");
        assert_eq!(
            hs().verify(&es, NOW),
            Err(AuthError::Invalid("algorithm not accepted"))
        );
    }

    #[test]
    fn accepts_rs256_with_an_rsa_key() {
        let key = TokenKey::from_public_pem(RSA_PUBLIC).unwrap();
        assert_eq!(key.algorithm(), Algorithm::RS256);
        let t = jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            &claims(future()),
            &EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(),
        )
        .unwrap();
        let v = TokenVerifier::new(&key, None, None).unwrap();
        assert_eq!(v.verify(&t, NOW).unwrap().org.as_str(), "org_a");
        let forged = sign_hs256(RSA_PUBLIC.as_bytes(), &claims(future()));
        assert_eq!(
            v.verify(&forged, NOW),
            Err(AuthError::Invalid("algorithm not accepted"))
        );
    }

    #[test]
    fn pem_kind_pins_the_algorithm() {
        assert_eq!(
            TokenKey::from_public_pem(EC_PUBLIC).unwrap().algorithm(),
            Algorithm::ES256
        );
        assert!(TokenKey::from_public_pem("not a key").is_err());
        assert!(TokenKey::hs256(b"short".to_vec()).is_err());
    }

    #[test]
    fn checks_issuer_and_audience_when_configured() {
        let v = TokenVerifier::new(
            &TokenKey::hs256(SECRET).unwrap(),
            Some("https://platform.example"),
            Some("pitchside"),
        )
        .unwrap();
        let mut c = claims(future());
        assert!(v.verify(&sign_hs256(SECRET, &c), NOW).is_err());
        c.iss = Some("https://platform.example".into());
        c.aud = Some("pitchside".into());
        assert!(v.verify(&sign_hs256(SECRET, &c), NOW).is_ok());
        c.aud = Some("someone-else".into());
        assert_eq!(
            v.verify(&sign_hs256(SECRET, &c), NOW),
            Err(AuthError::Invalid("wrong audience"))
        );
    }

    #[test]
    fn nbf_and_exp_are_read_at_the_clock_handed_in_with_the_leeway() {
        let v = hs();
        let mut c = claims(NOW + 3600);
        c.nbf = Some(NOW + 600);
        let early = sign_hs256(SECRET, &c);
        assert_eq!(v.verify(&early, NOW), Err(AuthError::NotYetValid));
        // Within the leeway of nbf, and once nbf has passed, the same token is good.
        assert!(v.verify(&early, NOW + 600 - CLOCK_LEEWAY_SECONDS).is_ok());
        assert!(v.verify(&early, NOW + 601).is_ok());
        // exp: good up to the leeway past it, expired one second later.
        let late = NOW + 3600 + CLOCK_LEEWAY_SECONDS;
        assert!(v.verify(&early, late).is_ok());
        assert_eq!(v.verify(&early, late + 1), Err(AuthError::Expired));
        // Extreme claims neither wrap nor pass.
        c.exp = i64::MAX;
        c.nbf = Some(i64::MIN);
        assert!(v.verify(&sign_hs256(SECRET, &c), NOW).is_ok());
        c.exp = 0;
        assert_eq!(
            v.verify(&sign_hs256(SECRET, &c), NOW),
            Err(AuthError::Expired)
        );
        c.exp = i64::MIN;
        assert!(v.verify(&sign_hs256(SECRET, &c), NOW).is_err());
    }

    #[test]
    fn unknown_roles_are_ignored() {
        let mut v = serde_json::to_value(claims(future())).unwrap();
        v["roles"] = serde_json::json!(["admin", "groundskeeper"]);
        let c: Claims = serde_json::from_value(v).unwrap();
        assert_eq!(c.roles, vec![Role::Admin]);
    }

    #[test]
    fn membership_gates_and_narrows_roles() {
        let m = Membership {
            roles: vec![Role::Player, Role::TeamOwner],
            team_id: Some(TeamId::new("t_1").unwrap()),
            active: true,
        };
        let p = authorize(claims(future()), Some(&m)).unwrap();
        assert_eq!(p.roles, vec![Role::Player]);
        assert_eq!(p.team_id.unwrap().as_str(), "t_1");
        let inactive = Membership { active: false, ..m };
        assert_eq!(
            authorize(claims(future()), Some(&inactive)),
            Err(AuthError::NotMember)
        );
        assert_eq!(authorize(claims(future()), None), Err(AuthError::NotMember));
    }
}
