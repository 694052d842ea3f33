// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice A deal under the `trust` policy as both parties sign it for {LilyTrustDeals}. Must
/// match `types.TrustDeal` in packages/protocol/src/eip712.ts field for field.
/// @dev Unlike {Deal} it carries no policy fields (trust has none: no mediators, no reserve,
/// no replicas); it binds the two offers by one hash (the contract never reads them, and each
/// 32-byte word costs a deal 512 gas of calldata); and it carries a `nonce` the provider picks: a
/// trust deal opens at most once per (provider, nonce), which is what lets the contract keep two
/// bits per deal instead of a slot.
struct TrustDeal {
    address jobCreator;
    address provider;
    bytes32 offers; // keccak256(abi.encode(jobOffer, resourceOffer)) of the two signed offers' EIP-712 digests
    uint256 price; // paid by the job creator to the provider (royalty included)
    uint256 collateral; // staked by the provider; the job creator's if the provider times out
    uint64 openBy; // unix seconds: the deal can be opened at or before it, never after
    uint64 deadline; // unix seconds: the result must be committed at or before it
    uint64 nonce; // the provider's sequence number for this deal; never reused by an honest provider
    address moduleCreator; // receives royaltyBps of the price when the provider is paid
    uint16 royaltyBps; // the module creator's share of the price, in basis points
}

/// @notice What settling or timing out a trust deal needs, besides its provider. Its hash with the
/// provider is the deal's leaf in the Merkle tree of the batch that opened it (see {LilyTrustDeals-leafOf}).
struct TrustTerms {
    uint64 nonce;
    address jobCreator;
    uint256 price;
    uint256 collateral;
    uint64 deadline;
    address moduleCreator;
    uint16 royaltyBps;
}

/// @notice Where a trust deal is: two bits per (provider, nonce). None is the only state a deal
/// opens from, and no state leads back to it.
enum TrustState {
    None, // never opened
    Open, // price and collateral locked, waiting for the result
    Settled, // result committed in time: provider paid, collateral returned
    TimedOut // deadline passed without a result: price and collateral to the job creator
}
