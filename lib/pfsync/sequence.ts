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

interface Hole {
  readonly openedAt: number;
  /** When the last NACK named it (-1: never). */
  nackedAt: number;
  tries: number;
}

/** NACK timing (repair_wire.ts); without it a hole is lost after `reorderMs`. */
export interface RepairTiming {
  /** Shortest wait before a hole is NACKed; grows with the reordering seen. */
  readonly minDelayMs?: number;
  /**
   * Shortest wait for the repair marker before the NACK is repeated; it
   * grows to twice the smoothed answer time (plus the minimum NACK delay),
   * at most 1 s. A marker for a later NACK repeats an earlier one at once.
   */
  readonly retryMs?: number;
  /**
   * NACKs per hole before it counts as lost (and a bulk update repairs it),
   * while the sender has never answered one; a sender that answers is asked
   * again until the hole is `maxAgeMs` old.
   */
  readonly maxTries?: number;
  readonly maxAgeMs?: number;
}

/** Holes a sender is asked to repair, as sequence ranges. */
export interface DueNack {
  readonly senderId: number;
  /** Where its packets came from: the NACK's destination. */
  readonly source: string;
  readonly ranges: { hi: number; lo: number; packets: number }[];
}

/** How long an observed reordering keeps widening the NACK delay. */
const LATENESS_MEMORY_MS = 10_000;
/** Ranges one NACK may carry (repair_wire.ts MAX_REPAIR_RANGES). */
const NACK_RANGES = 64;

interface Sender {
  readonly senderId: number;
  /** Address of its latest packet. */
  source: string;
  /** It has answered a NACK: its holes are asked for again until they are old. */
  answers: boolean;
  /** The first sequence seen (high and low 32 bits): positions count from it. */
  baseHi: number;
  baseLo: number;
  /** Highest position seen. */
  top: number;
  /** Position p is received when seen[p % SEQ_WINDOW] === p + 1 (0 = never). */
  seen: Float64Array;
  /** Holes (positions above top - SEQ_WINDOW not yet received), in the order they opened. */
  holes: Map<number, Hole>;
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
  private readonly repair: Required<RepairTiming> | undefined;
  private readonly senders = new Map<string, Sender>();
  /** Packets lost, among those each sender sent after the last rebase(). */
  recentLost = 0;
  /** The latest arrival of a reordered packet seen recently, after its hole opened. */
  private lateMs = 0;
  private lateAt = -Infinity;
  /** The smoothed time from a NACK to its marker, for the retry wait. */
  private answerMs = 0;

  /**
   * `repair`: holes of senders that name themselves (a sender id) are NACKed
   * (dueNacks) and lost only when their NACKs go unanswered.
   */
  constructor(
    options: {
      readonly reorderMs?: number;
      readonly ownId?: number;
      readonly repair?: RepairTiming;
    } = {},
  ) {
    this.reorderMs = options.reorderMs ?? 250;
    this.ownId = (options.ownId ?? 0) >>> 0;
    this.repair = options.repair
      ? {
        minDelayMs: options.repair.minDelayMs ?? 10,
        retryMs: options.repair.retryMs ?? 50,
        maxTries: options.repair.maxTries ?? 4,
        maxAgeMs: options.repair.maxAgeMs ?? 30_000,
      }
      : undefined;
  }

  /**
   * How long a hole waits before its NACK: the minimum, plus twice the
   * latest reordering seen in the last 10 s, at most `reorderMs` — on a
   * jittery link a late packet is not NACKed before it had its chance.
   */
  nackDelayMs(now: number): number {
    const min = this.repair?.minDelayMs ?? this.reorderMs;
    const late = now - this.lateAt < LATENESS_MEMORY_MS ? this.lateMs : 0;
    return Math.min(this.reorderMs, min + 2 * late);
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
        senderId,
        source,
        answers: false,
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
    s.source = source;
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
      const hole = s.holes.get(pos);
      if (!hole) return { kind: "late" };
      s.holes.delete(pos);
      this.noteLateness(now - hole.openedAt, now);
      return { kind: "filled", lost: 0 };
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
    for (let p = firstHole; p < pos; p++) s.holes.set(p, { openedAt: now, nackedAt: -1, tries: 0 });
    s.top = pos;
    s.seen[pos % SEQ_WINDOW] = pos + 1;
    return { kind: delta === 1 ? "next" : "ahead", lost };
  }

  /**
   * Holes that count as lost now: older than reorderMs, or — for a sender
   * that is asked for repairs — NACKed maxTries times without an answer.
   * Returns how many.
   */
  expire(now: number): number {
    let lost = 0;
    const timing = this.timing(now);
    for (const s of this.senders.values()) {
      const repair = this.repairs(s);
      for (const [p, hole] of s.holes) {
        if (now < this.lostAt(s, hole, timing)) {
          // Unrepaired holes open in order: the first one still young ends the sweep.
          if (!repair) break;
          continue;
        }
        s.holes.delete(p);
        lost++;
        if (p >= s.baseline) this.recentLost++;
      }
    }
    return lost;
  }

