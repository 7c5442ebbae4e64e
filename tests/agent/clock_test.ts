import { FakeClock, realClock } from "../../lib/agent/clock.ts";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";

Deno.test("FakeClock.advance() fires due timers in deadline order, at their deadline", () => {
  const clock = new FakeClock(1000);
  const fired: [string, number][] = [];
  clock.setTimer(1300, () => fired.push(["c", clock.now()]));
  clock.setTimer(1100, () => fired.push(["a", clock.now()]));
  clock.setTimer(1100, () => fired.push(["b", clock.now()]));
  clock.setTimer(2000, () => fired.push(["late", clock.now()]));
  clock.advance(500);
  assertEquals(fired, [["a", 1100], ["b", 1100], ["c", 1300]]);
  assertEquals(clock.now(), 1500);
  assertEquals(clock.pending(), 1);
});

Deno.test("FakeClock runs timers set by timers when they fall inside the step", () => {
  const clock = new FakeClock();
  const ticks: number[] = [];
  const tick = () => {
    ticks.push(clock.now());
    clock.setTimer(clock.now() + 1000, tick);
  };
  clock.setTimer(1000, tick);
  clock.advance(3500);
  assertEquals(ticks, [1000, 2000, 3000]);
  assertEquals(clock.pending(), 1);
});

Deno.test("FakeClock timer cancel() prevents firing; a past deadline fires on the next advance", () => {
  const clock = new FakeClock(500);
  const fired: string[] = [];
  const handle = clock.setTimer(600, () => fired.push("cancelled"));
  clock.setTimer(100, () => fired.push("past"));
  handle.cancel();
  clock.advance(0);
  clock.advance(1000);
  assertEquals(fired, ["past"]);
  assertEquals(clock.pending(), 0);
});

Deno.test("FakeClock refuses to go back and keeps wall time in step", () => {
  const clock = new FakeClock(0, Date.UTC(2026, 10, 28, 12, 0, 0));
  clock.advance(1500);
  assertEquals(clock.wallNow().toISOString(), "2026-11-28T12:00:01.500Z");
  assertThrows(() => clock.advanceTo(10), RangeError, "cannot go back");
});

Deno.test("realClock.setTimer() fires after the deadline and cancel() stops it", async () => {
  const start = realClock.now();
  let cancelledFired = false;
  realClock.setTimer(start + 5, () => cancelledFired = true).cancel();
  const firedAt = await new Promise<number>((resolve) =>
    realClock.setTimer(start + 20, () => resolve(realClock.now()))
  );
  assert(firedAt >= start + 20, `fired at ${firedAt - start} ms`);
  assertEquals(cancelledFired, false);
});
