/**
 * What both soak variants (memory and conntrack provider) share: the sample
 * shape, process figures from /proc, the "flat" test (last third against
 * middle third), the error counters picked from `status --json`, and the RSS
 * chart (an SVG line chart, bench/out/soak-rss.svg).
 */
import type { StatusResult } from "../../lib/control/types.ts";

export interface Sample {
  /** Seconds since the churn started. */
  t: number;
  /** Resident memory, KiB. */
  rssA: number;
  rssB: number;
  /** Agent table sizes. */
  statesA: number;
  statesB: number;
  /** CPU seconds (user + system) since the process started. */
  cpuA?: number;
  cpuB?: number;
  /** Kernel conntrack table sizes (conntrack soak only). */
  kernelA?: number;
  kernelB?: number;
  /** Sum of the error counters (errorCounters) at this sample. */
  errorsA?: number;
  errorsB?: number;
}

const CLK_TCK = 100;

/** VmRSS in KiB (NaN when the process is gone). */
export function rssKiB(pid: number): number {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** utime + stime in seconds (NaN when the process is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** pfsync counters that count something going wrong. */
const PFSYNC_ERRORS = /^bad|errors?$|drops?$|^memory|^stale|^toosmall|^tooshort|^onomem|^hdrops/i;
/**
 * Conntrack provider counters that count losses or repairs: undecodable
 * messages, entries that cannot be mapped, event overruns and the resyncs and
 * repairs they cause, and peer states the kernel refused.
 */
const CONNTRACK_ERRORS = /^(malformed|incomplete|overruns|resyncs|repaired|apply\.failed)$/;

/** Counters that count something going wrong: they must not grow in a clean run. */
export function errorCounters(s: StatusResult): Record<string, number> {
  const out: Record<string, number> = {};
  const pick = (prefix: string, counters: Record<string, number>, re: RegExp) => {
    for (const [k, v] of Object.entries(counters)) {
      if (re.test(k)) out[`${prefix}.${k}`] = v;
    }
  };
  pick("pfsync", s.pfsync.stats, PFSYNC_ERRORS);
  pick("carp", s.carpStats, PFSYNC_ERRORS);
  if (s.conntrack) pick("conntrack", s.conntrack, CONNTRACK_ERRORS);
  return out;
}

export function errorSum(s: StatusResult): number {
  return Object.values(errorCounters(s)).reduce((a, b) => a + b, 0);
}

/** Counters of `after` above `before`, as "name +n". */
export function grownCounters(
  before: Record<string, number>,
  after: Record<string, number>,
): { name: string; by: number }[] {
  const out: { name: string; by: number }[] = [];
  for (const [k, v] of Object.entries(after)) {
    const was = before[k] ?? 0;
    if (v > was) out.push({ name: k, by: v - was });
  }
  return out;
}

/** Mean of `pick` over the k-th third (0, 1, 2) of the samples. */
export function thirdMean(samples: readonly Sample[], k: number, pick: (s: Sample) => number) {
  const n = samples.length;
  const part = samples.slice(Math.floor((k * n) / 3), Math.floor(((k + 1) * n) / 3));
  return part.reduce((sum, s) => sum + pick(s), 0) / Math.max(1, part.length);
}

/**
 * Growth of the last third's mean over the middle third's (after warm-up):
 * 0.05 = 5 %. NaN with fewer than three samples.
 */
export function thirdsGrowth(samples: readonly Sample[], pick: (s: Sample) => number): number {
  if (samples.length < 3) return NaN;
  const mid = thirdMean(samples, 1, pick), last = thirdMean(samples, 2, pick);
  return mid > 0 ? (last - mid) / mid : NaN;
}

export const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : "—");

/** A minimal SVG line chart: RSS of A and B (MiB) over minutes. */
export function rssSvg(samples: readonly Sample[], subtitle = ""): string {
  const W = 720, H = 360, L = 60, R = 20, T = 30, B = 40;
  const xs = samples.map((s) => s.t / 60);
  const ys = samples.flatMap((s) => [s.rssA / 1024, s.rssB / 1024]).filter(Number.isFinite);
  const xMax = Math.max(1 / 6, ...xs);
  const yMax = Math.max(1, ...ys) * 1.1;
  const x = (v: number) => L + (v / xMax) * (W - L - R);
  const y = (v: number) => H - B - (v / yMax) * (H - T - B);
  const path = (pick: (s: Sample) => number) =>
    samples.filter((s) => Number.isFinite(pick(s))).map((s, i) =>
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
  const title = `pfsyncd soak: resident memory (MiB) over time (min)${
    subtitle ? ` — ${subtitle}` : ""
  }`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
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

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Writes the chart to bench/out/soak-rss.svg. */
export async function writeRssSvg(svg: string): Promise<void> {
  const outDir = new URL("../out/", import.meta.url);
  await Deno.mkdir(outDir, { recursive: true });
  await Deno.writeTextFile(new URL("soak-rss.svg", outDir), svg);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
