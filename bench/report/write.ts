/**
 * Writes bench/RESULTS.md and bench/plots/*.svg from one benchmark run.
 * `bench/run.ts` calls `writeReport` at the end of `deno task bench`; run
 * alone it renders the last run again from bench/out/last-run.json:
 *
 *   deno run -A bench/report/write.ts
 *
 * PFSYNCD_BENCH_NOTE (environment), if set, is printed in the header (e.g.
 * what else ran on the machine).
 */
import type { RunRecord } from "./model.ts";
import { plots } from "./plots.ts";
import { summaryMarkdown, summaryRows } from "./summary.ts";

const BENCH = new URL("../", import.meta.url);
const PLOTS = new URL("./plots/", BENCH);
const SOAK_SVG = new URL("./out/soak-rss.svg", BENCH);

/** Plot file → what it shows (the order they are listed in). */
const PLOT_TITLES: Record<string, string> = {
  "failover-timeline.svg":
    "Failover timeline: pfsyncd, ucarp and keepalived, SIGKILL and SIGTERM — adverts, the " +
    "signal, the master-down interval, the new master's first advertisement",
  "sync-live.svg": "States synced over time: B's table during a live A→B sync, pfsyncd beside " +
    "conntrackd (and the kernel's own create rate)",
  "sync-bulk.svg": "States synced over time: B's table during a bulk update, pfsyncd beside " +
    "conntrackd's resync",
  "soak-rss.svg": "Soak: resident memory of both agents over the churn",
};

function knobList(knobs: Record<string, string>): string {
  return Object.entries(knobs).map(([k, v]) => `\`${k}=${v}\``).join(", ");
}

/** One line per section, for a report merged from several runs: each with its date and knobs. */
function mergedSections(run: RunRecord): string[] {
  return [
    "- sections (merged from several runs of `deno task bench --merge`; each section's peers " +
    "were measured in that section's own run):",
    ...run.sections.map((s) => {
      const knobs = s.knobs && Object.keys(s.knobs).length ? `; knobs ${knobList(s.knobs)}` : "";
      const load = s.loadAtStart !== undefined && Number.isFinite(s.loadAtStart)
        ? `; load ${s.loadAtStart.toFixed(2)} at start`
        : "";
      return `  - ${s.name} ${s.status} (${Math.round(s.seconds)} s), started ${
        s.started ?? run.started
      }${load}${knobs}`;
    }),
  ];
}

function header(run: RunRecord, note: string | undefined): string {
  const m = run.machine;
  const knobs = Object.entries(run.knobs);
  const minutes = run.finished
    ? ((Date.parse(run.finished) - Date.parse(run.started)) / 60_000).toFixed(1)
    : "?";
  const scaledSections = run.sections.filter((s) => s.knobs && Object.keys(s.knobs).length);
  return [
    "# pfsyncd benchmark results",
    "",
    "Written by `deno task bench` (bench/run.ts, bench/report/). Every peer figure below was " +
    "measured in the same run as the pfsyncd figure beside it, on this same machine.",
    "",
    ...(note ? [`> **Note:** ${note}`, ""] : []),
    run.merged
      ? `- dates: ${run.started} → ${run.finished || "unfinished"}`
      : `- date: ${run.started} → ${run.finished || "unfinished"} (${minutes} min)`,
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}; ` +
    `load average (1 min) at start ${m.loadAtStart.toFixed(2)}`,
    `- pfsyncd on deno ${m.deno} (V8 ${m.v8}, TypeScript ${m.typescript})`,
    `- peers: ${Object.entries(m.peers).map(([k, v]) => `${k}: ${v}`).join("; ")}`,
    ...(run.merged
      ? [
        scaledSections.length
          ? `- scaled-down sections: ${scaledSections.map((s) => s.name).join(", ")} — a ` +
            "full-size run is `deno task bench` without knobs"
          : "- full-size sections (no knobs set)",
        ...mergedSections(run),
      ]
      : [
        knobs.length
          ? `- scaled-down run, knobs: ${knobList(run.knobs)} — a ` +
            "full-size run is `deno task bench` without them"
          : "- full-size run (no knobs set)",
        ...(run.only.length ? [`- sections asked for: ${run.only.join(", ")}`] : []),
        `- sections: ${
          run.sections.map((s) => `${s.name} ${s.status} (${Math.round(s.seconds)} s)`).join(", ")
        }`,
      ]),
    "",
  ].join("\n");
}

/** The Markdown of RESULTS.md; `plotFiles` are the plots written next to it. */
export function renderReport(
  run: RunRecord,
  plotFiles: readonly string[],
  note?: string,
): string {
  const parts = [header(run, note), summaryMarkdown(summaryRows(run))];
  if (plotFiles.length) {
    parts.push(
      "## Plots",
      "",
      ...plotFiles.flatMap((f) => [
        `### ${PLOT_TITLES[f] ?? f}`,
        "",
        `![${PLOT_TITLES[f] ?? f}](plots/${f})`,
        "",
      ]),
    );
  }
  for (const s of run.sections) {
    // The soak section's chart is copied next to the others (bench/out/ is not committed).
    parts.push(
      plotFiles.includes("soak-rss.svg")
        ? s.text.replaceAll("out/soak-rss.svg", "plots/soak-rss.svg")
        : s.text,
    );
  }
  return parts.join("\n");
}

/** Writes RESULTS.md and the plots; returns the paths written (relative to bench/). */
export async function writeReport(
  run: RunRecord,
  note = Deno.env.get("PFSYNCD_BENCH_NOTE"),
): Promise<string[]> {
  await Deno.mkdir(PLOTS, { recursive: true });
  const written: string[] = [];
  const files: string[] = [];
  for (const [name, svg] of plots(run.recorded)) {
    await Deno.writeTextFile(new URL(name, PLOTS), svg);
    files.push(name);
  }
  if (run.sections.some((s) => s.name === "soak" && s.status === "ok")) {
    try {
      await Deno.copyFile(SOAK_SVG, new URL("soak-rss.svg", PLOTS));
      files.push("soak-rss.svg");
    } catch { /* the soak run wrote no chart */ }
  }
  written.push(...files.map((f) => `bench/plots/${f}`));
  await Deno.writeTextFile(new URL("RESULTS.md", BENCH), renderReport(run, files, note));
  written.unshift("bench/RESULTS.md");
  return written;
}

if (import.meta.main) {
  const run = JSON.parse(
    await Deno.readTextFile(new URL("./out/last-run.json", BENCH)),
  ) as RunRecord;
  console.error(`wrote ${(await writeReport(run)).join(", ")}`);
}
