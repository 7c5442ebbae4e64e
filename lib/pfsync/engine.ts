/**
 * PfsyncEngine: sender, receiver, bulk update and authentication over one
 * StateTable, driven through narrow ports. The driver feeds it packets
 * (`receive`), time (`tick`) and configuration events (`start`, `linkUp`,
 * `resync`); local table changes arrive through the table's events, and
 * only changes of origin "local" are announced — learned states never echo.
 *
 * Healing (beyond the BSDs): packets carry a sequence trailer (sequence.ts),
 * an idle link gets a beacon soon after its last packet and one more later,
 * missing packets are NACKed and their states re-sent as they are now
 * (repair_wire.ts), packets lost for good make a bulk update due (heal.ts),
 * and a finished bulk update purges the peer-learned states nothing
 * refreshed since it was requested — those the responder no longer has.
 */
import { DecodeError } from "../bytes/errors.ts";
import type { StateTable, TableEvent } from "../state/table.ts";
import { AUTH_MAGIC, type AuthMode, PfsyncAuth } from "./auth.ts";
import { type BulkEffect, BulkRequester, BulkResponder } from "./bulk.ts";
import { frameLength } from "./frame.ts";
import { INADDR_PFSYNC_GROUP, PFSYNC_ACT_MAX } from "./header.ts";
import { type HealOptions, HealScheduler } from "./heal.ts";
import {
  type RepairTiming,
  SEQ_MAGIC,
  SEQ_TRAILER_SIZE,
  SequenceCounter,
  SequenceTracker,
} from "./sequence.ts";
import { RepairLog } from "./repair_log.ts";
import {
  decodeNackPacket,
  decodeRepaired,
  hasMagicAt,
  looksLikeNack,
  REPAIRED_MAGIC,
  type RepairedRange,
} from "./repair_wire.ts";
import { answerNack, RepairBudget } from "./repair.ts";
import { BeaconSchedule } from "./beacon.ts";
import { unwrapIPv4 } from "./ip.ts";
import { PfsyncReceiver, type ReceiveMeta, type ReceiveVerdict } from "./receiver.ts";
import { type Outgoing, PfsyncSender } from "./sender.ts";
import { Pacer, type PacerOptions } from "./pacer.ts";
import { newPfsyncStats, type PfsyncStats } from "./stats.ts";

export interface PfsyncPorts {
  /** Hands one pfsync payload to IP output; throwing (or rejecting) counts `oerrors`. */
  send(bytes: Uint8Array, to: string): void | Promise<void>;
  /** Milliseconds, monotonic or wall: only differences matter. */
  now(): number;
  log(level: "info" | "warn" | "debug", message: string): void;
  /** Hold CARP preemption back while a bulk update is pending. */
  holdPreemption(on: boolean, reason: string): void;
}

