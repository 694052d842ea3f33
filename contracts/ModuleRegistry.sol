// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @title ModuleRegistry
/// @notice Ampli, Lily's module registry: a module's name and version → the CID of the module's manifest, the
/// module creator who published it, the royalty its deals pay that creator, and when it was
/// published. The first account to publish under a name holds that name: only it (or whoever it
/// transfers the name to) may publish further versions under it. A published version never
/// changes: publishing the same name and version again reverts, whoever sends it.
/// @dev Names follow the manifest rule of packages/protocol/src/module.ts: 1 to 64 characters of
/// lower-case letters, digits and dashes, starting with a letter. Versions are semver `x.y.z`
/// with each part a decimal number below 2^32 written without leading zeros, so every version
/// has one spelling and is packed into one uint96 (x << 64 | y << 32 | z) that orders versions
/// as semver does. The manifest is stored as the sha-256 digest of its dag-json block (the CID
/// is rebuilt from it off chain, as for result digests): one slot instead of three for the CID
/// string, and one spelling per CID. There is no owner or admin, no upgrade and no funds: nobody
/// can change or remove what was published.
contract ModuleRegistry {
    /// @notice A royalty is at most the whole price (in basis points).
    uint16 public constant MAX_ROYALTY_BPS = 10_000;
    /// @notice The longest module name.
    uint256 public constant MAX_NAME_LENGTH = 64;
    /// @notice The longest version: three parts of at most 10 digits and two dots.
    uint256 public constant MAX_VERSION_LENGTH = 32;

    /// @notice What the registry holds for one published version of a module.
    struct ModuleEntry {
        bytes32 manifest; // sha-256 digest of the manifest's dag-json block (its CIDv1, codec dag-json)
        address creator; // who published it; receives royaltyBps of every deal's price
        uint16 royaltyBps; // the module creator's share of a deal's price, in basis points
        uint48 publishedAt; // block timestamp of publication; never 0 for a published version
    }

    /// @dev Per name, one slot: who may publish under it, and the highest version published.
    struct NameRecord {
        address creator;
        uint96 latest;
    }

    string[] private _names;
    mapping(bytes32 nameHash => NameRecord) private _byName;
    mapping(bytes32 nameHash => uint96[]) private _versions;
    mapping(bytes32 nameHash => mapping(uint96 version => ModuleEntry)) private _entries;

    /// @dev `name` is not 1-64 lower-case letters, digits and dashes starting with a letter.
    error RegistryInvalidName(string name);
    /// @dev `version` is not x.y.z (decimal parts below 2^32, no leading zeros).
    error RegistryInvalidVersion(string version);
    /// @dev A royalty above the whole price.
    error RegistryInvalidRoyalty(uint16 royaltyBps);
    /// @dev A zero manifest digest names no manifest.
    error RegistryEmptyManifest();
    /// @dev `name` belongs to `creator`, who published under it first; nobody else may publish under it.
    error RegistryNameTaken(string name, address creator);
    /// @dev Version `version` of `name` was already published, with `manifest`; versions never change.
    error RegistryVersionExists(string name, string version, bytes32 manifest);
    /// @dev Only `creator`, who holds `name`, may transfer it; `caller` tried.
    error RegistryNotNameCreator(string name, address creator, address caller);
    /// @dev A name cannot be handed to the zero address (that would make it claimable again).
    error RegistryZeroCreator(string name);
    /// @dev Nothing was ever published under `name`.
    error RegistryUnknownName(string name);
    /// @dev `name` exists but `version` of it was never published.
    error RegistryUnknownVersion(string name, string version);

    /// @notice `creator` published version `version` of `name` with manifest digest `manifest` and royalty `royaltyBps`.
    event ModulePublished(
        bytes32 indexed nameHash, address indexed creator, string name, string version, bytes32 manifest, uint16 royaltyBps
    );
    /// @notice `from` handed the name to `to`, who alone may publish under it from now on.
    event NameTransferred(bytes32 indexed nameHash, address indexed from, address indexed to, string name);

    // ---- Writes ---------------------------------------------------------------------------------

    /// @notice Publish version `version` of module `name`: its manifest's digest and the royalty
    /// its deals pay the caller. The caller claims `name` if nobody holds it yet; otherwise it
    /// must be the name's creator. A version is published once and never changes. Versions may be
    /// published in any order (a patch to an older line after a newer major); {latest} is always
    /// the highest.
    /// @param name The module's name (see {MAX_NAME_LENGTH} and the rule above).
    /// @param version Its semver `x.y.z`.
    /// @param manifest The sha-256 digest of the manifest's dag-json block.
    /// @param royaltyBps The caller's share of each deal's price, at most {MAX_ROYALTY_BPS}.
    function publish(string calldata name, string calldata version, bytes32 manifest, uint16 royaltyBps) external {
        // REJECT: a name the off-chain manifest rule would refuse.
        if (!_isValidName(name)) revert RegistryInvalidName(name);
        (uint96 v, bool ok) = _parseVersion(version);
        // REJECT: a version that is not x.y.z, or that has a second spelling (leading zeros).
        if (!ok) revert RegistryInvalidVersion(version);
        // REJECT: an entry that names no manifest.
        if (manifest == bytes32(0)) revert RegistryEmptyManifest();
        // REJECT: a royalty above the whole price.
        if (royaltyBps > MAX_ROYALTY_BPS) revert RegistryInvalidRoyalty(royaltyBps);

        bytes32 key = keccak256(bytes(name));
        NameRecord memory held = _byName[key];
        if (held.creator == address(0)) {
            _names.push(name);
            _byName[key] = NameRecord({creator: msg.sender, latest: v});
        } else {
            // REJECT: nobody publishes under a name another creator holds.
            if (held.creator != msg.sender) revert RegistryNameTaken(name, held.creator);
            // REJECT: a published version never changes, not even by its own creator.
            ModuleEntry storage existing = _entries[key][v];
            if (existing.publishedAt != 0) revert RegistryVersionExists(name, version, existing.manifest);
            if (v > held.latest) _byName[key].latest = v;
        }
        // uint48 holds block timestamps for millions of years.
        _entries[key][v] = ModuleEntry({
            manifest: manifest, creator: msg.sender, royaltyBps: royaltyBps, publishedAt: uint48(block.timestamp)
        });
        _versions[key].push(v);
        emit ModulePublished(key, msg.sender, name, version, manifest, royaltyBps);
    }

    /// @notice Hand `name` to `to`, who alone may publish new versions under it from now on (a
    /// key rotation, a new maintainer). Only the name's creator may call it. Versions already
    /// published keep their creator and royalty: they never change.
    /// @param name A name the caller holds.
    /// @param to The new creator of the name; not the zero address.
    function transferName(string calldata name, address to) external {
        bytes32 key = keccak256(bytes(name));
        address creator = _byName[key].creator;
        if (creator == address(0)) revert RegistryUnknownName(name);
        // REJECT: only the name's creator gives it away.
        if (creator != msg.sender) revert RegistryNotNameCreator(name, creator, msg.sender);
        // REJECT: the zero address marks an unclaimed name; handing it there would free the name.
        if (to == address(0)) revert RegistryZeroCreator(name);
        _byName[key].creator = to;
        emit NameTransferred(key, msg.sender, to, name);
    }

    // ---- Views ----------------------------------------------------------------------------------

    /// @notice The entry of version `version` of `name`. Reverts if it was never published.
    function get(string calldata name, string calldata version) external view returns (ModuleEntry memory) {
        (uint96 v, bool ok) = _parseVersion(version);
        if (!ok) revert RegistryInvalidVersion(version);
        bytes32 key = _known(name);
        ModuleEntry memory entry = _entries[key][v];
        if (entry.publishedAt == 0) revert RegistryUnknownVersion(name, version);
        return entry;
    }

    /// @notice The highest version of `name` (by semver, not by publication time) and its entry.
    /// Reverts if nothing was published under `name`.
    function latest(string calldata name) external view returns (string memory version, ModuleEntry memory entry) {
        bytes32 key = _known(name);
        uint96 v = _byName[key].latest;
        return (_formatVersion(v), _entries[key][v]);
    }

    /// @notice The account that holds `name` (may publish under it); zero if nobody does yet.
    function creatorOf(string calldata name) external view returns (address) {
        return _byName[keccak256(bytes(name))].creator;
    }

    /// @notice Up to `limit` versions of `name` from position `offset`, in the order they were
    /// published, and how many there are. Reverts if nothing was published under `name`.
    function versions(string calldata name, uint256 offset, uint256 limit)
        external
        view
        returns (string[] memory page, uint256 total)
    {
        uint96[] storage all = _versions[_known(name)];
        total = all.length;
        (uint256 start, uint256 end) = _window(total, offset, limit);
        page = new string[](end - start);
        for (uint256 i = start; i < end; ++i) {
            page[i - start] = _formatVersion(all[i]);
        }
    }

    /// @notice Up to `limit` names from position `offset`, in the order they were first
    /// published, and how many names there are.
    function names(uint256 offset, uint256 limit) external view returns (string[] memory page, uint256 total) {
        total = _names.length;
        (uint256 start, uint256 end) = _window(total, offset, limit);
        page = new string[](end - start);
        for (uint256 i = start; i < end; ++i) {
            page[i - start] = _names[i];
        }
    }

    // ---- Internals ------------------------------------------------------------------------------

    /// @dev The key of `name`, which must have been published under.
    function _known(string calldata name) private view returns (bytes32 key) {
        key = keccak256(bytes(name));
        if (_byName[key].creator == address(0)) revert RegistryUnknownName(name);
    }

    /// @dev [start, end) of the page `offset`, `limit` in a list of `total`, clamped to the list.
    function _window(uint256 total, uint256 offset, uint256 limit) private pure returns (uint256 start, uint256 end) {
        start = offset < total ? offset : total;
        // unchecked: start <= total, so total - start cannot underflow, and start + limit is taken
        // only when limit < total - start, so it stays below total.
        unchecked {
            end = limit < total - start ? start + limit : total;
        }
    }

    /// @dev 1 to 64 of [a-z0-9-], the first in [a-z]: `^[a-z][a-z0-9-]{0,63}$`.
    function _isValidName(string calldata name) private pure returns (bool) {
        bytes calldata b = bytes(name);
        if (b.length == 0 || b.length > MAX_NAME_LENGTH) return false;
        if (b[0] < "a" || b[0] > "z") return false;
        for (uint256 i = 1; i < b.length; ++i) {
            bytes1 c = b[i];
            if (!((c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-")) return false;
        }
        return true;
    }

    /// @dev `x.y.z` packed as x << 64 | y << 32 | z, so packed values order as semver does.
    /// `ok` is false for anything else: another count of parts, an empty part, a character other
    /// than a digit or a dot, a leading zero, a part of 2^32 or more.
    function _parseVersion(string calldata version) private pure returns (uint96 packed, bool ok) {
        bytes calldata b = bytes(version);
        if (b.length > MAX_VERSION_LENGTH) return (0, false);
        uint256 acc; // the parts before the current one, packed
        uint256 part; // which part the current one is: 0, 1 or 2
        uint256 value; // the current part so far
        uint256 digits; // its digits so far
        for (uint256 i; i < b.length; ++i) {
            bytes1 c = b[i];
            if (c == ".") {
                if (digits == 0 || part == 2) return (0, false);
                acc = (acc << 32) | value;
                (part, value, digits) = (part + 1, 0, 0);
            } else if (c >= "0" && c <= "9") {
                // A digit after a leading 0: "01" would be a second spelling of "1".
                if (digits == 1 && value == 0) return (0, false);
                value = value * 10 + (uint8(c) - 48);
                if (value > type(uint32).max) return (0, false);
                ++digits;
            } else {
                return (0, false);
            }
        }
        if (part != 2 || digits == 0) return (0, false);
        // The cast cannot truncate: acc holds two parts below 2^32 and value a third.
        return (uint96((acc << 32) | value), true);
    }

    /// @dev The one spelling of a packed version.
    function _formatVersion(uint96 v) private pure returns (string memory) {
        return string.concat(
            Strings.toString(v >> 64), ".", Strings.toString((v >> 32) & type(uint32).max), ".", Strings.toString(v & type(uint32).max)
        );
    }
}
