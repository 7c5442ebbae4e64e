/**
 * The pfsync receiver (spec pfsync.md §6): admission checks in kernel order,
 * each drop counted by name, then per-action processing against the
 * StateTable through a table indexed by action code. It performs no I/O:
 * replies go into the sender's outbox, bulk-update effects are returned.
 * Network input never throws out of `receive`: DecodeErrors are counted, any
 * other exception is a bug and propagates.
 */
import { Tombstones } from "./tombstones.ts";
import { DecodeError } from "../bytes/errors.ts";
import type { Origin, StateTable } from "../state/table.ts";
import type { State, StateKey, StatePeer } from "../state/types.ts";
import {
  AF_INET,
  AF_INET6_FREEBSD,
  PFTM_MAX,
  SYNC_FLAG_STALE,
  TCP_STATE_MAX,
} from "../state/types.ts";
import type { PfsyncAuth } from "./auth.ts";
import type { BulkEffect, BulkRequester, BulkResponder } from "./bulk.ts";
import { checkFrame, decodeFrame, frameLength } from "./frame.ts";
import * as H from "./header.ts";
import type * as R from "./records.ts";
import {
  decodeStateRecord,
  isBulkRequest,
  PFSYNC_BUS_END,
  PFSYNC_BUS_START,
  STATE_OFFSETS as S,
  STATE_RECORD_SIZE,
} from "./records.ts";
import type { PfsyncSender } from "./sender.ts";
import { judgeCompressedUpdate, judgeFullUpdate } from "./stale.ts";
import { isPfsyncCounter, type PfsyncStats } from "./stats.ts";

export interface ReceiveMeta {
  readonly ttl: number;
  /** Whether the packet arrived on the configured sync interface. */
  readonly onSyncInterface: boolean;
  /** IPv4 source address: the peer's identity and the UREQ destination. */
  readonly source: string;
}

export type ReceiveVerdict =
  | { readonly accepted: true; readonly action: number; readonly records: number }
  | { readonly accepted: false; readonly reason: string };

export interface ReceiveResult {
  readonly verdict: ReceiveVerdict;
  readonly effects: readonly BulkEffect[];
}

export interface ReceiverDeps {
  readonly table: StateTable;
  readonly sender: PfsyncSender;
  readonly stats: PfsyncStats;
  readonly requester: BulkRequester;
  readonly responder: BulkResponder;
  readonly auth?: PfsyncAuth;
  /** False when no sync interface (or peer) is configured: drop silently. */
  readonly enabled: () => boolean;
  /** Our own sync-ok flag (no bulk update pending). */
  readonly syncOk: () => boolean;
  /** This host's AF_INET6 number: 28 (FreeBSD, default) or 24 (OpenBSD). */
  readonly af6?: number;
  /** 6.x stale detection (default on); off = 5.4 unconditional overwrite. */
  readonly staleDetection?: boolean;
  /**
   * This host's creator id, and whether a full update of an unknown state
   * bearing it is refused: once we have our own table (after the start-up
   * bulk update) a state we created and no longer have is one we deleted,
   * and a peer sending it back (in a bulk update) would resurrect it.
   */
  readonly ownCreatorId?: number;
  readonly refuseOwnUnknown?: () => boolean;
}

interface Context {
  readonly now: number;
  /** The packet, so full records can be stored from their wire bytes. */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Records in the packet (INS and UPD handlers read them in place). */
  readonly count: number;
  readonly source: string;
  readonly origin: Origin;
  readonly effects: BulkEffect[];
}

type Handler = (records: readonly never[], ctx: Context) => void;

/** Actions whose handlers read their records in place. */
const IN_PLACE = new Set<number>([H.PFSYNC_ACT_INS, H.PFSYNC_ACT_UPD]);
const NO_RECORDS: readonly never[] = [];
/** pfsync_state_peer.state, from the peer's start. */
const PEER_STATE = 24;

export class PfsyncReceiver {
  private readonly d: ReceiverDeps;
  private readonly scratch = new Uint8Array(STATE_RECORD_SIZE);
  /** States deleted a moment ago: a record reordered behind its delete must not revive them. */
  readonly tombstones = new Tombstones();
  private readonly af6: number;
  private readonly staleDetection: boolean;
  private readonly handlers: readonly Handler[];

  constructor(deps: ReceiverDeps) {
    this.d = deps;
    this.af6 = deps.af6 ?? AF_INET6_FREEBSD;
    this.staleDetection = deps.staleDetection ?? true;
    // Indexed by action code (PFSYNC_ACT_*).
    this.handlers = [
      (r: readonly R.StateClear[], c) => this.onClear(r, c),
      (_, c) => this.onInsert(c),
      (_, c) => this.onUpdate(c),
      (r: readonly State[], c) => this.onDelete(r, c),
      (r: readonly R.CompressedUpdate[], c) => this.onCompressedUpdate(r, c),
      (r: readonly R.CompressedDelete[], c) => this.onDelete(r, c),
      () => {},
      () => {},
      (r: readonly R.UpdateRequest[], c) => this.onRequest(r, c),
      (r: readonly R.BulkStatus[], c) => this.onBulkStatus(r, c),
    ] as readonly Handler[];
  }

