/**
 * Issue 8's soak run: two agents (A MASTER, B BACKUP) on a sync link with
 * 100,000 live states churning on A for a configurable time (default 30 min).
 * Every 10 s it samples both agents' RSS (from /proc/PID/status) and table
 * sizes; at the end it compares the tables and the error counters. Memory
 * must stay flat after the warm-up and no error counter may grow.
 *
 * Provider: memory (states are imported and changed through the control
 * socket). The conntrack provider takes its states from the kernel, which
 * would need 100,000 real connections; this run does not create them.
 *
 *   deno run -A bench/soak/run.ts [--minutes N] [--states N]
 *   PFSYNCD_SOAK_MINUTES=N (when run from bench/run.ts)
 *
 * Writes the RSS curve as an SVG line chart to bench/out/soak-rss.svg.
 */
import type { StatusResult } from "../../lib/control/types.ts";
import { labSkipReason, withLab } from "../../tests/lab/lab.ts";
import {
  Churn,
  diffPair,
  formatDiff,
  importLines,
  lines,
  startPair,
  timeToEqual,
} from "../../tests/lab/fixtures/faults_common.ts";

export interface SoakOptions {
  readonly minutes?: number;
  readonly states?: number;
  readonly sampleMs?: number;
}

interface Sample {
  /** Seconds since the churn started. */
  t: number;
  rssA: number;
  rssB: number;
  statesA: number;
  statesB: number;
}

function rssKiB(pid: number): number {
  const text = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Counters that count something going wrong: they must not grow in a clean run. */
function errorCounters(s: StatusResult): Record<string, number> {
  const out: Record<string, number> = {};
  const pick = (prefix: string, counters: Record<string, number>) => {
    for (const [k, v] of Object.entries(counters)) {
      if (/^bad|errors?$|drops?$|^memory|^stale|^toosmall|^tooshort/i.test(k)) {
        out[`${prefix}.${k}`] = v;
      }
    }
  };
  pick("pfsync", s.pfsync.stats);
  pick("carp", s.carpStats);
  return out;
}

/** A minimal SVG line chart: RSS of A and B (MiB) over minutes. */
export function rssSvg(samples: readonly Sample[]): string {
  const W = 720, H = 360, L = 60, R = 20, T = 30, B = 40;
  const xs = samples.map((s) => s.t / 60);
  const ys = samples.flatMap((s) => [s.rssA / 1024, s.rssB / 1024]);
  const xMax = Math.max(1 / 6, ...xs);
  const yMax = Math.max(1, ...ys) * 1.1;
  const x = (v: number) => L + (v / xMax) * (W - L - R);
  const y = (v: number) => H - B - (v / yMax) * (H - T - B);
  const path = (pick: (s: Sample) => number) =>
    samples.map((s, i) =>
      `${i ? "L" : "M"}${x(s.t / 60).toFixed(1)},${y(pick(s) / 1024).toFixed(1)}`
    )
      .join(" ");
  const ticks: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    ticks.push(
      `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`,
    );
    const t = (xMax * i) / 5;
    ticks.push(`<text x="${x(t)}" y="${H - B + 16}" text-anchor="middle">${t.toFixed(1)}</text>`);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${
      W / 2
    }" y="18" text-anchor="middle" font-size="13">pfsyncd soak: resident memory (MiB) over time (min)</text>`,
    ...ticks,
    `<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#444"/>`,
    `<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#444"/>`,
    `<path d="${path((s) => s.rssA)}" fill="none" stroke="#1f77b4" stroke-width="2"/>`,
    `<path d="${path((s) => s.rssB)}" fill="none" stroke="#d62728" stroke-width="2"/>`,
    `<text x="${W - R - 150}" y="${T + 12}" fill="#1f77b4">A (master, churning)</text>`,
    `<text x="${W - R - 150}" y="${T + 28}" fill="#d62728">B (backup, learning)</text>`,
    `<text x="${W / 2}" y="${H - 6}" text-anchor="middle">minutes</text>`,
    `</svg>`,
    "",
  ].join("\n");
}

function argNumber(name: string): number | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 && i + 1 < Deno.args.length ? Number(Deno.args[i + 1]) : undefined;
}

