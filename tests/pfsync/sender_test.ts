/** PfsyncSender: coalescing, maxupd, packet sizes from the MTU, flush timing, causal order. */
import { assertEquals } from "../helpers/assert.ts";
import {
  decodeFrame,
  type Outgoing,
  PFSYNC_ACT_BUS,
  PFSYNC_ACT_CLR,
  PFSYNC_ACT_DEL,
  PFSYNC_ACT_DEL_C,
  PFSYNC_ACT_INS,
  PFSYNC_ACT_UPD,
  PFSYNC_ACT_UPD_C,
  PFSYNC_ACT_UREQ,
  PfsyncSender,
} from "../../lib/pfsync/mod.ts";
import type { CompressedUpdate } from "../../lib/pfsync/records.ts";
import type { State } from "../../lib/state/types.ts";
import { makeState } from "./fixtures.ts";

function bump(state: State, n: number): State {
  return { ...state, src: { ...state.src, seqlo: state.src.seqlo + n } };
}

const summary = (out: Outgoing[]) => out.map((o) => [o.action, o.records]);

Deno.test("PfsyncSender.update() coalesces N updates of one state within an interval", () => {
  const table: [number, number, number[][], number][] = [
    // [maxupd, updates, packets [action, records] sent by the flush, `updates` byte]
    [128, 1, [[PFSYNC_ACT_UPD_C, 1]], 0],
    [128, 5, [[PFSYNC_ACT_UPD_C, 1]], 4],
    [128, 128, [[PFSYNC_ACT_UPD_C, 1]], 127],
    [0, 3, [[PFSYNC_ACT_UPD_C, 3]], 0],
  ];
  for (const [maxupd, n, packets, updates] of table) {
    const sender = new PfsyncSender({ maxupd, mtu: 1500 });
    const state = makeState();
    for (let i = 0; i < n; i++) sender.update(bump(state, i), 100);
    assertEquals(sender.take(), [], `nothing before the interval (maxupd ${maxupd}, ${n} updates)`);
    sender.tick(1099);
    assertEquals(sender.take(), []);
    sender.tick(1100);
    const out = sender.take();
    assertEquals(summary(out), packets, `maxupd ${maxupd}, ${n} updates`);
    const record = decodeFrame(out[0].bytes).message.records[0] as CompressedUpdate;
    assertEquals(record.updates, updates);
    assertEquals(record.src.seqlo, state.src.seqlo + (maxupd === 0 ? 0 : n - 1), "latest data");
  }
});

Deno.test("PfsyncSender.update() flushes at once when the collapse counter reaches maxupd", () => {
  const table: [number, number, number][] = [[128, 129, 1], [4, 5, 1], [4, 10, 2], [1, 2, 1]];
  for (const [maxupd, n, packets] of table) {
    const sender = new PfsyncSender({ maxupd });
    const state = makeState();
    for (let i = 0; i < n; i++) sender.update(bump(state, i), 0);
    assertEquals(sender.take().length, packets, `maxupd ${maxupd}, ${n} updates`);
  }
});

Deno.test("PfsyncSender sizes packets from the sync interface MTU", () => {
  const table: [number, number, number][] = [[1500, 6, 532], [2048, 9, 796], [576, 2, 180]];
  for (const [mtu, perPacket, updCBytes] of table) {
    const sender = new PfsyncSender({ mtu });
    assertEquals(sender.maxRecords, perPacket);
    for (let i = 0; i < perPacket * 2 + 1; i++) sender.update(makeState(), 0);
    const full = sender.take();
    assertEquals(
      summary(full),
      [[PFSYNC_ACT_UPD_C, perPacket], [PFSYNC_ACT_UPD_C, perPacket]],
      `mtu ${mtu}`,
    );
    assertEquals(full[0].bytes.length, updCBytes);
    sender.tick(1000);
    assertEquals(summary(sender.take()), [[PFSYNC_ACT_UPD_C, 1]]);
  }
});

Deno.test("PfsyncSender compresses updates and deletes only with a sync interface", () => {
  for (
    const [compress, upd, del] of [[true, PFSYNC_ACT_UPD_C, PFSYNC_ACT_DEL_C], [
      false,
      PFSYNC_ACT_UPD,
      PFSYNC_ACT_DEL,
    ]]
  ) {
    const sender = new PfsyncSender({ compress: compress as boolean });
    const a = makeState();
    const b = makeState();
    sender.insert(a, 0);
    sender.update(b, 0);
    sender.delete(makeState(), 0);
    sender.flush();
    assertEquals(summary(sender.take()), [[PFSYNC_ACT_INS, 1], [upd as number, 1], [
      del as number,
      1,
    ]]);
  }
});

