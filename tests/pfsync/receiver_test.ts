/** PfsyncReceiver: admission order, per-action processing, stale handling, UREQ generation. */
import { assertEquals } from "../helpers/assert.ts";
import { fromHex } from "../../lib/bytes/mod.ts";
import {
  decodeFrame,
  encodeFrame,
  PFSYNC_ACT_BUS,
  PFSYNC_ACT_CLR,
  PFSYNC_ACT_DEL,
  PFSYNC_ACT_DEL_C,
  PFSYNC_ACT_INS,
  PFSYNC_ACT_UPD,
  PFSYNC_ACT_UPD_C,
  PFSYNC_ACT_UREQ,
  type PfsyncStats,
} from "../../lib/pfsync/mod.ts";
import type { CompressedUpdate } from "../../lib/pfsync/records.ts";
import type { State } from "../../lib/state/types.ts";
import { dump, V1, V2, V5, V5_STATE } from "./fixtures.ts";
import { META, PEER, receiverHarness } from "./harness.ts";
import { makeState } from "./fixtures.ts";

const nonZero = (stats: PfsyncStats) =>
  Object.fromEntries(Object.entries(stats).filter(([, v]) => v !== 0));

function upd(records: State[]) {
  return encodeFrame({ action: PFSYNC_ACT_UPD, records });
}

function updC(state: State, changes: Partial<CompressedUpdate> = {}) {
  const record: CompressedUpdate = {
    id: state.id,
    creatorId: state.creatorId,
    src: state.src,
    dst: state.dst,
    expire: 0,
    timeout: state.timeout,
    updates: 0,
    ...changes,
  };
  return encodeFrame({ action: PFSYNC_ACT_UPD_C, records: [record] });
}

Deno.test("PfsyncReceiver.receive() admission checks run in spec order and count by name", () => {
  const v5 = fromHex(dump(V5));
  const withVersion3 = v5.slice();
  withVersion3[0] = 3;
  const table: [string, Partial<typeof META>, Uint8Array, Record<string, number>][] = [
    ["wrong interface (and bad TTL)", { onSyncInterface: false, ttl: 1 }, v5, {
      ipackets: 1,
      badif: 1,
    }],
    ["TTL 254", { ttl: 254 }, v5, { ipackets: 1, badttl: 1 }],
    ["3 bytes", {}, v5.subarray(0, 3), { ipackets: 1, hdrops: 1 }],
    ["version 3", {}, withVersion3, { ipackets: 1, badver: 1 }],
    ["action 10", {}, fromHex("02000a01" + "00".repeat(16)), { ipackets: 1, badact: 1 }],
    ["INS minus one byte", {}, v5.subarray(0, v5.length - 1), { ipackets: 1, badlen: 1 }],
    ["good INS", {}, v5, { ipackets: 1 }],
  ];
  for (const [name, meta, bytes, counters] of table) {
    const h = receiverHarness();
    h.receive(bytes, { ...META, ...meta });
    assertEquals(nonZero(h.stats), counters, name);
    assertEquals(h.table.size, name === "good INS" ? 1 : 0, name);
  }
});

Deno.test("PfsyncReceiver drops everything silently without a sync interface", () => {
  const h = receiverHarness({ enabled: false });
  const result = h.receive(fromHex(dump(V5)));
  assertEquals(result.verdict, { accepted: false, reason: "disabled" });
  assertEquals(nonZero(h.stats), { ipackets: 1 });
  assertEquals(h.table.size, 0);
});

Deno.test("PfsyncReceiver INS: invalid values are badstate per record, the rest is inserted", () => {
  const good = makeState();
  const table: [string, Partial<State>][] = [
    ["timeout 20", { timeout: 20 }],
    ["direction 3", { direction: 3 }],
    ["src.state 13", { src: { ...V5_STATE.src, state: 13 } }],
    ["af 24 on a FreeBSD host", { af: 24 }],
  ];
  for (const [name, change] of table) {
    const h = receiverHarness();
    const bad = makeState(change);
    h.receive(encodeFrame({ action: PFSYNC_ACT_INS, records: [bad, good] }));
    assertEquals(nonZero(h.stats), { ipackets: 1, badstate: 1 }, name);
    assertEquals([h.table.has(bad), h.table.has(good)], [false, true], name);
  }
});

