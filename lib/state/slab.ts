/**
 * Compact storage for the state table: each state's 224-byte record lives in
 * a chunk of 16384 records (3.5 MiB, allocated on demand, never copied on
 * growth), and per-slot metadata sits in parallel typed arrays — 13 bytes a
 * state: created (u32 s), last activity (u32 s), origin (u16), refresh mark
 * (u16, the table's epoch when the state was last written), in use (u8).
 * Freed slots are reused before the high-water mark moves.
 */
import { STATE_RECORD_SIZE } from "./record.ts";

const CHUNK_SHIFT = 14;
const CHUNK_RECORDS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_RECORDS - 1;

/** Byte offset of a slot's record inside its chunk. */
export function offsetOf(slot: number): number {
  return (slot & CHUNK_MASK) * STATE_RECORD_SIZE;
}

export class RecordSlab {
  private readonly chunks: Uint8Array[] = [];
  private readonly views: DataView[] = [];
  private readonly free: number[] = [];
  created: Uint32Array;
  lastActive: Uint32Array;
  /** 0 = local, n = the table's n-th peer. */
  origins: Uint16Array;
  /** The table epoch of the last write (bulk-update stale purge). */
  marks: Uint16Array;
  inUse: Uint8Array;
  /** Slots below this have been handed out at least once. */
  highWater = 0;

  constructor(capacity: number) {
    this.created = new Uint32Array(capacity);
    this.lastActive = new Uint32Array(capacity);
    this.origins = new Uint16Array(capacity);
    this.marks = new Uint16Array(capacity);
    this.inUse = new Uint8Array(capacity);
  }

  get byteLength(): number {
    return this.chunks.length * CHUNK_RECORDS * STATE_RECORD_SIZE + this.created.length * 13;
  }

  chunkOf(slot: number): Uint8Array {
    return this.chunks[slot >>> CHUNK_SHIFT];
  }

  viewOf(slot: number): DataView {
    return this.views[slot >>> CHUNK_SHIFT];
  }

  allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) {
      this.inUse[reused] = 1;
      return reused;
    }
    const slot = this.highWater++;
    if (slot >>> CHUNK_SHIFT >= this.chunks.length) {
      const chunk = new Uint8Array(CHUNK_RECORDS * STATE_RECORD_SIZE);
      this.chunks.push(chunk);
      this.views.push(new DataView(chunk.buffer));
    }
    if (slot >= this.created.length) this.grow(this.created.length * 2);
    this.inUse[slot] = 1;
    return slot;
  }

  release(slot: number): void {
    this.inUse[slot] = 0;
    this.free.push(slot);
  }

  /** Next used slot at or after `from`, or -1. */
  nextSlot(from: number): number {
    for (let slot = Math.max(0, from); slot < this.highWater; slot++) {
      if (this.inUse[slot]) return slot;
    }
    return -1;
  }

  /** Calls `visit` for every used slot, in slot order. */
  forEachUsed(visit: (slot: number) => void): void {
    const inUse = this.inUse;
    for (let slot = 0; slot < this.highWater; slot++) if (inUse[slot]) visit(slot);
  }

  isUsed(slot: number): boolean {
    return slot >= 0 && slot < this.highWater && this.inUse[slot] === 1;
  }

  private grow(capacity: number): void {
    const grow = <T extends Uint32Array | Uint16Array | Uint8Array>(old: T, next: T): T => {
      next.set(old);
      return next;
    };
    this.created = grow(this.created, new Uint32Array(capacity));
    this.lastActive = grow(this.lastActive, new Uint32Array(capacity));
    this.origins = grow(this.origins, new Uint16Array(capacity));
    this.marks = grow(this.marks, new Uint16Array(capacity));
    this.inUse = grow(this.inUse, new Uint8Array(capacity));
  }
}
