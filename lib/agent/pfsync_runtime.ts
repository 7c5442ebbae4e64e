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
 * (table growth, garbage collection). 64 MiB rides out about 1.2 s.
 */
export const PFSYNC_RECEIVE_BUFFER = 64 * 1024 * 1024;

/** Work one reactor callback does before handing back: packets, and milliseconds. */
const DRAIN_MAX_PACKETS = 1024;
const DRAIN_BUDGET_MS = 4;

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
  #lastSourceText = "";

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
    }, { ...options.engine, mtu: iface?.mtu });
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
    this.#options.reactor.add(socket, () => this.#drain());
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

  /**
   * Handles what is queued, but at most a few milliseconds' worth: the
   * reactor polls again at once for the rest (level-triggered), and short
   * turns let it keep the control socket served through a flood.
   */
  #drain(): void {
    const socket = this.#socket;
    if (!socket) return;
    const deadline = performance.now() + DRAIN_BUDGET_MS;
    for (let i = 1; i <= DRAIN_MAX_PACKETS; i++) {
      if ((i & 15) === 0 && performance.now() >= deadline) break;
      let packet;
      try {
        packet = socket.receive();
      } catch (error) {
        this.#options.logger.warning(`pfsync: receive failed: ${(error as Error).message}`);
        break;
      }
      if (!packet) break;
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
    this.#schedule();
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
        this.engine.tick(performance.now());
      } catch (error) {
        this.#options.logger.error(`pfsync: tick failed: ${error}`);
      }
      this.#schedule();
    }, Math.max(0, at - performance.now()));
  }
}
