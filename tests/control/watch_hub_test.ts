import { ControlClient } from "../../lib/control/client.ts";
import { startControlServer } from "../../lib/control/server.ts";
import type { WatchEvent } from "../../lib/control/types.ts";
import { WatchHub } from "../../lib/control/watch_hub.ts";
import { assertEquals } from "../helpers/assert.ts";
import { tempSocketPath } from "./fixtures.ts";

const TS = "2026-11-28T12:00:00.000Z";
const bulk = (n: number): WatchEvent => ({
  type: "bulk",
  ts: TS,
  phase: "receiving",
  statesReceived: n,
});

/** Pulls `count` events from an iterator. */
async function take(iterator: AsyncIterator<WatchEvent>, count: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  while (out.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

Deno.test("WatchHub delivers every event to every subscriber, in order", async () => {
  const hub = new WatchHub();
  const stop = new AbortController();
  const a = hub.subscribe(stop.signal);
  const b = hub.subscribe(stop.signal);
  // A generator attaches on its first pull; start both before publishing.
  const firstA = a.next();
  const firstB = b.next();
  assertEquals(hub.subscribers, 2);
  for (const n of [1, 2, 3]) hub.publish(bulk(n));
  assertEquals([(await firstA).value, ...(await take(a, 2))], [bulk(1), bulk(2), bulk(3)]);
  assertEquals([(await firstB).value, ...(await take(b, 2))], [bulk(1), bulk(2), bulk(3)]);
  stop.abort();
  assertEquals((await a.next()).done, true);
  assertEquals((await b.next()).done, true);
  assertEquals(hub.subscribers, 0);
});

Deno.test("WatchHub drops for a slow subscriber and then says how many", async () => {
  const hub = new WatchHub({ maxQueue: 2, now: () => new Date(TS) });
  const stop = new AbortController();
  const slow = hub.subscribe(stop.signal);
  const first = slow.next();
  for (const n of [1, 2, 3, 4, 5]) hub.publish(bulk(n));
  // 1 and 2 filled the queue; 3, 4, 5 were dropped and the gap is reported after 2.
  assertEquals((await first).value, bulk(1));
  assertEquals(await take(slow, 2), [bulk(2), { type: "overflow", ts: TS, dropped: 3 }]);
  const after = slow.next();
  hub.publish(bulk(6));
  assertEquals((await after).value, bulk(6));
  stop.abort();
  await slow.return(undefined);
  assertEquals(hub.subscribers, 0);
});

Deno.test("WatchHub as the server's watch handler: a client sees events, leaving detaches it", async () => {
  const temp = await tempSocketPath();
  const hub = new WatchHub();
  const server = await startControlServer({
    path: temp.path,
    handlers: { watch: (_params, ctx) => hub.subscribe(ctx.signal) },
  });
  try {
    const client = await ControlClient.connect(temp.path);
    const stream = client.stream("watch", {});
    const first = stream.next();
    while (hub.subscribers === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    hub.publish(bulk(7));
    hub.publish(bulk(8));
    assertEquals([(await first).value, (await stream.next()).value], [bulk(7), bulk(8)]);
    await stream.return(undefined);
    await client.closed();
    while (hub.subscribers > 0) await new Promise((resolve) => setTimeout(resolve, 1));
    assertEquals(hub.subscribers, 0);
  } finally {
    await server.close();
    await temp.cleanup();
  }
});

Deno.test("WatchHub keeps dropping until the gap is reported, so the gap stays in place", async () => {
  const hub = new WatchHub({ maxQueue: 2, now: () => new Date(TS) });
  const stop = new AbortController();
  const slow = hub.subscribe(stop.signal);
  const first = slow.next();
  for (const n of [1, 2, 3]) hub.publish(bulk(n));
  assertEquals((await first).value, bulk(1));
  // Room in the queue again, but 4 would land after the gap it must follow: dropped too.
  hub.publish(bulk(4));
  assertEquals(await take(slow, 2), [bulk(2), { type: "overflow", ts: TS, dropped: 2 }]);
  const next = slow.next();
  hub.publish(bulk(5));
  assertEquals((await next).value, bulk(5));
  stop.abort();
  assertEquals((await slow.next()).done, true);
});
