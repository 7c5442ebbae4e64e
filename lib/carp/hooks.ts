/**
 * Transition hooks: operator scripts run after every state change, strictly
 * one at a time and in the order the transitions happened, each bounded by a
 * timeout. The queue is fire-and-forget for the election: `enqueue` returns
 * at once, so a slow or failing script can only delay later scripts.
 */
import { formatCidr } from "../net/address.ts";
import type { CarpStateName, CarpVhostConfig } from "./types.ts";

export interface HookJob {
  /** Prefix for log lines, e.g. `carp: 1@eth1`. */
  readonly label: string;
  readonly scripts: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface HookQueueOptions {
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
  /** Grace between SIGTERM and SIGKILL for a script past its timeout. */
  readonly killGraceMs?: number;
  /** Every finished run (for the metrics' hook counters); `undefined` = could not start. */
  readonly onResult?: (result: HookResult | undefined) => void;
}

export interface HookResult {
  readonly script: string;
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly output: string;
  readonly elapsedMs: number;
}

/** The environment of spec'd names the scripts get. */
export function hookEnvironment(
  config: CarpVhostConfig,
  from: CarpStateName,
  to: CarpStateName,
  reason: string,
): Record<string, string> {
  return {
    CARP_VHID: String(config.vhid),
    CARP_INTERFACE: config.interface,
    CARP_PARENT: config.parent,
    CARP_STATE: to,
    CARP_PREVIOUS_STATE: from,
    CARP_REASON: reason,
    CARP_ADDRESSES: config.addresses.map(formatCidr).join(" "),
  };
}

const MAX_LOGGED_OUTPUT = 2000;
const KEPT_RESULTS = 32;

async function collect(stream: ReadableStream<Uint8Array>, sink: Uint8Array[]): Promise<void> {
  try {
    for await (const chunk of stream) sink.push(chunk);
  } catch {
    // Cancelled after the process ended; what was read is kept.
  }
}

async function runOne(
  script: string,
  env: Readonly<Record<string, string>>,
  options: HookQueueOptions,
): Promise<HookResult> {
  const started = performance.now();
  const child = new Deno.Command(script, {
    env: { ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const chunks: Uint8Array[] = [];
  const readers = [collect(child.stdout, chunks), collect(child.stderr, chunks)];
  let timedOut = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    tryKill(child, "SIGTERM");
    killTimer = setTimeout(() => tryKill(child, "SIGKILL"), options.killGraceMs ?? 500);
  }, options.timeoutMs);
  const status = await child.status;
  clearTimeout(timer);
  clearTimeout(killTimer);
  // A grandchild may still hold the pipes open; give the readers a moment, then stop them.
  const drained = await Promise.race([
    Promise.all(readers).then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), 100)),
  ]);
  if (!drained) {
    await Promise.allSettled([child.stdout.cancel(), child.stderr.cancel()]);
  }
  const output = new TextDecoder().decode(concat(chunks)).trim();
  return {
    script,
    code: status.signal === null ? status.code : null,
    signal: status.signal,
    timedOut,
    output,
    elapsedMs: Math.round(performance.now() - started),
  };
}

function tryKill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already exited.
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

export function describeHookResult(result: HookResult): string {
  const how = result.timedOut
    ? `timed out after ${result.elapsedMs} ms (${result.signal ?? "exited"})`
    : result.signal
    ? `killed by ${result.signal}`
    : `exited ${result.code}`;
  const output = result.output.length > MAX_LOGGED_OUTPUT
    ? `${result.output.slice(0, MAX_LOGGED_OUTPUT)}…`
    : result.output;
  return `hook ${result.script} ${how}${output ? `: ${output.replaceAll("\n", " | ")}` : ""}`;
}

export class HookQueue {
  readonly #options: HookQueueOptions;
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  /** The last few results, newest last, for status output and tests. */
  readonly results: HookResult[] = [];

  constructor(options: HookQueueOptions) {
    this.#options = options;
  }

  get pending(): number {
    return this.#pending;
  }

  enqueue(job: HookJob): void {
    if (job.scripts.length === 0) return;
    this.#pending++;
    this.#tail = this.#tail.then(async () => {
      for (const script of job.scripts) {
        await this.#runLogged(job, script);
      }
      this.#pending--;
    });
  }

  /** Resolves when every job queued so far has finished (for shutdown and tests). */
  idle(): Promise<void> {
    return this.#tail;
  }

  async #runLogged(job: HookJob, script: string): Promise<void> {
    try {
      const result = await runOne(script, job.env, this.#options);
      this.results.push(result);
      if (this.results.length > KEPT_RESULTS) this.results.shift();
      this.#options.log(`${job.label}: ${describeHookResult(result)}`);
      this.#options.onResult?.(result);
    } catch (error) {
      this.#options.log(`${job.label}: hook ${script} could not run: ${(error as Error).message}`);
      this.#options.onResult?.(undefined);
    }
  }
}

/** The job for one transition, ready for `HookQueue.enqueue` (the agent's runHook port). */
export function transitionHookJob(
  transition: {
    readonly config: CarpVhostConfig;
    readonly from: CarpStateName;
    readonly to: CarpStateName;
    readonly reason: string;
  },
  scripts: readonly string[],
): HookJob {
  const { config, from, to, reason } = transition;
  return {
    label: `carp: ${config.vhid}@${config.parent}`,
    scripts,
    env: hookEnvironment(config, from, to, reason),
  };
}

/**
 * The scripts for one vhid from a `{ "*": [...], "7": [...] }` table (the
 * config's `hooks.scripts`): the catch-all ones first, then the vhid's own.
 */
export function hookScriptsFor(
  table: Readonly<Record<string, readonly string[]>>,
  vhid: number,
): string[] {
  return [...(table["*"] ?? []), ...(table[String(vhid)] ?? [])];
}
