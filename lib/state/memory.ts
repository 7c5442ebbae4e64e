/**
 * The embedded in-memory provider: states exist only because someone imported
 * them (`pfsyncd states import`, tests, benchmarks, embedding programs). The
 * StateTable is the store, so learned states need no further application.
 * Import reads JSON lines in either form of json.ts: a line naming a state
 * already in the table by (id, creator id) updates it (a local change, so
 * pfsync announces it); a new id on a flow already tracked is a duplicate.
 * Delete works by id or by flow.
 */
import {
  createIdGenerator,
  parseEndpoint,
  StateFormatError,
  stateFromJson,
  stateToJson,
} from "./json.ts";
import type { ProviderChange, StateProvider } from "./provider.ts";
import type { FlowKey } from "./table.ts";
import type { State, StateKey } from "./types.ts";
import { AF_INET, AF_INET6_FREEBSD, protoNumber } from "./types.ts";
import { isIPv4Text } from "./addr.ts";
import { generatedState } from "./synthetic.ts";

/** What the provider needs to look states up (a StateTable satisfies it). */
export interface StateLookup {
  has(key: StateKey): boolean;
  get(key: StateKey): State | undefined;
  findFlow(flow: FlowKey): State | undefined;
  states(): IterableIterator<State>;
}

export interface ImportResult {
  readonly imported: number;
  /** Lines that named a known state by (id, creator id) and changed it. */
  readonly updated: number;
  /** Lines for a flow already tracked under another id, or repeating a state unchanged. */
  readonly duplicates: number;
  readonly errors: readonly { readonly line: number; readonly message: string }[];
}

export interface GenerateOptions {
  /** Picks the flows and sequence numbers; another seed gives other flows (default 0). */
  readonly seed?: number;
  /** States inserted between two yields (default GENERATE_BATCH). */
  readonly batch?: number;
  /** Called between batches; the default lets the event loop run once (yielder()). */
  readonly pause?: () => Promise<void>;
}

export interface GenerateResult {
  readonly generated: number;
  /** States whose flow was already in the table (the same seed run twice). */
  readonly duplicates: number;
  /** Wall-clock time of the first insert, ms since the epoch. */
  readonly startedAt: number;
  /** First insert → last insert, ms. */
  readonly ms: number;
}

/**
 * Generated states inserted between two yields: the sender and the socket
 * reactor run in between, so a paced sender keeps up instead of holding a
 * whole million-state backlog; 2,048 take about 5 ms.
 */
export const GENERATE_BATCH = 2048;

/**
 * A pause that lets the event loop run once (sockets, the reactor, timers
 * that are due) without the 4 ms clamp nested zero timers get: a message to
 * ourselves through a MessageChannel comes back in about 20 µs. `close()`
 * releases the channel (an open port keeps the process alive).
 */
export function yielder(): { pause: () => Promise<void>; close: () => void } {
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  return {
    pause: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        channel.port2.postMessage(0);
      }),
    close: () => {
      channel.port1.close();
      channel.port2.close();
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}

export interface MemoryProviderOptions {
  readonly lookup: StateLookup;
  readonly hostId: number;
  readonly now?: () => number;
  readonly af6?: number;
  readonly initial?: readonly State[];
}

export class MemoryProvider implements StateProvider {
  readonly name = "memory";
  readonly passive = true;
  private readonly options: MemoryProviderOptions;
  private readonly listeners = new Set<(change: ProviderChange) => void>();
  private readonly newId: () => bigint;

  constructor(options: MemoryProviderOptions) {
    this.options = options;
    this.newId = createIdGenerator((options.now ?? Date.now)());
  }

  load(): Promise<readonly State[]> {
    return Promise.resolve(this.options.initial ?? []);
  }

