/**
 * PfsyncEngine: sender, receiver, bulk update and authentication over one
 * StateTable, driven through narrow ports. The driver feeds it packets
 * (`receive`), time (`tick`) and configuration events (`start`, `linkUp`,
 * `resync`); local table changes arrive through the table's events, and
 * only changes of origin "local" are announced — learned states never echo.
 */
import { DecodeError } from "../bytes/errors.ts";
import type { StateTable, TableEvent } from "../state/table.ts";
import { type AuthMode, PfsyncAuth } from "./auth.ts";
import { type BulkEffect, BulkRequester, BulkResponder } from "./bulk.ts";
import { INADDR_PFSYNC_GROUP } from "./header.ts";
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
  private unsubscribe: (() => void) | undefined;
  private silenced = false;

  constructor(table: StateTable, ports: PfsyncPorts, config: PfsyncEngineConfig) {
    this.table = table;
    this.ports = ports;
    this.config = config;
    const auth = config.auth
      // Seeded from the wall clock, not ports.now (often monotonic, restarting
      // near 0), so sequence numbers keep rising across restarts.
      ? new PfsyncAuth({ key: config.auth.key, mode: config.auth.mode, senderId: config.hostId })
      : undefined;
    this.sender = new PfsyncSender({
      maxupd: config.maxupd,
      mtu: config.mtu,
      compress: config.syncif !== undefined,
      intervalMs: config.sendIntervalMs,
      auth,
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
    });
  }

  get enabled(): boolean {
    return this.config.syncif !== undefined || this.config.syncpeer !== undefined;
  }

  /** Subscribes to the table and asks the peers for their states. */
  start(): void {
    if (!this.unsubscribe) this.unsubscribe = this.table.on((event) => this.onTableEvent(event));
    this.resync();
  }

  stop(): void {
    this.sender.flush();
    this.drain();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** The sync link came (back) up. */
  linkUp(): void {
    this.resync();
  }

  /** `pfsyncd resync`: a new bulk request. */
  resync(): void {
    if (!this.enabled) return;
    this.apply(this.requester.start(this.ports.now()));
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
    const result = this.receiver.receive(meta, bytes, this.ports.now());
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

  tick(now = this.ports.now()): void {
    this.sender.tick(now);
    // Back-pressure: the bulk walk waits while paced packets pile up.
    if (this.pacer.backlog < this.pacer.burst) {
      this.responder.tick(now, !this.requester.isPending);
    }
    this.apply(this.requester.tick(now));
    this.drain();
  }

  /** When `tick` next has work, or undefined. */
  nextDeadline(): number | undefined {
    const times = [
      this.sender.nextDeadline(),
      this.responder.nextDeadline(),
      this.requester.nextDeadline(),
      this.pacer.nextDeadline(this.ports.now()),
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
    };
  }

  private onTableEvent(event: TableEvent): void {
    if (event.origin !== "local" || !this.enabled || this.silenced) return;
    const now = this.ports.now();
    if (event.type === "insert") this.sender.insert(event.state, now);
    else if (event.type === "update") this.sender.update(event.state, now);
    else this.sender.delete(event.state, now);
    this.drain();
  }

  private apply(effects: readonly BulkEffect[]): void {
    for (const effect of effects) {
      if (effect.type === "request") this.sender.bulkRequest();
      else if (effect.type === "hold") this.ports.holdPreemption(effect.on, effect.reason);
      else this.ports.log("info", effect.message);
    }
  }

  private drain(): void {
    if (this.sender.hasOutgoing) { for (const out of this.sender.take()) this.pacer.push(out); }
    if (this.pacer.backlog === 0) return;
    const defaultTo = this.config.syncpeer ?? INADDR_PFSYNC_GROUP;
    this.pacer.release(this.ports.now(), (out) => {
      const to = out.to ?? defaultTo;
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
