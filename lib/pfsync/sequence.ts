/**
 * Optional sequence trailer (beyond the BSDs: pfsync v2 has no sequence
 * numbers, so a lost packet goes unnoticed). With it on, every packet carries
 * 16 bytes right after its records; version-2 receivers process `count`
 * records and ignore trailing bytes (spec pfsync.md §2.1 rule 2), so legacy
 * peers still accept the packet. With authentication on, the 48-byte auth
 * trailer (auth.ts) is sent instead: its first 16 bytes have this same shape,
 * so either one feeds the loss detector.
 *
 * Trailer layout (all big-endian), at offset E = end of the last record:
 *
 *  E+0   4  magic "PSQ1" (0x50 0x53 0x51 0x31); "PSA1" for the auth trailer
 *  E+4   4  sender id: the sender's host id (creator id); 0 = not given
 *  E+8   8  sequence number, +1 per packet the sender emits
 *
 * A sender's sequence starts at (milliseconds since the epoch) × 2^16 like the
 * auth trailer's, so a restarted sender shows up as a jump far larger than any
 * run of lost packets (SEQ_RESET_JUMP) rather than as a loss.
 */
import { AUTH_MAGIC } from "./auth.ts";

export const SEQ_TRAILER_SIZE = 16;
export const SEQ_MAGIC = 0x50535131;

export interface SeqTrailer {
  /** SEQ_MAGIC, or AUTH_MAGIC when read from an auth trailer. */
  readonly magic: number;
  readonly senderId: number;
  readonly sequence: bigint;
}

/** Writes a PSQ1 trailer at `offset` (the caller left SEQ_TRAILER_SIZE bytes there). */
export function encodeSeqTrailer(
  trailer: { readonly senderId: number; readonly sequence: bigint },
  out: Uint8Array = new Uint8Array(SEQ_TRAILER_SIZE),
  offset = 0,
): Uint8Array {
  if (out.length - offset < SEQ_TRAILER_SIZE) {
    throw new RangeError(`no room for a sequence trailer at ${offset} of ${out.length}`);
  }
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(offset, SEQ_MAGIC);
  view.setUint32(offset + 4, trailer.senderId >>> 0);
  view.setBigUint64(offset + 8, BigInt.asUintN(64, trailer.sequence));
  return out;
}

/**
 * The trailer starting at `end` (just past the records), PSQ1 or the first 16
 * bytes of a PSA1 auth trailer; undefined when the bytes there are neither.
 */
export function decodeSeqTrailer(bytes: Uint8Array, end: number): SeqTrailer | undefined {
  if (end < 0 || bytes.length - end < SEQ_TRAILER_SIZE) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(end);
  if (magic !== SEQ_MAGIC && magic !== AUTH_MAGIC) return undefined;
  return { magic, senderId: view.getUint32(end + 4), sequence: view.getBigUint64(end + 8) };
}

/** Hands out a sender's sequence numbers. */
export class SequenceCounter {
  private value: bigint;

  /** `nowMs`: milliseconds since the epoch (the seed), not a monotonic clock. */
  constructor(nowMs: number = Date.now()) {
    this.value = BigInt(Math.floor(nowMs)) << 16n;
  }

  next(): bigint {
    this.value += 1n;
    return this.value;
  }
}

/**
 * A jump forward or back larger than this is a restarted sender, not lost
 * packets: a restart 16 ms later moves the seed by 2^20, and a live sender
 * needs 35 s at the default 30,000 packets/s to lose that many.
 */
export const SEQ_RESET_JUMP = 1 << 20;
/**
 * Sequences below the highest one seen that a late (reordered) packet may still fill: 50 ms
 * of jitter on a bulk update paced at 30,000 packets/s reorders across some 3,000 packets.
 */
export const SEQ_WINDOW = 8192;
/** Senders tracked at once (64 KiB each); the longest-known one makes room for a new one. */
export const SEQ_MAX_SENDERS = 64;

export type SeqObservation =
  | { readonly kind: "first" | "reset" | "duplicate" | "late" | "old" | "own" }
  | { readonly kind: "next" | "ahead" | "filled"; readonly lost: number };

interface Sender {
  /** The first sequence seen (high and low 32 bits): positions count from it. */
  baseHi: number;
  baseLo: number;
  /** Highest position seen. */
  top: number;
  /** Position p is received when seen[p % SEQ_WINDOW] === p + 1 (0 = never). */
  seen: Float64Array;
  /** Holes (positions above top - SEQ_WINDOW not yet received) and when each opened. */
  holes: Map<number, number>;
  /**
   * Losses of positions at or above this count in `recentLost`; set by the
   * first packet after rebase() (what that packet reveals was lost before).
   */
  baseline: number;
  baselinePending: boolean;
}

/**
 * Loss detection over the trailers of one or more senders: the highest
 * sequence per sender, a window for reordering, and holes that count as lost
 * once `reorderMs` passed without the packet, or once they fall out of the
 * window. Pure: every call takes `now` (ms).
 */
