// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Deal} from "../DealTypes.sol";

/// @title TrustPolicy
/// @notice `trust` (0): the committed result is final and the deal settles in the same
/// transaction. Nothing to check, nothing to reserve: the cheapest path, ~121k gas per job.
library TrustPolicy {
    uint8 internal constant ID = 0;

    /// @dev Safety at open: any terms are acceptable; the job creator locks only the price.
    /// @return reserve What the job creator locks beyond the price: nothing.
    function terms(Deal calldata) internal pure returns (uint256 reserve) {
        return 0;
    }
}
