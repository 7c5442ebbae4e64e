/**
 * The small pfsync version-2 records (spec pfsync.md §3.2), plus re-exports
 * of the 224-byte `pfsync_state` codec that lives in lib/state/record.ts
 * (it doubles as the state table's storage layout).
 *
 * pfsync_state_upd (88):  0 id[8] | 8 src peer[32] | 40 dst peer[32]
 *                         | 72 creatorid | 76 expire | 80 timeout | 81 updates | 82 pad[6]
 * pfsync_state_del (16):  0 id[8] | 8 creatorid | 12 src.state | 13 dst.state | 14 pad[2]
 * pfsync_state_upd_req (16): 0 id[8] | 8 creatorid | 12 pad[4]
 * pfsync_state_clr (24):  0 ifname[16] | 16 creatorid | 20 pad[4]
 * pfsync_state_bus (16):  0 creatorid | 4 endtime | 8 status | 9 pad[7]
 *
 * Decoders ignore pad bytes (real CLR/BUS senders leave garbage there);
 * encoders write zeros.
 */
import { DecodeError } from "../bytes/errors.ts";
import { decodePeer, encodePeer, IFNAMSIZ, writeIfname } from "../state/record.ts";
import type { StatePeer } from "../state/types.ts";

export {
  decodeStateRecord,
  encodeStateRecord,
  HOST_SIZE,
  OFF as STATE_OFFSETS,
  PEER_SIZE,
  STATE_RECORD_SIZE,
} from "../state/record.ts";

export const UPD_C_SIZE = 88;
export const DEL_C_SIZE = 16;
export const UREQ_SIZE = 16;
export const CLR_SIZE = 24;
export const BUS_SIZE = 16;

export const PFSYNC_BUS_START = 1;
export const PFSYNC_BUS_END = 2;

export interface CompressedUpdate {
  readonly id: bigint;
  readonly creatorId: number;
  readonly src: StatePeer;
  readonly dst: StatePeer;
  readonly expire: number;
  readonly timeout: number;
  readonly updates: number;
}

export interface CompressedDelete {
  readonly id: bigint;
  readonly creatorId: number;
  /** Declared peer states; 5.4/6.x senders leave them 0. */
  readonly srcState?: number;
  readonly dstState?: number;
}

export interface UpdateRequest {
  readonly id: bigint;
  readonly creatorId: number;
}

export interface StateClear {
  /** Empty = all interfaces. */
  readonly ifname: string;
  readonly creatorId: number;
}

