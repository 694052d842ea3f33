// A signing account from a private key, as viem's privateKeyToAccount makes, but signing through
// libsecp256k1 (the binding recoverSigner.ts loads). viem signs in pure JS, and its first use in a
// process builds the curve's precomputed tables (~25 ms, on the path of every `lily run`); each
// signature after costs ~0.5 ms, against ~45 µs here. Both are RFC 6979 and low-s, so they make
// the same bytes (test/keyAccount.test.ts checks every kind of signature against viem). Where
// the binding cannot load this is privateKeyToAccount itself.
import { bytesToHex, hashMessage, hashTypedData, hexToBytes, keccak256, serializeSignature, serializeTransaction, type Hex } from "viem";
import { privateKeyToAccount, publicKeyToAddress, signAuthorization, toAccount, type PrivateKeyAccount } from "viem/accounts";
import { nativeSecp256k1 } from "./recoverSigner.ts";

export function keyAccount(privateKey: Hex): PrivateKeyAccount {
  const native = nativeSecp256k1();
  if (!native) return privateKeyToAccount(privateKey);
  const key = hexToBytes(privateKey);
  const publicKey = bytesToHex(native.publicKeyCreate(key, false));
  const signHash = (hash: Hex) => {
    const { signature, recid } = native.ecdsaSign(hexToBytes(hash), key);
    return { r: bytesToHex(signature.subarray(0, 32)), s: bytesToHex(signature.subarray(32, 64)), v: recid ? 28n : 27n, yParity: recid };
  };
  const account = toAccount({
    address: publicKeyToAddress(publicKey),
    async sign({ hash }) {
      return serializeSignature(signHash(hash));
    },
    async signAuthorization(authorization) {
      return signAuthorization({ ...authorization, privateKey });
    },
    async signMessage({ message }) {
      return serializeSignature(signHash(hashMessage(message)));
    },
    async signTransaction(transaction, { serializer = serializeTransaction } = {}) {
      // As viem does: an EIP-4844 transaction is signed without its sidecars.
      const signable = transaction.type === "eip4844" ? { ...transaction, sidecars: false } : transaction;
      return serializer(transaction, signHash(keccak256(await serializer(signable as never))));
    },
    async signTypedData(typedData) {
      return serializeSignature(signHash(hashTypedData(typedData as never)));
    },
  });
  return { ...account, publicKey, source: "privateKey" } as PrivateKeyAccount;
}
