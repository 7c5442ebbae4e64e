/**
 * struct pfsync_state (pfsync version 2, 224 bytes, packed, big-endian) —
 * the wire record of INS/UPD/DEL and also the table's storage layout, which
 * is why it lives here and lib/pfsync re-exports it.
 *
 *  0        8        24        48        72        96       128      160      176
 *  +--id----+-ifname-+--lan----+--gwy----+--ext----+--src---+--dst---+-rt_addr+
 *  176 rule | 180 anchor | 184 nat_rule | 188 creation | 192 expire
 *  196 packets[0] | 200 packets[1] | 204 bytes[0] | 208 bytes[1] | 212 creatorid
 *  216 af | 217 proto | 218 direction | 219 log | 220 allow_opts | 221 timeout
 *  222 sync_flags | 223 updates
 *
 * pfsync_state_host (24): addr 16 | port u16 | pad 3×u16
 * pfsync_state_peer (32): scrub{flags u16, ttl u8, scrub_flag u8, ts_mod u32}
 *   | seqlo u32 | seqhi u32 | seqdiff u32 | max_win u16 | mss u16 | state u8
 *   | wscale u8 | scrub_flag u8 | pad 5
 */
import { DecodeError } from "../bytes/errors.ts";
import { readPfAddr, writePfAddr } from "./addr.ts";
import { AF_INET, type State, type StateHost, type StatePeer } from "./types.ts";

export const STATE_RECORD_SIZE = 224;
export const PEER_SIZE = 32;
export const HOST_SIZE = 24;
export const IFNAMSIZ = 16;

export const OFF = {
  id: 0,
  ifname: 8,
  lan: 24,
  gwy: 48,
  ext: 72,
  src: 96,
  dst: 128,
  rtAddr: 160,
  rule: 176,
  anchor: 180,
  natRule: 184,
  creation: 188,
  expire: 192,
  packets0: 196,
  packets1: 200,
  bytes0: 204,
  bytes1: 208,
  creatorId: 212,
  af: 216,
  proto: 217,
  direction: 218,
  log: 219,
  allowOpts: 220,
  timeout: 221,
  syncFlags: 222,
  updates: 223,
} as const;

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function need(bytes: Uint8Array, offset: number, size: number, what: string): void {
  if (offset < 0 || offset + size > bytes.length) {
    throw new DecodeError("badlen", `${what} needs ${size} bytes`, offset);
  }
}

export function decodePeer(view: DataView, bytes: Uint8Array, o: number): StatePeer {
  const scrubFlags = view.getUint16(o);
  const scrubTtl = bytes[o + 2];
  const scrubScrubFlag = bytes[o + 3];
  const tsMod = view.getUint32(o + 4);
  const peer: {
    -readonly [K in keyof StatePeer]: StatePeer[K];
  } = {
    seqlo: view.getUint32(o + 8),
    seqhi: view.getUint32(o + 12),
    seqdiff: view.getUint32(o + 16),
    maxWin: view.getUint16(o + 20),
    mss: view.getUint16(o + 22),
    state: bytes[o + 24],
    wscale: bytes[o + 25],
  };
  if (scrubFlags | scrubTtl | scrubScrubFlag | tsMod) {
    peer.scrub = { flags: scrubFlags, ttl: scrubTtl, scrubFlag: scrubScrubFlag, tsMod };
  }
  if (bytes[o + 26]) peer.scrubFlag = bytes[o + 26];
  if (bytes[o + 27] | bytes[o + 28] | bytes[o + 29] | bytes[o + 30] | bytes[o + 31]) {
    peer.pad = [bytes[o + 27], bytes[o + 28], bytes[o + 29], bytes[o + 30], bytes[o + 31]];
  }
  return peer;
}

export function encodePeer(peer: StatePeer, view: DataView, bytes: Uint8Array, o: number): void {
  const scrub = peer.scrub;
  if (scrub) {
    view.setUint16(o, scrub.flags);
    bytes[o + 2] = scrub.ttl;
    bytes[o + 3] = scrub.scrubFlag;
    view.setUint32(o + 4, scrub.tsMod >>> 0);
  } else {
    view.setUint32(o, 0);
    view.setUint32(o + 4, 0);
  }
  view.setUint32(o + 8, peer.seqlo >>> 0);
  view.setUint32(o + 12, peer.seqhi >>> 0);
  view.setUint32(o + 16, peer.seqdiff >>> 0);
  view.setUint16(o + 20, peer.maxWin);
  view.setUint16(o + 22, peer.mss);
  bytes[o + 24] = peer.state;
  bytes[o + 25] = peer.wscale;
  bytes[o + 26] = peer.scrubFlag ?? 0;
  const pad = peer.pad;
  if (pad) {
    for (let i = 0; i < 5; i++) bytes[o + 27 + i] = pad[i] ?? 0;
  } else {
    bytes[o + 27] = 0;
    view.setUint32(o + 28, 0);
  }
}

