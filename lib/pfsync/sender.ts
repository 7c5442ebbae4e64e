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
import { SYNC_FLAG_NOSYNC } from "../state/types.ts";
import type { PfsyncAuth } from "./auth.ts";
import { AUTH_TRAILER_SIZE } from "./auth.ts";
import { encodeSeqTrailer, SEQ_TRAILER_SIZE, type SequenceCounter } from "./sequence.ts";
import { encodeFrame, frameLength, maxRecordsForMtu, type PfsyncMessage } from "./frame.ts";
import type { LookupResult, RepairLog } from "./repair_log.ts";
import { encodeNack, encodeRepaired, type Nack, type RepairedRange } from "./repair_wire.ts";
import * as H from "./header.ts";
import type { BulkStatus, CompressedUpdate, StateClear, UpdateRequest } from "./records.ts";
import { encodeStateRecord, STATE_OFFSETS, STATE_RECORD_SIZE } from "./records.ts";

export interface Outgoing {
  readonly bytes: Uint8Array;
  /** Unicast destination; undefined = the default (group or syncpeer). */
  readonly to?: string;
  readonly action: number;
  readonly records: number;
  /** An idle-link beacon (it does not schedule another). */
  readonly beacon?: boolean;
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
  /**
   * Flush timer of the INS queue, ms, at most `intervalMs` (default: the
   * same, as in pf). The agent uses QUICK_INSERT_DELAY_MS.
   */
  readonly insertDelayMs?: number;
  readonly auth?: PfsyncAuth;
  /**
   * Appends a sequence trailer (sequence.ts) to every packet; ignored with
   * `auth`, whose trailer carries the sequence. Default: none (plain v2).
   */
  readonly sequence?: { readonly counter: SequenceCounter; readonly senderId: number };
  /** Logs what every sequenced packet carried, for answering NACKs (repair_log.ts). */
  readonly repairLog?: RepairLog;
}

/**
 * The agent's INS flush delay. pf of the v2 era sent every pending packet on
 * one 1 s timer (spec pfsync.md §4); a state the peer learns late is a
 * connection that breaks if a failover comes first (later pfsync versions
 * added `defer`, holding a connection's first packet until the peer has
 * acknowledged its insert). A new state never coalesces (INS are not collapsed), so it
 * waits only long enough to share a packet with the states created in the
 * same burst — a packet fills in far less at thousands of new states a
 * second — while updates keep coalescing for the whole interval.
 */
export const QUICK_INSERT_DELAY_MS = 10;

type LocalRecord = State | CompressedUpdate | { readonly id: bigint; readonly creatorId: number };

interface Queue {
  readonly name: "ins" | "upd" | "del" | "updfull";
  action: number;
  records: LocalRecord[];
  deadline: number | undefined;
}

export class PfsyncSender {
  readonly maxRecords: number;
  readonly maxupd: number;
  readonly compress: boolean;
  readonly intervalMs: number;
  readonly insertDelayMs: number;
  private readonly auth?: PfsyncAuth;
  private readonly sequence?: SenderOptions["sequence"];
  private readonly local: Queue[];
  /** Queued full updates, encoded at once (bulk walks copy them straight from the table). */
  private readonly replyBytes: Uint8Array;
  private readonly replyView: DataView;
  private replyCount = 0;
  private requests: UpdateRequest[] = [];
  /** DEL_C records answering a NACK for states that are gone. */
  private repairDeletes: StateKey[] = [];
  private readonly repairLog?: RepairLog;
  private requestTo: string | undefined;
  private outbox: Outgoing[] = [];

  constructor(options: SenderOptions = {}) {
    this.maxupd = options.maxupd ?? 128;
    if (!Number.isInteger(this.maxupd) || this.maxupd < 0 || this.maxupd > 255) {
      throw new RangeError(`maxupd must be 0–255, got ${options.maxupd}`);
    }
    this.maxRecords = maxRecordsForMtu(options.mtu ?? 1500);
    this.replyBytes = new Uint8Array(this.maxRecords * STATE_RECORD_SIZE);
    this.replyView = new DataView(this.replyBytes.buffer);
    this.compress = options.compress ?? true;
    this.intervalMs = options.intervalMs ?? 1000;
    this.insertDelayMs = Math.min(
      this.intervalMs,
      Math.max(0, options.insertDelayMs ?? this.intervalMs),
    );
    this.auth = options.auth;
    if (!options.auth) this.sequence = options.sequence;
    if (this.sequence) this.repairLog = options.repairLog;
    const queue = (name: Queue["name"], action: number): Queue => ({
      name,
      action,
      records: [],
      deadline: undefined,
    });
    this.local = [
      queue("ins", H.PFSYNC_ACT_INS),
      queue("upd", this.compress ? H.PFSYNC_ACT_UPD_C : H.PFSYNC_ACT_UPD),
      queue("del", this.compress ? H.PFSYNC_ACT_DEL_C : H.PFSYNC_ACT_DEL),
      // Local updates that changed what UPD_C cannot carry (FULL_UPDATE_RANGES). A state is
      // pending in at most one of these queues, so their order never matters for one state.
      queue("updfull", H.PFSYNC_ACT_UPD),
    ];
  }