export interface BulkStatus {
  readonly creatorId: number;
  /** Seconds since the responder received the request. */
  readonly endtime: number;
  readonly status: number;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function need(bytes: Uint8Array, offset: number, size: number, what: string): void {
  if (offset < 0 || offset + size > bytes.length) {
    throw new DecodeError("badlen", `${what} needs ${size} bytes`, offset);
  }
}

function room(out: Uint8Array, offset: number, size: number, what: string): void {
  if (offset < 0 || offset + size > out.length) {
    throw new RangeError(`${what} needs ${size} bytes at ${offset}`);
  }
}

export function decodeCompressedUpdate(
  bytes: Uint8Array,
  o = 0,
  view = viewOf(bytes),
): CompressedUpdate {
  need(bytes, o, UPD_C_SIZE, "pfsync_state_upd");
  return {
    id: view.getBigUint64(o),
    src: decodePeer(view, bytes, o + 8),
    dst: decodePeer(view, bytes, o + 40),
    creatorId: view.getUint32(o + 72),
    expire: view.getUint32(o + 76),
    timeout: bytes[o + 80],
    updates: bytes[o + 81],
  };
}

export function encodeCompressedUpdate(
  record: CompressedUpdate,
  out: Uint8Array = new Uint8Array(UPD_C_SIZE),
  o = 0,
  view = viewOf(out),
): Uint8Array {
  room(out, o, UPD_C_SIZE, "pfsync_state_upd");
  view.setBigUint64(o, record.id);
  encodePeer(record.src, view, out, o + 8);
  encodePeer(record.dst, view, out, o + 40);
  view.setUint32(o + 72, record.creatorId >>> 0);
  view.setUint32(o + 76, record.expire >>> 0);
  out[o + 80] = record.timeout;
  out[o + 81] = record.updates;
  out.fill(0, o + 82, o + UPD_C_SIZE);
  return out;
}

export function decodeCompressedDelete(
  bytes: Uint8Array,
  o = 0,
  view = viewOf(bytes),
): CompressedDelete {
  need(bytes, o, DEL_C_SIZE, "pfsync_state_del");
  const record = { id: view.getBigUint64(o), creatorId: view.getUint32(o + 8) };
  const srcState = bytes[o + 12];
  const dstState = bytes[o + 13];
  return srcState | dstState ? { ...record, srcState, dstState } : record;
}

export function encodeCompressedDelete(
  record: CompressedDelete,
  out: Uint8Array = new Uint8Array(DEL_C_SIZE),
  o = 0,
  view = viewOf(out),
): Uint8Array {
  room(out, o, DEL_C_SIZE, "pfsync_state_del");
  view.setBigUint64(o, record.id);
  view.setUint32(o + 8, record.creatorId >>> 0);
  out[o + 12] = record.srcState ?? 0;
  out[o + 13] = record.dstState ?? 0;
  out[o + 14] = 0;
  out[o + 15] = 0;
  return out;
}

export function decodeUpdateRequest(bytes: Uint8Array, o = 0, view = viewOf(bytes)): UpdateRequest {
  need(bytes, o, UREQ_SIZE, "pfsync_state_upd_req");
  return { id: view.getBigUint64(o), creatorId: view.getUint32(o + 8) };
}

export function encodeUpdateRequest(
  record: UpdateRequest,
  out: Uint8Array = new Uint8Array(UREQ_SIZE),
  o = 0,
  view = viewOf(out),
): Uint8Array {
  room(out, o, UREQ_SIZE, "pfsync_state_upd_req");
  view.setBigUint64(o, record.id);
  view.setUint32(o + 8, record.creatorId >>> 0);
  view.setUint32(o + 12, 0);
  return out;
}

export function isBulkRequest(record: UpdateRequest): boolean {
  return record.id === 0n && record.creatorId === 0;
}

export function decodeStateClear(bytes: Uint8Array, o = 0, view = viewOf(bytes)): StateClear {
  need(bytes, o, CLR_SIZE, "pfsync_state_clr");
  let ifname = "";
  for (let i = 0; i < IFNAMSIZ && bytes[o + i] !== 0; i++) {
    ifname += String.fromCharCode(bytes[o + i]);
  }
  return { ifname, creatorId: view.getUint32(o + 16) };
}

export function encodeStateClear(
  record: StateClear,
  out: Uint8Array = new Uint8Array(CLR_SIZE),
  o = 0,
  view = viewOf(out),
): Uint8Array {
  room(out, o, CLR_SIZE, "pfsync_state_clr");
  writeIfname(record.ifname, out, o);
  view.setUint32(o + 16, record.creatorId >>> 0);
  view.setUint32(o + 20, 0);
  return out;
}

export function decodeBulkStatus(bytes: Uint8Array, o = 0, view = viewOf(bytes)): BulkStatus {
  need(bytes, o, BUS_SIZE, "pfsync_state_bus");
  return { creatorId: view.getUint32(o), endtime: view.getUint32(o + 4), status: bytes[o + 8] };
}

export function encodeBulkStatus(
  record: BulkStatus,
  out: Uint8Array = new Uint8Array(BUS_SIZE),
  o = 0,
  view = viewOf(out),
): Uint8Array {
  room(out, o, BUS_SIZE, "pfsync_state_bus");
  view.setUint32(o, record.creatorId >>> 0);
  view.setUint32(o + 4, record.endtime >>> 0);
  out[o + 8] = record.status;
  out.fill(0, o + 9, o + BUS_SIZE);
  return out;
}
