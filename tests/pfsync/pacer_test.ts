/** Pacer: token-bucket output pacing with deadlines. */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { Pacer } from "../../lib/pfsync/mod.ts";
import { makeState } from "./fixtures.ts";
import { Segment } from "./sim.ts";

Deno.test("Pacer releases a burst, then packetsPerSecond, and says when the next may leave", () => {
  const pacer = new Pacer<number>({ packetsPerSecond: 1000, burst: 3 });
  for (let i = 0; i < 10; i++) pacer.push(i);
  const sent: number[] = [];
  const table: [number, number[], number | undefined][] = [
    // [now ms, released so far, next deadline]
    [0, [0, 1, 2], 1],
    [0.5, [0, 1, 2], 1],
    [1, [0, 1, 2, 3], 2],
    [4, [0, 1, 2, 3, 4, 5, 6], 5],
    [100, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], undefined],
  ];
  for (const [now, released, next] of table) {
    pacer.release(now, (n) => sent.push(n));
    assertEquals(sent, released, `at ${now} ms`);
    assertEquals(pacer.nextDeadline(now), next, `deadline at ${now} ms`);
  }
});

Deno.test("Pacer with packetsPerSecond 0 sends everything at once; bad options throw", () => {
  const pacer = new Pacer<number>({ packetsPerSecond: 0, burst: 1 });
  const sent: number[] = [];
  for (let i = 0; i < 500; i++) pacer.push(i);
  pacer.release(0, (n) => sent.push(n));
  assertEquals(sent.length, 500);
  assertEquals(pacer.backlog, 0);
  assertThrows(() => new Pacer({ packetsPerSecond: -1, burst: 1 }), RangeError);
  assertThrows(() => new Pacer({ packetsPerSecond: 10, burst: 0 }), RangeError);
});

Deno.test("PfsyncEngine paces a large local burst and still delivers everything", () => {
  const seg = new Segment();
  const pacing = { packetsPerSecond: 10_000, burst: 20 };
  const [a, b] = [seg.add("A", "10.0.0.1", { pacing }), seg.add("B", "10.0.0.2", { pacing })];
  for (const node of [a, b]) node.engine.start();
  seg.pump();
  seg.run(60, 1); // the bucket refills after the start-up packets and the first beacon
  const before = a.sent;
  for (let i = 0; i < 1200; i++) a.table.insert(makeState(), "local"); // 200 INS packets
  assertEquals(a.sent - before, 20, "only the burst leaves at once");
  assertEquals(a.engine.nextDeadline(), seg.now + 0.1);
  seg.run(10, 1);
  assertEquals(a.sent - before, 20 + 10 * 10, "10 packets a millisecond after the burst");
  seg.run(100, 1);
  assertEquals(a.sent - before, 200);
  assertEquals(b.table.size, 1200);
});
