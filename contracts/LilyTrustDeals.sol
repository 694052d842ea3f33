// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Escrow} from "./Escrow.sol";
import {Signatures} from "./lib/Signatures.sol";
import {TrustDeal, TrustState, TrustTerms} from "./TrustDealTypes.sol";

/// @title LilyTrustDeals
/// @notice `trust` deals opened and settled in batches, with no storage per deal: the cheap path
/// for the common case, where the job creator takes the provider's result as final. Both
/// parties sign a {TrustDeal}; anyone may open a batch of them; only the provider commits its
/// results, at or before each deadline, and is paid at once (less the module creator's royalty)
/// with its collateral back; after a deadline without a result anyone may time the deal out,
/// which gives the job creator its price and the provider's collateral. Policies that can reach
/// a mediator (optimistic, replicate, audit) stay in {LilyDeals}.
/// @dev Per batch the contract stores one slot: the root of a Merkle tree whose leaves are the
/// opened deals' {leafOf} (zero for a skipped item), in batch order, built as OpenZeppelin's
/// `SimpleMerkleTree` builds it (heap order, sorted pairs; packages/chain/src/trustTree.ts).
/// Per deal it keeps two bits, keyed by (provider, nonce): {TrustState}. A commit or a timeout
/// re-supplies each deal's {TrustTerms} with a multiproof against its batch's root, so terms
/// cannot change after opening, and the bits make each transition happen once. Escrow balances
/// are this contract's own (as {LilyLeases} keeps its own). No owner or admin.
contract LilyTrustDeals is Escrow, EIP712 {
    /// @notice The EIP-712 type hash of {TrustDeal}.
    bytes32 public constant TRUST_DEAL_TYPEHASH = keccak256(
        "TrustDeal(address jobCreator,address provider,bytes32 offers,uint256 price,uint256 collateral,uint64 openBy,uint64 deadline,uint64 nonce,address moduleCreator,uint16 royaltyBps)"
    );
    /// @notice A royalty is at most the whole price.
    uint16 public constant MAX_ROYALTY_BPS = 10_000;
    /// @notice Gas a contract wallet's ERC-1271 check may use per item (see {LilyDeals-BATCH_ERC1271_GAS}).
    uint256 public constant BATCH_ERC1271_GAS = 100_000;

    uint256 private _batchCount;
    mapping(uint256 batchNo => bytes32 root) private _roots;
    /// @dev Two bits per deal: word `nonce >> 7`, bits `2 * (nonce & 127)`.
    mapping(address provider => mapping(uint256 word => uint256 bits)) private _states;

    /// @dev An empty batch, or one whose per-item arrays differ in length from its items.
    error TrustBatchLengthMismatch(uint256 items, uint256 given);
    error TrustEmptyBatch();
    /// @dev Item `index` names a royalty above the price, or one paid to nobody.
    error TrustInvalidRoyalty(uint256 index, uint16 royaltyBps, address moduleCreator);
    /// @dev Item `index`'s deadline does not come after its `openBy`.
    error TrustDeadlineNotAfterOpenBy(uint256 index, uint64 openBy, uint64 deadline);
    /// @dev No batch `batchNo` opened a deal.
    error TrustUnknownBatch(uint256 batchNo);
    /// @dev The terms and proof given do not belong to batch `batchNo`'s tree.
    error TrustInvalidProof(uint256 batchNo);
    // Reasons a batch item is skipped (their selectors, in {Skipped}); never reverted with.
    error TrustOpenByPassed(uint64 openBy, uint256 timestamp);
    error TrustNonceUsed(address provider, uint64 nonce);
    error TrustInvalidSignature(address signer);
    error TrustNotOpen(address provider, uint64 nonce, TrustState state);
    error TrustDeadlinePassed(uint64 deadline, uint256 timestamp);
    error TrustDeadlineNotPassed(uint64 deadline, uint256 timestamp);

    /// @notice Batch `batchNo` opened the deals whose leaves ({leafOf}) are not zero; a zero leaf
    /// is a skipped item. The leaves are the batch's whole tree, so anyone can build proofs from
    /// them, and a party finds its deal by its own leaf (no id: that would cost each deal 256 gas).
    event DealsOpened(uint256 indexed batchNo, bytes32[] leaves);
    /// @notice Item `index` of a batch transaction was left as it was, for `reason`: the selector
    /// of one of the errors above (or `EscrowInsufficientBalance`). The rest went ahead.
    event Skipped(uint256 indexed batchNo, uint256 index, bytes4 reason);
    /// @notice `provider` delivered these deals of batch `batchNo` (by nonce) and was paid for
    /// each, less royalties, with its collateral back.
    /// `nonces` packs each nonce in 8 bytes, big-endian (a quarter of the log data of a uint256[]).
    event DealsSettled(uint256 indexed batchNo, address indexed provider, bytes nonces);
    /// @notice These deals of `provider` in batch `batchNo` passed their deadlines without a
    /// result: each job creator got back its price and the provider's collateral.
    /// `nonces` packed as in {DealsSettled}.
    event DealsTimedOut(uint256 indexed batchNo, address indexed provider, bytes nonces);

    /// @param token_ The LILY token.
    constructor(IERC20 token_) Escrow(token_) EIP712("Lily", "1") {}

    // ---- Opening ----------------------------------------------------------------------------

    /// @notice Open many trust deals, each signed by both parties, locking each price from its
    /// job creator's free balance and each collateral from its provider's. Anyone may submit; a
    /// party that submits needs no signature of its own (its transaction is its consent). Terms
    /// that are invalid in themselves (royalty, deadline not after openBy) revert the whole
    /// batch; what depends on time, state or another contract (openBy passed, nonce used, a bad
    /// signature, too little escrow) skips the item with {Skipped} and the rest open.
    /// @param deals The deals' terms.
    /// @param jobCreatorSigs Each deal's job creator's signature, in the same order.
    /// @param providerSigs Each deal's provider's signature, in the same order.
    /// @return batchNo The batch's number (its deals are committed and timed out by it).
    /// @return opened How many deals opened.
    function openDeals(TrustDeal[] calldata deals, bytes[] calldata jobCreatorSigs, bytes[] calldata providerSigs)
        external
        returns (uint256 batchNo, uint256 opened)
    {
        uint256 n = deals.length;
        if (n == 0) revert TrustEmptyBatch();
        // An empty signature array says that the sender is that party of every deal (checked per item).
        if (jobCreatorSigs.length != n && jobCreatorSigs.length != 0) revert TrustBatchLengthMismatch(n, jobCreatorSigs.length);
        if (providerSigs.length != n && providerSigs.length != 0) revert TrustBatchLengthMismatch(n, providerSigs.length);
        batchNo = ++_batchCount;
        bytes32[] memory leaves = new bytes32[](n);
        StateWord memory word;
        HeldBalance memory held;
        uint256 locked;
        for (uint256 i; i < n; ++i) {
            TrustDeal calldata deal = deals[i];
            // Every field is read (and so validated by the ABI decoder) before the deal is hashed
            // from its raw calldata words.
            address jobCreator = deal.jobCreator;
            address provider = deal.provider;
            uint256 price = deal.price;
            uint256 collateral = deal.collateral;
            uint64 deadline = deal.deadline;
            uint64 nonce = deal.nonce;
            address moduleCreator = deal.moduleCreator;
            uint16 royaltyBps = deal.royaltyBps;
            {
                uint64 openBy = deal.openBy;
                // REJECT (whole batch): terms that no state or time could make valid.
                if (royaltyBps > MAX_ROYALTY_BPS || (royaltyBps != 0 && moduleCreator == address(0))) {
                    revert TrustInvalidRoyalty(i, royaltyBps, moduleCreator);
                }
                if (deadline <= openBy) revert TrustDeadlineNotAfterOpenBy(i, openBy, deadline);
                if (block.timestamp > openBy) {
                    emit Skipped(batchNo, i, TrustOpenByPassed.selector);
                    continue;
                }
            }
            uint256 shift = _load(word, provider, nonce);
            // A deal opens at most once: its (provider, nonce) never returns to None.
            if ((word.bits >> shift) & 3 != 0) {
                emit Skipped(batchNo, i, TrustNonceUsed.selector);
                continue;
            }
            bytes32 dealId = _hashTypedDataV4(_structHash(deal));
            if (!_consents(jobCreator, dealId, jobCreatorSigs, i) || !_consents(provider, dealId, providerSigs, i)) {
                emit Skipped(batchNo, i, TrustInvalidSignature.selector);
                continue;
            }
            if (!_takeBoth(held, jobCreator, price, provider, collateral)) {
                emit Skipped(batchNo, i, EscrowInsufficientBalance.selector);
                continue;
            }
            word.bits |= uint256(TrustState.Open) << shift;
            word.dirty = true;
            // Both were taken from balances, so their sum fits.
            unchecked {
                locked += price + collateral;
                ++opened;
            }
            leaves[i] = _leaf(provider, nonce, jobCreator, price, collateral, deadline, moduleCreator, royaltyBps);
        }
        _store(word);
        _writeBack(held);
        if (opened != 0) {
            _addLocked(locked);
            _roots[batchNo] = _merkleRoot(leaves);
        }
        emit DealsOpened(batchNo, leaves);
    }

    // ---- Settling ---------------------------------------------------------------------------

    /// @notice As the provider of deals of batch `batchNo`, declare them delivered and be paid
    /// for each at once: the price less the royalty (credited to the module creator) plus the
    /// collateral back. Under trust the provider's word is final, so there is nothing for the chain
    /// to hold: what it delivered is in the Result record it signed for the job creator. Deals not
    /// open, or past their deadline, are skipped.
    /// @param batchNo The batch that opened the deals.
    /// @param items Each deal's terms, in the order `proof` proves them (see {MerkleProof-multiProofVerify}).
    /// @param proof The multiproof's sibling nodes.
    /// @param proofFlags The multiproof's flags.
    /// @return settled How many deals settled.
    function settleDeals(uint256 batchNo, TrustTerms[] calldata items, bytes32[] calldata proof, bool[] calldata proofFlags)
        external
        returns (uint256 settled)
    {
        uint256 n = items.length;
        // REJECT (whole batch): only terms as opened, and only the caller's own deals (the
        // provider is part of each leaf, and it is the caller here).
        _checkProof(batchNo, msg.sender, items, proof, proofFlags);
        // 24 bytes of room past the last entry, which {_pack} spills into.
        bytes memory nonces = new bytes(n * 8 + 24);
        StateWord memory word;
        uint256 released;
        uint256 providerGets;
        // Royalties are credited once per run of items with the same module creator.
        address creator;
        uint256 creatorGets;
        for (uint256 i; i < n; ++i) {
            TrustTerms calldata t = items[i];
            uint64 nonce = t.nonce;
            uint256 shift = _load(word, msg.sender, nonce);
            bytes4 reason;
            if ((word.bits >> shift) & 3 != uint256(TrustState.Open)) reason = TrustNotOpen.selector;
            else if (block.timestamp > t.deadline) reason = TrustDeadlinePassed.selector;
            if (reason != 0) {
                emit Skipped(batchNo, i, reason);
                continue;
            }
            // Open (01) to Settled (10).
            word.bits ^= uint256(3) << shift;
            word.dirty = true;
            uint256 price = t.price;
            uint256 collateral = t.collateral;
            uint256 paid = price;
            uint16 royaltyBps = t.royaltyBps;
            if (royaltyBps != 0) {
                uint256 royalty = Math.mulDiv(price, royaltyBps, MAX_ROYALTY_BPS);
                address moduleCreator = t.moduleCreator;
                if (moduleCreator != creator) {
                    if (creatorGets != 0) _give(creator, creatorGets);
                    (creator, creatorGets) = (moduleCreator, 0);
                }
                // unchecked: royalty <= price because royaltyBps <= 10 000, checked at open, and
                // every sum below is of amounts locked at open.
                unchecked {
                    paid -= royalty;
                    creatorGets += royalty;
                }
            }
            unchecked {
                providerGets += paid + collateral;
                released += price + collateral;
                _pack(nonces, settled, nonce);
                ++settled;
            }
        }
        _store(word);
        if (creatorGets != 0) _give(creator, creatorGets);
        _releaseLocked(released);
        _give(msg.sender, providerGets);
        _shrink(nonces, settled * 8);
        emit DealsSettled(batchNo, msg.sender, nonces);
    }

    /// @notice Close deals of `provider` in batch `batchNo` whose deadline passed without a
    /// result: each job creator gets back its price and receives the provider's collateral.
    /// Anyone may call it. Deals not open, or whose deadline has not passed, are skipped.
    /// @param batchNo The batch that opened the deals.
    /// @param provider The deals' provider.
    /// @param items Each deal's terms, in the order `proof` proves them.
    /// @param proof The multiproof's sibling nodes.
    /// @param proofFlags The multiproof's flags.
    /// @return timedOut How many deals timed out.
    function timeOut(
        uint256 batchNo,
        address provider,
        TrustTerms[] calldata items,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external returns (uint256 timedOut) {
        uint256 n = items.length;
        _checkProof(batchNo, provider, items, proof, proofFlags);
        // 24 bytes of room past the last entry, which {_pack} spills into.
        bytes memory nonces = new bytes(n * 8 + 24);
        StateWord memory word;
        uint256 released;
        for (uint256 i; i < n; ++i) {
            TrustTerms calldata t = items[i];
            uint64 nonce = t.nonce;
            uint256 shift = _load(word, provider, nonce);
            bytes4 reason;
            if ((word.bits >> shift) & 3 != uint256(TrustState.Open)) reason = TrustNotOpen.selector;
            // The provider keeps until the end of the deadline second to deliver.
            else if (block.timestamp <= t.deadline) reason = TrustDeadlineNotPassed.selector;
            if (reason != 0) {
                emit Skipped(batchNo, i, reason);
                continue;
            }
            // Open (01) to TimedOut (11).
            word.bits |= uint256(3) << shift;
            word.dirty = true;
            unchecked {
                uint256 refund = t.price + t.collateral;
                _give(t.jobCreator, refund);
                released += refund;
                _pack(nonces, timedOut, nonce);
                ++timedOut;
            }
        }
        _store(word);
        _releaseLocked(released);
        _shrink(nonces, timedOut * 8);
        emit DealsTimedOut(batchNo, provider, nonces);
    }

    // ---- Views ------------------------------------------------------------------------------

    /// @notice The id of a trust deal: its EIP-712 digest under this contract's domain, which
    /// is also what both parties sign.
    function hashDeal(TrustDeal calldata deal) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(TRUST_DEAL_TYPEHASH, deal)));
    }

    /// @notice A deal's leaf in its batch's tree: the hash of its provider and settlement terms.
    function leafOf(address provider, TrustTerms calldata terms) external pure returns (bytes32) {
        return keccak256(abi.encode(provider, terms));
    }

    /// @notice Where the deal of `provider` with `nonce` is.
    function stateOf(address provider, uint64 nonce) public view returns (TrustState) {
        return TrustState((_states[provider][nonce >> 7] >> ((nonce & 127) << 1)) & 3);
    }

    /// @notice The root of batch `batchNo`'s tree; zero if it opened nothing (or does not exist).
    function rootOf(uint256 batchNo) external view returns (bytes32) {
        return _roots[batchNo];
    }

    /// @notice How many batches were submitted; batch numbers run from 1 to this.
    function batchCount() external view returns (uint256) {
        return _batchCount;
    }

    // ---- Internals --------------------------------------------------------------------------

    /// @dev The struct hash of a deal whose fields the caller has read (so the ABI decoder
    /// validated them): the type hash and the deal's 10 words as they are in calldata. Equal to
    /// `keccak256(abi.encode(TRUST_DEAL_TYPEHASH, deal))` ({hashDeal}), without copying field by field.
    function _structHash(TrustDeal calldata deal) private pure returns (bytes32 hash) {
        bytes32 typeHash = TRUST_DEAL_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            calldatacopy(add(ptr, 0x20), deal, 0x140)
            hash := keccak256(ptr, 0x160)
        }
    }

    /// @dev {leafOf} hashed from the terms' raw calldata words. Nothing needs validating: a word
    /// with dirty bits hashes to a leaf that no opening produced, so its proof fails.
    function _leafOf(address provider, TrustTerms calldata terms) private pure returns (bytes32 leaf) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, provider)
            calldatacopy(add(ptr, 0x20), terms, 0xe0)
            leaf := keccak256(ptr, 0x100)
        }
    }

    /// @dev Whether `party` consents to the deal with id `dealId`: it sent the transaction, or
    /// `sigs[i]` is its signature (an empty `sigs` holds none).
    function _consents(address party, bytes32 dealId, bytes[] calldata sigs, uint256 i) private view returns (bool) {
        if (msg.sender == party) return true;
        return sigs.length != 0 && Signatures.isValidCapped(party, dealId, sigs[i], BATCH_ERC1271_GAS);
    }

    /// @dev {leafOf}, from the fields.
    function _leaf(
        address provider,
        uint64 nonce,
        address jobCreator,
        uint256 price,
        uint256 collateral,
        uint64 deadline,
        address moduleCreator,
        uint16 royaltyBps
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(provider, nonce, jobCreator, price, collateral, deadline, moduleCreator, royaltyBps));
    }

    /// @dev Lock the price from the job creator and the collateral from the provider (whose
    /// balance `held` keeps in memory across the batch), both or neither; one account may be both
    /// parties. Returns whether it did.
    function _takeBoth(HeldBalance memory held, address jobCreator, uint256 price, address provider, uint256 collateral)
        private
        returns (bool)
    {
        _hold(held, provider);
        if (jobCreator == provider) return _takeHeld(held, price + collateral);
        if (held.balance < collateral) return false;
        // The job creator is not the held account, so its stored balance is current.
        if (!_tryTake(jobCreator, price)) return false;
        return _takeHeld(held, collateral);
    }

    /// @dev Revert unless `items` (with `provider`) are leaves of batch `batchNo`'s tree.
    function _checkProof(
        uint256 batchNo,
        address provider,
        TrustTerms[] calldata items,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) private view {
        uint256 n = items.length;
        // An empty multiproof "proves" proof[0]; there is nothing to do for no items anyway.
        if (n == 0) revert TrustEmptyBatch();
        bytes32 root = _roots[batchNo];
        if (root == 0) revert TrustUnknownBatch(batchNo);
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            leaves[i] = _leafOf(provider, items[i]);
        }
        if (!MerkleProof.multiProofVerifyCalldata(proof, proofFlags, root, leaves)) revert TrustInvalidProof(batchNo);
    }

    /// @dev One provider's word of state bits (128 deals), held in memory while a batch works
    /// through consecutive nonces, so that each word is read and written once per batch.
    struct StateWord {
        address provider;
        uint256 index;
        uint256 bits;
        bool loaded;
        bool dirty;
    }

    /// @dev Make `word` hold the bits of (provider, nonce), writing back the word it held if it
    /// changed; returns the deal's bit offset in it.
    function _load(StateWord memory word, address provider, uint64 nonce) private returns (uint256 shift) {
        uint256 index = nonce >> 7;
        if (!word.loaded || word.provider != provider || word.index != index) {
            _store(word);
            (word.provider, word.index, word.bits, word.loaded, word.dirty) = (provider, index, _states[provider][index], true, false);
        }
        return (nonce & 127) << 1;
    }

    /// @dev Write `word` back if it changed.
    function _store(StateWord memory word) private {
        if (word.dirty) {
            _states[word.provider][word.index] = word.bits;
            word.dirty = false;
        }
    }

    /// @dev The root of OpenZeppelin's `SimpleMerkleTree` (unsorted leaves) over `leaves`: a
    /// complete binary tree in heap order, leaf i at node `2n - 2 - i`, each node the sorted-pair
    /// hash of its children.
    function _merkleRoot(bytes32[] memory leaves) private pure returns (bytes32 root) {
        uint256 n = leaves.length;
        bytes32[] memory tree = new bytes32[](2 * n - 1);
        // Indices stay below 2n - 1 by construction, so the memory accesses need no bounds checks.
        assembly ("memory-safe") {
            let nodes := add(tree, 0x20)
            let last := sub(mul(2, n), 2)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(add(nodes, shl(5, sub(last, i))), mload(add(leaves, shl(5, add(i, 1)))))
            }
            for { let i := sub(n, 1) } gt(i, 0) {} {
                i := sub(i, 1)
                let a := mload(add(nodes, shl(5, add(shl(1, i), 1))))
                let b := mload(add(nodes, shl(5, add(shl(1, i), 2))))
                // The sorted pair, as Hashes.commutativeKeccak256.
                switch lt(a, b)
                case 1 {
                    mstore(0x00, a)
                    mstore(0x20, b)
                }
                default {
                    mstore(0x00, b)
                    mstore(0x20, a)
                }
                mstore(add(nodes, shl(5, i)), keccak256(0x00, 0x40))
            }
            root := mload(nodes)
        }
    }

    /// @dev Write `nonce` as the `k`-th 8-byte entry of `packed`, which has room for it and 24
    /// bytes more: the 32-byte store spills into the next entries, written after it, or into that
    /// room, cut off by {_shrink}.
    function _pack(bytes memory packed, uint256 k, uint64 nonce) private pure {
        assembly ("memory-safe") {
            mstore(add(add(packed, 0x20), shl(3, k)), shl(192, nonce))
        }
    }

    /// @dev Cut a byte array down to its first `length` bytes (length <= its length).
    function _shrink(bytes memory values, uint256 length) private pure {
        assembly ("memory-safe") {
            mstore(values, length)
        }
    }
}
