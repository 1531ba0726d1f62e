//! The directory: organizations, WhatsApp numbers, members and players, and their
//! uniqueness rules.

use crate::fresh_org;
use pitchside_core::ports::*;
use pitchside_domain::auth::{Membership, Role};
use pitchside_domain::event::EventId;
use pitchside_domain::ids::{OrganizationId, PhoneNumberId, PlayerId, TeamId, UserId};
use pitchside_domain::revocation;

/// One test per case, for an adapter that `$make` builds afresh.
#[macro_export]
macro_rules! directory_tests {
    ($make:expr) => {
        $crate::cases!(
            directory,
            $make,
            [
                organizations_are_put_and_read,
                a_whatsapp_number_belongs_to_one_organization,
                members_are_per_organization,
                a_revocation_is_written_with_its_membership,
                a_players_numbers_find_them_and_nobody_else,
            ]
        );
    };
}

/// Two organizations, A and B, both stored.
async fn two_organizations<D: Directory + ?Sized>(dir: &D) -> (OrganizationId, OrganizationId) {
    let a = fresh_org("dir-a");
    let b = fresh_org("dir-b");
    for (id, name) in [(&a, "Club A"), (&b, "Club B")] {
        let org = Organization {
            id: id.clone(),
            name: name.into(),
        };
        dir.put_organization(&org).await.unwrap();
    }
    (a, b)
}

pub async fn organizations_are_put_and_read(dir: &dyn Directory) {
    let a = fresh_org("dir-a");
    assert_eq!(dir.organization(&a).await.unwrap(), None);
    let org = Organization {
        id: a.clone(),
        name: "Club A".into(),
    };
    dir.put_organization(&org).await.unwrap();
    dir.put_organization(&org).await.unwrap();
    assert_eq!(dir.organization(&a).await.unwrap(), Some(org));
}

