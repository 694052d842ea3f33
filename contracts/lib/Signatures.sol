// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @title Signatures
/// @notice The one signature check of every Lily contract: an EOA's ECDSA signature, or approval
/// by an ERC-1271 contract wallet.
library Signatures {
    /// @dev An ECDSA signature by `signer`'s key, or failing that, approval by `signer` as an
    /// ERC-1271 contract wallet. Trying ECDSA first spares EOAs the EXTCODESIZE that
    /// {SignatureChecker-isValidSignatureNow} pays on every (cold) signer, ~2.6k gas each; a
    /// contract cannot hold the private key of its own address, so the order grants nothing.
    function isValid(address signer, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }

    /// @dev {isValid} for batch items: an ERC-1271 wallet's check gets at most `gasCap` and only
    /// its first 32 bytes of return data are read, so one wallet can neither burn the batch's gas
    /// nor bloat its memory; a wallet that fails is a skipped item.
    function isValidCapped(address signer, bytes32 digest, bytes calldata signature, uint256 gasCap)
        internal
        view
        returns (bool)
    {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        if (signer.code.length == 0) return false;
        bytes memory data = abi.encodeCall(IERC1271.isValidSignature, (digest, signature));
        bool success;
        uint256 size;
        bytes32 word;
        assembly ("memory-safe") {
            success := staticcall(gasCap, signer, add(data, 0x20), mload(data), 0, 0x20)
            size := returndatasize()
            word := mload(0)
        }
        return success && size >= 0x20 && bytes4(word) == IERC1271.isValidSignature.selector;
    }
}
