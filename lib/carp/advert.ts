/**
 * Building outgoing advertisements: the per-vhid counter of spec §2.4 and the
 * header with its HMAC and checksum.
 */
import { encodeCarpHeader } from "./header.ts";
import type { CarpAuthenticator } from "./hmac.ts";

const COUNTER_MASK = (1n << 64n) - 1n;

export function cryptoRandom64(): bigint {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return (BigInt(words[0]) << 32n) | BigInt(words[1]);
}

/**
 * Kernel and ucarp scheme: until a valid peer packet arrives every packet
 * gets a fresh random counter; after that the node continues from the
 * peer's value + 1, wrapping at 2^64. No replay check depends on it.
 */
export class AdvertCounter {
  #value: bigint | null = null;
  readonly #random: () => bigint;

  constructor(random: () => bigint = cryptoRandom64) {
    this.#random = random;
  }

  /** True until a peer's counter has been adopted (the kernel's `init_counter`). */
  get unsynchronised(): boolean {
    return this.#value === null;
  }

  adopt(peer: bigint): void {
    this.#value = peer & COUNTER_MASK;
  }

  next(): bigint {
    if (this.#value === null) return this.#random() & COUNTER_MASK;
    this.#value = (this.#value + 1n) & COUNTER_MASK;
    return this.#value;
  }
}

/** The 36 bytes of one advertisement, HMAC and checksum filled in. */
export function buildAdvertisement(
  auth: CarpAuthenticator,
  vhid: number,
  advbase: number,
  advskew: number,
  counter: bigint,
): Uint8Array {
  return encodeCarpHeader({ vhid, advbase, advskew, counter, hmac: auth.compute(counter) });
}
