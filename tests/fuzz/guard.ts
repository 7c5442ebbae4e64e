/**
 * The guarded runner: a target's input range runs in a Worker while the main
 * thread watches its progress. An input that does not finish within
 * `hangMs` is a hang: the worker is terminated, the input is read back from
 * shared memory and reported, and a new worker resumes after it. Several
 * workers split a long run (the benchmark) across cores.
 */
import { toHex } from "../../lib/bytes/hex.ts";
import { MAX_INPUT } from "./mutate.ts";
import type { FuzzFailure, RangeResult } from "./runner.ts";
import type { WorkerRequest } from "./worker.ts";

export interface FuzzOptions {
  readonly seed: number;
  readonly count: number;
  /** Per-input bound: an input still running after this is a hang. */
  readonly hangMs?: number;
  /** Per-input bound for "slow" reports (measured inside the worker). */
  readonly slowMs?: number;
  readonly workers?: number;
  /** Failures kept in full per worker range. */
  readonly keep?: number;
  /** Time allowed for a worker to load its modules before the first input. */
  readonly startupMs?: number;
  /** A module URL exporting TARGETS, instead of targets/mod.ts (the harness's own tests). */
  readonly module?: string;
}

export interface FuzzReport {
  readonly target: string;
  readonly seed: number;
  readonly inputs: number;
  readonly outcomes: Record<string, number>;
  readonly failures: FuzzFailure[];
  readonly moreFailures: number;
  /** Wall-clock time of the whole run (all workers). */
  readonly elapsedMs: number;
}

const WORKER_URL = new URL("./worker.ts", import.meta.url);

/**
 * Live workers, reused from one range (and target) to the next: starting a
 * worker costs more than a short run (under `deno test` its modules are
 * type-checked on every start). A worker that hung is terminated, never reused.
 */
export class WorkerPool {
  readonly #idle: Worker[] = [];
  #closed = false;

  acquire(): Worker {
    if (this.#closed) throw new Error("fuzz worker pool is closed");
    return this.#idle.pop() ?? new Worker(WORKER_URL, { type: "module" });
  }

  release(worker: Worker): void {
    if (this.#closed) worker.terminate();
    else this.#idle.push(worker);
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#idle.splice(0)) w.terminate();
  }
}

/** Runs [start, end) in one worker; on a hang, reports it and resumes after it. */
async function guardedRange(
  pool: WorkerPool,
  target: string,
  start: number,
  end: number,
  options: FuzzOptions,
): Promise<RangeResult> {
  const outcomes: Record<string, number> = {};
  const failures: FuzzFailure[] = [];
  let more = 0;
  let inputs = 0;
  let elapsedMs = 0;
  let from = start;
  while (from < end) {
    const shared = new SharedArrayBuffer(8 + MAX_INPUT);
    const words = new Int32Array(shared, 0, 2);
    Atomics.store(words, 0, -1);
    const worker = pool.acquire();
    const outcome = await new Promise<
      { type: "done"; result: RangeResult } | { type: "hang"; index: number; input: Uint8Array }
    >((resolve, reject) => {
      let lastIndex = -1;
      let lastChange = performance.now();
      const startupMs = options.startupMs ?? 60_000;
      const hangMs = options.hangMs ?? 5_000;
      const timer = setInterval(() => {
        const index = Atomics.load(words, 0);
        const now = performance.now();
        if (index !== lastIndex) {
          lastIndex = index;
          lastChange = now;
          return;
        }
        const limit = index < 0 ? startupMs : hangMs;
        if (now - lastChange < limit) return;
        clearInterval(timer);
        worker.terminate();
        if (index < 0) {
          reject(new Error(`fuzz worker for ${target} did not start within ${startupMs} ms`));
          return;
        }
        const length = Atomics.load(words, 1);
        resolve({
          type: "hang",
          index,
          input: new Uint8Array(shared, 8, length).slice(),
        });
      }, Math.max(10, Math.min(250, (options.hangMs ?? 5_000) / 5)));
      worker.onmessage = (event) => {
        clearInterval(timer);
        pool.release(worker);
        if (event.data.type === "done") resolve(event.data);
        else reject(new Error(`fuzz worker for ${target}: ${event.data.message}`));
      };
      worker.onerror = (event) => {
        event.preventDefault();
        clearInterval(timer);
        worker.terminate();
        reject(new Error(`fuzz worker for ${target} crashed: ${event.message}`));
      };
      const request: WorkerRequest = {
        target,
        seed: options.seed,
        start: from,
        end,
        slowMs: options.slowMs ?? 1_000,
        keep: options.keep ?? 10,
        module: options.module,
        shared,
      };
      worker.postMessage(request);
    });
    if (outcome.type === "done") {
      const r = outcome.result;
      for (const [k, v] of Object.entries(r.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
      failures.push(...r.failures);
      more += r.moreFailures;
      inputs += r.inputs;
      elapsedMs += r.elapsedMs;
      break;
    }
    failures.push({
      target,
      kind: "hang",
      seed: options.seed,
      index: outcome.index,
      message: `input did not finish within ${options.hangMs ?? 5_000} ms`,
      hex: toHex(outcome.input),
      length: outcome.input.length,
    });
    // The inputs before the hang ran, but their outcome counts died with the worker.
    inputs += outcome.index - from + 1;
    outcomes.HUNG = (outcomes.HUNG ?? 0) + 1;
    from = outcome.index + 1;
  }
  return { inputs, outcomes, failures, moreFailures: more, elapsedMs };
}

/**
 * Fuzzes one target with `count` inputs, split over `workers` workers, from
 * `pool` when given (the caller closes it), else from a pool of its own.
 */
export async function fuzzTarget(
  target: string,
  options: FuzzOptions,
  pool?: WorkerPool,
): Promise<FuzzReport> {
  const own = pool ? undefined : new WorkerPool();
  try {
    return await fuzzWith(pool ?? own!, target, options);
  } finally {
    own?.close();
  }
}

async function fuzzWith(
  pool: WorkerPool,
  target: string,
  options: FuzzOptions,
): Promise<FuzzReport> {
  const workers = Math.max(1, Math.min(options.workers ?? 1, options.count));
  const started = performance.now();
  const per = Math.ceil(options.count / workers);
  const ranges: Promise<RangeResult>[] = [];
  for (let w = 0; w < workers; w++) {
    const start = w * per;
    const end = Math.min(options.count, start + per);
    if (start < end) ranges.push(guardedRange(pool, target, start, end, options));
  }
  const results = await Promise.all(ranges);
  const outcomes: Record<string, number> = {};
  for (const r of results) {
    for (const [k, v] of Object.entries(r.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
  }
  return {
    target,
    seed: options.seed,
    inputs: results.reduce((n, r) => n + r.inputs, 0),
    outcomes,
    failures: results.flatMap((r) => r.failures),
    moreFailures: results.reduce((n, r) => n + r.moreFailures, 0),
    elapsedMs: performance.now() - started,
  };
}
