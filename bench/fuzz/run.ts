/**
 * The long fuzz run: at least 1,000,000 generated inputs per decoder (pfsync,
 * CARP, ctnetlink, rtnetlink, the conntrack provider, rc.conf, sysctl.conf,
 * YAML, the whole loadConfig, pcap), split over every core, each input bounded
 * in time by the worker watchdog. Prints inputs/s and every failure with its
 * seed, index and input as hex.
 *
 *   deno run -A bench/fuzz/run.ts [decoder|all] [count] [--seed=0x…] [--workers=N]
 *   deno run -A bench/fuzz/run.ts DECODER --seed=0x… --replay=INDEX   (one input, with its stack)
 *
 * No peer (conntrackd, ucarp, keepalived) publishes fuzzing figures, so this
 * section has no ratio column; its claim is the failure count.
 */
import { toHex } from "../../lib/bytes/hex.ts";
import { type FuzzReport, fuzzTarget, WorkerPool } from "../../tests/fuzz/guard.ts";
import { formatSeed, freshSeed, parseSeed } from "../../tests/fuzz/prng.ts";
import { formatFailure, replayInput } from "../../tests/fuzz/runner.ts";
import { TARGET_LIST, TARGETS } from "../../tests/fuzz/targets/mod.ts";

export const DEFAULT_FUZZ_COUNT = 1_000_000;

export interface FuzzBenchOptions {
  readonly targets?: readonly string[];
  readonly count?: number;
  readonly seed?: number;
  readonly workers?: number;
  /** Called as each target finishes (the CLI prints progress). */
  readonly progress?: (report: FuzzReport) => void;
}

function topOutcomes(outcomes: Record<string, number>, n = 4): string {
  const total = Object.values(outcomes).reduce((a, b) => a + b, 0);
  return Object.entries(outcomes)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${k} ${((100 * v) / total).toFixed(0)}%`)
    .join(", ");
}

function rate(report: FuzzReport): number {
  return report.inputs / (report.elapsedMs / 1000);
}

/** Runs the targets one after another, each over all workers; returns the reports. */
export async function runFuzzTargets(options: FuzzBenchOptions = {}): Promise<FuzzReport[]> {
  const names = options.targets ?? TARGET_LIST.map((t) => t.name);
  const seed = options.seed ?? freshSeed();
  const workers = options.workers ?? Math.max(1, navigator.hardwareConcurrency);
  const pool = new WorkerPool();
  const reports: FuzzReport[] = [];
  try {
    for (const name of names) {
      const report = await fuzzTarget(name, {
        seed,
        count: options.count ?? DEFAULT_FUZZ_COUNT,
        workers,
        hangMs: 10_000,
        slowMs: 2_000,
        keep: 5,
      }, pool);
      reports.push(report);
      options.progress?.(report);
    }
  } finally {
    pool.close();
  }
  return reports;
}

/** The Markdown section for bench/RESULTS.md. */
export function fuzzMarkdown(reports: readonly FuzzReport[], workers: number): string {
  const seed = reports[0]?.seed ?? 0;
  const lines = [
    "## Fuzzing",
    "",
    `Generated inputs per decoder (mutations of the spec vectors and captured traffic, plus ` +
    `random bytes), seed ${formatSeed(seed)}, ${workers} worker(s), each input bounded by a ` +
    "watchdog. A failure is an exception other than the decoder's documented one, a hang, an " +
    "input slower than 2 s, or a state change from a rejected input. No peer publishes " +
    "comparable figures.",
    "",
    "| decoder | drives | inputs | inputs/s | time | failures | most frequent outcomes |",
    "|---|---|---:|---:|---:|---:|---|",
  ];
  for (const r of reports) {
    const failures = r.failures.length + r.moreFailures;
    lines.push(
      `| ${r.target} | ${TARGETS[r.target]?.covers ?? ""} | ${r.inputs.toLocaleString("en-US")} | ${
        Math.round(rate(r)).toLocaleString("en-US")
      } | ${(r.elapsedMs / 1000).toFixed(1)} s | ${failures} | ${topOutcomes(r.outcomes)} |`,
    );
  }
  const failed = reports.filter((r) => r.failures.length > 0);
  if (failed.length > 0) {
    lines.push("", "### Failures", "", "```");
    for (const r of failed) for (const f of r.failures) lines.push(formatFailure(f, 512), "");
    lines.push("```");
  }
  return lines.join("\n") + "\n";
}

/** Entry for bench/run.ts: every decoder, 1,000,000 inputs each (FUZZ_COUNT overrides). */
export async function runFuzzBench(): Promise<string> {
  const count = Number(Deno.env.get("FUZZ_COUNT") ?? DEFAULT_FUZZ_COUNT);
  const workers = Math.max(1, navigator.hardwareConcurrency);
  const reports = await runFuzzTargets({
    count,
    workers,
    seed: parseSeed(Deno.env.get("FUZZ_SEED")),
    progress: (r) => console.error(progressLine(r)),
  });
  return fuzzMarkdown(reports, workers);
}

function progressLine(r: FuzzReport): string {
  const failures = r.failures.length + r.moreFailures;
  return `fuzz ${r.target.padEnd(13)} ${String(r.inputs).padStart(9)} inputs ${
    Math.round(rate(r)).toString().padStart(7)
  }/s ${(r.elapsedMs / 1000).toFixed(1).padStart(7)} s  ${failures} failure(s)  [${
    topOutcomes(r.outcomes)
  }]`;
}

async function main(args: string[]): Promise<number> {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (const a of args) {
    const m = /^--([a-z]+)=(.*)$/.exec(a);
    if (m) flags.set(m[1], m[2]);
    else positional.push(a);
  }
  const which = positional[0] ?? "all";
  if (which !== "all" && !TARGETS[which]) {
    console.error(`unknown decoder ${which}; one of: all, ${Object.keys(TARGETS).join(", ")}`);
    return 2;
  }
  const seed = parseSeed(flags.get("seed")) ?? parseSeed(Deno.env.get("FUZZ_SEED")) ?? freshSeed();
  if (flags.has("replay")) {
    const index = Number(flags.get("replay"));
    const result = await replayInput(TARGETS[which], seed, index);
    console.log(`input ${index} of seed ${formatSeed(seed)} (${result.input.length} bytes):`);
    console.log(toHex(result.input));
    if (!result.failure) {
      console.log(`passes: ${result.label}`);
      return 0;
    }
    console.log(result.failure.stack ?? result.failure.message);
    return 1;
  }
  const count = Number(positional[1] ?? DEFAULT_FUZZ_COUNT);
  const workers = Number(flags.get("workers") ?? Math.max(1, navigator.hardwareConcurrency));
  console.error(
    `fuzzing ${which} with seed ${formatSeed(seed)}, ${count} inputs, ${workers} workers`,
  );
  const reports = await runFuzzTargets({
    targets: which === "all" ? undefined : [which],
    count,
    seed,
    workers,
    progress: (r) => {
      console.error(progressLine(r));
      for (const f of r.failures) console.error(formatFailure(f) + "\n");
    },
  });
  console.log(fuzzMarkdown(reports, workers));
  return reports.some((r) => r.failures.length > 0) ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
