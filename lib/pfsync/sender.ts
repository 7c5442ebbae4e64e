/**
 * The pfsync sender (spec pfsync.md §5): one queue per action, coalescing of
 * repeated updates up to `maxupd`, compressed UPD_C/DEL_C for local changes
 * when a sync interface is set, packets of at most `maxRecords` records, and
 * a flush when a queue fills or its send interval ends. Pure: every call takes
 * `now` (ms) and finished packets wait in an outbox for the driver (`take()`).
 *
 * Local queues flush in causal order — INS before UPD before DEL — so a peer
 * never sees an update or delete for a state whose insert is still queued.
 */
import type { State, StateKey } from "../state/types.ts";
import { stateKeyString, SYNC_FLAG_NOSYNC } from "../state/types.ts";
import type { PfsyncAuth } from "./auth.ts";
import { AUTH_TRAILER_SIZE } from "./auth.ts";
import { encodeFrame, frameLength, maxRecordsForMtu, type PfsyncMessage } from "./frame.ts";
import * as H from "./header.ts";
import type { BulkStatus, CompressedUpdate, StateClear, UpdateRequest } from "./records.ts";

export interface Outgoing {
  readonly bytes: Uint8Array;
  /** Unicast destination; undefined = the default (group or syncpeer). */
  readonly to?: string;
  readonly action: number;
  readonly records: number;
}

export interface SenderOptions {
  /** Collapse limit, 0–255; 0 disables collapsing. Default 128. */
  readonly maxupd?: number;
  /** Sync interface MTU; gives records per packet (§3.3). Default 1500. */
  readonly mtu?: number;
  /** Send UPD_C/DEL_C for local updates/deletes (true when a sync interface is set). */
  readonly compress?: boolean;
  /** Flush timer, ms. Default 1000. */
  readonly intervalMs?: number;
  readonly auth?: PfsyncAuth;
}

type LocalRecord = State | CompressedUpdate | { readonly id: bigint; readonly creatorId: number };

interface Queue {
  readonly name: "ins" | "upd" | "del";
  action: number;
  records: LocalRecord[];
  index: Map<string, number>;
  deadline: number | undefined;
}

export class PfsyncSender {
  readonly maxRecords: number;
  readonly maxupd: number;
  readonly compress: boolean;
  readonly intervalMs: number;
  private readonly auth?: PfsyncAuth;
  private readonly local: Queue[];
  private replies: State[] = [];
  private requests: UpdateRequest[] = [];
  private requestTo: string | undefined;
  private outbox: Outgoing[] = [];

  constructor(options: SenderOptions = {}) {
    this.maxupd = options.maxupd ?? 128;
    if (!Number.isInteger(this.maxupd) || this.maxupd < 0 || this.maxupd > 255) {
      throw new RangeError(`maxupd must be 0–255, got ${options.maxupd}`);
    }
    this.maxRecords = maxRecordsForMtu(options.mtu ?? 1500);
    this.compress = options.compress ?? true;
    this.intervalMs = options.intervalMs ?? 1000;
    this.auth = options.auth;
    const queue = (name: Queue["name"], action: number): Queue => ({
      name,
      action,
      records: [],
      index: new Map(),
      deadline: undefined,
    });
    this.local = [
      queue("ins", H.PFSYNC_ACT_INS),
      queue("upd", this.compress ? H.PFSYNC_ACT_UPD_C : H.PFSYNC_ACT_UPD),
      queue("del", this.compress ? H.PFSYNC_ACT_DEL_C : H.PFSYNC_ACT_DEL),
    ];
  }

  /** A locally created state (never compressed, never collapsed). */
  insert(state: State, now: number): void {
    if (state.syncFlags & SYNC_FLAG_NOSYNC) return;
    const key = stateKeyString(state);
    if (this.local[2].index.has(key)) this.flushQueue(2);
    this.append(0, key, { ...state, updates: 0 }, now);
  }

  /** A local update: collapsed into a pending record of the same state when maxupd ≠ 0. */
  update(state: State, now: number): void {
    if (state.syncFlags & SYNC_FLAG_NOSYNC) return;
    const key = stateKeyString(state);
    const ins = this.local[0];
    const pendingInsert = ins.index.get(key);
    if (pendingInsert !== undefined) {
      ins.records[pendingInsert] = { ...state, updates: 0 };
      return;
    }
    const upd = this.local[1];
    const at = this.maxupd === 0 ? undefined : upd.index.get(key);
    if (at !== undefined) {
      const previous = upd.records[at] as State | CompressedUpdate;
      const updates = Math.min(255, previous.updates + 1);
      upd.records[at] = this.updateRecord(state, updates);
      if (updates >= this.maxupd) this.flushQueue(1);
      return;
    }
    this.append(1, key, this.updateRecord(state, 0), now);
  }

