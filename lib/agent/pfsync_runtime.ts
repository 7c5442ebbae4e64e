/**
 * The pfsync shell: one raw protocol-240 socket on the sync interface (or
 * unbound, for a unicast syncpeer), registered in the reactor, feeding the
 * pure PfsyncEngine, plus the one timer its deadlines ask for.
 */
import {
  INADDR_PFSYNC_GROUP,
  IPPROTO_PFSYNC,
  PfsyncEngine,
  type PfsyncEngineConfig,
} from "../pfsync/mod.ts";
import { formatIPv4 } from "../net/address.ts";
import { type Interface, RawIPv4Socket, type Reactor } from "../sys/mod.ts";
import type { StateTable } from "../state/table.ts";
import type { Logger } from "./log.ts";

type Timer = ReturnType<typeof setTimeout>;

export interface PfsyncRuntimeOptions {
  readonly reactor: Reactor;
  readonly logger: Logger;
  readonly table: StateTable;
  readonly interfaces: readonly Interface[];
  readonly engine: Omit<PfsyncEngineConfig, "mtu">;
  /** CARP's "pfsync bulk update" demotion. */
  readonly holdPreemption: (on: boolean, reason: string) => void;
  /** Receive buffer of the sync socket in bytes (default PFSYNC_RECEIVE_BUFFER). */
  readonly receiveBuffer?: number;
}

/**
 * Receive buffer of the sync socket. The kernel default (~208 KiB) dropped
 * bursts at once. Linux charges each queued datagram its truesize, about
 * 3.6 KiB for a 2 KiB pfsync packet (measured), against twice the requested
 * size: 16 MiB held 9,400 packets, 0.3 s at a peer's paced 30,000 packets/s,
 * and a million-state bulk update still lost packets across our own pauses
 * (table growth, garbage collection). 128 MiB holds about 73,000 packets
 * (650,000 states): a receiver starved of CPU on a loaded host still takes a
 * million-state bulk update paced at PFSYNC_PACING without loss if it drains
 * a third of the rate meanwhile. The kernel allocates that memory only while
 * packets actually wait.
 */
export const PFSYNC_RECEIVE_BUFFER = 128 * 1024 * 1024;

/**
 * Output pacing of the agent's engine (the engine's own default is 30,000
 * packets/s). A receiving agent stores a full-state record in about 1 µs of
 * CPU and its socket drain costs a few µs a packet, so it absorbs some
 * 65,000 packets/s on a core of its own; 50,000 leaves it a quarter spare
 * for its pauses (index growth, garbage collection), and the receive buffer
 * covers the rest. At 30,000 a million-state bulk update took 3.7 s on pacing
 * alone (9 states a packet); at 50,000 it takes 2.2 s. The burst covers the
 * 4 ms timer clamp (200 packets) with room to spare.
 */
export const PFSYNC_PACING = { packetsPerSecond: 50_000, burst: 512 } as const;

/** Work one reactor callback does before handing back: packets, and milliseconds. */
const DRAIN_MAX_PACKETS = 1024;
const DRAIN_BUDGET_MS = 4;

/**
 * A drain that emptied the socket after fewer packets than this found a
 * trickle (a peer streaming faster than one poll per packet, slower than
 * a backlog): the socket then rests for RECEIVE_REST_MS before it is polled
 * again, so the next drain takes a batch. Each poll is a round trip through
 * a worker thread that cost more than the packets it returned — a receiver
 * spent 5.4 µs of CPU a state at 10,000 packets/s that way, 3.5 with 1 ms
 * rests, 2.6 with 3 ms. pfsync itself batches for up to a second, so a few
 * milliseconds more are harmless; CARP has sockets of its own and is never
 * delayed.
 */
const TRICKLE_PACKETS = 64;
const RECEIVE_REST_MS = 3;

export class PfsyncRuntime {
  readonly engine: PfsyncEngine;
  readonly #options: PfsyncRuntimeOptions;
  readonly #syncIfindex: number | undefined;
  #socket?: RawIPv4Socket;
  #timer: Timer | undefined;
  #timerAt = Infinity;
  #pokeQueued = false;
  #unsubscribe?: () => void;
  #lastSource = -1;
  /** Wall clock (ms) at the end of the last drain that received packets: when B caught up. */
  lastReceiveAt = 0;
  #lastSourceText = "";
  #rest: Timer | undefined;

  constructor(options: PfsyncRuntimeOptions) {
    this.#options = options;
    const { syncif } = options.engine;
    const iface = syncif === undefined
      ? undefined
      : options.interfaces.find((i) => i.name === syncif);
    if (syncif !== undefined && !iface) {
      throw new Error(`pfsync: sync interface ${syncif} does not exist`);
    }
    this.#syncIfindex = iface?.index;
    const log = options.logger.child({ component: "pfsync" });
    this.engine = new PfsyncEngine(options.table, {
      send: (bytes, to) => this.#send(bytes, to),
      now: () => performance.now(),
      log: (level, message) =>
        level === "warn"
          ? log.warning(message)
          : level === "debug"
          ? log.debug(message)
          : log.info(message),
      holdPreemption: options.holdPreemption,
    }, { pacing: PFSYNC_PACING, ...options.engine, mtu: iface?.mtu });
  }

  get enabled(): boolean {
    return this.engine.enabled;
  }

