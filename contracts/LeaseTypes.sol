// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev A lease's id: the EIP-712 digest of its terms under the LilyLeases domain, which is also
/// what both parties sign. It binds the lease to one chain and one deployment.
type LeaseId is bytes32;

/// @notice An inference lease's terms, exactly as both parties signed them. Must match
/// `types.Lease` in packages/protocol/src/eip712.ts field for field.
struct Lease {
    address payer; // the gateway: locks `budget`, pays answers off chain by cumulative vouchers
    address provider; // serves the model; locks `collateral`
    string model; // the model manifest's CID
    uint256 budget; // the most the payer can owe over the whole lease
    uint256 collateral; // the provider's stake, slashed if an audit proves an answer wrong
    uint256 inputPricePer1k; // per 1,000 prompt tokens (priced off chain, recorded here)
    uint256 outputPricePer1k; // per 1,000 generated tokens
    uint64 openBy; // unix seconds: the lease can open at or before it, never after
    uint64 expiresAt; // unix seconds: the end of service
    address mediator; // may slash over a receipt the provider signed; zero for none
    uint256 mediationFee; // paid to the mediator out of a slashed collateral
    uint16 auditBps; // share of answers the payer sends to audit (off chain)
    address moduleCreator; // the model's creator, paid royaltyBps of what the provider earns
    uint16 royaltyBps;
    uint256 nonce;
}

/// @notice The provider's word on one answer (must match `types.Receipt` in eip712.ts): the
/// evidence a mediator slashes with.
struct Receipt {
    bytes32 lease;
    address provider;
    uint64 seq; // the answer's number within the lease, from 1
    bytes32 request; // digest of the request the provider was given
    bytes32 response; // digest of the answer it gave
    uint32 inputTokens;
    uint32 outputTokens;
}

/// @notice Where a lease's money is. Terminal: Closed (the provider claimed) and Expired (it
/// never did, and the payer took the budget back).
enum LeaseState {
    None, // never opened
    Open, // budget and collateral locked; the provider serves and collects vouchers
    Closed, // the provider was paid by the payer's latest voucher, the rest refunded
    Expired // the claim window passed without a close: the whole budget went back to the payer
}

/// @notice Where a lease's collateral is. It outlives the lease's payment: a provider cannot
/// close to escape an audit.
enum CollateralState {
    Locked, // held until the audit window ends (or a slash)
    Released, // returned to the provider
    Slashed // a mediator proved an answer wrong: its fee, and the rest to the payer
}

/// @dev What the contract stores per lease: one storage slot (8 + 8 + 64 + 176 = 256 bits).
/// `paid` is at most the budget, which openLease bounds to 176 bits (far above any token supply).
struct LeaseRecord {
    LeaseState state;
    CollateralState collateral;
    uint64 requests; // answers the closing voucher counted
    uint176 paid; // what the closing voucher paid (royalty included)
}
