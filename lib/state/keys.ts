/**
 * Hashes and comparisons of the two table keys, read straight from stored
 * 224-byte records so lookups never build key strings: (id, creatorid) and
 * the flow (af, proto, lan addr+port, ext addr+port — pf's lan/ext key).
 */
import { mix32 } from "./index.ts";
import { OFF } from "./record.ts";

export function hashId(hi: number, lo: number, creator: number): number {
  return mix32(lo ^ Math.imul(hi, 0x9e3779b1) ^ Math.imul(creator, 0x27d4eb2f));
}

export function idHash(view: DataView, o: number): number {
  return hashId(view.getUint32(o), view.getUint32(o + 4), view.getUint32(o + OFF.creatorId));
}

/** Hash of (af, proto, lan addr+port, ext addr+port) straight from a record. */
export function flowHash(view: DataView, o: number): number {
  let h = (view.getUint8(o + OFF.af) << 8) | view.getUint8(o + OFF.proto);
  for (let i = 0; i < 16; i += 4) {
    h = Math.imul(h ^ view.getUint32(o + OFF.lan + i), 0x01000193);
    h = Math.imul(h ^ view.getUint32(o + OFF.ext + i), 0x01000193);
  }
  h ^= (view.getUint16(o + OFF.lan + 16) << 16) | view.getUint16(o + OFF.ext + 16);
  return mix32(h);
}

export function flowEqual(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  if (a[ao + OFF.af] !== b[bo + OFF.af] || a[ao + OFF.proto] !== b[bo + OFF.proto]) return false;
  for (let i = 0; i < 18; i++) {
    if (a[ao + OFF.lan + i] !== b[bo + OFF.lan + i]) return false;
    if (a[ao + OFF.ext + i] !== b[bo + OFF.ext + i]) return false;
  }
  return true;
}

/** Same (id, creatorid) in two stored records. */
export function sameId(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let i = 0; i < 8; i++) if (a[ao + i] !== b[bo + i]) return false;
  for (let i = OFF.creatorId; i < OFF.creatorId + 4; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
