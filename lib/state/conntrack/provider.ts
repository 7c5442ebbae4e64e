/**
 * The Linux state provider: the kernel's conntrack table is the state table
 * pfsync keeps in step.
 *
 *   events socket (groups NEW|UPDATE|DESTROY, big SO_RCVBUFFORCE buffer)
 *        │ a BPF filter drops our own injections' events in the kernel
 *        │ (nlmsg_pid = our request/dump port, rule 12; ctnetlink_filter.ts);
 *        │ drained by the reactor, 64 datagrams per recvmmsg, hot-path decoder
 *        │ (ctnetlink_fast.ts); filters; LX1 → ProviderChange → StateTable
 *   dump socket: initial load, periodic sweep read in slices between other
 *        │ work (timer refreshes emit no events, spec rule 17), resync after
 *        │ ENOBUFS (rule 16); a flow a sweep missed is looked up (GET on the
 *        │ request socket) and withdrawn only when the kernel says ENOENT
 *   request socket: peer states → kernel, creates batched many to a
 *        │ datagram and written in place (apply.ts, lx1_fast.ts)
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
import type { CtMessage } from "../../netlink/ct_types.ts";
import { ctEventKind } from "../../netlink/ctnetlink.ts";
import { decodeCtNlMessageFast, decodeCtSingleMessage } from "../../netlink/ctnetlink_fast.ts";
import { ownPortFilter } from "../../netlink/ctnetlink_filter.ts";
import { splitNlMessages } from "../../netlink/nlmsg.ts";
import type { PeerChange, ProviderChange, StateProvider } from "../provider.ts";
import type { State } from "../types.ts";
import { CtApplier } from "./apply.ts";
import { isEnobufs, type NetlinkPort, RequestChannel } from "./channel.ts";
import { type ConntrackFilter, DEFAULT_FILTER } from "./filters.ts";
import { stateTimeout, type ToCtOptions } from "./mapping.ts";
import { SyncMirror } from "./mirror.ts";
import { Sweeper } from "./sweep.ts";
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
  /**
   * High half of LX1 ids; default: 32 bits of the kernel's boot id, so an
   * agent restart (kernel table kept) gives every entry the id it had —
   * peers that carried the flows meanwhile then update the same states
   * instead of colliding on the flow — and a reboot (table gone) new ones.
   */
  readonly epoch?: number;
  readonly filter?: ConntrackFilter;
  readonly reactor: ReactorPort;
  /**
   * Event socket buffer (default 128 MiB: ~100 000 queued events at ≈1.3 KB each, spec
   * §1.11). Only a backlog uses it; it lets a burst the size of a 100 k-entry restore wait
   * for us instead of overrunning into a full resync.
   */
  readonly eventBufferBytes?: number;
  /** Delay before the resync dump after an overrun (default 2 s: let the burst pass). */
  readonly resyncDelayMs?: number;
  /** Sweep period (default 30 s, jittered ±20 %); 0 disables the timer. */
  readonly sweepIntervalMs?: number;
  /** A refreshed timeout is re-announced when it exceeds the expected one by this much. */
  readonly refreshSlackSeconds?: number;
  /** Milliseconds a sliced sweep works before handing the loop back (default 4). */
  readonly sweepSliceMs?: number;
  /** Write 1 to nf_conntrack_events when it is not (default false: only warn). */
  readonly fixEventsSysctl?: boolean;
  readonly sysctl?: SysctlAccess;
  readonly openPort?: (purpose: PortPurpose, groups: number, rcvbuf?: number) => NetlinkPort;
  readonly log?: (level: "info" | "warn" | "error", message: string) => void;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
}

const GROUPS = (1 << (NFNLGRP_CONNTRACK_NEW - 1)) | (1 << (NFNLGRP_CONNTRACK_UPDATE - 1)) |
  (1 << (NFNLGRP_CONNTRACK_DESTROY - 1));
