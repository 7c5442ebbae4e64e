/**
 * Healing after loss: HealScheduler's timing (debounce, maximum wait, rate
 * limit with back-off), and the engine end to end on a simulated segment —
 * the stale purge at the end of a bulk update, lost packets noticed by their
 * sequence trailer (beacon included) that request a bulk update, reordering
 * that is not loss, and plain version 2 when the sequence is off.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  HealScheduler,
  PFSYNC_ACT_DEL_C,
  PFSYNC_ACT_INS,
  PFSYNC_ACT_UREQ,
} from "../../lib/pfsync/mod.ts";
import type { TableEvent } from "../../lib/state/table.ts";
import type { State } from "../../lib/state/types.ts";
import { makeState } from "./fixtures.ts";
import { isBeacon, Segment, type SimNode, tableSummary } from "./sim.ts";

Deno.test("HealScheduler: due after a quiet spell, or the maximum wait when loss never stops", () => {
  const h = new HealScheduler({ quietMs: 1_000, maxWaitMs: 5_000, minIntervalMs: 2_000 });
  assertEquals(h.nextDeadline(), undefined);
  h.onLoss(0, 0);
  assertEquals(h.nextDeadline(), undefined, "nothing lost");
  h.onLoss(2, 100);
  h.onLoss(1, 600);
  assertEquals([h.pendingLoss, h.nextDeadline()], [3, 1_600]);
  assertEquals(h.poll(1_599, false), undefined);
  assertEquals(h.poll(1_600, true), undefined, "a bulk update is pending: wait for it");
  assertEquals(h.poll(1_600, false), { lost: 3 });
  assertEquals(h.nextDeadline(), undefined);
  // Loss every 500 ms for ever: the maximum wait, but not before the interval.
  for (let t = 2_000; t <= 9_000; t += 500) h.onLoss(1, t);
  assertEquals(h.nextDeadline(), 2_000 + 5_000);
  // A bulk requested for another reason covers what was lost before it.
  h.onBulkRequested();
  assertEquals([h.pendingLoss, h.nextDeadline()], [0, undefined]);
});

Deno.test("HealScheduler: requests keep the interval, doubling from the third in a row; a long pause resets", () => {
  const h = new HealScheduler({
    quietMs: 100,
    maxWaitMs: 1_000,
    minIntervalMs: 1_000,
    maxIntervalMs: 8_000,
  });
  const requests: number[] = [];
  // A link that loses a packet every 50 ms for 60 s.
  for (let t = 0; t <= 60_000; t += 50) {
    h.onLoss(1, t);
    if (h.poll(t, false)) requests.push(t);
  }
  // The first at the maximum wait; then the maximum wait from the next loss
  // (1,050 ms) while the interval is shorter; then 2, 4, 8 s, capped at 8 s.
  const gaps = requests.slice(1).map((t, i) => t - requests[i]);
  assertEquals(requests[0], 1_000);
  assertEquals(gaps, [1_050, 1_050, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000, 8_000, 8_000]);
  // The interval also covers twice the last bulk update's duration.
  h.onBulkFinished(3_000);
  assertEquals(h.intervalMs(60_001), 8_000);
  // After maxIntervalMs without a loss the run ends: back to the base.
  assertEquals(h.intervalMs(68_000), 6_000);
  h.onLoss(1, 68_000);
  assertEquals(h.intervalMs(68_000), 6_000);
});

interface Pair {
  seg: Segment;
  a: SimNode;
  b: SimNode;
  logs: string[];
  /** Packets A sent, by action (beacons as "beacon"). */
  fromA: string[];
}

/** A and B started and settled, with A's packets observable and droppable. */
function pair(
  config: Parameters<Segment["add"]>[2] = {},
  drop: (bytes: Uint8Array, n: number) => boolean = () => false,
): Pair {
  const seg = new Segment();
  const logs: string[] = [];
  // These tests are about the bulk-update path: repair (NACKs) has its own file.
  const a = seg.add("A", "10.0.0.1", { repair: false, ...config });
  const b = seg.add("B", "10.0.0.2", { repair: false, ...config });
  for (const node of [a, b]) {
    // deno-lint-ignore no-explicit-any
    (node.engine as any).ports.log = (_: string, m: string) => logs.push(`${node.name} ${m}`);
  }
  a.engine.start();
  b.engine.start();
  seg.pump();
  seg.run(2_000);
  const fromA: string[] = [];
  let n = 0;
  seg.tap = (p) => {
    if (p.from !== a) return p.bytes;
    fromA.push(isBeacon(p.bytes) ? "beacon" : String(p.bytes[2]));
    return drop(p.bytes, n++) ? undefined : p.bytes;
  };
  return { seg, a, b, logs, fromA };
}