export interface PfsyncEngineConfig {
  readonly syncif?: string;
  /** Unicast destination instead of 224.0.0.240 (6.x `syncpeer`). */
  readonly syncpeer?: string;
  /** This host's creator id (pf hostid). */
  readonly hostId: number;
  readonly maxupd?: number;
  /** MTU of the sync interface (records per packet). */
  readonly mtu?: number;
  readonly sendIntervalMs?: number;
  /** INS flush delay, ms (default sendIntervalMs; sender.ts QUICK_INSERT_DELAY_MS). */
  readonly insertDelayMs?: number;
  readonly auth?: { readonly key: Uint8Array; readonly mode: AuthMode };
  readonly af6?: number;
  readonly staleDetection?: boolean;
  readonly bulk?: {
    readonly retryMs?: number;
    readonly maxTries?: number;
    readonly firstDelayMs?: number;
    readonly tickMs?: number;
    readonly batchPackets?: number;
    /** BUS messages while our own bulk update is pending (default true; false = 5.4/6.x). */
    readonly statusWhilePending?: boolean;
  };
  /**
   * Output pacing, default 30,000 packets/s in bursts of 256 — about what a
   * user-space peer drains (≈30 µs a packet); it still needs a receive
   * buffer of several MiB to ride out its own pauses. packetsPerSecond 0 = none.
   * The burst must cover one timer period: nested timers fire at most every
   * 4 ms (HTML timer clamping, which Deno follows), and a burst of 64 capped
   * the rate at 16,000 packets/s.
   */
  readonly pacing?: Partial<PacerOptions>;
  /**
   * Sequence trailer on every packet, beacons on an idle link, and bulk
   * updates requested when a peer's trailers show lost packets (default true;
   * false = plain version 2, nothing beyond the BSDs).
   */
  readonly sequence?: boolean;
  /** Purge peer-learned states the responder lacks at the end of a bulk update (default true). */
  readonly bulkPurge?: boolean;
  /**
   * NACK missing packets and answer peers' NACKs (default true; needs
   * `sequence`, and is off with authentication, whose trailer cannot cover a NACK).
   */
  readonly repair?: boolean;
  readonly heal?: HealOptions & {
    /** How long a missing sequence may be late (reordering) before it counts as lost. */
    readonly reorderMs?: number;
    /** Idle time after the last packet before the last beacon goes out. */
    readonly beaconMs?: number;
    /** Idle time after the last packet before the first beacon goes out. */
    readonly fastBeaconMs?: number;
    /** NACK timing. */
    readonly nack?: RepairTiming;
    /** Wait after BUS END before purging, for reordered records still in flight. */
    readonly purgeDelayMs?: number;
  };
}

export interface PfsyncStatus {
  readonly syncif: string | null;
  readonly syncpeer: string | null;
  readonly maxupd: number;
  readonly maxRecords: number;
  readonly bulk: ReturnType<BulkRequester["status"]> & {
    readonly serving: boolean;
    readonly served: number;
  };
  readonly stats: PfsyncStats;
  readonly heal: {
    readonly sequence: boolean;
    readonly bulkPurge: boolean;
    /** Packets lost that wait for a bulk update. */
    readonly lossPending: number;
    readonly repair: boolean;
    /** Missing packets still waiting (for a late arrival or a repair). */
    readonly openHoles: number;
    /** The current wait before a missing packet is NACKed. */
    readonly nackDelayMs: number;
    /** Records queued to send (coalescing) and packets waiting for the pacer. */
    readonly queued: number;
    /** States the last purge removed. */
    readonly lastPurged: number;
  };
}

export class PfsyncEngine {
  readonly stats: PfsyncStats = newPfsyncStats();
  readonly sender: PfsyncSender;
  private readonly table: StateTable;
  private readonly ports: PfsyncPorts;
  private readonly config: PfsyncEngineConfig;
  private readonly requester: BulkRequester;
  private readonly responder: BulkResponder;
  private readonly receiver: PfsyncReceiver;
  private readonly pacer: Pacer<Outgoing>;
  private readonly auth: PfsyncAuth | undefined;
  private unsubscribe: (() => void) | undefined;
  private silenced = false;
  private readonly sequenced: boolean;
  private readonly bulkPurge: boolean;
  private readonly tracker: SequenceTracker;
  private readonly healer: HealScheduler;
  private readonly beacons: BeaconSchedule;
  private readonly repairBudget = new RepairBudget();
  private readonly purgeDelayMs: number;
  private readonly repairOn: boolean;
  /** When a purge was first due; it waits while holes may still be repaired. */
  private purgeDueSince: number | undefined;
  /** The table epoch opened by the latest bulk request. */
  private roundEpoch: number | undefined;
  private purge: { token: number; at: number; peer: string; creator: number } | undefined;
  /** Our own table is known (the start-up bulk update ended): see ReceiverDeps.refuseOwnUnknown. */
  private ownTableKnown = false;
  private lastPurged = 0;
  /** Source of the packet being handled (a BUS END's responder). */
  private packetSource = "";