const DEFAULT_EVENT_BUFFER = 128 * 1024 * 1024;
const MAX_EVENT_BUFFER = 256 * 1024 * 1024;
const EVENTS_PER_WAKEUP = 512;
const DEFAULT_SWEEP_MS = 30_000;
/** Peer states applied between two drains of the event socket (each queues one own event). */
const APPLY_DRAIN_EVERY = 256;
/** Creates per datagram (≈150 bytes each: well inside the socket's send buffer). */
const APPLY_BATCH = 128;

interface PendingCreate {
  readonly state: State;
  readonly key: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The first 32 bits of /proc/sys/kernel/random/boot_id (a UUID per boot), if readable. */
export function bootEpoch(
  read: (path: string) => string = Deno.readTextFileSync,
): number | undefined {
  try {
    const hex = read("/proc/sys/kernel/random/boot_id").replace(/[^0-9a-f]/gi, "").slice(0, 8);
    return hex.length === 8 ? parseInt(hex, 16) >>> 0 : undefined;
  } catch {
    return undefined;
  }
}

function defaultOpen(purpose: PortPurpose, groups: number, rcvbuf?: number): NetlinkPort {
  const socket = NetlinkSocket.open(NETLINK_NETFILTER, groups, rcvbuf ? { rcvbuf } : {});
  // Datagrams as views of the socket's arenas: decoded entries keep views of them.
  return {
    fd: socket.fd,
    portId: socket.portId,
    send: (bytes) => socket.send(bytes),
    // A dump part is ~100 entries built as it is read: a few per call keep sweep slices short.
    receive: purpose === "dumps" ? () => socket.receiveShared(4) : () => socket.receiveShared(),
    setReceiveBuffer: (bytes) => socket.setReceiveBuffer(bytes),
    attachFilter: (program) => socket.attachFilter(program),
    close: () => socket.close(),
  };
}

export class ConntrackProvider implements StateProvider {
  readonly name = "conntrack";
  readonly stats: ConntrackStats = emptyStats();
  readonly events: NetlinkPort;
  readonly requests: RequestChannel;
  readonly dumps: RequestChannel;
  readonly applier: CtApplier;
  readonly #options: ConntrackProviderOptions;
  readonly #mirror: SyncMirror;
  readonly #listeners = new Set<(change: ProviderChange) => void>();
  #eventBuffer: number;
  #subscribed = false;
  #resyncTimer: ReturnType<typeof setTimeout> | undefined;
  #sweepTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #appliedSinceDrain = 0;
  #pending: PendingCreate[] = [];
  readonly #pendingKeys = new Set<string>();
  #flushQueued = false;
  #drainQueued = false;
  readonly #grace: number;
  readonly #sweeper: Sweeper;
  /** `stats.repaired` when the last sweep ended (each sweep logs what it repaired). */
  #repairedLogged = 0;

