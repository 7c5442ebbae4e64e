/**
 * pfsyncd's public library API, re-exported by explicit name so that
 * embedding programs get a stable surface.
 */
export {
  ByteReader,
  ByteWriter,
  DecodeError,
  fromHex,
  internetChecksum,
  toHex,
} from "./lib/bytes/mod.ts";
export {
  cidrContains,
  formatAddress,
  formatCidr,
  parseAddress,
  parseCidr,
  parseIPv4,
  parseIPv6,
} from "./lib/net/mod.ts";
export type { Cidr, Family } from "./lib/net/mod.ts";
export { VERSION } from "./lib/version.ts";
