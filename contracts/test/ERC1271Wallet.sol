// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title ERC1271Wallet (test fixture)
/// @notice A minimal smart-contract wallet: its owner's key signs for it (ERC-1271) and the
/// owner can make it call anything. Used by tests to show contract wallets can be deal parties.
contract ERC1271Wallet is IERC1271 {
    address private immutable _owner;

    error WalletNotOwner(address caller);

    constructor(address owner_) {
        _owner = owner_;
    }

    /// @notice Call `target` with `data` as this wallet. Only the owner may.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != _owner) revert WalletNotOwner(msg.sender);
        (bool ok, bytes memory result) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
        return result;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == _owner ? this.isValidSignature.selector : bytes4(0xffffffff);
    }
}
