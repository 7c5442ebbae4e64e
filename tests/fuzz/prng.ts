/**
 * A small deterministic PRNG for the fuzzers. Every input is generated from
 * (run seed, input index) alone, so one failing input can be regenerated
 * without replaying the whole run: `inputRng(seed, index)`.
 *
 * The generator is sfc32 (four 32-bit words), seeded through splitmix32.
 */

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number, stream = 0) {
    const st = { s: (seed ^ Math.imul(stream, 0x27d4eb2d)) | 0 };
    splitmix32(st);
    st.s ^= stream;
    this.#a = splitmix32(st);
    this.#b = splitmix32(st);
    this.#c = splitmix32(st);
    this.#d = splitmix32(st) | 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** The generator of input `index` of a run with `seed`. */
export function inputRng(seed: number, index: number): Rng {
  return new Rng(seed, index);
}

/** A fresh seed from the clock, printed by the runner so the run can be repeated. */
export function freshSeed(): number {
  return (Date.now() ^ Math.floor(performance.now() * 1000)) >>> 0;
}

/** Parses `0x…` or decimal seeds from the command line or FUZZ_SEED. */
export function parseSeed(text: string | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  const value = text.startsWith("0x") ? parseInt(text.slice(2), 16) : parseInt(text, 10);
  return Number.isFinite(value) ? value >>> 0 : undefined;
}

export function formatSeed(seed: number): string {
  return `0x${(seed >>> 0).toString(16).padStart(8, "0")}`;
}
