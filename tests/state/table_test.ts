/** StateTable: both keys, events with origin, compact storage under churn. */
import { assertEquals } from "../helpers/assert.ts";
import { StateTable, type TableEvent } from "../../lib/state/mod.ts";
import { makeState, V5_STATE } from "../pfsync/fixtures.ts";

function clockAt(ms: number) {
  const clock = { ms, now: () => clock.ms };
  return clock;
}

Deno.test("StateTable.insert() indexes by (id, creatorid) and by flow; refuses duplicates of either", () => {
  const table = new StateTable({ now: () => 1_700_000_000_000 });
  assertEquals(table.insert(V5_STATE, "local"), true);
  assertEquals(table.size, 1);
  assertEquals(table.get(V5_STATE), V5_STATE);
  assertEquals(table.get({ id: V5_STATE.id, creatorId: 1 }), undefined);
  const cases: [string, typeof V5_STATE, boolean][] = [
    ["same key", { ...V5_STATE, lan: { addr: "192.0.2.99", port: 1 } }, false],
    ["same flow, new id", { ...V5_STATE, id: 99n }, false],
    ["same flow, other proto", { ...V5_STATE, id: 99n, proto: 17 }, true],
    [
      "same id, other creator",
      { ...V5_STATE, creatorId: 7, lan: { addr: "192.0.2.5", port: 5 } },
      true,
    ],
  ];
  for (const [name, state, inserted] of cases) {
    assertEquals(table.insert(state, "local"), inserted, name);
  }
  assertEquals(table.size, 3);
  const flow = { af: 2, proto: 6, lan: V5_STATE.lan, ext: V5_STATE.ext };
  assertEquals(table.findFlow(flow)?.id, V5_STATE.id);
  assertEquals(table.findFlow({ ...flow, ext: { addr: "198.51.100.7", port: 81 } }), undefined);
});

Deno.test("StateTable keeps absolute times: creation is an age, expire a remaining time", () => {
  const clock = clockAt(1_000_000);
  const table = new StateTable({ now: clock.now });
  table.insert({ ...V5_STATE, creation: 120, expire: 0 }, "local");
  clock.ms += 30_000;
  const state = table.get(V5_STATE)!;
  assertEquals([state.creation, state.expire], [150, 0]);
  assertEquals(table.idleSeconds(V5_STATE), 30);
  table.patch(V5_STATE, { expire: 0 }, { peer: "192.0.2.1" });
  assertEquals(table.idleSeconds(V5_STATE), 0);
});

Deno.test("StateTable emits events tagged with their origin", () => {
  const table = new StateTable({ now: () => 1_700_000_000_000 });
  const events: [string, string][] = [];
  const off = table.on((e: TableEvent) =>
    events.push([e.type, e.origin === "local" ? "local" : e.origin.peer])
  );
  const peer = { peer: "192.0.2.2" };
  table.insert(V5_STATE, peer);
  assertEquals(table.originOf(V5_STATE), peer);
  table.patch(V5_STATE, { src: { ...V5_STATE.src, seqlo: 5 }, timeout: 3 }, "local");
  assertEquals(table.originOf(V5_STATE), "local");
  assertEquals(table.get(V5_STATE)?.src.seqlo, 5);
  assertEquals(table.get(V5_STATE)?.timeout, 3);
  table.replace({ ...V5_STATE, packets: [1, 2] }, peer);
  table.delete(V5_STATE, peer);
  assertEquals(table.delete(V5_STATE, peer), undefined);
  off();
  table.insert(V5_STATE, "local");
  assertEquals(events, [["insert", "192.0.2.2"], ["update", "local"], ["update", "192.0.2.2"], [
    "delete",
    "192.0.2.2",
  ]]);
});

Deno.test("StateTable.replace() moves the flow index when hosts change", () => {
  const table = new StateTable({ now: () => 1_700_000_000_000 });
  table.insert(V5_STATE, "local");
  const moved = {
    ...V5_STATE,
    lan: { addr: "192.0.2.50", port: 5000 },
    gwy: { addr: "192.0.2.50", port: 5000 },
  };
  assertEquals(table.replace(moved, "local"), true);
  assertEquals(
    table.findFlow({ af: 2, proto: 6, lan: V5_STATE.lan, ext: V5_STATE.ext }),
    undefined,
  );
  assertEquals(
    table.findFlow({ af: 2, proto: 6, lan: moved.lan, ext: moved.ext })?.id,
    V5_STATE.id,
  );
  assertEquals(table.replace({ ...V5_STATE, id: 5n }, "local"), false);
});

