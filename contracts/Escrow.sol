// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title Escrow
/// @notice Token balances that parties deposit once and that deals lock and release, so nobody
/// approves a transfer per job. Every account has a free balance it may withdraw at any time;
/// locked funds belong to open deals and leave the lock only through the deriving contract's
/// settlement rules (`_credit`).
/// @dev Invariant: `token.balanceOf(this) == Σ free balances + totalLocked()`. The token must be
/// a standard ERC-20 (no fee on transfer, no rebasing): LILY is.
abstract contract Escrow is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    IERC20 private immutable _token;
    mapping(address account => uint256) private _balances;
    uint256 private _totalLocked;

    /// @dev `account` has `balance` free but an operation needs `needed`.
    error EscrowInsufficientBalance(address account, uint256 balance, uint256 needed);
    /// @dev Deposits and withdrawals of zero are almost certainly mistakes.
    error EscrowZeroAmount();

    event Deposited(address indexed account, uint256 amount);
    event Withdrew(address indexed account, uint256 amount);

    constructor(IERC20 token_) {
        _token = token_;
    }

    /// @notice Move `amount` tokens from the caller into their free escrow balance.
    /// @dev The caller must first approve this contract for at least `amount`.
    /// @param amount Token amount in wei.
    function deposit(uint256 amount) external nonReentrant {
        if (amount == 0) revert EscrowZeroAmount();
        // unchecked: every escrowed unit is a token held by this contract, so the sum of free
        // balances and locked funds never exceeds the token's total supply (< 2^256).
        unchecked {
            _balances[msg.sender] += amount;
        }
        _token.safeTransferFrom(msg.sender, address(this), amount);
        emit Deposited(msg.sender, amount);
    }

    /// @notice Send `amount` of the caller's free balance back to them. Locked funds cannot be
    /// withdrawn.
    /// @param amount Token amount in wei.
    function withdraw(uint256 amount) external nonReentrant {
        if (amount == 0) revert EscrowZeroAmount();
        uint256 balance = _balances[msg.sender];
        if (balance < amount) revert EscrowInsufficientBalance(msg.sender, balance, amount);
        // unchecked: balance >= amount was checked just above.
        unchecked {
            _balances[msg.sender] = balance - amount;
        }
        _token.safeTransfer(msg.sender, amount);
        emit Withdrew(msg.sender, amount);
    }

    /// @notice The free (unlocked, withdrawable) escrow balance of `account`.
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @notice The sum of all funds currently locked in open deals.
    function totalLocked() external view returns (uint256) {
        return _totalLocked;
    }

    /// @notice The token this escrow holds.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @dev The free balance of `account`, to check a lock before taking it.
    function _free(address account) internal view returns (uint256) {
        return _balances[account];
    }

    /// @dev Move `amount` from `account`'s free balance into the locked pool.
    function _lock(address account, uint256 amount) internal {
        uint256 balance = _balances[account];
        if (balance < amount) revert EscrowInsufficientBalance(account, balance, amount);
        // unchecked: balance >= amount was checked just above, and the locked pool only ever
        // holds deposited tokens, so it stays below the token's total supply.
        unchecked {
            _balances[account] = balance - amount;
            _totalLocked += amount;
        }
    }

    /// @dev Release `amount` from the locked pool into `account`'s free balance. The caller must
    /// only release what it locked; the subtraction stays checked so a bug there reverts.
    function _credit(address account, uint256 amount) internal {
        _totalLocked -= amount;
        // unchecked: the amount came out of the locked pool, so free balances plus the pool
        // still sum to at most the token's total supply.
        unchecked {
            _balances[account] += amount;
        }
    }

    /// @dev Take `amount` from `account`'s free balance, if it holds that much, for a lock whose
    /// pool update the caller makes once per batch with {_addLocked}. Returns whether it did.
    function _tryTake(address account, uint256 amount) internal returns (bool) {
        uint256 balance = _balances[account];
        if (balance < amount) return false;
        // unchecked: balance >= amount was checked just above.
        unchecked {
            _balances[account] = balance - amount;
        }
        return true;
    }

    /// @dev One account's free balance, held in memory while a batch takes from it again and
    /// again, so that it is read and written once per batch rather than once per item.
    struct HeldBalance {
        address account;
        uint256 balance;
        bool loaded;
        bool dirty;
    }

    /// @dev Make `held` hold `account`'s free balance, writing back the one it held if it changed.
    /// While held, the account's stored balance is stale: take from it only with {_takeHeld}.
    function _hold(HeldBalance memory held, address account) internal {
        if (held.loaded && held.account == account) return;
        _writeBack(held);
        (held.account, held.balance, held.loaded, held.dirty) = (account, _balances[account], true, false);
    }

    /// @dev {_tryTake} from the held balance.
    function _takeHeld(HeldBalance memory held, uint256 amount) internal pure returns (bool) {
        if (held.balance < amount) return false;
        // unchecked: checked just above.
        unchecked {
            held.balance -= amount;
        }
        held.dirty = true;
        return true;
    }

    /// @dev Store the held balance if it changed. Every batch that holds a balance ends with it.
    function _writeBack(HeldBalance memory held) internal {
        if (held.dirty) {
            _balances[held.account] = held.balance;
            held.dirty = false;
        }
    }

    /// @dev Add `amount`, taken from free balances with {_tryTake}, to the locked pool.
    function _addLocked(uint256 amount) internal {
        // unchecked: the pool only ever holds deposited tokens, below the token's total supply.
        unchecked {
            _totalLocked += amount;
        }
    }

    /// @dev Add `amount` to `account`'s free balance out of funds the caller releases from the
    /// locked pool with {_releaseLocked} (once per batch).
    function _give(address account, uint256 amount) internal {
        // unchecked: the amount comes out of the locked pool (see {_credit}).
        unchecked {
            _balances[account] += amount;
        }
    }

    /// @dev Remove `amount` from the locked pool; stays checked so releasing more than was locked reverts.
    function _releaseLocked(uint256 amount) internal {
        _totalLocked -= amount;
    }
}
