/**
 * Selective repair: the NACK and marker codecs (byte-exact), the sender's
 * repair log, the tracker's NACK timing, and two engines on a simulated
 * segment that lose packets both ways and heal without a bulk update.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  decodeNackPacket,
  decodeRepaired,
  describeTrailing,
  encodeNack,
  encodeRepaired,
  looksLikeNack,
  MAX_REPAIR_RANGES,
} from "../../lib/pfsync/repair_wire.ts";
import { RepairLog, seqAdd } from "../../lib/pfsync/repair_log.ts";
import { MAX_REPAIR_PACKETS, RepairBudget } from "../../lib/pfsync/repair.ts";
import {
  encodeFrame,
  encodeSeqTrailer,
  PFSYNC_ACT_BUS,
  PFSYNC_ACT_CLR,
  PFSYNC_ACT_DEL_C,
  PFSYNC_ACT_INS,
  PFSYNC_ACT_UPD_C,
  SequenceTracker,
} from "../../lib/pfsync/mod.ts";
import type { State } from "../../lib/state/types.ts";
import { makeState } from "./fixtures.ts";
import { isBeacon, Segment, type SimNode, tableSummary } from "./sim.ts";

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

Deno.test("NACK block: byte-exact, and decoded from a whole packet", () => {
  const block = encodeNack({
    senderId: 0x10000000,
    ranges: [{ hi: 0x0001_8c2a, lo: 0xffff_fffe, packets: 3 }, { hi: 1, lo: 7, packets: 1 }],
  });
  assertEquals(
    hex(block),
    "50 53 4e 31 10 00 00 00 00 02 00 00 " +
      "00 01 8c 2a ff ff ff fe 00 00 00 03 " +
      "00 00 00 01 00 00 00 07 00 00 00 01",
  );
  const packet = new Uint8Array([2, 0, PFSYNC_ACT_UPD_C, 0, ...block]);
  assert(looksLikeNack(packet));
  assertEquals(decodeNackPacket(packet), {
    senderId: 0x10000000,
    ranges: [{ hi: 0x18c2a, lo: 0xfffffffe, packets: 3 }, { hi: 1, lo: 7, packets: 1 }],
  });
});

Deno.test("NACK decoding refuses what is not one, or is malformed", () => {
  const block = encodeNack({ senderId: 9, ranges: [{ hi: 0, lo: 1, packets: 1 }] });
  const good = new Uint8Array([2, 0, PFSYNC_ACT_UPD_C, 0, ...block]);
  const cases: [string, Uint8Array][] = [
    ["not an UPD_C", new Uint8Array([2, 0, PFSYNC_ACT_DEL_C, 0, ...block])],
    ["records in it", new Uint8Array([2, 0, PFSYNC_ACT_UPD_C, 1, ...block])],
    ["cut short", good.subarray(0, good.length - 1)],
    ["no magic", new Uint8Array([2, 0, PFSYNC_ACT_UPD_C, 0, 0, ...block.subarray(1)])],
    [
      "zero ranges",
      (() => {
        const b = good.slice();
        b[4 + 9] = 0;
        return b;
      })(),
    ],
    [
      "too many ranges",
      (() => {
        const b = good.slice();
        b[4 + 8] = 1;
        return b;
      })(),
    ],
    ["header only", good.subarray(0, 4)],
  ];
  for (const [name, packet] of cases) assertEquals(decodeNackPacket(packet), undefined, name);
  assertThrows(() => encodeNack({ senderId: 1, ranges: [] }), RangeError);
  const many = Array.from({ length: MAX_REPAIR_RANGES + 1 }, () => ({ hi: 0, lo: 0, packets: 1 }));
  assertThrows(() => encodeNack({ senderId: 1, ranges: many }), RangeError);
});

Deno.test("repair marker: byte-exact, read behind a trailer, malformed ones ignored", () => {
  const block = encodeRepaired([
    { hi: 2, lo: 0x10, packets: 4, answered: true },
    { hi: 2, lo: 0x20, packets: 1, answered: false },
  ]);
  assertEquals(
    hex(block),
    "50 53 52 31 00 02 00 00 " +
      "00 00 00 02 00 00 00 10 00 00 00 04 00 00 00 00 " +
      "00 00 00 02 00 00 00 20 00 00 00 01 01 00 00 00",
  );
  const packet = new Uint8Array(20 + block.length);
  packet.set(block, 20);
  assertEquals(decodeRepaired(packet, 20), [
    { hi: 2, lo: 0x10, packets: 4, answered: true },
    { hi: 2, lo: 0x20, packets: 1, answered: false },
  ]);
  assertEquals(decodeRepaired(packet, 19), undefined, "not at the marker");
  assertEquals(decodeRepaired(packet.subarray(0, packet.length - 1), 20), undefined, "cut short");
  assertEquals(decodeRepaired(packet, packet.length), undefined, "nothing behind the trailer");
});

Deno.test("seqAdd() carries into the high word", () => {
  assertEquals(seqAdd(5, 0xffff_fffe, 1), { hi: 5, lo: 0xffff_ffff });
  assertEquals(seqAdd(5, 0xffff_fffe, 3), { hi: 6, lo: 1 });
});

function keysOf(log: RepairLog, hi: number, lo: number): [string, string[]] {
  const keys: string[] = [];
  const result = log.lookup(hi, lo, (a, b, c) => keys.push(`${a}:${b}@${c}`));
  return [result, keys];
}

Deno.test("RepairLog keeps the keys each packet carried, by sequence", () => {
  const log = new RepairLog({ packets: 4, keys: 8 });
  const s1 = makeState({ id: 0x0000000a_0000000bn, creatorId: 7 });
  const s2 = makeState({ id: 3n, creatorId: 7 });
  log.record(1, 100, encodeFrame({ action: PFSYNC_ACT_INS, records: [s1, s2] }));
  log.record(
    1,
    101,
    encodeFrame({ action: PFSYNC_ACT_DEL_C, records: [{ id: 9n, creatorId: 8 }] }),
  );
  log.record(
    1,
    102,
    encodeFrame({ action: PFSYNC_ACT_CLR, records: [{ ifname: "", creatorId: 7 }] }),
  );
  log.record(
    1,
    103,
    encodeFrame({ action: PFSYNC_ACT_BUS, records: [{ creatorId: 7, endtime: 0, status: 1 }] }),
  );
  assertEquals(keysOf(log, 1, 100), ["ok", ["10:11@7", "0:3@7"]]);
  assertEquals(keysOf(log, 1, 101), ["ok", ["0:9@8"]]);
  assertEquals(keysOf(log, 1, 102), ["gone", []], "a CLR is left to a bulk update");
  assertEquals(keysOf(log, 1, 103), ["ok", []], "nothing to repair in a BUS");
  assertEquals(keysOf(log, 2, 100), ["gone", []], "another high word");
  assertEquals(keysOf(log, 1, 99), ["gone", []], "never logged");
  // The packet ring wraps: 104 takes 100's slot.
  log.record(1, 104, encodeFrame({ action: PFSYNC_ACT_UPD_C, records: [] }));
  assertEquals(keysOf(log, 1, 100), ["gone", []]);
  // The key ring wraps: a packet whose keys were overwritten is gone.
  const wide = new RepairLog({ packets: 16, keys: 8 });
  const dels = (n: number, from: number) =>
    encodeFrame({
      action: PFSYNC_ACT_DEL_C,
      records: Array.from({ length: n }, (_, i) => ({ id: BigInt(from + i), creatorId: 1 })),
    });
  wide.record(0, 1, dels(3, 0));
  wide.record(0, 2, dels(5, 10));
  assertEquals(keysOf(wide, 0, 1), ["ok", ["0:0@1", "0:1@1", "0:2@1"]], "8 keys: all still there");
  wide.record(0, 3, dels(1, 20));
  assertEquals(keysOf(wide, 0, 1), ["gone", []], "its first key was overwritten");
  assertEquals(keysOf(wide, 0, 2)[1].length, 5);
  assertEquals(keysOf(wide, 0, 3), ["ok", ["0:20@1"]]);
  // The README's "about 1.7 MiB" for the default rings.
  const bytes = new RepairLog().byteLength;
  assert(bytes > 1.6 * 2 ** 20 && bytes < 1.8 * 2 ** 20, `${bytes} bytes`);
  assertThrows(() => new RepairLog({ packets: 3 }), RangeError);
  assertThrows(() => new RepairLog({ keys: 100 }), RangeError);
});

const trailer = (lo: number) => ({ magic: 0, senderId: 5, sequence: (7n << 32n) | BigInt(lo) });

Deno.test("SequenceTracker with repair: NACK after the delay, repeat, then lost", () => {
  const t = new SequenceTracker({ repair: { minDelayMs: 20, retryMs: 100, maxTries: 2 } });
  t.observe(trailer(10), "10.0.0.1", 0);
  t.observe(trailer(14), "10.0.0.1", 0); // 11, 12, 13 missing
  assertEquals(t.dueNacks(10), []);
  assertEquals(t.nextDeadline(10), 20);
  assertEquals(t.dueNacks(20), [{
    senderId: 5,
    source: "10.0.0.1",
    ranges: [{ hi: 7, lo: 11, packets: 3 }],
  }]);
  assertEquals(t.dueNacks(50), [], "waits for the marker");
  assertEquals(t.nextDeadline(50), 120);
  t.observe(trailer(12), "10.0.0.1", 60); // a late arrival splits the range
  assertEquals(t.dueNacks(120)[0].ranges, [{ hi: 7, lo: 11, packets: 1 }, {
    hi: 7,
    lo: 13,
    packets: 1,
  }]);
  assertEquals(t.expire(219), 0);
  assertEquals(t.dueNacks(300), [], "two tries only");
  assertEquals(t.expire(220), 2, "unanswered twice: lost");
  assertEquals(t.openHoles, 0);
});

Deno.test("SequenceTracker with repair: a marker closes holes as repaired or lost", () => {
  const t = new SequenceTracker({ repair: {} });
  t.observe(trailer(0), "a", 0);
  t.observe(trailer(10), "a", 0); // 1 … 9 missing
  t.dueNacks(100);
  assertEquals(t.repaired(5, { hi: 7, lo: 1, packets: 4 }, true), { repaired: 4, lost: 0 });
  assertEquals(t.repaired(5, { hi: 7, lo: 5, packets: 2 }, false), { repaired: 0, lost: 2 });
  assertEquals(t.recentLost, 2);
  assertEquals(
    t.repaired(6, { hi: 7, lo: 7, packets: 3 }, true),
    { repaired: 0, lost: 0 },
    "other",
  );
  // A huge range is walked through the holes, not position by position.
  assertEquals(t.repaired(5, { hi: 7, lo: 0, packets: 0xffff_ffff }, true), {
    repaired: 3,
    lost: 0,
  });
  assertEquals(t.openHoles, 0);
  // Far-off positions (found by the fuzzer: a float cannot count through 2^60) return at once.
  t.observe(trailer(20), "a", 0);
  t.observe(trailer(22), "a", 0);
  assertEquals(t.repaired(5, { hi: 0x10000005, lo: 0x10000004, packets: 132 }, true), {
    repaired: 0,
    lost: 0,
  });
  assertEquals(t.repaired(5, { hi: 6, lo: 0, packets: 3 }, true), { repaired: 0, lost: 0 });
  assertEquals(t.openHoles, 10, "11 … 19 and 21 still open");
});

Deno.test("SequenceTracker with repair: a sender that answers is asked again until the hole is old", () => {
  const t = new SequenceTracker({
    repair: { minDelayMs: 20, retryMs: 100, maxTries: 2, maxAgeMs: 1_000 },
  });
  t.observe(trailer(0), "a", 0);
  t.repaired(5, { hi: 7, lo: 0, packets: 1 }, true); // it answered once
  t.observe(trailer(2), "a", 0); // 1 missing
  const tries = [];
  for (let now = 0; now <= 1_000; now += 10) {
    if (t.dueNacks(now).length > 0) tries.push(now);
    if (now < 1_000) assertEquals(t.expire(now), 0, `still asked at ${now}`);
  }
  assertEquals(tries, [20, 120, 220, 320, 420, 520, 620, 720, 820, 920]);
  assertEquals(t.expire(1_000), 1, "lost once it is maxAgeMs old");
});

Deno.test("SequenceTracker: the NACK retry follows the smoothed answer time, up to 1 s", () => {
  const t = new SequenceTracker({ repair: { minDelayMs: 20, retryMs: 50 } });
  assertEquals(t.retryMs(), 50);
  t.observe(trailer(0), "a", 0);
  t.observe(trailer(3), "a", 0); // 1, 2 missing
  t.dueNacks(20);
  t.repaired(5, { hi: 7, lo: 1, packets: 2 }, true, 220); // answered 200 ms after the NACK
  assertEquals(t.retryMs(), 420);
  t.observe(trailer(5), "a", 300); // 4 missing
  t.dueNacks(320);
  t.repaired(5, { hi: 7, lo: 4, packets: 1 }, true, 328); // 8 ms: 200 + (8 - 200) / 8 = 176
  assertEquals(t.retryMs(), 372);
  t.observe(trailer(7), "a", 400);
  t.dueNacks(420);
  t.repaired(5, { hi: 7, lo: 6, packets: 1 }, true, 5_420);
  assertEquals(t.retryMs(), 1_000, "at most 1 s");
});

Deno.test("SequenceTracker: a marker for a later NACK repeats an earlier unanswered one at once", () => {
  const t = new SequenceTracker({ repair: { minDelayMs: 10, retryMs: 100 } });
  t.observe(trailer(0), "a", 0);
  t.observe(trailer(2), "a", 0); // 1 missing
  assertEquals(t.dueNacks(10)[0].ranges, [{ hi: 7, lo: 1, packets: 1 }]);
  t.observe(trailer(4), "a", 20); // 3 missing
  assertEquals(t.dueNacks(30)[0].ranges, [{ hi: 7, lo: 3, packets: 1 }]);
  assertEquals(t.dueNacks(35), [], "the first NACK's retry is 100 ms away");
  // The answer to the second NACK arrives; the first one's never came: it was lost.
  t.repaired(5, { hi: 7, lo: 3, packets: 1 }, true, 35);
  assertEquals(t.dueNacks(35)[0].ranges, [{ hi: 7, lo: 1, packets: 1 }]);
});

Deno.test("SequenceTracker: reordering seen widens the NACK delay, up to the reorder time", () => {
  const t = new SequenceTracker({ reorderMs: 250, repair: { minDelayMs: 20 } });
  assertEquals(t.nackDelayMs(0), 20);
  t.observe(trailer(0), "a", 0);
  t.observe(trailer(2), "a", 0);
  t.observe(trailer(1), "a", 40); // 40 ms late
  assertEquals(t.nackDelayMs(40), 100);
  t.observe(trailer(5), "a", 50);
  t.observe(trailer(4), "a", 250); // 200 ms late
  assertEquals(t.nackDelayMs(250), 250);
  assertEquals(t.nackDelayMs(10_300), 20, "forgotten 10 s later");
  // Without a sender id there is nobody to NACK: the reorder time decides.
  const anon = new SequenceTracker({ reorderMs: 250, repair: {} });
  anon.observe({ ...trailer(0), senderId: 0 }, "a", 0);
  anon.observe({ ...trailer(3), senderId: 0 }, "a", 0);
  assertEquals(anon.dueNacks(1_000), []);
  assertEquals(anon.expire(250), 2);
});

interface LossyPair {
  seg: Segment;
  a: SimNode;
  b: SimNode;
  logs: string[];
  /** Drop decision for each packet, either way (beacons included). */
  drop: (from: SimNode, bytes: Uint8Array) => boolean;
}

