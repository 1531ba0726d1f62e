//! What happens to an auction: setup changes, lots opened, bids judged, lots closed by
//! the auctioneer or by time. Each operation changes the document or refuses and
//! leaves it as it was.

use super::*;

impl Auction {
    pub fn new(setup: AuctionSetup) -> Result<Auction, AuctionError> {
        setup.check()?;
        Ok(Auction {
            teams: teams_of(&setup),
            setup,
            pool: BTreeMap::new(),
            lot: None,
            lots: 0,
            results: Vec::new(),
        })
    }

    /// Replaces the setup. Before the first lot anything may change; after it, only
    /// what does not touch money already spent (the teams and purses stay).
    pub fn set_setup(&mut self, setup: AuctionSetup) -> Result<(), AuctionError> {
        setup.check()?;
        if self.lots > 0 {
            if setup.teams != self.setup.teams {
                return Err(AuctionError::Started);
            }
        } else {
            self.teams = teams_of(&setup);
        }
        self.setup = setup;
        Ok(())
    }

    /// Puts a player in the pool, or changes one that has not been auctioned yet.
    pub fn put_player(&mut self, id: PlayerId, player: PoolPlayer) -> Result<(), AuctionError> {
        if player.name.trim().is_empty() || player.name.len() > 200 {
            return Err(AuctionError::Invalid(
                "`name` must be 1 to 200 characters".into(),
            ));
        }
        if player.base_price == 0 || player.base_price > MAX_AMOUNT {
            return Err(AuctionError::Invalid(format!(
                "`basePrice` must be 1 to {MAX_AMOUNT}"
            )));
        }
        if let Some(lot) = &self.lot
            && lot.player_id == id
        {
            return Err(AuctionError::LotOpen(lot.number));
        }
        let standing = match self.pool.get(&id) {
            Some(PoolEntry {
                standing: Standing::Sold { .. },
                ..
            }) => return Err(AuctionError::PlayerSold),
            Some(e) => e.standing.clone(),
            None if self.pool.len() >= MAX_POOL => {
                return Err(AuctionError::Invalid(format!(
                    "an auction's pool holds at most {MAX_POOL} players"
                )));
            }
            None => Standing::Available,
        };
        self.pool.insert(id, PoolEntry { player, standing });
        Ok(())
    }

    /// Closes the open lot if its time has run out; answers the result if it did.
    pub fn settle(&mut self, now: DateTime<Utc>) -> Option<LotResult> {
        match &self.lot {
            Some(lot) if now >= lot.ends_at => Some(self.close(now, ClosedBy::Timer)),
            _ => None,
        }
    }

    /// Opens a lot for a player of the pool. A player who went unsold is presented
    /// again in the next round, with the accelerated lot time.
    pub fn open_lot(
        &mut self,
        player: &PlayerId,
        now: DateTime<Utc>,
    ) -> Result<&Lot, AuctionError> {
        if let Some(lot) = &self.lot {
            return Err(AuctionError::LotOpen(lot.number));
        }
        let entry = self
            .pool
            .get(player)
            .ok_or(AuctionError::NotFound("player in this auction's pool"))?;
        let (round, secs) = match entry.standing {
            Standing::Sold { .. } => return Err(AuctionError::PlayerSold),
            Standing::Available => (1, self.setup.lot_seconds),
            Standing::Unsold { times } => (
                times + 1,
                self.setup
                    .accelerated_lot_seconds
                    .unwrap_or(self.setup.lot_seconds),
            ),
        };
        self.lots += 1;
        Ok(self.lot.insert(Lot {
            number: self.lots,
            player_id: player.clone(),
            base_price: entry.player.base_price,
            round,
            bids: 0,
            leading: None,
            opened_at: now,
            ends_at: now + Duration::seconds(i64::from(secs)),
        }))
    }

    /// The only amount (or, with jumps, the least) the next bid on the open lot may be.
    pub fn next_bid(&self) -> Option<u64> {
        let lot = self.lot.as_ref()?;
        Some(match &lot.leading {
            None => lot.base_price,
            Some(b) => next_amount(&self.setup.increments, b.amount),
        })
    }

    /// What a team must keep to buy the players it still needs for its minimum squad,
    /// after buying one more: the base prices of the cheapest players still to be
    /// auctioned, other than the one on the block.
    fn reserve_after_one_more(&self, team: &TeamState, on_block: &PlayerId) -> u64 {
        let needed = (self.setup.squad.min as usize).saturating_sub(team.squad.len() + 1);
        if needed == 0 {
            return 0;
        }
        let mut prices: Vec<u64> = self
            .pool
            .iter()
            .filter(|(id, e)| *id != on_block && !matches!(e.standing, Standing::Sold { .. }))
            .map(|(_, e)| e.player.base_price)
            .collect();
        prices.sort_unstable();
        prices
            .iter()
            .take(needed)
            .fold(0u64, |sum, p| sum.saturating_add(*p))
    }