  /**
   * Holes whose NACK (first or repeated) is due, grouped by sender into
   * sequence ranges; each is marked as NACKed now. Empty without repair.
   */
  dueNacks(now: number): DueNack[] {
    const out: DueNack[] = [];
    const timing = this.timing(now);
    for (const s of this.senders.values()) {
      if (!this.repairs(s) || s.holes.size === 0) continue;
      const ranges: DueNack["ranges"] = [];
      let runStart = -1, runEnd = -1;
      const close = () => {
        if (runStart < 0) return;
        const lo = s.baseLo + runStart;
        ranges.push({
          hi: (s.baseHi + Math.floor(lo / 0x1_0000_0000)) >>> 0,
          lo: lo % 0x1_0000_0000,
          packets: runEnd - runStart + 1,
        });
        runStart = -1;
      };
      for (const [p, hole] of s.holes) {
        if (now < this.nackAt(s, hole, timing)) continue;
        if (runStart >= 0 && p === runEnd + 1) runEnd = p;
        else {
          close();
          if (ranges.length >= NACK_RANGES) break;
          runStart = runEnd = p;
        }
        hole.nackedAt = now;
        hole.tries++;
      }
      close();
      if (ranges.length > 0) out.push({ senderId: s.senderId, source: s.source, ranges });
    }
    return out;
  }

  /**
   * A repair marker from `senderId` for `packets` sequences from hi:lo:
   * answered holes close as repaired, forgotten ones as lost.
   */
  repaired(
    senderId: number,
    range: { readonly hi: number; readonly lo: number; readonly packets: number },
    answered: boolean,
    now = 0,
  ): { repaired: number; lost: number } {
    const result = { repaired: 0, lost: 0 };
    const s = senderId === 0 ? undefined : this.senders.get(this.senderKey(senderId));
    if (!s) return result;
    s.answers = true;
    if (s.holes.size === 0) return result;
    // Holes lie within the window below the top: clamp the walk to it (a range from the
    // wire may name positions so far off that a float cannot even count through them).
    const start = (range.hi - s.baseHi) * 0x1_0000_0000 + (range.lo - s.baseLo);
    const first = Math.max(start, s.top - SEQ_WINDOW + 1);
    const last = Math.min(start + range.packets - 1, s.top);
    if (!(first <= last)) return result;
    let answeredNackAt = -1;
    const close = (p: number) => {
      const hole = s.holes.get(p);
      if (!hole) return;
      s.holes.delete(p);
      if (hole.nackedAt > answeredNackAt) answeredNackAt = hole.nackedAt;
      if (answered) result.repaired++;
      else {
        result.lost++;
        if (p >= s.baseline) this.recentLost++;
      }
    };
    // A range wider than the holes is walked through the holes, not through every position.
    if (last - first + 1 > s.holes.size) {
      for (const p of [...s.holes.keys()]) if (p >= first && p <= last) close(p);
    } else {
      for (let p = first; p <= last; p++) close(p);
    }
    if (answeredNackAt >= 0) {
      this.noteAnswer(now - answeredNackAt);
      // The sender answers in order: a hole NACKed before the NACK just answered, still
      // open, lost its NACK or its marker — ask again now rather than after the retry wait.
      const dueAgain = now - this.retryMs();
      for (const hole of s.holes.values()) {
        if (hole.tries > 0 && hole.nackedAt < answeredNackAt) {
          hole.nackedAt = Math.min(hole.nackedAt, dueAgain);
        }
      }
    }
    return result;
  }

  /** When expire() or dueNacks() next has something to do, or undefined. */
  nextDeadline(now = 0): number | undefined {
    let next = Infinity;
    const timing = this.timing(now);
    for (const s of this.senders.values()) {
      for (const hole of s.holes.values()) {
        next = Math.min(next, this.nackAt(s, hole, timing), this.lostAt(s, hole, timing));
        // Without repair, holes open in order: the first in the map is the oldest.
        if (!this.repairs(s)) break;
      }
    }
    return next === Infinity ? undefined : next;
  }

  private repairs(s: Sender): Required<RepairTiming> | undefined {
    return s.senderId !== 0 ? this.repair : undefined;
  }

  private timing(now: number): { readonly delay: number; readonly retry: number } {
    return { delay: this.nackDelayMs(now), retry: this.retryMs() };
  }

  /** When the hole's next NACK is due (Infinity: never — no repair, or tries used up). */
  private nackAt(s: Sender, hole: Hole, t: { delay: number; retry: number }): number {
    const repair = this.repairs(s);
    if (!repair) return Infinity;
    if (hole.tries === 0) return hole.openedAt + t.delay;
    return s.answers || hole.tries < repair.maxTries ? hole.nackedAt + t.retry : Infinity;
  }

  /**
   * When the hole counts as lost: after reorderMs without repair; for a sender
   * that answers NACKs at maxAgeMs; for one that never did, a retry wait after
   * its last NACK once maxTries were sent.
   */
  private lostAt(s: Sender, hole: Hole, t: { delay: number; retry: number }): number {
    const repair = this.repairs(s);
    if (!repair) return hole.openedAt + this.reorderMs;
    if (s.answers) return hole.openedAt + repair.maxAgeMs;
    return hole.tries >= repair.maxTries ? hole.nackedAt + t.retry : Infinity;
  }

  /** The wait before a NACK is repeated (see RepairTiming.retryMs). */
  retryMs(): number {
    const min = this.repair?.retryMs ?? 0;
    return Math.min(1_000, Math.max(min, 2 * this.answerMs + (this.repair?.minDelayMs ?? 0)));
  }

  /** A smoothed NACK-to-marker time (1/8 of each new sample, as TCP smooths its RTT). */
  private noteAnswer(ms: number): void {
    this.answerMs = this.answerMs === 0 ? ms : this.answerMs + (ms - this.answerMs) / 8;
  }

  private noteLateness(ms: number, now: number): void {
    if (now - this.lateAt >= LATENESS_MEMORY_MS || ms >= this.lateMs) this.lateMs = ms;
    this.lateAt = now;
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