function lossyPair(config: Parameters<Segment["add"]>[2] = {}): LossyPair {
  const seg = new Segment();
  const logs: string[] = [];
  const a = seg.add("A", "10.0.0.1", config);
  const b = seg.add("B", "10.0.0.2", config);
  for (const node of [a, b]) {
    // deno-lint-ignore no-explicit-any
    (node.engine as any).ports.log = (_: string, m: string) => logs.push(`${node.name} ${m}`);
    node.engine.start();
  }
  seg.pump();
  seg.run(2_000);
  const p: LossyPair = { seg, a, b, logs, drop: () => false };
  seg.tap = (pk) => p.drop(pk.from, pk.bytes) ? undefined : pk.bytes;
  return p;
}

/** A seeded generator (xorshift32), so a lossy run is the same every time. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const lossTriggered = (p: LossyPair) => p.logs.filter((l) => l.includes("sequence gap")).length;

Deno.test("PfsyncEngine: a lost INS is NACKed and repaired, no bulk update", () => {
  const p = lossyPair({ insertDelayMs: 10 });
  let dropped = false;
  p.drop = (from, bytes) => {
    if (dropped || from !== p.a || bytes[2] !== PFSYNC_ACT_INS) return false;
    return dropped = true;
  };
  const states = Array.from({ length: 5 }, () => makeState({ creatorId: 0x10000000 }));
  for (const s of states) p.a.table.insert(s, "local");
  p.seg.run(40);
  assertEquals(p.b.table.size, 0, "the INS was lost");
  // The quick beacon 50 ms after shows the gap; the NACK follows 20 ms later.
  p.seg.run(100);
  assertEquals(tableSummary(p.b.table), tableSummary(p.a.table));
  const [sa, sb] = [p.a.engine.stats, p.b.engine.stats];
  assertEquals([sb.nacksent, sa.nackrcvd, sa.repairsent, sb.seqrepaired], [1, 1, 5, 1]);
  assertEquals([sb.seqgaps, lossTriggered(p)], [0, 0]);
  assertEquals(p.b.engine.status().heal.openHoles, 0);
});

Deno.test("PfsyncEngine: a lost delete is repaired with a DEL_C, an update with the state as it is now", () => {
  const p = lossyPair({ insertDelayMs: 10, sendIntervalMs: 100 });
  const states = Array.from({ length: 6 }, () => makeState({ creatorId: 0x10000000 }));
  for (const s of states) p.a.table.insert(s, "local");
  p.seg.run(500);
  assertEquals(p.b.table.size, 6);
  p.drop = (from, bytes) => from === p.a && !isBeacon(bytes) && bytes[2] !== 2 /* repair UPD */;
  p.a.table.delete(states[0], "local");
  const s1 = states[1];
  p.a.table.patch(s1, { src: { ...s1.src, seqlo: s1.src.seqlo + 1000 } }, "local");
  p.a.table.patch(s1, { src: { ...s1.src, seqlo: s1.src.seqlo + 2000 } }, "local");
  p.seg.run(120); // both lost
  p.drop = () => false;
  p.seg.run(200);
  assertEquals(tableSummary(p.b.table), tableSummary(p.a.table));
  assertEquals(p.b.table.has(states[0]), false);
  assertEquals(p.b.table.get(s1)?.src.seqlo, s1.src.seqlo + 2000);
  assertEquals(lossTriggered(p), 0);
});

