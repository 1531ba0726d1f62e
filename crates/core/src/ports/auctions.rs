//! The auction port: one document per auction under a revision.

use super::StoreResult;
use async_trait::async_trait;
use pitchside_domain::ids::{AuctionId, OrganizationId};

/// Player auctions, each one document (`domain::auction::Auction` with what it still
/// has to emit) under a revision that every write increases. Writes are conditional on
/// the revision, so of two bids computed on the same state only one is recorded.
#[async_trait]
pub trait AuctionStore: Send + Sync {
    /// The document and its revision.
    async fn auction_doc(
        &self,
        org: &OrganizationId,
        id: &AuctionId,
    ) -> StoreResult<Option<(String, u64)>>;
    /// Writes the document if the auction is still at revision `expected` (`None`: if
    /// it does not exist yet). Answers the new revision, or `None` when another write
    /// got there first.
    async fn put_auction_doc(
        &self,
        org: &OrganizationId,
        id: &AuctionId,
        doc: &str,
        expected: Option<u64>,
    ) -> StoreResult<Option<u64>>;
}
