/**
 * Selective repair on the wire (beyond the BSDs). A receiver whose sequence
 * tracker shows packets missing names them in a NACK; the sender answers with
 * the current version of every state those packets carried (a full UPD, or a
 * DEL_C for a state it no longer has), then a marker saying which ranges it
 * answered. Both ride on an empty UPD_C, which version-2 receivers process as
 * zero records, ignoring the bytes behind (spec pfsync.md §2.1 rule 2).
 *
 * NACK (sent unicast to the sender, without a sequence trailer), at offset 4
 * (just past the empty UPD_C's header), all big-endian:
 *
 *  +0   4  magic "PSN1"
 *  +4   4  sender id whose packets are missing
 *  +8   2  ranges n (1 … MAX_REPAIR_RANGES)
 *  +10  2  zero
 *  +12  n × 12: first sequence (8), packets (4)
 *
 * Repair marker, right behind the PSQ1 trailer of the empty UPD_C that ends
 * an answer (so at offset 4 + 16):
 *
 *  +0   4  magic "PSR1"
 *  +4   2  ranges n (1 … MAX_REPAIR_RANGES)
 *  +6   2  zero
 *  +8   n × 16: first sequence (8), packets (4), status (1: 0 answered,
 *       1 forgotten — too old, or a CLR that only a bulk update repairs), pad (3)
 *
 * Sequence numbers are handled as their high and low 32 bits: they exceed
 * 2^53 (the millisecond seed × 2^16), so a JS number cannot hold one exactly.
 */
import { PFSYNC_ACT_UPD_C, PFSYNC_HDRLEN } from "./header.ts";

export const NACK_MAGIC = 0x50534e31;
export const REPAIRED_MAGIC = 0x50535231;
/** Ranges one NACK or marker carries: keeps either under 1,100 bytes. */
export const MAX_REPAIR_RANGES = 64;

const NACK_HEAD = 12;
const NACK_RANGE = 12;
const MARK_HEAD = 8;
const MARK_RANGE = 16;

export interface SeqRange {
  readonly hi: number;
  readonly lo: number;
  readonly packets: number;
}

export interface RepairedRange extends SeqRange {
  /** False: the sender no longer knows what those packets carried. */
  readonly answered: boolean;
}