Deno.test("PfsyncEngine under 30% loss both ways, churning: repairs keep up; equal soon after", () => {
  const p = lossyPair({ insertDelayMs: 10, sendIntervalMs: 100 });
  const rnd = random(42);
  let lossy = true;
  p.drop = () => lossy && rnd() < 0.3;
  const live: State[] = [];
  let largest = 0;
  for (let round = 0; round < 100; round++) {
    for (let i = 0; i < 10; i++) {
      const s = makeState({ creatorId: 0x10000000 });
      p.a.table.insert(s, "local");
      live.push(s);
    }
    for (let i = 0; i < 5; i++) {
      const s = live[Math.floor(rnd() * live.length)];
      p.a.table.patch(s, { src: { ...s.src, seqlo: s.src.seqlo + round + 1 } }, "local");
    }
    for (let i = 0; i < 4; i++) {
      p.a.table.delete(live.splice(Math.floor(rnd() * live.length), 1)[0], "local");
    }
    p.seg.run(50);
    const diff = tableSummary(p.a.table).filter((k) => !p.b.table.has(parseKey(k))).length;
    largest = Math.max(largest, diff);
  }
  p.seg.run(300); // the last updates flush (100 ms) under loss
  lossy = false;
  const start = p.seg.now;
  while (tableSummary(p.b.table).join() !== tableSummary(p.a.table).join()) {
    assert(p.seg.now - start < 3_000, "not equal 3 s after the loss ended");
    p.seg.run(10, 10);
  }
  const healMs = p.seg.now - start;
  const sb = p.b.engine.stats;
  assert(sb.seqrepaired > 50, `repaired ${sb.seqrepaired}`);
  assert(healMs <= 1_100, `equal ${healMs} ms after the loss ended`);
  assert(largest < 200, `largest difference ${largest}`);
  assertEquals([sb.seqgaps, lossTriggered(p)], [0, 0], "every loss repaired, no bulk update");
});