  receive(meta: ReceiveMeta, bytes: Uint8Array, now: number): ReceiveResult {
    const stats = this.d.stats;
    stats.ipackets++;
    const effects: BulkEffect[] = [];
    const drop = (reason: string): ReceiveResult => {
      if (isPfsyncCounter(reason)) stats[reason]++;
      return { verdict: { accepted: false, reason }, effects };
    };
    if (!this.d.enabled()) return drop("disabled");
    if (!meta.onSyncInterface) return drop("badif");
    if (meta.ttl !== H.PFSYNC_DFLTTL) return drop("badttl");
    // BUS is ignored unless we wait for a bulk update, even before its length check.
    if (
      bytes.length >= H.PFSYNC_HDRLEN && bytes[0] === H.PFSYNC_VERSION &&
      bytes[2] === H.PFSYNC_ACT_BUS && !this.d.requester.isPending
    ) {
      return drop("bus-ignored");
    }
    try {
      // Judge the trailer before decoding records, so forged floods cost little.
      const header = checkFrame(bytes);
      if (this.d.auth) {
        const end = frameLength(header.action, header.count);
        if (!this.d.auth.admits(this.d.auth.verify(bytes, end, meta.source))) {
          return drop("badauth");
        }
      }
      // Full-state records are read in place by their handlers: most are stored as they
      // are, and decoding them into State objects first cost more than the rest together.
      const action = header.action;
      const inPlace = IN_PLACE.has(action);
      const records = inPlace ? NO_RECORDS : decodeFrame(bytes).message.records as readonly never[];
      const count = inPlace ? header.count : records.length;
      const ctx: Context = {
        now,
        bytes,
        view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        count,
        source: meta.source,
        origin: { peer: meta.source },
        effects,
      };
      this.handlers[action](records, ctx);
      return { verdict: { accepted: true, action, records: count }, effects };
    } catch (error) {
      if (error instanceof DecodeError) return drop(error.reason);
      throw error;
    }
  }

  private validPeers(src: StatePeer, dst: StatePeer, timeout: number): boolean {
    return timeout < PFTM_MAX && src.state <= TCP_STATE_MAX && dst.state <= TCP_STATE_MAX;
  }

  /** validPeers() on a full record in place at `o`. */
  private validPeersAt(bytes: Uint8Array, o: number): boolean {
    return bytes[o + S.timeout] < PFTM_MAX && bytes[o + S.src + PEER_STATE] <= TCP_STATE_MAX &&
      bytes[o + S.dst + PEER_STATE] <= TCP_STATE_MAX;
  }

  /**
   * The record at `o` as we store a learned state (6.x: flags cleared,
   * counters not imported), in a scratch buffer reused for every record.
   */
  private learnedAt(bytes: Uint8Array, o: number): Uint8Array {
    const r = this.scratch;
    r.set(bytes.subarray(o, o + STATE_RECORD_SIZE));
    r.fill(0, S.packets0, S.bytes1 + 4);
    r[S.syncFlags] = 0;
    r[S.updates] = 0;
    return r;
  }

  private onClear(records: readonly R.StateClear[], ctx: Context): void {
    // Marked as peer-origin so the removals are not echoed (OpenBSD 4.1 fix of the 5.4/6.x quirk).
    for (const r of records) this.d.table.clearCreator(r.creatorId, r.ifname, ctx.origin);
  }

  private onInsert(ctx: Context): void {
    const { bytes, view } = ctx;
    for (let i = 0, o = H.PFSYNC_HDRLEN; i < ctx.count; i++, o += STATE_RECORD_SIZE) {
      const af = bytes[o + S.af];
      const valid = this.validPeersAt(bytes, o) && bytes[o + S.direction] <= 2 &&
        (af === AF_INET || af === this.af6);
      if (!valid) {
        this.d.stats.badstate++;
        continue;
      }
      if (this.deletedAt(view, o, ctx.now)) continue;
      if (this.d.table.insertRecord(this.learnedAt(bytes, o), ctx.origin)) continue;
      const r = { id: view.getBigUint64(o), creatorId: view.getUint32(o + S.creatorId) };
      // The same state again is harmless (and marks it refreshed for the stale
      // purge); another state holding the flow is a failed insert.
      if (!this.d.table.touch(r)) this.d.stats.badstate++;
    }
  }