export interface Nack {
  readonly senderId: number;
  readonly ranges: readonly SeqRange[];
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkRanges(ranges: readonly unknown[]): void {
  if (ranges.length < 1 || ranges.length > MAX_REPAIR_RANGES) {
    throw new RangeError(
      `a repair block carries 1–${MAX_REPAIR_RANGES} ranges, not ${ranges.length}`,
    );
  }
}

/** The NACK block (what follows the empty UPD_C header). */
export function encodeNack(nack: Nack): Uint8Array {
  checkRanges(nack.ranges);
  const out = new Uint8Array(NACK_HEAD + nack.ranges.length * NACK_RANGE);
  const view = viewOf(out);
  view.setUint32(0, NACK_MAGIC);
  view.setUint32(4, nack.senderId >>> 0);
  view.setUint16(8, nack.ranges.length);
  nack.ranges.forEach((r, i) => {
    const o = NACK_HEAD + i * NACK_RANGE;
    view.setUint32(o, r.hi >>> 0);
    view.setUint32(o + 4, r.lo >>> 0);
    view.setUint32(o + 8, r.packets >>> 0);
  });
  return out;
}

/**
 * The NACK a whole packet carries, or undefined when it is not one (not an
 * empty UPD_C, no PSN1) or is malformed (range count 0, too many, or cut short).
 */
export function decodeNackPacket(packet: Uint8Array): Nack | undefined {
  if (packet.length < PFSYNC_HDRLEN + NACK_HEAD) return undefined;
  if (packet[2] !== PFSYNC_ACT_UPD_C || packet[3] !== 0) return undefined;
  const view = viewOf(packet);
  const at = PFSYNC_HDRLEN;
  if (view.getUint32(at) !== NACK_MAGIC) return undefined;
  const n = view.getUint16(at + 8);
  if (n < 1 || n > MAX_REPAIR_RANGES) return undefined;
  if (packet.length < at + NACK_HEAD + n * NACK_RANGE) return undefined;
  const ranges: SeqRange[] = [];
  for (let i = 0; i < n; i++) {
    const o = at + NACK_HEAD + i * NACK_RANGE;
    ranges.push({
      hi: view.getUint32(o),
      lo: view.getUint32(o + 4),
      packets: view.getUint32(o + 8),
    });
  }
  return { senderId: view.getUint32(at + 4), ranges };
}

/** Whether a packet starts like a NACK (an empty UPD_C with PSN1 behind it). */
export function looksLikeNack(packet: Uint8Array): boolean {
  return packet[2] === PFSYNC_ACT_UPD_C && packet[3] === 0 &&
    hasMagicAt(packet, PFSYNC_HDRLEN, NACK_MAGIC);
}

/** Whether a block starting with `magic` sits at `at` (well formed or not). */
export function hasMagicAt(bytes: Uint8Array, at: number, magic: number): boolean {
  return at >= 0 && bytes.length - at >= 4 && viewOf(bytes).getUint32(at) === magic;
}

/** The marker block (placed behind the PSQ1 trailer). */
export function encodeRepaired(ranges: readonly RepairedRange[]): Uint8Array {
  checkRanges(ranges);
  const out = new Uint8Array(MARK_HEAD + ranges.length * MARK_RANGE);
  const view = viewOf(out);
  view.setUint32(0, REPAIRED_MAGIC);
  view.setUint16(4, ranges.length);
  ranges.forEach((r, i) => {
    const o = MARK_HEAD + i * MARK_RANGE;
    view.setUint32(o, r.hi >>> 0);
    view.setUint32(o + 4, r.lo >>> 0);
    view.setUint32(o + 8, r.packets >>> 0);
    out[o + 12] = r.answered ? 0 : 1;
  });
  return out;
}

/** The marker block at `at`, or undefined when there is none or it is malformed. */
export function decodeRepaired(bytes: Uint8Array, at: number): RepairedRange[] | undefined {
  if (at < 0 || bytes.length - at < MARK_HEAD) return undefined;
  const view = viewOf(bytes);
  if (view.getUint32(at) !== REPAIRED_MAGIC) return undefined;
  const n = view.getUint16(at + 4);
  if (n < 1 || n > MAX_REPAIR_RANGES || bytes.length - at < MARK_HEAD + n * MARK_RANGE) {
    return undefined;
  }
  const ranges: RepairedRange[] = [];
  for (let i = 0; i < n; i++) {
    const o = at + MARK_HEAD + i * MARK_RANGE;
    ranges.push({
      hi: view.getUint32(o),
      lo: view.getUint32(o + 4),
      packets: view.getUint32(o + 8),
      answered: bytes[o + 12] === 0,
    });
  }
  return ranges;
}

/**
 * What the bytes behind a packet's records are, for `pfsyncd decode`: the
 * sequence trailer, the auth trailer, a NACK or a repair marker; undefined
 * when there are none, "unknown" when they are none of these.
 */
export function describeTrailing(packet: Uint8Array, end: number): string | undefined {
  if (end >= packet.length) return undefined;
  if (looksLikeNack(packet)) {
    const nack = decodeNackPacket(packet);
    if (!nack) return "NACK (malformed)";
    const first = nack.ranges[0];
    return `NACK to host ${hexId(nack.senderId)}: ${nack.ranges.length} range(s), first ` +
      `${seqText(first)} +${first.packets}`;
  }
  if (packet.length - end < 16) return "unknown";
  const view = viewOf(packet);
  const magic = view.getUint32(end);
  const seq = `${hexId(view.getUint32(end + 4))} seq ${
    seqText({ hi: view.getUint32(end + 8), lo: view.getUint32(end + 12) })
  }`;
  if (magic === 0x50534131) return `auth trailer, host ${seq}`;
  if (magic !== 0x50535131) return "unknown";
  const marks = decodeRepaired(packet, end + 16);
  if (!marks) return `sequence trailer, host ${seq}`;
  const forgotten = marks.filter((m) => !m.answered).length;
  return `sequence trailer, host ${seq}; repaired ${marks.length} range(s)` +
    (forgotten ? `, ${forgotten} forgotten` : "");
}

function hexId(id: number): string {
  return `0x${(id >>> 0).toString(16).padStart(8, "0")}`;
}

function seqText(seq: { readonly hi: number; readonly lo: number }): string {
  return `${seq.hi >>> 0}:${seq.lo >>> 0}`;
}
