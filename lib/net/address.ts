/**
 * IPv4, IPv6, MAC and CIDR parsing and formatting. Addresses are kept as
 * network-order bytes (4 or 16) because that is what every codec writes;
 * parse functions return `undefined` on bad input so callers can say where.
 */

export type Family = 4 | 6;

export interface Cidr {
  readonly family: Family;
  readonly address: Uint8Array;
  readonly prefix: number;
}

const IPV4_PART = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => IPV4_PART.test(p))) return undefined;
  return Uint8Array.from(parts, Number);
}

export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

export function parseIPv6(text: string): Uint8Array | undefined {
  const zoneless = text.split("%")[0];
  if (!/^[0-9a-fA-F:.]+$/.test(zoneless)) return undefined;
  const halves = zoneless.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIPv4(piece);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** RFC 5952 text form: lower case, longest zero run (of two or more) as `::`. */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + i * 2] << 8) | bytes[offset + i * 2 + 1]);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16));
  if (bestStart < 0) return hex(0, 8).join(":");
  return `${hex(0, bestStart).join(":")}::${hex(bestStart + bestLength, 8).join(":")}`;
}

export function parseAddress(text: string): { family: Family; address: Uint8Array } | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, address: v4 };
  const v6 = parseIPv6(text);
  if (v6) return { family: 6, address: v6 };
  return undefined;
}

export function formatAddress(address: Uint8Array): string {
  return address.length === 4 ? formatIPv4(address) : formatIPv6(address);
}

/** `192.0.2.1/24`, `2001:db8::1/64`; a bare address gets a host prefix. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const parsed = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!parsed) return undefined;
  const maxPrefix = parsed.family === 4 ? 32 : 128;
  if (slash < 0) return { ...parsed, prefix: maxPrefix };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > maxPrefix) return undefined;
  return { ...parsed, prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatAddress(cidr.address)}/${cidr.prefix}`;
}

/** True when `address` lies in the subnet `network/prefix` (same family only). */
export function cidrContains(network: Cidr, address: Uint8Array): boolean {
  if (network.address.length !== address.length) return false;
  let bits = network.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((network.address[i] & mask) !== (address[i] & mask)) return false;
  }
  return true;
}

/** Netmask (`255.255.255.0` or `0xffffff00`) to prefix length; undefined if not contiguous. */
export function netmaskToPrefix(text: string): number | undefined {
  let value: number;
  if (/^0x[0-9a-fA-F]{8}$/.test(text)) {
    value = parseInt(text.slice(2), 16);
  } else {
    const bytes = parseIPv4(text);
    if (!bytes) return undefined;
    value = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  }
  const ones = Math.clz32(~value >>> 0);
  const contiguous = ones === 32 ? 0xffffffff : (~(0xffffffff >>> ones)) >>> 0;
  return contiguous === value ? ones : undefined;
}

export function parseMac(text: string): Uint8Array | undefined {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) return undefined;
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

export function formatMac(bytes: Uint8Array, offset = 0): string {
  return Array.from(bytes.subarray(offset, offset + 6), (b) => b.toString(16).padStart(2, "0"))
    .join(":");
}

export function addressesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
