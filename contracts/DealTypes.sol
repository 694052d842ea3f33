// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev A deal's id: the EIP-712 digest of its terms under the LilyDeals domain. It binds the
/// deal to one chain and one deployment, and two deals with identical terms share one id.
type DealId is bytes32;

/// @notice A deal's terms, exactly as both parties signed them. Must match `types.Deal` in
/// packages/protocol/src/eip712.ts field for field.
struct Deal {
    address jobCreator;
    address provider;
    bytes32 jobOffer; // EIP-712 digest of the signed job offer; replicas of one job share it
    bytes32 resourceOffer; // EIP-712 digest of the signed resource offer
    uint256 price; // paid by the job creator to the provider (royalty included)
    uint256 collateral; // staked by the provider; slashed if it times out or is proven wrong
    uint64 openBy; // unix seconds: the deal can be opened at or before it, never after
    uint64 deadline; // unix seconds: the result must be committed at or before it
    uint8 policy; // verification policy id (see the policy libraries' ID)
    uint64 policyParam; // optimistic: window in seconds; replicate: k; audit: p in ppm
    uint256 mediationFee; // paid to the mediator by whoever a mediation proves wrong
    bytes32 mediators; // keccak256(abi.encode(address[])) of the sorted accepted set; 0 = none
    bytes32 replicas; // replicate(k): keccak256(abi.encode(address[])) of the group's k providers, sorted; else 0
    address moduleCreator; // receives royaltyBps of the price whenever the provider is paid
    uint16 royaltyBps; // the module creator's share of the price, in basis points
}

/// @notice Where a deal is in its life. Terminal states: Settled, TimedOut, Slashed.
enum DealState {
    None, // never opened
    Open, // price and collateral locked, waiting for the result
    Committed, // result digest stored, waiting for the policy (window, audit draw, replicas)
    Challenged, // waiting for the drawn mediator's ruling (or the mediation timeout)
    Settled, // provider paid, collateral returned
    TimedOut, // the provider missed its deadline, or a mediation timed out and was unwound
    Slashed // the provider was proven wrong: its collateral went to the job creator (and mediator)
}

/// @dev What the contract stores per deal besides the result digest: one storage slot
/// (8 + 4 × 48 + 56 = 256 bits). Timestamps and block numbers fit 48 bits for millions of years;
/// a 56-bit seed is ample to pick among at most a few dozen mediators.
struct DealRecord {
    DealState state;
    uint48 committedAt; // block timestamp of commitResult (policies other than trust)
    uint48 commitBlock; // block number of commitResult
    uint48 drawBlock; // the block whose successor's hash draws the mediator
    uint48 challengedAt; // when mediation was requested; the mediation timeout runs from here
    uint56 seed; // the mediator draw's seed once fixed by `lockDraw` (never 0 then); 0 before
}
