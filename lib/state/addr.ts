/**
 * `pf_addr` text <-> 16-byte conversion on the hot path of the codec and the
 * state table. lib/net's parsers are general (regexes, arrays); these are
 * hand-rolled because every state record carries four addresses and the codec
 * target is a million records a second.
 */
import { AF_INET } from "./types.ts";

/** Writes `text` as a 16-byte pf_addr at `offset`; false when it is no address. */
export function writePfAddr(text: string, out: Uint8Array, offset: number): boolean {
  if (writeIPv4(text, out, offset)) {
    out.fill(0, offset + 4, offset + 16);
    return true;
  }
  return writeIPv6(text, out, offset);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** RFC 4291 text (with `::` and a trailing dotted quad); no zone ids. */
function writeIPv6(text: string, out: Uint8Array, offset: number): boolean {
  const groups = new Array<number>(8);
  let count = 0;
  let gap = -1;
  let i = 0;
  const length = text.length;
  if (length < 2 || length > 45) return false;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < length) {
    if (count === 8) return false;
    let value = 0;
    let digits = 0;
    const start = i;
    while (i < length && digits < 5) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = value * 16 + h;
      digits++;
      i++;
    }
    if (i < length && text.charCodeAt(i) === 46) {
      // Embedded IPv4 in the last 32 bits.
      if (count > 6) return false;
      const quad = new Uint8Array(4);
      if (!writeIPv4(text.slice(start), quad, 0)) return false;
      groups[count++] = (quad[0] << 8) | quad[1];
      groups[count++] = (quad[2] << 8) | quad[3];
      i = length;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    groups[count++] = value;
    if (i === length) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < length && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === length) {
      return false;
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return false;
  const zeros = 8 - count;
  let g = 0;
  for (let k = 0; k < 8; k++) {
    let value: number;
    if (gap >= 0 && k >= gap && k < gap + zeros) value = 0;
    else value = groups[g++];
    out[offset + k * 2] = value >> 8;
    out[offset + k * 2 + 1] = value & 0xff;
  }
  return true;
}

/** RFC 5952 text: lower case, the longest run (≥ 2) of zero groups as `::`. */
function formatIPv6(bytes: Uint8Array, offset: number): string {
  let bestStart = -1;
  let bestLength = 1;
  let runStart = -1;
  for (let k = 0; k <= 8; k++) {
    const zero = k < 8 && bytes[offset + k * 2] === 0 && bytes[offset + k * 2 + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = k;
    } else if (runStart >= 0) {
      if (k - runStart > bestLength) {
        bestStart = runStart;
        bestLength = k - runStart;
      }
      runStart = -1;
    }
  }
  let text = "";
  for (let k = 0; k < 8; k++) {
    if (k === bestStart) {
      text += k === 0 ? "::" : ":";
      k += bestLength - 1;
      continue;
    }
    text += ((bytes[offset + k * 2] << 8) | bytes[offset + k * 2 + 1]).toString(16);
    if (k < 7) text += ":";
  }
  return text;
}

function writeIPv4(text: string, out: Uint8Array, offset: number): boolean {
  const length = text.length;
  if (length < 7 || length > 15) return false;
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= length; i++) {
    const c = i < length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || value > 255 || part > 3) return false;
      out[offset + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // no leading zeros
      value = value * 10 + (c - 48);
      digits++;
    } else {
      return false;
    }
  }
  return part === 4;
}

/** Reads a pf_addr: IPv4 text for AF_INET with a zero tail, IPv6 text otherwise. */
export function readPfAddr(bytes: Uint8Array, offset: number, af: number): string {
  if (af === AF_INET) {
    let tail = 0;
    for (let i = offset + 4; i < offset + 16; i++) tail |= bytes[i];
    if (tail === 0) {
      return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
    }
  }
  return formatIPv6(bytes, offset);
}

/** Scratch for the is…Text() checks (parsed and thrown away; imports call them per line). */
const checkScratch = new Uint8Array(16);

export function isAddressText(text: string): boolean {
  return writePfAddr(text, checkScratch, 0);
}

export function isIPv4Text(text: string): boolean {
  return writeIPv4(text, checkScratch, 0);
}
