/**
 * Per-flow bookkeeping of the mirror (mirror.ts) in columns: a Map from the
 * compact flow key to a slot number, and one typed array per field. A
 * 100,000-flow table cost about 220 bytes a flow as a Map of objects (the
 * object, its boxed timestamps and its bigint id on the JS heap); here a
 * flow is its key string, a small-integer Map value and 48 bytes of columns.
 *
 *   slot → firstSeen (ms) | at (ms) | timeout (s) | id (u64) | creatorId (u32) | sig (u32)
 *
 * Freed slots are reused; the columns double when full.
 */
export class FlowStore {
  readonly #slots = new Map<string, number>();
  readonly #free: number[] = [];
  #high = 0;
  firstSeen: Float64Array;
  at: Float64Array;
  timeout: Float64Array;
  id: BigUint64Array;
  creatorId: Uint32Array;
  sig: Uint32Array;

  constructor(capacity = 1024) {
    this.firstSeen = new Float64Array(capacity);
    this.at = new Float64Array(capacity);
    this.timeout = new Float64Array(capacity);
    this.id = new BigUint64Array(capacity);
    this.creatorId = new Uint32Array(capacity);
    this.sig = new Uint32Array(capacity);
  }

  get size(): number {
    return this.#slots.size;
  }

  /** The flow's slot, or -1. */
  slot(key: string): number {
    return this.#slots.get(key) ?? -1;
  }

  has(key: string): boolean {
    return this.#slots.has(key);
  }

  /** The flow's slot, allocated when new (fields of a new slot are zero). */
  add(key: string): number {
    const known = this.#slots.get(key);
    if (known !== undefined) return known;
    let slot = this.#free.pop();
    if (slot === undefined) {
      if (this.#high === this.at.length) this.#grow();
      slot = this.#high++;
    }
    this.#slots.set(key, slot);
    return slot;
  }

  delete(key: string): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    this.#slots.delete(key);
    this.firstSeen[slot] = this.at[slot] = this.timeout[slot] = 0;
    this.id[slot] = 0n;
    this.creatorId[slot] = this.sig[slot] = 0;
    this.#free.push(slot);
    return true;
  }

  /** [key, slot] pairs, a snapshot (safe to delete while walking it). */
  entries(): [string, number][] {
    return [...this.#slots];
  }

  #grow(): void {
    const size = this.at.length * 2;
    const grow = <T extends Float64Array | BigUint64Array | Uint32Array>(
      old: T,
      make: (n: number) => T,
    ): T => {
      const next = make(size);
      next.set(old as never);
      return next;
    };
    this.firstSeen = grow(this.firstSeen, (n) => new Float64Array(n));
    this.at = grow(this.at, (n) => new Float64Array(n));
    this.timeout = grow(this.timeout, (n) => new Float64Array(n));
    this.id = grow(this.id, (n) => new BigUint64Array(n));
    this.creatorId = grow(this.creatorId, (n) => new Uint32Array(n));
    this.sig = grow(this.sig, (n) => new Uint32Array(n));
  }
}