Deno.test("PfsyncSender keeps causal order: INS before UPD before DEL", () => {
  const sender = new PfsyncSender({ mtu: 1500 });
  const s = makeState();
  sender.insert(s, 0);
  sender.update(bump(s, 1), 0); // folds into the queued insert
  const others = Array.from({ length: 6 }, () => makeState());
  for (const o of others) sender.delete(o, 0); // DEL queue fills: INS must leave first
  assertEquals(summary(sender.take()), [[PFSYNC_ACT_INS, 1], [PFSYNC_ACT_DEL_C, 6]]);
  const ins = sender;
  ins.update(s, 0);
  ins.delete(s, 0); // a delete drops the still-queued update
  ins.flush();
  assertEquals(summary(ins.take()), [[PFSYNC_ACT_DEL_C, 1]]);
});

Deno.test("PfsyncSender: insert folds later updates; re-insert after a queued delete flushes first", () => {
  const sender = new PfsyncSender();
  const s = makeState();
  sender.insert(s, 0);
  sender.update(bump(s, 7), 0);
  sender.flush();
  const out = sender.take();
  assertEquals(summary(out), [[PFSYNC_ACT_INS, 1]]);
  assertEquals((decodeFrame(out[0].bytes).message.records[0] as State).src.seqlo, s.src.seqlo + 7);
  sender.delete(s, 0);
  sender.insert(s, 0);
  assertEquals(summary(sender.take()), [[PFSYNC_ACT_DEL_C, 1]]);
});

Deno.test("PfsyncSender never announces NOSYNC states", () => {
  const sender = new PfsyncSender();
  const s = makeState({ syncFlags: 0x01 });
  sender.insert(s, 0);
  sender.update(s, 0);
  sender.delete(s, 0);
  sender.flush();
  assertEquals(sender.take(), []);
});

Deno.test("PfsyncSender out-of-band messages flush pending records first", () => {
  const sender = new PfsyncSender();
  sender.update(makeState(), 0);
  sender.clear({ ifname: "", creatorId: 1 });
  sender.update(makeState(), 0);
  sender.bulkStatus({ creatorId: 1, endtime: 0, status: 1 });
  sender.bulkRequest();
  assertEquals(summary(sender.take()), [
    [PFSYNC_ACT_UPD_C, 1],
    [PFSYNC_ACT_CLR, 1],
    [PFSYNC_ACT_UPD_C, 1],
    [PFSYNC_ACT_BUS, 1],
    [PFSYNC_ACT_UREQ, 1],
  ]);
});

Deno.test("PfsyncSender.requestState() batches UREQs per destination, unicast", () => {
  const sender = new PfsyncSender();
  sender.requestState({ id: 1n, creatorId: 2 }, "192.0.2.1");
  sender.requestState({ id: 2n, creatorId: 2 }, "192.0.2.1");
  sender.requestState({ id: 3n, creatorId: 2 }, "192.0.2.2");
  sender.flushReplies();
  const out = sender.take();
  assertEquals(out.map((o) => [o.action, o.records, o.to]), [
    [PFSYNC_ACT_UREQ, 2, "192.0.2.1"],
    [PFSYNC_ACT_UREQ, 1, "192.0.2.2"],
  ]);
});

Deno.test("PfsyncSender.fullUpdate() sends uncompressed UPDs to the default destination", () => {
  const sender = new PfsyncSender({ mtu: 1500 });
  for (let i = 0; i < 7; i++) sender.fullUpdate(makeState());
  sender.flushReplies();
  assertEquals(sender.take().map((o) => [o.action, o.records, o.to]), [
    [PFSYNC_ACT_UPD, 6, undefined],
    [PFSYNC_ACT_UPD, 1, undefined],
  ]);
});

Deno.test("PfsyncSender rejects maxupd outside 0–255", () => {
  for (const maxupd of [-1, 256, 1.5]) {
    let threw = false;
    try {
      new PfsyncSender({ maxupd });
    } catch (error) {
      threw = error instanceof RangeError;
    }
    assertEquals(threw, true, `maxupd ${maxupd}`);
  }
});
