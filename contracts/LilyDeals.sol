// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Escrow} from "./Escrow.sol";

/// @dev A deal's id: the EIP-712 digest of its terms under this contract's domain. It binds the
/// deal to one chain and one deployment, and two deals with identical terms share one id.
type DealId is bytes32;

/// @title LilyDeals
/// @notice Deals between a job creator and a resource provider, opened with both parties'
/// EIP-712 signatures and settled by the deal's verification policy. Payment and collateral
/// are locked from the parties' escrow balances (see {Escrow}).
/// @dev Per deal the contract stores one byte of state, keyed by the deal id. The terms are
/// re-supplied as calldata by every call and re-hashed, so they cannot be altered after signing.
/// There is no owner or admin: funds move only by the rules below.
contract LilyDeals is Escrow, EIP712 {
    /// @notice A deal's terms, exactly as both parties signed them. Must match `types.Deal` in
    /// packages/protocol/src/eip712.ts field for field.
    struct Deal {
        address jobCreator;
        address provider;
        bytes32 jobOffer; // EIP-712 digest of the signed job offer
        bytes32 resourceOffer; // EIP-712 digest of the signed resource offer
        uint256 price; // paid by the job creator to the provider
        uint256 collateral; // staked by the provider, slashed to the job creator on timeout
        uint64 deadline; // unix seconds: the result must be committed at or before it
        uint8 policy; // verification policy id (see POLICY_*)
        uint64 policyParam; // the policy's parameter (k for replicate, p for audit, ...)
    }

    enum DealState {
        None,
        Open,
        Settled,
        TimedOut
    }

    /// @notice The EIP-712 type hash of {Deal}.
    bytes32 public constant DEAL_TYPEHASH = keccak256(
        "Deal(address jobCreator,address provider,bytes32 jobOffer,bytes32 resourceOffer,uint256 price,uint256 collateral,uint64 deadline,uint8 policy,uint64 policyParam)"
    );

    /// @dev Policy ids; must match `Policy` in packages/protocol/src/policy.ts.
    uint8 internal constant POLICY_TRUST = 0;

    mapping(DealId => DealState) private _states;

    error DealsUnsupportedPolicy(uint8 policy);
    error DealsDeadlinePassed(DealId dealId, uint64 deadline, uint256 timestamp);
    error DealsDeadlineNotPassed(DealId dealId, uint64 deadline, uint256 timestamp);
    error DealsAlreadyOpened(DealId dealId);
    error DealsNotOpen(DealId dealId, DealState state);
    error DealsInvalidSignature(address signer);
    error DealsNotProvider(DealId dealId, address caller);

    event DealOpened(
        DealId indexed dealId,
        address indexed jobCreator,
        address indexed provider,
        uint256 price,
        uint256 collateral,
        uint64 deadline
    );
    event ResultCommitted(DealId indexed dealId, address indexed provider, bytes32 resultDigest);
    event DealSettled(DealId indexed dealId, uint256 paid, uint256 collateralReturned);
    event DealTimedOut(DealId indexed dealId, uint256 refunded, uint256 slashed);

    constructor(IERC20 token_) Escrow(token_) EIP712("Lily", "1") {}

    /// @notice Open a deal signed by both parties, locking the price from the job creator's free
    /// balance and the collateral from the provider's. Anyone may submit it: the signatures are
    /// the authority. Smart-contract wallets sign through ERC-1271.
    /// @param deal The terms both parties signed.
    /// @param jobCreatorSig The job creator's EIP-712 signature over `deal`.
    /// @param providerSig The provider's EIP-712 signature over `deal`.
    /// @return dealId The deal's id, {hashDeal} of `deal`.
    function openDeal(Deal calldata deal, bytes calldata jobCreatorSig, bytes calldata providerSig)
        external
        returns (DealId dealId)
    {
        dealId = hashDeal(deal);
        // REJECT: only policies this contract can settle may be opened.
        if (!_isSupportedPolicy(deal.policy)) revert DealsUnsupportedPolicy(deal.policy);
        // REJECT: a deal must leave the provider time to deliver.
        if (deal.deadline <= block.timestamp) revert DealsDeadlinePassed(dealId, deal.deadline, block.timestamp);
        // REJECT: a deal opens at most once, whatever became of it.
        if (_states[dealId] != DealState.None) revert DealsAlreadyOpened(dealId);
        // REJECT: both parties must have signed exactly these terms on this chain and contract.
        bytes32 digest = DealId.unwrap(dealId);
        if (!_isValidSignature(deal.jobCreator, digest, jobCreatorSig)) revert DealsInvalidSignature(deal.jobCreator);
        if (!_isValidSignature(deal.provider, digest, providerSig)) revert DealsInvalidSignature(deal.provider);

        _states[dealId] = DealState.Open;
        _lock(deal.jobCreator, deal.price);
        _lock(deal.provider, deal.collateral);
        emit DealOpened(dealId, deal.jobCreator, deal.provider, deal.price, deal.collateral, deal.deadline);
    }

    /// @notice Commit the result of an open deal. Only the deal's provider may call it, at or
    /// before the deadline. What follows depends on the deal's policy: under `trust` the deal
    /// settles at once, paying the provider and returning its collateral.
    /// @param deal The deal's terms, as opened.
    /// @param resultDigest The hash of the result record the provider stands behind.
    function commitResult(Deal calldata deal, bytes32 resultDigest) external {
        DealId dealId = hashDeal(deal);
        // REJECT: only the provider named in the deal commits its result (never tx.origin).
        if (msg.sender != deal.provider) revert DealsNotProvider(dealId, msg.sender);
        DealState state = _states[dealId];
        // REJECT: a result is accepted once, for a deal that is open.
        if (state != DealState.Open) revert DealsNotOpen(dealId, state);
        // REJECT: a result after the deadline is too late; the deal can only time out.
        if (block.timestamp > deal.deadline) revert DealsDeadlinePassed(dealId, deal.deadline, block.timestamp);

        emit ResultCommitted(dealId, deal.provider, resultDigest);
        _onResult(dealId, deal);
    }

    /// @notice Close an open deal whose deadline passed without a result: the job creator is
    /// refunded the price and receives the provider's collateral. Anyone may call it.
    /// @param deal The deal's terms, as opened.
    function claimTimeout(Deal calldata deal) external {
        DealId dealId = hashDeal(deal);
        DealState state = _states[dealId];
        // REJECT: only an open deal (no result committed) can time out.
        if (state != DealState.Open) revert DealsNotOpen(dealId, state);
        // REJECT: the provider keeps until the end of the deadline second to deliver.
        if (block.timestamp <= deal.deadline) revert DealsDeadlineNotPassed(dealId, deal.deadline, block.timestamp);

        _states[dealId] = DealState.TimedOut;
        // Both amounts were locked when the deal opened, so their sum cannot overflow.
        _credit(deal.jobCreator, deal.price + deal.collateral);
        emit DealTimedOut(dealId, deal.price, deal.collateral);
    }

    /// @notice The id of a deal: its EIP-712 digest under this contract's domain, which is
    /// also what both parties sign.
    /// @param deal The deal's terms.
    function hashDeal(Deal calldata deal) public view returns (DealId) {
        return DealId.wrap(_hashTypedDataV4(keccak256(abi.encode(DEAL_TYPEHASH, deal))));
    }

    /// @notice The state of a deal: 0 None, 1 Open, 2 Settled, 3 TimedOut.
    /// @param dealId The deal's id, from {hashDeal}.
    function dealState(DealId dealId) external view returns (DealState) {
        return _states[dealId];
    }

    /// @dev An ECDSA signature by `signer`'s key, or failing that, approval by `signer` as an
    /// ERC-1271 contract wallet. Trying ECDSA first spares EOAs the EXTCODESIZE that
    /// {SignatureChecker-isValidSignatureNow} pays on every (cold) signer, ~2.6k gas each; a
    /// contract cannot hold the private key of its own address, so the order grants nothing.
    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature) private view returns (bool) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }

    // ---- Verification policies -------------------------------------------------------------
    // The only two places that know which policies exist. A new policy (optimistic,
    // replicate(k), audit(p)) is a library with its own state, admitted in `_isSupportedPolicy`
    // and given a branch in `_onResult`; the deal lifecycle above does not change.

    function _isSupportedPolicy(uint8 policy) private pure returns (bool) {
        return policy == POLICY_TRUST;
    }

    /// @dev Called once a valid result is committed for an open deal.
    function _onResult(DealId dealId, Deal calldata deal) private {
        if (deal.policy == POLICY_TRUST) {
            // trust: the committed result is final.
            _settle(dealId, deal);
        } else {
            // Unreachable: openDeal admits only supported policies.
            revert DealsUnsupportedPolicy(deal.policy);
        }
    }

    /// @dev Pay the provider and return its collateral.
    function _settle(DealId dealId, Deal calldata deal) private {
        _states[dealId] = DealState.Settled;
        // Both amounts were locked when the deal opened, so their sum cannot overflow.
        _credit(deal.provider, deal.price + deal.collateral);
        emit DealSettled(dealId, deal.price, deal.collateral);
    }
}
