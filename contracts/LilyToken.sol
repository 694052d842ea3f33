// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title LilyToken
/// @notice The LILY token: a plain ERC-20 with a fixed supply, minted once at deployment.
/// @dev No owner and no mint function: after the constructor the supply can never change.
contract LilyToken is ERC20 {
    /// @param recipient Receives the whole supply.
    /// @param supply The fixed total supply, in wei (18 decimals).
    constructor(address recipient, uint256 supply) ERC20("Lily", "LILY") {
        _mint(recipient, supply);
    }
}
