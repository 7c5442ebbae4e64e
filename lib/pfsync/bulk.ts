/**
 * Bulk update (spec pfsync.md §7). The requester asks with an all-zero UREQ,
 * retries every 5 s up to 12 times, holds CARP preemption back while waiting
 * and counts the states that arrive; the responder answers with BUS START,
 * walks its table in paced batches of full UPD packets, then BUS END.
 *
 * Both halves are driven with an explicit `now` (ms) and keep deadlines, never
 * timers. The responder implements the intended per-tick continuation (the
 * FreeBSD 5.x/6.x port stopped after the first batch, §7.5) and walks slots
 * from a cursor, as OpenBSD 4.1 walks from a remembered position.
 */
import type { StateTable } from "../state/table.ts";
import { PFSYNC_BUS_END, PFSYNC_BUS_START } from "./records.ts";
import type { PfsyncSender } from "./sender.ts";

export const HOLD_REASON = "pfsync bulk update";

export type BulkEffect =
  | { readonly type: "request" }
  | { readonly type: "hold"; readonly on: boolean; readonly reason: string }
  | { readonly type: "log"; readonly message: string }
  /** The pending bulk update ended ("done" or "gave-up") after `ms`. */
  | {
    readonly type: "finished";
    readonly outcome: BulkOutcome;
    readonly ms: number;
    /** The creator id (host id) of the responder whose BUS END finished it. */
    readonly responder?: number;
  };

export type BulkOutcome = "none" | "pending" | "done" | "gave-up";

export interface BulkRequesterOptions {
  readonly retryMs?: number;
  readonly maxTries?: number;
  /** The peer's state limit, for the wait after BUS START (pf default 10000). */
  readonly stateLimit?: number;
  /** One responder tick in ms (BSD: 1/hz). */
  readonly tickMs?: number;
  readonly maxRecords?: number;
}

export interface BulkRequesterStatus {
  readonly outcome: BulkOutcome;
  readonly pending: boolean;
  readonly tries: number;
  readonly received: number;
  /** Whether this bulk update holds CARP preemption back (not for loss-triggered ones). */
  readonly holding: boolean;
  /** Why the latest bulk update was requested ("start", "sync link up", "sequence gap" …). */
  readonly reason?: string;
  readonly requestedAt?: number;
  readonly finishedAt?: number;
}

export class BulkRequester {
  private readonly retryMs: number;
  private readonly maxTries: number;
  private readonly startWaitMs: number;
  private pending = false;
  private holding = false;
  private reason: string | undefined;
  private tries = 0;
  private deadline: number | undefined;
  private requestedAt: number | undefined;
  private finishedAt: number | undefined;
  private received = 0;
  private outcome: BulkOutcome = "none";

  constructor(options: BulkRequesterOptions = {}) {
    this.retryMs = options.retryMs ?? 5000;
    this.maxTries = options.maxTries ?? 12;
    const perPacket = options.maxRecords ?? 6;
    this.startWaitMs = Math.max(
      this.retryMs,
      Math.ceil((options.stateLimit ?? 10000) / perPacket) * (options.tickMs ?? 10),
    );
  }

  get isPending(): boolean {
    return this.pending;
  }

  /**
   * At start, on link-up and on `resync`: ask again (holding preemption if not
   * yet held). `hold: false` (loss-triggered requests) leaves CARP alone: this
   * node may be MASTER, and the update only repairs what a lossy link missed.
   */
  start(
    now: number,
    options: { readonly reason?: string; readonly hold?: boolean } = {},
  ): BulkEffect[] {
    const effects: BulkEffect[] = [];
    if ((options.hold ?? true) && !this.holding) {
      effects.push({ type: "hold", on: true, reason: HOLD_REASON });
      this.holding = true;
    }
    this.reason = options.reason;
    this.pending = true;
    this.outcome = "pending";
    this.tries = 0;
    this.received = 0;
    this.requestedAt = now;
    this.finishedAt = undefined;
    this.deadline = now + this.retryMs;
    const why = options.reason === undefined ? "" : ` (${options.reason})`;
    effects.push({ type: "request" }, {
      type: "log",
      message: `pfsync: bulk update requested${why}`,
    });
    return effects;
  }

  onBusStart(now: number): BulkEffect[] {
    if (!this.pending) return [];
    this.deadline = now + this.startWaitMs;
    return [{ type: "log", message: "pfsync: bulk update started by peer" }];
  }

  /**
   * BUS END counts only if the responder began serving at or after our latest
   * request, translated into our clock (§7.3; one second of slack for the two
   * hosts rounding their clocks differently).
   */
  onBusEnd(endtimeSeconds: number, now: number, responder?: number): BulkEffect[] {
    if (!this.pending || this.requestedAt === undefined) return [];
    const servedFrom = Math.floor(now / 1000) - endtimeSeconds + 1;
    if (servedFrom < Math.floor(this.requestedAt / 1000)) {
      return [{ type: "log", message: "pfsync: bulk update end with bad timestamp ignored" }];
    }
    return this.finish(
      now,
      "done",
      `pfsync: bulk update done, ${this.received} states`,
      responder,
    );
  }

  /** A full state arrived while waiting: progress, and proof the responder is alive. */
  onState(now: number): void {
    if (!this.pending) return;
    this.received++;
    if (this.deadline !== undefined && this.deadline < now + this.retryMs) {
      this.deadline = now + this.retryMs;
    }
  }

  tick(now: number): BulkEffect[] {
    if (!this.pending || this.deadline === undefined || now < this.deadline) return [];
    if (this.tries < this.maxTries) {
      this.tries++;
      this.deadline = now + this.retryMs;
      return [{ type: "request" }, {
        type: "log",
        message: `pfsync: bulk update retry ${this.tries}`,
      }];
    }
    return this.finish(now, "gave-up", "pfsync: bulk update failed, giving up");
  }

