/**
 * `pf_addr` text <-> 16-byte conversion on the hot path of the codec and the
 * state table. lib/net's parsers are general (regexes, arrays); these are
 * hand-rolled because every state record carries four addresses and the codec
 * target is a million records a second.
 */
import { formatIPv6, parseIPv6 } from "../net/address.ts";
import { AF_INET } from "./types.ts";

/** Writes `text` as a 16-byte pf_addr at `offset`; false when it is no address. */
export function writePfAddr(text: string, out: Uint8Array, offset: number): boolean {
  if (writeIPv4(text, out, offset)) {
    out.fill(0, offset + 4, offset + 16);
    return true;
  }
  const v6 = parseIPv6(text);
  if (!v6) return false;
  out.set(v6, offset);
  return true;
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

export function isAddressText(text: string): boolean {
  return writePfAddr(text, new Uint8Array(16), 0);
}

export function isIPv4Text(text: string): boolean {
  return writeIPv4(text, new Uint8Array(4), 0);
}
