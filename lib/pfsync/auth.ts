/**
 * Optional authenticated sync (beyond the BSDs, which have none). With a key
 * configured every packet carries a 48-byte trailer right after its records.
 * Version-2 receivers process `count` records and ignore trailing bytes
 * (spec pfsync.md §2.1 rule 2), so legacy peers still accept the packet.
 *
 * Trailer layout (all big-endian), at offset E = end of the last record:
 *
 *  E+0   4  magic "PSA1" (0x50 0x53 0x41 0x31)
 *  E+4   4  sender id: the sender's host id (creator id); 0 = not given
 *  E+8   8  sequence number, strictly increasing per sender
 *  E+16 32  HMAC-SHA256(key, packet[0 .. E+16]) — header, records and the
 *           first 16 trailer bytes; the IP header is not covered
 *
 * A sender's sequence starts at (milliseconds since the epoch) × 2^16, so it
 * keeps increasing across restarts without stored state. Receivers remember
 * the highest sequence seen from each sender — by its sender id, which the
 * HMAC covers, or by source address when the id is 0 — and treat anything not
 * above it as a replay. The IP header is not authenticated, so keying on the
 * source alone would let a captured packet be replayed from another address;
 * and a packet bearing our own sender id is our own packet reflected back
 * (multicast loopback is off), a replay too.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const AUTH_TRAILER_SIZE = 48;
export const AUTH_MAGIC = 0x50534131;
const MAC_OFFSET = 16;
const MAC_SIZE = 32;

/** "optional": verify trailers that are present; "required": also drop packets without one. */
export type AuthMode = "optional" | "required";

export type AuthVerdict = "ok" | "missing" | "bad" | "replay";

export interface AuthOptions {
  readonly key: Uint8Array;
  readonly mode: AuthMode;
  /** Milliseconds since the epoch, used once to seed the sequence. */
  readonly now?: () => number;
  /** This host's id, written into the trailers it seals (0 = none). */
  readonly senderId?: number;
}

export class PfsyncAuth {
  readonly mode: AuthMode;
  private readonly key: Uint8Array;
  private sequence: bigint;
  private readonly senderId: number;
  private readonly lastSeen = new Map<string, bigint>();

  constructor(options: AuthOptions) {
    if (options.key.length < 16) throw new RangeError("pfsync auth key must be at least 16 bytes");
    this.key = options.key;
    this.mode = options.mode;
    this.senderId = (options.senderId ?? 0) >>> 0;
    this.sequence = BigInt(Math.floor((options.now ?? Date.now)())) << 16n;
  }

  /** Fills the trailer of a packet built with AUTH_TRAILER_SIZE spare bytes after `end`. */
  seal(packet: Uint8Array, end: number): Uint8Array {
    if (packet.length !== end + AUTH_TRAILER_SIZE) {
      throw new RangeError(`packet of ${packet.length} bytes has no trailer room after ${end}`);
    }
    const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
    view.setUint32(end, AUTH_MAGIC);
    view.setUint32(end + 4, this.senderId);
    this.sequence += 1n;
    view.setBigUint64(end + 8, this.sequence);
    packet.set(this.mac(packet.subarray(0, end + MAC_OFFSET)), end + MAC_OFFSET);
    return packet;
  }

  /** Judges the bytes after the records; records the sequence only when the MAC is good. */
  verify(packet: Uint8Array, end: number, peer: string): AuthVerdict {
    if (packet.length - end < AUTH_TRAILER_SIZE) return "missing";
    const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
    if (view.getUint32(end) !== AUTH_MAGIC) return "missing";
    // Bytes after the trailer would be unsigned: refuse rather than ignore them.
    if (packet.length !== end + AUTH_TRAILER_SIZE) return "bad";
    const expected = this.mac(packet.subarray(0, end + MAC_OFFSET));
    const given = packet.subarray(end + MAC_OFFSET, end + MAC_OFFSET + MAC_SIZE);
    if (!timingSafeEqual(expected, given)) return "bad";
    const sender = view.getUint32(end + 4);
    if (sender !== 0 && sender === this.senderId) return "replay";
    const window = sender === 0 ? peer : `#${sender}`;
    const sequence = view.getBigUint64(end + 8);
    const last = this.lastSeen.get(window);
    if (last !== undefined && sequence <= last) return "replay";
    this.lastSeen.set(window, sequence);
    return "ok";
  }

  /**
   * Whether the packet carries a trailer with a good MAC, without the replay
   * bookkeeping of verify(): for packets the receiver set aside before
   * judging their trailer (a BUS nobody waits for), whose sequence still
   * tells the loss detector they arrived.
   */
  authentic(packet: Uint8Array, end: number): boolean {
    if (packet.length !== end + AUTH_TRAILER_SIZE) return false;
    const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
    if (view.getUint32(end) !== AUTH_MAGIC) return false;
    const expected = this.mac(packet.subarray(0, end + MAC_OFFSET));
    return timingSafeEqual(
      expected,
      packet.subarray(end + MAC_OFFSET, end + MAC_OFFSET + MAC_SIZE),
    );
  }

  /** Whether a verdict admits the packet under this mode. */
  admits(verdict: AuthVerdict): boolean {
    return verdict === "ok" || (verdict === "missing" && this.mode === "optional");
  }

  private mac(data: Uint8Array): Uint8Array {
    return createHmac("sha256", this.key).update(data).digest();
  }
}

/**
 * Reads a key file: its bytes with trailing white space removed; a file that
 * is one even-length run of at least 32 hex digits is taken as hex.
 */
export async function readAuthKeyFile(path: string): Promise<Uint8Array> {
  const raw = await Deno.readFile(path);
  return parseAuthKey(raw, path);
}

export function parseAuthKey(raw: Uint8Array, where = "key"): Uint8Array {
  let end = raw.length;
  while (
    end > 0 &&
    (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d || raw[end - 1] === 0x20 ||
      raw[end - 1] === 0x09)
  ) end--;
  const body = raw.subarray(0, end);
  const text = new TextDecoder().decode(body);
  const key = /^([0-9a-fA-F]{2}){16,}$/.test(text)
    ? Uint8Array.from(text.match(/../g)!, (pair) => parseInt(pair, 16))
    : body.slice();
  if (key.length < 16) {
    throw new RangeError(`${where}: pfsync auth key must be at least 16 bytes, got ${key.length}`);
  }
  return key;
}
