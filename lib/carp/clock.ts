/**
 * The real clock for the driver's `now`/`schedule` ports: monotonic time
 * from `performance.now()`, so stepping the wall clock cannot fire or stall a
 * CARP timer (spec §7.11).
 */

export interface CarpClock {
  now(): number;
  schedule(delayMs: number, callback: () => void): () => void;
}

export const systemClock: CarpClock = {
  now: () => performance.now(),
  schedule(delayMs, callback) {
    // Timers take whole milliseconds; rounding up means a deadline has always
    // passed when the callback runs, so no tick is wasted re-arming.
    const id = setTimeout(callback, Math.max(0, Math.ceil(delayMs)));
    return () => clearTimeout(id);
  },
};

/** Structural view of a deadline-based clock such as lib/agent's `Clock`. */
export interface DeadlineClock {
  now(): number;
  setTimer(at: number, fn: () => void): { cancel(): void };
}

/** Adapts a deadline-based clock to the driver's `now`/`schedule` ports. */
export function carpClockFrom(clock: DeadlineClock): CarpClock {
  return {
    now: () => clock.now(),
    schedule(delayMs, callback) {
      const handle = clock.setTimer(clock.now() + delayMs, callback);
      return () => handle.cancel();
    },
  };
}
