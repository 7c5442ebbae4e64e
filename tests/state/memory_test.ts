/** MemoryProvider + connectProvider: import, update, delete by id and by flow, peer application. */
import { assertEquals } from "../helpers/assert.ts";
import {
  connectProvider,
  MemoryProvider,
  type StateProvider,
  StateTable,
  stateToJson,
} from "../../lib/state/mod.ts";
import { V5_STATE } from "../pfsync/fixtures.ts";

async function setup() {
  const table = new StateTable({ now: () => 1_700_000_000_000 });
  const provider = new MemoryProvider({
    lookup: table,
    hostId: 0x01020304,
    now: () => 1_700_000_000_000,
  });
  const link = await connectProvider(provider, table, () => {});
  return { table, provider, link };
}

Deno.test("MemoryProvider.importLines() imports both JSON forms and reports bad lines by number", async () => {
  const { table, provider } = await setup();
  const text = [
    '{"proto":"tcp","src":"192.0.2.10:1234","dst":"198.51.100.7:80"}',
    "# a comment",
    "",
    JSON.stringify(stateToJson(V5_STATE)),
    '{"proto":"tcp","src":"192.0.2.10:1234","dst":"198.51.100.7:80"}',
    "not json",
    '{"proto":"tcp","src":"192.0.2.10:1234"}',
  ].join("\n");
  const result = provider.importLines(text);
  assertEquals([result.imported, result.duplicates], [2, 1]);
  assertEquals(result.errors.map((e) => e.line), [6, 7]);
  assertEquals(table.size, 2);
  assertEquals(table.get(V5_STATE)?.lan, V5_STATE.lan);
  const minimal = [...table.states()].find((s) => s.id !== V5_STATE.id)!;
  assertEquals(minimal.creatorId, 0x01020304);
  assertEquals(
    minimal.id >> 32n,
    BigInt(1_700_000_000),
    "pf-style id: epoch seconds in the high word",
  );
  assertEquals(table.originOf(minimal), "local");
});

Deno.test("MemoryProvider deletes by id and by flow in either direction", async () => {
  const { table, provider } = await setup();
  provider.importLines([
    '{"proto":"tcp","src":"192.0.2.10:1234","dst":"198.51.100.7:80"}',
    '{"proto":"udp","src":"192.0.2.10:53","dst":"198.51.100.7:53"}',
    JSON.stringify(stateToJson(V5_STATE)),
  ].join("\n"));
  assertEquals(provider.deleteByFlow("tcp", "198.51.100.7:80", "192.0.2.10:1234"), 1);
  assertEquals(provider.deleteByFlow("tcp", "198.51.100.7:80", "192.0.2.10:1234"), 0);
  assertEquals(provider.deleteById(V5_STATE.id), 1);
  assertEquals(provider.deleteById(V5_STATE.id, 5), 0);
  assertEquals(table.size, 1);
  assertEquals([...table.states()][0].proto, 17);
});

Deno.test("MemoryProvider.update() replaces a known state as a local change", async () => {
  const { table, provider } = await setup();
  provider.importLines(JSON.stringify(stateToJson(V5_STATE)));
  const events: string[] = [];
  table.on((e) => events.push(`${e.type}:${e.origin === "local" ? "local" : "peer"}`));
  assertEquals(provider.update({ ...V5_STATE, timeout: 3 }), true);
  assertEquals(provider.update({ ...V5_STATE, id: 1n }), false);
  assertEquals(table.get(V5_STATE)?.timeout, 3);
  assertEquals(events, ["update:local"]);
});

Deno.test("MemoryProvider.importLines() updates a state named by (id, creator id), once per change", async () => {
  const { table, provider } = await setup();
  provider.importLines(JSON.stringify(stateToJson(V5_STATE)));
  const events: string[] = [];
  table.on((e) => events.push(`${e.type}:${e.origin === "local" ? "local" : "peer"}`));
  const moved = { ...V5_STATE, src: { ...V5_STATE.src, seqlo: V5_STATE.src.seqlo + 100 } };
  const result = provider.importLines(
    [stateToJson(moved), stateToJson(moved)].map((j) => JSON.stringify(j)).join("\n"),
  );
  assertEquals([result.imported, result.updated, result.duplicates], [0, 1, 1]);
  assertEquals(table.get(V5_STATE)?.src.seqlo, V5_STATE.src.seqlo + 100);
  assertEquals(events, ["update:local"]);
});

Deno.test("connectProvider() loads, forwards peer changes to apply(), and keeps failures for retry", async () => {
  const table = new StateTable({ now: () => 1_700_000_000_000 });
  const applied: string[] = [];
  let failNext = true;
  const provider: StateProvider = {
    name: "fake",
    load: () => Promise.resolve([V5_STATE]),
    onChange: () => () => {},
    apply: (change) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error("kernel said no"));
      }
      applied.push(`${change.type}@${change.peer}`);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  const reports: string[] = [];
  const link = await connectProvider(provider, table, (message) => reports.push(message));
  assertEquals([link.loaded, table.size], [1, 1]);
  table.delete(V5_STATE, { peer: "192.0.2.2" });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(reports, ["fake: applying delete from 192.0.2.2 failed"]);
  assertEquals(link.failed.length, 1);
  assertEquals(await link.retryFailed(), 1);
  assertEquals(applied, ["delete@192.0.2.2"]);
  table.insert(V5_STATE, "local"); // local changes are not applied back
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(applied.length, 1);
  link.disconnect();
});
