// Offers at one price rank by id, as text (`byOfferId`): the offer index's sorted lists
// (sortedOffers.ts) break such ties on every insert, and a book priced in round numbers has runs of
// a hundred offers at a price. Comparing the ids read two records and two strings per step, a
// cache miss or more each: the most of what moving a matched offer between classes cost. So each
// listed offer carries a number, beside its price, that orders it among the others by id without
// reading them: a few characters of its id, read from where the indexed ids start to differ.
import type { Hex } from "viem";

/** Characters of an id a key reads: each is 1 + its code (0: past the end), base 257, so 6 stay exact in a double. */
const KEY_CHARS = 6;
const BASE = 257;

/**
 * Keys for the ids of one offer index. Every id indexed shares its first `from` characters with
 * every other (with the first one seen, so with all), so two keys that differ order the ids as
 * their text does: their first difference is in the characters the keys read. Equal keys (or a
 * key of -1, an id with a character past one byte) decide nothing: the ids are compared.
 * `from` only shrinks as ids come in; when it does, every key made before is stale (`admit`).
 */
export class TieOrder {
  private first: string | undefined;
  private from = 0;

  /** Take `id` into account; true when the shared prefix shrank, so every listed key must be made again. */
  admit(id: Hex): boolean {
    const first = this.first;
    if (first === undefined) {
      this.first = id;
      this.from = id.length;
      return false;
    }
    let i = 0;
    const end = this.from;
    while (i < end && first.charCodeAt(i) === id.charCodeAt(i)) i++;
    if (i === end) return false;
    this.from = i;
    return true;
  }

  /** `id`'s key (-1: none; compare the ids). Valid for ids `admit`ted, until `admit` says otherwise. */
  key(id: Hex): number {
    let k = 0;
    for (let i = this.from, end = this.from + KEY_CHARS; i < end; i++) {
      const c = i < id.length ? id.charCodeAt(i) + 1 : 0;
      if (c >= BASE) return -1;
      k = k * BASE + c;
    }
    return k;
  }
}