  /** A locally created state (never compressed, never collapsed). */
  insert(state: State, now: number): void {
    if (state.syncFlags & SYNC_FLAG_NOSYNC) return;
    if (indexOf(this.local[2], state) >= 0) this.flushQueue(2);
    // States are immutable: one whose counter is already 0 is queued as it is.
    this.append(0, state.updates === 0 ? state : { ...state, updates: 0 }, now);
  }

  /**
   * A local update: collapsed into a pending record of the same state when maxupd ≠ 0.
   * `full`: it changed a field UPD_C does not carry (a conntrack mark or status, a rule
   * number), so it goes as a full UPD, and so do the state's updates pending with it.
   */
  update(state: State, now: number, full = false): void {
    if (state.syncFlags & SYNC_FLAG_NOSYNC) return;
    const ins = this.local[0];
    const pendingInsert = indexOf(ins, state);
    if (pendingInsert >= 0) {
      ins.records[pendingInsert] = { ...state, updates: 0 };
      return;
    }
    const fullQueue = this.local[3];
    const pendingFull = this.compress ? indexOf(fullQueue, state) : -1;
    if (pendingFull >= 0 || (full && this.compress)) {
      this.fullLocalUpdate(state, pendingFull, now);
      return;
    }
    const upd = this.local[1];
    const at = this.maxupd === 0 ? -1 : indexOf(upd, state);
    if (at >= 0) {
      const previous = upd.records[at] as State | CompressedUpdate;
      const updates = Math.min(255, previous.updates + 1);
      upd.records[at] = this.updateRecord(state, updates);
      if (updates >= this.maxupd) this.flushQueue(1);
      return;
    }
    this.append(1, this.updateRecord(state, 0), now);
  }