export async function runSoakBench(options: SoakOptions = {}): Promise<string> {
  const skip = labSkipReason();
  if (skip) return `## soak\n\nnot run: ${skip}\n`;
  const minutes = options.minutes ?? Number(Deno.env.get("PFSYNCD_SOAK_MINUTES") ?? 30);
  const states = options.states ?? 100_000;
  const sampleMs = options.sampleMs ?? 10_000;
  const log = (line: string) => console.error(`soak: ${line}`);
  return await withLab(async (lab) => {
    const pair = await startPair(lab, { logLevel: "warning" });
    const t0 = performance.now();
    for (let i = 0; i < states; i += 30_000) {
      await importLines(pair.a, lines(i, Math.min(30_000, states - i)));
    }
    const first = await timeToEqual(pair, 120_000);
    if (first.ms < 0) throw new Error(`initial sync: ${formatDiff(first.last)}`);
    log(`${states} states on both after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const [a0, b0] = await Promise.all([pair.a.status(), pair.b.status()]);
    const pidA = a0.pid, pidB = b0.pid;
    // Per second ~ 1 % of the table updated, 0.2 % replaced: inserts and deletes balance.
    const per = Math.max(1, Math.round(states / 500));
    const churn = new Churn(() => pair.a, 0, states, {
      inserts: per,
      updates: per * 5,
      deletes: per,
      periodMs: 1000,
    }).start();
    const samples: Sample[] = [];
    const started = performance.now();
    const end = started + minutes * 60_000;
    while (true) {
      const [sa, sb] = await Promise.all([pair.a.status(), pair.b.status()]);
      samples.push({
        t: (performance.now() - started) / 1000,
        rssA: rssKiB(pidA),
        rssB: rssKiB(pidB),
        statesA: sa.states.count,
        statesB: sb.states.count,
      });
      const s = samples[samples.length - 1];
      log(
        `${(s.t / 60).toFixed(1)} min: RSS A ${(s.rssA / 1024).toFixed(1)} MiB, ` +
          `B ${(s.rssB / 1024).toFixed(1)} MiB; states ${s.statesA} / ${s.statesB}`,
      );
      if (performance.now() >= end) break;
      await new Promise((r) => setTimeout(r, Math.min(sampleMs, end - performance.now())));
    }
    await churn.stop();
    const settled = await timeToEqual(pair, 30_000);
    const [a1, b1] = await Promise.all([pair.a.status(), pair.b.status()]);
    const errA0 = errorCounters(a0), errA1 = errorCounters(a1);
    const errB0 = errorCounters(b0), errB1 = errorCounters(b1);
    const grown: string[] = [];
    for (const [who, before, after] of [["A", errA0, errA1], ["B", errB0, errB1]] as const) {
      for (const [k, v] of Object.entries(after)) {
        if (v > (before[k] ?? 0)) grown.push(`${who} ${k} +${v - (before[k] ?? 0)}`);
      }
    }
    // Flat: the mean of the last third against the mean of the second third (after warm-up).
    const third = (k: number, pick: (s: Sample) => number) => {
      const n = samples.length;
      const part = samples.slice(Math.floor((k * n) / 3), Math.floor(((k + 1) * n) / 3));
      return part.reduce((sum, s) => sum + pick(s), 0) / Math.max(1, part.length);
    };
    const growth = (pick: (s: Sample) => number) => {
      const mid = third(1, pick), last = third(2, pick);
      return mid > 0 ? (last - mid) / mid : NaN;
    };
    const gA = growth((s) => s.rssA), gB = growth((s) => s.rssB);
    const svg = rssSvg(samples);
    const outDir = new URL("../out/", import.meta.url);
    await Deno.mkdir(outDir, { recursive: true });
    await Deno.writeTextFile(new URL("soak-rss.svg", outDir), svg);
    const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : "—");
    const rows = [
      "## soak",
      "",
      `Two agents, memory provider (the conntrack provider needs real kernel connections; ` +
      `not used here), ${states.toLocaleString("en")} live states on A churning for ` +
      `${minutes} min: each second ${per} inserts, ${per * 5} updates, ${per} deletes through ` +
      `the control socket, synced to B over pfsync. ${samples.length} samples every ` +
      `${sampleMs / 1000} s. Chart: bench/out/soak-rss.svg.`,
      "",
      "![RSS over time](out/soak-rss.svg)",
      "",
      `- RSS growth, last third vs middle third: A ${pct(gA)}, B ${pct(gB)} ` +
      `(${gA < 0.1 && gB < 0.1 ? "no growth" : "GROWING"}; a fall is the collector ` +
      `returning the import's garbage)`,
      `- tables after the churn stopped: ${
        settled.ms >= 0 ? `equal (${a1.states.count} states)` : formatDiff(settled.last)
      }`,
      `- error counters grown during the run: ${grown.length ? grown.join(", ") : "none"}`,
      `- churn rounds: ${churn.rounds}, deletes ${churn.deleted}`,
      "",
      "| min | RSS A (MiB) | RSS B (MiB) | states A | states B |",
      "| ---: | ---: | ---: | ---: | ---: |",
      ...samples.map((s) =>
        `| ${(s.t / 60).toFixed(1)} | ${(s.rssA / 1024).toFixed(1)} | ${
          (s.rssB / 1024).toFixed(1)
        } | ${s.statesA} | ${s.statesB} |`
      ),
      "",
    ];
    if (settled.ms < 0) log(`tables differ at the end: ${formatDiff(await diffPair(pair))}`);
    return rows.join("\n");
  });
}

if (import.meta.main) {
  console.log(
    await runSoakBench({ minutes: argNumber("--minutes"), states: argNumber("--states") }),
  );
}
