/**
 * When lost packets ask for a bulk update (beyond the BSDs). Losses counted by
 * the sequence tracker make a request due once the sync link has been quiet
 * (no new loss) for `quietMs` — or `maxWaitMs` after the first loss when it
 * never goes quiet — but never sooner than a minimum interval after the
 * previous loss-triggered request. That interval is the larger of
 * `minIntervalMs` and twice the last bulk update's duration, and doubles for
 * every loss-triggered request beyond the second in a row, up to
 * `maxIntervalMs`: on a link that keeps losing, bulk updates that lose
 * packets themselves do not follow back to back forever. A run ends with a
 * clean bulk update (none of its packets lost) or when the link goes
 * `maxIntervalMs` without a loss.
 *
 * Losses seen before a bulk update was requested (for any reason) are covered
 * by it; only later ones make another request due. Pure: deadlines, no timers.
 */

export interface HealOptions {
  readonly quietMs?: number;
  readonly maxWaitMs?: number;
  readonly minIntervalMs?: number;
  readonly maxIntervalMs?: number;
}

export class HealScheduler {
  readonly quietMs: number;
  readonly maxWaitMs: number;
  readonly minIntervalMs: number;
  readonly maxIntervalMs: number;
  /** Packets lost since the last request covered them. */
  private lost = 0;
  private firstLossAt: number | undefined;
  private lastLossAt: number | undefined;
  private lastRequestAt: number | undefined;
  private streak = 0;
  private lastBulkMs = 0;

  constructor(options: HealOptions = {}) {
    this.quietMs = options.quietMs ?? 1_000;
    this.maxWaitMs = options.maxWaitMs ?? 30_000;
    this.minIntervalMs = options.minIntervalMs ?? 2_000;
    this.maxIntervalMs = options.maxIntervalMs ?? 60_000;
  }

  /** Packets lost, noticed at `now`. */
  onLoss(count: number, now: number): void {
    if (count <= 0) return;
    if (this.lastLossAt !== undefined && now - this.lastLossAt >= this.maxIntervalMs) {
      this.streak = 0;
    }
    if (this.lost === 0) this.firstLossAt = now;
    this.lost += count;
    this.lastLossAt = now;
  }

  /** A bulk update was requested (for any reason): it covers the losses so far. */
  onBulkRequested(): void {
    this.lost = 0;
    this.firstLossAt = undefined;
  }

  /** A bulk update ended after `ms`: the next interval scales with it. */
  onBulkFinished(ms: number): void {
    this.lastBulkMs = Math.max(0, ms);
  }

  /** A bulk update arrived whole: the link works again, the back-off starts over. */
  onCleanBulk(): void {
    this.streak = 0;
  }

  /** Losses waiting for a request. */
  get pendingLoss(): number {
    return this.lost;
  }

  /** The minimum spacing the next loss-triggered request must keep. */
  intervalMs(now: number): number {
    const base = Math.max(this.minIntervalMs, 2 * this.lastBulkMs);
    const streak = this.lastLossAt !== undefined && now - this.lastLossAt >= this.maxIntervalMs
      ? 0
      : this.streak;
    const factor = 2 ** Math.max(0, streak - 2);
    return Math.min(this.maxIntervalMs, base * factor);
  }

  /** When a loss-triggered request is due, or undefined when none waits. */
  nextDeadline(): number | undefined {
    if (this.lost === 0 || this.lastLossAt === undefined || this.firstLossAt === undefined) {
      return undefined;
    }
    let due = Math.min(this.lastLossAt + this.quietMs, this.firstLossAt + this.maxWaitMs);
    if (this.lastRequestAt !== undefined) {
      due = Math.max(due, this.lastRequestAt + this.intervalMs(this.lastLossAt));
    }
    return due;
  }

  /**
   * Whether to request now (`busy`: a bulk update is already pending, so wait
   * for it). On yes the caller requests and reports the lost count it returned.
   */
  poll(now: number, busy: boolean): { readonly lost: number } | undefined {
    const due = this.nextDeadline();
    if (due === undefined || now < due || busy) return undefined;
    const lost = this.lost;
    this.streak++;
    this.lastRequestAt = now;
    this.lost = 0;
    this.firstLossAt = undefined;
    return { lost };
  }
}
