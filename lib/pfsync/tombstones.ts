/**
 * Recently deleted states (beyond the BSDs). pfsync has no ordering: when the
 * sync link reorders packets, a delete can overtake the insert or update of
 * its own state, which the receiver then drops as unknown, and the late
 * record creates a state the sender no longer has — a zombie that only a
 * bulk update would remove. Remembering each deleted (id, creator id) for a
 * little longer than packets can be late lets the receiver refuse such a
 * record. State ids are not reused soon (pf counts them up; the conntrack
 * provider mixes in the kernel's entry id), so a refused record is always
 * an old one.
 *
 * Pure: every call takes `now` (ms). A lookup by the low 32 bits of the id
 * comes first, so that records of states never deleted cost no allocation.
 */
export const TOMBSTONE_TTL_MS = 2_000;
export const TOMBSTONE_CAPACITY = 65_536;

export class Tombstones {
  readonly ttlMs: number;
  readonly capacity: number;
  /** Exact key → when it expires; insertion order is expiry order. */
  private readonly exact = new Map<string, number>();
  /** Low 32 bits of the id → how many exact keys share them. */
  private readonly low = new Map<number, number>();

  constructor(ttlMs = TOMBSTONE_TTL_MS, capacity = TOMBSTONE_CAPACITY) {
    this.ttlMs = ttlMs;
    this.capacity = capacity;
  }

  get size(): number {
    return this.exact.size;
  }

  add(id: bigint, creatorId: number, now: number): void {
    this.expire(now);
    const key = keyOf(id, creatorId);
    if (this.exact.has(key)) this.forget(key);
    else if (this.exact.size >= this.capacity) this.forget(this.exact.keys().next().value!);
    this.exact.set(key, now + this.ttlMs);
    const lo = Number(id & 0xffffffffn);
    this.low.set(lo, (this.low.get(lo) ?? 0) + 1);
  }

  /** Whether the state (id given as its two 32-bit halves) was deleted within the last ttlMs. */
  has(idHi: number, idLo: number, creatorId: number, now: number): boolean {
    if (this.exact.size === 0 || !this.low.has(idLo >>> 0)) return false;
    const key = keyOf((BigInt(idHi >>> 0) << 32n) | BigInt(idLo >>> 0), creatorId);
    const until = this.exact.get(key);
    return until !== undefined && until > now;
  }

  private expire(now: number): void {
    for (const [key, until] of this.exact) {
      if (until > now) break;
      this.forget(key);
    }
  }

  private forget(key: string): void {
    this.exact.delete(key);
    const lo = Number(BigInt(key.slice(key.indexOf(":") + 1)) & 0xffffffffn);
    const n = (this.low.get(lo) ?? 1) - 1;
    if (n > 0) this.low.set(lo, n);
    else this.low.delete(lo);
  }
}

function keyOf(id: bigint, creatorId: number): string {
  return `${creatorId >>> 0}:${id}`;
}
