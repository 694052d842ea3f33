// primes: count the primes up to n with a segmented sieve of Eratosthenes over the odd numbers.
// CPU-bound and memory-light: one fixed segment plus the base primes up to sqrt(n).
import { fail, input, print, writeFile } from "../../lib/wasi";

const MAX_N: u64 = 2_000_000_000;
const SEGMENT: u32 = 1 << 15; // odd numbers per segment: 32 KiB of flags, sized for the L1 cache

function parseN(text: string): u64 {
  let n: u64 = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57 || n > MAX_N) { n = 0; break; }
    n = n * 10 + <u64>(c - 48);
  }
  if (n < 1 || n > MAX_N) fail(`inputs.n: expected an integer from 1 to ${MAX_N}, got "${text}"`, 2);
  return n;
}

/** The odd primes up to `limit`, by a plain sieve. */
function oddPrimesUpTo(limit: u32): u32[] {
  const composite = new Uint8Array(limit + 1);
  const primes = new Array<u32>();
  for (let p: u32 = 3; p <= limit; p += 2) {
    if (composite[p]) continue;
    primes.push(p);
    for (let m = p * p; m <= limit; m += 2 * p) composite[m] = 1;
  }
  return primes;
}

class Count {
  constructor(public count: u64, public largest: u64) {}
}

/** How many primes are <= n, and the largest of them. */
function countPrimes(n: u64): Count {
  let count: u64 = n >= 2 ? 1 : 0;
  let largest: u64 = n >= 2 ? 2 : 0;
  const base = oddPrimesUpTo(<u32>Math.sqrt(<f64>n));
  // Hot loops use raw addresses: typed-array access would touch the GC's shadow stack each time.
  // Segment flag i stands for the odd number low + 2i; next[k] is where base prime k strikes next.
  const segment = new Uint8Array(SEGMENT);
  const flags = segment.dataStart;
  const nextMultiple = new Uint32Array(base.length);
  const next = nextMultiple.dataStart;
  for (let k = 0; k < base.length; k++) {
    const p = unchecked(base[k]);
    store<u32>(next + (<usize>k << 2), (p * p - 3) / 2);
  }
  for (let low: u64 = 3; low <= n; low += 2 * <u64>SEGMENT) {
    const span = <u32>min<u64>(<u64>SEGMENT, (n - low) / 2 + 1);
    memory.fill(flags, 0, SEGMENT);
    for (let k = 0; k < base.length; k++) {
      const p = unchecked(base[k]);
      const at = next + (<usize>k << 2);
      let i = load<u32>(at);
      for (; i < span; i += p) store<u8>(flags + i, 1);
      store<u32>(at, i - span);
    }
    // Flags past n count as struck; a flag is one byte of 0 or 1, so popcnt counts 8 at a time.
    memory.fill(flags + span, 1, SEGMENT - span);
    let primes: u32 = 0;
    for (let w: usize = 0; w < SEGMENT; w += 8) primes += 8 - <u32>popcnt(load<u64>(flags + w));
    if (primes == 0) continue;
    count += primes;
    let last = span - 1;
    while (load<u8>(flags + last) != 0) last--;
    largest = low + 2 * <u64>last;
  }
  return new Count(count, largest);
}

const n = parseN(input("n"));
const result = countPrimes(n);
print(`${result.count} primes up to ${n}\n`);
writeFile("/outputs/primes.json", `{"n":${n},"count":${result.count},"largest":${result.largest}}\n`);
