/**
 * The in-process fuzz loop over a range of input indices: generate, run,
 * classify. A worker runs it under a watchdog (guard.ts); `replayInput`
 * runs it directly to reproduce one failure with its stack.
 */
import { toHex } from "../../lib/bytes/hex.ts";
import { formatSeed } from "./prng.ts";
import {
  BLOCK,
  type Corpus,
  corpusOf,
  type FuzzInstance,
  type FuzzTarget,
  generateInput,
} from "./target.ts";

export type FailureKind = "exception" | "invariant" | "hang" | "slow";

export interface FuzzFailure {
  readonly target: string;
  readonly kind: FailureKind;
  readonly seed: number;
  readonly index: number;
  readonly message: string;
  readonly stack?: string;
  /** The failing input, hex. */
  readonly hex: string;
  readonly length: number;
}

export interface RangeResult {
  readonly inputs: number;
  readonly outcomes: Record<string, number>;
  readonly failures: FuzzFailure[];
  /** Failures beyond the ones kept (the same bug tends to fire thousands of times). */
  readonly moreFailures: number;
  readonly elapsedMs: number;
}

export interface RangeOptions {
  readonly seed: number;
  readonly start: number;
  readonly end: number;
  /** An input that takes longer than this is reported as "slow". */
  readonly slowMs: number;
  /** Failures kept in full; the rest are counted. */
  readonly keep?: number;
  /** Called before each input runs (the worker publishes it for the watchdog). */
  readonly before?: (index: number, input: Uint8Array) => void;
}

export function failureOf(
  target: string,
  seed: number,
  index: number,
  input: Uint8Array,
  error: unknown,
): FuzzFailure {
  const e = error instanceof Error ? error : new Error(String(error));
  return {
    target,
    kind: e.name === "InvariantError" ? "invariant" : "exception",
    seed,
    index,
    message: `${e.name}: ${e.message}`,
    stack: e.stack,
    hex: toHex(input),
    length: input.length,
  };
}

export async function runRange(target: FuzzTarget, options: RangeOptions): Promise<RangeResult> {
  const corpus = corpusOf(target);
  const outcomes: Record<string, number> = {};
  const failures: FuzzFailure[] = [];
  const keep = options.keep ?? 10;
  let more = 0;
  let instance: FuzzInstance | undefined;
  const started = performance.now();
  for (let i = options.start; i < options.end; i++) {
    if (!instance || i % BLOCK === 0) instance = await target.create(Math.floor(i / BLOCK));
    const input = generateInput(corpus, options.seed, i);
    options.before?.(i, input);
    const t0 = performance.now();
    let label: string;
    try {
      label = await instance.run(input);
    } catch (error) {
      label = "FAILED";
      if (failures.length < keep) {
        failures.push(failureOf(target.name, options.seed, i, input, error));
      } else more++;
      // Whatever state the bug left behind must not cause the next failures.
      instance = await target.create(Math.floor(i / BLOCK));
    }
    let took = performance.now() - t0;
    if (took > options.slowMs) {
      // Confirm on a fresh instance first: a GC pause or a busy host is not a slow decoder.
      const fresh = await target.create(Math.floor(i / BLOCK));
      const t1 = performance.now();
      try {
        await fresh.run(input);
      } catch {
        // the failure, if any, was recorded above
      }
      took = Math.min(took, performance.now() - t1);
    }
    if (took > options.slowMs) {
      if (failures.length < keep) {
        failures.push({
          target: target.name,
          kind: "slow",
          seed: options.seed,
          index: i,
          message: `input took ${took.toFixed(0)} ms twice (bound ${options.slowMs} ms)`,
          hex: toHex(input),
          length: input.length,
        });
      } else more++;
    }
    outcomes[label] = (outcomes[label] ?? 0) + 1;
  }
  return {
    inputs: options.end - options.start,
    outcomes,
    failures,
    moreFailures: more,
    elapsedMs: performance.now() - started,
  };
}

/**
 * Re-runs input `index` of a run with `seed` in this process, after the
 * inputs of its block that precede it (stateful targets), and returns the
 * failure with its full stack, or undefined when it passes.
 */
export async function replayInput(
  target: FuzzTarget,
  seed: number,
  index: number,
): Promise<{ input: Uint8Array; failure?: FuzzFailure; label?: string }> {
  const corpus: Corpus = corpusOf(target);
  const instance = await target.create(Math.floor(index / BLOCK));
  for (let i = index - (index % BLOCK); i < index; i++) {
    try {
      await instance.run(generateInput(corpus, seed, i));
    } catch {
      // an earlier failure of the block; the one asked for is what matters
    }
  }
  const input = generateInput(corpus, seed, index);
  try {
    return { input, label: await instance.run(input) };
  } catch (error) {
    return { input, failure: failureOf(target.name, seed, index, input, error) };
  }
}

/** A failure as a paragraph: how to reproduce it and the input as hex. */
export function formatFailure(f: FuzzFailure, maxHex = 4096): string {
  const hex = f.hex.length > maxHex
    ? `${f.hex.slice(0, maxHex)}… (${f.length} bytes; regenerate with the seed and index)`
    : f.hex;
  return [
    `${f.target}: ${f.kind} at input ${f.index} of seed ${formatSeed(f.seed)}: ${f.message}`,
    `  reproduce: deno run -A bench/fuzz/run.ts ${f.target} --seed=${
      formatSeed(f.seed)
    } --replay=${f.index}`,
    `  input (${f.length} bytes): ${hex}`,
  ].join("\n");
}
