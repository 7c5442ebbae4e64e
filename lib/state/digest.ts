/**
 * An order-independent digest of a state table over what sync must carry:
 * the key (id, creator id), the protocol, the two endpoints as `states`
 * shows them (src/dst: lan and ext in packet order) and both peers. Counters,
 * creation, expiry, timeout, interface, gwy, route and rule fields are left
 * out: they legitimately differ between two synced tables.
 *
 * Two tables whose `states` listings agree on `id@creatorid → proto, src,
 * dst, peers` have the same digest; a difference in any of those changes it
 * (unless two 64-bit sums collide). Each state is hashed straight from its
 * stored 224-byte record (29 big-endian words, no text, no State object)
 * into two independent 32-bit lanes; the lanes are summed over the table
 * modulo 2^32, so insertion order does not matter.
 *
 * Endpoint text is a function of (16 address bytes, "IPv4 form" flag, port):
 * an address prints as IPv4 when af is AF_INET and bytes 4–15 are zero, as
 * IPv6 otherwise (lib/state/addr.ts readPfAddr). Hashing the flag and the
 * bytes therefore matches the text exactly without formatting it.
 */
import { mix32 } from "./index.ts";
import { OFF } from "./record.ts";
import type { StateTable } from "./table.ts";
import { AF_INET, PF_IN } from "./types.ts";

export interface TableDigest {
  /** States hashed. */
  readonly count: number;
  /** 16 lower-case hex digits: lane 2's sum, then lane 1's. */
  readonly digest: string;
}

// Multiply-rotate mixing (the 32-bit murmur3 constants) and its finaliser.
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const SEED1 = 0x5f3759df;
const SEED2 = 0x2545f491;
/** Words hashed per state, folded into the finaliser. */
const WORDS = 29;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function mix(h: number, w: number): number {
  let k = Math.imul(w, C1);
  k = Math.imul(rotl(k, 15), C2);
  h = rotl(h ^ k, 13);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  return mix32(h ^ (WORDS * 4));
}

/** 1 when the address at `o` prints as IPv4 text (AF_INET and a zero tail). */
function ipv4Form(view: DataView, o: number, af: number): number {
  return af === AF_INET && (view.getUint32(o + 4) | view.getUint32(o + 8) |
        view.getUint32(o + 12)) === 0
    ? 1
    : 0;
}

/**
 * Accumulates states one record at a time: `add(view, offset)` reads the
 * 224-byte pfsync_state record at `offset` of `view`.
 */
export class DigestSum {
  count = 0;
  #lane1 = 0;
  #lane2 = 0;
  readonly #words = new Uint32Array(WORDS);

  add(view: DataView, o: number): void {
    const words = this.#words;
    const af = view.getUint8(o + OFF.af);
    const inbound = view.getUint8(o + OFF.direction) === PF_IN;
    // src/dst as `states` prints them: inbound states show ext → lan.
    const s = o + (inbound ? OFF.ext : OFF.lan);
    const d = o + (inbound ? OFF.lan : OFF.ext);
    words[0] = view.getUint32(o + OFF.id);
    words[1] = view.getUint32(o + OFF.id + 4);
    words[2] = view.getUint32(o + OFF.creatorId);
    words[3] = view.getUint8(o + OFF.proto) | (ipv4Form(view, s, af) << 8) |
      (ipv4Form(view, d, af) << 9);
    words[4] = (view.getUint16(s + 16) << 16) | view.getUint16(d + 16);
    for (let k = 0; k < 4; k++) {
      words[5 + k] = view.getUint32(s + 4 * k);
      words[9 + k] = view.getUint32(d + 4 * k);
    }
    // Both peers, all 64 bytes: every byte shows in the `peers` JSON.
    for (let k = 0; k < 16; k++) words[13 + k] = view.getUint32(o + OFF.src + 4 * k);
    let h1 = SEED1;
    let h2 = SEED2;
    for (let k = 0; k < WORDS; k++) {
      const w = words[k];
      h1 = mix(h1, w);
      // Lane 2 takes each word rotated and offset, so the lanes differ beyond their seeds.
      h2 = mix(h2, rotl(w, 16) ^ 0x9e3779b9);
    }
    const lane1 = finish(h1);
    const lane2 = finish(h2 ^ lane1);
    this.#lane1 = (this.#lane1 + lane1) >>> 0;
    this.#lane2 = (this.#lane2 + lane2) >>> 0;
    this.count++;
  }

  result(): TableDigest {
    const hex = (n: number) => n.toString(16).padStart(8, "0");
    return { count: this.count, digest: hex(this.#lane2) + hex(this.#lane1) };
  }
}

/** The digest of 224-byte records (each a Uint8Array holding one record at its start). */
export function digestRecords(records: Iterable<Uint8Array>): TableDigest {
  const sum = new DigestSum();
  for (const record of records) {
    sum.add(new DataView(record.buffer, record.byteOffset, record.byteLength), 0);
  }
  return sum.result();
}

/** The digest of every state in `table`, read from its stored records in slot order. */
export function digestTable(table: StateTable): TableDigest {
  const sum = new DigestSum();
  let buffer: ArrayBufferLike | undefined;
  let view: DataView | undefined;
  for (let slot = table.nextSlot(0); slot >= 0; slot = table.nextSlot(slot + 1)) {
    const record = table.recordAt(slot);
    if (!record) continue;
    // Records share their chunk's buffer: one DataView per chunk.
    if (record.buffer !== buffer) {
      buffer = record.buffer;
      view = new DataView(buffer);
    }
    sum.add(view!, record.byteOffset);
  }
  return sum.result();
}
