/**
 * The StateTable's record paths (the pfsync receive and bulk-walk fast paths):
 * insertRecord(), lazily built insert events, wireRecordAt(), and index
 * growth rebuilt in slot order.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  decodeStateRecord,
  encodeStateRecord,
  generatedState,
  STATE_RECORD_SIZE,
  StateTable,
  type TableEvent,
} from "../../lib/state/mod.ts";
import { OFF } from "../../lib/state/record.ts";
import { SlotIndex } from "../../lib/state/index.ts";

let clock = 1_700_000_000_000;
const table = () => new StateTable({ now: () => clock, initialCapacity: 16 });
const state = (k: number, creation = 30, expire = 50) => ({
  ...generatedState(k, 1, 0x5a00000000n + BigInt(k), 0x0badcafe),
  creation,
  expire,
});

Deno.test("StateTable.insertRecord() stores a wire record as it is; get() gives the state back", () => {
  const t = table();
  const s = state(1);
  assertEquals(t.insertRecord(encodeStateRecord(s), { peer: "10.0.0.2" }), true);
  assertEquals(t.get(s), s);
  assertEquals(t.originOf(s), { peer: "10.0.0.2" });
  assertEquals(t.findFlow(s)?.id, s.id);
});

Deno.test("StateTable.insertRecord() refuses a known id or a taken flow, and a record of the wrong size", () => {
  const t = table();
  const s = state(2);
  t.insertRecord(encodeStateRecord(s), "local");
  const events: TableEvent[] = [];
  t.on((e) => events.push(e));
  assertEquals(
    t.insertRecord(encodeStateRecord({ ...s, lan: { addr: "10.9.9.9", port: 1 } }), "local"),
    false,
    "same id",
  );
  assertEquals(t.insertRecord(encodeStateRecord({ ...s, id: 99n }), "local"), false, "same flow");
  assertEquals([t.size, events.length], [1, 0]);
  assertThrows(() => t.insertRecord(new Uint8Array(STATE_RECORD_SIZE - 1), "local"), RangeError);
});

Deno.test("StateTable.insertRecord() emits an insert whose state is built once, when read", () => {
  const t = table();
  const s = state(3);
  const seen: TableEvent[] = [];
  t.on((e) => seen.push(e));
  t.insertRecord(encodeStateRecord(s), { peer: "10.0.0.2" });
  assertEquals(seen.length, 1);
  const [event] = seen;
  assertEquals([event.type, event.origin], ["insert", { peer: "10.0.0.2" }]);
  assertEquals(event.state, s);
  assert(event.state === event.state, "built once");
  // insert() with a State hands that very object to listeners.
  const other = state(4);
  t.insert(other, "local");
  assert(seen[1].state === other);
});

Deno.test("StateTable.wireRecordAt() writes the stored record with creation and expire as get() has them", () => {
  const t = table();
  const s = state(5, 100, 40);
  t.insert(s, "local");
  clock += 7_000;
  const out = new Uint8Array(8 + STATE_RECORD_SIZE);
  const view = new DataView(out.buffer);
  const slot = t.nextSlot(0);
  assertEquals(t.wireRecordAt(slot, out, 8, view), true);
  const wire = decodeStateRecord(out, 8);
  assertEquals(wire, t.get(s));
  assertEquals([wire.creation, wire.expire], [107, 33]);
  assertEquals(out[8 + OFF.updates], 0);
  assertEquals(t.wireRecordAt(slot + 1, out, 8, view), false, "a free slot");
  t.delete(s, "local");
  assertEquals(t.wireRecordAt(slot, out, 8, view), false, "a released slot");
});

Deno.test("StateTable keeps every key findable across index growth, deletes and flow moves", () => {
  const t = table();
  const n = 20_000;
  for (let k = 0; k < n; k++) {
    const s = state(k);
    if (k % 2) t.insert(s, "local");
    else t.insertRecord(encodeStateRecord(s), { peer: "10.0.0.2" });
    if (k % 7 === 3) t.delete(state(k - 1), "local"); // tombstones between growths
    if (k % 11 === 5) t.replace({ ...s, ext: { addr: "203.0.113.9", port: k } }, "local");
  }
  let expected = 0;
  for (let k = 0; k < n; k++) {
    const deleted = (k + 1) % 7 === 3;
    const moved = k % 11 === 5;
    const s = state(k);
    assertEquals(t.has(s), !deleted, `state ${k}`);
    if (deleted) continue;
    expected++;
    const flow = moved ? { ...s, ext: { addr: "203.0.113.9", port: k } } : s;
    assertEquals(t.findFlow(flow)?.id, s.id, `flow of state ${k}`);
    if (moved) assertEquals(t.findFlow(s), undefined, `old flow of state ${k}`);
  }
  assertEquals(t.size, expected);
});

Deno.test("SlotIndex packs a 7-bit hash tag with the slot and refuses slots past 2^24 - 1", () => {
  const index = new SlotIndex(4);
  const hashOf = (slot: number) => Math.imul(slot + 1, 0x9e3779b1) >>> 0;
  for (let slot = 0; slot < 1000; slot++) index.add(hashOf(slot), slot, hashOf);
  for (let slot = 0; slot < 1000; slot += 37) {
    assertEquals(index.find(hashOf(slot), (s) => s === slot), slot);
  }
  // A probe never offers a slot whose tag differs: 1 in 128 others reach the key compare.
  let compared = 0;
  index.find(0x12345678, () => (compared++, false));
  assert(compared <= 2, `${compared} records compared for an absent key`);
  assertEquals(index.remove(hashOf(5), 5), true);
  assertEquals(index.find(hashOf(5), (s) => s === 5), -1);
  assertEquals(index.size, 999);
  assertThrows(() => index.add(1, 0xffffff, hashOf), RangeError);
});
