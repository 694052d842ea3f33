// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Deal} from "../DealTypes.sol";

/// @title Mediation
/// @notice Rules shared by every policy that can send a deal to a mediator: which mediators a
/// deal may use, which one of them is drawn to rule, and for how long it alone may.
/// @dev A deal carries only the hash of the sorted mediator set both parties accept; callers
/// supply the list and it is checked against the hash. Nobody rules on a dispute they are party
/// to: the job creator and the provider(s) are never drawn, even if the set lists them. The
/// draw's seed comes from the hash of the block after the draw block, which no party knows when
/// the draw block is fixed (at a challenge, an audit or a replica split); `lockDraw` stores it so
/// it outlives the 256 blocks `blockhash` can see. The drawn mediator then has the turn for
/// `turnSeconds`; each further turn passes to the next eligible mediator, so an absent one
/// delays a ruling by one turn, not by a number of blocks.
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
    /// @dev `caller` is a party to the dispute (its job creator or a provider), so it may not rule.
    error DealsMediatorIsParty(bytes32 key, address caller);
    /// @dev Every mediator in the set is a party to the dispute: nobody can rule (it can only time out).
    error DealsNoEligibleMediator(bytes32 key);
    /// @dev `caller` is in the set but the draw picked `drawn` for this turn.
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

    /// @dev The draw's seed: `locked` once `lockDraw` stored it, else what the block hashes give
    /// now, `uint56(keccak256(abi.encode(blockhash(seedBlock(drawBlock + 1)), key, "mediator")))`
    /// (1 if that is 0). Unlocked, it changes every 256 blocks once the first hash ages out.
    function seedOf(bytes32 key, uint256 drawBlock, uint56 locked) internal view returns (uint56) {
        if (locked != 0) return locked;
        // REJECT: the draw's block must exist before anyone can be drawn.
        if (block.number <= drawBlock + 1) revert DealsMediatorNotDrawnYet(key, drawBlock, block.number);
        uint56 seed = uint56(uint256(keccak256(abi.encode(blockhash(seedBlock(drawBlock + 1)), key, "mediator"))));
        return seed == 0 ? 1 : seed;
    }

    /// @dev The mediator whose turn it is: of the set's members that are not `parties`, the one
    /// at `(seed + turn) % eligible`, where `turn` counts the turns elapsed since mediation began.
    function drawn(bytes32 key, uint256 seed, uint256 turn, address[] calldata mediators, address[] memory parties)
        internal
        pure
        returns (address)
    {
        address[] memory eligible = new address[](mediators.length);
        uint256 n;
        for (uint256 i; i < mediators.length; ++i) {
            if (!_isParty(mediators[i], parties)) eligible[n++] = mediators[i];
        }
        // REJECT: a set made only of the parties has nobody to rule; the mediation times out.
        if (n == 0) revert DealsNoEligibleMediator(key);
        // unchecked: seed < 2^56 and turn is a number of elapsed turns, so the sum cannot overflow.
        unchecked {
            return eligible[(seed + turn) % n];
        }
    }

    /// @dev Revert unless `caller` may rule now: not a party, in the set, and the drawn one.
    function checkDrawn(
        bytes32 key,
        uint256 seed,
        uint256 turn,
        address[] calldata mediators,
        address[] memory parties,
        address caller
    ) internal pure {
        // REJECT: nobody rules on a dispute they are party to.
        if (_isParty(caller, parties)) revert DealsMediatorIsParty(key, caller);
        bool member;
        for (uint256 i; i < mediators.length; ++i) {
            if (mediators[i] == caller) member = true;
        }
        // REJECT: a mediator the parties did not both accept never rules.
        if (!member) revert DealsNotMediator(key, caller);
        address chosen = drawn(key, seed, turn, mediators, parties);
        // REJECT: of the accepted mediators, only the one whose turn it is rules.
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

    function _isParty(address who, address[] memory parties) private pure returns (bool) {
        for (uint256 i; i < parties.length; ++i) {
            if (parties[i] == who) return true;
        }
        return false;
    }
}
