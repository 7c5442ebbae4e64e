/**
 * The Linux state provider: the kernel's conntrack table is the state table
 * pfsync keeps in step.
 *
 *   events socket (groups NEW|UPDATE|DESTROY, big SO_RCVBUFFORCE buffer)
 *        │ drained by the reactor; own injections (nlmsg_pid = our request
 *        │ port) dropped; filters; LX1 → ProviderChange → StateTable
 *   dump socket: initial load, periodic sweep (timer refreshes emit no
 *        │ events, spec rule 17), resync after ENOBUFS (rule 16)
 *   request socket: peer states → kernel (apply.ts)
 *
 * One socket per purpose (rule 1): replies are never parsed on the event
 * socket, and an ENOBUFS on it never stalls a create. Every decode failure is
 * counted, never fatal (DESIGN rule 4).
 */
import { DecodeError } from "../../bytes/errors.ts";
import { NetlinkSocket } from "../../sys/netlink_socket.ts";
import {
  NETLINK_NETFILTER,
  NFNLGRP_CONNTRACK_DESTROY,
  NFNLGRP_CONNTRACK_NEW,
  NFNLGRP_CONNTRACK_UPDATE,
} from "../../netlink/ct_constants.ts";
import type { CtEntry, CtMessage } from "../../netlink/ct_types.ts";
import { ctEventKind, ctTupleKey, decodeCtNlMessage } from "../../netlink/ctnetlink.ts";
import { splitNlMessages } from "../../netlink/nlmsg.ts";
import type { PeerChange, ProviderChange, StateProvider } from "../provider.ts";
import type { State } from "../types.ts";
import { CtApplier } from "./apply.ts";
import { isEnobufs, type NetlinkPort, RequestChannel } from "./channel.ts";
import {
  type ConntrackFilter,
  DEFAULT_FILTER,
  filterEntry,
  type FilterVerdict,
} from "./filters.ts";
import { ctToState, stateCtKey, type ToCtOptions } from "./mapping.ts";
import { checkEventsSysctl, procSysctl, type SysctlAccess } from "./sysctl.ts";
import { type ConntrackStats, emptyStats } from "./stats.ts";

export type PortPurpose = "events" | "requests" | "dumps";

export interface ReactorPort {
  add(fd: number, onReadable: () => void): void;
  remove(fd: number): boolean;
}

export interface ConntrackProviderOptions extends ToCtOptions {
  /** This agent's 32-bit node id (pfsync creatorid). */
  readonly creatorId: number;
  /** High half of LX1 ids; default: start time in seconds. */
  readonly epoch?: number;
  readonly filter?: ConntrackFilter;
  readonly reactor: ReactorPort;
  /** Event socket buffer (default 32 MiB: ~25 000 queued events, spec §1.11). */
  readonly eventBufferBytes?: number;
  /** Delay before the resync dump after an overrun (default 2 s: let the burst pass). */
  readonly resyncDelayMs?: number;
  /** Sweep period (default 30 s, jittered ±20 %); 0 disables the timer. */
  readonly sweepIntervalMs?: number;
  /** A refreshed timeout is re-announced when it exceeds the expected one by this much. */
  readonly refreshSlackSeconds?: number;
  /** Write 1 to nf_conntrack_events when it is not (default false: only warn). */
  readonly fixEventsSysctl?: boolean;
  readonly sysctl?: SysctlAccess;
  readonly openPort?: (purpose: PortPurpose, groups: number, rcvbuf?: number) => NetlinkPort;
  readonly log?: (level: "info" | "warn" | "error", message: string) => void;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
}

/** What we announced for one flow: enough to refresh it and to delete it later. */
interface Announced {
  firstSeen: number;
  at: number;
  timeout: number;
  state: State;
}

const GROUPS = (1 << (NFNLGRP_CONNTRACK_NEW - 1)) | (1 << (NFNLGRP_CONNTRACK_UPDATE - 1)) |
  (1 << (NFNLGRP_CONNTRACK_DESTROY - 1));
const MAX_EVENT_BUFFER = 256 * 1024 * 1024;

function defaultOpen(_purpose: PortPurpose, groups: number, rcvbuf?: number): NetlinkPort {
  return NetlinkSocket.open(NETLINK_NETFILTER, groups, rcvbuf ? { rcvbuf } : {});
}

