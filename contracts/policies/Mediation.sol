// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Deal, DealId} from "../DealTypes.sol";

/// @title Mediation
/// @notice Rules shared by every policy that can send a deal to a mediator: which mediators a
/// deal may use, and which one of them is drawn to rule.
/// @dev A deal carries only the hash of the sorted mediator set both parties accept; callers
/// supply the list and it is checked against the hash. The mediator that rules is drawn from
/// the hash of the block after the draw block, which no party knows when the draw block is
/// fixed (at a challenge, an audit or a replica split).
library Mediation {
    /// @dev The policy needs a mediator but the parties share none (`mediators` is zero).
    error DealsPolicyNeedsMediators(uint8 policy);
    /// @dev The provider's collateral could not pay the mediator if the provider were wrong.
    error DealsCollateralBelowMediationFee(uint256 collateral, uint256 mediationFee);
    /// @dev The list given does not hash to the set the deal was signed with.
    error DealsMediatorSetMismatch(bytes32 key, bytes32 expected, bytes32 given);
    /// @dev The signed set is the empty list: nobody can rule (the mediation can only time out).
    error DealsMediatorSetEmpty(bytes32 key);
    /// @dev `caller` is not in the deal's mediator set.
    error DealsNotMediator(bytes32 key, address caller);
    /// @dev `caller` is in the set but the draw picked `drawn`.
    error DealsNotDrawnMediator(bytes32 key, address caller, address drawn);
    /// @dev The block whose hash draws the mediator (`drawBlock + 1`) is not mined yet.
    error DealsMediatorNotDrawnYet(bytes32 key, uint256 drawBlock, uint256 blockNumber);

    /// @dev Safety at open for a policy that can reach a mediator: the parties share at least
    /// one mediator, and the provider's collateral covers the fee it pays if proven wrong.
    function checkMediable(Deal calldata deal) internal pure {
        // REJECT: a dispute must have someone to go to.
        if (deal.mediators == bytes32(0)) revert DealsPolicyNeedsMediators(deal.policy);
        // REJECT: a wrong provider's collateral must be able to pay the mediator.
        if (deal.collateral < deal.mediationFee) revert DealsCollateralBelowMediationFee(deal.collateral, deal.mediationFee);
    }

    /// @dev Revert unless `mediators` is the set signed into the deal(s) of `key` (hash `expected`).
    function checkSet(bytes32 key, bytes32 expected, address[] calldata mediators) internal pure {
        bytes32 given = keccak256(abi.encode(mediators));
        // REJECT: only the mediators both parties accepted may rule.
        if (given != expected) revert DealsMediatorSetMismatch(key, expected, given);
        if (mediators.length == 0) revert DealsMediatorSetEmpty(key);
    }

    /// @dev The mediator drawn for `key` (a deal id, or a replica group's job offer) whose
    /// mediation started at `drawBlock`:
    /// `mediators[keccak256(abi.encode(blockhash(seed), key, "mediator")) % n]`, where `seed`
    /// is `drawBlock + 1` while its hash is available (256 blocks) and after that the first
    /// block of the current 256-block epoch (see {seedBlock}).
    function drawn(bytes32 key, uint256 drawBlock, address[] calldata mediators) internal view returns (address) {
        // REJECT: the draw's block must exist before anyone can be drawn.
        if (block.number <= drawBlock + 1) revert DealsMediatorNotDrawnYet(key, drawBlock, block.number);
        bytes32 hash = blockhash(seedBlock(drawBlock + 1));
        return mediators[uint256(keccak256(abi.encode(hash, key, "mediator"))) % mediators.length];
    }

    /// @dev Revert unless `caller` is the mediator drawn for `key`, naming which rule failed.
    function checkDrawn(bytes32 key, uint256 drawBlock, address[] calldata mediators, address caller) internal view {
        bool member;
        for (uint256 i; i < mediators.length; ++i) {
            if (mediators[i] == caller) member = true;
        }
        // REJECT: a mediator the parties did not both accept never rules.
        if (!member) revert DealsNotMediator(key, caller);
        address chosen = drawn(key, drawBlock, mediators);
        // REJECT: of the accepted mediators, only the drawn one rules.
        if (chosen != caller) revert DealsNotDrawnMediator(key, caller, chosen);
    }

    /// @dev `first` while its hash is still available (at most 256 blocks old); otherwise the
    /// first block of the current 256-block epoch counted from `first`, so the seed is never
    /// zero, stays the same for 256 blocks at a time, and was in the future when the previous
    /// epoch began. Requires `block.number > first`.
    function seedBlock(uint256 first) internal view returns (uint256) {
        // unchecked: the caller guarantees block.number > first, so age >= 1, and the result is
        // at most block.number - 1.
        unchecked {
            uint256 age = block.number - first;
            return first + ((age - 1) / 256) * 256;
        }
    }
}