  /** Opens the socket, subscribes the engine to the table and sends the bulk request. */
  start(): void {
    if (!this.engine.enabled) return;
    const { syncif } = this.#options.engine;
    const socket = RawIPv4Socket.open({
      protocol: IPPROTO_PFSYNC,
      device: syncif,
      multicastIfindex: this.#syncIfindex,
      ttl: 255,
      multicastTtl: 255,
      multicastLoop: false,
      receiveBuffer: this.#options.receiveBuffer ?? PFSYNC_RECEIVE_BUFFER,
    });
    if (this.#syncIfindex !== undefined) socket.joinGroup(INADDR_PFSYNC_GROUP, this.#syncIfindex);
    this.#socket = socket;
    this.#watch(socket);
    // Local changes (imports, kernel events) reach the engine outside this shell's calls, so
    // its flush timer is armed for them here: once per burst, after the table has them all.
    this.#unsubscribe = this.#options.table.on((event) => {
      if (event.origin !== "local" || this.#pokeQueued) return;
      this.#pokeQueued = true;
      queueMicrotask(() => {
        this.#pokeQueued = false;
        this.#schedule();
      });
    });
    this.engine.start();
    this.#schedule();
  }

  /** The sync interface came back up: ask for a bulk update again. */
  linkUp(): void {
    this.engine.linkUp();
    this.#schedule();
  }

  resync(): void {
    this.engine.resync();
    this.#schedule();
  }

  /** Local states changed outside the engine's own calls: make sure a flush is scheduled. */
  poke(): void {
    this.#schedule();
  }

  isSyncInterface(name: string): boolean {
    return name === this.#options.engine.syncif;
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#rest !== undefined) clearTimeout(this.#rest);
    this.#rest = undefined;
    try {
      this.engine.stop();
    } catch (error) {
      this.#options.logger.warning(`pfsync: final flush failed: ${(error as Error).message}`);
    }
    if (this.#socket && !this.#socket.closed) {
      this.#options.reactor.remove(this.#socket.fd);
      this.#socket.close();
    }
    this.#socket = undefined;
  }

  #send(bytes: Uint8Array, to: string): void {
    if (!this.#socket) throw new Error("pfsync: socket not open");
    this.#socket.sendTo(to, bytes);
    this.#schedule();
  }

  #watch(socket: RawIPv4Socket): void {
    this.#options.reactor.add(socket, () => this.#drain());
  }

  /**
   * Handles what is queued, but at most a few milliseconds' worth: the
   * reactor polls again at once for the rest (level-triggered), and short
   * turns let it keep the control socket served through a flood. A trickle
   * (see TRICKLE_PACKETS) makes the socket rest a moment instead.
   */
  #drain(): boolean {
    const socket = this.#socket;
    if (!socket) return true;
    const deadline = performance.now() + DRAIN_BUDGET_MS;
    let handled = 0;
    let emptied = false;
    for (let i = 1; i <= DRAIN_MAX_PACKETS; i++) {
      if ((i & 15) === 0 && performance.now() >= deadline) break;
      let packet;
      try {
        // The engine is done with a packet when receive() returns: no copy needed.
        packet = socket.receiveTransient();
      } catch (error) {
        this.#options.logger.warning(`pfsync: receive failed: ${(error as Error).message}`);
        break;
      }
      if (!packet) {
        emptied = true;
        break;
      }
      handled++;
      try {
        this.engine.receive({
          ttl: packet.ttl,
          onSyncInterface: this.#syncIfindex === undefined || packet.ifindex === this.#syncIfindex,
          source: this.#sourceText(packet.source),
        }, packet.payload);
      } catch (error) {
        this.#options.logger.error(`pfsync: packet handling failed: ${error}`);
      }
    }
    if (handled > 0) this.lastReceiveAt = Date.now();
    if (emptied && handled > 0 && handled < TRICKLE_PACKETS) this.#pause(socket);
    this.#schedule();
    return emptied;
  }

  /** Stops polling the socket for RECEIVE_REST_MS (packets wait in its buffer meanwhile). */
  #pause(socket: RawIPv4Socket): void {
    if (this.#rest !== undefined || !this.#options.reactor.remove(socket.fd)) return;
    this.#rest = setTimeout(() => {
      this.#rest = undefined;
      if (this.#socket !== socket || socket.closed) return;
      try {
        this.#watch(socket);
      } catch (error) {
        // The reactor closed meanwhile (shutdown): nothing left to watch for.
        this.#options.logger.debug(`pfsync: socket not watched again: ${error}`);
      }
    }, RECEIVE_REST_MS);
  }

  /** The source as text, formatted once per peer rather than once per packet. */
  #sourceText(source: Uint8Array): string {
    const key = ((source[0] << 24) | (source[1] << 16) | (source[2] << 8) | source[3]) >>> 0;
    if (key !== this.#lastSource) {
      this.#lastSource = key;
      this.#lastSourceText = formatIPv4(source);
    }
    return this.#lastSourceText;
  }

  /** Keeps exactly one timer, at the engine's earliest deadline. */
  #schedule(): void {
    const at = this.engine.nextDeadline();
    if (at === undefined) return;
    if (this.#timer !== undefined && at >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      try {
        // Packets waiting in the socket (a resting socket, a busy loop) were sent before now:
        // handle them first, or the sequence holes they fill would be counted as lost.
        const backlog = !this.#drain();
        this.engine.tick(performance.now(), backlog);
      } catch (error) {
        this.#options.logger.error(`pfsync: tick failed: ${error}`);
      }
      this.#schedule();
    }, Math.max(0, at - performance.now()));
  }
}