  constructor(options: ConntrackProviderOptions) {
    this.#options = options;
    const now = options.now ?? Date.now;
    this.#mirror = new SyncMirror({
      creatorId: options.creatorId,
      epoch: options.epoch ?? bootEpoch() ?? Math.floor(now() / 1000),
      filter: options.filter ?? DEFAULT_FILTER,
      now,
      refreshSlackSeconds: options.refreshSlackSeconds ?? 10,
    }, this.stats);
    this.#eventBuffer = options.eventBufferBytes ?? DEFAULT_EVENT_BUFFER;
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
    this.#filterOwnEvents();
    const sweepMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_MS;
    // The peer sweeps on the same period: keep learned entries alive until its next refresh.
    this.#grace = options.timeoutGraceSeconds ?? Math.ceil((1.5 * sweepMs) / 1000);
    this.applier = new CtApplier(this.requests, { ...options, timeoutGraceSeconds: this.#grace });
    this.#sweeper = new Sweeper({
      dumps: this.dumps,
      lookups: this.requests,
      mirror: this.#mirror,
      emit: (change) => this.#emit(change),
      drainEvents: () => this.drainEvents(),
      completed: (force) => {
        if (force) this.stats.resyncs++;
        const repaired = this.stats.repaired - this.#repairedLogged;
        this.#repairedLogged = this.stats.repaired;
        if (repaired > 0) {
          this.#log("warn", `sweep repaired ${repaired} flows the events did not report`);
        }
      },
      log: (message) => this.#log("error", message),
      now,
      sliceMs: options.sweepSliceMs,
    });
  }

  /**
   * Our injections' events are dropped by a socket filter in the kernel
   * (ctnetlink_filter.ts): a backup applying a bulk update then gets no event
   * per state to read and throw away, and they take no receive buffer from
   * real ones. Without it (a port that cannot filter) `drainEvents` drops
   * them by port id as before.
   */
  #filterOwnEvents(): void {
    if (!this.events.attachFilter) return;
    try {
      this.events.attachFilter(ownPortFilter([this.requests.port.portId, this.dumps.port.portId]));
      this.stats.kernelFilter = 1;
    } catch (error) {
      this.#log("warn", `own events filtered in user space: ${(error as Error).message}`);
    }
  }

  #log(level: "info" | "warn" | "error", message: string): void {
    this.#options.log?.(level, `conntrack: ${message}`);
  }

  #emit(change: ProviderChange | undefined): void {
    if (!change) return;
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
      const state = this.#mirror.admit(msg.entry);
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
    // Bounded per wake-up so a storm of events cannot starve pfsync and CARP timers; poll is
    // level-triggered, so whatever is left wakes the next round at once.
    this.#options.reactor.add(this.events.fd, () => this.drainEvents(EVENTS_PER_WAKEUP));
    this.#scheduleSweep();
  }

  #scheduleSweep(): void {
    const period = this.#options.sweepIntervalMs ?? DEFAULT_SWEEP_MS;
    if (period <= 0 || this.#closed) return;
    const jittered = period * (0.8 + Math.random() * 0.4);
    this.#sweepTimer = setTimeout(() => {
      this.#sweepTimer = undefined;
      this.sweepInSlices(false);
      this.#scheduleSweep();
    }, jittered);
  }

  /** Reads queued event datagrams (at most `limit`) and reports what they change. */
  drainEvents(limit = Infinity): void {
    for (let read = 0; read < limit; read++) {
      let datagram: Uint8Array | undefined;
      try {
        datagram = this.events.receive();
      } catch (error) {
        if (!isEnobufs(error)) throw error;
        this.#overrun();
        continue;
      }
      if (!datagram) return;
      // An event is one message to a datagram: decoded in place, no split (ctnetlink_fast.ts).
      const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
      const single = decodeCtSingleMessage(datagram, view);
      if (single) {
        if (this.#isOwn(single.pid)) {
          this.stats.events++;
          this.stats.ownEvents++;
        } else {
          this.#event(single);
        }
        continue;
      }
      let messages;
      try {
        messages = splitNlMessages(datagram);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        this.stats.malformed++;
        continue;
      }
      for (const message of messages) {
        // Our own injections come back as events: recognise them by the header's port id
        // (rule 12) before decoding anything — a backup applying a bulk update sees one per state.
        if (this.#isOwn(message.header.pid)) {
          this.stats.events++;
          this.stats.ownEvents++;
          continue;
        }
        let msg: CtMessage;
        try {
          msg = decodeCtNlMessageFast(message, datagram, view);
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
          this.stats.malformed++;
          continue;
        }
        this.#event(msg);
      }
    }
  }

  #isOwn(pid: number): boolean {
    return pid !== 0 && (pid === this.requests.port.portId || pid === this.dumps.port.portId);
  }

  #event(msg: CtMessage): void {
    const kind = ctEventKind(msg);
    if (!kind) return;
    this.stats.events++;
    this.#emit(this.#mirror.event(kind, msg.entry));
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
      this.sweepInSlices(true);
    }, this.#options.resyncDelayMs ?? 2000);
  }

  /**
   * Compare a fresh dump with what we announced: announce new entries and —
   * with `force`, or when the kernel timeout was refreshed by traffic beyond
   * what we told the peer — changed ones; withdraw entries the kernel
   * confirms gone (a GET by tuple), never on the dump's word alone.
   * In one piece (a sliced sweep under way is finished first).
   */
  sweep(force: boolean): void {
    if (!this.#closed) this.#sweeper.runNow(force);
  }

  /**
   * `sweep` without blocking the event loop (sweep.ts): a few dump datagrams
   * per turn, timers, CARP and pfsync served in between. `onDone` is for tests.
   */
  sweepInSlices(force: boolean, onDone?: () => void): void {
    if (!this.#closed) this.#sweeper.start(force, onDone);
  }

  /**
   * Creates for flows new to us are gathered and sent many to a datagram
   * (`CtApplier.upsertMany`) when the current burst of pfsync records has
   * been read — at the next microtask, or at once when the batch is full;
   * anything else (a delete, an update of a known flow, a flow already
   * waiting) first sends what is gathered, so the kernel sees every change
   * in the order the peer made it.
   */
  apply(change: PeerChange): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("conntrack provider is closed"));
    if (change.type !== "delete") {
      const { key, exists } = this.#mirror.peerKey(change.state);
      if (!exists && !this.#pendingKeys.has(key)) {
        return new Promise((resolve, reject) => {
          this.#pending.push({ state: change.state, key, resolve, reject });
          this.#pendingKeys.add(key);
          if (this.#pending.length >= APPLY_BATCH) {
            this.#flush();
          } else if (!this.#flushQueued) {
            this.#flushQueued = true;
            queueMicrotask(() => this.#flush());
          }
        });
      }
    }
    try {
      this.#flush();
      this.#apply(change);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#pendingKeys.clear();
    if (this.#closed) {
      for (const item of batch) item.reject(new Error("conntrack provider is closed"));
      return;
    }
    let results;
    try {
      results = this.applier.upsertMany(batch.map((item) => item.state));
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const { state, key, resolve, reject } = batch[i];
      if (results[i].outcome === "failed") {
        reject(new Error(results[i].error));
        continue;
      }
      this.#mirror.learn(key, state, stateTimeout(state) + this.#grace);
      resolve();
    }
    this.#applied(batch.length);
  }

  #apply(change: PeerChange): void {
    if (this.#closed) throw new Error("conntrack provider is closed");
    const { key, exists } = this.#mirror.peerKey(change.state);
    if (change.type === "delete") {
      this.#mirror.forget(key);
      const result = this.applier.remove(change.state);
      if (result.outcome === "failed") throw new Error(result.error);
      return;
    }
    const result = this.applier.upsert(change.state, exists);
    if (result.outcome === "failed") throw new Error(result.error);
    this.#mirror.learn(key, change.state, stateTimeout(change.state) + this.#grace);
    this.#applied(1);
  }

  /**
   * Each create queues an event for us on the event socket. A bulk update applies states
   * far faster than the reactor comes round, so empty it as we go: an overrun would cost a
   * full resync dump, and the events of real local flows would wait behind ours.
   */
  #applied(count: number): void {
    this.#appliedSinceDrain += count;
    if (!this.#subscribed || this.#appliedSinceDrain < APPLY_DRAIN_EVERY) return;
    this.#appliedSinceDrain = 0;
    if (this.#drainQueued) return;
    this.#drainQueued = true;
    // Not from inside the table's event dispatch that brought us here: right after it.
    queueMicrotask(() => {
      this.#drainQueued = false;
      if (!this.#closed) this.drainEvents();
    });
  }

  /** Flows injected from peers that are still tracked. */
  get learnedCount(): number {
    return this.#mirror.learnedCount;
  }

  get announcedCount(): number {
    return this.#mirror.announcedCount;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#flush(); // what the peer sent before we stop still goes into the kernel
    this.#closed = true;
    if (this.#resyncTimer !== undefined) clearTimeout(this.#resyncTimer);
    if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
    this.#sweeper.close();
    if (this.#subscribed) this.#options.reactor.remove(this.events.fd);
    this.events.close();
    this.requests.port.close();
    this.dumps.port.close();
    return Promise.resolve();
  }
}
