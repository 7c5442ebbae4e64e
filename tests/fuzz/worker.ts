/**
 * Worker entry of the guarded runner: runs one index range of one target and
 * publishes, before each input, its index and bytes in shared memory so the
 * watchdog on the main thread can name the input that hung.
 */
/// <reference lib="deno.worker" />
import { runRange } from "./runner.ts";
import type { FuzzTarget } from "./target.ts";

export interface WorkerRequest {
  readonly target: string;
  readonly seed: number;
  readonly start: number;
  readonly end: number;
  readonly slowMs: number;
  readonly keep: number;
  /** A module exporting TARGETS to use instead of the registry (the harness's own tests). */
  readonly module?: string;
  /** Int32 [0] = index of the input running, [1] = its length; bytes from 8. */
  readonly shared: SharedArrayBuffer;
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  const words = new Int32Array(request.shared, 0, 2);
  const bytes = new Uint8Array(request.shared, 8);
  try {
    // Loaded on demand: a harness test should not pay for every target's modules.
    const url = request.module ?? new URL("./targets/mod.ts", import.meta.url).href;
    const registry = (await import(url)).TARGETS as Record<string, FuzzTarget>;
    // (import() caches modules, so a reused worker loads each registry once.)
    const target = registry[request.target];
    if (!target) throw new Error(`no fuzz target ${request.target}`);
    const result = await runRange(target, {
      seed: request.seed,
      start: request.start,
      end: request.end,
      slowMs: request.slowMs,
      keep: request.keep,
      before: (index, input) => {
        bytes.set(input);
        Atomics.store(words, 1, input.length);
        Atomics.store(words, 0, index);
      },
    });
    self.postMessage({ type: "done", result });
  } catch (error) {
    // Corpus or instance construction failed: a harness bug, reported as such.
    self.postMessage({ type: "error", message: String((error as Error)?.stack ?? error) });
  }
};
