/**
 * Output pacing: a token bucket in front of the socket. The BSD kernels hand
 * packets straight to IP output, but a user-space receiver drains its socket
 * between other work, so a burst (a 100,000-state import, a bulk walk) larger
 * than the peer's receive buffer would be lost — and pfsync never resends.
 * Pure: `now` comes from the caller, and `nextDeadline` says when the next
 * packet may leave.
 */

export interface PacerOptions {
  /** Sustained rate; 0 sends everything at once. */
  readonly packetsPerSecond: number;
  /** Packets that may leave back to back after a quiet spell. */
  readonly burst: number;
}

export class Pacer<T> {
  private readonly perMs: number;
  readonly burst: number;
  private queue: T[] = [];
  private head = 0;
  private tokens: number;
  private last: number | undefined;

  constructor(options: PacerOptions) {
    if (!(options.packetsPerSecond >= 0) || !(options.burst >= 1)) {
      throw new RangeError(`bad pacing ${options.packetsPerSecond}/s, burst ${options.burst}`);
    }
    this.perMs = options.packetsPerSecond / 1000;
    this.burst = options.burst;
    this.tokens = options.burst;
  }

  get backlog(): number {
    return this.queue.length - this.head;
  }

  push(item: T): void {
    this.queue.push(item);
  }

  /** Hands every packet the bucket allows at `now` to `send`. */
  release(now: number, send: (item: T) => void): void {
    if (this.perMs === 0) {
      while (this.head < this.queue.length) send(this.queue[this.head++]);
      this.compact();
      return;
    }
    if (this.last !== undefined && now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
    }
    this.last = now;
    while (this.head < this.queue.length && this.tokens >= 1) {
      this.tokens -= 1;
      send(this.queue[this.head++]);
    }
    this.compact();
  }

  /** When the next queued packet may leave, or undefined when nothing waits. */
  nextDeadline(now: number): number | undefined {
    if (this.backlog === 0) return undefined;
    if (this.perMs === 0 || this.tokens >= 1) return now;
    return (this.last ?? now) + (1 - this.tokens) / this.perMs;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
