/**
 * What a fuzz target is: a seed corpus, how inputs are made from it, and an
 * instance that feeds one input to the code under test and checks the
 * invariants. `run` returns a short outcome label ("accepted", "badlen" …)
 * for the run's statistics; it throws only when it found a bug — any
 * exception other than the decoder's documented one, or an `InvariantError`
 * (state changed by a rejected input, a bad diagnostic position …).
 */
import { DecodeError } from "../../lib/bytes/errors.ts";
import { MAX_INPUT, mutateBytes, mutateText, randomBytes } from "./mutate.ts";
import { inputRng, type Rng } from "./prng.ts";

export interface FuzzInstance {
  run(input: Uint8Array): string | Promise<string>;
}

export interface FuzzTarget {
  readonly name: string;
  /** One line for reports: which functions the target drives. */
  readonly covers: string;
  readonly kind: "bytes" | "text";
  /** Spec vectors and captured traffic to mutate. */
  seeds(): Uint8Array[];
  /** Grammar tokens for text mutation. */
  readonly tokens?: readonly string[];
  /** Optional repair after mutation (checksums, HMACs) so inputs reach deeper checks. */
  repair?(input: Uint8Array, rng: Rng): Uint8Array;
  /**
   * A fresh instance; rebuilt every BLOCK inputs. `block` (index / BLOCK)
   * lets a target vary its configuration from block to block, reproducibly.
   */
  create(block: number): FuzzInstance | Promise<FuzzInstance>;
}

/** A broken invariant: the harness reports it like an escaped exception. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvariantError";
  }
}

export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === "string" ? message : message());
}

/**
 * Stateful instances are rebuilt at every multiple of BLOCK, so input i
 * depends only on inputs floor(i / BLOCK) · BLOCK … i: a replay of one
 * failure runs that block prefix, not the whole run.
 */
export const BLOCK = 256;

/** Runs a decoder that may only throw DecodeError; returns its reason or "ok". */
export function expectDecodeError(decode: () => unknown): string {
  try {
    decode();
    return "ok";
  } catch (error) {
    if (error instanceof DecodeError) return error.reason;
    throw error;
  }
}

export interface Corpus {
  readonly target: FuzzTarget;
  readonly seeds: readonly Uint8Array[];
}

export function corpusOf(target: FuzzTarget): Corpus {
  const seeds = target.seeds().map((s) => s.subarray(0, MAX_INPUT));
  if (seeds.length === 0) throw new Error(`fuzz target ${target.name} has no seeds`);
  return { target, seeds };
}

/** Input `index` of a run with `seed`: a pure function of both. */
export function generateInput(corpus: Corpus, seed: number, index: number): Uint8Array {
  const rng = inputRng(seed, index);
  const { target, seeds } = corpus;
  const roll = rng.int(100);
  let input: Uint8Array;
  if (roll < 4) input = rng.pick(seeds).slice();
  else if (roll < 12) input = randomBytes(rng, seeds);
  else if (target.kind === "text") {
    input = mutateText(rng.pick(seeds), rng, seeds, { tokens: target.tokens ?? [] });
  } else input = mutateBytes(rng.pick(seeds), rng, seeds);
  if (target.repair && rng.chance(0.5)) input = target.repair(input, rng);
  return input.length > MAX_INPUT ? input.subarray(0, MAX_INPUT) : input;
}
