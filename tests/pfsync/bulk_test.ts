/** Bulk update halves with a fake clock: retries, give-up, START/END, paced responder. */
import { assertEquals } from "../helpers/assert.ts";
import {
  type BulkEffect,
  BulkRequester,
  BulkResponder,
  decodeFrame,
  HOLD_REASON,
  PFSYNC_ACT_BUS,
  PFSYNC_ACT_UPD,
  PfsyncSender,
} from "../../lib/pfsync/mod.ts";
import type { BulkStatus } from "../../lib/pfsync/records.ts";
import type { State } from "../../lib/state/types.ts";
import { StateTable } from "../../lib/state/mod.ts";
import { makeState } from "./fixtures.ts";

const kinds = (effects: readonly BulkEffect[]) =>
  effects.filter((e) => e.type !== "log" && e.type !== "finished").map((e) =>
    e.type === "hold" ? `hold:${e.on}` : e.type
  );

Deno.test("BulkRequester retries every 5 s, 12 times, then gives up and releases the hold at 65 s", () => {
  const r = new BulkRequester();
  assertEquals(kinds(r.start(0)), ["hold:true", "request"]);
  const requests: number[] = [];
  let released = -1;
  for (let t = 0; t <= 70_000; t += 100) {
    for (const e of kinds(r.tick(t))) {
      if (e === "request") requests.push(t);
      if (e === "hold:false") released = t;
    }
  }
  assertEquals(requests, Array.from({ length: 12 }, (_, i) => (i + 1) * 5000));
  assertEquals(released, 65_000);
  assertEquals(r.status().outcome, "gave-up");
  assertEquals(r.isPending, false);
});

Deno.test("BulkRequester: BUS START re-arms for the whole table, END from after our request finishes", () => {
  const r = new BulkRequester({ maxRecords: 6, stateLimit: 10000, tickMs: 10 });
  r.start(10_000);
  r.onBusStart(10_500);
  assertEquals(r.nextDeadline(), 10_500 + Math.ceil(10000 / 6) * 10);
  r.onState(11_000);
  r.onState(11_001);
  const done = r.onBusEnd(1, 12_000);
  assertEquals(kinds(done), ["hold:false"]);
  assertEquals(done.find((e) => e.type === "hold"), {
    type: "hold",
    on: false,
    reason: HOLD_REASON,
  });
  assertEquals(r.status(), {
    outcome: "done",
    pending: false,
    tries: 0,
    received: 2,
    holding: false,
    requestedAt: 10_000,
    finishedAt: 12_000,
  });
});

Deno.test("BulkRequester ignores an END whose timestamp predates our request", () => {
  const r = new BulkRequester();
  r.start(100_000);
  assertEquals(kinds(r.onBusEnd(30, 101_000)), []); // served from 71 s: an older bulk
  assertEquals(r.isPending, true);
  assertEquals(kinds(r.onBusEnd(0, 101_000)), ["hold:false"]);
});

Deno.test("BulkRequester: restarting while pending does not stack holds; progress extends the deadline", () => {
  const r = new BulkRequester();
  r.start(0);
  assertEquals(kinds(r.start(1000)), ["request"]);
  r.onState(5_500);
  assertEquals(r.nextDeadline(), 10_500);
  assertEquals(kinds(r.tick(6_000)), []);
});

function responderHarness(count: number, batchPackets = 2, statusWhilePending?: boolean) {
  const table = new StateTable({ now: () => 1_700_000_000_000 });
  for (let i = 0; i < count; i++) {
    table.insert(makeState(), i % 2 ? "local" : { peer: "192.0.2.9" });
  }
  const sender = new PfsyncSender({ mtu: 1500 });
  const responder = new BulkResponder(table, sender, {
    hostId: 0x0badcafe,
    firstDelayMs: 1000,
    tickMs: 10,
    batchPackets,
    statusWhilePending,
  });
  return { table, sender, responder };
}

function updIds(out: { action: number; bytes: Uint8Array }[]): bigint[] {
  return out.filter((o) => o.action === PFSYNC_ACT_UPD)
    .flatMap((o) => (decodeFrame(o.bytes).message.records as State[]).map((s) => s.id));
}

Deno.test("BulkResponder: START, the whole table in paced batches after 1 s, then END", () => {
  const { sender, responder } = responderHarness(30);
  responder.onRequest(5_000, true);
  const start = sender.take();
  assertEquals(start.map((o) => o.action), [PFSYNC_ACT_BUS]);
  assertEquals(decodeFrame(start[0].bytes).message.records[0], {
    creatorId: 0x0badcafe,
    endtime: 0,
    status: 1,
  });
  assertEquals(responder.tick(5_999, true), 0);
  const perTick: number[] = [];
  let t = 6_000;
  while (responder.isActive) {
    perTick.push(responder.tick(t, true));
    t += 10;
  }
  assertEquals(perTick, [12, 12, 6]); // 2 packets × 6 states per tick, learned states included
  const out = sender.take();
  assertEquals(updIds(out).length, 30);
  const end = out[out.length - 1];
  assertEquals(end.action, PFSYNC_ACT_BUS);
  assertEquals(decodeFrame(end.bytes).message.records[0], {
    creatorId: 0x0badcafe,
    endtime: 1,
    status: 2,
  });
});

Deno.test("BulkResponder: a request during a walk wraps around instead of starting over", () => {
  const { table, sender, responder } = responderHarness(30);
  responder.onRequest(0, true);
  responder.tick(1_000, true); // slots 0–11 sent
  responder.onRequest(1_005, true); // a retry: walk on, then wrap to slot 12
  let t = 1_010;
  while (responder.isActive) responder.tick(t += 10, true);
  const ids = updIds(sender.take());
  const all = [...table.states()].map((s) => s.id);
  assertEquals(ids, [...all, ...all.slice(0, 12)]);
});

Deno.test("BulkResponder: an empty table answers END at once", () => {
  const { sender, responder } = responderHarness(0);
  responder.onRequest(0, true);
  assertEquals(responder.isActive, false);
  const out = sender.take();
  assertEquals(out.map((o) => o.action), [PFSYNC_ACT_BUS]);
  assertEquals((decodeFrame(out[0].bytes).message.records[0] as BulkStatus).status, 2);
});

Deno.test("BulkResponder: BUS while our own sync is pending only with statusWhilePending", () => {
  for (
    const [flag, actions] of [[true, [PFSYNC_ACT_BUS, PFSYNC_ACT_UPD, PFSYNC_ACT_BUS]], [false, [
      PFSYNC_ACT_UPD,
    ]]] as const
  ) {
    const { sender, responder } = responderHarness(3, 2, flag);
    responder.onRequest(0, false);
    responder.tick(1000, false);
    assertEquals(sender.take().map((o) => o.action), [...actions], `statusWhilePending ${flag}`);
  }
});
