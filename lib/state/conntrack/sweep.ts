/**
 * The provider's sweeps (refreshed timeouts, lost events: spec rules 16 and
 * 17) read the kernel's dump a few datagrams at a time, handing the event
 * loop back between slices: a 100,000-entry table took half a second in one
 * piece, during which neither CARP nor pfsync was served.
 *
 *   start(force)  → beginDump → slice … (timer) … slice → DONE → sweepEnd → completed
 *   runNow(force) → the same, all slices at once (a sliced sweep under way first)
 *
 * One dump at a time per socket: a sweep asked for while one runs is folded
 * into it, and a forced one (after an overrun) runs again once it ends.
 */
import type { ProviderChange } from "../provider.ts";
import type { RequestChannel } from "./channel.ts";
import type { SyncMirror } from "./mirror.ts";

/** Dump datagrams (~100 entries each) read between two looks at the clock… */
const SLICE_DATAGRAMS = 4;
/** …and milliseconds of work before the loop is handed back. */
const SLICE_MS = 4;

export interface SweeperOptions {
  readonly dumps: RequestChannel;
  readonly mirror: SyncMirror;
  readonly emit: (change: ProviderChange | undefined) => void;
  /** Called before each dump starts (the provider drains its event socket). */
  readonly beforeDump: () => void;
  /** A sweep read to its end without error. */
  readonly completed: (force: boolean) => void;
  readonly log: (message: string) => void;
  /** The mirror's clock (ms). */
  readonly now: () => number;
  readonly sliceMs?: number;
}

interface Run {
  readonly seq: number;
  readonly force: boolean;
  readonly seen: Set<string>;
  /** When a sliced run began (Infinity for one read in one go): see SyncMirror.sweepEnd. */
  readonly startedAt: number;
  readonly done: (() => void)[];
}

export class Sweeper {
  readonly #options: SweeperOptions;
  #run: Run | undefined;
  #forceNext = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: SweeperOptions) {
    this.#options = options;
  }

  get running(): boolean {
    return this.#run !== undefined;
  }

  /** Starts a sliced sweep (or joins the one under way); `onDone` when it has ended. */
  start(force: boolean, onDone?: () => void): void {
    if (this.#closed) return;
    if (this.#run) {
      if (force && !this.#run.force) this.#forceNext = true;
      if (onDone) this.#run.done.push(onDone);
      return;
    }
    this.#begin(force, false, onDone);
    this.#slice(false);
  }

  /** A whole sweep now, finishing a sliced one under way first. */
  runNow(force: boolean): void {
    if (this.#closed) return;
    if (this.#run) {
      if (force && !this.#run.force) this.#forceNext = true;
    } else {
      this.#begin(force, true);
    }
    while (this.#run) this.#slice(true);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#run = undefined;
  }

  /**
   * A sweep read in one go sees no event in between; one read in slices
   * leaves out flows first announced after it began (SyncMirror.sweepEnd).
   */
  #begin(force: boolean, whole: boolean, onDone?: () => void): void {
    this.#options.beforeDump();
    const seq = this.#options.dumps.beginDump();
    const startedAt = whole ? Infinity : this.#options.now();
    this.#run = { seq, force, seen: new Set(), startedAt, done: onDone ? [onDone] : [] };
  }

  #slice(whole: boolean): void {
    const run = this.#run;
    if (!run || this.#closed) return;
    const { dumps, mirror, emit } = this.#options;
    const deadline = performance.now() + (this.#options.sliceMs ?? SLICE_MS);
    let errno: number | undefined;
    do {
      errno = dumps.dumpPart(
        run.seq,
        (msg) => emit(mirror.sweepEntry(msg.entry, run.force, run.seen)),
        SLICE_DATAGRAMS,
      );
    } while (errno === undefined && (whole || performance.now() < deadline));
    if (errno === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#slice(false);
      }, 0);
      return;
    }
    this.#run = undefined;
    if (errno !== 0) this.#options.log(`sweep dump failed: errno ${errno}`);
    else {
      for (const change of mirror.sweepEnd(run.seen, run.startedAt)) emit(change);
      this.#options.completed(run.force);
    }
    for (const done of run.done) done();
    if (this.#forceNext) {
      this.#forceNext = false;
      if (whole) this.#begin(true, true);
      else this.start(true);
    }
  }
}