Deno.test("PfsyncReceiver INS: learned states carry the peer origin, no counters, and are never re-sent", () => {
  const h = receiverHarness();
  h.receive(fromHex(dump(V5)));
  const stored = h.table.get(V5_STATE)!;
  assertEquals([stored.packets, stored.bytes, stored.creation], [[0, 0], [0, 0], 120]);
  assertEquals(h.table.originOf(V5_STATE), { peer: PEER });
  h.receive(fromHex(dump(V5))); // the same state again: harmless, not counted
  assertEquals(nonZero(h.stats), { ipackets: 2 });
  h.sender.flush();
  assertEquals(h.sender.take(), []);
});

Deno.test("PfsyncReceiver INS: a different state holding the same flow is a failed insert (badstate)", () => {
  const h = receiverHarness();
  const first = makeState();
  const sameFlow = { ...first, id: first.id + 1000n };
  h.receive(encodeFrame({ action: PFSYNC_ACT_INS, records: [first] }));
  h.receive(encodeFrame({ action: PFSYNC_ACT_INS, records: [first] })); // the same state: harmless
  assertEquals(nonZero(h.stats), { ipackets: 2 });
  h.receive(encodeFrame({ action: PFSYNC_ACT_INS, records: [sameFlow] }));
  assertEquals(nonZero(h.stats), { ipackets: 3, badstate: 1 });
  assertEquals([h.table.has(first), h.table.has(sameFlow)], [true, false]);
});

Deno.test("PfsyncReceiver UPD: updates known states, inserts unknown ones, counts bulk progress", () => {
  const h = receiverHarness();
  const known = makeState();
  h.table.insert(known, "local");
  const newer = { ...known, src: { ...known.src, seqlo: known.src.seqlo + 100 }, timeout: 3 };
  const unknown = makeState();
  h.requester.start(h.clock.ms);
  h.receive(upd([newer, unknown]));
  assertEquals(h.table.get(known)?.src.seqlo, newer.src.seqlo);
  assertEquals(h.table.get(known)?.timeout, 3);
  assertEquals(h.table.has(unknown), true);
  assertEquals(h.requester.status().received, 2);
  assertEquals(nonZero(h.stats), { ipackets: 1 });
});

Deno.test("PfsyncReceiver UPD_C for an unknown state: badstate and one unicast UREQ to the sender", () => {
  const h = receiverHarness();
  const a = makeState();
  const b = makeState();
  h.receive(encodeFrame({
    action: PFSYNC_ACT_UPD_C,
    records: [a, b].map((s) => ({
      id: s.id,
      creatorId: s.creatorId,
      src: s.src,
      dst: s.dst,
      expire: 0,
      timeout: 2,
      updates: 0,
    })),
  }));
  assertEquals(nonZero(h.stats), { ipackets: 1, badstate: 2 });
  const out = h.sender.take();
  assertEquals(out.map((o) => [o.action, o.records, o.to]), [[PFSYNC_ACT_UREQ, 2, PEER]]);
  assertEquals(decodeFrame(out[0].bytes).message.records, [
    { id: a.id, creatorId: a.creatorId },
    { id: b.id, creatorId: b.creatorId },
  ]);
});

Deno.test("PfsyncReceiver stale updates are refused and answered with our newer state", () => {
  const base = makeState({
    src: { ...V5_STATE.src, seqlo: 1000 },
    dst: { ...V5_STATE.dst, seqlo: 5000 },
  });
  const older = (src: number, dst: number, srcState = 4, dstState = 4): State => ({
    ...base,
    src: { ...base.src, seqlo: src, state: srcState },
    dst: { ...base.dst, seqlo: dst, state: dstState },
  });
  const table: [string, "full" | "compressed", State, boolean, number][] = [
    // [name, form, incoming, stale?, sync_flags of our reply]
    ["UPD_C src.seqlo behind", "compressed", older(900, 5000), true, 0x04],
    ["UPD_C dst.seqlo behind", "compressed", older(1000, 4000), true, 0x04],
    ["UPD_C src.state behind", "compressed", older(1000, 5000, 2), true, 0x04],
    ["UPD_C fresh", "compressed", older(1100, 5100), false, 0],
    ["UPD_C seq wraps forward", "compressed", older(1000, 5000 + 0x7fffffff), false, 0],
    ["UPD src.seqlo behind", "full", older(900, 5000), true, 0x04],
    ["UPD dst.state behind: partial, no STALE flag", "full", older(1100, 5000, 4, 2), true, 0],
    ["UPD fresh", "full", older(1100, 5100), false, 0],
  ];
  for (const [name, form, incoming, stale, flags] of table) {
    const h = receiverHarness();
    h.table.insert(base, "local");
    h.receive(form === "full" ? upd([incoming]) : updC(incoming));
    const out = h.sender.take();
    assertEquals(h.stats.stale, stale ? 1 : 0, name);
    assertEquals(out.length, stale ? 1 : 0, name);
    if (stale) {
      const reply = decodeFrame(out[0].bytes).message;
      assertEquals(reply.action, PFSYNC_ACT_UPD, name);
      assertEquals((reply.records[0] as State).syncFlags, flags, name);
      assertEquals((reply.records[0] as State).dst.seqlo, 5000, name);
    }
    const kept = h.table.get(base)!;
    const partial = name.includes("partial");
    assertEquals(kept.src.seqlo, stale && !partial ? 1000 : incoming.src.seqlo, name);
  }
});

