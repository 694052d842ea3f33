// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Deal} from "../DealTypes.sol";
import {Mediation} from "./Mediation.sol";

/// @title ReplicatePolicy
/// @notice `replicate(k)` (2): one job offer, k deals with k distinct providers (the group),
/// each committing its own result digest. Once every replica has committed or timed out, the
/// group is tallied: a digest committed by more than k/2 replicas wins, its providers are paid
/// and the others slashed; without such a majority, the group goes to one drawn mediator.
/// @dev Every member of a group signs the group itself: `replicas`, the hash of its k providers
/// sorted. Members carry the same job offer, job creator, policy, k, mediator set and fee, and
/// distinct providers; the group opens whole or not at all (`openReplicas`), so it always forms.
/// The job creator locks, per replica, the price plus one mediation fee; at most one fee is
/// ever spent per group.
library ReplicatePolicy {
    uint8 internal constant ID = 2;
    uint64 internal constant MIN_K = 2;
    uint64 internal constant MAX_K = 16;

    /// @dev k is outside [`min`, `max`].
    error DealsReplicaCountOutOfRange(uint64 k, uint64 min, uint64 max);
    /// @dev The deals given are not replicate deals (the first has policy `policy`).
    error DealsNotReplicated(bytes32 jobOffer, uint8 policy);
    /// @dev `given` deals were given for a group of `k`.
    error DealsReplicaCountMismatch(bytes32 jobOffer, uint256 given, uint256 k);
    /// @dev The deal at `index` differs from the first in job offer, job creator, policy, k,
    /// mediator set or mediation fee.
    error DealsNotSameReplicaGroup(bytes32 jobOffer, uint256 index);
    /// @dev The deal at `index` does not come after the one before it in ascending provider order.
    error DealsReplicasNotSorted(bytes32 jobOffer, uint256 index);
    /// @dev The group's providers hash to `given`, not to the group every member signed (`expected`).
    error DealsReplicaGroupMismatch(bytes32 jobOffer, bytes32 expected, bytes32 given);

    /// @dev Safety at open: k in [2, 16] and a mediator for the no-majority case.
    /// @return reserve What the job creator locks beyond the price, per replica.
    function terms(Deal calldata deal) internal pure returns (uint256 reserve) {
        // REJECT: one replica is no comparison; more than 16 makes a group too costly to settle.
        if (deal.policyParam < MIN_K || deal.policyParam > MAX_K) {
            revert DealsReplicaCountOutOfRange(deal.policyParam, MIN_K, MAX_K);
        }
        Mediation.checkMediable(deal);
        return deal.mediationFee;
    }

    /// @dev Revert unless `deals` is exactly one whole group, as every member signed it: k
    /// replicate deals of one job offer and job creator, with the same k, mediators, fee and
    /// group, whose providers, in strictly ascending order, hash to the group (`replicas`).
    /// @return k The group's size.
    function checkGroup(Deal[] calldata deals) internal pure returns (uint256 k) {
        if (deals.length == 0) revert DealsReplicaCountMismatch(bytes32(0), 0, 0);
        Deal calldata first = deals[0];
        // REJECT: only replicate deals form groups.
        if (first.policy != ID) revert DealsNotReplicated(first.jobOffer, first.policy);
        k = first.policyParam;
        // REJECT: one replica is no comparison; more than 16 makes a group too costly to settle.
        if (k < MIN_K || k > MAX_K) revert DealsReplicaCountOutOfRange(uint64(k), MIN_K, MAX_K);
        // REJECT: a tally over fewer (or more) than k replicas would change what a majority is.
        if (deals.length != k) revert DealsReplicaCountMismatch(first.jobOffer, deals.length, k);
        address[] memory providers = new address[](k);
        providers[0] = first.provider;
        for (uint256 i = 1; i < k; ++i) {
            Deal calldata d = deals[i];
            // REJECT: every replica must be a deal for the same job under the same rules.
            if (
                d.jobOffer != first.jobOffer || d.jobCreator != first.jobCreator || d.policy != ID
                    || d.policyParam != first.policyParam || d.mediators != first.mediators
                    || d.mediationFee != first.mediationFee || d.replicas != first.replicas
            ) revert DealsNotSameReplicaGroup(first.jobOffer, i);
            // REJECT: providers in strictly ascending order: no provider counted twice, and one
            // canonical order for the group's hash.
            if (d.provider <= deals[i - 1].provider) revert DealsReplicasNotSorted(first.jobOffer, i);
            providers[i] = d.provider;
        }
        bytes32 given = keccak256(abi.encode(providers));
        // REJECT: the group must be exactly the k providers each member signed for, so nobody can
        // tally an honest replica with deals it never agreed to be compared with.
        if (given != first.replicas) revert DealsReplicaGroupMismatch(first.jobOffer, first.replicas, given);
    }

    /// @dev The parties to a group's dispute: its job creator and every one of its providers.
    function parties(Deal[] calldata deals) internal pure returns (address[] memory out) {
        out = new address[](deals.length + 1);
        out[0] = deals[0].jobCreator;
        for (uint256 i; i < deals.length; ++i) {
            out[i + 1] = deals[i].provider;
        }
    }

    /// @dev The digest committed by more than half of the group's k replicas, if any.
    /// Replicas that did not commit (`committed[i]` false) count toward k but vote for nothing.
    /// @return found Whether some digest has more than k/2 votes.
    /// @return digest That digest.
    /// @return votes How many replicas committed it.
    function tally(bytes32[] memory digests, bool[] memory committed)
        internal
        pure
        returns (bool found, bytes32 digest, uint256 votes)
    {
        uint256 k = digests.length;
        for (uint256 i; i < k; ++i) {
            if (!committed[i]) continue;
            uint256 count;
            for (uint256 j; j < k; ++j) {
                if (committed[j] && digests[j] == digests[i]) ++count;
            }
            if (2 * count > k) return (true, digests[i], count);
        }
    }
}