/**
 * The last two IPv4 addresses decoded, as words and text: lan and gwy are
 * usually equal, ext is shared by many states and rt_addr is mostly 0, so
 * most records format one address instead of four.
 */
const seenWords = new Float64Array([-1, -1]);
const seenText = ["", ""];
let seenUsed = 0;

function readAddr(view: DataView, bytes: Uint8Array, o: number, af: number): string {
  if (af !== AF_INET || (view.getUint32(o + 4) | view.getUint32(o + 8) | view.getUint32(o + 12))) {
    return readPfAddr(bytes, o, af);
  }
  const word = view.getUint32(o);
  if (word === 0) return "0.0.0.0"; // rt_addr of most states: kept out of the two slots
  if (word === seenWords[0]) return seenText[seenUsed = 0];
  if (word === seenWords[1]) return seenText[seenUsed = 1];
  const text = readPfAddr(bytes, o, af);
  seenUsed ^= 1;
  seenWords[seenUsed] = word;
  seenText[seenUsed] = text;
  return text;
}

function decodeHost(view: DataView, bytes: Uint8Array, o: number, af: number): StateHost {
  const addr = readAddr(view, bytes, o, af);
  const port = view.getUint16(o + 16);
  const p0 = view.getUint16(o + 18);
  const p1 = view.getUint16(o + 20);
  const p2 = view.getUint16(o + 22);
  return p0 | p1 | p2 ? { addr, port, pad: [p0, p1, p2] } : { addr, port };
}

function encodeHost(host: StateHost, view: DataView, bytes: Uint8Array, o: number): void {
  writeAddrOrThrow(host.addr, view, bytes, o);
  encodeHostTail(host, view, o);
}

function encodeHostTail(host: StateHost, view: DataView, o: number): void {
  view.setUint16(o + 16, host.port);
  const pad = host.pad;
  view.setUint16(o + 18, pad?.[0] ?? 0);
  view.setUint16(o + 20, pad?.[1] ?? 0);
  view.setUint16(o + 22, pad?.[2] ?? 0);
}

/**
 * The last two address texts written and their 16 bytes as four words: the
 * states of a packet mostly share their ext (and rt) address, so most
 * records parse one address text, not three.
 */
const recentText = ["", ""];
const recentWords = new Uint32Array(8);
/** The slot used last; a miss replaces the other one. */
let recentUsed = 0;

function writeAddrOrThrow(text: string, view: DataView, bytes: Uint8Array, o: number): void {
  const slot = text === recentText[0] ? 0 : text === recentText[1] ? 1 : -1;
  if (slot >= 0) {
    const w = slot * 4;
    view.setUint32(o, recentWords[w]);
    view.setUint32(o + 4, recentWords[w + 1]);
    view.setUint32(o + 8, recentWords[w + 2]);
    view.setUint32(o + 12, recentWords[w + 3]);
    recentUsed = slot;
    return;
  }
  if (!writePfAddr(text, bytes, o)) throw new RangeError(`not an IPv4/IPv6 address: ${text}`);
  recentUsed ^= 1;
  recentText[recentUsed] = text;
  const w = recentUsed * 4;
  for (let k = 0; k < 4; k++) recentWords[w + k] = view.getUint32(o + k * 4);
}

/**
 * The last interface name read, and the last written, each as text and as
 * the four words of its 16 bytes ("self" mostly). Kept apart: a read name may
 * carry garbage after its NUL, which a write must not copy.
 */
interface IfnameMemo {
  text: string | undefined;
  readonly words: Uint32Array;
}
const readMemo: IfnameMemo = { text: undefined, words: new Uint32Array(4) };
const writeMemo: IfnameMemo = { text: undefined, words: new Uint32Array(4) };

function memoMatches(memo: IfnameMemo, view: DataView, o: number): boolean {
  const w = memo.words;
  return view.getUint32(o) === w[0] && view.getUint32(o + 4) === w[1] &&
    view.getUint32(o + 8) === w[2] && view.getUint32(o + 12) === w[3];
}

function remember(memo: IfnameMemo, text: string, view: DataView, o: number): void {
  memo.text = text;
  for (let k = 0; k < 4; k++) memo.words[k] = view.getUint32(o + k * 4);
}

/** Latin-1 so that any 16 bytes survive a decode/encode round trip. */
function readIfname(bytes: Uint8Array, o: number, view?: DataView): string {
  if (view && readMemo.text !== undefined && memoMatches(readMemo, view, o)) return readMemo.text;
  let text = "";
  for (let i = o; i < o + IFNAMSIZ && bytes[i] !== 0; i++) text += String.fromCharCode(bytes[i]);
  if (view) remember(readMemo, text, view, o);
  return text;
}

/** Up to 16 Latin-1 characters, NUL-padded (a full 16 leaves no terminator, as on odd wires). */
export function writeIfname(name: string, bytes: Uint8Array, o: number): void {
  if (name.length > IFNAMSIZ) throw new RangeError(`interface name too long: ${name}`);
  for (let i = 0; i < IFNAMSIZ; i++) {
    const c = i < name.length ? name.charCodeAt(i) : 0;
    if (c > 0xff) throw new RangeError(`interface name not Latin-1: ${name}`);
    bytes[o + i] = c;
  }
}

