/**
 * The one reactor (rule 2 of DESIGN.md): a single poll() over every
 * registered fd plus the read end of a wake-up pipe, run as a nonblocking
 * FFI call so the JS event loop stays free while nothing happens.
 *
 * A nonblocking FFI call runs on a worker thread and reads the pollfd array
 * while it waits, so the array is never rewritten during a poll: add/remove
 * only mark it stale and wake the poll, and the loop rebuilds it between
 * polls. Readable fds are handed to their callbacks, which drain them with
 * MSG_DONTWAIT on the JS thread (poll is level-triggered: what a callback
 * leaves unread wakes the next poll at once).
 *
 * Fairness under a flood: while an fd stays readable, poll() returns at once
 * and the runtime never goes idle, so Deno's own sockets (the control socket)
 * get only one readiness check per turn of this loop, and a request needs
 * several (accept, read, write). Callbacks therefore do bounded work per call,
 * and after `yieldAfterMs` of back-to-back busy turns the loop waits for one
 * timer (a macrotask) before polling again: while it waits the event loop is
 * idle and serves everything else that is ready.
 */
import { libc } from "./libc.ts";
import { throwErrno } from "./errors.ts";
import { platform, requireConstant } from "./platform/mod.ts";
import { HOST_LITTLE_ENDIAN } from "./sockaddr.ts";
import { closeFd } from "./syscalls.ts";

/** Something the reactor can close on shutdown; an object's own close() must be idempotent. */
export type Closable = number | { readonly fd: number; close(): void };

export interface ReactorOptions {
  /**
   * Called when a callback throws. The default stops the loop and makes
   * run() reject with the error, because a throwing callback is a bug.
   */
  onError?: (error: unknown, fd: number) => void;
  /** Called when poll reports POLLNVAL (fd closed without remove()); the fd is dropped. */
  onInvalid?: (fd: number) => void;
  /**
   * Busy time (ms of turns whose poll() returned at once) after which the
   * loop yields to the event loop with a timer; default REACTOR_YIELD_AFTER_MS.
   */
  yieldAfterMs?: number;
}

/**
 * Default busy stretch before the loop yields. A yield costs about 1–2 ms (a
 * zero timer), so 20 ms keeps its cost under a tenth of a flood's CPU while a
 * control request waits tens of milliseconds, not the flood's length.
 */
export const REACTOR_YIELD_AFTER_MS = 20;

/** A poll() that took this long left the event loop idle meanwhile: that counts as a yield. */
const IDLE_POLL_MS = 1;

const macrotask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

interface Entry {
  readonly source: Closable;
  readonly onReadable: () => void;
}

/** poll() failing this many times in a row (not EINTR) is treated as fatal. */
const MAX_CONSECUTIVE_POLL_FAILURES = 100;

export class Reactor {
  readonly #entries = new Map<number, Entry>();
  readonly #options: ReactorOptions;
  readonly #wakeRead: number;
  readonly #wakeWrite: number;
  readonly #wakeByte = new Uint8Array(1);
  readonly #drainBuffer = new Uint8Array(64);
  #pollfds = new Uint8Array(0);
  #pollCount = 0;
  #stale = true;
  #stopping = false;
  #closed = false;
  #loop: Promise<void> | undefined;
  #failure: unknown;
  /** Completed poll() calls, for tests and the idle-CPU benchmark. */
  polls = 0;
  /** Times the loop yielded to the event loop under load, for tests and benchmarks. */
  yields = 0;

  constructor(options: ReactorOptions = {}) {
    this.#options = options;
    const fds = new Int32Array(2);
    const flags = requireConstant("O_NONBLOCK") | requireConstant("O_CLOEXEC");
    if (libc().pipe2(new Uint8Array(fds.buffer), flags) !== 0) throwErrno("pipe2(O_NONBLOCK)");
    this.#wakeRead = fds[0];
    this.#wakeWrite = fds[1];
  }

  /** Number of registered fds (the wake-up pipe not counted). */
  get size(): number {
    return this.#entries.size;
  }

  get running(): boolean {
    return this.#loop !== undefined;
  }

