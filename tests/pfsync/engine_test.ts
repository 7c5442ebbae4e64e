/** PfsyncEngine end to end on a simulated segment: convergence, coalescing, no echo, late joiner, auth. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { encodeFrame, formatPfsyncLine, PFSYNC_ACT_INS, wrapIPv4 } from "../../lib/pfsync/mod.ts";
import { makeState } from "./fixtures.ts";
import { Segment, tableSummary } from "./sim.ts";
import type { State } from "../../lib/state/types.ts";

/** Nodes that start together answer each other's (empty) bulk requests with END at once. */
function startAll(seg: Segment): void {
  for (const node of seg.nodes) node.engine.start();
  seg.pump();
  for (const node of seg.nodes) {
    assertEquals(node.engine.status().bulk.outcome, "done", node.name);
    assertEquals(node.holds, [true, false], node.name);
  }
}

Deno.test("PfsyncEngine: three nodes converge on inserts, updates and deletes", () => {
  const seg = new Segment();
  const [a, b, c] = [seg.add("A", "10.0.0.1"), seg.add("B", "10.0.0.2"), seg.add("C", "10.0.0.3")];
  startAll(seg);
  const states: State[] = [];
  for (let i = 0; i < 50; i++) {
    const s = makeState({ creatorId: 0x10000000 });
    states.push(s);
    a.table.insert(s, "local");
  }
  for (let i = 0; i < 20; i++) {
    const s = makeState({ creatorId: 0x10000002 });
    states.push(s);
    c.table.insert(s, "local");
  }
  seg.run(1_500);
  assertEquals(tableSummary(b.table), tableSummary(a.table));
  assertEquals(tableSummary(c.table), tableSummary(a.table));
  assertEquals(a.table.size, 70);

  // 10 updates each to five of A's states within one interval: coalesced.
  const sentBefore = a.sent;
  for (let round = 1; round <= 10; round++) {
    for (const s of states.slice(0, 5)) {
      a.table.patch(s, { src: { ...s.src, seqlo: s.src.seqlo + round * 10 } }, "local");
    }
  }
  seg.run(1_500);
  assertEquals(a.sent - sentBefore, 1, "50 updates leave as one UPD_C packet");
  assertEquals(b.table.get(states[0])?.src.seqlo, states[0].src.seqlo + 100);
  assertEquals(tableSummary(c.table), tableSummary(a.table));

  // B (not the creator) deletes one of A's states and one of C's.
  b.table.delete(states[1], "local");
  b.table.delete(states[60], "local");
  seg.run(1_500);
  assertEquals(a.table.size, 68);
  assertEquals(tableSummary(a.table), tableSummary(b.table));
  assertEquals(tableSummary(c.table), tableSummary(b.table));
  for (const node of [a, b, c]) {
    assertEquals(node.engine.stats.badstate, 0, `${node.name} badstate`);
    assertEquals(node.engine.stats.stale, 0, `${node.name} stale`);
  }
});

Deno.test("PfsyncEngine: learned states are never re-sent", () => {
  const seg = new Segment();
  const [a, b] = [seg.add("A", "10.0.0.1"), seg.add("B", "10.0.0.2")];
  startAll(seg);
  const sentByB = b.sent;
  for (let i = 0; i < 30; i++) a.table.insert(makeState({ creatorId: 0x10000000 }), "local");
  seg.run(1_500);
  assertEquals(b.table.size, 30);
  const sentByA = a.sent;
  a.engine.clearStates("", () => a.table.clearCreator(0x10000000, "", "local"));
  seg.pump();
  assertEquals(a.sent - sentByA, 1, "one CLR, no individual deletes");
  assertEquals([a.table.size, b.table.size], [0, 0]);
  assertEquals(b.sent, sentByB, "B only listened");
});

Deno.test("PfsyncEngine: a late joiner gets the table by bulk update and holds preemption until END", () => {
  const seg = new Segment();
  const [a, b] = [seg.add("A", "10.0.0.1"), seg.add("B", "10.0.0.2")];
  startAll(seg);
  for (let i = 0; i < 500; i++) a.table.insert(makeState(), "local");
  seg.run(1_500);
  assertEquals(b.table.size, 500);
  const d = seg.add("D", "10.0.0.4");
  d.engine.start();
  assertEquals(d.holds, [true]);
  assertEquals(d.engine.status().bulk.pending, true);
  seg.pump();
  seg.run(5_000);
  assertEquals(d.holds, [true, false]);
  assertEquals(tableSummary(d.table), tableSummary(a.table));
  const bulk = d.engine.status().bulk;
  assertEquals([bulk.outcome, bulk.pending], ["done", false]);
  assert(bulk.received >= 500, `received ${bulk.received}`);
  assertEquals(d.engine.stats.badstate, 0);
});

Deno.test("PfsyncEngine in 5.4 mode: nodes starting together wait out the 65 s give-up", () => {
  const seg = new Segment();
  const nodes = ["10.0.0.1", "10.0.0.2"].map((address, i) =>
    seg.add(`N${i}`, address, { bulk: { statusWhilePending: false } })
  );
  for (const node of nodes) node.engine.start();
  seg.pump();
  seg.run(64_000, 500);
  for (const node of nodes) assertEquals(node.holds, [true]);
  seg.run(2_000, 500);
  for (const node of nodes) {
    assertEquals(node.holds, [true, false]);
    assertEquals(node.engine.status().bulk.outcome, "gave-up");
  }
});

