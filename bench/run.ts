/**
 * `deno task bench`: runs every benchmark section in one go on this machine
 * and writes bench/RESULTS.md — a summary table of the headline figures with
 * their issue targets, every section with pfsyncd beside conntrackd, ucarp
 * and keepalived measured in the same run, the machine, versions and date —
 * plus the SVG plots in bench/plots/ (bench/report/).
 *
 *   deno task bench                 every section, full size
 *   deno task bench NAME…           only the named sections
 *   deno task bench --merge NAME…   re-run the named sections into the last report:
 *                                   the other sections (and their plots' data) are
 *                                   kept from bench/out/last-run.json, each section
 *                                   listed with its own date and knobs
 *   deno run -A bench/report/write.ts   render RESULTS.md and the plots again
 *                                       from the last run (bench/out/last-run.json)
 *
 * Knobs (environment): PFSYNCD_BENCH_CARP_REPS, PFSYNCD_BENCH_CT_REPS,
 * PFSYNCD_BENCH_CT_SIZES, PFSYNCD_BENCH_SYNC_LARGE (largest bulk/memory
 * count, default 1,000,000), PFSYNCD_SOAK_MINUTES, FUZZ_COUNT, FUZZ_SEED.
 */
import { mergeRecorded, recorded, recordingSection } from "./report/record.ts";
import type { RunRecord, SectionResult } from "./report/model.ts";
import { KNOBS, machineInfo } from "./report/machine.ts";

interface Section {
  readonly name: string;
  readonly module: string;
  readonly entry: string;
  readonly needsRoot: boolean;
  /** Arguments for the entry, from the knobs. */
  readonly args?: () => unknown[];
}

const SECTIONS: readonly Section[] = [
  {
    name: "pfsync-codec",
    module: "./pfsync/codec.ts",
    entry: "runPfsyncCodecBench",
    needsRoot: false,
  },
  { name: "sockets", module: "./sockets/run.ts", entry: "runSocketBench", needsRoot: true },
  {
    name: "carp-failover",
    module: "./carp/failover.ts",
    entry: "runCarpFailoverBench",
    needsRoot: true,
  },
  {
    name: "pfsync-sync",
    module: "./pfsync/sync.ts",
    entry: "runPfsyncSyncBench",
    needsRoot: true,
    args: () => {
      const large = Number(Deno.env.get("PFSYNCD_BENCH_SYNC_LARGE") ?? 1_000_000);
      return [{ largeCount: large > 0 ? large : 1_000_000 }];
    },
  },
  { name: "conntrack", module: "./conntrack/run.ts", entry: "runConntrackBench", needsRoot: true },
  { name: "fuzz", module: "./fuzz/run.ts", entry: "runFuzzBench", needsRoot: false },
  { name: "faults", module: "./faults/run.ts", entry: "runFaultsBench", needsRoot: true },
  { name: "soak", module: "./soak/run.ts", entry: "runSoakBench", needsRoot: true },
];

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch {
    return false;
  }
}

const OUT = new URL("./out/", import.meta.url);
const LAST_RUN = new URL("./out/last-run.json", import.meta.url);

const merge = Deno.args.includes("--merge");
const wanted = new Set(Deno.args.filter((a) => a !== "--merge"));
const root = Deno.uid?.() === 0;
const unknown = [...wanted].filter((w) => !SECTIONS.some((s) => s.name === w));
if (unknown.length) {
  console.error(
    `bench: unknown section ${unknown.join(", ")}; sections: ${
      SECTIONS.map((s) => s.name).join(", ")
    }`,
  );
  Deno.exit(2);
}
if (merge && wanted.size === 0) {
  console.error("bench: --merge needs the names of the sections to re-run");
  Deno.exit(2);
}
async function lastRun(): Promise<RunRecord | null> {
  return JSON.parse(await Deno.readTextFile(LAST_RUN).catch(() => "null")) as RunRecord | null;
}
if (merge && !(await lastRun())) {
  console.error("bench: --merge: no earlier run in bench/out/last-run.json");
  Deno.exit(2);
}
const knobsNow = Object.fromEntries(
  KNOBS.flatMap((k) => {
    const v = Deno.env.get(k);
    return v === undefined ? [] : [[k, v]];
  }),
);
const run: RunRecord = {
  started: new Date().toISOString(),
  finished: "",
  machine: await machineInfo(),
  knobs: knobsNow,
  only: [...wanted],
  sections: [],
  recorded: recorded(),
};

/**
 * This run's record, or — with --merge — the run on disk with this run's sections put in. The
 * file is read again at every save, so merges of different sections running side by side
 * (a 30-minute soak beside a quick section) each keep the other's results.
 */
async function merged(): Promise<RunRecord> {
  const earlier = merge ? await lastRun() : null;
  if (!earlier) return run;
  const mine = new Set(run.sections.map((s) => s.name));
  const stamp = (s: SectionResult): SectionResult =>
    s.started ? s : { ...s, started: earlier.started, knobs: earlier.knobs };
  const sections = SECTIONS.flatMap((def) => {
    const fresh = run.sections.find((s) => s.name === def.name);
    if (fresh) return [fresh];
    const old = earlier.sections.find((s) => s.name === def.name);
    return old ? [stamp(old)] : [];
  });
  return {
    ...earlier,
    finished: [run.finished, earlier.finished].sort().at(-1) ?? "",
    machine: { ...run.machine, loadAtStart: earlier.machine.loadAtStart },
    only: [],
    sections,
    recorded: mergeRecorded(earlier.recorded, run.recorded, mine),
    merged: true,
  };
}

async function save(): Promise<void> {
  await Deno.mkdir(OUT, { recursive: true });
  await Deno.writeTextFile(LAST_RUN, JSON.stringify(await merged(), null, 1));
}

for (const section of SECTIONS) {
  if (wanted.size > 0 && !wanted.has(section.name)) continue;
  const url = new URL(section.module, import.meta.url);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadAtStart = Number(
    (await Deno.readTextFile("/proc/loadavg").catch(() => "NaN")).split(" ")[0],
  );
  let result: SectionResult;
  const done = (status: SectionResult["status"], text: string): SectionResult => ({
    name: section.name,
    status,
    text,
    seconds: (performance.now() - started) / 1000,
    started: startedAt,
    knobs: knobsNow,
    loadAtStart,
  });
  recordingSection(section.name);
  if (!(await exists(url))) {
    result = done("skipped", `## ${section.name}\n\nnot run: ${section.module} does not exist.\n`);
  } else if (section.needsRoot && !root) {
    result = done("skipped", `## ${section.name}\n\nnot run: needs root (network namespaces).\n`);
  } else {
    console.error(`bench: ${section.name} … (${new Date().toISOString()})`);
    try {
      const module = await import(url.href);
      const entry = module[section.entry] as (...args: unknown[]) => Promise<string>;
      result = done("ok", await entry(...(section.args?.() ?? [])));
    } catch (error) {
      result = done(
        "failed",
        `## ${section.name}\n\nfailed: ${(error as Error).stack ?? error}\n`,
      );
    }
  }
  recordingSection(undefined);
  console.error(`bench: ${section.name} ${result.status} in ${result.seconds.toFixed(0)} s`);
  console.log(result.text);
  run.sections.push(result);
  await save();
}
run.finished = new Date().toISOString();
await save();

// Loaded now rather than at start-up, so the renderer is the one on disk at the end.
const writer = new URL("./report/write.ts", import.meta.url);
const { writeReport } = await import(writer.href);
const written = await writeReport(await merged()) as string[];
console.error(`bench: wrote ${written.join(", ")}`);