pub async fn a_whatsapp_number_belongs_to_one_organization(dir: &dyn Directory) {
    let (a, b) = two_organizations(dir).await;
    let number = PhoneNumberId::new(format!("pn-{a}")).unwrap();
    assert_eq!(dir.resolve_whatsapp_number(&number).await.unwrap(), None);
    dir.put_whatsapp_number(&a, &number).await.unwrap();
    dir.put_whatsapp_number(&a, &number).await.unwrap();
    assert_eq!(
        dir.resolve_whatsapp_number(&number).await.unwrap(),
        Some(a.clone())
    );
    assert!(matches!(
        dir.put_whatsapp_number(&b, &number).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        dir.resolve_whatsapp_number(&number).await.unwrap(),
        Some(a.clone())
    );
}

pub async fn members_are_per_organization(dir: &dyn Directory) {
    let (a, b) = two_organizations(dir).await;
    let user = UserId::new("u-1").unwrap();
    let m = Membership {
        roles: vec![Role::TeamOwner, Role::Player],
        team_id: Some(TeamId::new("t-1").unwrap()),
        active: true,
    };
    assert_eq!(dir.put_member(&a, &user, &m, None).await.unwrap(), None);
    assert_eq!(dir.membership(&a, &user).await.unwrap(), Some(m.clone()));
    assert_eq!(
        dir.membership(&b, &user).await.unwrap(),
        None,
        "members are per organization"
    );
    let inactive = Membership { active: false, ..m };
    dir.put_member(&a, &user, &inactive, None).await.unwrap();
    assert_eq!(dir.membership(&a, &user).await.unwrap(), Some(inactive));
}

/// The membership and the event that ends its connections are one write: both are
/// there, in the member's organization only.
pub async fn a_revocation_is_written_with_its_membership<S: Directory + EventLog + ?Sized>(
    store: &S,
) {
    let (a, b) = two_organizations(store).await;
    let user = UserId::new("u-2").unwrap();
    let ended = Membership {
        roles: vec![Role::Viewer],
        team_id: None,
        active: false,
    };
    let at = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
    let appended = store
        .put_member(&a, &user, &ended, Some(revocation::event(&user, at)))
        .await
        .unwrap()
        .expect("the revocation is appended");
    assert!(appended.created);
    assert_eq!(
        revocation::revoked_user(&appended.event),
        Some(user.clone())
    );
    assert_eq!(store.membership(&a, &user).await.unwrap(), Some(ended));
    let log = store
        .read(&a, ReadFrom::After(EventId::ZERO), 10)
        .await
        .unwrap();
    assert_eq!(log.events, vec![appended.event]);
    let other = store
        .read(&b, ReadFrom::After(EventId::ZERO), 10)
        .await
        .unwrap();
    assert!(other.events.is_empty(), "nothing in another organization");
}

pub async fn a_players_numbers_find_them_and_nobody_else(dir: &dyn Directory) {
    let (a, b) = two_organizations(dir).await;
    let ravi = Player {
        id: PlayerId::new("p-ravi").unwrap(),
        name: "Ravi".into(),
        whatsapp: Some("919800000001".into()),
        whatsapp_user_id: None,
    };
    dir.put_player(&a, &ravi).await.unwrap();
    dir.put_player(&a, &ravi).await.unwrap();
    assert_eq!(
        dir.player_by_whatsapp(&a, "919800000001").await.unwrap(),
        Some(ravi.clone())
    );
    assert_eq!(
        dir.player_by_whatsapp(&b, "919800000001").await.unwrap(),
        None
    );
    let thief = Player {
        id: PlayerId::new("p-other").unwrap(),
        ..ravi.clone()
    };
    assert!(matches!(
        dir.put_player(&a, &thief).await,
        Err(StoreError::Conflict(_))
    ));
    // The same number may belong to a player in another organization.
    dir.put_player(&b, &thief).await.unwrap();
    // A player's number can change; the old one then finds nobody.
    let moved = Player {
        whatsapp: Some("919800000009".into()),
        ..ravi
    };
    dir.put_player(&a, &moved).await.unwrap();
    assert_eq!(
        dir.player_by_whatsapp(&a, "919800000001").await.unwrap(),
        None
    );
    assert_eq!(
        dir.player_by_whatsapp(&a, "919800000009").await.unwrap(),
        Some(moved.clone())
    );
    assert_eq!(
        dir.player(&a, &moved.id).await.unwrap(),
        Some(moved.clone())
    );
    assert_eq!(dir.player(&b, &moved.id).await.unwrap(), None);

    // A player may be known by the business-scoped user id too, or by it alone.
    let with_user = Player {
        whatsapp_user_id: Some("US.1349".into()),
        ..moved.clone()
    };
    dir.put_player(&a, &with_user).await.unwrap();
    assert_eq!(
        dir.player_by_whatsapp_user(&a, "US.1349").await.unwrap(),
        Some(with_user.clone())
    );
    assert_eq!(
        dir.player_by_whatsapp(&a, "919800000009").await.unwrap(),
        Some(with_user.clone())
    );
    assert_eq!(
        dir.player_by_whatsapp_user(&b, "US.1349").await.unwrap(),
        None
    );
    let user_only = Player {
        id: PlayerId::new("p-asha").unwrap(),
        name: "Asha".into(),
        whatsapp: None,
        whatsapp_user_id: Some("US.1349".into()),
    };
    assert!(
        matches!(
            dir.put_player(&a, &user_only).await,
            Err(StoreError::Conflict(_))
        ),
        "a user id belongs to one player"
    );
    let user_only = Player {
        whatsapp_user_id: Some("US.2000".into()),
        ..user_only
    };
    dir.put_player(&a, &user_only).await.unwrap();
    assert_eq!(
        dir.player_by_whatsapp_user(&a, "US.2000").await.unwrap(),
        Some(user_only)
    );
    // Dropping the user id frees it.
    dir.put_player(&a, &moved).await.unwrap();
    assert_eq!(
        dir.player_by_whatsapp_user(&a, "US.1349").await.unwrap(),
        None
    );
}
