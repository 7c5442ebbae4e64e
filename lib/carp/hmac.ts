/**
 * CARP authentication (spec §2): HMAC-SHA1 keyed with the passphrase bytes
 * over version, type, vhid, the IPv4 then IPv6 virtual addresses, and the
 * 64-bit counter as it sits on the wire.
 *
 * The kernels copy the passphrase into a 20-byte NUL-terminated buffer, so only
 * its first 19 bytes count; we truncate the same way (silently, as the kernel
 * does). Zero-padding that buffer to 64 bytes is what HMAC already does with a
 * short key, so a stock HMAC over the truncated bytes is bit-identical.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { CARP_ADVERTISEMENT, CARP_HMAC_LENGTH, CARP_VERSION } from "./header.ts";
import type { HmacOrder } from "./types.ts";

export const CARP_PASSPHRASE_MAX = 19;

/** UTF-8 bytes of the passphrase, cut to the 19 bytes the kernel keeps. */
export function carpKey(pass: string): Uint8Array {
  return new TextEncoder().encode(pass).subarray(0, CARP_PASSPHRASE_MAX);
}

/** True when `pass` is longer than the kernel keeps, so callers can warn. */
export function passphraseTruncated(pass: string): boolean {
  return new TextEncoder().encode(pass).length > CARP_PASSPHRASE_MAX;
}

/**
 * Link-local and interface/link-local multicast IPv6 addresses carry a KAME
 * scope id in bytes 2–3 inside BSD kernels; those bytes are zeroed before
 * hashing, so we zero them too for the rare address that has them set.
 */
function scopeZeroed(address: Uint8Array): Uint8Array {
  if (address.length !== 16) return address;
  const linkLocal = address[0] === 0xfe && (address[1] & 0xc0) === 0x80;
  const scopedMulticast = address[0] === 0xff &&
    ((address[1] & 0x0f) === 1 || (address[1] & 0x0f) === 2);
  if (!linkLocal && !scopedMulticast) return address;
  const copy = address.slice();
  copy[2] = copy[3] = 0;
  return copy;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return 0;
}

/**
 * The address section of the message: IPv4 first, then IPv6. "configured"
 * keeps the given order (5.4, interface list order); "sorted" sorts each family
 * ascending and hashes each distinct value once (FreeBSD 10+, later OpenBSD).
 * Byte-wise order equals the unsigned 32-bit order for network-order IPv4.
 */
export function hmacAddresses(addresses: readonly Uint8Array[], order: HmacOrder): Uint8Array[] {
  const v4 = addresses.filter((a) => a.length === 4);
  const v6 = addresses.filter((a) => a.length === 16).map(scopeZeroed);
  if (order === "configured") return [...v4, ...v6];
  const sortUnique = (list: Uint8Array[]) =>
    [...list].sort(compareBytes).filter((a, i, all) =>
      i === 0 || compareBytes(a, all[i - 1]) !== 0
    );
  return [...sortUnique(v4), ...sortUnique(v6)];
}

/** The complete HMAC input M of spec §2.2 (useful for vectors and debugging). */
export function carpHmacMessage(
  vhid: number,
  addresses: readonly Uint8Array[],
  counter: bigint,
  order: HmacOrder = "configured",
): Uint8Array {
  const parts = hmacAddresses(addresses, order);
  const length = 3 + parts.reduce((n, a) => n + a.length, 0) + 8;
  const out = new Uint8Array(length);
  out.set([CARP_VERSION, CARP_ADVERTISEMENT, vhid]);
  let offset = 3;
  for (const a of parts) {
    out.set(a, offset);
    offset += a.length;
  }
  new DataView(out.buffer).setBigUint64(offset, counter);
  return out;
}

export function carpHmac(
  pass: string,
  vhid: number,
  addresses: readonly Uint8Array[],
  counter: bigint,
  order: HmacOrder = "configured",
): Uint8Array {
  const mac = createHmac("sha1", carpKey(pass));
  mac.update(carpHmacMessage(vhid, addresses, counter, order));
  return new Uint8Array(mac.digest());
}

/** Per-vhid authenticator: fixes key, vhid and addresses, varies the counter. */
export class CarpAuthenticator {
  readonly #pass: string;
  readonly #vhid: number;
  readonly #addresses: readonly Uint8Array[];
  readonly #order: HmacOrder;

  constructor(pass: string, vhid: number, addresses: readonly Uint8Array[], order: HmacOrder) {
    this.#pass = pass;
    this.#vhid = vhid;
    this.#addresses = addresses;
    this.#order = order;
  }

  compute(counter: bigint): Uint8Array {
    return carpHmac(this.#pass, this.#vhid, this.#addresses, counter, this.#order);
  }

  verify(counter: bigint, hmac: Uint8Array): boolean {
    if (hmac.length !== CARP_HMAC_LENGTH) return false;
    return timingSafeEqual(this.compute(counter), hmac);
  }
}