  private onUpdate(ctx: Context): void {
    const { table, stats } = this.d;
    const { bytes, view } = ctx;
    for (let i = 0, o = H.PFSYNC_HDRLEN; i < ctx.count; i++, o += STATE_RECORD_SIZE) {
      if (!this.validPeersAt(bytes, o)) {
        stats.badstate++;
        continue;
      }
      this.d.requester.onState(ctx.now);
      const syncFlags = bytes[o + S.syncFlags];
      // Most full updates arrive in bulk updates, for states we lack: insert
      // first, which also finds a known id, and decode and look up only then.
      if (
        this.d.ownCreatorId !== undefined &&
        view.getUint32(o + S.creatorId) === this.d.ownCreatorId &&
        this.d.refuseOwnUnknown?.() &&
        !table.has({ id: view.getBigUint64(o), creatorId: this.d.ownCreatorId })
      ) {
        stats.badstate++; // ours, deleted here: not brought back
        continue;
      }
      if (this.deletedAt(view, o, ctx.now)) continue;
      if (table.insertRecord(this.learnedAt(bytes, o), ctx.origin)) continue;
      const r = decodeStateRecord(bytes, o, view);
      const local = table.get(r);
      if (!local) {
        stats.badstate++; // another state holds the flow
        continue;
      }
      const verdict = this.staleDetection ? judgeFullUpdate(local, r.src, r.dst) : "fresh";
      if (verdict === "fresh") {
        // A full update also carries what UPD_C cannot: the sender sends one when those change
        // (a conntrack mark or status under LX1), so they are taken over too.
        table.patch(
          r,
          {
            src: r.src,
            dst: r.dst,
            timeout: r.timeout,
            expire: r.expire,
            rule: r.rule,
            anchor: r.anchor,
            natRule: r.natRule,
            log: r.log,
          },
          ctx.origin,
        );
        continue;
      }
      stats.stale++;
      let mine = local;
      if (verdict === "partial") mine = table.patch(r, { src: r.src }, ctx.origin) ?? local;
      else table.touch(r); // the peer still has it: not stale for the bulk-update purge
      if (!(syncFlags & SYNC_FLAG_STALE)) this.answerStale(mine, verdict === "stale");
    }
    this.d.sender.flushReplies();
  }

  private onCompressedUpdate(records: readonly R.CompressedUpdate[], ctx: Context): void {
    const { table, stats } = this.d;
    for (const r of records) {
      if (!this.validPeers(r.src, r.dst, r.timeout)) {
        stats.badstate++;
        continue;
      }
      const local = table.get(r);
      if (!local) {
        const lo = Number(r.id & 0xffffffffn);
        if (this.tombstones.has(Number(r.id >> 32n), lo, r.creatorId, ctx.now)) {
          stats.stale++; // sent before its delete, arrived after it: nothing to ask for
          continue;
        }
        this.d.sender.requestState(r, ctx.source);
        stats.badstate++;
        continue;
      }
      if (this.staleDetection && judgeCompressedUpdate(local, r.src, r.dst) !== "fresh") {
        stats.stale++;
        table.touch(r);
        this.answerStale(local, true);
        continue;
      }
      table.patch(r, { src: r.src, dst: r.dst, timeout: r.timeout, expire: r.expire }, ctx.origin);
    }
    this.d.sender.flushReplies();
  }

  private onDelete(records: readonly StateKey[], ctx: Context): void {
    for (const r of records) {
      // A delete of a state deleted a moment ago is a repeat (a repair), not a failed lookup.
      const repeat = this.tombstones.size > 0 &&
        this.tombstones.has(Number(r.id >> 32n), Number(r.id & 0xffffffffn), r.creatorId, ctx.now);
      this.tombstones.add(r.id, r.creatorId, ctx.now);
      if (!this.d.table.delete(r, ctx.origin) && !repeat) this.d.stats.badstate++;
    }
  }

  /**
   * Whether the full record at `o` is of a state deleted a moment ago (its
   * delete overtook it on the link): then it is old, counted `stale`, and
   * must not create the state again.
   */
  private deletedAt(view: DataView, o: number, now: number): boolean {
    if (this.tombstones.size === 0) return false;
    const gone = this.tombstones.has(
      view.getUint32(o),
      view.getUint32(o + 4),
      view.getUint32(o + S.creatorId),
      now,
    );
    if (gone) this.d.stats.stale++;
    return gone;
  }

  private onRequest(records: readonly R.UpdateRequest[], ctx: Context): void {
    const sender = this.d.sender;
    sender.flush();
    for (const r of records) {
      if (isBulkRequest(r)) {
        this.d.responder.onRequest(ctx.now, this.d.syncOk());
        continue;
      }
      const state = this.d.table.get(r);
      if (!state) this.d.stats.badstate++;
      else if (!(state.syncFlags & 0x01)) sender.fullUpdate(state);
    }
    sender.flushReplies();
  }

  private onBulkStatus(records: readonly R.BulkStatus[], ctx: Context): void {
    const r = records[0];
    const requester = this.d.requester;
    if (r.status === PFSYNC_BUS_START) ctx.effects.push(...requester.onBusStart(ctx.now));
    else if (r.status === PFSYNC_BUS_END) {
      ctx.effects.push(...requester.onBusEnd(r.endtime, ctx.now, r.creatorId));
    }
  }

  private answerStale(mine: State, markStale: boolean): void {
    if (mine.syncFlags !== 0) return;
    this.d.sender.fullUpdate(markStale ? { ...mine, syncFlags: SYNC_FLAG_STALE } : mine);
  }
}
