// A few recently used values by key, in memory, for what a job creator reads again job after job
// and that cannot change under its key: a module's manifest (by its CID), a provider's resource
// offer (by its id, the digest of its signed terms) and the registry's entry for a module version
// (by name@version). Jobs in a row mostly run the same module on the same few providers, and each
// read was a round trip to the store, the solver or the chain on every job.
// Bounded by count: the values are small records.

export class Recent<K, V> {
  /** Least recently used first (a Map keeps insertion order; a hit moves the entry to the end). */
  private readonly entries = new Map<K, V>();
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as K);
  }

  get size(): number {
    return this.entries.size;
  }
}
