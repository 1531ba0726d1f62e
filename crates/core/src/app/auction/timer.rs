//! The lot's timer: a delayed queue message the worker hands back here when the lot
//! should end; a lot that bids extended is waited for again.

use super::outbox::{Op, Refused, change};
use crate::app::{ApiError, ErrorKind};
use crate::ports::Ports;
use chrono::{DateTime, Utc};
use pitchside_domain::auction::Auction;
use pitchside_domain::ids::{AuctionId, OrganizationId};
use pitchside_domain::work::{QueuedWork, WorkKind};
use serde::{Deserialize, Serialize};

/// What the lot timer's queue message carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timer {
    pub organization_id: OrganizationId,
    pub auction_id: AuctionId,
    pub lot: u32,
}

/// Queues the open lot's timer, delayed until it ends. Best-effort: an expired lot is
/// also closed by the next request that touches the auction.
pub(super) async fn start_timer(
    ports: &Ports,
    org: &OrganizationId,
    id: &AuctionId,
    auction: &Auction,
    now: DateTime<Utc>,
) {
    let Some(lot) = &auction.lot else { return };
    let timer = Timer {
        organization_id: org.clone(),
        auction_id: id.clone(),
        lot: lot.number,
    };
    let body = serde_json::to_vec(&timer).expect("a timer serializes");
    let work = QueuedWork::new(WorkKind::AuctionTimer, now, None, &body);
    let delay = (lot.ends_at - now).to_std().unwrap_or_default();
    if let Err(e) = ports.queue.send_delayed(&work.to_bytes(), delay).await {
        tracing::warn!(error = %e, lot = lot.number, "cannot queue the lot's timer; the next request closes it");
    }
}

/// The worker's handling of a lot timer: closes the lot if its time has run out, or
/// waits again for a lot that bids extended.
pub async fn timer(ports: &Ports, timer: &Timer, now: DateTime<Utc>) -> Result<(), ApiError> {
    let org = &timer.organization_id;
    match change(ports, org, &timer.auction_id, Op::Settle, now).await {
        Ok(changed) => {
            if let Some(lot) = &changed.auction.lot
                && lot.number == timer.lot
            {
                start_timer(ports, org, &timer.auction_id, &changed.auction, now).await;
            }
            Ok(())
        }
        Err(Refused { error, .. }) if error.kind == ErrorKind::NotFound => {
            tracing::warn!(auction = %timer.auction_id, "timer of an auction that is gone");
            Ok(())
        }
        Err(r) => Err(r.error),
    }
}