  onChange(listener: (change: ProviderChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  apply(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }

  /** Parses one JSON line into a State with this host's defaults. */
  parseLine(line: string): State {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new StateFormatError(`not JSON: ${(error as Error).message}`);
    }
    return stateFromJson(value, {
      creatorId: this.options.hostId,
      newId: this.newId,
      af6: this.options.af6,
    });
  }

  /**
   * Imports JSON lines (one text, or the lines themselves); blank lines and
   * `#` comments are skipped; bad lines are reported by number.
   */
  importLines(text: string | readonly string[]): ImportResult {
    let imported = 0;
    let updated = 0;
    let duplicates = 0;
    const errors: { line: number; message: string }[] = [];
    // Lines as the control request carries them, or a text to split.
    const lines = typeof text === "string" ? text.split("\n") : text;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line === "" || line.startsWith("#")) continue;
      try {
        const state = this.parseLine(line);
        const known = this.options.lookup.get(state);
        if (known) {
          if (sameState(known, state)) duplicates++;
          else {
            this.emit({ type: "update", state });
            updated++;
          }
          continue;
        }
        // A new id: the table refuses it only for a flow it already tracks, so insert and
        // ask, rather than looking the flow up first (one address encoding, not two).
        this.emit({ type: "insert", state });
        if (this.options.lookup.has(state)) imported++;
        else duplicates++;
      } catch (error) {
        if (!(error instanceof StateFormatError || error instanceof RangeError)) throw error;
        errors.push({ line: i + 1, message: error.message });
      }
    }
    return { imported, updated, duplicates, errors };
  }

  /**
   * Inserts `count` synthetic established TCP states (synthetic.ts) as local
   * changes, in batches with a yield in between: a table → peer measurement
   * without the cost of parsing JSON, and a quick way to fill a table.
   */
  async generate(count: number, options: GenerateOptions = {}): Promise<GenerateResult> {
    const seed = options.seed ?? 0;
    const batch = Math.max(1, options.batch ?? GENERATE_BATCH);
    const own = options.pause ? undefined : yielder();
    const pause = options.pause ?? own!.pause;
    const creatorId = this.options.hostId;
    const lookup = this.options.lookup;
    let generated = 0;
    const startedAt = Date.now();
    const started = performance.now();
    try {
      for (let k = 0; k < count; k++) {
        if (k > 0 && k % batch === 0) await pause();
        const state = generatedState(k, seed, this.newId(), creatorId);
        this.emit({ type: "insert", state });
        // The id is new, so only a flow already held keeps the state out.
        if (lookup.has(state)) generated++;
      }
    } finally {
      own?.close();
    }
    return { generated, duplicates: count - generated, startedAt, ms: performance.now() - started };
  }

  /** Replaces a known state with new contents (a local update). */
  update(state: State): boolean {
    if (!this.options.lookup.get(state)) return false;
    this.emit({ type: "update", state });
    return true;
  }

  /** Deletes by id (hex), optionally restricted to one creator; returns how many. */
  deleteById(id: bigint, creatorId?: number): number {
    const victims: State[] = [];
    if (creatorId !== undefined) {
      const state = this.options.lookup.get({ id, creatorId });
      if (state) victims.push(state);
    } else {
      for (const state of this.options.lookup.states()) if (state.id === id) victims.push(state);
    }
    for (const state of victims) this.emit({ type: "delete", state });
    return victims.length;
  }

  /** Deletes the state of a flow given as proto + src/dst endpoints (either direction). */
  deleteByFlow(proto: string | number, src: string, dst: string): number {
    const p = protoNumber(proto);
    if (p === undefined) throw new StateFormatError(`unknown proto ${JSON.stringify(proto)}`);
    const a = parseEndpoint(src);
    const b = parseEndpoint(dst);
    const af = isIPv4Text(a.addr) ? AF_INET : this.options.af6 ?? AF_INET6_FREEBSD;
    const state = this.options.lookup.findFlow({ af, proto: p, lan: a, ext: b }) ??
      this.options.lookup.findFlow({ af, proto: p, lan: b, ext: a });
    if (!state) return 0;
    this.emit({ type: "delete", state });
    return 1;
  }

  private emit(change: ProviderChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

/** Field-by-field equality through the JSON form (addresses and peers included). */
function sameState(a: State, b: State): boolean {
  return JSON.stringify(stateToJson(a)) === JSON.stringify(stateToJson(b));
}