export class SequenceTracker {
  readonly reorderMs: number;
  private readonly ownId: number;
  private readonly senders = new Map<string, Sender>();
  /** Packets lost, among those each sender sent after the last rebase(). */
  recentLost = 0;

  constructor(options: { readonly reorderMs?: number; readonly ownId?: number } = {}) {
    this.reorderMs = options.reorderMs ?? 250;
    this.ownId = (options.ownId ?? 0) >>> 0;
  }

  /**
   * One accepted packet's trailer from `source`; returns what it meant and the
   * packets that became lost with it (those pushed out of the window).
   */
  observe(trailer: SeqTrailer, source: string, now: number): SeqObservation {
    const hi = Number(trailer.sequence >> 32n);
    const lo = Number(trailer.sequence & 0xffffffffn);
    return this.observeRaw(trailer.senderId, hi, lo, source, now);
  }

  /** observe() with the sequence as its high and low 32 bits (no bigint per packet). */
  observeRaw(
    senderId: number,
    hi: number,
    lo: number,
    source: string,
    now: number,
  ): SeqObservation {
    if (senderId !== 0 && senderId === this.ownId) return { kind: "own" };
    const key = senderId !== 0 ? this.senderKey(senderId) : source;
    let s = this.senders.get(key);
    if (!s) {
      s = {
        baseHi: hi,
        baseLo: lo,
        top: 0,
        seen: new Float64Array(SEQ_WINDOW),
        holes: new Map(),
        baseline: 0,
        baselinePending: false,
      };
      if (this.senders.size >= SEQ_MAX_SENDERS) {
        this.senders.delete(this.senders.keys().next().value!);
      }
      s.seen[0] = 1;
      this.senders.set(key, s);
      return { kind: "first" };
    }
    const pos = (hi - s.baseHi) * 0x1_0000_0000 + (lo - s.baseLo);
    const delta = pos - s.top;
    if (s.baselinePending && delta >= -SEQ_RESET_JUMP && delta <= SEQ_RESET_JUMP) {
      s.baseline = pos;
      s.baselinePending = false;
    }
    if (delta > SEQ_RESET_JUMP || delta < -SEQ_RESET_JUMP) {
      this.senders.delete(key);
      this.observeRaw(senderId, hi, lo, source, now);
      return { kind: "reset" };
    }
    if (delta <= 0) {
      if (delta <= -SEQ_WINDOW) return { kind: "old" };
      if (s.seen[pos % SEQ_WINDOW] === pos + 1) return { kind: "duplicate" };
      s.seen[pos % SEQ_WINDOW] = pos + 1;
      return s.holes.delete(pos) ? { kind: "filled", lost: 0 } : { kind: "late" };
    }
    let lost = 0;
    // Positions between the old top and this one open as holes; those already
    // below the new window's floor are lost at once.
    const floor = pos - SEQ_WINDOW;
    // Holes open in increasing order, so the ones below the floor come first.
    for (const p of s.holes.keys()) {
      if (p > floor) break;
      s.holes.delete(p);
      lost++;
      if (p >= s.baseline) this.recentLost++;
    }
    const firstHole = Math.max(s.top + 1, floor + 1);
    lost += firstHole - (s.top + 1);
    this.recentLost += Math.max(0, firstHole - Math.max(s.top + 1, s.baseline));
    for (let p = firstHole; p < pos; p++) s.holes.set(p, now);
    s.top = pos;
    s.seen[pos % SEQ_WINDOW] = pos + 1;
    return { kind: delta === 1 ? "next" : "ahead", lost };
  }

  /** Holes older than reorderMs become lost; returns how many. */
  expire(now: number): number {
    let lost = 0;
    for (const s of this.senders.values()) {
      for (const [p, openedAt] of s.holes) {
        if (now - openedAt >= this.reorderMs) {
          s.holes.delete(p);
          lost++;
          if (p >= s.baseline) this.recentLost++;
        }
      }
    }
    return lost;
  }

  /** When expire() next has something to do, or undefined. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const s of this.senders.values()) {
      // Holes open in order, so the first in the map is the oldest.
      for (const openedAt of s.holes.values()) {
        const at = openedAt + this.reorderMs;
        if (next === undefined || at < next) next = at;
        break;
      }
    }
    return next;
  }

  private lastId = -1;
  private lastKey = "";

  /** "#id", built once per sender rather than once per packet. */
  private senderKey(id: number): string {
    if (id !== this.lastId) {
      this.lastId = id;
      this.lastKey = `#${id}`;
    }
    return this.lastKey;
  }

  /**
   * From now on count in `recentLost` only packets each sender sends after
   * this moment: the next packet from each sender marks where that starts
   * (what it shows missing was lost before). Called at a bulk request.
   */
  rebase(): void {
    this.recentLost = 0;
    for (const s of this.senders.values()) s.baselinePending = true;
  }

  /** Holes still open, over all senders. */
  get openHoles(): number {
    let n = 0;
    for (const s of this.senders.values()) n += s.holes.size;
    return n;
  }
}