function parseKey(summary: string): { id: bigint; creatorId: number } {
  const [id, creator] = summary.split("/");
  return { id: BigInt(id), creatorId: Number(creator) };
}

Deno.test("PfsyncEngine: NACKs a peer never answers end as lost, and a bulk update heals", () => {
  const seg = new Segment();
  const a = seg.add("A", "10.0.0.1", { repair: false, insertDelayMs: 10 });
  const b = seg.add("B", "10.0.0.2", { insertDelayMs: 10 });
  a.engine.start();
  b.engine.start();
  seg.pump();
  seg.run(2_000);
  let dropped = false;
  seg.tap = (pk) => {
    if (dropped || pk.from !== a || pk.bytes[2] !== PFSYNC_ACT_INS) return pk.bytes;
    dropped = true;
    return undefined;
  };
  for (let i = 0; i < 3; i++) a.table.insert(makeState({ creatorId: 0x10000000 }), "local");
  seg.run(400);
  assertEquals(b.table.size, 0);
  assert(b.engine.stats.nacksent >= 2, `${b.engine.stats.nacksent} NACKs`);
  assertEquals(a.engine.stats.nackrcvd, 0, "A does not repair");
  seg.run(2_500); // 4 tries, then lost, a quiet second, a bulk update
  assertEquals(b.engine.stats.seqgaps, 1);
  assertEquals(tableSummary(b.table), tableSummary(a.table));
});

