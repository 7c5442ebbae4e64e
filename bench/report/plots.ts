/**
 * The report's plots, built from what the sections recorded (record.ts):
 * the failover timeline (pfsyncd, ucarp, keepalived; SIGKILL and SIGTERM)
 * and B's state count over time during a live A→B sync and a bulk update,
 * pfsyncd beside conntrackd. Pure: returns file name → SVG text.
 */
import type { CountSeries, FailoverTrace, Recorded } from "./record.ts";
import { type Lane, lineChart, type LineSeries, timelineChart } from "./svg.ts";

const COLORS: Record<string, string> = {
  pfsyncd: "#1f77b4",
  conntrackd: "#d62728",
  kernel: "#7f7f7f",
};
const OLD = "#1f77b4";
const NEW = "#d62728";
const MASTER_DOWN = "#fdd49e";

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The run whose kill → takeover is nearest the median of its cell: the one drawn. */
export function representative(traces: readonly FailoverTrace[]): FailoverTrace | undefined {
  if (traces.length === 0) return undefined;
  const mid = median(traces.map((t) => t.killToTakeover));
  return [...traces].sort((a, b) =>
    Math.abs(a.killToTakeover - mid) - Math.abs(b.killToTakeover - mid)
  )[0];
}

const showTime = (s: number) => s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(3)} s`;

function lane(t: FailoverTrace, runs: number): Lane {
  const lastOld = t.killToTakeover - t.silence;
  return {
    label: t.product,
    bands: [{
      from: lastOld,
      to: lastOld + t.masterDownS,
      color: MASTER_DOWN,
      title: `master-down interval ${t.masterDownS} s from the last advert before the signal`,
    }],
    marks: [
      ...t.oldAdverts.map((a) => ({
        t: a,
        color: OLD,
        shape: a > 0 ? "dot" as const : "tick" as const,
        title: a > 0 ? "old master's last word after the signal" : "old master's advert",
      })),
      ...t.newAdverts.slice(1).map((a) => ({
        t: a,
        color: NEW,
        shape: "tick" as const,
        title: "new master's advert",
      })),
      {
        t: t.killToTakeover,
        color: NEW,
        shape: "diamond" as const,
        title: `takeover ${showTime(t.killToTakeover)} after the signal`,
      },
    ],
    note: `${showTime(t.killToTakeover)}${runs > 1 ? ` (${runs} runs)` : ""}`,
  };
}

/** bench/plots/failover-timeline.svg, or undefined when no failover was recorded. */
export function failoverTimeline(traces: readonly FailoverTrace[]): string | undefined {
  if (traces.length === 0) return undefined;
  const products = [...new Set(traces.map((t) => t.product))];
  const signals = [...new Set(traces.map((t) => t.signal))];
  const groups = signals.map((signal) => ({
    title: signal,
    lanes: products.flatMap((product) => {
      const cell = traces.filter((t) => t.product === product && t.signal === signal);
      const rep = representative(cell);
      return rep ? [lane(rep, cell.length)] : [];
    }),
  }));
  const latest = Math.max(
    ...traces.map((t) => t.killToTakeover),
    ...traces.map((t) => t.killToTakeover - t.silence + t.masterDownS),
  );
  return timelineChart({
    title: "Failover: from the signal to the new master's first advertisement " +
      "(each lane: the run nearest its median)",
    x: { label: "seconds after the signal to the master", min: -2, max: Math.ceil(latest + 1) },
    groups,
    rules: [{ t: 0, label: "signal" }],
    legend: [
      { label: "old master's advertisement", color: OLD, shape: "tick" },
      { label: "old master's goodbye (after the signal)", color: OLD, shape: "dot" },
      { label: "master-down interval", color: MASTER_DOWN, shape: "band" },
      { label: "new master's first advertisement", color: NEW, shape: "diamond" },
      ...(traces.some((t) => t.newAdverts.length > 1)
        ? [{ label: "new master's advertisements", color: NEW, shape: "tick" as const }]
        : []),
    ],
  });
}

/** The series of one kind for the largest N that pfsyncd has, one per system (the last run). */
export function pickSeries(all: readonly CountSeries[], kind: CountSeries["kind"]): CountSeries[] {
  const ofKind = all.filter((s) => s.kind === kind && s.points.length > 0);
  const ours = ofKind.filter((s) => s.system === "pfsyncd").map((s) => s.n);
  if (ours.length === 0) return [];
  const n = Math.max(...ours);
  const bySystem = new Map<string, CountSeries>();
  for (const s of ofKind) if (s.n === n) bySystem.set(s.system, s);
  const order = (system: string) => {
    const i = ["pfsyncd", "conntrackd", "kernel"].indexOf(system);
    return i < 0 ? 99 : i;
  };
  return [...bySystem.values()].sort((a, b) => order(a.system) - order(b.system));
}

function countChart(
  series: readonly CountSeries[],
  title: string,
  notes: string[],
): string | undefined {
  if (series.length === 0) return undefined;
  const lines: LineSeries[] = series.map((s) => {
    const last = s.points.at(-1)!;
    return {
      name: `${s.system} (${last[1].toLocaleString("en-US")} after ${last[0].toFixed(2)} s)`,
      color: COLORS[s.system] ?? "#2ca02c",
      points: s.points,
      ...(s.system === "kernel" ? { dash: "5 4" } : {}),
    };
  });
  return lineChart({
    title: `${title}, N = ${series[0].n.toLocaleString("en-US")}`,
    x: { label: "seconds", min: 0 },
    y: { label: "states on B", min: 0 },
    series: lines,
    notes,
  });
}

/** File name (in bench/plots/) → SVG text, for whatever the run recorded. */
export function plots(r: Recorded): Map<string, string> {
  const out = new Map<string, string>();
  const timeline = failoverTimeline(r.failover);
  if (timeline) out.set("failover-timeline.svg", timeline);
  const live = countChart(
    pickSeries(r.series, "live"),
    "States synced A → B over time (conntrack provider)",
    [
      "conntrack -R creates N entries on A at t = 0; each line is B's kernel table (nf_conntrack_count),",
      "sampled every 10 ms from inside B. kernel = the same restore in one idle namespace (the bound).",
    ],
  );
  if (live) out.set("sync-live.svg", live);
  const bulk = countChart(
    pickSeries(r.series, "bulk"),
    "Bulk update: states on B after its request",
    [
      "pfsyncd: `pfsyncd resync` on B at t = 0, B's table from its status (memory provider);",
      "conntrackd: `conntrackd -n` on B at t = 0, B's external cache from `conntrackd -s`.",
    ],
  );
  if (bulk) out.set("sync-bulk.svg", bulk);
  return out;
}