Deno.test("PfsyncReceiver: a stale reply that is itself marked STALE is not answered (no ping-pong)", () => {
  const h = receiverHarness();
  const base = makeState();
  h.table.insert(base, "local");
  h.receive(upd([{ ...base, src: { ...base.src, seqlo: base.src.seqlo - 10 }, syncFlags: 0x04 }]));
  assertEquals(h.stats.stale, 1);
  assertEquals(h.sender.take(), []);
});

Deno.test("PfsyncReceiver with stale detection off overwrites like 5.4", () => {
  const h = receiverHarness({ staleDetection: false });
  const base = makeState();
  h.table.insert(base, "local");
  h.receive(updC({ ...base, src: { ...base.src, seqlo: base.src.seqlo - 10 } }));
  assertEquals(h.table.get(base)?.src.seqlo, base.src.seqlo - 10);
  assertEquals(h.stats.stale, 0);
});

Deno.test("PfsyncReceiver DEL and DEL_C remove known states; unknown ones are badstate", () => {
  for (const action of [PFSYNC_ACT_DEL, PFSYNC_ACT_DEL_C]) {
    const h = receiverHarness();
    const a = makeState();
    h.table.insert(a, "local");
    const records = [a, makeState()];
    h.receive(
      action === PFSYNC_ACT_DEL ? encodeFrame({ action, records }) : encodeFrame({
        action: PFSYNC_ACT_DEL_C,
        records: records.map((s) => ({ id: s.id, creatorId: s.creatorId })),
      }),
    );
    assertEquals(h.table.size, 0);
    assertEquals(nonZero(h.stats), { ipackets: 1, badstate: 1 });
    h.sender.flush();
    assertEquals(h.sender.take(), [], "deletes learned from the network are not echoed");
  }
});

Deno.test("PfsyncReceiver CLR removes the creator's states without echo", () => {
  const h = receiverHarness();
  const mine = makeState({ creatorId: 1 });
  const theirs = makeState({ creatorId: 0x0badcafe });
  h.table.insert(mine, "local");
  h.table.insert(theirs, { peer: PEER });
  h.receive(
    encodeFrame({ action: PFSYNC_ACT_CLR, records: [{ ifname: "", creatorId: 0x0badcafe }] }),
  );
  assertEquals([h.table.has(mine), h.table.has(theirs)], [true, false]);
  h.sender.flush();
  assertEquals(h.sender.take(), []);
});

Deno.test("PfsyncReceiver UREQ: known states answered with full UPDs, unknown counted, zero starts a bulk", () => {
  const h = receiverHarness();
  const a = makeState();
  h.table.insert(a, "local");
  h.receive(encodeFrame({
    action: PFSYNC_ACT_UREQ,
    records: [{ id: a.id, creatorId: a.creatorId }, { id: 77n, creatorId: 1 }],
  }));
  const out = h.sender.take();
  assertEquals(out.map((o) => [o.action, o.records, o.to]), [[PFSYNC_ACT_UPD, 1, undefined]]);
  assertEquals(h.stats.badstate, 1);
  h.receive(fromHex(V1));
  assertEquals(h.responder.isActive, true);
  assertEquals(h.sender.take().map((o) => o.action), [PFSYNC_ACT_BUS]);
});

Deno.test("PfsyncReceiver ignores BUS unless a bulk update is pending, even before the length check", () => {
  const h = receiverHarness();
  const short = fromHex(V2).subarray(0, 10);
  assertEquals(h.receive(short).verdict, { accepted: false, reason: "bus-ignored" });
  assertEquals(nonZero(h.stats), { ipackets: 1 });
  h.requester.start(h.clock.ms);
  h.receive(short);
  assertEquals(nonZero(h.stats), { ipackets: 2, badlen: 1 });
  const result = h.receive(fromHex(V2));
  assertEquals(result.verdict, { accepted: true, action: PFSYNC_ACT_BUS, records: 1 });
});