Deno.test("PfsyncEngine: a NACK for packets no longer logged is answered 'forgotten'", () => {
  const p = lossyPair();
  const markers: ReturnType<typeof decodeRepaired>[] = [];
  p.drop = (from, bytes) => {
    if (from === p.a && isBeacon(bytes) && bytes.length > 20) {
      markers.push(decodeRepaired(bytes, 20));
    }
    return false;
  };
  const nack = encodeNack({ senderId: 0x10000000, ranges: [{ hi: 1, lo: 2, packets: 3 }] });
  const packet = new Uint8Array([2, 0, PFSYNC_ACT_UPD_C, 0, ...nack]);
  p.a.engine.receive({ ttl: 255, onSyncInterface: true, source: "10.0.0.2" }, packet);
  p.seg.pump();
  assertEquals(markers, [[{ hi: 1, lo: 2, packets: 3, answered: false }]]);
  // A NACK for another sender id is not ours to answer.
  const other = encodeNack({ senderId: 0x10000001, ranges: [{ hi: 1, lo: 2, packets: 3 }] });
  p.a.engine.receive(
    { ttl: 255, onSyncInterface: true, source: "10.0.0.2" },
    new Uint8Array([2, 0, PFSYNC_ACT_UPD_C, 0, ...other]),
  );
  p.seg.pump();
  assertEquals([markers.length, p.a.engine.stats.nackrcvd], [1, 1]);
});