/** Drops the first packet of `action` (beacons are never the first of UPD_C here). */
function firstOf(action: number): (bytes: Uint8Array) => boolean {
  let seen = false;
  return (bytes) => {
    if (seen || bytes[2] !== action || isBeacon(bytes)) return false;
    seen = true;
    return true;
  };
}

/** `rounds` bursts of 3 inserts on A whose packets (beacons included) are held back, not delivered. */
function heldFromA(p: Pair, rounds: number): Uint8Array[] {
  const held: Uint8Array[] = [];
  p.seg.tap = (pk) => {
    if (pk.from !== p.a) return pk.bytes;
    held.push(pk.bytes);
    return undefined;
  };
  for (let i = 0; i < rounds; i++) {
    insertOnA(p, 3);
    p.seg.run(1_100);
  }
  p.seg.tap = undefined;
  return held;
}

/** A's packets as B's receive path sees them. */
const FROM_A = { ttl: 255, onSyncInterface: true, source: "10.0.0.1" };

function insertOnA(p: Pair, count: number): State[] {
  const states = Array.from({ length: count }, () => makeState({ creatorId: 0x10000000 }));
  for (const s of states) p.a.table.insert(s, "local");
  return states;
}

Deno.test("PfsyncEngine: a bulk update purges peer states the responder lacks, never local or own ones", () => {
  let dropDeletes = false;
  const p = pair({}, (bytes) => dropDeletes && bytes[2] === PFSYNC_ACT_DEL_C);
  const { seg, a, b } = p;
  const states = insertOnA(p, 20);
  seg.run(1_500);
  assertEquals(tableSummary(b.table), tableSummary(a.table));
  // B's own states: one created here, one of B's creator id last written by A.
  const mine = makeState({ creatorId: 0x10000001 });
  const ours = makeState({ creatorId: 0x10000001 });
  b.table.insert(mine, "local");
  b.table.insert(ours, { peer: "10.0.0.1" });
  seg.run(1_500);
  // A deletes 5 states; the DEL_C packet is lost.
  dropDeletes = true;
  for (const s of states.slice(0, 5)) a.table.delete(s, "local");
  seg.run(1_500);
  assertEquals(b.table.size, 22 + 2 - 2, "B still has the 5 (A has 15 + B's 2 learned back)");
  const events: TableEvent[] = [];
  b.table.on((e) => events.push(e));
  const sentByB = b.sent;
  const bPackets: number[] = [];
  const tap = seg.tap!;
  seg.tap = (pk) => {
    if (pk.from === b && !isBeacon(pk.bytes)) bPackets.push(pk.bytes[2]);
    return tap(pk);
  };
  b.engine.resync();
  seg.run(1_000);
  assertEquals(b.engine.stats.bulkpurged, 5);
  assertEquals(b.engine.status().heal.lastPurged, 5);
  assert(p.logs.some((l) => /B .*purged 5 stale states/.test(l)), p.logs.join("\n"));
  const deletes = events.filter((e) => e.type === "delete");
  assertEquals(deletes.length, 5);
  assert(deletes.every((e) => e.origin !== "local"), "deleted with the peer's origin");
  assertEquals(b.table.has(mine), true, "local state kept");
  assertEquals(b.table.has(ours), true, "a state of our creator id kept");
  b.table.delete(ours, "local");
  assertEquals(tableSummary(b.table), tableSummary(a.table));
  // B announced nothing of the purge: only its bulk request left.
  assertEquals(bPackets, [PFSYNC_ACT_UREQ]);
  assertEquals(b.sent - sentByB, 1);
});

Deno.test("PfsyncEngine with bulk_purge off keeps the states a bulk update did not mention", () => {
  let dropDeletes = false;
  const p = pair({ bulkPurge: false }, (bytes) => dropDeletes && bytes[2] === PFSYNC_ACT_DEL_C);
  const states = insertOnA(p, 10);
  p.seg.run(1_500);
  dropDeletes = true;
  for (const s of states.slice(0, 3)) p.a.table.delete(s, "local");
  p.seg.run(1_500);
  p.b.engine.resync();
  p.seg.run(1_000);
  assertEquals([p.b.table.size, p.b.engine.stats.bulkpurged], [10, 0]);
});

Deno.test("PfsyncEngine: a lost INS is noticed by the next packet's sequence and healed by a bulk update", () => {
  const p = pair({}, firstOf(PFSYNC_ACT_INS));
  const { seg, a, b } = p;
  insertOnA(p, 5); // its INS is lost
  seg.run(1_100);
  assertEquals(b.table.size, 0);
  insertOnA(p, 1); // the beacon or this INS shows the gap, counted after the reorder wait
  seg.run(1_400);
  assertEquals(b.engine.stats.seqgaps, 1);
  seg.run(1_500); // reorder wait, quiet second, bulk update
  assertEquals(tableSummary(b.table), tableSummary(a.table));
  assert(
    p.logs.some((l) =>
      l.includes("B pfsync: bulk update requested (sequence gap: 1 packets lost)")
    ),
  );
  assertEquals(b.holds, [true, false], "no CARP hold for a loss-triggered bulk update");
  assertEquals(b.engine.status().bulk.holding, false);
  assertEquals(a.engine.stats.seqgaps, 0);
});