export class ConntrackProvider implements StateProvider {
  readonly name = "conntrack";
  readonly stats: ConntrackStats = emptyStats();
  readonly events: NetlinkPort;
  readonly requests: RequestChannel;
  readonly dumps: RequestChannel;
  readonly applier: CtApplier;
  readonly #options: ConntrackProviderOptions;
  readonly #filter: ConntrackFilter;
  readonly #listeners = new Set<(change: ProviderChange) => void>();
  readonly #announced = new Map<string, Announced>();
  /** Flows injected from peers, with the identity they arrived under. */
  readonly #learned = new Map<string, { id: bigint; creatorId: number }>();
  readonly #now: () => number;
  readonly #epoch: number;
  #eventBuffer: number;
  #subscribed = false;
  #resyncTimer: ReturnType<typeof setTimeout> | undefined;
  #sweepTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: ConntrackProviderOptions) {
    this.#options = options;
    this.#filter = options.filter ?? DEFAULT_FILTER;
    this.#now = options.now ?? Date.now;
    this.#epoch = options.epoch ?? Math.floor(this.#now() / 1000);
    this.#eventBuffer = options.eventBufferBytes ?? 32 * 1024 * 1024;
    const open = options.openPort ?? defaultOpen;
    // Events first, so nothing that happens during the initial dump is missed (spec §7 item 2).
    this.events = open("events", GROUPS, this.#eventBuffer);
    try {
      this.requests = new RequestChannel(open("requests", 0));
      this.dumps = new RequestChannel(open("dumps", 0));
    } catch (error) {
      this.events.close();
      throw error;
    }
    this.applier = new CtApplier(this.requests, options);
  }

