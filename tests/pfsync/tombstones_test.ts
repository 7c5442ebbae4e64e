/**
 * A delete that overtakes its own state's insert or update on a reordering link must not
 * leave a zombie: the receiver remembers deleted states for a moment (tombstones.ts).
 */
import { assertEquals } from "../helpers/assert.ts";
import { Tombstones } from "../../lib/pfsync/tombstones.ts";
import type { State } from "../../lib/state/types.ts";
import { makeState } from "./fixtures.ts";
import { Segment } from "./sim.ts";

const halves = (id: bigint): [number, number] => [Number(id >> 32n), Number(id & 0xffffffffn)];

Deno.test("Tombstones: remembered for ttlMs, exact on id and creator, bounded", () => {
  const t = new Tombstones(2_000, 3);
  t.add(0x1_0000_0005n, 7, 1_000);
  const cases: [string, bigint, number, number, boolean][] = [
    ["same state, soon", 0x1_0000_0005n, 7, 2_999, true],
    ["same state, expired", 0x1_0000_0005n, 7, 3_000, false],
    ["other creator", 0x1_0000_0005n, 8, 1_500, false],
    ["same low half, other high half", 0x2_0000_0005n, 7, 1_500, false],
    ["other id", 6n, 7, 1_500, false],
  ];
  for (const [what, id, creator, now, want] of cases) {
    assertEquals(t.has(...halves(id), creator, now), want, what);
  }
  for (let i = 10n; i < 14n; i++) t.add(i, 1, 1_100); // capacity 3: the oldest ones leave
  assertEquals(t.size, 3);
  assertEquals(t.has(...halves(0x1_0000_0005n), 7, 1_200), false, "evicted");
  assertEquals(t.has(...halves(13n), 1, 1_200), true);
  t.add(20n, 1, 5_000); // expired ones leave first
  assertEquals(t.size, 1);
});

/** A inserts (or updates) a state and deletes it; B gets the delete first, then the rest. */
function reordered(first: (a: ReturnType<Segment["add"]>, s: State) => void) {
  const seg = new Segment();
  const a = seg.add("A", "10.0.0.1");
  const b = seg.add("B", "10.0.0.2");
  a.engine.start();
  b.engine.start();
  seg.pump();
  seg.run(2_000);
  const held: Uint8Array[] = [];
  seg.tap = (p) => {
    if (p.from !== a) return p.bytes;
    held.push(p.bytes);
    return undefined;
  };
  const state = makeState({ creatorId: 0x10000000 });
  first(a, state);
  seg.run(1_100);
  const before = held.length;
  a.table.delete(state, "local");
  seg.run(1_100);
  seg.tap = undefined;
  const meta = { ttl: 255, onSyncInterface: true, source: "10.0.0.1" };
  for (const p of held.slice(before)) b.engine.receive(meta, p); // the delete first
  for (const p of held.slice(0, before)) b.engine.receive(meta, p);
  seg.run(100);
  return { b, sentByB: 0 };
}

Deno.test("PfsyncEngine: an INS or UPD overtaken by its delete does not create a zombie", () => {
  const cases: [string, (a: ReturnType<Segment["add"]>, s: State) => void][] = [
    ["INS", (a, s) => a.table.insert(s, "local")],
    ["UPD_C of a state B never had", (a, s) => {
      a.table.insert(s, "local");
      a.engine.tick(); // its INS goes out and is lost below with the rest
      a.table.replace({ ...s, expire: s.expire + 10 }, "local");
    }],
  ];
  for (const [what, first] of cases) {
    const { b } = reordered(first);
    assertEquals(b.table.size, 0, `${what}: no state on B`);
    assertEquals(b.engine.stats.stale > 0, true, `${what}: counted as stale`);
  }
});
