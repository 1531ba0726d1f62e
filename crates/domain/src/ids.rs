//! Identifiers that cross the wire. They are validated once, at the edge, so that every
//! key built from them (SQLite rows, DynamoDB partition keys, room names) is well formed
//! and cannot smuggle a separator into another tenant's key space.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} must be 1 to 128 characters of letters, digits, '_', '-', '.' or '@' (got {got:?})"
)]
pub struct InvalidId {
    pub what: &'static str,
    pub got: String,
}

const MAX_ID_LEN: usize = 128;

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@')
}

/// Checks the common shape of every identifier Pitchside stores.
pub fn check_id(what: &'static str, s: &str) -> Result<(), InvalidId> {
    if s.is_empty() || s.len() > MAX_ID_LEN || !s.chars().all(is_id_char) {
        return Err(InvalidId {
            what,
            got: s.chars().take(MAX_ID_LEN + 1).collect(),
        });
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Result<Self, InvalidId> {
                let s = s.into();
                check_id($what, &s)?;
                Ok(Self(s))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                Self::new(s)
            }
        }
    };
}

id_type!(
    /// The tenant: a club or league. On the wire, `organizationId`.
    OrganizationId,
    "organizationId"
);
id_type!(
    /// A user of the club platform (the token's `sub`).
    UserId,
    "userId"
);
id_type!(
    /// A player known to an organization.
    PlayerId,
    "playerId"
);
id_type!(
    /// A team within an organization.
    TeamId,
    "teamId"
);
id_type!(
    /// A match (fixture) of an organization.
    MatchId,
    "matchId"
);
id_type!(
    /// A player auction of an organization.
    AuctionId,
    "auctionId"
);
id_type!(
    /// A WhatsApp business number's id (`metadata.phone_number_id`).
    PhoneNumberId,
    "phoneNumberId"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_ids() {
        for s in [
            "org_42",
            "a",
            "user@club.example",
            "m-7.1",
            &"x".repeat(128),
        ] {
            assert!(OrganizationId::new(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn refuses_empty_long_and_separator_ids() {
        for s in [
            "",
            "org#1",
            "org/1",
            "a b",
            "ünï",
            &"x".repeat(129),
            "org\n1",
        ] {
            let err = OrganizationId::new(s).unwrap_err();
            assert_eq!(err.what, "organizationId");
        }
    }

    #[test]
    fn deserialization_validates() {
        assert!(serde_json::from_str::<OrganizationId>("\"org#x\"").is_err());
        assert_eq!(
            serde_json::from_str::<OrganizationId>("\"org_1\"")
                .unwrap()
                .as_str(),
            "org_1"
        );
    }
}