    /// Validates a bid and, if it is valid, makes it the lot's leading bid. The checks
    /// run in a fixed order, so a refusal names the first rule broken.
    pub fn place_bid(
        &mut self,
        bidder: &Bidder,
        bid: &BidRequest,
        now: DateTime<Utc>,
    ) -> Result<&Lot, AuctionError> {
        let lot = match &self.lot {
            Some(lot) if lot.player_id == bid.player_id && now < lot.ends_at => lot,
            _ => return Err(AuctionError::LotClosed),
        };
        if bidder.owns.as_ref() != Some(&bid.team_id) {
            return Err(AuctionError::NotOwner(bid.team_id.clone()));
        }
        let team = self
            .teams
            .get(&bid.team_id)
            .ok_or(AuctionError::NotFound("team in this auction"))?;
        if lot
            .leading
            .as_ref()
            .is_some_and(|b| b.team_id == bid.team_id)
        {
            return Err(AuctionError::OwnBid(bid.team_id.clone()));
        }
        let expected = self.next_bid().expect("a lot is open");
        if bid.amount < expected {
            return Err(AuctionError::TooLow { expected });
        }
        if bid.amount > expected && !self.on_grid_above(expected, bid.amount) {
            return Err(AuctionError::OffStep { expected });
        }
        if u32::try_from(team.squad.len()).unwrap_or(u32::MAX) >= self.setup.squad.max {
            return Err(AuctionError::SquadFull(bid.team_id.clone()));
        }
        let overseas = self
            .pool
            .get(&lot.player_id)
            .is_some_and(|e| e.player.overseas);
        if overseas && team.overseas >= self.setup.squad.overseas_max {
            return Err(AuctionError::OverseasFull(bid.team_id.clone()));
        }
        let reserve = self.reserve_after_one_more(team, &lot.player_id);
        if bid.amount.saturating_add(reserve) > team.purse_left {
            return Err(AuctionError::PurseExceeded {
                team: bid.team_id.clone(),
                amount: bid.amount,
                reserve,
                purse_left: team.purse_left,
            });
        }
        let soft_close = Duration::seconds(i64::from(self.setup.soft_close_seconds));
        let lot = self.lot.as_mut().expect("a lot is open");
        lot.bids += 1;
        lot.leading = Some(Bid {
            team_id: bid.team_id.clone(),
            amount: bid.amount,
            user: bidder.user.clone(),
        });
        if lot.ends_at - now < soft_close {
            lot.ends_at = now + soft_close;
        }
        Ok(lot)
    }

    /// Whether `amount` is reached from `from` by whole steps, when jumps are allowed.
    fn on_grid_above(&self, from: u64, amount: u64) -> bool {
        if !self.setup.allow_jumps {
            return false;
        }
        let mut at = from;
        for _ in 0..MAX_STEPS_IN_ONE_JUMP {
            at = next_amount(&self.setup.increments, at);
            if at >= amount {
                return at == amount;
            }
        }
        false
    }

    /// Closes the open lot (the auctioneer's call): sold to the leading bid, or unsold.
    pub fn close_lot(&mut self, now: DateTime<Utc>) -> Result<LotResult, AuctionError> {
        if self.lot.is_none() {
            return Err(AuctionError::LotClosed);
        }
        Ok(self.close(now, ClosedBy::Auctioneer))
    }

    fn close(&mut self, now: DateTime<Utc>, by: ClosedBy) -> LotResult {
        let lot = self.lot.take().expect("a lot is open");
        let entry = self.pool.get_mut(&lot.player_id);
        match (&lot.leading, entry) {
            (Some(bid), Some(entry)) => {
                if let Some(team) = self.teams.get_mut(&bid.team_id) {
                    team.purse_left -= bid.amount;
                    team.squad.push(lot.player_id.clone());
                    if entry.player.overseas {
                        team.overseas += 1;
                    }
                }
                entry.standing = Standing::Sold {
                    team_id: bid.team_id.clone(),
                    amount: bid.amount,
                };
            }
            (None, Some(entry)) => {
                let times = match entry.standing {
                    Standing::Unsold { times } => times + 1,
                    _ => 1,
                };
                entry.standing = Standing::Unsold { times };
            }
            (_, None) => {}
        }
        let result = LotResult {
            lot: lot.number,
            player_id: lot.player_id,
            round: lot.round,
            sold_to: lot.leading,
            bids: lot.bids,
            closed_by: by,
            closed_at: now,
        };
        self.results.push(result.clone());
        result
    }
}
