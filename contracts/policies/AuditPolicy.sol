// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Deal, DealId} from "../DealTypes.sol";
import {Mediation} from "./Mediation.sol";

/// @title AuditPolicy
/// @notice `audit(p)` (3): once a result is committed, a draw from the hash of a block mined
/// after the commit decides, with probability p (`policyParam`, parts per million), whether a
/// mediator re-runs the job. Anyone may trigger the draw (`finalize`) once that block exists.
/// @dev Safety rule (derivation in packages/chain/README.md): `p × collateral ≥ price × 10^6`,
/// i.e. a cheater's expected loss from an audit is at least the price it could gain.
library AuditPolicy {
    uint8 internal constant ID = 3;
    uint64 internal constant PPM = 1_000_000;
    /// @dev The draw uses the hash of block `commitBlock + AUDIT_DELAY`: a block that does not
    /// exist when the provider commits (nor, a fortiori, when the parties sign).
    uint256 internal constant AUDIT_DELAY = 2;

    /// @dev p (`ppm`, parts per million) is outside (0, `max`].
    error DealsAuditProbabilityOutOfRange(uint64 ppm, uint64 max);
    /// @dev `ppm × collateral < price × 10^6`: cheating would pay; `needed` is the least safe collateral.
    error DealsAuditCollateralTooLow(uint64 ppm, uint256 collateral, uint256 price, uint256 needed);
    /// @dev The draw's block `drawBlock` is not mined yet (the chain is at `blockNumber`).
    error DealsAuditDrawPending(DealId dealId, uint256 drawBlock, uint256 blockNumber);

    /// @dev Safety at open. Like optimistic, the job creator reserves one mediation fee.
    /// @return reserve What the job creator locks beyond the price.
    function terms(Deal calldata deal) internal pure returns (uint256 reserve) {
        uint64 p = deal.policyParam;
        // REJECT: p = 0 never audits (that is trust); p above one million is not a probability.
        if (p == 0 || p > PPM) revert DealsAuditProbabilityOutOfRange(p, PPM);
        Mediation.checkMediable(deal);
        // REJECT: the expected slash p × collateral must cover what cheating gains (the price).
        if (uint256(p) * deal.collateral < deal.price * PPM) {
            revert DealsAuditCollateralTooLow(p, deal.collateral, deal.price, (deal.price * PPM + p - 1) / p);
        }
        return deal.mediationFee;
    }

    /// @dev The audit draw for a deal committed in `commitBlock`:
    /// `r = uint256(keccak256(abi.encode(blockhash(commitBlock + AUDIT_DELAY), dealId))) % 10^6`,
    /// audited when `r < p`. The mediator's draw then starts from `drawBlock`.
    /// If that block hash has aged out (more than 256 blocks), the draw is `r = 0` (audited)
    /// and `drawBlock` is the current block: nobody gains by waiting, and no funds freeze.
    /// @return r The draw, in [0, 10^6).
    /// @return audited Whether the deal goes to a mediator.
    /// @return drawBlock The block the mediator draw counts from.
    function draw(DealId dealId, uint64 p, uint256 commitBlock)
        internal
        view
        returns (uint256 r, bool audited, uint256 drawBlock)
    {
        drawBlock = commitBlock + AUDIT_DELAY;
        // REJECT: the draw's block must be mined before anyone can read its hash.
        if (block.number <= drawBlock) revert DealsAuditDrawPending(dealId, drawBlock, block.number);
        if (block.number - drawBlock > 256) return (0, true, block.number);
        r = uint256(keccak256(abi.encode(blockhash(drawBlock), dealId))) % PPM;
        audited = r < p;
    }
}
