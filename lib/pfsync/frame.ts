/**
 * A whole pfsync packet (the IP payload): header + records of one action,
 * then possibly trailing bytes (legacy receivers ignore them; our optional
 * authentication trailer lives there). Spec pfsync.md §2, §3.3, §6.1.
 *
 *  +--------+-----------+-----------+ … +-----------------+
 *  | header | record 0  | record 1  |   | trailing bytes  |
 *  +--------+-----------+-----------+ … +-----------------+
 *  0        4           4 + size
 */
import { DecodeError } from "../bytes/errors.ts";
import type { State } from "../state/types.ts";
import { ACTIONS, recordCount } from "./actions.ts";
import * as H from "./header.ts";
import type * as R from "./records.ts";
import { STATE_RECORD_SIZE } from "./records.ts";

export type PfsyncMessage =
  | { readonly action: typeof H.PFSYNC_ACT_CLR; readonly records: readonly R.StateClear[] }
  | {
    readonly action: typeof H.PFSYNC_ACT_INS | typeof H.PFSYNC_ACT_UPD | typeof H.PFSYNC_ACT_DEL;
    readonly records: readonly State[];
  }
  | { readonly action: typeof H.PFSYNC_ACT_UPD_C; readonly records: readonly R.CompressedUpdate[] }
  | { readonly action: typeof H.PFSYNC_ACT_DEL_C; readonly records: readonly R.CompressedDelete[] }
  | {
    readonly action: typeof H.PFSYNC_ACT_INS_F | typeof H.PFSYNC_ACT_DEL_F;
    readonly records: readonly never[];
  }
  | { readonly action: typeof H.PFSYNC_ACT_UREQ; readonly records: readonly R.UpdateRequest[] }
  | { readonly action: typeof H.PFSYNC_ACT_BUS; readonly records: readonly R.BulkStatus[] };

export interface DecodedFrame {
  readonly header: H.PfsyncHeader;
  readonly message: PfsyncMessage;
  /** Offset just past the last record: where trailing bytes start. */
  readonly end: number;
}

/**
 * Validates and decodes in the receiver's order: hdrops (short header),
 * badver, badact, badlen (fewer than count × size bytes). Never judges record
 * values; that is per-record work for the receiver.
 */
export function decodeFrame(bytes: Uint8Array): DecodedFrame {
  const header = checkFrame(bytes);
  const spec = ACTIONS[header.action];
  const n = spec.recordSize === 0 ? 0 : recordCount(spec, header.count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records = new Array(n);
  let offset = H.PFSYNC_HDRLEN;
  for (let i = 0; i < n; i++, offset += spec.recordSize) {
    records[i] = spec.decode(bytes, offset, view);
  }
  return { header, message: { action: header.action, records } as PfsyncMessage, end: offset };
}

/** The header checks alone; returns the header. */
export function checkFrame(bytes: Uint8Array): H.PfsyncHeader {
  const header = H.decodeHeader(bytes);
  if (header.version !== H.PFSYNC_VERSION) {
    throw new DecodeError("badver", `version ${header.version}, expected ${H.PFSYNC_VERSION}`, 0);
  }
  if (header.action >= H.PFSYNC_ACT_MAX) {
    throw new DecodeError("badact", `action ${header.action} ≥ ${H.PFSYNC_ACT_MAX}`, 2);
  }
  const spec = ACTIONS[header.action];
  const needed = H.PFSYNC_HDRLEN + recordCount(spec, header.count) * spec.recordSize;
  if (bytes.length < needed) {
    throw new DecodeError(
      "badlen",
      `${spec.name} with ${
        recordCount(spec, header.count)
      } records needs ${needed} bytes, got ${bytes.length}`,
      bytes.length,
    );
  }
  return header;
}

/** Bytes a packet of `records` records of `action` occupies (without trailer). */
export function frameLength(action: number, records: number): number {
  const spec = ACTIONS[action];
  return H.PFSYNC_HDRLEN + (spec.countRule === "one" ? 1 : records) * spec.recordSize;
}

/**
 * Encodes a message; `trailerRoom` extra zero bytes are left at the end for
 * the caller (the authentication trailer). CLR and BUS get count 0.
 */
export function encodeFrame(message: PfsyncMessage, trailerRoom = 0): Uint8Array {
  const spec = ACTIONS[message.action];
  if (!spec) throw new RangeError(`unknown action ${message.action}`);
  const records = message.records as readonly unknown[];
  if (spec.countRule === "one" && records.length !== 1) {
    throw new RangeError(`${spec.name} carries exactly one record, got ${records.length}`);
  }
  if (records.length > 255) throw new RangeError(`${records.length} records do not fit a u8 count`);
  const length = frameLength(message.action, records.length);
  const out = new Uint8Array(length + trailerRoom);
  const view = new DataView(out.buffer);
  H.encodeHeader({
    version: H.PFSYNC_VERSION,
    af: 0,
    action: message.action,
    count: spec.countRule === "one" ? 0 : records.length,
  }, out);
  let offset = H.PFSYNC_HDRLEN;
  for (const record of records) {
    spec.encode(record, out, offset, view);
    offset += spec.recordSize;
  }
  return out;
}

/** pfsync0's own MTU before the sync interface lowers it (MCLBYTES). */
export const PFSYNC_IF_MTU = 2048;

/**
 * Records per packet for every action (spec §3.3): computed from the full
 * record size, from min(2048, sync interface MTU), capped at 254.
 */
export function maxRecordsForMtu(syncifMtu = PFSYNC_IF_MTU): number {
  const mtu = Math.min(PFSYNC_IF_MTU, syncifMtu);
  const count = Math.floor((mtu - H.PFSYNC_HDRLEN) / STATE_RECORD_SIZE);
  if (count < 1) throw new RangeError(`MTU ${syncifMtu} cannot carry one pfsync_state`);
  return Math.min(254, count);
}