Deno.test("PfsyncEngine: repair is off with authentication and with sequence off", () => {
  const seg = new Segment();
  const key = new Uint8Array(32).fill(7);
  const withAuth = seg.add("A", "10.0.0.1", { auth: { key, mode: "required" } });
  const plain = seg.add("B", "10.0.0.2", { sequence: false });
  const normal = seg.add("C", "10.0.0.3");
  assertEquals(
    [withAuth, plain, normal].map((n) => n.engine.status().heal.repair),
    [false, false, true],
  );
});

Deno.test("PfsyncEngine: the purge after a bulk update waits while a lost bulk packet is repaired", () => {
  const p = lossyPair({ insertDelayMs: 10, heal: { nack: { maxTries: 100 } } });
  const states = Array.from({ length: 20 }, () => makeState({ creatorId: 0x10000000 }));
  for (const s of states) p.a.table.insert(s, "local");
  p.seg.run(500);
  // Three states B believes it learned from A, which A does not have: the purge's work.
  for (let i = 0; i < 3; i++) {
    p.b.table.insert(makeState({ creatorId: 0x10000000 }), { peer: "10.0.0.1" });
  }
  assertEquals(p.b.table.size, 23);
  // B asks for a bulk update; its first UPD packet is lost, and B's NACKs for 600 ms.
  let firstUpd = true;
  let nacksLostUntil = 0;
  p.drop = (from, bytes) => {
    if (from === p.a && bytes[2] === 2 && firstUpd) {
      firstUpd = false;
      nacksLostUntil = p.seg.now + 600;
      return true;
    }
    return looksLikeNack(bytes) && p.seg.now < nacksLostUntil;
  };
  const wrongly: string[] = [];
  p.b.table.on((e) => {
    if (e.type === "delete" && p.a.table.has(e.state)) wrongly.push(String(e.state.id));
  });
  p.b.engine.resync();
  p.seg.run(2_000);
  assertEquals(firstUpd, false, "a bulk packet was lost");
  assertEquals(wrongly, [], "no state A still has was purged");
  assertEquals(p.b.engine.stats.bulkpurged, 3);
  assertEquals(p.b.engine.stats.seqgaps, 0, "repaired, not lost");
  assertEquals(tableSummary(p.b.table), tableSummary(p.a.table));
});

