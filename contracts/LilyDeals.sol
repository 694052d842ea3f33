// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Escrow} from "./Escrow.sol";
import {Signatures} from "./lib/Signatures.sol";
import {Deal, DealId, DealRecord, DealState} from "./DealTypes.sol";
import {Mediation} from "./policies/Mediation.sol";
import {TrustPolicy} from "./policies/TrustPolicy.sol";
import {OptimisticPolicy} from "./policies/OptimisticPolicy.sol";
import {ReplicatePolicy} from "./policies/ReplicatePolicy.sol";
import {AuditPolicy} from "./policies/AuditPolicy.sol";

/// @title LilyDeals
/// @notice Deals between a job creator and a resource provider, opened with both parties'
/// EIP-712 signatures and settled by the deal's verification policy (trust, optimistic,
/// replicate(k), audit(p)). Payment, the job creator's dispute reserve and the provider's
/// collateral are locked from the parties' escrow balances (see {Escrow}).
/// @dev Per deal the contract stores one slot (state, commit time and block, draw block,
/// challenge time, mediator draw seed) and, once a result is committed under a policy other than trust, its digest.
/// The terms are re-supplied as calldata by every call and re-hashed, so they cannot be altered
/// after signing. There is no owner or admin: funds move only by the rules below. Each policy's
/// rules live in its own library under policies/; the section "Verification policies" at the
/// end is the only place that dispatches on the policy id.
contract LilyDeals is Escrow, EIP712 {
    /// @notice The EIP-712 type hash of {Deal}.
    bytes32 public constant DEAL_TYPEHASH = keccak256(
        "Deal(address jobCreator,address provider,bytes32 jobOffer,bytes32 resourceOffer,uint256 price,uint256 collateral,uint64 openBy,uint64 deadline,uint8 policy,uint64 policyParam,uint256 mediationFee,bytes32 mediators,bytes32 replicas,address moduleCreator,uint16 royaltyBps)"
    );
    /// @notice A royalty is at most the whole price.
    uint16 public constant MAX_ROYALTY_BPS = 10_000;
    /// @notice Blocks between an audit(p) commit and the block whose hash draws the audit.
    uint256 public constant AUDIT_DELAY = AuditPolicy.AUDIT_DELAY;
    /// @notice Seconds the drawn mediator has to rule once mediation is requested; after that
    /// anyone may unwind the deal. Fixed at deployment: no key can change it.
    uint64 public immutable MEDIATION_TIMEOUT;
    /// @notice Seconds each drawn mediator has the turn to rule alone; then the turn passes to
    /// the next eligible mediator of the set. Fixed at deployment; at most MEDIATION_TIMEOUT.
    uint64 public immutable MEDIATOR_TURN;

    /// @notice Gas a contract wallet's ERC-1271 check may use inside a batch. Without a cap, one
    /// party's wallet could burn the whole batch's gas and revert every other item; with it, an
    /// item whose wallet needs more is skipped (it can still be opened alone with {openDeal}).
    uint256 public constant BATCH_ERC1271_GAS = 100_000;

    mapping(DealId => DealRecord) private _records;
    mapping(DealId => bytes32) private _digests;

    error DealsZeroMediationTimeout();
    /// @dev A mediator's turn must be positive and no longer than the whole mediation timeout.
    error DealsMediatorTurnOutOfRange(uint64 turn, uint64 mediationTimeout);
    error DealsUnsupportedPolicy(uint8 policy);
    error DealsInvalidRoyalty(uint16 royaltyBps, address moduleCreator);
    error DealsDeadlinePassed(DealId dealId, uint64 deadline, uint256 timestamp);
    /// @dev The time the parties gave for opening (`openBy`) has passed: the deal can never open.
    error DealsOpenByPassed(DealId dealId, uint64 openBy, uint256 timestamp);
    /// @dev The deal's deadline does not come after its `openBy`: it would leave the provider no time.
    error DealsDeadlineNotAfterOpenBy(DealId dealId, uint64 openBy, uint64 deadline);
    /// @dev `given` signatures of one party were given for a group of `k`.
    error DealsSignatureCountMismatch(uint256 k, uint256 given);
    /// @dev A deal under a single-deal policy names a replica group.
    error DealsUnexpectedReplicas(DealId dealId);
    /// @dev The mediator draw of this deal is already fixed.
    error DealsDrawAlreadyLocked(DealId dealId);
    error DealsDeadlineNotPassed(DealId dealId, uint64 deadline, uint256 timestamp);
    error DealsAlreadyOpened(DealId dealId);
    error DealsNotOpen(DealId dealId, DealState state);
    error DealsNotCommitted(DealId dealId, DealState state);
    error DealsNotChallenged(DealId dealId, DealState state);
    error DealsInvalidSignature(address signer);
    error DealsNotProvider(DealId dealId, address caller);
    error DealsNotJobCreator(DealId dealId, address caller);
    /// @dev `operation` (a function selector) does not apply to deals under `policy`.
    error DealsWrongPolicy(DealId dealId, uint8 policy, bytes4 operation);
    /// @dev The mediator's time to rule ended at `deadline`; the deal can only be unwound.
    error DealsMediationTimedOut(DealId dealId, uint256 deadline, uint256 timestamp);
    /// @dev The mediation (or an ungrouped replica) cannot be unwound before `deadline`.
    error DealsMediationNotTimedOut(DealId dealId, uint256 deadline, uint256 timestamp);
    /// @dev A replica in `state` cannot take part in this group operation.
    error DealsReplicaNotReady(DealId dealId, DealState state);
    /// @dev Every replica of the group timed out: there is no result to tally.
    error DealsNoCommittedReplica(bytes32 jobOffer);
    /// @dev `rulings` verdicts were given for `deals` replicas.
    error DealsRulingCountMismatch(uint256 deals, uint256 rulings);
    /// @dev A batch of `items` deals came with `given` entries of another per-item array.
    error DealsBatchLengthMismatch(uint256 items, uint256 given);
    /// @dev A replica went to mediation at `drawBlock`, not with the rest of its group (`expected`).
    error DealsReplicaDrawMismatch(DealId dealId, uint256 drawBlock, uint256 expected);

    event DealOpened(
        DealId indexed dealId,
        address indexed jobCreator,
        address indexed provider,
        uint256 price,
        uint256 collateral,
        uint64 deadline
    );
    event ResultCommitted(DealId indexed dealId, address indexed provider, bytes32 resultDigest);
    /// @notice The provider was paid `paid` (the price less any royalty) and got its collateral back.
    event DealSettled(DealId indexed dealId, uint256 paid, uint256 collateralReturned);
    /// @notice The module creator was credited its royalty out of the price.
    event RoyaltyPaid(DealId indexed dealId, address indexed moduleCreator, uint256 amount);
    /// @notice The provider missed its deadline: the job creator got back `refunded` (price and
    /// reserve) and the provider's whole collateral (`slashed`).
    event DealTimedOut(DealId indexed dealId, uint256 refunded, uint256 slashed);
    /// @notice The job creator challenged an optimistic result.
    event DealChallenged(DealId indexed dealId, address indexed challenger, bytes32 reason);
    /// @notice An audit(p) draw was made from block `drawBlock`'s hash: `draw < p` means audited.
    event AuditDrawn(DealId indexed dealId, uint256 drawBlock, uint256 draw, bool audited);
    /// @notice Item `index` of a batch (deal `dealId`) was left as it was, for `reason`: the
    /// selector of the custom error the single-deal function would have reverted with (e.g.
    /// `DealsAlreadyOpened`, `EscrowInsufficientBalance`, `DealsChallengeWindowOpen`). The rest
    /// of the batch went ahead.
    event DealSkipped(DealId indexed dealId, uint256 index, bytes4 reason);
    /// @notice A replica group was tallied; without a majority its committed replicas go to mediation.
    event ReplicasTallied(
        bytes32 indexed jobOffer, address indexed jobCreator, bool majority, bytes32 digest, uint256 votes
    );
    /// @notice The deal awaits a mediator, drawn from the hash of block `drawBlock + 1`, who
    /// must rule before `rulingDeadline` (unix seconds).
    event MediationRequested(DealId indexed dealId, uint256 drawBlock, uint256 rulingDeadline);
    /// @notice The mediator draw of a challenged deal was fixed to `seed` (see {lockDraw}).
    event MediatorDrawLocked(DealId indexed dealId, uint56 seed);
    /// @notice The drawn mediator ruled, judging by comparator `comparator` (0 exact, 1 tolerance, 2 similarity).
    event Ruled(DealId indexed dealId, address indexed mediator, bool providerCorrect, uint8 comparator);
    /// @notice The mediator was credited its fee by `payer`: the job creator when the provider
    /// was right (or nobody in a replica group was wrong), else the provider, out of its collateral.
    event MediationFeePaid(DealId indexed dealId, address indexed mediator, address indexed payer, uint256 fee);
    /// @notice The provider was proven wrong: the job creator got back `refunded` (price and
    /// reserve) and the collateral `slashed`, less the `mediatorFee` paid out of it.
    event DealSlashed(DealId indexed dealId, uint256 refunded, uint256 slashed, uint256 mediatorFee);
    /// @notice Nobody ruled in time: the job creator got back `refunded` (price and reserve)
    /// and the provider its collateral.
    event MediationTimedOut(DealId indexed dealId, uint256 refunded, uint256 collateralReturned);

    /// @param token_ The LILY token.
    /// @param mediationTimeout Seconds mediators have to rule (see {MEDIATION_TIMEOUT}).
    /// @param mediatorTurn Seconds each drawn mediator has the turn (see {MEDIATOR_TURN}).
    constructor(IERC20 token_, uint64 mediationTimeout, uint64 mediatorTurn) Escrow(token_) EIP712("Lily", "1") {
        if (mediationTimeout == 0) revert DealsZeroMediationTimeout();
        if (mediatorTurn == 0 || mediatorTurn > mediationTimeout) revert DealsMediatorTurnOutOfRange(mediatorTurn, mediationTimeout);
        MEDIATION_TIMEOUT = mediationTimeout;
        MEDIATOR_TURN = mediatorTurn;
    }

    // ---- The deal lifecycle -----------------------------------------------------------------

    /// @notice Open a deal signed by both parties, at or before its `openBy`, locking the price
    /// (plus, under a policy that can reach a mediator, one mediation fee as a dispute reserve)
    /// from the job creator's free balance and the collateral from the provider's. Anyone may
    /// submit it: the signatures are the authority, and `openBy` bounds when, so a provider that
    /// follows its signed deal until then is never surprised by a late opening. Smart-contract
    /// wallets sign through ERC-1271. Replica groups open whole, with {openReplicas}.
    /// @param deal The terms both parties signed.
    /// @param jobCreatorSig The job creator's EIP-712 signature over `deal`.
    /// @param providerSig The provider's EIP-712 signature over `deal`.
    /// @return dealId The deal's id, {hashDeal} of `deal`.
    function openDeal(Deal calldata deal, bytes calldata jobCreatorSig, bytes calldata providerSig)
        external
        returns (DealId dealId)
    {
        dealId = hashDeal(deal);
        // REJECT: a replica opens only with its whole group (else a job creator could open one
        // replica, take its committed result, and leave the group untallied).
        if (_isGroupPolicy(deal.policy)) revert DealsWrongPolicy(dealId, deal.policy, msg.sig);
        // REJECT: a deal under a single-deal policy has no group.
        if (deal.replicas != bytes32(0)) revert DealsUnexpectedReplicas(dealId);
        _open(dealId, deal, jobCreatorSig, providerSig);
    }

    /// @notice Open a whole `replicate(k)` group at once: its k deals, each signed by the job
    /// creator and its provider, all naming the same group (the hash of the k providers, sorted),
    /// given in ascending provider order. Either every replica opens or none does. Anyone may
    /// submit it.
    /// @param deals The group's k deals, in ascending provider order.
    /// @param jobCreatorSigs The job creator's signature over each deal, in the same order.
    /// @param providerSigs Each deal's provider's signature over it, in the same order.
    /// @return ids The deals' ids.
    function openReplicas(Deal[] calldata deals, bytes[] calldata jobCreatorSigs, bytes[] calldata providerSigs)
        external
        returns (DealId[] memory ids)
    {
        uint256 k = ReplicatePolicy.checkGroup(deals);
        // REJECT: one signature of each party per replica.
        if (jobCreatorSigs.length != k) revert DealsSignatureCountMismatch(k, jobCreatorSigs.length);
        if (providerSigs.length != k) revert DealsSignatureCountMismatch(k, providerSigs.length);
        ids = new DealId[](k);
        for (uint256 i; i < k; ++i) {
            ids[i] = hashDeal(deals[i]);
            _open(ids[i], deals[i], jobCreatorSigs[i], providerSigs[i]);
        }
    }

    /// @notice Commit the result of an open deal. Only the deal's provider may call it, at or
    /// before the deadline. Under `trust` the deal settles at once (the provider is paid, less
    /// any royalty, and its collateral returned); under every other policy the digest is stored
    /// and the deal waits in Committed for its policy (window, audit draw or replica tally).
    /// @param deal The deal's terms, as opened.
    /// @param resultDigest The hash of the result record the provider stands behind.
    function commitResult(Deal calldata deal, bytes32 resultDigest) external {
        DealId dealId = hashDeal(deal);
        // REJECT: only the provider named in the deal commits its result (never tx.origin).
        if (msg.sender != deal.provider) revert DealsNotProvider(dealId, msg.sender);
        DealState state = _records[dealId].state;
        // REJECT: a result is accepted once, for a deal that is open.
        if (state != DealState.Open) revert DealsNotOpen(dealId, state);
        // REJECT: a result after the deadline is too late; the deal can only time out.
        if (block.timestamp > deal.deadline) revert DealsDeadlinePassed(dealId, deal.deadline, block.timestamp);

        _commit(dealId, deal, resultDigest);
    }

    /// @notice Challenge a committed result, sending the deal to a mediator drawn from the
    /// hash of the next block. Only the deal's job creator may, only under `optimistic`, and
    /// only before the challenge window closes. If the mediator finds the provider right, the
    /// job creator's reserved mediation fee pays the mediator.
    /// @param deal The deal's terms, as opened.
    /// @param reason A short reason or a digest of one, recorded in the event.
    function challenge(Deal calldata deal, bytes32 reason) external {
        DealId dealId = hashDeal(deal);
        // REJECT: only the job creator may dispute the result it paid for.
        if (msg.sender != deal.jobCreator) revert DealsNotJobCreator(dealId, msg.sender);
        DealRecord memory record = _records[dealId];
        // REJECT: only a committed, not yet final, result can be challenged.
        if (record.state != DealState.Committed) revert DealsNotCommitted(dealId, record.state);
        _checkChallenge(dealId, deal, record);

        _requestMediation(dealId, block.number);
        emit DealChallenged(dealId, msg.sender, reason);
    }

    /// @notice Move a committed deal on once its policy allows. Anyone may call it.
    /// `optimistic`: after the challenge window with no challenge, settle (provider paid less
    /// royalty, collateral back, the job creator's reserve back). `audit`: once block
    /// `commitBlock + AUDIT_DELAY` is mined, draw; if audited the deal goes to a mediator,
    /// otherwise it settles.
    /// @param deal The deal's terms, as opened.
    function finalize(Deal calldata deal) external {
        DealId dealId = hashDeal(deal);
        DealRecord memory record = _records[dealId];
        // REJECT: only a committed deal awaits finalization.
        if (record.state != DealState.Committed) revert DealsNotCommitted(dealId, record.state);
        _finalize(dealId, deal, record);
    }

    /// @notice Tally a whole `replicate(k)` group: exactly k deals of one job offer and job
    /// creator with distinct providers, each Committed or TimedOut. A digest committed by more
    /// than k/2 replicas wins: its providers are paid (less royalty) and get their collateral
    /// back; the other committed replicas are slashed (price, reserve and collateral to the job
    /// creator). Without a majority, every committed replica goes to one mediator, drawn for
    /// the group. Anyone may call it.
    /// @param deals The group's k deals, in any order.
    function settleReplicas(Deal[] calldata deals) external {
        uint256 k = ReplicatePolicy.checkGroup(deals);
        DealId[] memory ids = new DealId[](k);
        bytes32[] memory digests = new bytes32[](k);
        bool[] memory committed = new bool[](k);
        bool anyCommitted;
        for (uint256 i; i < k; ++i) {
            ids[i] = hashDeal(deals[i]);
            DealState state = _records[ids[i]].state;
            if (state == DealState.Committed) {
                committed[i] = anyCommitted = true;
                digests[i] = _digests[ids[i]];
            } else if (state != DealState.TimedOut) {
                // REJECT: a replica still open (or already resolved) cannot be tallied.
                revert DealsReplicaNotReady(ids[i], state);
            }
        }
        // REJECT: with every replica timed out there is nothing left to settle.
        if (!anyCommitted) revert DealsNoCommittedReplica(deals[0].jobOffer);

        (bool majority, bytes32 winner, uint256 votes) = ReplicatePolicy.tally(digests, committed);
        for (uint256 i; i < k; ++i) {
            if (!committed[i]) continue;
            if (!majority) _requestMediation(ids[i], block.number);
            else if (digests[i] == winner) _settle(ids[i], deals[i], _terms(deals[i]), deals[i].jobCreator);
            else _slash(ids[i], deals[i], address(0), 0);
        }
        emit ReplicasTallied(deals[0].jobOffer, deals[0].jobCreator, majority, winner, votes);
    }

    // ---- Batches ----------------------------------------------------------------------------
    // Many deals per transaction, each item checked exactly as its single-deal function checks
    // it. What an item's signed terms alone decide (its policy's parameters, the royalty, the
    // deadline against openBy, a replicate deal or a replica group in a single-deal batch) reverts
    // the whole batch with the single path's error: nobody can change it between the submitter's
    // gas estimate and inclusion, so the estimate refuses it and nothing is spent. Everything
    // that depends on the chain's state, its clock or another contract (already opened, already
    // settled, openBy or deadline passed, a window still open, a bad or withdrawn signature, an
    // escrow balance another transaction emptied) skips that item with {DealSkipped} and the
    // rest go ahead, so no party can grief a batch by front-running one item of it. An item
    // repeated in a batch, or across batches, meets its own state change and is skipped.

    /// @notice Open many deals, each signed by both parties, as {openDeal} would one by one.
    /// Anyone may submit; a party that submits the batch itself needs no signature of its own
    /// (its transaction is its consent), so its signature may be empty.
    /// @param deals The deals' terms.
    /// @param jobCreatorSigs Each deal's job creator's signature, in the same order.
    /// @param providerSigs Each deal's provider's signature, in the same order.
    /// @return opened How many of the deals opened; the others emitted {DealSkipped}.
    function openDeals(Deal[] calldata deals, bytes[] calldata jobCreatorSigs, bytes[] calldata providerSigs)
        external
        returns (uint256 opened)
    {
        uint256 n = deals.length;
        // REJECT: one signature of each party per deal.
        if (jobCreatorSigs.length != n) revert DealsBatchLengthMismatch(n, jobCreatorSigs.length);
        if (providerSigs.length != n) revert DealsBatchLengthMismatch(n, providerSigs.length);
        for (uint256 i; i < n; ++i) {
            Deal calldata deal = deals[i];
            DealId dealId = hashDeal(deal);
            // REJECT (whole batch): as openDeal, replicas open only as a group; and the static terms.
            if (_isGroupPolicy(deal.policy)) revert DealsWrongPolicy(dealId, deal.policy, msg.sig);
            if (deal.replicas != bytes32(0)) revert DealsUnexpectedReplicas(dealId);
            uint256 reserve = _checkTerms(dealId, deal);
            bytes4 reason = _openable(dealId, deal, reserve, jobCreatorSigs[i], providerSigs[i]);
            if (reason != 0) {
                emit DealSkipped(dealId, i, reason);
                continue;
            }
            _records[dealId].state = DealState.Open;
            _lock(deal.jobCreator, deal.price + reserve);
            _lock(deal.provider, deal.collateral);
            emit DealOpened(dealId, deal.jobCreator, deal.provider, deal.price, deal.collateral, deal.deadline);
            unchecked {
                ++opened;
            }
        }
    }

    /// @notice Commit many results, as {commitResult} would one by one: only the deals whose
    /// provider is the caller, open, before their deadlines. Under `trust` each settles at once.
    /// @param deals The deals' terms, as opened.
    /// @param resultDigests Each deal's result digest, in the same order.
    /// @return committed How many results were accepted; the others emitted {DealSkipped}.
    function commitResults(Deal[] calldata deals, bytes32[] calldata resultDigests) external returns (uint256 committed) {
        uint256 n = deals.length;
        // REJECT: one digest per deal.
        if (resultDigests.length != n) revert DealsBatchLengthMismatch(n, resultDigests.length);
        for (uint256 i; i < n; ++i) {
            Deal calldata deal = deals[i];
            DealId dealId = hashDeal(deal);
            DealState state = _records[dealId].state;
            bytes4 reason;
            // As commitResult: only the provider, only an open deal, only by the deadline.
            if (msg.sender != deal.provider) reason = DealsNotProvider.selector;
            else if (state != DealState.Open) reason = DealsNotOpen.selector;
            else if (block.timestamp > deal.deadline) reason = DealsDeadlinePassed.selector;
            if (reason != 0) {
                emit DealSkipped(dealId, i, reason);
                continue;
            }
            _commit(dealId, deal, resultDigests[i]);
            unchecked {
                ++committed;
            }
        }
    }

    /// @notice Move many committed deals on, as {finalize} would one by one. Anyone may call
    /// it. Deals not committed, under a policy without finalization, whose optimistic window is
    /// still open or whose audit draw block is not mined yet are skipped.
    /// @param deals The deals' terms, as opened.
    /// @return finalized How many deals were settled or sent to a mediator by an audit.
    function finalizeDeals(Deal[] calldata deals) external returns (uint256 finalized) {
        for (uint256 i; i < deals.length; ++i) {
            Deal calldata deal = deals[i];
            DealId dealId = hashDeal(deal);
            DealRecord memory record = _records[dealId];
            bytes4 reason = _finalizable(deal, record);
            if (reason != 0) {
                emit DealSkipped(dealId, i, reason);
                continue;
            }
            _finalize(dealId, deal, record);
            unchecked {
                ++finalized;
            }
        }
    }

    // ---- Mediation --------------------------------------------------------------------------

    /// @notice The mediator whose turn it is to rule on a challenged deal (not a replica: see
    /// {groupMediatorOf}). Of the set's mediators that are not parties to the deal, the one at
    /// `(seed + turn) % eligible`, where `seed` is fixed by {lockDraw} (before that, it comes
    /// from the hash of block `drawBlock + 1`, and changes every 256 blocks once that hash ages
    /// out) and `turn = (now - challengedAt) / MEDIATOR_TURN`.
    /// @param deal The deal's terms, as opened.
    /// @param mediators The mediator set both parties accepted, sorted ascending; must hash to `deal.mediators`.
    function mediatorOf(Deal calldata deal, address[] calldata mediators) external view returns (address) {
        DealId dealId = hashDeal(deal);
        if (_isGroupPolicy(deal.policy)) revert DealsWrongPolicy(dealId, deal.policy, msg.sig);
        DealRecord memory record = _records[dealId];
        if (record.state != DealState.Challenged) revert DealsNotChallenged(dealId, record.state);
        bytes32 key = DealId.unwrap(dealId);
        Mediation.checkSet(key, deal.mediators, mediators);
        (uint256 seed, uint256 turn) = _draw(key, record);
        return Mediation.drawn(key, seed, turn, mediators, _parties(deal));
    }

    /// @notice The mediator whose turn it is to rule on a `replicate(k)` group without a
    /// majority: drawn as in {mediatorOf}, from the record of the group's first disputed replica
    /// (in provider order), never one of the group's providers or its job creator.
    /// @param deals The group's k deals, in ascending provider order.
    /// @param mediators The mediator set the group's deals were signed with.
    function groupMediatorOf(Deal[] calldata deals, address[] calldata mediators) external view returns (address) {
        ReplicatePolicy.checkGroup(deals);
        bytes32 key = deals[0].jobOffer;
        Mediation.checkSet(key, deals[0].mediators, mediators);
        (, DealRecord memory group) = _disputedReplica(deals);
        (uint256 seed, uint256 turn) = _draw(key, group);
        return Mediation.drawn(key, seed, turn, mediators, ReplicatePolicy.parties(deals));
    }

    /// @notice Fix the mediator draw of a challenged deal, so that it outlives the 256 blocks
    /// whose hashes the chain keeps: from then on only time moves the turn on. The drawn
    /// mediator calls it before it re-runs the job; anyone may. For a replica group, lock the
    /// group's first disputed replica (in provider order).
    /// @param deal The deal's terms, as opened.
    function lockDraw(Deal calldata deal) external {
        DealId dealId = hashDeal(deal);
        DealRecord storage record = _records[dealId];
        // REJECT: only a deal awaiting a mediator has a draw to fix.
        if (record.state != DealState.Challenged) revert DealsNotChallenged(dealId, record.state);
        // REJECT: a draw is fixed once.
        if (record.seed != 0) revert DealsDrawAlreadyLocked(dealId);
        uint56 seed = Mediation.seedOf(_mediationKey(dealId, deal), record.drawBlock, 0);
        record.seed = seed;
        emit MediatorDrawLocked(dealId, seed);
    }

    /// @notice Rule on a challenged or audited deal. Only the mediator whose turn it is may,
    /// before the mediation timeout, and never a party to the deal. Provider right: it is paid
    /// (less royalty) and gets its collateral back; the job creator's reserved fee pays the
    /// mediator. Provider wrong: it is slashed; the mediator's fee comes out of its collateral,
    /// and the job creator gets back the price, its reserve and the rest of the collateral.
    /// @param deal The deal's terms, as opened.
    /// @param mediators The mediator set both parties accepted; must hash to `deal.mediators`.
    /// @param providerCorrect Whether the provider's committed result matches the re-run.
    /// @param comparator How the outputs were compared: 0 exact, 1 tolerance, 2 similarity.
    function rule(Deal calldata deal, address[] calldata mediators, bool providerCorrect, uint8 comparator) external {
        DealId dealId = hashDeal(deal);
        DealRecord memory record = _records[dealId];
        // REJECT: only a deal awaiting a mediator can be ruled on.
        if (record.state != DealState.Challenged) revert DealsNotChallenged(dealId, record.state);
        // REJECT: replicas are ruled on as a group (ruleReplicas).
        if (_isGroupPolicy(deal.policy)) revert DealsWrongPolicy(dealId, deal.policy, msg.sig);
        _checkRulingInTime(dealId, record);
        bytes32 key = DealId.unwrap(dealId);
        Mediation.checkSet(key, deal.mediators, mediators);
        (uint256 seed, uint256 turn) = _draw(key, record);
        Mediation.checkDrawn(key, seed, turn, mediators, _parties(deal), msg.sender);

        if (providerCorrect) _settle(dealId, deal, _terms(deal), msg.sender);
        else _slash(dealId, deal, msg.sender, deal.mediationFee);
        emit Ruled(dealId, msg.sender, providerCorrect, comparator);
    }

    /// @notice Rule on a `replicate(k)` group that had no majority. Only the mediator whose turn
    /// it is for the group may (see {groupMediatorOf}), before the mediation timeout. Each
    /// replica that went to mediation is paid (`correct[i]`) or slashed. The mediation fee is
    /// paid once per group: out of the first slashed replica's collateral, or, when none was
    /// wrong, out of the job creator's reserve on the first replica. `correct[i]` is ignored for
    /// replicas that had timed out.
    /// @param deals The group's k deals, in ascending provider order (the order of `correct`).
    /// @param mediators The mediator set the group's deals were signed with.
    /// @param correct Per deal, whether its committed result matches the re-run.
    /// @param comparator How the outputs were compared: 0 exact, 1 tolerance, 2 similarity.
    function ruleReplicas(
        Deal[] calldata deals,
        address[] calldata mediators,
        bool[] calldata correct,
        uint8 comparator
    ) external {
        uint256 k = ReplicatePolicy.checkGroup(deals);
        if (correct.length != k) revert DealsRulingCountMismatch(k, correct.length);
        bytes32 key = deals[0].jobOffer;
        Mediation.checkSet(key, deals[0].mediators, mediators);

        DealId[] memory ids = new DealId[](k);
        bool[] memory disputed = new bool[](k);
        (DealId groupId, DealRecord memory group) = _disputedReplica(deals);
        uint256 payer = type(uint256).max; // the replica whose side pays the mediator
        for (uint256 i; i < k; ++i) {
            ids[i] = hashDeal(deals[i]);
            DealRecord memory record = _records[ids[i]];
            if (record.state == DealState.Challenged) {
                // REJECT: every disputed replica must come from the same tally.
                if (record.drawBlock != group.drawBlock) revert DealsReplicaDrawMismatch(ids[i], record.drawBlock, group.drawBlock);
                disputed[i] = true;
                if (!correct[i] && payer == type(uint256).max) payer = i;
            } else if (record.state != DealState.TimedOut) {
                // REJECT: only a group whose tally found no majority is ruled on.
                revert DealsReplicaNotReady(ids[i], record.state);
            }
        }
        _checkRulingInTime(groupId, group);
        (uint256 seed, uint256 turn) = _draw(key, group);
        Mediation.checkDrawn(key, seed, turn, mediators, ReplicatePolicy.parties(deals), msg.sender);

        bool anyWrong = payer != type(uint256).max;
        for (uint256 i; i < k; ++i) {
            if (!disputed[i]) continue;
            if (correct[i]) {
                // With nobody wrong, the first disputed replica's reserve pays the mediator.
                bool pays = !anyWrong && (payer == type(uint256).max);
                if (pays) payer = i;
                _settle(ids[i], deals[i], _terms(deals[i]), pays ? msg.sender : deals[i].jobCreator);
            } else {
                _slash(ids[i], deals[i], msg.sender, i == payer ? deals[i].mediationFee : 0);
            }
            emit Ruled(ids[i], msg.sender, correct[i], comparator);
        }
    }

    /// @notice Unwind a deal nobody ruled on in time: the job creator gets back the price and
    /// its reserve, the provider its collateral; nobody wins. Applies to a Challenged deal
    /// `MEDIATION_TIMEOUT` seconds after mediation was requested. (A replica group always forms
    /// whole, so a committed replica is settled by its group's tally, never unwound.) Anyone may
    /// call it.
    /// @param deal The deal's terms, as opened.
    function claimMediationTimeout(Deal calldata deal) external {
        DealId dealId = hashDeal(deal);
        DealRecord memory record = _records[dealId];
        // REJECT: only a deal waiting on a mediator unwinds.
        if (record.state != DealState.Challenged) revert DealsNotChallenged(dealId, record.state);
        uint256 deadline = uint256(record.challengedAt) + MEDIATION_TIMEOUT;
        // REJECT: the mediators keep their full time.
        if (block.timestamp < deadline) revert DealsMediationNotTimedOut(dealId, deadline, block.timestamp);

        _records[dealId].state = DealState.TimedOut;
        uint256 refunded = deal.price + _terms(deal);
        // Both amounts were locked when the deal opened, so neither overflows.
        _credit(deal.jobCreator, refunded);
        _credit(deal.provider, deal.collateral);
        emit MediationTimedOut(dealId, refunded, deal.collateral);
    }

    /// @notice Close an open deal whose deadline passed without a result: the job creator is
    /// refunded the price and its reserve and receives the provider's collateral. Anyone may call it.
    /// @param deal The deal's terms, as opened.
    function claimTimeout(Deal calldata deal) external {
        DealId dealId = hashDeal(deal);
        DealState state = _records[dealId].state;
        // REJECT: only an open deal (no result committed) can time out.
        if (state != DealState.Open) revert DealsNotOpen(dealId, state);
        // REJECT: the provider keeps until the end of the deadline second to deliver.
        if (block.timestamp <= deal.deadline) revert DealsDeadlineNotPassed(dealId, deal.deadline, block.timestamp);

        _records[dealId].state = DealState.TimedOut;
        uint256 refunded = deal.price + _terms(deal);
        // All three amounts were locked when the deal opened, so their sum cannot overflow.
        _credit(deal.jobCreator, refunded + deal.collateral);
        emit DealTimedOut(dealId, refunded, deal.collateral);
    }

    // ---- Views ------------------------------------------------------------------------------

    /// @notice The id of a deal: its EIP-712 digest under this contract's domain, which is
    /// also what both parties sign.
    /// @param deal The deal's terms.
    function hashDeal(Deal calldata deal) public view returns (DealId) {
        return DealId.wrap(_hashTypedDataV4(keccak256(abi.encode(DEAL_TYPEHASH, deal))));
    }

    /// @notice The state of a deal: 0 None, 1 Open, 2 Committed, 3 Challenged, 4 Settled,
    /// 5 TimedOut, 6 Slashed.
    /// @param dealId The deal's id, from {hashDeal}.
    function dealState(DealId dealId) external view returns (DealState) {
        return _records[dealId].state;
    }

    /// @notice Everything stored about a deal: its state, the committed result digest (zero
    /// under trust, which stores none), when and in which block it was committed, the draw
    /// block of its mediation (the mediator is drawn from block `drawBlock + 1`) and when
    /// mediation was requested, and the mediator draw's seed once locked. Zero where not applicable.
    /// @param dealId The deal's id, from {hashDeal}.
    function dealRecord(DealId dealId)
        external
        view
        returns (
            DealState state,
            bytes32 resultDigest,
            uint64 committedAt,
            uint64 commitBlock,
            uint64 drawBlock,
            uint64 challengedAt,
            uint64 seed
        )
    {
        DealRecord memory r = _records[dealId];
        return (r.state, _digests[dealId], r.committedAt, r.commitBlock, r.drawBlock, r.challengedAt, r.seed);
    }

    // ---- Money: paying out a settled or slashed deal, and entering mediation ---------------
    // (the two timeouts above unwind their deals directly).

    /// @dev Pay the provider the price less royalty, return its collateral, credit the royalty
    /// to the module creator, and send `reserve` (the job creator's dispute reserve, zero under
    /// trust) to `reserveTo`: the job creator itself, or the mediator when the job creator's
    /// side pays the fee.
    function _settle(DealId dealId, Deal calldata deal, uint256 reserve, address reserveTo) private {
        _records[dealId].state = DealState.Settled;
        uint256 paid = deal.price;
        if (deal.royaltyBps != 0) {
            uint256 royalty = Math.mulDiv(paid, deal.royaltyBps, MAX_ROYALTY_BPS);
            // unchecked: royalty <= price because royaltyBps <= 10 000, checked at open.
            unchecked {
                paid -= royalty;
            }
            _credit(deal.moduleCreator, royalty);
            emit RoyaltyPaid(dealId, deal.moduleCreator, royalty);
        }
        // Price and collateral were both locked at open, so their sum cannot overflow.
        _credit(deal.provider, paid + deal.collateral);
        if (reserve != 0) {
            _credit(reserveTo, reserve);
            if (reserveTo != deal.jobCreator) emit MediationFeePaid(dealId, reserveTo, deal.jobCreator, reserve);
        }
        emit DealSettled(dealId, paid, deal.collateral);
    }

    /// @dev Slash a provider proven wrong: the job creator gets the price, its reserve and the
    /// collateral, less `fee` which goes to `mediator`. `fee <= collateral` holds because every
    /// policy that can reach a mediator checks `collateral >= mediationFee` at open.
    function _slash(DealId dealId, Deal calldata deal, address mediator, uint256 fee) private {
        _records[dealId].state = DealState.Slashed;
        uint256 refunded = deal.price + _terms(deal);
        _credit(deal.jobCreator, refunded + deal.collateral - fee);
        if (fee != 0) _credit(mediator, fee);
        if (fee != 0) emit MediationFeePaid(dealId, mediator, deal.provider, fee);
        emit DealSlashed(dealId, refunded, deal.collateral, fee);
    }

    /// @dev Send a deal to mediation: the mediator will be drawn from block `drawBlock + 1`.
    function _requestMediation(DealId dealId, uint256 drawBlock) private {
        DealRecord storage record = _records[dealId];
        record.state = DealState.Challenged;
        record.drawBlock = uint48(drawBlock);
        record.challengedAt = uint48(block.timestamp);
        emit MediationRequested(dealId, drawBlock, block.timestamp + MEDIATION_TIMEOUT);
    }

    /// @dev Accept a result for an open deal whose provider called in time: settle it at once
    /// (trust), or store the digest and wait for the policy.
    function _commit(DealId dealId, Deal calldata deal, bytes32 resultDigest) private {
        if (_settlesOnCommit(deal.policy)) {
            // The result event precedes the settlement it causes, in the same transaction.
            emit ResultCommitted(dealId, deal.provider, resultDigest);
            _settle(dealId, deal, 0, deal.jobCreator);
        } else {
            _records[dealId] = DealRecord({
                state: DealState.Committed,
                committedAt: uint48(block.timestamp),
                commitBlock: uint48(block.number),
                drawBlock: 0,
                challengedAt: 0,
                seed: 0
            });
            _digests[dealId] = resultDigest;
            emit ResultCommitted(dealId, deal.provider, resultDigest);
        }
    }

    /// @dev Check a deal both parties signed and open it: lock the price and reserve from the job
    /// creator, the collateral from the provider.
    function _open(DealId dealId, Deal calldata deal, bytes calldata jobCreatorSig, bytes calldata providerSig) private {
        uint256 reserve = _checkTerms(dealId, deal);
        // REJECT: a deal opens only in the time its parties gave for opening, so a provider that
        // follows its signed deals until then is never surprised by a late opening.
        if (block.timestamp > deal.openBy) revert DealsOpenByPassed(dealId, deal.openBy, block.timestamp);
        // REJECT: a deal opens at most once, whatever became of it.
        if (_records[dealId].state != DealState.None) revert DealsAlreadyOpened(dealId);
        // REJECT: both parties must have signed exactly these terms on this chain and contract.
        bytes32 digest = DealId.unwrap(dealId);
        if (!Signatures.isValid(deal.jobCreator, digest, jobCreatorSig)) revert DealsInvalidSignature(deal.jobCreator);
        if (!Signatures.isValid(deal.provider, digest, providerSig)) revert DealsInvalidSignature(deal.provider);

        _records[dealId].state = DealState.Open;
        _lock(deal.jobCreator, deal.price + reserve);
        _lock(deal.provider, deal.collateral);
        emit DealOpened(dealId, deal.jobCreator, deal.provider, deal.price, deal.collateral, deal.deadline);
    }

    /// @dev The checks at open that the signed terms alone decide (the same on every chain state
    /// and at every time); reverts. Returns what the job creator locks beyond the price.
    function _checkTerms(DealId dealId, Deal calldata deal) private pure returns (uint256 reserve) {
        // REJECT: only policies this contract can settle, with parameters that make cheating unprofitable.
        reserve = _terms(deal);
        // REJECT: a royalty above the price, or one paid to nobody.
        if (deal.royaltyBps > MAX_ROYALTY_BPS || (deal.royaltyBps != 0 && deal.moduleCreator == address(0))) {
            revert DealsInvalidRoyalty(deal.royaltyBps, deal.moduleCreator);
        }
        // REJECT: the deadline must come after the last moment the deal can open.
        if (deal.deadline <= deal.openBy) revert DealsDeadlineNotAfterOpenBy(dealId, deal.openBy, deal.deadline);
    }

    /// @dev The checks at open that depend on time, state and other contracts, for a batch item:
    /// the selector of the error {_open} would revert with, or 0 when the deal can open now.
    /// The submitter's own signature is not needed: its transaction is its consent.
    function _openable(DealId dealId, Deal calldata deal, uint256 reserve, bytes calldata jobCreatorSig, bytes calldata providerSig)
        private
        view
        returns (bytes4)
    {
        if (block.timestamp > deal.openBy) return DealsOpenByPassed.selector;
        if (_records[dealId].state != DealState.None) return DealsAlreadyOpened.selector;
        bytes32 digest = DealId.unwrap(dealId);
        if (msg.sender != deal.jobCreator && !Signatures.isValidCapped(deal.jobCreator, digest, jobCreatorSig, BATCH_ERC1271_GAS)) {
            return DealsInvalidSignature.selector;
        }
        if (msg.sender != deal.provider && !Signatures.isValidCapped(deal.provider, digest, providerSig, BATCH_ERC1271_GAS)) {
            return DealsInvalidSignature.selector;
        }
        // Both locks must fit, so that none is taken unless both are (one account may be both parties).
        uint256 jobCreatorNeeds = deal.price + reserve;
        if (deal.jobCreator == deal.provider) {
            if (_free(deal.jobCreator) < jobCreatorNeeds + deal.collateral) return EscrowInsufficientBalance.selector;
        } else if (_free(deal.jobCreator) < jobCreatorNeeds || _free(deal.provider) < deal.collateral) {
            return EscrowInsufficientBalance.selector;
        }
        return 0;
    }

    /// @dev The draw of a mediation: its seed (locked or from block hashes) and whose turn it is.
    function _draw(bytes32 key, DealRecord memory record) private view returns (uint256 seed, uint256 turn) {
        seed = Mediation.seedOf(key, record.drawBlock, record.seed);
        turn = (block.timestamp - record.challengedAt) / MEDIATOR_TURN;
    }

    /// @dev The parties to a single deal's dispute: its job creator and its provider.
    function _parties(Deal calldata deal) private pure returns (address[] memory out) {
        out = new address[](2);
        (out[0], out[1]) = (deal.jobCreator, deal.provider);
    }

    /// @dev The first replica of a group (in the order given) that awaits a mediator, and its record.
    function _disputedReplica(Deal[] calldata deals) private view returns (DealId id, DealRecord memory record) {
        for (uint256 i; i < deals.length; ++i) {
            id = hashDeal(deals[i]);
            record = _records[id];
            if (record.state == DealState.Challenged) return (id, record);
        }
        // REJECT: with no replica challenged, nobody awaits a mediator.
        revert DealsNotChallenged(hashDeal(deals[0]), _records[hashDeal(deals[0])].state);
    }

    /// @dev Revert once the mediator's time to rule is over.
    function _checkRulingInTime(DealId dealId, DealRecord memory record) private view {
        uint256 deadline = uint256(record.challengedAt) + MEDIATION_TIMEOUT;
        // REJECT: a late ruling races the unwinding; the timeout wins.
        if (block.timestamp >= deadline) revert DealsMediationTimedOut(dealId, deadline, block.timestamp);
    }

    // ---- Verification policies --------------------------------------------------------------
    // The only place that knows which policies exist. A new policy is one library under
    // policies/ plus a branch here in each hook it uses: its terms (safety at open and the
    // reserve), whether it settles on commit, whether it can be challenged, how it finalizes,
    // and whether it is ruled on per group. The lifecycle and the money above do not change.

    /// @dev Safety at open, and what the job creator locks beyond the price. Pure in the deal's
    /// terms, so settlement recomputes the reserve instead of storing it.
    function _terms(Deal calldata deal) private pure returns (uint256 reserve) {
        uint8 policy = deal.policy;
        if (policy == TrustPolicy.ID) return TrustPolicy.terms(deal);
        if (policy == OptimisticPolicy.ID) return OptimisticPolicy.terms(deal);
        if (policy == ReplicatePolicy.ID) return ReplicatePolicy.terms(deal);
        if (policy == AuditPolicy.ID) return AuditPolicy.terms(deal);
        revert DealsUnsupportedPolicy(policy);
    }

    /// @dev Whether a committed result is final at once.
    function _settlesOnCommit(uint8 policy) private pure returns (bool) {
        return policy == TrustPolicy.ID;
    }

    /// @dev Revert unless the deal's policy lets its job creator challenge now.
    function _checkChallenge(DealId dealId, Deal calldata deal, DealRecord memory record) private view {
        if (deal.policy == OptimisticPolicy.ID) OptimisticPolicy.checkChallenge(dealId, deal, record);
        else revert DealsWrongPolicy(dealId, deal.policy, msg.sig);
    }

    /// @dev Settle, or send to mediation, a committed deal whose policy allows it now.
    function _finalize(DealId dealId, Deal calldata deal, DealRecord memory record) private {
        if (deal.policy == OptimisticPolicy.ID) {
            OptimisticPolicy.checkFinalize(dealId, deal, record);
            _settle(dealId, deal, _terms(deal), deal.jobCreator);
        } else if (deal.policy == AuditPolicy.ID) {
            (uint256 draw, bool audited, uint256 drawBlock) = AuditPolicy.draw(dealId, deal.policyParam, record.commitBlock);
            if (audited) _requestMediation(dealId, drawBlock);
            else _settle(dealId, deal, _terms(deal), deal.jobCreator);
            emit AuditDrawn(dealId, drawBlock, draw, audited);
        } else {
            // replicate settles per group (settleReplicas); trust never waits in Committed.
            revert DealsWrongPolicy(dealId, deal.policy, msg.sig);
        }
    }

    /// @dev Whether {_finalize} would move a committed deal on now: 0, or the selector of the
    /// error it would revert with (a batch skips the deal instead).
    function _finalizable(Deal calldata deal, DealRecord memory record) private view returns (bytes4) {
        if (record.state != DealState.Committed) return DealsNotCommitted.selector;
        if (deal.policy == OptimisticPolicy.ID) {
            if (block.timestamp < uint256(record.committedAt) + deal.policyParam) return OptimisticPolicy.DealsChallengeWindowOpen.selector;
        } else if (deal.policy == AuditPolicy.ID) {
            if (block.number <= uint256(record.commitBlock) + AUDIT_DELAY) return AuditPolicy.DealsAuditDrawPending.selector;
        } else {
            return DealsWrongPolicy.selector;
        }
        return 0;
    }

    /// @dev Whether deals under `policy` are tallied and ruled on as a group.
    function _isGroupPolicy(uint8 policy) private pure returns (bool) {
        return policy == ReplicatePolicy.ID;
    }

    /// @dev What the mediator draw is keyed by: the deal id, or a replica group's job offer.
    function _mediationKey(DealId dealId, Deal calldata deal) private pure returns (bytes32) {
        return _isGroupPolicy(deal.policy) ? deal.jobOffer : DealId.unwrap(dealId);
    }
}
