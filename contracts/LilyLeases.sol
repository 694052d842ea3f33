// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Escrow} from "./Escrow.sol";
import {Signatures} from "./lib/Signatures.sol";
import {CollateralState, Lease, LeaseId, LeaseRecord, LeaseState, Receipt} from "./LeaseTypes.sol";

/// @title LilyLeases
/// @notice Anura's inference leases. A lease reserves a provider's model for a period and a
/// budget: it opens with both parties' EIP-712 signatures, locking the payer's budget and the
/// provider's collateral from their escrow balances (see {Escrow}); every answer is paid off chain
/// by a cumulative voucher the payer signs, and the provider settles once, with the latest one.
/// The collateral stays locked until the audit window ends, so a mediator the lease names can
/// slash it over any answer whose receipt the provider signed.
/// @dev Per lease the contract stores one slot ({LeaseRecord}). The terms are re-supplied as
/// calldata by every call and re-hashed, so they cannot be altered after signing. There is no
/// owner or admin: funds move only by the rules below. A separate contract from LilyDeals (which
/// is near the code-size limit), with its own escrow balances.
/// Timeline: open at or before `openBy`; serve until `expiresAt`; the provider closes at or
/// before `expiresAt + CLAIM_WINDOW`, after which anyone may reclaim the budget for the payer;
/// the mediator may slash at or before `expiresAt + AUDIT_WINDOW`, after which anyone may
/// release the collateral to the provider.
contract LilyLeases is Escrow, EIP712 {
    /// @notice The EIP-712 type hash of {Lease}.
    bytes32 public constant LEASE_TYPEHASH = keccak256(
        "Lease(address payer,address provider,string model,uint256 budget,uint256 collateral,uint256 inputPricePer1k,uint256 outputPricePer1k,uint64 openBy,uint64 expiresAt,address mediator,uint256 mediationFee,uint16 auditBps,address moduleCreator,uint16 royaltyBps,uint256 nonce)"
    );
    /// @notice The EIP-712 type hash of a voucher: everything the payer owes for `lease` so far.
    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 lease,uint256 amount,uint64 requests)");
    /// @notice The EIP-712 type hash of {Receipt}.
    bytes32 public constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(bytes32 lease,address provider,uint64 seq,bytes32 request,bytes32 response,uint32 inputTokens,uint32 outputTokens)"
    );
    /// @notice A royalty is at most the whole payment.
    uint16 public constant MAX_ROYALTY_BPS = 10_000;
    /// @notice The largest budget a lease may lock: what a {LeaseRecord} can record as paid.
    uint256 public constant MAX_BUDGET = type(uint176).max;
    /// @notice Seconds after `expiresAt` the provider has to close its lease; after that anyone
    /// may give the whole budget back to the payer. Fixed at deployment.
    uint64 public immutable CLAIM_WINDOW;
    /// @notice Seconds after `expiresAt` the collateral stays slashable; at least CLAIM_WINDOW,
    /// so the collateral outlives every possible close. Fixed at deployment.
    uint64 public immutable AUDIT_WINDOW;

    mapping(LeaseId => LeaseRecord) private _records;

    /// @dev The claim window must be positive and the audit window at least as long.
    error LeasesWindowsOutOfRange(uint64 claimWindow, uint64 auditWindow);
    error LeasesInvalidRoyalty(uint16 royaltyBps, address moduleCreator);
    /// @dev The time the parties gave for opening (`openBy`) has passed: the lease can never open.
    error LeasesOpenByPassed(LeaseId leaseId, uint64 openBy, uint256 timestamp);
    /// @dev The lease would end before (or when) it can last be opened.
    error LeasesExpiryNotAfterOpenBy(LeaseId leaseId, uint64 openBy, uint64 expiresAt);
    /// @dev The payer and the provider are one account.
    error LeasesSameParty(LeaseId leaseId, address account);
    /// @dev The named mediator is the payer or the provider, and nobody rules on their own lease.
    error LeasesMediatorIsParty(LeaseId leaseId, address mediator);
    error LeasesBudgetTooLarge(LeaseId leaseId, uint256 budget, uint256 max);
    error LeasesAlreadyOpened(LeaseId leaseId);
    error LeasesInvalidSignature(address signer);
    error LeasesNotProvider(LeaseId leaseId, address caller);
    error LeasesNotMediator(LeaseId leaseId, address caller);
    error LeasesNotOpen(LeaseId leaseId, LeaseState state);
    /// @dev The lease is still open (or was never opened): its collateral cannot be released yet.
    error LeasesNotEnded(LeaseId leaseId, LeaseState state);
    error LeasesClaimWindowClosed(LeaseId leaseId, uint256 closedAt, uint256 timestamp);
    error LeasesClaimWindowOpen(LeaseId leaseId, uint256 closesAt, uint256 timestamp);
    error LeasesVoucherOverBudget(LeaseId leaseId, uint256 amount, uint256 budget);
    error LeasesCollateralNotLocked(LeaseId leaseId, CollateralState collateral);
    error LeasesAuditWindowOpen(LeaseId leaseId, uint256 closesAt, uint256 timestamp);
    error LeasesAuditWindowClosed(LeaseId leaseId, uint256 closedAt, uint256 timestamp);
    /// @dev The receipt names another lease or another provider.
    error LeasesReceiptMismatch(LeaseId leaseId, bytes32 receiptLease, address receiptProvider);

    event LeaseOpened(
        LeaseId indexed leaseId,
        address indexed payer,
        address indexed provider,
        uint256 budget,
        uint256 collateral,
        uint64 expiresAt
    );
    /// @notice The provider closed the lease with the payer's voucher for `amount` over
    /// `requests` answers; the provider was credited `paid` (the amount less any royalty) and
    /// the payer `refunded` (the rest of the budget).
    event LeaseClosed(LeaseId indexed leaseId, uint256 amount, uint64 requests, uint256 paid, uint256 refunded);
    /// @notice The model's creator was credited its royalty out of the lease's payment.
    event RoyaltyPaid(LeaseId indexed leaseId, address indexed moduleCreator, uint256 amount);
    /// @notice The provider never closed: the payer got its whole budget back.
    event LeaseReclaimed(LeaseId indexed leaseId, uint256 refunded);
    /// @notice The collateral went back to the provider.
    event CollateralReleased(LeaseId indexed leaseId, address indexed provider, uint256 amount);
    /// @notice The mediator proved answer `seq` wrong: it was credited `mediatorFee` out of the
    /// collateral and the payer the rest (`toPayer`).
    event LeaseSlashed(LeaseId indexed leaseId, address indexed mediator, uint64 seq, uint256 mediatorFee, uint256 toPayer);

    /// @param token_ The LILY token.
    /// @param claimWindow Seconds the provider has to close after expiry (see {CLAIM_WINDOW}).
    /// @param auditWindow Seconds the collateral stays slashable after expiry (see {AUDIT_WINDOW}).
    constructor(IERC20 token_, uint64 claimWindow, uint64 auditWindow) Escrow(token_) EIP712("Lily", "1") {
        if (claimWindow == 0 || auditWindow < claimWindow) revert LeasesWindowsOutOfRange(claimWindow, auditWindow);
        CLAIM_WINDOW = claimWindow;
        AUDIT_WINDOW = auditWindow;
    }

    // ---- The lease lifecycle ----------------------------------------------------------------

    /// @notice Open a lease both parties signed, at or before its `openBy`, locking the budget
    /// from the payer's free balance and the collateral from the provider's. Anyone may submit
    /// it: the signatures are the authority. Smart-contract wallets sign through ERC-1271.
    /// @param lease The terms both parties signed.
    /// @param payerSig The payer's EIP-712 signature over `lease`.
    /// @param providerSig The provider's EIP-712 signature over `lease`.
    /// @return leaseId The lease's id, {hashLease} of `lease`.
    function openLease(Lease calldata lease, bytes calldata payerSig, bytes calldata providerSig)
        external
        returns (LeaseId leaseId)
    {
        leaseId = hashLease(lease);
        // REJECT: a lease opens only in the time its parties gave for opening.
        if (block.timestamp > lease.openBy) revert LeasesOpenByPassed(leaseId, lease.openBy, block.timestamp);
        // REJECT: the service must end after the last moment the lease can open.
        if (lease.expiresAt <= lease.openBy) revert LeasesExpiryNotAfterOpenBy(leaseId, lease.openBy, lease.expiresAt);
        // REJECT: a royalty above the payment, or one paid to nobody.
        if (lease.royaltyBps > MAX_ROYALTY_BPS || (lease.royaltyBps != 0 && lease.moduleCreator == address(0))) {
            revert LeasesInvalidRoyalty(lease.royaltyBps, lease.moduleCreator);
        }
        // REJECT: a lease is between two accounts.
        if (lease.payer == lease.provider) revert LeasesSameParty(leaseId, lease.payer);
        // REJECT: a party as mediator could slash the other side at will.
        if (lease.mediator != address(0) && (lease.mediator == lease.payer || lease.mediator == lease.provider)) {
            revert LeasesMediatorIsParty(leaseId, lease.mediator);
        }
        // REJECT: a budget the record could not hold as paid (far above any real token supply).
        if (lease.budget > MAX_BUDGET) revert LeasesBudgetTooLarge(leaseId, lease.budget, MAX_BUDGET);
        // REJECT: a lease opens at most once, whatever became of it.
        if (_records[leaseId].state != LeaseState.None) revert LeasesAlreadyOpened(leaseId);
        // REJECT: both parties must have signed exactly these terms on this chain and contract.
        bytes32 digest = LeaseId.unwrap(leaseId);
        if (!Signatures.isValid(lease.payer, digest, payerSig)) revert LeasesInvalidSignature(lease.payer);
        if (!Signatures.isValid(lease.provider, digest, providerSig)) revert LeasesInvalidSignature(lease.provider);

        _records[leaseId].state = LeaseState.Open;
        _lock(lease.payer, lease.budget);
        _lock(lease.provider, lease.collateral);
        emit LeaseOpened(leaseId, lease.payer, lease.provider, lease.budget, lease.collateral, lease.expiresAt);
    }

    /// @notice Close an open lease with the payer's latest voucher. Only the provider may, at or
    /// before `expiresAt + CLAIM_WINDOW` (early is fine: it ends the service). The provider is
    /// paid `amount` less the royalty, which goes to the model's creator; the rest of the budget
    /// goes back to the payer. The collateral stays locked until the audit window ends (which
    /// always outlasts the claim window), so a cheat cannot close to escape an audit; it is
    /// returned at once only when the lease names no mediator, since nobody could slash it.
    /// @param lease The lease's terms, as opened.
    /// @param amount What the voucher says the payer owes in all, at most the budget.
    /// @param requests How many answers the voucher counts.
    /// @param voucherSig The payer's EIP-712 signature over Voucher{lease, amount, requests};
    /// empty when closing for nothing (amount and requests zero).
    function closeLease(Lease calldata lease, uint256 amount, uint64 requests, bytes calldata voucherSig) external {
        LeaseId leaseId = hashLease(lease);
        // REJECT: only the provider named in the lease claims its payment (never tx.origin).
        if (msg.sender != lease.provider) revert LeasesNotProvider(leaseId, msg.sender);
        LeaseRecord memory record = _records[leaseId];
        // REJECT: a lease is paid once, while open.
        if (record.state != LeaseState.Open) revert LeasesNotOpen(leaseId, record.state);
        uint256 claimEnd = uint256(lease.expiresAt) + CLAIM_WINDOW;
        // REJECT: after the claim window the budget is the payer's to reclaim.
        if (block.timestamp > claimEnd) revert LeasesClaimWindowClosed(leaseId, claimEnd, block.timestamp);
        // REJECT: nobody owes more than the budget it locked.
        if (amount > lease.budget) revert LeasesVoucherOverBudget(leaseId, amount, lease.budget);
        // REJECT: any payment needs the payer's voucher for exactly this lease, amount and count.
        if (amount != 0 || requests != 0) {
            if (!Signatures.isValid(lease.payer, hashVoucher(leaseId, amount, requests), voucherSig)) {
                revert LeasesInvalidSignature(lease.payer);
            }
        }

        record.state = LeaseState.Closed;
        record.requests = requests;
        // unchecked: amount <= budget <= MAX_BUDGET = type(uint176).max, checked above and at open.
        unchecked {
            record.paid = uint176(amount);
        }
        // (The audit window cannot have passed yet: AUDIT_WINDOW >= CLAIM_WINDOW.)
        bool release = record.collateral == CollateralState.Locked && _collateralDue(lease);
        if (release) record.collateral = CollateralState.Released;
        _records[leaseId] = record;

        uint256 paid = amount;
        if (lease.royaltyBps != 0 && amount != 0) {
            uint256 royalty = Math.mulDiv(amount, lease.royaltyBps, MAX_ROYALTY_BPS);
            // unchecked: royalty <= amount because royaltyBps <= 10 000, checked at open.
            unchecked {
                paid -= royalty;
            }
            _credit(lease.moduleCreator, royalty);
            emit RoyaltyPaid(leaseId, lease.moduleCreator, royalty);
        }
        _credit(lease.provider, paid);
        uint256 refunded;
        // unchecked: amount <= budget was checked above.
        unchecked {
            refunded = lease.budget - amount;
        }
        _credit(lease.payer, refunded);
        emit LeaseClosed(leaseId, amount, requests, paid, refunded);
        if (release) _releaseCollateral(leaseId, lease);
    }

    /// @notice Give the whole budget of a lease its provider never closed back to the payer,
    /// after `expiresAt + CLAIM_WINDOW`. Anyone may call it. The collateral is handled as in
    /// {closeLease}: it stays slashable until the audit window ends.
    /// @param lease The lease's terms, as opened.
    function reclaimLease(Lease calldata lease) external {
        LeaseId leaseId = hashLease(lease);
        LeaseRecord memory record = _records[leaseId];
        // REJECT: only an open lease has a budget to reclaim.
        if (record.state != LeaseState.Open) revert LeasesNotOpen(leaseId, record.state);
        uint256 claimEnd = uint256(lease.expiresAt) + CLAIM_WINDOW;
        // REJECT: the provider keeps its whole claim window.
        if (block.timestamp <= claimEnd) revert LeasesClaimWindowOpen(leaseId, claimEnd, block.timestamp);

        record.state = LeaseState.Expired;
        bool release = record.collateral == CollateralState.Locked && _collateralDue(lease);
        if (release) record.collateral = CollateralState.Released;
        _records[leaseId] = record;

        _credit(lease.payer, lease.budget);
        emit LeaseReclaimed(leaseId, lease.budget);
        if (release) _releaseCollateral(leaseId, lease);
    }

    /// @notice Return the collateral of a lease that ended (closed or reclaimed) to its provider,
    /// once the audit window is over (after `expiresAt + AUDIT_WINDOW`). Anyone may call it.
    /// @param lease The lease's terms, as opened.
    function releaseCollateral(Lease calldata lease) external {
        LeaseId leaseId = hashLease(lease);
        LeaseRecord memory record = _records[leaseId];
        // REJECT: an open lease may still be closed; its collateral waits for the end.
        if (record.state != LeaseState.Closed && record.state != LeaseState.Expired) revert LeasesNotEnded(leaseId, record.state);
        // REJECT: the collateral leaves the lock once.
        if (record.collateral != CollateralState.Locked) revert LeasesCollateralNotLocked(leaseId, record.collateral);
        uint256 auditEnd = uint256(lease.expiresAt) + AUDIT_WINDOW;
        // REJECT: the mediator keeps its whole audit window.
        if (block.timestamp <= auditEnd) revert LeasesAuditWindowOpen(leaseId, auditEnd, block.timestamp);

        _records[leaseId].collateral = CollateralState.Released;
        _releaseCollateral(leaseId, lease);
    }

    /// @notice Slash a provider's collateral over an answer it signed and the lease's mediator
    /// found wrong. Only the mediator the lease names may, at or before `expiresAt +
    /// AUDIT_WINDOW`, once, and only with a receipt for this lease carrying the provider's own
    /// signature, so a mediator can only slash over an answer the provider really gave. The
    /// mediator is credited min(mediationFee, collateral); the payer the rest. Payment by
    /// vouchers is unaffected: the payer signed those.
    /// @param lease The lease's terms, as opened.
    /// @param receipt The provider's receipt for the answer found wrong.
    /// @param providerSig The provider's EIP-712 signature over `receipt`.
    function slashLease(Lease calldata lease, Receipt calldata receipt, bytes calldata providerSig) external {
        LeaseId leaseId = hashLease(lease);
        // REJECT: only the mediator both parties named rules on the lease (none if zero).
        if (lease.mediator == address(0) || msg.sender != lease.mediator) revert LeasesNotMediator(leaseId, msg.sender);
        LeaseRecord memory record = _records[leaseId];
        // REJECT: a lease never opened holds no collateral.
        if (record.state == LeaseState.None) revert LeasesNotOpen(leaseId, record.state);
        // REJECT: a collateral is slashed at most once, and never after its release.
        if (record.collateral != CollateralState.Locked) revert LeasesCollateralNotLocked(leaseId, record.collateral);
        uint256 auditEnd = uint256(lease.expiresAt) + AUDIT_WINDOW;
        // REJECT: once the audit window is over the collateral is the provider's.
        if (block.timestamp > auditEnd) revert LeasesAuditWindowClosed(leaseId, auditEnd, block.timestamp);
        // REJECT: the receipt must be for an answer under this lease, by this lease's provider...
        if (receipt.lease != LeaseId.unwrap(leaseId) || receipt.provider != lease.provider) {
            revert LeasesReceiptMismatch(leaseId, receipt.lease, receipt.provider);
        }
        // REJECT: ...and signed by that provider.
        if (!Signatures.isValid(lease.provider, hashReceipt(receipt), providerSig)) revert LeasesInvalidSignature(lease.provider);

        _records[leaseId].collateral = CollateralState.Slashed;
        uint256 fee = Math.min(lease.mediationFee, lease.collateral);
        uint256 toPayer;
        // unchecked: fee <= collateral by the min just above.
        unchecked {
            toPayer = lease.collateral - fee;
        }
        if (fee != 0) _credit(msg.sender, fee);
        _credit(lease.payer, toPayer);
        emit LeaseSlashed(leaseId, msg.sender, receipt.seq, fee, toPayer);
    }

    // ---- Views ------------------------------------------------------------------------------

    /// @notice The id of a lease: its EIP-712 digest under this contract's domain, which is also
    /// what both parties sign.
    /// @param lease The lease's terms.
    function hashLease(Lease calldata lease) public view returns (LeaseId) {
        bytes32 structHash = keccak256(
            abi.encode(
                LEASE_TYPEHASH,
                lease.payer,
                lease.provider,
                keccak256(bytes(lease.model)),
                lease.budget,
                lease.collateral,
                lease.inputPricePer1k,
                lease.outputPricePer1k,
                lease.openBy,
                lease.expiresAt,
                lease.mediator,
                lease.mediationFee,
                lease.auditBps,
                lease.moduleCreator,
                lease.royaltyBps,
                lease.nonce
            )
        );
        return LeaseId.wrap(_hashTypedDataV4(structHash));
    }

    /// @notice The EIP-712 digest of a voucher, what the payer signs to owe `amount` in all.
    /// @param leaseId The lease the voucher pays for.
    /// @param amount Everything owed for the lease so far.
    /// @param requests How many answers that covers.
    function hashVoucher(LeaseId leaseId, uint256 amount, uint64 requests) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, leaseId, amount, requests)));
    }

    /// @notice The EIP-712 digest of a receipt, what the provider signs for each answer.
    /// @param receipt The receipt.
    function hashReceipt(Receipt calldata receipt) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(RECEIPT_TYPEHASH, receipt)));
    }

    /// @notice Everything stored about a lease: its state (0 None, 1 Open, 2 Closed, 3 Expired),
    /// its collateral's (0 Locked, 1 Released, 2 Slashed; Locked also for a lease never opened),
    /// and what the closing voucher paid and counted (zero until closed).
    /// @param leaseId The lease's id, from {hashLease}.
    function leaseRecord(LeaseId leaseId)
        external
        view
        returns (LeaseState state, CollateralState collateral, uint256 paid, uint64 requests)
    {
        LeaseRecord memory r = _records[leaseId];
        return (r.state, r.collateral, r.paid, r.requests);
    }

    // ---- Internals --------------------------------------------------------------------------

    /// @dev Whether nobody can slash the collateral any more: the audit window is over, or the
    /// lease names no mediator.
    function _collateralDue(Lease calldata lease) private view returns (bool) {
        return lease.mediator == address(0) || block.timestamp > uint256(lease.expiresAt) + AUDIT_WINDOW;
    }

    /// @dev Credit the collateral back to the provider; the caller has marked it Released.
    function _releaseCollateral(LeaseId leaseId, Lease calldata lease) private {
        _credit(lease.provider, lease.collateral);
        emit CollateralReleased(leaseId, lease.provider, lease.collateral);
    }
}