Deno.test("PfsyncEngine: the beacon after the last packet reveals its loss on an idle link", () => {
  const p = pair({}, firstOf(PFSYNC_ACT_INS));
  const beacons = () => p.fromA.filter((k) => k === "beacon").length;
  insertOnA(p, 5); // the only packet of this burst (sent 1 s later), lost
  p.seg.run(1_010);
  assertEquals([beacons(), p.b.engine.stats.seqgaps], [0, 0]);
  p.seg.run(320); // beacons 25, 50, 100, 200 ms after it; the first shows the gap, 250 ms later lost
  assertEquals([beacons(), p.b.engine.stats.seqgaps], [4, 1]);
  p.seg.run(1_100); // beacons at 400 ms and 1 s after the packet; the quiet second
  assert(beacons() >= 6, `${beacons()} beacons`);
  assertEquals(p.b.table.size, 5, "healed by the loss-triggered bulk update");
  // An idle link after its last beacon stays silent.
  p.seg.run(2_000);
  const before = beacons();
  p.seg.run(10_000);
  assertEquals(beacons(), before);
});

Deno.test("PfsyncEngine: packets reordered within the reorder time are not loss", () => {
  const p = pair();
  const { seg, b } = p;
  const held = heldFromA(p, 4);
  const order = [0, 2, 1, ...held.keys()].filter((v, i, all) => all.indexOf(v) === i);
  for (const i of order) b.engine.receive(FROM_A, held[i]);
  seg.run(3_000);
  assertEquals(b.engine.stats.seqgaps, 0);
  assertEquals(b.table.size, 12);
  assert(!p.logs.some((l) => l.includes("sequence gap")), p.logs.join("\n"));
});

Deno.test("PfsyncEngine under 30% loss: no bulk request while loss goes on, one once it stops", () => {
  let lossy = true;
  // A packet every 100–200 ms, every third lost: never a quiet second.
  const p = pair(
    { sendIntervalMs: 100, heal: { maxWaitMs: 30_000 } },
    (_, n) => lossy && n % 3 === 1,
  );
  const { seg, a, b } = p;
  for (let t = 0; t < 20_000; t += 200) {
    insertOnA(p, 2);
    seg.run(200);
  }
  const during = p.logs.filter((l) => l.startsWith("B") && l.includes("sequence gap")).length;
  assertEquals(during, 0, "the debounce waits for a quiet link");
  assert(b.engine.stats.seqgaps > 10, `lost ${b.engine.stats.seqgaps}`);
  assert(b.table.size < a.table.size, "loss made a difference");
  lossy = false;
  seg.run(4_000);
  // One once it stops, and one more when a loss from the end of the lossy spell shows late.
  const after = p.logs.filter((l) => l.startsWith("B") && l.includes("sequence gap")).length;
  assert(after >= 1 && after <= 2, `${after} loss-triggered bulk updates`);
  assertEquals(tableSummary(b.table), tableSummary(a.table));
});

Deno.test("PfsyncEngine with sequence off: plain version 2 — no trailer, no beacon, no loss-triggered bulk", () => {
  const lengths: number[] = [];
  const p = pair({ sequence: false }, (bytes, n) => {
    lengths.push(bytes.length);
    return n === 0;
  });
  insertOnA(p, 2);
  p.seg.run(1_100);
  insertOnA(p, 1);
  p.seg.run(5_000);
  assertEquals(lengths, [4 + 2 * 224, 4 + 224]);
  assertEquals(p.fromA.includes("beacon"), false);
  assertEquals([p.b.engine.stats.seqgaps, p.b.table.size], [0, 1]);
  assertEquals(p.b.engine.status().heal.sequence, false);
});

Deno.test("PfsyncEngine with auth: the auth trailer's sequence shows the loss", () => {
  const key = new TextEncoder().encode("sixteen byte key, or more");
  const p = pair(
    { auth: { key, mode: "required" } },
    firstOf(PFSYNC_ACT_INS),
  );
  insertOnA(p, 4);
  p.seg.run(1_100);
  insertOnA(p, 1);
  p.seg.run(3_000);
  assertEquals(p.b.engine.stats.seqgaps, 1);
  assertEquals(p.b.engine.stats.badauth, 0);
  assertEquals(tableSummary(p.b.table), tableSummary(p.a.table));
});

