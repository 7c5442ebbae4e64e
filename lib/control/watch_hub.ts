/**
 * Fan-out of watch events to every connected `pfsyncd watch`. The agent
 * publishes synchronously from its engines and never waits on a slow client:
 * each watcher has a bounded queue, and a watcher that falls behind loses
 * events, then gets one `overflow` event saying how many, so the gap is visible
 * instead of silently growing the agent's memory.
 */
import type { WatchEvent } from "./types.ts";

export const DEFAULT_WATCH_QUEUE = 10_000;

interface Subscriber {
  queue: WatchEvent[];
  dropped: number;
  wake?: () => void;
}

export class WatchHub {
  readonly #maxQueue: number;
  readonly #now: () => Date;
  readonly #subscribers = new Set<Subscriber>();

  constructor(options: { maxQueue?: number; now?: () => Date } = {}) {
    this.#maxQueue = Math.max(1, options.maxQueue ?? DEFAULT_WATCH_QUEUE);
    this.#now = options.now ?? (() => new Date());
  }

  /** Watchers currently attached. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  publish(event: WatchEvent): void {
    for (const subscriber of this.#subscribers) {
      // Once behind, keep dropping until the queue is drained and the gap reported,
      // so the overflow event sits exactly where events went missing.
      if (subscriber.dropped > 0 || subscriber.queue.length >= this.#maxQueue) subscriber.dropped++;
      else subscriber.queue.push(event);
      subscriber.wake?.();
    }
  }

  /** Events published from now on, until `signal` aborts: the `watch` handler. */
  async *subscribe(signal: AbortSignal): AsyncGenerator<WatchEvent> {
    const subscriber: Subscriber = { queue: [], dropped: 0 };
    const onAbort = () => subscriber.wake?.();
    this.#subscribers.add(subscriber);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const next = subscriber.queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (subscriber.dropped > 0) {
          const dropped = subscriber.dropped;
          subscriber.dropped = 0;
          yield { type: "overflow", ts: this.#now().toISOString(), dropped };
          continue;
        }
        await new Promise<void>((resolve) => subscriber.wake = resolve);
        subscriber.wake = undefined;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#subscribers.delete(subscriber);
    }
  }
}
