/**
 * Input generators: mutations of a seed corpus (bit flips, byte inserts and
 * deletes, length- and count-field tweaks, truncation, splicing) and plain
 * random bytes; text mutations (tokens, lines, encoding damage) for the
 * configuration parsers. Everything is driven by one Rng, so an input is a
 * pure function of (seed, index).
 */
import type { Rng } from "./prng.ts";

/** Inputs never grow past this, so a run's memory and time per input stay bounded. */
export const MAX_INPUT = 64 * 1024;

/** Values that break length and count arithmetic. */
const INTERESTING_8 = [0, 1, 2, 3, 4, 0x0f, 0x10, 0x7f, 0x80, 0xfe, 0xff];
const INTERESTING_16 = [0, 1, 3, 4, 8, 15, 16, 17, 20, 36, 0x7fff, 0x8000, 0xfffe, 0xffff];
const INTERESTING_32 = [0, 1, 4, 16, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

export type ByteMutator = (input: Uint8Array, rng: Rng, pool: readonly Uint8Array[]) => Uint8Array;

function offsetIn(input: Uint8Array, rng: Rng, width = 1): number {
  const room = Math.max(0, input.length - width);
  // Half the time aligned to the field width: headers put their fields there.
  const at = rng.int(room + 1);
  return rng.chance(0.5) ? at - (at % width) : at;
}

const flipBits: ByteMutator = (input, rng) => {
  if (input.length === 0) return input;
  const out = input.slice();
  for (let n = rng.range(1, 4); n > 0; n--) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return out;
};

const setByte: ByteMutator = (input, rng) => {
  if (input.length === 0) return input;
  const out = input.slice();
  out[rng.int(out.length)] = rng.chance(0.5) ? rng.pick(INTERESTING_8) : rng.int(256);
  return out;
};

const insertBytes: ByteMutator = (input, rng) => {
  const at = rng.int(input.length + 1);
  const extra = rng.chance(0.5) ? rng.bytes(rng.range(1, 16)) : new Uint8Array(rng.range(1, 8));
  const out = new Uint8Array(input.length + extra.length);
  out.set(input.subarray(0, at));
  out.set(extra, at);
  out.set(input.subarray(at), at + extra.length);
  return out;
};

const deleteBytes: ByteMutator = (input, rng) => {
  if (input.length === 0) return input;
  const at = rng.int(input.length);
  const n = Math.min(input.length - at, rng.range(1, rng.chance(0.8) ? 4 : 64));
  const out = new Uint8Array(input.length - n);
  out.set(input.subarray(0, at));
  out.set(input.subarray(at + n), at);
  return out;
};

const truncate: ByteMutator = (input, rng) => input.slice(0, rng.int(input.length + 1));

const extend: ByteMutator = (input, rng) => {
  const tail = rng.chance(0.5) ? rng.bytes(rng.range(1, 128)) : new Uint8Array(rng.range(1, 64));
  const out = new Uint8Array(input.length + tail.length);
  out.set(input);
  out.set(tail, input.length);
  return out;
};

const duplicateRange: ByteMutator = (input, rng) => {
  if (input.length === 0) return input;
  const from = rng.int(input.length);
  const n = Math.min(input.length - from, rng.range(1, 256));
  const to = rng.int(input.length + 1);
  const out = new Uint8Array(input.length + n);
  out.set(input.subarray(0, to));
  out.set(input.subarray(from, from + n), to);
  out.set(input.subarray(to), to + n);
  return out;
};

/**
 * A length or count field: a u8/u16/u32 in either byte order set to a
 * boundary value, to a value near the real length, or nudged by ±1..4.
 */
const tweakField: ByteMutator = (input, rng) => {
  const width = rng.pick([1, 2, 2, 4, 4]);
  if (input.length < width) return input;
  const out = input.slice();
  const view = new DataView(out.buffer);
  const at = offsetIn(out, rng, width);
  const le = rng.chance(0.5);
  const read = () =>
    width === 1 ? view.getUint8(at) : width === 2 ? view.getUint16(at, le) : view.getUint32(at, le);
  const max = width === 1 ? 0xff : width === 2 ? 0xffff : 0xffffffff;
  let value: number;
  switch (rng.int(4)) {
    case 0:
      value = rng.pick(width === 1 ? INTERESTING_8 : width === 2 ? INTERESTING_16 : INTERESTING_32);
      break;
    case 1:
      value = input.length - at + rng.range(-8, 8);
      break;
    case 2:
      value = input.length + rng.range(-8, 8);
      break;
    default:
      value = read() + rng.range(-4, 4);
  }
  value = ((value % (max + 1)) + (max + 1)) % (max + 1);
  if (width === 1) view.setUint8(at, value);
  else if (width === 2) view.setUint16(at, value, le);
  else view.setUint32(at, value >>> 0, le);
  return out;
};

/** The head of this input and the tail of another seed (or of itself). */
const splice: ByteMutator = (input, rng, pool) => {
  const other = pool.length > 0 ? rng.pick(pool) : input;
  const cut = rng.int(input.length + 1);
  const from = rng.int(other.length + 1);
  const out = new Uint8Array(cut + other.length - from);
  out.set(input.subarray(0, cut));
  out.set(other.subarray(from), cut);
  return out;
};

/** Two seeds back to back (several messages in one datagram, several files). */
const concat: ByteMutator = (input, rng, pool) => {
  const other = pool.length > 0 ? rng.pick(pool) : input;
  const out = new Uint8Array(input.length + other.length);
  out.set(input);
  out.set(other, input.length);
  return out;
};

const overwriteRange: ByteMutator = (input, rng) => {
  if (input.length === 0) return input;
  const out = input.slice();
  const at = rng.int(out.length);
  const n = Math.min(out.length - at, rng.range(1, 32));
  out.set(rng.bytes(n), at);
  return out;
};

export const BYTE_MUTATORS: readonly ByteMutator[] = [
  flipBits,
  flipBits,
  setByte,
  setByte,
  insertBytes,
  deleteBytes,
  truncate,
  extend,
  duplicateRange,
  tweakField,
  tweakField,
  tweakField,
  splice,
  concat,
  overwriteRange,
];

/** One to four stacked mutations of a seed. */
export function mutateBytes(
  seed: Uint8Array,
  rng: Rng,
  pool: readonly Uint8Array[],
): Uint8Array {
  let out = seed;
  for (let n = rng.chance(0.6) ? 1 : rng.range(2, 4); n > 0; n--) {
    out = rng.pick(BYTE_MUTATORS)(out, rng, pool);
    if (out.length > MAX_INPUT) out = out.subarray(0, MAX_INPUT);
  }
  return out === seed ? seed.slice() : out;
}

/** Random bytes, sometimes behind a plausible prefix taken from a seed. */
export function randomBytes(rng: Rng, pool: readonly Uint8Array[], maxLength = 2048): Uint8Array {
  const out = rng.bytes(rng.int(rng.chance(0.7) ? 128 : maxLength));
  if (pool.length > 0 && rng.chance(0.5)) {
    const seed = rng.pick(pool);
    out.set(seed.subarray(0, Math.min(out.length, rng.range(1, 24))));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Text (configuration files)

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Characters that every line-oriented parser has an opinion about. */
const TEXT_NOISE = [
  "\n",
  "\r\n",
  "\t",
  " ",
  "\0",
  "\\",
  "\\\n",
  "'",
  '"',
  "#",
  "=",
  ";",
  ":",
  "{",
  "}",
  "[",
  "]",
  "$",
  "\u00a0",
  "\u2028",
  "\ufeff",
  "\ud800",
  "é",
  "🙂",
  "-1",
  "0",
  "4294967296",
  "1e309",
  "NaN",
  "-0",
  "0x10",
  "999999999999999999999",
];

export interface TextMutationOptions {
  /** Grammar tokens of the target (keywords, operators, key names). */
  readonly tokens: readonly string[];
}

function lines(text: string): string[] {
  return text.split("\n");
}

export function mutateText(
  seed: Uint8Array,
  rng: Rng,
  pool: readonly Uint8Array[],
  options: TextMutationOptions,
): Uint8Array {
  // A few byte-level changes too: invalid UTF-8 reaches the parser as U+FFFD.
  if (rng.chance(0.15)) return mutateBytes(seed, rng, pool);
  let text = decoder.decode(seed);
  for (let n = rng.chance(0.6) ? 1 : rng.range(2, 5); n > 0; n--) {
    text = mutateTextOnce(text, rng, pool, options);
    if (text.length > MAX_INPUT / 2) text = text.slice(0, MAX_INPUT / 2);
  }
  return encoder.encode(text);
}

function mutateTextOnce(
  text: string,
  rng: Rng,
  pool: readonly Uint8Array[],
  options: TextMutationOptions,
): string {
  const at = rng.int(text.length + 1);
  const token = () => rng.chance(0.6) ? rng.pick(options.tokens) : rng.pick(TEXT_NOISE);
  switch (rng.int(11)) {
    case 0:
    case 1: // insert a token
      return text.slice(0, at) + token() + text.slice(at);
    case 2: { // replace a word
      const end = Math.min(text.length, at + rng.range(1, 12));
      return text.slice(0, at) + token() + text.slice(end);
    }
    case 3: { // delete a span
      const end = Math.min(text.length, at + rng.range(1, 20));
      return text.slice(0, at) + text.slice(end);
    }
    case 4: { // delete a line
      const ls = lines(text);
      ls.splice(rng.int(ls.length), 1);
      return ls.join("\n");
    }
    case 5: { // duplicate a line
      const ls = lines(text);
      const i = rng.int(ls.length);
      ls.splice(rng.int(ls.length + 1), 0, ls[i]);
      return ls.join("\n");
    }
    case 6: { // swap two lines
      const ls = lines(text);
      const i = rng.int(ls.length);
      const j = rng.int(ls.length);
      [ls[i], ls[j]] = [ls[j], ls[i]];
      return ls.join("\n");
    }
    case 7: // truncate
      return text.slice(0, at);
    case 8: { // a line from another seed
      const other = lines(decoder.decode(rng.pick(pool)));
      const ls = lines(text);
      ls.splice(rng.int(ls.length + 1), 0, rng.pick(other));
      return ls.join("\n");
    }
    case 9: { // indentation change (YAML structure)
      const ls = lines(text);
      const i = rng.int(ls.length);
      ls[i] = rng.chance(0.5) ? " ".repeat(rng.range(1, 4)) + ls[i] : ls[i].replace(/^\s+/, "");
      return ls.join("\n");
    }
    default: { // repeat a token many times (long words, deep nesting)
      const t = token();
      return text.slice(0, at) + t.repeat(rng.range(2, rng.chance(0.9) ? 8 : 200)) +
        text.slice(at);
    }
  }
}
