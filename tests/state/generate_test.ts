/** `states generate`: generatedState() and MemoryProvider.generate() over a real table. */
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  connectProvider,
  generatedState,
  MemoryProvider,
  StateTable,
  type TableEvent,
} from "../../lib/state/mod.ts";
import { AF_INET, IPPROTO_TCP, TCPS_ESTABLISHED } from "../../lib/state/types.ts";

const NOW = 1_700_000_000_000;

async function setup() {
  const table = new StateTable({ now: () => NOW });
  const provider = new MemoryProvider({ lookup: table, hostId: 0x0a0b0c0d, now: () => NOW });
  await connectProvider(provider, table, () => {});
  return { table, provider };
}

Deno.test("generatedState() is an established IPv4 TCP state whose flow spells k and the seed", () => {
  const s = generatedState(0x010203, 5, 77n, 9);
  assertEquals([s.id, s.creatorId, s.af, s.proto], [77n, 9, AF_INET, IPPROTO_TCP]);
  assertEquals(s.lan, { addr: "10.1.2.3", port: 1024 });
  assertEquals(s.gwy, s.lan);
  assertEquals(s.ext, { addr: "198.51.100.6", port: 443 });
  assertEquals([s.src.state, s.dst.state], [TCPS_ESTABLISHED, TCPS_ESTABLISHED]);
  // Past 2^24 the port carries on where the address wrapped.
  assertEquals(generatedState(0x1000003, 5, 1n, 9).lan, { addr: "10.0.0.3", port: 1025 });
  // Deterministic: the same (k, seed) gives the same peers, another seed other ones.
  assertEquals(generatedState(42, 1, 1n, 1).src, generatedState(42, 1, 2n, 1).src);
  assert(generatedState(42, 1, 1n, 1).src.seqlo !== generatedState(42, 2, 1n, 1).src.seqlo);
  for (const p of [s.src, s.dst]) {
    assert(p.seqlo >= 0 && p.seqlo <= 0xffffffff && p.seqhi >= 0 && p.seqhi <= 0xffffffff);
  }
});

Deno.test("MemoryProvider.generate() inserts N local states in batches with a pause between", async () => {
  const { table, provider } = await setup();
  const events: TableEvent[] = [];
  table.on((e) => events.push(e));
  let pauses = 0;
  const result = await provider.generate(250, {
    seed: 3,
    batch: 100,
    pause: () => {
      pauses++;
      assertEquals(table.size, pauses * 100, "each batch is in the table before the pause");
      return Promise.resolve();
    },
  });
  assertEquals([result.generated, result.duplicates, pauses], [250, 0, 2]);
  assertEquals(table.size, 250);
  assertEquals(events.length, 250);
  assert(events.every((e) => e.type === "insert" && e.origin === "local"));
  const states = [...table.states()];
  assert(states.every((s) => s.creatorId === 0x0a0b0c0d && s.ext.addr === "198.51.100.4"));
  assertEquals(new Set(states.map((s) => s.id)).size, 250, "every id is new");
  assert(result.startedAt > 0 && result.ms >= 0);
});

Deno.test("MemoryProvider.generate() again with the same seed finds the flows held; another seed adds", async () => {
  const { table, provider } = await setup();
  await provider.generate(300);
  const again = await provider.generate(300);
  assertEquals([again.generated, again.duplicates, table.size], [0, 300, 300]);
  const other = await provider.generate(300, { seed: 1 });
  assertEquals([other.generated, other.duplicates, table.size], [300, 0, 600]);
});

Deno.test("MemoryProvider.generate() lets the event loop run between batches by default", async () => {
  const { table, provider } = await setup();
  // A timer due now fires in the middle of a generation of many small batches,
  // as the sender's pacing timer and the socket reactor must.
  let sizeWhenFired = -1;
  const timer = setTimeout(() => sizeWhenFired = table.size, 0);
  const result = await provider.generate(5_000, { batch: 10 });
  clearTimeout(timer);
  assertEquals(result.generated, 5_000);
  assert(sizeWhenFired > 0 && sizeWhenFired < 5_000, `timer ran at size ${sizeWhenFired}`);
});
