/**
 * When an idle sync link gets its beacons (beyond the BSDs): an empty UPD_C
 * whose sequence trailer shows peers the last number sent, so a lost final
 * packet is noticed without waiting for new traffic. The first goes
 * `firstMs` after the last real packet, each next one twice as far from it,
 * the last one at `lastMs` (25, 50, 100, 200, 400, 1,000 ms by default); then
 * the link stays silent until the next real packet. Pure: deadlines, no timers.
 */
export class BeaconSchedule {
  readonly firstMs: number;
  readonly lastMs: number;
  private lastSentAt = 0;
  private delay = 0;
  private final = false;
  /** When the next beacon is due, or undefined. */
  deadline: number | undefined;

  constructor(options: { readonly firstMs?: number; readonly lastMs?: number } = {}) {
    this.lastMs = options.lastMs ?? 1_000;
    this.firstMs = Math.min(this.lastMs, options.firstMs ?? 25);
  }

  /** A real (sequenced, non-beacon) packet went out at `now`: the schedule starts over. */
  packetSent(now: number): void {
    this.lastSentAt = now;
    this.delay = this.firstMs;
    this.deadline = now + this.firstMs;
    this.final = this.firstMs >= this.lastMs;
  }

  /** Whether a beacon is due at `now`; if so, the next one is scheduled. */
  due(now: number): boolean {
    if (this.deadline === undefined || now < this.deadline) return false;
    const next = this.delay * 2;
    this.delay = next * 2 > this.lastMs ? this.lastMs : next;
    this.deadline = this.final ? undefined : this.lastSentAt + this.delay;
    this.final = this.delay >= this.lastMs;
    return true;
  }
}
