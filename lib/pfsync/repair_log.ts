/**
 * What the sender's recent packets carried, by sequence number: the keys of
 * their states, so a NACK can be answered with each state's current version
 * (repair_wire.ts). Two fixed rings — packets and keys — so memory stays
 * bounded (about 1.7 MiB at the defaults) whatever the table's size; a packet
 * whose keys were overwritten is "gone" and its loss is left to a bulk update.
 */
import * as H from "./header.ts";
import { DEL_C_SIZE, STATE_OFFSETS, STATE_RECORD_SIZE, UPD_C_SIZE } from "./records.ts";

export type LookupResult = "ok" | "gone";

/** Where an action's records keep their id and creator id, by action code. */
const KEY_LAYOUT: readonly ({ size: number; id: number; creator: number } | undefined)[] = (() => {
  const full = { size: STATE_RECORD_SIZE, id: STATE_OFFSETS.id, creator: STATE_OFFSETS.creatorId };
  const table: ({ size: number; id: number; creator: number } | undefined)[] = [];
  table[H.PFSYNC_ACT_INS] = full;
  table[H.PFSYNC_ACT_UPD] = full;
  table[H.PFSYNC_ACT_DEL] = full;
  table[H.PFSYNC_ACT_UPD_C] = { size: UPD_C_SIZE, id: 0, creator: 72 };
  table[H.PFSYNC_ACT_DEL_C] = { size: DEL_C_SIZE, id: 0, creator: 8 };
  return table;
})();

/** Packets whose loss a repair cannot express (a CLR drops a whole creator's states). */
const UNREPAIRABLE = new Set<number>([H.PFSYNC_ACT_CLR]);

export class RepairLog {
  private readonly packetMask: number;
  private readonly keyCapacity: number;
  private readonly keyMask: number;
  private readonly seqHi: Uint32Array;
  private readonly seqLo: Uint32Array;
  /** Absolute index of the packet's first key (counts keys ever logged, mod 2^32). */
  private readonly keyStart: Uint32Array;
  private readonly keyCount: Uint16Array;
  /** 0 = slot empty, 1 = logged, 2 = logged but unrepairable. */
  private readonly kind: Uint8Array;
  private readonly idHi: Uint32Array;
  private readonly idLo: Uint32Array;
  private readonly creator: Uint32Array;
  private keysLogged = 0;

  /** Both sizes must be powers of two (slots are sequence and key counters masked). */
  constructor(options: { readonly packets?: number; readonly keys?: number } = {}) {
    const packets = options.packets ?? 16_384;
    const keys = options.keys ?? 131_072;
    for (const [name, n] of [["packets", packets], ["keys", keys]] as const) {
      if (!Number.isInteger(n) || n < 1 || n > 1 << 30 || (n & (n - 1)) !== 0) {
        throw new RangeError(`repair log ${name} must be a power of two, got ${n}`);
      }
    }
    this.packetMask = packets - 1;
    this.keyCapacity = keys;
    this.keyMask = keys - 1;
    this.seqHi = new Uint32Array(packets);
    this.seqLo = new Uint32Array(packets);
    this.keyStart = new Uint32Array(packets);
    this.keyCount = new Uint16Array(packets);
    this.kind = new Uint8Array(packets);
    this.idHi = new Uint32Array(this.keyCapacity);
    this.idLo = new Uint32Array(this.keyCapacity);
    this.creator = new Uint32Array(this.keyCapacity);
  }

  /** Bytes the rings hold. */
  get byteLength(): number {
    return (this.packetMask + 1) * 15 + this.keyCapacity * 12;
  }

  /** Logs the packet `bytes` (a whole frame) sent with sequence hi:lo. */
  record(hi: number, lo: number, bytes: Uint8Array): void {
    const slot = lo & this.packetMask;
    this.seqHi[slot] = hi;
    this.seqLo[slot] = lo;
    const action = bytes[2];
    this.kind[slot] = UNREPAIRABLE.has(action) ? 2 : 1;
    this.keyStart[slot] = this.keysLogged >>> 0;
    const layout = KEY_LAYOUT[action];
    if (!layout) {
      this.keyCount[slot] = 0;
      return;
    }
    const count = Math.min(bytes[3], Math.floor((bytes.length - H.PFSYNC_HDRLEN) / layout.size));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) {
      const o = H.PFSYNC_HDRLEN + i * layout.size;
      const k = this.keysLogged & this.keyMask;
      this.idHi[k] = view.getUint32(o + layout.id);
      this.idLo[k] = view.getUint32(o + layout.id + 4);
      this.creator[k] = view.getUint32(o + layout.creator);
      this.keysLogged = (this.keysLogged + 1) % 0x1_0000_0000;
    }
    this.keyCount[slot] = count;
  }

  /**
   * Visits the state keys the packet hi:lo carried; "gone" when it is no
   * longer logged (or is a CLR), and then nothing is visited.
   */
  lookup(
    hi: number,
    lo: number,
    visit: (idHi: number, idLo: number, creatorId: number) => void,
  ): LookupResult {
    const slot = lo & this.packetMask;
    if (this.kind[slot] !== 1 || this.seqHi[slot] !== hi >>> 0 || this.seqLo[slot] !== lo >>> 0) {
      return "gone";
    }
    const start = this.keyStart[slot];
    const count = this.keyCount[slot];
    const age = (this.keysLogged - start + 0x1_0000_0000) % 0x1_0000_0000;
    if (age > this.keyCapacity) return "gone";
    for (let i = 0; i < count; i++) {
      const k = (start + i) & this.keyMask;
      visit(this.idHi[k], this.idLo[k], this.creator[k]);
    }
    return "ok";
  }
}

/** hi:lo + n, carried into the high word. */
export function seqAdd(hi: number, lo: number, n: number): { hi: number; lo: number } {
  const sum = lo + n;
  return { hi: (hi + Math.floor(sum / 0x1_0000_0000)) >>> 0, lo: sum % 0x1_0000_0000 };
}