Deno.test("PfsyncEngine: a lone node gives up after 12 retries and releases the hold", () => {
  const seg = new Segment();
  const a = seg.add("A", "10.0.0.1");
  a.engine.start();
  seg.run(64_000, 500);
  assertEquals(a.holds, [true]);
  seg.run(2_000, 500);
  assertEquals(a.holds, [true, false]);
  assertEquals(a.engine.status().bulk.outcome, "gave-up");
  assertEquals(a.sent, 13, "the request plus 12 retries");
});

Deno.test("PfsyncEngine with auth: forged and replayed packets change nothing and are counted", () => {
  const key = new TextEncoder().encode("sixteen byte key, or more");
  const seg = new Segment();
  const [a, b] = [
    seg.add("A", "10.0.0.1", { auth: { key, mode: "required" } }),
    seg.add("B", "10.0.0.2", { auth: { key, mode: "required" } }),
  ];
  startAll(seg);
  const captured: Uint8Array[] = [];
  seg.tap = (p) => {
    captured.push(p.bytes);
    return p.bytes;
  };
  a.table.insert(makeState(), "local");
  seg.run(1_500);
  assertEquals(b.table.size, 1);
  const before = tableSummary(b.table);
  const meta = { ttl: 255, onSyncInterface: true, source: "10.0.0.1" };
  const forged = captured[0].slice();
  forged[30] ^= 0x40;
  assertEquals(b.engine.receive(meta, captured[0]).accepted, false, "replay");
  assertEquals(b.engine.receive(meta, forged).accepted, false, "forged");
  assertEquals(
    b.engine.receive({ ...meta, source: "10.0.0.66" }, forged).accepted,
    false,
    "third host",
  );
  assertEquals(b.engine.stats.badauth, 3);
  assertEquals(tableSummary(b.table), before);
});

Deno.test("PfsyncEngine.nextDeadline() reports the earliest pending work", () => {
  const seg = new Segment();
  const a = seg.add("A", "10.0.0.1", { sequence: false });
  assertEquals(a.engine.nextDeadline(), undefined);
  a.engine.start();
  assertEquals(a.engine.nextDeadline(), seg.now + 5_000);
  a.table.insert(makeState(), "local");
  assertEquals(a.engine.nextDeadline(), seg.now + 1_000);
  // With sequence trailers the request is followed by a quick beacon, and one more later.
  const b = seg.add("B", "10.0.0.2", { heal: { beaconMs: 700, fastBeaconMs: 40 } });
  b.engine.start();
  const sentAt = seg.now;
  assertEquals(b.engine.nextDeadline(), sentAt + 40);
  // Each beacon twice as far from the last packet as the one before, the last at beaconMs.
  const schedule = [40, 80, 160, 320, 700];
  for (let i = 0; i + 1 < schedule.length; i++) {
    seg.now = sentAt + schedule[i];
    b.engine.tick(seg.now);
    assertEquals(b.engine.nextDeadline(), sentAt + schedule[i + 1]);
  }
  seg.now = sentAt + 700;
  b.engine.tick(seg.now);
  assertEquals(b.engine.nextDeadline(), sentAt + 5_000, "the bulk retry; no beacon after the last");
});

Deno.test("PfsyncEngine.receiveDatagram() takes TTL and source from the IP header", () => {
  const seg = new Segment();
  const [a, b] = [seg.add("A", "10.0.0.1"), seg.add("B", "10.0.0.2")];
  void a;
  const payload = encodeFrame({ action: PFSYNC_ACT_INS, records: [makeState()] });
  const good = wrapIPv4(payload, "10.0.0.1", "224.0.0.240", 1);
  const lowTtl = good.slice();
  lowTtl[8] = 64;
  assertEquals(b.engine.receiveDatagram(good, true).accepted, true);
  assertEquals(b.engine.receiveDatagram(lowTtl, true), { accepted: false, reason: "badttl" });
  assertEquals(b.engine.receiveDatagram(good.subarray(0, 12), true), {
    accepted: false,
    reason: "hdrops",
  });
  assertEquals(b.engine.receiveDatagram(good.subarray(0, 22), true), {
    accepted: false,
    reason: "hdrops",
  });
  assertEquals(b.engine.receiveDatagram(good, false), { accepted: false, reason: "badif" });
  assertEquals(b.table.originOf([...b.table.states()][0]), { peer: "10.0.0.1" });
  const s = b.engine.stats;
  assertEquals([s.ipackets, s.badttl, s.hdrops, s.badif], [5, 1, 2, 1]);
});

Deno.test("formatPfsyncLine() prints the ifconfig form", () => {
  assertEquals(
    formatPfsyncLine({ syncif: "eth2", syncpeer: null, maxupd: 128 }),
    "pfsync: syncif: eth2 maxupd: 128",
  );
  assertEquals(
    formatPfsyncLine({ syncif: "eth2", syncpeer: "192.0.2.7", maxupd: 64 }),
    "pfsync: syncif: eth2 syncpeer: 192.0.2.7 maxupd: 64",
  );
  const seg = new Segment();
  const a = seg.add("A", "10.0.0.1", { maxupd: 32 });
  assertEquals(formatPfsyncLine(a.engine.status()), "pfsync: syncif: sync0 maxupd: 32");
});