/** Decodes one 224-byte record at `offset`. Never validates values (the receiver does). */
export function decodeStateRecord(bytes: Uint8Array, offset = 0, view = viewOf(bytes)): State {
  need(bytes, offset, STATE_RECORD_SIZE, "pfsync_state");
  const o = offset;
  const af = bytes[o + OFF.af];
  return {
    id: view.getBigUint64(o),
    creatorId: view.getUint32(o + OFF.creatorId),
    ifname: readIfname(bytes, o + OFF.ifname, view),
    lan: decodeHost(view, bytes, o + OFF.lan, af),
    gwy: decodeHost(view, bytes, o + OFF.gwy, af),
    ext: decodeHost(view, bytes, o + OFF.ext, af),
    src: decodePeer(view, bytes, o + OFF.src),
    dst: decodePeer(view, bytes, o + OFF.dst),
    rtAddr: readAddr(view, bytes, o + OFF.rtAddr, af),
    rule: view.getUint32(o + OFF.rule),
    anchor: view.getUint32(o + OFF.anchor),
    natRule: view.getUint32(o + OFF.natRule),
    creation: view.getUint32(o + OFF.creation),
    expire: view.getUint32(o + OFF.expire),
    packets: [view.getUint32(o + OFF.packets0), view.getUint32(o + OFF.packets1)],
    bytes: [view.getUint32(o + OFF.bytes0), view.getUint32(o + OFF.bytes1)],
    af,
    proto: bytes[o + OFF.proto],
    direction: bytes[o + OFF.direction],
    log: bytes[o + OFF.log],
    allowOpts: bytes[o + OFF.allowOpts],
    timeout: bytes[o + OFF.timeout],
    syncFlags: bytes[o + OFF.syncFlags],
    updates: bytes[o + OFF.updates],
  };
}

/**
 * Writes one 224-byte record. Throws RangeError for a State that cannot be
 * represented (bad address text, long interface name): that is a local bug
 * or bad import, never network input.
 */
export function encodeStateRecord(
  state: State,
  out: Uint8Array = new Uint8Array(STATE_RECORD_SIZE),
  offset = 0,
  view = viewOf(out),
): Uint8Array {
  if (offset < 0 || offset + STATE_RECORD_SIZE > out.length) {
    throw new RangeError(`pfsync_state needs ${STATE_RECORD_SIZE} bytes at ${offset}`);
  }
  const o = offset;
  view.setBigUint64(o, state.id);
  const ifo = o + OFF.ifname;
  if (state.ifname === writeMemo.text) {
    for (let k = 0; k < 4; k++) view.setUint32(ifo + k * 4, writeMemo.words[k]);
  } else {
    writeIfname(state.ifname, out, ifo);
    remember(writeMemo, state.ifname, view, ifo);
  }
  encodeHost(state.lan, view, out, o + OFF.lan);
  // Without translation gwy repeats lan: copy instead of parsing the text again.
  if (state.gwy.addr === state.lan.addr) {
    out.copyWithin(o + OFF.gwy, o + OFF.lan, o + OFF.lan + 16);
    encodeHostTail(state.gwy, view, o + OFF.gwy);
  } else {
    encodeHost(state.gwy, view, out, o + OFF.gwy);
  }
  encodeHost(state.ext, view, out, o + OFF.ext);
  encodePeer(state.src, view, out, o + OFF.src);
  encodePeer(state.dst, view, out, o + OFF.dst);
  if (state.rtAddr === "0.0.0.0" || state.rtAddr === "::") {
    out.fill(0, o + OFF.rtAddr, o + OFF.rtAddr + 16);
  } else writeAddrOrThrow(state.rtAddr, view, out, o + OFF.rtAddr);
  view.setUint32(o + OFF.rule, state.rule >>> 0);
  view.setUint32(o + OFF.anchor, state.anchor >>> 0);
  view.setUint32(o + OFF.natRule, state.natRule >>> 0);
  view.setUint32(o + OFF.creation, state.creation >>> 0);
  view.setUint32(o + OFF.expire, state.expire >>> 0);
  view.setUint32(o + OFF.packets0, state.packets[0] >>> 0);
  view.setUint32(o + OFF.packets1, state.packets[1] >>> 0);
  view.setUint32(o + OFF.bytes0, state.bytes[0] >>> 0);
  view.setUint32(o + OFF.bytes1, state.bytes[1] >>> 0);
  view.setUint32(o + OFF.creatorId, state.creatorId >>> 0);
  out[o + OFF.af] = state.af;
  out[o + OFF.proto] = state.proto;
  out[o + OFF.direction] = state.direction;
  out[o + OFF.log] = state.log;
  out[o + OFF.allowOpts] = state.allowOpts;
  out[o + OFF.timeout] = state.timeout;
  out[o + OFF.syncFlags] = state.syncFlags;
  out[o + OFF.updates] = state.updates;
  return out;
}
