/**
 * Raw figures and time series that benchmark sections leave behind for the
 * report (bench/report/write.ts): headline numbers for the summary table and
 * the samples behind the plots. Sections call `record*` while they run; the
 * runner reads `recorded()` at the end and saves it with the section texts
 * (bench/out/last-run.json) so the report can be rendered again without
 * measuring again. Pure in-memory store: no I/O here.
 */

/** One failover on the wire, times in seconds relative to the signal. */
export interface FailoverTrace {
  /** The bench section that recorded it (set by bench/run.ts). */
  readonly section?: string;
  readonly product: string;
  readonly signal: string;
  /** The backup's master-down interval, s. */
  readonly masterDownS: number;
  /** Advertisements from the old master (negative = before the signal). */
  readonly oldAdverts: readonly number[];
  /** Advertisements from the new master, the first one being the takeover. */
  readonly newAdverts: readonly number[];
  readonly killToTakeover: number;
  readonly silence: number;
}

/** A state count sampled over time on the receiving side. */
export interface CountSeries {
  /** The bench section that recorded it (set by bench/run.ts). */
  readonly section?: string;
  /** "live" (A→B as states appear on A) or "bulk" (bulk update / resync). */
  readonly kind: "live" | "bulk";
  readonly system: string;
  readonly n: number;
  /** [seconds since the start, B's count above its base]. */
  readonly points: readonly (readonly [number, number])[];
}

export interface Recorded {
  failover: FailoverTrace[];
  series: CountSeries[];
  /** Headline figures per section, free-form JSON values. */
  figures: Record<string, unknown>;
  /** Figure key → the section that recorded it. */
  figureSections?: Record<string, string>;
}

const figureSections: Record<string, string> = {};
const store: Recorded = { failover: [], series: [], figures: {}, figureSections };
let currentSection: string | undefined;

/** bench/run.ts names the section whose records follow, so a merged report can replace them. */
export function recordingSection(name: string | undefined): void {
  currentSection = name;
}

export function recordFailover(trace: FailoverTrace): void {
  store.failover.push({ section: currentSection, ...trace });
}

export function recordSeries(series: CountSeries): void {
  store.series.push({ section: currentSection, ...series });
}

/** Sets (replaces) the figures of one section under `key`. */
export function recordFigures(key: string, value: unknown): void {
  store.figures[key] = value;
  if (currentSection) figureSections[key] = currentSection;
}

/**
 * The records of `earlier` that no re-run section replaces, followed by this
 * run's. Records written before sections were tagged are attributed by kind:
 * failover traces to carp-failover, bulk series to pfsync-sync, live series to
 * conntrack, figures to the section of their key.
 */
export function mergeRecorded(
  earlier: Recorded,
  current: Recorded,
  rerun: ReadonlySet<string>,
): Recorded {
  const seriesSection = (s: CountSeries) =>
    s.section ?? (s.kind === "bulk" ? "pfsync-sync" : "conntrack");
  const figureSection = (key: string) => earlier.figureSections?.[key] ?? key;
  const figures: Record<string, unknown> = {};
  const owners: Record<string, string> = {};
  for (const [k, v] of Object.entries(earlier.figures)) {
    if (rerun.has(figureSection(k))) continue;
    figures[k] = v;
    owners[k] = figureSection(k);
  }
  Object.assign(figures, current.figures);
  Object.assign(owners, current.figureSections ?? {});
  return {
    failover: [
      ...earlier.failover.filter((t) => !rerun.has(t.section ?? "carp-failover")),
      ...current.failover,
    ],
    series: [...earlier.series.filter((s) => !rerun.has(seriesSection(s))), ...current.series],
    figures,
    figureSections: owners,
  };
}

export function recorded(): Recorded {
  return store;
}

/** Thins a series to at most `max` points, keeping the first and the last. */
export function thin<T>(points: readonly T[], max = 400): T[] {
  if (points.length <= max) return [...points];
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => points[Math.round(i * step)]);
}
