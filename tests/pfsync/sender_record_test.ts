/** PfsyncSender.fullUpdateAt(): the bulk walk's copy of table records, byte for byte as fullUpdate(). */
import { assertEquals } from "../helpers/assert.ts";
import { decodeFrame, PFSYNC_ACT_UPD, PfsyncSender } from "../../lib/pfsync/mod.ts";
import { StateTable } from "../../lib/state/mod.ts";
import { SYNC_FLAG_NOSYNC } from "../../lib/state/types.ts";
import { makeState } from "./fixtures.ts";

function filledTable(n: number): StateTable {
  const table = new StateTable({ now: () => 1_700_000_050_000 });
  for (let i = 0; i < n; i++) {
    table.insert(makeState({ creation: 20 + i, expire: 5, updates: 3, syncFlags: 0 }), "local");
  }
  return table;
}

Deno.test("PfsyncSender.fullUpdateAt() sends what fullUpdate() of the same states sends", () => {
  const table = filledTable(13);
  const viaState = new PfsyncSender({ mtu: 1500 });
  const viaSlot = new PfsyncSender({ mtu: 1500 });
  for (let slot = table.nextSlot(0); slot >= 0; slot = table.nextSlot(slot + 1)) {
    viaState.fullUpdate(table.stateAt(slot)!);
    assertEquals(viaSlot.fullUpdateAt(table, slot), true);
  }
  viaState.flushReplies();
  viaSlot.flushReplies();
  const a = viaState.take();
  const b = viaSlot.take();
  assertEquals(a.map((o) => [o.action, o.records]), [[PFSYNC_ACT_UPD, 6], [PFSYNC_ACT_UPD, 6], [
    PFSYNC_ACT_UPD,
    1,
  ]]);
  assertEquals(b.map((o) => o.bytes), a.map((o) => o.bytes));
  const first = decodeFrame(b[0].bytes).message.records[0] as { updates: number; creation: number };
  assertEquals([first.updates, first.creation], [0, 20]);
});

Deno.test("PfsyncSender.fullUpdateAt() skips free slots and NOSYNC states", () => {
  const table = new StateTable({ now: () => 1_700_000_050_000 });
  table.insert(makeState({ syncFlags: SYNC_FLAG_NOSYNC }), "local");
  const kept = makeState();
  table.insert(kept, "local");
  const sender = new PfsyncSender({ mtu: 1500 });
  assertEquals([sender.fullUpdateAt(table, 0), sender.fullUpdateAt(table, 1)], [false, true]);
  assertEquals(sender.fullUpdateAt(table, 2), false);
  assertEquals(sender.pending, 1);
  sender.flushReplies();
  const [out] = sender.take();
  assertEquals((decodeFrame(out.bytes).message.records[0] as { id: bigint }).id, kept.id);
});