  /** Watches `source` for readability; on close() the reactor closes it. */
  add(source: Closable, onReadable: () => void): void {
    if (this.#closed) throw new Error("reactor.add: the reactor is closed");
    const fd = typeof source === "number" ? source : source.fd;
    if (this.#entries.has(fd)) throw new Error(`reactor.add: fd ${fd} is already registered`);
    this.#entries.set(fd, { source, onReadable });
    this.#changed();
  }

  /** Stops watching `fd`. The reactor will not close it; the caller owns it again. */
  remove(fd: number): boolean {
    const removed = this.#entries.delete(fd);
    if (removed) this.#changed();
    return removed;
  }

  /** Makes a pending poll() return now. Safe to call any number of times. */
  wake(): void {
    if (this.#closed) return;
    // EAGAIN means the pipe is full, i.e. a wake-up is already pending.
    libc().write(this.#wakeWrite, this.#wakeByte, 1n);
  }

  /** Starts the loop (once); the promise settles when stop() or close() ends it. */
  run(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("reactor.run: the reactor is closed"));
    if (!this.#loop) {
      this.#stopping = false;
      this.#loop = this.#runLoop().finally(() => {
        this.#loop = undefined;
      });
    }
    return this.#loop;
  }

  /** Ends the loop and waits until the in-flight poll() has returned. */
  async stop(): Promise<void> {
    const loop = this.#loop;
    if (!loop) return;
    this.#stopping = true;
    this.wake();
    await loop.catch(() => {});
  }

  /** Stops, then closes every registered fd exactly once and the wake-up pipe. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.stop();
    this.#closed = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const { source } of entries) {
      if (typeof source === "number") closeFd(source);
      else source.close();
    }
    closeFd(this.#wakeRead);
    closeFd(this.#wakeWrite);
  }

  async #runLoop(): Promise<void> {
    const { POLLIN = 1, POLLNVAL = 0x20 } = platform().constants;
    const fdOffset = platform().structs.pollfd?.fields.fd ?? 0;
    const reventsOffset = platform().structs.pollfd?.fields.revents ?? 6;
    const yieldAfter = this.#options.yieldAfterMs ?? REACTOR_YIELD_AFTER_MS;
    let failures = 0;
    let busySince = performance.now();
    this.#failure = undefined;
    while (!this.#stopping) {
      if (this.#stale) this.#rebuild(POLLIN);
      const pollfds = this.#pollfds;
      const count = this.#pollCount;
      const polled = performance.now();
      const ready = await libc().poll(pollfds, BigInt(count), -1);
      this.polls++;
      if (performance.now() - polled >= IDLE_POLL_MS) busySince = performance.now();
      if (ready < 0) {
        // errno lives on the worker thread; EINTR is the only expected cause.
        if (++failures >= MAX_CONSECUTIVE_POLL_FAILURES) {
          throw new Error(`poll() failed ${failures} times in a row`);
        }
        continue;
      }
      failures = 0;
      this.#handle(pollfds, count, POLLNVAL, fdOffset, reventsOffset);
      if (this.#failure !== undefined) throw this.#failure;
      if (performance.now() - busySince >= yieldAfter && !this.#stopping) {
        // Ready at once, turn after turn: let the event loop serve the rest.
        await macrotask();
        this.yields++;
        busySince = performance.now();
      }
    }
  }

  #handle(
    pollfds: Uint8Array,
    count: number,
    pollnval: number,
    fdOffset: number,
    reventsOffset: number,
  ): void {
    const view = new DataView(pollfds.buffer);
    const stride = pollfds.length / count;
    for (let i = 0; i < count && !this.#stopping; i++) {
      const revents = view.getInt16(i * stride + reventsOffset, HOST_LITTLE_ENDIAN);
      if (revents === 0) continue;
      const fd = view.getInt32(i * stride + fdOffset, HOST_LITTLE_ENDIAN);
      if (fd === this.#wakeRead) {
        this.#drainWake();
      } else if (revents & pollnval) {
        if (this.remove(fd)) this.#options.onInvalid?.(fd);
      } else {
        this.#dispatch(fd);
      }
    }
  }

  #dispatch(fd: number): void {
    // Looked up now, not from the snapshot: the fd may have been removed meanwhile.
    const entry = this.#entries.get(fd);
    if (!entry) return;
    try {
      entry.onReadable();
    } catch (error) {
      if (this.#options.onError) {
        this.#options.onError(error, fd);
      } else {
        this.#failure = error;
        this.#stopping = true;
      }
    }
  }

  #rebuild(pollin: number): void {
    const layout = platform().structs.pollfd ?? { size: 8, fields: { fd: 0, events: 4 } };
    const fds = [this.#wakeRead, ...this.#entries.keys()];
    // An explicit ArrayBuffer lives outside the V8 heap, so the address the
    // worker thread polls on cannot move under it during a GC.
    const buffer = new Uint8Array(new ArrayBuffer(fds.length * layout.size));
    const view = new DataView(buffer.buffer);
    fds.forEach((fd, i) => {
      view.setInt32(i * layout.size + layout.fields.fd, fd, HOST_LITTLE_ENDIAN);
      view.setInt16(i * layout.size + layout.fields.events, pollin, HOST_LITTLE_ENDIAN);
    });
    this.#pollfds = buffer;
    this.#pollCount = fds.length;
    this.#stale = false;
  }

  #drainWake(): void {
    while (Number(libc().read(this.#wakeRead, this.#drainBuffer, 64n)) > 0) {
      // keep reading until EAGAIN: every pending wake-up is served by this pass
    }
  }

  #changed(): void {
    this.#stale = true;
    if (this.#loop) this.wake();
  }
}