Deno.test("PfsyncEngine: a bulk update that lost packets purges nothing; the clean one after it does", () => {
  let dropDeletes = false;
  let dropUpdates = 0;
  const p = pair({}, (bytes) => {
    if (dropDeletes && bytes[2] === PFSYNC_ACT_DEL_C) return true;
    if (dropUpdates > 0 && bytes[2] === 2 /* UPD */) return dropUpdates-- > 0;
    return false;
  });
  const { seg, a, b } = p;
  const states = insertOnA(p, 30);
  seg.run(1_500);
  dropDeletes = true;
  for (const s of states.slice(0, 4)) a.table.delete(s, "local");
  seg.run(1_500);
  assertEquals(b.table.size, 30);
  dropUpdates = 1; // the bulk update's first UPD packet (6 states) is lost
  b.engine.resync();
  seg.run(1_000);
  assertEquals(b.engine.stats.bulkpurged, 0, "no purge after a lossy bulk update");
  assert(
    p.logs.some((l) => /B .*no purge, 1 packets sent since it was requested were lost/.test(l)),
    p.logs.join("\n"),
  );
  seg.run(3_000); // quiet second, loss-triggered bulk update, purge
  assertEquals(b.engine.stats.bulkpurged, 4);
  assertEquals(tableSummary(b.table), tableSummary(a.table));
});

Deno.test("PfsyncEngine: a state we deleted does not come back in a peer's bulk update, and the peer purges it", () => {
  let dropDeletes = false;
  const p = pair({}, (bytes) => dropDeletes && bytes[2] === PFSYNC_ACT_DEL_C);
  const { seg, a, b } = p;
  const states = insertOnA(p, 12);
  seg.run(1_500);
  dropDeletes = true;
  a.table.delete(states[0], "local");
  seg.run(1_500);
  dropDeletes = false;
  assertEquals([a.table.size, b.table.size], [11, 12]);
  // A asks B for its table (as a loss-triggered request would): B sends A's deleted state back.
  const badstate = a.engine.stats.badstate;
  a.engine.resync();
  seg.run(1_000);
  assertEquals(a.table.has(states[0]), false, "not resurrected on A");
  assertEquals(a.engine.stats.badstate - badstate, 1);
  assertEquals(a.engine.stats.bulkpurged, 0, "nothing of B's own to purge");
  b.engine.resync();
  seg.run(1_000);
  assertEquals(b.engine.stats.bulkpurged, 1);
  assertEquals(tableSummary(b.table), tableSummary(a.table));
});

Deno.test("PfsyncEngine: the purge takes only the responder's own states, not a third node's", () => {
  const seg = new Segment();
  const [a, b, c] = [seg.add("A", "10.0.0.1"), seg.add("B", "10.0.0.2"), seg.add("C", "10.0.0.3")];
  for (const n of seg.nodes) n.engine.start();
  seg.pump();
  seg.run(2_000);
  const fromC = makeState({ creatorId: 0x10000002 });
  c.table.insert(fromC, "local");
  seg.run(1_500);
  assertEquals([a.table.has(fromC), b.table.has(fromC)], [true, true]);
  // A loses C's state (a flush on A alone), and C goes quiet.
  a.engine.clearStates("", () => a.table.delete(fromC, "local"));
  c.up = false;
  seg.run(1_000);
  b.engine.resync();
  seg.run(1_000);
  assertEquals(b.engine.status().bulk.outcome, "done");
  assertEquals(b.table.has(fromC), true, "C's state stays: A cannot speak for C");
  assertEquals(b.engine.stats.bulkpurged, 0);
});

Deno.test("HealScheduler: a clean bulk update ends the back-off run", () => {
  const h = new HealScheduler({ quietMs: 100, maxWaitMs: 1_000, minIntervalMs: 1_000 });
  let t = 0;
  for (let i = 0; i < 4; i++) {
    t += 10_000;
    h.onLoss(1, t);
    assert(h.poll(t + 100, false));
  }
  assertEquals(h.intervalMs(t + 200), 4_000, "fourth in a row: doubled twice");
  h.onCleanBulk();
  assertEquals(h.intervalMs(t + 200), 1_000);
});

Deno.test("PfsyncEngine: no hole expires while packets still wait in the socket (tick with backlog)", () => {
  for (const backlog of [true, false]) {
    const p = pair();
    const { seg, b } = p;
    const held = heldFromA(p, 3);
    b.engine.receive(FROM_A, held[0]);
    b.engine.receive(FROM_A, held[2]); // held[1] still "in the socket"
    b.engine.tick(seg.now + 1_000, backlog);
    b.engine.receive(FROM_A, held[1]);
    for (const rest of held.slice(3)) b.engine.receive(FROM_A, rest);
    b.engine.tick(seg.now + 1_001);
    assertEquals(b.engine.stats.seqgaps, backlog ? 0 : 1, `backlog ${backlog}`);
  }
});