  /** A local removal; drops a still-queued update of the same state. */
  delete(state: State, now: number): void {
    if (state.syncFlags & SYNC_FLAG_NOSYNC) return;
    for (const upd of [this.local[1], this.local[3]]) {
      const at = indexOf(upd, state);
      if (at < 0) continue;
      upd.records.splice(at, 1);
      if (upd.records.length === 0) upd.deadline = undefined;
    }
    const record = this.compress
      ? { id: state.id, creatorId: state.creatorId }
      : { ...state, updates: 0 };
    this.append(2, record, now);
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

  /**
   * An idle-link beacon: an UPD_C with no records (receivers process zero
   * records; spec §6.2 rule 6 then has nothing to flush). Only its trailer
   * matters: it tells peers which sequence we reached, so the loss of the last
   * packets before a quiet spell is noticed.
   */
  beacon(): void {
    this.emit({ action: H.PFSYNC_ACT_UPD_C, records: [] }, undefined, undefined, undefined, true);
  }

  /** Asks the sender at `to` to repair the packets `nack` names (repair_wire.ts); unsequenced. */
  nack(nack: Nack, to: string): void {
    this.emit({ action: H.PFSYNC_ACT_UPD_C, records: [] }, to, undefined, encodeNack(nack));
  }

  /** A repair: tells peers that a state a lost packet carried is gone (DEL_C). */
  repairDelete(key: StateKey): void {
    this.repairDeletes.push({ id: key.id, creatorId: key.creatorId });
    if (this.repairDeletes.length >= this.maxRecords) this.flushRepairDeletes();
  }

  /** What the packet hi:lo carried, from the repair log ("gone" without one). */
  repairLookup(
    hi: number,
    lo: number,
    visit: (idHi: number, idLo: number, creatorId: number) => void,
  ): LookupResult {
    return this.repairLog ? this.repairLog.lookup(hi, lo, visit) : "gone";
  }

  /**
   * Ends the answer to a NACK: sends the repairs queued so far, then an empty
   * UPD_C whose trailer is followed by the marker naming the ranges answered.
   */
  repairDone(ranges: readonly RepairedRange[]): void {
    this.flushReplies();
    this.emit(
      { action: H.PFSYNC_ACT_UPD_C, records: [] },
      undefined,
      undefined,
      encodeRepaired(ranges),
    );
  }

  /** Whether packets carry a trailer a peer can count losses by. */
  get sequenced(): boolean {
    return this.auth !== undefined || this.sequence !== undefined;
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
    const o = this.replyCount * STATE_RECORD_SIZE;
    encodeStateRecord(state, this.replyBytes, o, this.replyView);
    this.replyBytes[o + STATE_OFFSETS.updates] = 0;
    if (++this.replyCount >= this.maxRecords) this.flushFullUpdates();
  }

  /**
   * fullUpdate() of the state in slot `slot` of `table`, copied from the
   * table's record without building a State (the bulk walk). False, and
   * nothing queued, when the slot is free or the state is marked NOSYNC.
   */
  fullUpdateAt(table: SlotSource, slot: number): boolean {
    const o = this.replyCount * STATE_RECORD_SIZE;
    if (!table.wireRecordAt(slot, this.replyBytes, o, this.replyView)) return false;
    if (this.replyBytes[o + STATE_OFFSETS.syncFlags] & SYNC_FLAG_NOSYNC) return false;
    this.replyBytes[o + STATE_OFFSETS.updates] = 0;
    if (++this.replyCount >= this.maxRecords) this.flushFullUpdates();
    return true;
  }

  /** Sends queued full updates and update requests now. */
  flushReplies(): void {
    this.flushFullUpdates();
    this.flushRepairDeletes();
    this.flushRequests();
  }

  /** Sends everything pending, in causal order. */
  flush(): void {
    this.flushQueue(this.local.length - 1);
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
    return this.local.reduce((n, q) => n + q.records.length, 0) + this.replyCount +
      this.requests.length + this.repairDeletes.length;
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

  /** update() as a full UPD: replaces the state's pending UPD_C, or its pending full update. */
  private fullLocalUpdate(state: State, pendingFull: number, now: number): void {
    const fullQueue = this.local[3];
    let updates = 0;
    const upd = this.local[1];
    const compressed = indexOf(upd, state);
    if (compressed >= 0) {
      updates = (upd.records[compressed] as CompressedUpdate).updates + 1;
      upd.records.splice(compressed, 1);
      if (upd.records.length === 0) upd.deadline = undefined;
    }
    if (pendingFull >= 0) {
      updates = (fullQueue.records[pendingFull] as State).updates + 1;
      fullQueue.records[pendingFull] = { ...state, updates: Math.min(255, updates) };
      if (this.maxupd !== 0 && updates >= this.maxupd) this.flushQueue(3);
      return;
    }
    this.append(3, { ...state, updates: Math.min(255, updates) }, now);
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

  private append(q: number, record: LocalRecord, now: number): void {
    const queue = this.local[q];
    if (queue.records.length === 0) {
      queue.deadline = now + (q === 0 ? this.insertDelayMs : this.intervalMs);
    }
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
      queue.deadline = undefined;
    }
  }

  private flushFullUpdates(): void {
    if (this.replyCount === 0) return;
    const body = this.replyBytes.subarray(0, this.replyCount * STATE_RECORD_SIZE);
    this.replyCount = 0;
    this.emit({ action: H.PFSYNC_ACT_UPD, records: [] }, undefined, body);
  }

  private flushRepairDeletes(): void {
    if (this.repairDeletes.length === 0) return;
    this.emit({ action: H.PFSYNC_ACT_DEL_C, records: this.repairDeletes });
    this.repairDeletes = [];
  }

  private flushRequests(): void {
    if (this.requests.length === 0) return;
    this.emit({ action: H.PFSYNC_ACT_UREQ, records: this.requests }, this.requestTo);
    this.requests = [];
    this.requestTo = undefined;
  }

  /**
   * `body`: the records of a full-state action, already encoded (replaces
   * message.records); `extra`: bytes placed behind the trailer (repair blocks).
   */
  private emit(
    message: PfsyncMessage,
    to?: string,
    body?: Uint8Array,
    extra?: Uint8Array,
    beacon = false,
  ): void {
    const records = body ? body.length / STATE_RECORD_SIZE : message.records.length;
    // Unicast (a UREQ to one peer) goes without: the others would see a gap.
    const seq = to === undefined ? this.sequence : undefined;
    const trailer = this.auth ? AUTH_TRAILER_SIZE : seq ? SEQ_TRAILER_SIZE : 0;
    const room = trailer + (extra?.length ?? 0);
    const bytes = body
      ? encodeEncodedFrame(message.action, body, room)
      : encodeFrame(message, room);
    const end = frameLength(message.action, records);
    if (this.auth) this.auth.seal(bytes, end);
    else if (seq) {
      const sequence = seq.counter.next();
      encodeSeqTrailer({ senderId: seq.senderId, sequence }, bytes, end);
      this.repairLog?.record(Number(sequence >> 32n), Number(sequence & 0xffffffffn), bytes);
    }
    if (extra) bytes.set(extra, end + trailer);
    const out: Outgoing = to === undefined
      ? { bytes, action: message.action, records }
      : { bytes, to, action: message.action, records };
    this.outbox.push(beacon ? { ...out, beacon } : out);
  }
}

/**
 * Position of the record of `key`'s state in `queue`, or -1. A queue never
 * holds more than one packet's records (it flushes when full, at most 9
 * under the 2048-byte rule), so a scan beats keeping a map of key strings.
 */
function indexOf(queue: Queue, key: StateKey): number {
  const records = queue.records;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (r.id === key.id && r.creatorId === key.creatorId) return i;
  }
  return -1;
}

/** What fullUpdateAt() reads states from (a StateTable). */
export interface SlotSource {
  wireRecordAt(slot: number, out: Uint8Array, offset: number, view: DataView): boolean;
}

/** A frame of `action` whose records are already encoded in `body`. */
function encodeEncodedFrame(action: number, body: Uint8Array, trailerRoom: number): Uint8Array {
  const out = new Uint8Array(H.PFSYNC_HDRLEN + body.length + trailerRoom);
  const count = body.length / STATE_RECORD_SIZE;
  H.encodeHeader({ version: H.PFSYNC_VERSION, af: 0, action, count }, out);
  out.set(body, H.PFSYNC_HDRLEN);
  return out;
}
