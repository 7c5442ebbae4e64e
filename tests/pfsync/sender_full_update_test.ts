/**
 * Local updates that change what UPD_C cannot carry (a conntrack mark or status under LX1,
 * a rule number) go out as full UPDs: the table flags them, the sender queues them apart.
 */
import { assertEquals } from "../helpers/assert.ts";
import {
  decodeFrame,
  type Outgoing,
  PFSYNC_ACT_DEL_C,
  PFSYNC_ACT_UPD,
  PFSYNC_ACT_UPD_C,
  PfsyncSender,
} from "../../lib/pfsync/mod.ts";
import { StateTable, type TableEvent } from "../../lib/state/table.ts";
import type { State } from "../../lib/state/types.ts";
import { makeState } from "./fixtures.ts";
import { Segment } from "./sim.ts";

const summary = (out: Outgoing[]) => out.map((o) => [o.action, o.records]);

Deno.test("StateTable.replace() flags updates that change fields UPD_C does not carry", () => {
  const base = makeState();
  const cases: [string, (s: State) => State, boolean][] = [
    ["TCP window (in UPD_C)", (s) => ({ ...s, src: { ...s.src, seqlo: s.src.seqlo + 1 } }), false],
    ["expire (in UPD_C)", (s) => ({ ...s, expire: s.expire + 30 }), false],
    ["packet counters (never sent in updates)", (s) => ({ ...s, packets: [9, 9] }), false],
    ["mark (rule)", (s) => ({ ...s, rule: s.rule + 1 }), true],
    ["status (anchor)", (s) => ({ ...s, anchor: s.anchor ^ 4 }), true],
    ["zone (nat_rule)", (s) => ({ ...s, natRule: s.natRule + 0x10000 }), true],
    ["log", (s) => ({ ...s, log: s.log ^ 1 }), true],
    ["direction", (s) => ({ ...s, direction: s.direction ^ 1 }), true],
  ];
  for (const [what, change, full] of cases) {
    const table = new StateTable();
    table.insert(base, "local");
    const events: TableEvent[] = [];
    table.on((e) => events.push(e));
    table.replace(change(base), "local");
    const event = events[0];
    assertEquals(event.type, "update", what);
    assertEquals(event.type === "update" && event.full === true, full, what);
  }
});

Deno.test("PfsyncSender sends a full local update as UPD, folding the state's pending UPD_C", () => {
  const a = makeState();
  const b = makeState();
  const sender = new PfsyncSender({ mtu: 1500 });
  sender.update(a, 0); // UPD_C pending
  sender.update(b, 0);
  sender.update({ ...a, rule: 7 }, 10, true); // a's mark changed: a leaves the UPD_C queue
  sender.update({ ...a, rule: 7, expire: 99 }, 20); // later plain update stays full
  sender.tick(1000); // b's UPD_C is due; a went to the full queue at 10
  sender.tick(1010);
  const out = sender.take();
  assertEquals(summary(out), [[PFSYNC_ACT_UPD_C, 1], [PFSYNC_ACT_UPD, 1]]);
  const full = decodeFrame(out[1].bytes).message.records[0] as State;
  assertEquals([full.id, full.rule, full.expire, full.updates], [a.id, 7, 99, 2]);

  // A delete drops a pending full update as it drops a pending UPD_C.
  sender.update({ ...b, rule: 3 }, 2000, true);
  sender.delete(b, 2001);
  sender.flush();
  assertEquals(summary(sender.take()), [[PFSYNC_ACT_DEL_C, 1]]);
});

Deno.test("PfsyncSender without compression ignores the full flag (every update is an UPD)", () => {
  const sender = new PfsyncSender({ compress: false });
  const a = makeState();
  sender.update(a, 0);
  sender.update({ ...a, rule: 5 }, 0, true);
  sender.flush();
  assertEquals(summary(sender.take()), [[PFSYNC_ACT_UPD, 1]]);
});

Deno.test("PfsyncEngine: a mark (rule) or status (anchor) changed on A reaches B's table", () => {
  const seg = new Segment();
  const a = seg.add("A", "10.0.0.1");
  const b = seg.add("B", "10.0.0.2");
  a.engine.start();
  b.engine.start();
  seg.pump();
  seg.run(2_000);
  const state = makeState({ creatorId: 0x10000000, rule: 1, anchor: 0x8 });
  a.table.insert(state, "local");
  seg.run(1_100);
  assertEquals(b.table.get(state)?.rule, 1);
  const changes: [string, Partial<State>][] = [
    ["mark", { rule: 0x2a }],
    ["status", { anchor: 0x8 | 0x4 }],
    ["window only (UPD_C) keeps them", { src: { ...state.src, seqlo: state.src.seqlo + 5 } }],
  ];
  let current = state;
  for (const [what, change] of changes) {
    current = { ...current, ...change };
    a.table.replace(current, "local");
    seg.run(1_100);
    const got = b.table.get(state);
    assertEquals([got?.rule, got?.anchor], [current.rule, current.anchor], what);
  }
});