Deno.test("StateTable.clearCreator() removes one creator's states, optionally per interface", () => {
  const table = new StateTable({ now: () => 1_700_000_000_000 });
  const a1 = makeState({ creatorId: 1, ifname: "em0" });
  const a2 = makeState({ creatorId: 1, ifname: "em1" });
  const b1 = makeState({ creatorId: 2, ifname: "em0" });
  for (const s of [a1, a2, b1]) table.insert(s, "local");
  assertEquals(table.clearCreator(1, "em0", { peer: "x" }), 1);
  assertEquals([table.has(a1), table.has(a2), table.has(b1)], [false, true, true]);
  assertEquals(table.clearCreator(1, "", { peer: "x" }), 1);
  assertEquals(table.clearCreator(3, "", { peer: "x" }), 0);
  assertEquals([...table.states()].map((s) => s.id), [b1.id]);
});

Deno.test("StateTable survives churn across chunks and index growth", () => {
  const table = new StateTable({ initialCapacity: 16 });
  const states = Array.from({ length: 40_000 }, (_, i) => makeState({ creatorId: i % 3 }));
  for (const s of states) assertEquals(table.insert(s, "local"), true);
  for (let i = 0; i < states.length; i += 2) {
    assertEquals(table.delete(states[i], "local")?.id, states[i].id);
  }
  assertEquals(table.size, 20_000);
  const fresh = Array.from({ length: 20_000 }, () => makeState());
  for (const s of fresh) assertEquals(table.insert(s, "local"), true);
  assertEquals(table.size, 40_000);
  for (let i = 1; i < states.length; i += 2) assertEquals(table.get(states[i])?.lan, states[i].lan);
  for (const s of fresh) assertEquals(table.has(s), true);
  for (let i = 0; i < states.length; i += 2) assertEquals(table.has(states[i]), false);
  let walked = 0;
  for (let slot = table.nextSlot(0); slot >= 0; slot = table.nextSlot(slot + 1)) walked++;
  assertEquals(walked, 40_000);
  // Slabs come in 16384-record chunks, so a small table carries some slack.
  const perState = table.byteLength / table.size;
  assertEquals(perState > 224 && perState < 350, true, `${perState} bytes a state`);
});

Deno.test("StateTable.purgeExpired() removes states idle past their pf timeout, in slices", () => {
  const clock = clockAt(1_000_000_000);
  const table = new StateTable({ now: clock.now });
  const udp = makeState({ proto: 17, timeout: 8 }); // udp.multiple: 60 s
  const tcp = makeState({ timeout: 2 }); // tcp.established: 86400 s
  const adaptive = makeState({ timeout: 16 }); // no default value: never expires
  for (const s of [udp, tcp, adaptive]) table.insert(s, { peer: "192.0.2.2" });
  const deletes: string[] = [];
  table.on((e) => deletes.push(`${e.type}:${e.origin === "local" ? "local" : "peer"}`));
  clock.ms += 60_000;
  assertEquals(table.purgeExpired(), 0, "60 s idle is not past 60 s");
  clock.ms += 1_000;
  assertEquals(table.purgeExpired(1), 1, "the first slot is the UDP state");
  assertEquals(table.has(udp), false);
  clock.ms += 86_400_000;
  assertEquals(table.purgeExpired(1), 1);
  assertEquals(table.purgeExpired(), 0);
  assertEquals([table.has(tcp), table.has(adaptive)], [false, true]);
  assertEquals(deletes, ["delete:local", "delete:local"]);
});

Deno.test("StateTable.replace() with an unencodable state leaves the stored one intact", () => {
  const table = new StateTable({ now: () => 1_700_000_000_000 });
  table.insert(V5_STATE, "local");
  let threw = false;
  try {
    table.replace({ ...V5_STATE, ext: { addr: "bogus", port: 1 } }, "local");
  } catch (error) {
    threw = error instanceof RangeError;
  }
  assertEquals(threw, true);
  assertEquals(table.get(V5_STATE), V5_STATE);
});