Deno.test("describeTrailing() names what follows the records, for pfsyncd decode", () => {
  const upd = encodeFrame({ action: PFSYNC_ACT_UPD_C, records: [] });
  const seq = encodeSeqTrailer({ senderId: 0x10000000, sequence: (3n << 32n) | 9n });
  const nack = encodeNack({ senderId: 0x10000001, ranges: [{ hi: 3, lo: 4, packets: 2 }] });
  const mark = encodeRepaired([
    { hi: 3, lo: 4, packets: 2, answered: true },
    { hi: 3, lo: 8, packets: 1, answered: false },
  ]);
  const cases: [Uint8Array, string | undefined][] = [
    [upd, undefined],
    [new Uint8Array([...upd, ...seq]), "sequence trailer, host 0x10000000 seq 3:9"],
    [new Uint8Array([...upd, ...nack]), "NACK to host 0x10000001: 1 range(s), first 3:4 +2"],
    [
      new Uint8Array([...upd, ...seq, ...mark]),
      "sequence trailer, host 0x10000000 seq 3:9; repaired 2 range(s), 1 forgotten",
    ],
    [new Uint8Array([...upd, 1, 2, 3]), "unknown"],
    [new Uint8Array([...upd, ...nack.subarray(0, 14)]), "NACK (malformed)"],
  ];
  for (const [packet, text] of cases) assertEquals(describeTrailing(packet, 4), text);
});

