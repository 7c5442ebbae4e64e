/**
 * Time for the drivers. State machines keep deadlines as numbers and never
 * call timers themselves; the driver asks a Clock for "now" and to be woken at
 * the next deadline. Tests swap in FakeClock and advance time by hand, so no
 * test sleeps and every timing rule is checked to the millisecond.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds: never jumps with the wall clock (NTP, an operator's date). */
  now(): number;
  /** Wall-clock time, for log lines and status. */
  wallNow(): Date;
  /** Calls `fn` once when now() reaches `at` (at once if `at` has passed). */
  setTimer(at: number, fn: () => void): TimerHandle;
}

export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => new Date(),
  setTimer(at, fn) {
    // setTimeout may fire a fraction of a millisecond early by this clock: re-arm until due.
    let id: ReturnType<typeof setTimeout>;
    const arm = () => {
      const wait = at - performance.now();
      if (wait <= 0) fn();
      else id = setTimeout(arm, Math.ceil(wait));
    };
    id = setTimeout(arm, Math.max(0, Math.ceil(at - performance.now())));
    return { cancel: () => clearTimeout(id) };
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when told to; timers fire in deadline order. */
export class FakeClock implements Clock {
  #now: number;
  #wallOrigin: number;
  #seq = 0;
  #timers: FakeTimer[] = [];

  constructor(start = 0, wallOrigin = Date.UTC(2026, 10, 28, 12, 0, 0)) {
    this.#now = start;
    this.#wallOrigin = wallOrigin - start;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): Date {
    return new Date(this.#wallOrigin + this.#now);
  }

  setTimer(at: number, fn: () => void): TimerHandle {
    const timer: FakeTimer = { at, seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return { cancel: () => timer.cancelled = true };
  }

  /** Timers still waiting to fire. */
  pending(): number {
    return this.#timers.filter((timer) => !timer.cancelled).length;
  }

  /** Moves time forward by `ms`, firing due timers (and timers they set) in order. */
  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  advanceTo(target: number): void {
    if (target < this.#now) throw new RangeError(`time cannot go back (${target} < ${this.#now})`);
    while (true) {
      this.#timers = this.#timers.filter((timer) => !timer.cancelled);
      const due = this.#timers
        .filter((timer) => timer.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers.splice(this.#timers.indexOf(due), 1);
      // Time stands at the deadline while the timer runs, as it would for real.
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = target;
  }
}
