/**
 * Open-addressing hash index from a 32-bit hash to table slots, stored in one
 * Int32Array. The table keeps the keys themselves in its record slab, so the
 * index costs 4 bytes an entry (8 at the 50 % load it keeps) instead of a
 * Map entry plus a key string (~100 bytes) — this is what keeps a million
 * states near 250 bytes each.
 *
 * A cell holds slot + 1 in its low 24 bits and 7 bits of the hash (above the
 * bits that pick the cell) in bits 24–30, so a probe reads one cache line and
 * compares the stored record — a cache miss in a slab of hundreds of MiB —
 * only for 1 in 128 cells of another key. 0 is empty, -1 a tombstone.
 *
 *   31  30 ………… 24 23 ……………………………… 0
 *  +---+----------+--------------------+
 *  | 0 | hash tag |      slot + 1      |
 *  +---+----------+--------------------+
 */
const EMPTY = 0;
const TOMBSTONE = -1;
const SLOT_BITS = 24;
const SLOT_MASK = (1 << SLOT_BITS) - 1;

/** Slots an index can address (16,777,215). */
export const MAX_SLOTS = SLOT_MASK;

export class SlotIndex {
  private cells: Int32Array;
  private mask: number;
  private used = 0; // live + tombstones
  private live = 0;
  private readonly liveSlots?: (visit: (slot: number) => void) => void;

  /**
   * `liveSlots`, when given, visits every slot the index holds in storage
   * order: growing then rehashes the records front to back, which the memory
   * prefetcher follows, instead of in hash order — a cache miss per entry in
   * a slab of hundreds of MiB, and the longest pause of a million-state bulk
   * update.
   */
  constructor(
    initialCapacity = 1024,
    liveSlots?: (visit: (slot: number) => void) => void,
  ) {
    this.liveSlots = liveSlots;
    let capacity = 16;
    while (capacity < initialCapacity * 2) capacity *= 2;
    this.cells = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.live;
  }

  get byteLength(): number {
    return this.cells.byteLength;
  }

  /** First slot whose stored key `matches`, or -1. */
  find(hash: number, matches: (slot: number) => boolean): number {
    const cells = this.cells;
    const tag = tagOf(hash);
    let i = hash & this.mask;
    for (;;) {
      const cell = cells[i];
      if (cell === EMPTY) return -1;
      if ((cell & ~SLOT_MASK) === tag && matches((cell & SLOT_MASK) - 1)) {
        return (cell & SLOT_MASK) - 1;
      }
      i = (i + 1) & this.mask;
    }
  }

  add(hash: number, slot: number, rehashOf: (slot: number) => number): void {
    if (slot >= MAX_SLOTS || slot < 0) {
      throw new RangeError(`slot ${slot} beyond the index's ${MAX_SLOTS}`);
    }
    if ((this.used + 1) * 2 > this.cells.length) this.grow(rehashOf, slot);
    const cells = this.cells;
    let i = hash & this.mask;
    while (cells[i] !== EMPTY && cells[i] !== TOMBSTONE) i = (i + 1) & this.mask;
    if (cells[i] === EMPTY) this.used++;
    cells[i] = tagOf(hash) | (slot + 1);
    this.live++;
  }

  remove(hash: number, slot: number): boolean {
    const cells = this.cells;
    const cell = tagOf(hash) | (slot + 1);
    let i = hash & this.mask;
    for (;;) {
      const found = cells[i];
      if (found === EMPTY) return false;
      if (found === cell) {
        cells[i] = TOMBSTONE;
        this.live--;
        return true;
      }
      i = (i + 1) & this.mask;
    }
  }

  clear(): void {
    this.cells.fill(0);
    this.used = 0;
    this.live = 0;
  }

  /** Rebuilds into a larger (or, with many tombstones, the same) array; `adding` is not in yet. */
  private grow(rehashOf: (slot: number) => number, adding: number): void {
    const old = this.cells;
    // Grow only when live entries need it; otherwise rebuild to drop tombstones.
    const capacity = this.live * 4 > old.length ? old.length * 2 : old.length;
    const cells = this.cells = new Int32Array(capacity);
    const mask = this.mask = capacity - 1;
    const place = (slot: number) => {
      const hash = rehashOf(slot);
      let i = hash & mask;
      while (cells[i] !== EMPTY) i = (i + 1) & mask;
      cells[i] = tagOf(hash) | (slot + 1);
    };
    const expected = this.live;
    let placed = 0;
    if (this.liveSlots) {
      this.liveSlots((slot) => {
        if (slot !== adding) {
          place(slot);
          placed++;
        }
      });
    } else {
      for (let j = 0; j < old.length; j++) {
        if (old[j] > 0) {
          place((old[j] & SLOT_MASK) - 1);
          placed++;
        }
      }
    }
    if (placed !== expected) throw new Error(`SlotIndex: rebuilt ${placed} of ${expected} entries`);
    this.used = placed;
    this.live = placed;
  }
}

/** Bits 25–31 of the hash, in cell position (bits 24–30): never used to pick a cell below 16 M cells. */
function tagOf(hash: number): number {
  return (hash >>> 25) << SLOT_BITS;
}

/** 32-bit finaliser (murmur3 fmix32) so sequential ids spread over the table. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
