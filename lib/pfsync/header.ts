/**
 * struct pfsync_header (pfsync version 2, 4 bytes) — spec pfsync.md §2.
 *
 *  0         1         2         3
 *  +---------+---------+---------+---------+
 *  | version |   af    | action  |  count  |
 *  +---------+---------+---------+---------+
 *
 * version is 2; af is 0 on send and ignored on receive; count is the number of
 * records, except that CLR and BUS carry one record with count left at 0.
 */
import { DecodeError } from "../bytes/errors.ts";

export const PFSYNC_VERSION = 2;
export const PFSYNC_HDRLEN = 4;
export const PFSYNC_DFLTTL = 255;
export const IPPROTO_PFSYNC = 240;
export const INADDR_PFSYNC_GROUP = "224.0.0.240";

export const PFSYNC_ACT_CLR = 0;
export const PFSYNC_ACT_INS = 1;
export const PFSYNC_ACT_UPD = 2;
export const PFSYNC_ACT_DEL = 3;
export const PFSYNC_ACT_UPD_C = 4;
export const PFSYNC_ACT_DEL_C = 5;
export const PFSYNC_ACT_INS_F = 6;
export const PFSYNC_ACT_DEL_F = 7;
export const PFSYNC_ACT_UREQ = 8;
export const PFSYNC_ACT_BUS = 9;
/** Actions at or above this are `badact` (5.4/6.x). */
export const PFSYNC_ACT_MAX = 10;

export interface PfsyncHeader {
  readonly version: number;
  readonly af: number;
  readonly action: number;
  readonly count: number;
}

/** Decodes the header only; `hdrops` when fewer than 4 bytes. Version/action are not judged here. */
export function decodeHeader(bytes: Uint8Array, offset = 0): PfsyncHeader {
  if (bytes.length - offset < PFSYNC_HDRLEN) {
    throw new DecodeError(
      "hdrops",
      `pfsync header needs 4 bytes, got ${bytes.length - offset}`,
      offset,
    );
  }
  return {
    version: bytes[offset],
    af: bytes[offset + 1],
    action: bytes[offset + 2],
    count: bytes[offset + 3],
  };
}

export function encodeHeader(
  header: PfsyncHeader,
  out: Uint8Array = new Uint8Array(PFSYNC_HDRLEN),
  offset = 0,
): Uint8Array {
  out[offset] = header.version;
  out[offset + 1] = header.af;
  out[offset + 2] = header.action;
  out[offset + 3] = header.count;
  return out;
}