Deno.test("RepairBudget: a burst of its rate, refilled over a second", () => {
  const b = new RepairBudget(100);
  assertEquals([b.take(0, 60), b.take(0, 41), b.take(0, 40)], [true, false, true]);
  assertEquals(b.take(100, 11), false, "10 tokens back after 100 ms");
  assertEquals(b.take(100, 10), true);
  assertEquals([b.take(10_000, 100), b.take(10_000, 1)], [true, false], "never more than 100");
});

Deno.test("PfsyncEngine: NACKs beyond the repair budget are answered 'forgotten'", () => {
  const p = lossyPair({ insertDelayMs: 10 });
  let insSeq: { hi: number; lo: number } | undefined;
  const markers: boolean[] = [];
  p.drop = (from, bytes) => {
    if (from !== p.a) return false;
    if (bytes[2] === PFSYNC_ACT_INS && !insSeq) {
      const v = new DataView(bytes.buffer, bytes.byteOffset);
      const end = 4 + bytes[3] * 224;
      insSeq = { hi: v.getUint32(end + 8), lo: v.getUint32(end + 12) };
    }
    if (isBeacon(bytes) && bytes.length > 20) markers.push(decodeRepaired(bytes, 20)![0].answered);
    return false;
  };
  p.a.table.insert(makeState({ creatorId: 0x10000000 }), "local");
  p.seg.run(20);
  assert(insSeq, "A sent its INS");
  const ask = (range: { hi: number; lo: number }, packets: number) => {
    const nack = encodeNack({ senderId: 0x10000000, ranges: [{ ...range, packets }] });
    p.a.engine.receive(
      { ttl: 255, onSyncInterface: true, source: "10.0.0.2" },
      new Uint8Array([2, 0, PFSYNC_ACT_UPD_C, 0, ...nack]),
    );
    p.seg.pump();
  };
  ask(insSeq, 1);
  ask({ hi: 1, lo: 2 }, MAX_REPAIR_PACKETS - 1); // spends the rest of the budget
  ask(insSeq, 1);
  p.seg.run(1_000); // the budget refills
  ask(insSeq, 1);
  ask({ hi: 1, lo: 2 }, MAX_REPAIR_PACKETS + 1); // more than ever fits: not even tried
  assertEquals(markers, [true, false, false, true, false]);
  assertEquals(p.a.engine.stats.repairsent, 2);
});

Deno.test("PfsyncEngine: a malformed NACK or repair marker is ignored and counted (badrepair)", () => {
  const p = lossyPair();
  const meta = { ttl: 255, onSyncInterface: true, source: "10.0.0.2" };
  const upd = encodeFrame({ action: PFSYNC_ACT_UPD_C, records: [] });
  const nack = encodeNack({ senderId: 0x10000000, ranges: [{ hi: 1, lo: 2, packets: 3 }] });
  const sentBefore = p.a.sent + p.a.beacons;
  // Cut short: the range count promises more than the packet holds.
  p.a.engine.receive(meta, new Uint8Array([...upd, ...nack.subarray(0, nack.length - 1)]));
  p.seg.pump();
  assertEquals([p.a.engine.stats.badrepair, p.a.engine.stats.nackrcvd], [1, 0]);
  assertEquals(p.a.sent + p.a.beacons, sentBefore, "nothing answered");
  // A marker behind a sequence trailer, with zero ranges.
  const mark = encodeRepaired([{ hi: 1, lo: 2, packets: 1, answered: true }]);
  mark[5] = 0;
  const seq = encodeSeqTrailer({ senderId: 0x10000001, sequence: (9n << 32n) | 1n });
  assertEquals(p.a.engine.receive(meta, new Uint8Array([...upd, ...seq, ...mark])).accepted, true);
  assertEquals(p.a.engine.stats.badrepair, 2);
  // Well-formed ones are not counted.
  p.a.engine.receive(meta, new Uint8Array([...upd, ...nack]));
  assertEquals(p.a.engine.stats.badrepair, 2);
});
