// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Deal, DealId, DealRecord} from "../DealTypes.sol";
import {Mediation} from "./Mediation.sol";

/// @title OptimisticPolicy
/// @notice `optimistic` (1): a committed result stands unless the job creator challenges it
/// within a window of `policyParam` seconds; a challenge sends the deal to a drawn mediator.
/// Unchallenged, anyone may finalize it once the window has closed.
/// @dev The window is half-open: a challenge is accepted while
/// `block.timestamp < committedAt + window`, finalization from `committedAt + window` on, so the
/// two never overlap and there is no instant at which neither is possible.
library OptimisticPolicy {
    uint8 internal constant ID = 1;
    uint64 internal constant MIN_WINDOW = 1 seconds;
    uint64 internal constant MAX_WINDOW = 30 days;

    /// @dev The challenge window `window` (seconds) is outside [`min`, `max`].
    error DealsChallengeWindowOutOfRange(uint64 window, uint64 min, uint64 max);
    /// @dev The challenge window closed at `closedAt`; it is now `timestamp`.
    error DealsChallengeWindowClosed(DealId dealId, uint256 closedAt, uint256 timestamp);
    /// @dev The challenge window is open until `closesAt`; it is now `timestamp`.
    error DealsChallengeWindowOpen(DealId dealId, uint256 closesAt, uint256 timestamp);

    /// @dev Safety at open. The job creator locks the price plus one mediation fee (its
    /// dispute reserve), so a challenge never fails for lack of balance.
    /// @return reserve What the job creator locks beyond the price.
    function terms(Deal calldata deal) internal pure returns (uint256 reserve) {
        // REJECT: a window of zero cannot be challenged; one longer than 30 days locks funds for too long.
        if (deal.policyParam < MIN_WINDOW || deal.policyParam > MAX_WINDOW) {
            revert DealsChallengeWindowOutOfRange(deal.policyParam, MIN_WINDOW, MAX_WINDOW);
        }
        Mediation.checkMediable(deal);
        return deal.mediationFee;
    }

    /// @dev Revert unless the challenge window of a committed deal is still open.
    function checkChallenge(DealId dealId, Deal calldata deal, DealRecord memory record) internal view {
        uint256 closesAt = uint256(record.committedAt) + deal.policyParam;
        // REJECT: a challenge after the window is too late; the result stands.
        if (block.timestamp >= closesAt) revert DealsChallengeWindowClosed(dealId, closesAt, block.timestamp);
    }

    /// @dev Revert unless the challenge window of a committed deal has closed.
    function checkFinalize(DealId dealId, Deal calldata deal, DealRecord memory record) internal view {
        uint256 closesAt = uint256(record.committedAt) + deal.policyParam;
        // REJECT: while the job creator may still challenge, the result is not final.
        if (block.timestamp < closesAt) revert DealsChallengeWindowOpen(dealId, closesAt, block.timestamp);
    }
}