  /** A local removal; drops a still-queued update of the same state. */
  delete(state: State, now: number): void {
    if (state.syncFlags & SYNC_FLAG_NOSYNC) return;
    const key = stateKeyString(state);
    const upd = this.local[1];
    const at = upd.index.get(key);
    if (at !== undefined) {
      upd.records.splice(at, 1);
      upd.index = new Map(upd.records.map((r, i) => [stateKeyString(r), i]));
      if (upd.records.length === 0) upd.deadline = undefined;
    }
    const record = this.compress
      ? { id: state.id, creatorId: state.creatorId }
      : { ...state, updates: 0 };
    this.append(2, key, record, now);
  }

  /** CLR: sent at once, after everything pending. */
  clear(record: StateClear): void {
    this.flush();
    this.emit({ action: H.PFSYNC_ACT_CLR, records: [record] });
  }

  /** BUS START/END: sent at once, after everything pending. */
  bulkStatus(record: BulkStatus): void {
    this.flush();
    this.emit({ action: H.PFSYNC_ACT_BUS, records: [record] });
  }

  /** The all-zero UREQ asking every peer for its table; to the default destination. */
  bulkRequest(): void {
    this.flush();
    this.emit({ action: H.PFSYNC_ACT_UREQ, records: [{ id: 0n, creatorId: 0 }] });
  }

  /** Asks `to` for one state it sent compressed and we lack (§5.6); sent by flushReplies(). */
  requestState(key: StateKey, to: string | undefined): void {
    if (
      this.requests.length > 0 && (this.requestTo !== to || this.requests.length >= this.maxRecords)
    ) {
      this.flushRequests();
    }
    this.requestTo = to;
    this.requests.push({ id: key.id, creatorId: key.creatorId });
  }

  /** A full, uncompressed UPD (bulk transfer, UREQ answer, stale reply); sent by flushReplies(). */
  fullUpdate(state: State): void {
    this.replies.push({ ...state, updates: 0 });
    if (this.replies.length >= this.maxRecords) this.flushFullUpdates();
  }

  /** Sends queued full updates and update requests now. */
  flushReplies(): void {
    this.flushFullUpdates();
    this.flushRequests();
  }

  /** Sends everything pending, in causal order. */
  flush(): void {
    this.flushQueue(2);
    this.flushReplies();
  }

  /** Flushes every local queue whose send interval has ended. */
  tick(now: number): void {
    for (let i = this.local.length - 1; i >= 0; i--) {
      const deadline = this.local[i].deadline;
      if (deadline !== undefined && deadline <= now) this.flushQueue(i);
    }
  }

  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const q of this.local) {
      if (q.deadline !== undefined && (next === undefined || q.deadline < next)) next = q.deadline;
    }
    return next;
  }

  get pending(): number {
    return this.local.reduce((n, q) => n + q.records.length, 0) + this.replies.length +
      this.requests.length;
  }

  /** Whether finished packets wait in the outbox. */
  get hasOutgoing(): boolean {
    return this.outbox.length > 0;
  }

  /** Finished packets since the last call. */
  take(): Outgoing[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  private updateRecord(state: State, updates: number): State | CompressedUpdate {
    if (!this.compress) return { ...state, updates };
    return {
      id: state.id,
      creatorId: state.creatorId,
      src: state.src,
      dst: state.dst,
      expire: state.expire,
      timeout: state.timeout,
      updates,
    };
  }

  private append(q: number, key: string, record: LocalRecord, now: number): void {
    const queue = this.local[q];
    if (queue.records.length === 0) queue.deadline = now + this.intervalMs;
    queue.index.set(key, queue.records.length);
    queue.records.push(record);
    if (queue.records.length >= this.maxRecords) this.flushQueue(q);
  }

  /** Flushes queue `q` and, first, every queue that must precede it. */
  private flushQueue(q: number): void {
    for (let i = 0; i <= q; i++) {
      const queue = this.local[i];
      if (queue.records.length === 0) continue;
      this.emit({ action: queue.action, records: queue.records } as PfsyncMessage);
      queue.records = [];
      queue.index = new Map();
      queue.deadline = undefined;
    }
  }

  private flushFullUpdates(): void {
    if (this.replies.length === 0) return;
    this.emit({ action: H.PFSYNC_ACT_UPD, records: this.replies });
    this.replies = [];
  }

  private flushRequests(): void {
    if (this.requests.length === 0) return;
    this.emit({ action: H.PFSYNC_ACT_UREQ, records: this.requests }, this.requestTo);
    this.requests = [];
    this.requestTo = undefined;
  }

  private emit(message: PfsyncMessage, to?: string): void {
    const records = message.records.length;
    const bytes = encodeFrame(message, this.auth ? AUTH_TRAILER_SIZE : 0);
    if (this.auth) this.auth.seal(bytes, frameLength(message.action, records));
    this.outbox.push(
      to === undefined ? { bytes, action: message.action, records } : {
        bytes,
        to,
        action: message.action,
        records,
      },
    );
  }
}