  constructor(table: StateTable, ports: PfsyncPorts, config: PfsyncEngineConfig) {
    this.table = table;
    this.ports = ports;
    this.config = config;
    const auth = config.auth
      // Seeded from the wall clock, not ports.now (often monotonic, restarting
      // near 0), so sequence numbers keep rising across restarts.
      ? new PfsyncAuth({ key: config.auth.key, mode: config.auth.mode, senderId: config.hostId })
      : undefined;
    this.auth = auth;
    this.sequenced = config.sequence ?? true;
    this.bulkPurge = config.bulkPurge ?? true;
    this.repairOn = this.sequenced && !auth && (config.repair ?? true);
    this.tracker = new SequenceTracker({
      reorderMs: config.heal?.reorderMs,
      ownId: config.hostId,
      repair: this.repairOn ? config.heal?.nack ?? {} : undefined,
    });
    this.healer = new HealScheduler(config.heal);
    this.beacons = new BeaconSchedule({
      firstMs: config.heal?.fastBeaconMs,
      lastMs: config.heal?.beaconMs,
    });
    this.purgeDelayMs = config.heal?.purgeDelayMs ?? 250;
    this.sender = new PfsyncSender({
      maxupd: config.maxupd,
      mtu: config.mtu,
      compress: config.syncif !== undefined,
      intervalMs: config.sendIntervalMs,
      insertDelayMs: config.insertDelayMs,
      auth,
      // Seeded from the wall clock like the auth sequence, for the same reason.
      sequence: this.sequenced
        ? { counter: new SequenceCounter(), senderId: config.hostId }
        : undefined,
      repairLog: this.repairOn ? new RepairLog() : undefined,
    });
    this.pacer = new Pacer({
      packetsPerSecond: config.pacing?.packetsPerSecond ?? 30_000,
      burst: config.pacing?.burst ?? 256,
    });
    this.requester = new BulkRequester({
      retryMs: config.bulk?.retryMs,
      maxTries: config.bulk?.maxTries,
      maxRecords: this.sender.maxRecords,
    });
    this.responder = new BulkResponder(table, this.sender, {
      hostId: config.hostId,
      firstDelayMs: config.bulk?.firstDelayMs,
      tickMs: config.bulk?.tickMs,
      // A batch per timer tick as large as the pacer's burst: ticks come at
      // most every 4 ms (timer clamping), and 100 packets a tick left the
      // sender idle two thirds of the time during a million-state bulk update.
      batchPackets: config.bulk?.batchPackets ?? this.pacer.burst,
      statusWhilePending: config.bulk?.statusWhilePending,
    });
    this.receiver = new PfsyncReceiver({
      table,
      sender: this.sender,
      stats: this.stats,
      requester: this.requester,
      responder: this.responder,
      auth,
      enabled: () => this.enabled,
      syncOk: () => !this.requester.isPending,
      af6: config.af6,
      staleDetection: config.staleDetection,
      ownCreatorId: config.hostId,
      refuseOwnUnknown: () => this.ownTableKnown,
    });
  }

  get enabled(): boolean {
    return this.config.syncif !== undefined || this.config.syncpeer !== undefined;
  }

  /** Subscribes to the table and asks the peers for their states. */
  start(): void {
    if (!this.unsubscribe) this.unsubscribe = this.table.on((event) => this.onTableEvent(event));
    this.resync("start");
  }

