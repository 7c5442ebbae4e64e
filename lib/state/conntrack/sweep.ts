/**
 * The provider's sweeps (refreshed timeouts, lost events: spec rules 16 and
 * 17) read the kernel's dump a few datagrams at a time, handing the event
 * loop back between slices: a 100,000-entry table took half a second in one
 * piece, during which neither CARP nor pfsync was served.
 *
 *   start(force)  → beginDump → slice … (timer) … slice → DONE
 *                 → sweepEnd: suspects → confirm … (timer) … confirm → settle → completed
 *   runNow(force) → the same, all steps at once (a sliced sweep under way first)
 *
 * Confirming: a dump is not a snapshot, so an announced flow it did not show
 * is looked up by its tuple (ctnetlink GET on the request socket, a batch to
 * a datagram); the event socket is drained before the answers are handed to
 * the mirror, so a DESTROY queued meanwhile speaks first and only an entry
 * that is gone without one is withdrawn as a repair (mirror.ts). Asking the
 * kernel rather than waiting for a second sweep to miss the flow too: the
 * answer is about that one tuple, now, so a lost DESTROY is put right
 * milliseconds after the sweep instead of a sweep period (30 s) later, and a
 * live flow two churning dumps both skip is still never withdrawn. A second
 * miss only decides when the GET itself cannot answer.
 *
 * One dump at a time per socket: a sweep asked for while one runs is folded
 * into it, and a forced one (after an overrun) runs again once it ends.
 */
import { CT_ERRNO } from "../../netlink/ct_constants.ts";
import { ctGetRequest } from "../../netlink/ctnetlink.ts";
import { parseCtFlowKey } from "../../netlink/ctnetlink_key.ts";
import type { ProviderChange } from "../provider.ts";
import type { RequestChannel } from "./channel.ts";
import type { SyncMirror } from "./mirror.ts";

/** Dump datagrams (~100 entries each) read between two looks at the clock… */
const SLICE_DATAGRAMS = 4;
/** …and milliseconds of work before the loop is handed back. */
const SLICE_MS = 4;
/** GETs per datagram (replies ≈ 400 bytes each: well inside the socket's receive buffer). */
const CONFIRM_BATCH = 64;

export interface SweeperOptions {
  readonly dumps: RequestChannel;
  /** Where suspects are looked up (the provider's request socket). */
  readonly lookups: RequestChannel;
  readonly mirror: SyncMirror;
  readonly emit: (change: ProviderChange | undefined) => void;
  /** Reads every queued event (before each dump, before answers are judged, before settling). */
  readonly drainEvents: () => void;
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
  /** Set when the dump has ended: suspects still to look up, from `next` on. */
  suspects?: string[];
  next: number;
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
    this.#step(false);
  }

  /** A whole sweep now, finishing a sliced one under way first. */
  runNow(force: boolean): void {
    if (this.#closed) return;
    if (this.#run) {
      if (force && !this.#run.force) this.#forceNext = true;
    } else {
      this.#begin(force, true);
    }
    while (this.#run) this.#step(true);
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
    this.#options.drainEvents();
    this.#options.mirror.sweepBegin();
    const seq = this.#options.dumps.beginDump();
    const startedAt = whole ? Infinity : this.#options.now();
    this.#run = { seq, force, seen: new Set(), startedAt, done: onDone ? [onDone] : [], next: 0 };
  }

  #later(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#step(false);
    }, 0);
  }

  #step(whole: boolean): void {
    const run = this.#run;
    if (!run || this.#closed) return;
    if (run.suspects === undefined) this.#slice(run, whole);
    else this.#confirm(run, run.suspects, whole);
  }

  #slice(run: Run, whole: boolean): void {
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
    if (errno === undefined) return whole ? undefined : this.#later();
    if (errno !== 0) {
      this.#options.log(`sweep dump failed: errno ${errno}`);
      this.#options.drainEvents();
      mirror.settle();
      return this.#finish(run, whole, false);
    }
    run.suspects = mirror.sweepEnd(run.seen, run.startedAt);
    run.seen.clear();
    // Looked up from the next turn: events queued meanwhile clear suspects for free.
    if (!whole) this.#later();
  }

  /** One batch of suspects looked up, judged after the events queued before the answers. */
  #confirm(run: Run, suspects: string[], whole: boolean): void {
    const { lookups, mirror, emit } = this.#options;
    const deadline = performance.now() + (this.#options.sliceMs ?? SLICE_MS);
    do {
      const keys: string[] = [];
      while (run.next < suspects.length && keys.length < CONFIRM_BATCH) {
        const key = suspects[run.next++];
        if (mirror.isSuspect(key)) keys.push(key);
      }
      if (keys.length === 0) break;
      const seqs = keys.map(() => lookups.nextSeq());
      const parts = keys.map((key, i) => {
        const { orig, zone } = parseCtFlowKey(key);
        return ctGetRequest(orig, seqs[i], zone || undefined);
      });
      let answers: Map<number, number> | undefined;
      try {
        answers = lookups.askAll(parts, seqs);
      } catch (error) {
        this.#options.log(`sweep lookup failed: ${(error as Error).message}`);
      }
      // A DESTROY queued before the kernel's answer clears the suspect as a plain event.
      this.#options.drainEvents();
      for (let i = 0; i < keys.length; i++) {
        const errno = answers?.get(seqs[i]);
        const verdict = errno === 0 ? "present" : errno === CT_ERRNO.ENOENT ? "absent" : "unknown";
        emit(mirror.confirm(keys[i], verdict));
      }
    } while (run.next < suspects.length && (whole || performance.now() < deadline));
    if (run.next < suspects.length) return whole ? undefined : this.#later();
    this.#options.drainEvents();
    mirror.settle();
    this.#finish(run, whole, true);
  }

  #finish(run: Run, whole: boolean, ok: boolean): void {
    this.#run = undefined;
    if (ok) this.#options.completed(run.force);
    for (const done of run.done) done();
    if (this.#forceNext) {
      this.#forceNext = false;
      if (whole) this.#begin(true, true);
      else this.start(true);
    }
  }
}
