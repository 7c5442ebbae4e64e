/**
 * Fans agent events out to every `pfsyncd watch` client. Each watcher has a
 * bounded queue: a slow client loses events (and is told how many) instead of
 * growing the agent's memory or slowing the engines.
 */
import type { WatchEvent } from "../control/types.ts";

const QUEUE_LIMIT = 10_000;

interface Watcher {
  queue: WatchEvent[];
  dropped: number;
  wake?: () => void;
}

export class WatchHub {
  readonly #watchers = new Set<Watcher>();

  get size(): number {
    return this.#watchers.size;
  }

  publish(event: WatchEvent): void {
    for (const watcher of this.#watchers) {
      if (watcher.queue.length >= QUEUE_LIMIT) watcher.dropped++;
      else watcher.queue.push(event);
      watcher.wake?.();
    }
  }

  /** Events published from now on, until `signal` aborts. */
  async *subscribe(signal: AbortSignal): AsyncIterable<WatchEvent> {
    const watcher: Watcher = { queue: [], dropped: 0 };
    this.#watchers.add(watcher);
    const onAbort = () => watcher.wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted) {
        if (watcher.dropped > 0) {
          yield { type: "overflow", ts: new Date().toISOString(), dropped: watcher.dropped };
          watcher.dropped = 0;
        }
        const next = watcher.queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => watcher.wake = resolve);
        watcher.wake = undefined;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#watchers.delete(watcher);
    }
  }
}