  nextDeadline(): number | undefined {
    return this.pending ? this.deadline : undefined;
  }

  status(): BulkRequesterStatus {
    return {
      outcome: this.outcome,
      pending: this.pending,
      tries: this.tries,
      received: this.received,
      holding: this.holding,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      ...(this.requestedAt === undefined ? {} : { requestedAt: this.requestedAt }),
      ...(this.finishedAt === undefined ? {} : { finishedAt: this.finishedAt }),
    };
  }

  private finish(
    now: number,
    outcome: BulkOutcome,
    message: string,
    responder?: number,
  ): BulkEffect[] {
    this.pending = false;
    this.outcome = outcome;
    this.tries = 0;
    this.deadline = undefined;
    this.finishedAt = now;
    const effects: BulkEffect[] = [];
    if (this.holding) effects.push({ type: "hold", on: false, reason: HOLD_REASON });
    this.holding = false;
    effects.push({ type: "log", message }, {
      type: "finished",
      outcome,
      ms: now - (this.requestedAt ?? now),
      ...(responder === undefined ? {} : { responder }),
    });
    return effects;
  }
}

export interface BulkResponderOptions {
  readonly hostId: number;
  /** Delay before the first batch: 5.4/6.x waited 1 s, later BSDs 0 (the default). */
  readonly firstDelayMs?: number;
  /** Pause between batches. */
  readonly tickMs?: number;
  /** Packets per batch (BSD sent one); each packet holds the sender's maxRecords states. */
  readonly batchPackets?: number;
  /**
   * Send BUS START/END even while our own bulk update is pending. 5.4/6.x
   * did not (§7.2 rule 2), so two hosts booting together both waited the
   * full 65 s; later BSDs always send them. Default true (the later rule).
   */
  readonly statusWhilePending?: boolean;
}

/**
 * The walk covers every slot once per request: a request that arrives while
 * a walk is running moves the end to the current position and wraps around
 * (as later BSDs do), instead of starting over — a walk that restarted on
 * every 5 s retry would never finish on a large table.
 */
export class BulkResponder {
  private readonly table: StateTable;
  private readonly sender: PfsyncSender;
  private readonly hostId: number;
  private readonly firstDelayMs: number;
  private readonly tickMs: number;
  private readonly batchPackets: number;
  private readonly statusWhilePending: boolean;
  private active = false;
  private cursor = 0;
  /** Slot where the walk ends after wrapping; undefined = the end of the table. */
  private stopAt: number | undefined;
  private wrap = false;
  private requestedAt = 0;
  private nextAt: number | undefined;
  private sent = 0;

  constructor(table: StateTable, sender: PfsyncSender, options: BulkResponderOptions) {
    this.table = table;
    this.sender = sender;
    this.hostId = options.hostId;
    this.firstDelayMs = options.firstDelayMs ?? 0;
    this.tickMs = options.tickMs ?? 2;
    this.batchPackets = options.batchPackets ?? 100;
    this.statusWhilePending = options.statusWhilePending ?? true;
  }

  get isActive(): boolean {
    return this.active;
  }

  get statesSent(): number {
    return this.sent;
  }

  /** An all-zero UREQ arrived: start (or extend) the walk and announce it. */
  onRequest(now: number, syncOk: boolean): void {
    this.requestedAt = now;
    if (this.table.size === 0 && !this.active) {
      // Nothing to send: say so at once, as later BSDs do.
      this.status(PFSYNC_BUS_END, now, syncOk);
      return;
    }
    if (this.active) {
      // A walk still at slot 0 covers the whole table anyway: ending it
      // "at the current position" there would end it before it began.
      this.stopAt = this.cursor > 0 ? this.cursor : undefined;
      this.wrap = this.cursor > 0;
    } else {
      this.active = true;
      this.cursor = 0;
      this.stopAt = undefined;
      this.wrap = false;
      this.sent = 0;
      this.nextAt = now + this.firstDelayMs;
    }
    this.status(PFSYNC_BUS_START, now, syncOk);
  }

  /** Sends the due batch; returns the number of states queued. */
  tick(now: number, syncOk: boolean): number {
    if (!this.active || this.nextAt === undefined || now < this.nextAt) return 0;
    const budget = this.batchPackets * this.sender.maxRecords;
    let queued = 0;
    let done = false;
    while (queued < budget) {
      const slot = this.table.nextSlot(this.cursor);
      if (slot < 0) {
        if (!this.wrap) {
          done = true;
          break;
        }
        this.wrap = false;
        this.cursor = 0;
        continue;
      }
      if (!this.wrap && this.stopAt !== undefined && slot >= this.stopAt) {
        done = true;
        break;
      }
      this.cursor = slot + 1;
      // Copied from the table's record: no State object per state (NOSYNC ones are skipped).
      if (this.sender.fullUpdateAt(this.table, slot)) queued++;
    }
    this.sender.flushReplies();
    this.sent += queued;
    if (done) {
      this.active = false;
      this.nextAt = undefined;
      this.status(PFSYNC_BUS_END, now, syncOk);
    } else {
      this.nextAt = now + this.tickMs;
    }
    return queued;
  }

  nextDeadline(): number | undefined {
    return this.active ? this.nextAt : undefined;
  }

  private status(status: number, now: number, syncOk: boolean): void {
    if (!syncOk && !this.statusWhilePending) return;
    const endtime = Math.floor(now / 1000) - Math.floor(this.requestedAt / 1000);
    this.sender.bulkStatus({ creatorId: this.hostId, endtime, status });
  }
}
