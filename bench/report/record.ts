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
}

const store: Recorded = { failover: [], series: [], figures: {} };

export function recordFailover(trace: FailoverTrace): void {
  store.failover.push(trace);
}

export function recordSeries(series: CountSeries): void {
  store.series.push(series);
}

/** Sets (replaces) the figures of one section under `key`. */
export function recordFigures(key: string, value: unknown): void {
  store.figures[key] = value;
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