  stop(): void {
    this.sender.flush();
    this.drain();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** The sync link came (back) up. */
  linkUp(): void {
    this.resync("sync link up");
  }

  /** `pfsyncd resync`: a new bulk request (holding CARP preemption back). */
  resync(reason = "resync"): void {
    if (!this.enabled) return;
    this.request(this.ports.now(), reason, true);
    this.drain();
  }

  /**
   * A local "flush states" (pfctl -F states): `remove` deletes the states from
   * the table without individual announcements (pf marks them NOSYNC), then
   * one CLR with our creator id tells peers to drop the states we created.
   */
  clearStates(ifname = "", remove?: () => void): void {
    this.silenced = true;
    try {
      remove?.();
    } finally {
      this.silenced = false;
    }
    if (!this.enabled) return;
    this.sender.clear({ ifname, creatorId: this.config.hostId });
    this.drain();
  }

  receive(meta: ReceiveMeta, bytes: Uint8Array): ReceiveVerdict {
    const now = this.ports.now();
    this.packetSource = meta.source;
    const result = this.receiver.receive(meta, bytes, now);
    if (this.sequenced && arrived(result.verdict)) {
      this.observeTrailer(meta.source, bytes, now, result.verdict.accepted);
    }
    if (this.repairOn && result.verdict.accepted && looksLikeNack(bytes)) {
      const nack = decodeNackPacket(bytes);
      const resent = nack &&
        answerNack(nack, this.config.hostId, this.table, this.sender, this.repairBudget, now);
      if (!nack) this.stats.badrepair++;
      else if (resent !== undefined) {
        this.stats.nackrcvd++;
        this.stats.repairsent += resent;
      }
    }
    this.apply(result.effects);
    this.drain();
    return result.verdict;
  }

  /**
   * A whole IPv4 datagram from a raw socket. One too short for an IP header
   * is counted (`ipackets`, `hdrops`) here; everything else goes through
   * `receive` with the TTL and source taken from the header.
   */
  receiveDatagram(datagram: Uint8Array, onSyncInterface: boolean): ReceiveVerdict {
    let envelope;
    try {
      envelope = unwrapIPv4(datagram);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.stats.ipackets++;
      this.stats.hdrops++;
      return { accepted: false, reason: "hdrops" };
    }
    return this.receive(
      { ttl: envelope.ttl, onSyncInterface, source: envelope.source },
      envelope.payload,
    );
  }

  /** `backlog`: packets are still waiting to be received, so no sequence hole expires yet. */
  tick(now = this.ports.now(), backlog = false): void {
    this.heal(now, backlog);
    this.sender.tick(now);
    // Back-pressure: the bulk walk waits while paced packets pile up.
    if (this.pacer.backlog < this.pacer.burst) {
      this.responder.tick(now, !this.requester.isPending);
    }
    this.apply(this.requester.tick(now));
    if (this.beacons.due(now)) {
      const idle = this.sender.pending === 0 && !this.sender.hasOutgoing &&
        this.pacer.backlog === 0;
      if (idle) this.sender.beacon();
    }
    this.drain();
  }

  /** When `tick` next has work, or undefined. */
  nextDeadline(): number | undefined {
    const times = [
      this.sender.nextDeadline(),
      this.responder.nextDeadline(),
      this.requester.nextDeadline(),
      this.pacer.nextDeadline(this.ports.now()),
      this.beacons.deadline,
      this.purge?.at,
      this.tracker.nextDeadline(this.ports.now()),
      // While a bulk update is pending the request waits; its end reschedules.
      this.requester.isPending ? undefined : this.healer.nextDeadline(),
    ]
      .filter((t): t is number => t !== undefined);
    return times.length ? Math.min(...times) : undefined;
  }

  status(): PfsyncStatus {
    return {
      syncif: this.config.syncif ?? null,
      syncpeer: this.config.syncpeer ?? null,
      maxupd: this.sender.maxupd,
      maxRecords: this.sender.maxRecords,
      bulk: {
        ...this.requester.status(),
        serving: this.responder.isActive,
        served: this.responder.statesSent,
      },
      stats: { ...this.stats },
      heal: {
        sequence: this.sequenced,
        bulkPurge: this.bulkPurge,
        lossPending: this.healer.pendingLoss,
        repair: this.repairOn,
        openHoles: this.tracker.openHoles,
        nackDelayMs: this.tracker.nackDelayMs(this.ports.now()),
        queued: this.sender.pending + this.pacer.backlog,
        lastPurged: this.lastPurged,
      },
    };
  }

  private onTableEvent(event: TableEvent): void {
    if (event.origin !== "local" || !this.enabled || this.silenced) return;
    const now = this.ports.now();
    if (event.type === "insert") this.sender.insert(event.state, now);
    else if (event.type === "update") this.sender.update(event.state, now, event.full);
    else this.sender.delete(event.state, now);
    this.drain();
  }

  private apply(effects: readonly BulkEffect[]): void {
    for (const effect of effects) {
      if (effect.type === "request") this.sender.bulkRequest();
      else if (effect.type === "hold") this.ports.holdPreemption(effect.on, effect.reason);
      else if (effect.type === "finished") {
        this.bulkFinished(effect.outcome, effect.ms, effect.responder);
      } else this.ports.log("info", effect.message);
    }
  }

  /** Every bulk request opens a table epoch: the purge keeps what was refreshed since. */
  private request(now: number, reason: string, hold: boolean): void {
    this.roundEpoch = this.table.beginEpoch();
    // Losses of packets sent from now on mean this bulk update itself was lossy.
    this.tracker.rebase();
    this.healer.onBulkRequested();
    this.apply(this.requester.start(now, { reason, hold }));
  }

  private bulkFinished(outcome: string, ms: number, responder: number | undefined): void {
    this.healer.onBulkFinished(ms);
    this.ownTableKnown = true;
    if (outcome !== "done") return;
    // Only the responder's own states: it alone knows they are gone (a third
    // node's may simply be missing there). A responder with our id is a misconfiguration.
    const token = this.roundEpoch;
    if (
      !this.bulkPurge || token === undefined || responder === undefined ||
      responder === this.config.hostId >>> 0
    ) {
      if (this.tracker.recentLost === 0) this.healer.onCleanBulk();
      return;
    }
    // After a short wait: records reordered behind the BUS END still refresh their states.
    this.purgeDueSince = undefined;
    this.purge = {
      token,
      at: this.ports.now() + this.purgeDelayMs,
      peer: this.packetSource,
      creator: responder,
    };
    if (this.purgeDelayMs <= 0) this.runPurge();
  }

  private runPurge(): void {
    const purge = this.purge;
    if (!purge) return;
    const now = this.ports.now();
    this.purgeDueSince ??= now;
    if (this.tracker.openHoles > 0 && now - this.purgeDueSince < PURGE_MAX_WAIT_MS) {
      // A missing packet may carry a refresh: the purge waits until repairs settle.
      purge.at = now + PURGE_RECHECK_MS;
      return;
    }
    this.purgeDueSince = undefined;
    this.purge = undefined;
    const lossy = this.tracker.recentLost;
    if (lossy > 0) {
      // States whose records were lost would look stale: purge only after a clean bulk update.
      this.ports.log(
        "info",
        `pfsync: bulk update from ${purge.peer} done; no purge, ${lossy} ` +
          "packets sent since it was requested were lost",
      );
      return;
    }
    this.healer.onCleanBulk();
    const removed = this.table.purgeUnrefreshed(purge.token, { peer: purge.peer }, purge.creator);
    this.stats.bulkpurged += removed;
    this.lastPurged = removed;
    this.ports.log(
      "info",
      `pfsync: bulk update from ${purge.peer} done: purged ${removed} stale states it no longer has`,
    );
  }

  /** Sequence trailers: count what never arrived, and let the healer decide on a bulk update. */
  private observeTrailer(source: string, bytes: Uint8Array, now: number, accepted: boolean): void {
    const action = bytes[2];
    if (action >= PFSYNC_ACT_MAX) return;
    const end = frameLength(action, bytes[3]);
    if (bytes.length - end < SEQ_TRAILER_SIZE) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magic = view.getUint32(end);
    if (magic !== SEQ_MAGIC && magic !== AUTH_MAGIC) return;
    // With a key, only trailers it signed count (a BUS set aside before the check is checked here).
    if (this.auth && (magic !== AUTH_MAGIC || !this.auth.authentic(bytes, end))) return;
    const seen = this.tracker.observeRaw(
      view.getUint32(end + 4),
      view.getUint32(end + 8),
      view.getUint32(end + 12),
      source,
      now,
    );
    if (seen.kind === "reset") {
      this.ports.log("info", `pfsync: sequence of ${source} restarted (peer restarted?)`);
    } else if ("lost" in seen && seen.lost > 0) this.lost(seen.lost, source, now);
    // A marker rides on an empty UPD_C, which is always accepted: one on a set-aside packet is not.
    if (this.repairOn && accepted && magic === SEQ_MAGIC) {
      const at = end + SEQ_TRAILER_SIZE;
      const marks = decodeRepaired(bytes, at);
      if (marks) this.onRepaired(view.getUint32(end + 4), marks, source, now);
      else if (hasMagicAt(bytes, at, REPAIRED_MAGIC)) this.stats.badrepair++;
    }
  }

  /** A peer's answer to NACKs ended: its holes close, as repaired or as lost. */
  private onRepaired(
    senderId: number,
    marks: readonly RepairedRange[],
    source: string,
    now: number,
  ): void {
    let lost = 0;
    for (const mark of marks) {
      const r = this.tracker.repaired(senderId, mark, mark.answered, now);
      this.stats.seqrepaired += r.repaired;
      lost += r.lost;
    }
    if (lost > 0) this.lost(lost, source, now);
  }

  private lost(count: number, source: string, now: number): void {
    this.stats.seqgaps += count;
    this.healer.onLoss(count, now);
    this.ports.log("debug", `pfsync: ${count} packets from ${source || "a peer"} lost`);
  }

  /** Due purge, NACKs, expired sequence holes, and a loss-triggered bulk request. */
  private heal(now: number, backlog = false): void {
    const expired = backlog ? 0 : this.tracker.expire(now);
    if (expired > 0) this.lost(expired, "", now);
    if (this.repairOn && !backlog && this.enabled) {
      for (const due of this.tracker.dueNacks(now)) {
        this.sender.nack({ senderId: due.senderId, ranges: due.ranges }, due.source);
        this.stats.nacksent++;
      }
    }
    if (this.purge && now >= this.purge.at) this.runPurge();
    const due = this.healer.poll(now, this.requester.isPending || !this.enabled);
    if (due) {
      // No CARP hold: this node may be MASTER, and the update only repairs losses.
      this.request(now, `sequence gap: ${due.lost} packets lost`, false);
    }
  }

  private drain(): void {
    if (this.sender.hasOutgoing) { for (const out of this.sender.take()) this.pacer.push(out); }
    if (this.pacer.backlog === 0) return;
    const defaultTo = this.config.syncpeer ?? INADDR_PFSYNC_GROUP;
    const now = this.ports.now();
    this.pacer.release(now, (out) => {
      const to = out.to ?? defaultTo;
      // Unicast packets carry no sequence: they neither need nor cancel a beacon.
      if (this.sequenced && !out.beacon && out.to === undefined) this.beacons.packetSent(now);
      try {
        const pending = this.ports.send(out.bytes, to);
        this.stats.opackets++;
        if (pending instanceof Promise) {
          pending.catch((error) => this.sendFailed(to, error));
        }
      } catch (error) {
        this.sendFailed(to, error);
      }
    });
  }

  private sendFailed(to: string, error: unknown): void {
    this.stats.oerrors++;
    this.ports.log(
      "warn",
      `pfsync: send to ${to} failed: ${error instanceof Error ? error.message : error}`,
    );
  }
}

/** How often a due purge looks again while sequence holes are open, and for how long at most. */
const PURGE_RECHECK_MS = 50;
const PURGE_MAX_WAIT_MS = 2_000;

/**
 * Whether a packet reached the protocol: accepted, or set aside after the
 * interface and TTL checks for a reason other than a malformed header or a
 * bad trailer (a BUS nobody waits for, a record with bad values). Its
 * sequence then counts as received.
 */
export function arrived(verdict: ReceiveVerdict): boolean {
  if (verdict.accepted) return true;
  return !NOT_ARRIVED.has(verdict.reason);
}

const NOT_ARRIVED = new Set([
  "disabled",
  "badif",
  "badttl",
  "hdrops",
  "badver",
  "badact",
  "badlen",
  "badauth",
]);

/** The ifconfig-style line: `pfsync: syncif: eth2 maxupd: 128` (syncpeer shown when set). */
export function formatPfsyncLine(
  status: Pick<PfsyncStatus, "syncif" | "syncpeer" | "maxupd">,
): string {
  const parts = ["pfsync:"];
  if (status.syncif !== null) parts.push(`syncif: ${status.syncif}`);
  if (status.syncpeer !== null) parts.push(`syncpeer: ${status.syncpeer}`);
  parts.push(`maxupd: ${status.maxupd}`);
  return parts.join(" ");
}
