/**
 * Open-addressing hash index from a 32-bit hash to table slots, stored in one
 * Int32Array. The table keeps the keys themselves in its record slab, so the
 * index costs 4 bytes an entry (8 at the 50 % load it keeps) instead of a
 * Map entry plus a key string (~100 bytes) — this is what keeps a million
 * states near 250 bytes each. A parallel byte per cell holds 8 bits of the
 * hash (above the bits that pick the cell), so a probe compares the stored
 * record — a cache miss in a slab of hundreds of MiB — only for 1 in 256
 * cells of another key.
 */
const EMPTY = 0;
const TOMBSTONE = -1;

export class SlotIndex {
  private cells: Int32Array;
  private tags: Uint8Array;
  private mask: number;
  private used = 0; // live + tombstones
  private live = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity * 2) capacity *= 2;
    this.cells = new Int32Array(capacity);
    this.tags = new Uint8Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.live;
  }

  get byteLength(): number {
    return this.cells.byteLength + this.tags.byteLength;
  }

  /** First slot whose stored key `matches`, or -1. */
  find(hash: number, matches: (slot: number) => boolean): number {
    const cells = this.cells;
    const tags = this.tags;
    const tag = tagOf(hash);
    let i = hash & this.mask;
    for (;;) {
      const cell = cells[i];
      if (cell === EMPTY) return -1;
      if (cell !== TOMBSTONE && tags[i] === tag && matches(cell - 1)) return cell - 1;
      i = (i + 1) & this.mask;
    }
  }

  add(hash: number, slot: number, rehashOf: (slot: number) => number): void {
    if ((this.used + 1) * 2 > this.cells.length) this.grow(rehashOf);
    const cells = this.cells;
    let i = hash & this.mask;
    while (cells[i] !== EMPTY && cells[i] !== TOMBSTONE) i = (i + 1) & this.mask;
    if (cells[i] === EMPTY) this.used++;
    cells[i] = slot + 1;
    this.tags[i] = tagOf(hash);
    this.live++;
  }

  remove(hash: number, slot: number): boolean {
    const cells = this.cells;
    let i = hash & this.mask;
    for (;;) {
      const cell = cells[i];
      if (cell === EMPTY) return false;
      if (cell === slot + 1) {
        cells[i] = TOMBSTONE;
        this.live--;
        return true;
      }
      i = (i + 1) & this.mask;
    }
  }

  clear(): void {
    this.cells.fill(0);
    this.tags.fill(0);
    this.used = 0;
    this.live = 0;
  }

  private grow(rehashOf: (slot: number) => number): void {
    const old = this.cells;
    // Grow only when live entries need it; otherwise rebuild to drop tombstones.
    const capacity = this.live * 4 > old.length ? old.length * 2 : old.length;
    this.cells = new Int32Array(capacity);
    this.tags = new Uint8Array(capacity);
    this.mask = capacity - 1;
    this.used = 0;
    this.live = 0;
    for (let j = 0; j < old.length; j++) {
      const cell = old[j];
      if (cell > 0) {
        const hash = rehashOf(cell - 1);
        let i = hash & this.mask;
        while (this.cells[i] !== EMPTY) i = (i + 1) & this.mask;
        this.cells[i] = cell;
        this.tags[i] = tagOf(hash);
        this.used++;
        this.live++;
      }
    }
  }
}

/** Bits 24–31 of the hash: never used to pick a cell below 16 M cells. */
function tagOf(hash: number): number {
  return hash >>> 24;
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