  #log(level: "info" | "warn" | "error", message: string): void {
    this.#options.log?.(level, `conntrack: ${message}`);
  }

  #emit(change: ProviderChange): void {
    for (const listener of this.#listeners) listener(change);
  }

  onChange(listener: (change: ProviderChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Dump the table, then start listening; returns the states worth syncing. */
  load(): Promise<readonly State[]> {
    const states: State[] = [];
    const errno = this.dumps.dump((msg) => {
      const state = this.#admit(msg.entry);
      if (state) states.push(state);
    });
    if (errno !== 0) return Promise.reject(new Error(`conntrack dump failed: errno ${errno}`));
    const check = checkEventsSysctl(
      this.#options.sysctl ?? procSysctl,
      this.#options.fixEventsSysctl ?? false,
    );
    this.stats.eventsSysctl = check.value ?? "unknown";
    if (check.fixed) this.#log("info", "set net.netfilter.nf_conntrack_events = 1");
    if (check.warning) this.#log("warn", check.warning);
    this.#subscribe();
    this.#log("info", `loaded ${states.length} states (${this.stats.filtered} filtered)`);
    return Promise.resolve(states);
  }

  #subscribe(): void {
    if (this.#subscribed) return;
    this.#subscribed = true;
    this.#options.reactor.add(this.events.fd, () => this.drainEvents());
    this.#scheduleSweep();
  }

  #scheduleSweep(): void {
    const period = this.#options.sweepIntervalMs ?? 30_000;
    if (period <= 0 || this.#closed) return;
    const jittered = period * (0.8 + Math.random() * 0.4);
    this.#sweepTimer = setTimeout(() => {
      this.#sweepTimer = undefined;
      this.sweep(false);
      this.#scheduleSweep();
    }, jittered);
  }

  /** The filter verdict counted; on "sync" the LX1 state, recorded as announced. */
  #admit(entry: CtEntry): State | undefined {
    if (!entry.orig || !entry.reply) {
      this.stats.incomplete++;
      return undefined;
    }
    const verdict = filterEntry(this.#filter, entry);
    if (verdict !== "sync") {
      this.#countFiltered(verdict);
      return undefined;
    }
    const key = ctTupleKey(entry.orig, entry.zone ?? 0);
    const now = this.#now();
    const previous = this.#announced.get(key);
    const firstSeen = previous?.firstSeen ?? now;
    const start = entry.timestamp?.start;
    const ageSeconds = start !== undefined
      ? Math.max(0, now / 1000 - Number(start / 1_000_000n) / 1000)
      : (now - firstSeen) / 1000;
    let state = ctToState(entry, {
      creatorId: this.#options.creatorId,
      epoch: this.#epoch,
      ageSeconds,
    });
    // A flow learned from a peer keeps the peer's identity when we report on it.
    const learned = this.#learned.get(key) ?? previous?.state;
    if (learned) state = { ...state, id: learned.id, creatorId: learned.creatorId };
    this.#announced.set(key, { firstSeen, at: now, timeout: state.expire, state });
    return state;
  }

  #countFiltered(verdict: Exclude<FilterVerdict, "sync">): void {
    this.stats.filtered++;
    this.stats.filteredBy[verdict] = (this.stats.filteredBy[verdict] ?? 0) + 1;
  }

  /** Reactor callback: read every queued event datagram. */
  drainEvents(): void {
    for (;;) {
      let datagram: Uint8Array | undefined;
      try {
        datagram = this.events.receive();
      } catch (error) {
        if (!isEnobufs(error)) throw error;
        this.#overrun();
        continue;
      }
      if (!datagram) return;
      let messages;
      try {
        messages = splitNlMessages(datagram);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        this.stats.malformed++;
        continue;
      }
      for (const message of messages) {
        let msg: CtMessage;
        try {
          msg = decodeCtNlMessage(message);
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
          this.stats.malformed++;
          continue;
        }
        this.#event(msg);
      }
    }
  }

  #event(msg: CtMessage): void {
    const kind = ctEventKind(msg);
    if (!kind) return;
    this.stats.events++;
    if (
      msg.pid !== 0 && (msg.pid === this.requests.port.portId || msg.pid === this.dumps.port.portId)
    ) {
      this.stats.ownEvents++;
      return;
    }
    if (kind === "destroy") {
      this.#destroyed(msg.entry);
      return;
    }
    const key = msg.entry.orig ? ctTupleKey(msg.entry.orig, msg.entry.zone ?? 0) : "";
    const known = this.#announced.has(key);
    const state = this.#admit(msg.entry);
    if (state) this.#emit({ type: known ? "update" : "insert", state });
    else if (known) this.#withdraw(key); // now filtered (e.g. a TCP state not synced)
  }

  #destroyed(entry: CtEntry): void {
    if (!entry.orig) return;
    const key = ctTupleKey(entry.orig, entry.zone ?? 0);
    this.#learned.delete(key);
    this.#withdraw(key);
  }

  #withdraw(key: string): void {
    const announced = this.#announced.get(key);
    if (!announced) return;
    this.#announced.delete(key);
    this.#emit({ type: "delete", state: announced.state });
  }

  #overrun(): void {
    this.stats.overruns++;
    if (this.events.setReceiveBuffer && this.#eventBuffer < MAX_EVENT_BUFFER) {
      this.#eventBuffer = Math.min(this.#eventBuffer * 2, MAX_EVENT_BUFFER);
      try {
        this.events.setReceiveBuffer(this.#eventBuffer);
      } catch (error) {
        this.#log("warn", `cannot grow the event buffer: ${(error as Error).message}`);
      }
    }
    if (this.#resyncTimer !== undefined || this.#closed) return;
    this.#log(
      "warn",
      `event overrun (ENOBUFS): events were lost; resync in ${
        this.#options.resyncDelayMs ?? 2000
      } ms`,
    );
    this.#resyncTimer = setTimeout(() => {
      this.#resyncTimer = undefined;
      this.sweep(true);
    }, this.#options.resyncDelayMs ?? 2000);
  }

  /**
   * Compare a fresh dump with what we announced: announce new entries and —
   * with `force`, or when the kernel timeout was refreshed by traffic beyond
   * what we told the peer — changed ones; withdraw entries that are gone.
   */
  sweep(force: boolean): void {
    if (this.#closed) return;
    this.drainEvents();
    const seen = new Set<string>();
    const now = this.#now();
    const slack = this.#options.refreshSlackSeconds ?? 10;
    const errno = this.dumps.dump((msg) => {
      const entry = msg.entry;
      if (!entry.orig) return;
      const key = ctTupleKey(entry.orig, entry.zone ?? 0);
      seen.add(key);
      const previous = this.#announced.get(key);
      // Entries we injected for a peer are its states: never re-broadcast (DESIGN rule 5).
      if (!previous && this.#learned.has(key)) return;
      if (previous && !force) {
        const expected = previous.timeout - (now - previous.at) / 1000;
        if ((entry.timeout ?? 0) <= expected + slack) return;
        this.stats.refreshed++;
      }
      const state = this.#admit(entry);
      if (state) this.#emit({ type: previous ? "update" : "insert", state });
      if (state && !previous && !force) this.stats.repaired++;
    });
    if (errno !== 0) {
      this.#log("error", `sweep dump failed: errno ${errno}`);
      return;
    }
    for (const key of [...this.#announced.keys()]) {
      if (seen.has(key)) continue;
      this.stats.repaired++;
      this.#withdraw(key);
    }
    if (force) this.stats.resyncs++;
  }

  apply(change: PeerChange): Promise<void> {
    try {
      this.#apply(change);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #apply(change: PeerChange): void {
    if (this.#closed) throw new Error("conntrack provider is closed");
    const { orig, zone } = stateCtKey(change.state);
    const key = ctTupleKey(orig, zone);
    if (change.type === "delete") {
      this.#learned.delete(key);
      this.#announced.delete(key);
      const result = this.applier.remove(change.state);
      if (result.outcome === "failed") throw new Error(result.error);
      return;
    }
    const result = this.applier.upsert(change.state, this.#learned.has(key));
    if (result.outcome === "failed") throw new Error(result.error);
    this.#learned.set(key, { id: change.state.id, creatorId: change.state.creatorId });
  }

  /** Flows injected from peers that are still tracked. */
  get learnedCount(): number {
    return this.#learned.size;
  }

  get announcedCount(): number {
    return this.#announced.size;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    if (this.#resyncTimer !== undefined) clearTimeout(this.#resyncTimer);
    if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
    if (this.#subscribed) this.#options.reactor.remove(this.events.fd);
    this.events.close();
    this.requests.port.close();
    this.dumps.port.close();
    return Promise.resolve();
  }
}
