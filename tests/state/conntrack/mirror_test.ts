import { parseAddress } from "../../../lib/net/address.ts";
import type { CtEntry, CtEventKind, CtTuple } from "../../../lib/netlink/ct_types.ts";
import { ctTupleKey } from "../../../lib/netlink/ctnetlink.ts";
import { ctFlowKey } from "../../../lib/netlink/ctnetlink_key.ts";
import { buildFilter, DEFAULT_FILTER } from "../../../lib/state/conntrack/filters.ts";
import { ctToState } from "../../../lib/state/conntrack/mapping.ts";
import { flowId, flowIdOf, SyncMirror } from "../../../lib/state/conntrack/mirror.ts";
import { emptyStats } from "../../../lib/state/conntrack/stats.ts";
import { assertEquals } from "../../helpers/assert.ts";

const ip = (text: string): Uint8Array => parseAddress(text)!.address;

function entry(state: number, timeout = 300, sport = 40000): CtEntry {
  return {
    orig: { src: ip("10.0.0.5"), dst: ip("198.51.100.20"), proto: 6, srcPort: sport, dstPort: 443 },
    reply: {
      src: ip("198.51.100.20"),
      dst: ip("10.0.0.5"),
      proto: 6,
      srcPort: 443,
      dstPort: sport,
    },
    status: 0xe,
    timeout,
    tcp: { state },
  };
}

function mirror(filter = DEFAULT_FILTER, clock = { now: 0 }) {
  const stats = emptyStats();
  const m = new SyncMirror({
    creatorId: 1,
    epoch: 2,
    filter,
    now: () => clock.now,
    refreshSlackSeconds: 10,
  }, stats);
  return { m, stats, clock };
}

/** [event kind, ct TCP state, expected change type or "-"]. */
const ESTABLISHED_ONLY: [CtEventKind, number, string][] = [
  ["new", 1, "-"], // SYN_SENT is not synced
  ["update", 3, "insert"], // first time it qualifies: an insert for the peers
  ["update", 3, "update"],
  ["update", 4, "delete"], // FIN_WAIT leaves the synced set: peers drop it
  ["update", 5, "-"],
  ["destroy", 7, "-"], // never announced since the delete
];

Deno.test("SyncMirror.event() with a TCP-state filter announces, updates and withdraws", () => {
  const { m, stats } = mirror(buildFilter({ tcpStates: ["ESTABLISHED"] }));
  const seen = ESTABLISHED_ONLY.map(([kind, state]) => m.event(kind, entry(state))?.type ?? "-");
  assertEquals(seen, ESTABLISHED_ONLY.map(([, , expected]) => expected));
  assertEquals(stats.filteredBy["tcp-state"], 3);
  assertEquals(m.announcedCount, 0);
});

Deno.test("SyncMirror.sweepEntry() re-announces only timeouts refreshed beyond the slack", () => {
  const { m, stats, clock } = mirror();
  m.event("new", entry(3, 300));
  clock.now = 100_000; // 100 s later the peer expects 200 s left
  // [kernel timeout now, expected change]; after 211 is announced the peer expects 211 s.
  const cases: [number, string][] = [[200, "-"], [209, "-"], [211, "update"], [220, "-"], [
    300,
    "update",
  ]];
  const results = cases.map(([timeout]) =>
    m.sweepEntry(entry(3, timeout), false, new Set())?.type ?? "-"
  );
  assertEquals(results, cases.map(([, expected]) => expected));
  assertEquals(stats.refreshed, 2);
});

type Verdict = "present" | "absent" | "unknown";
type Between = "nothing" | "destroy" | "update" | "missed again" | "seen again";

/**
 * [what happens between the sweep and the kernel's answer, the answer,
 *  changes from the events/sightings in between, change from confirm,
 *  repaired, sweepMissed, still announced].
 */
const SUSPECT_CASES: [Between, Verdict, string, string, number, number, boolean][] = [
  ["nothing", "absent", "", "delete", 1, 0, false], // a lost DESTROY: the only real repair
  ["nothing", "present", "", "-", 0, 1, true], // the dump skipped a live entry: kept
  ["destroy", "absent", "delete", "-", 0, 0, false], // the DESTROY was only queued: no repair
  ["update", "absent", "update", "-", 0, 0, true], // an event cleared it (its DESTROY will follow)
  ["nothing", "unknown", "", "-", 0, 0, true], // no word from the kernel: kept, once
  ["missed again", "unknown", "", "delete", 1, 0, false], // …missing from two sweeps: withdrawn
  ["seen again", "unknown", "-", "-", 0, 0, true], // the next dump showed it: cleared
];

Deno.test("SyncMirror: a flow missing from a sweep is only a suspect until the kernel says ENOENT", () => {
  for (const [between, verdict, during, expected, repaired, missed, kept] of SUSPECT_CASES) {
    const label = `${between}/${verdict}`;
    const { m, stats } = mirror();
    m.event("new", entry(3, 300, 1));
    m.event("new", entry(3, 300, 2));
    let seen = new Set<string>();
    m.sweepEntry(entry(3, 300, 1), false, seen);
    const suspects = m.sweepEnd(seen);
    assertEquals(suspects, [ctFlowKey(entry(3, 300, 2).orig!)], label);
    assertEquals([m.isSuspect(suspects[0]), m.announcedCount], [true, 2], label);
    const changes: string[] = [];
    if (between === "destroy") changes.push(m.event("destroy", entry(7, 0, 2))?.type ?? "-");
    if (between === "update") changes.push(m.event("update", entry(3, 300, 2))?.type ?? "-");
    if (between !== "nothing" && between !== "destroy" && between !== "update") {
      // The first answer was "unknown" too; then the next sweep.
      assertEquals(m.confirm(suspects[0], verdict), undefined, label);
      seen = new Set();
      m.sweepEntry(entry(3, 300, 1), false, seen);
      if (between === "seen again") {
        changes.push(m.sweepEntry(entry(3, 300, 2), false, seen)?.type ?? "-");
      }
      assertEquals(m.sweepEnd(seen).length, between === "missed again" ? 1 : 0, label);
    }
    assertEquals(changes.join(","), during, label);
    const change = m.confirm(suspects[0], verdict);
    assertEquals(change?.type ?? "-", expected, label);
    if (change) assertEquals(change.state.lan.port, 2, label);
    m.settle();
    assertEquals([stats.repaired, stats.sweepMissed], [repaired, missed], label);
    assertEquals(m.announcedCount, kept ? 2 : 1, label);
    assertEquals(
      m.suspectCount,
      kept && verdict === "unknown" && between === "nothing" ? 1 : 0,
      label,
    );
  }
});

/**
 * Entries a sweep's dump announced, and the events read after it:
 * [events after the dump, changes they give, repaired, sweepRaced].
 */
const DUMP_FOUND_CASES: [CtEventKind[], string, number, number][] = [
  [[], "", 1, 0], // no event ever announced it: a lost NEW, a real repair
  [["new"], "-", 0, 1], // created while the dump ran: its NEW, read later, is not sent again
  [["new", "update"], "-,update", 0, 1],
  [["update"], "update", 0, 1],
  [["new", "destroy"], "-,delete", 0, 1], // created and gone during the sweep
  [["destroy", "new"], "delete,insert", 0, 1], // the dump saw a later instance than the events
];

Deno.test("SyncMirror counts a dump-announced entry as repaired only if no event announced it", () => {
  for (const [events, expected, repaired, raced] of DUMP_FOUND_CASES) {
    const label = events.join(",") || "none";
    const { m, stats } = mirror();
    const seen = new Set<string>();
    assertEquals(m.sweepEntry(entry(3, 300, 9), false, seen)?.type, "insert", label);
    assertEquals(m.sweepEnd(seen), [], label);
    const changes = events.map((kind) => m.event(kind, entry(3, 300, 9))?.type ?? "-");
    assertEquals(changes.join(","), expected, label);
    m.settle();
    assertEquals([stats.repaired, stats.sweepRaced], [repaired, raced], label);
    m.settle(); // settled once: the next settle counts nothing again
    assertEquals(stats.repaired, repaired, label);
  }
});

Deno.test("SyncMirror: a flow deleted and re-created during a sweep is withdrawn and re-announced by its events", () => {
  const { m, stats } = mirror();
  m.event("new", entry(3, 300, 5));
  const seen = new Set<string>();
  // The dump shows the new instance (same tuple, same timeout): nothing to say yet.
  assertEquals(m.sweepEntry({ ...entry(3, 300, 5), id: 77 }, false, seen), undefined);
  assertEquals(m.sweepEnd(seen), []);
  // Then the queued events of the old instance's end and the new one's start.
  assertEquals(m.event("destroy", entry(7, 0, 5))?.type, "delete");
  assertEquals(m.event("new", { ...entry(3, 300, 5), id: 77 })?.type, "insert");
  m.settle();
  assertEquals([stats.repaired, stats.sweepRaced, stats.sweepMissed], [0, 0, 0]);
  assertEquals(m.announcedCount, 1);
});

Deno.test("SyncMirror.sweepEnd() does not judge flows first announced after a sliced sweep began", () => {
  const { m, clock } = mirror();
  m.event("new", entry(3, 300, 1));
  clock.now = 5_000;
  m.event("new", entry(3, 300, 2)); // after the sweep began at t = 1 s
  assertEquals(m.sweepEnd(new Set(), 1_000), [ctFlowKey(entry(3, 300, 1).orig!)]);
});

Deno.test("SyncMirror keeps a learned flow quiet in sweeps and reports it under the peer's identity", () => {
  const { m } = mirror();
  const peer = ctToState(entry(3), { creatorId: 0x99, epoch: 9 });
  const { key, exists } = m.peerKey(peer);
  assertEquals(exists, false);
  m.learn(key, peer, 300);
  assertEquals(m.peerKey(peer).exists, true);
  assertEquals(m.sweepEntry(entry(3), true, new Set()), undefined);
  const change = m.event("update", entry(4));
  assertEquals([change?.type, change?.state.creatorId, change?.state.id], [
    "insert",
    0x99,
    peer.id,
  ]);
  m.forget(key);
  assertEquals([m.learnedCount, m.announcedCount], [0, 0]);
});

Deno.test("SyncMirror.sweepEntry() hands a learned flow back once local traffic refreshes it", () => {
  const { m, clock } = mirror();
  const peer = ctToState(entry(3), { creatorId: 0x99, epoch: 9 });
  m.learn(m.peerKey(peer).key, peer, 345); // injected 300 s + 45 s grace at t = 0
  clock.now = 60_000;
  // [kernel timeout at t = 60 s, force, expected]: 285 s are left without local traffic.
  const cases: [number, boolean, string][] = [
    [285, false, "-"],
    [285, true, "-"], // a resync does not re-broadcast a peer's flow either
    [299, true, "insert"], // refreshed here: we carry this flow now, under the peer's identity
  ];
  for (const [timeout, force, expected] of cases) {
    const change = m.sweepEntry(entry(3, timeout), force, new Set());
    assertEquals(change?.type ?? "-", expected, `${timeout}/${force}`);
    if (change) assertEquals(change.state.creatorId, 0x99);
  }
});

Deno.test("SyncMirror.sweepEntry(force) re-sends only entries whose state, status or mark changed", () => {
  const { m, stats } = mirror();
  m.event("new", entry(3, 300, 1));
  m.event("new", entry(3, 300, 2));
  m.event("new", entry(3, 300, 3));
  const marked: CtEntry = { ...entry(3, 300, 3), mark: 7 };
  // [entry as the resync dump shows it, expected change]
  const cases: [CtEntry, string][] = [
    [entry(3, 300, 1), "-"], // unchanged: the peers already have it
    [entry(5, 300, 2), "update"], // CLOSE_WAIT: an UPDATE event was lost
    [marked, "update"], // the mark changed
    [entry(3, 300, 4), "insert"], // a NEW event was lost
  ];
  const seen = new Set<string>();
  for (const [e, expected] of cases) {
    assertEquals(m.sweepEntry(e, true, seen)?.type ?? "-", expected);
  }
  assertEquals(m.sweepEnd(seen), []);
  m.settle(); // no event announced port 4 by the end of the sweep: a lost NEW, repaired
  assertEquals([stats.repaired, stats.refreshed], [1, 0]);
});

Deno.test("flowId() separates flows whose CTA_IDs collide and is stable for one flow", () => {
  const a = "6 10.1.0.1:1024>10.2.0.1:80 z0";
  const b = "6 10.1.0.2:1024>10.2.0.1:80 z0";
  assertEquals(flowId(a, 7, 0xdeadbeef), flowId(a, 7, 0xdeadbeef));
  assertEquals(flowId(a, 7, 0xdeadbeef) === flowId(b, 7, 0xdeadbeef), false);
  assertEquals(flowId(a, 7, 0xdeadbeef) & 0xffffffffn, 0xdeadbeefn); // id[1] = CTA_ID
  assertEquals(flowId(a, 7, 1) === flowId(a, 8, 1), false); // another boot, another id
});

Deno.test("SyncMirror gives 100 000 flows 100 000 distinct ids, CTA_IDs shared in pairs", () => {
  const { m } = mirror();
  const ids = new Set<bigint>();
  for (let i = 0; i < 100_000; i++) {
    const e = entry(3, 300, 1024 + (i & 0x3fff));
    const src = ip(`10.${(i >> 14) & 255}.${(i >> 8) & 63}.${i & 255}`);
    // Two flows per CTA_ID: 32-bit hashes collide at this size, so the kernel's ids may too.
    const state = m.admit({
      ...e,
      id: i >> 1,
      orig: { ...e.orig!, src },
      reply: { ...e.reply!, dst: src },
    });
    ids.add(state!.id);
  }
  assertEquals(ids.size, 100_000);
});

Deno.test("flowIdOf() streams the same FNV-1a as flowId(ctTupleKey()) for every tuple shape", () => {
  const ip4 = (a: number) => new Uint8Array([10, (a >> 16) & 255, (a >> 8) & 255, a & 255]);
  const ip6 = (a: number) => {
    const out = new Uint8Array(16);
    out[0] = 0x20;
    out[1] = 0x01;
    out[15] = a & 255;
    out[14] = (a >> 8) & 255;
    return out;
  };
  const tuples: CtTuple[] = [];
  for (let i = 0; i < 500; i++) {
    const v6 = i % 3 === 0;
    const src = v6 ? ip6(i * 7919) : ip4(i * 7919);
    const dst = v6 ? ip6(i * 104729) : ip4(i * 104729);
    tuples.push(
      i % 4 === 0
        ? { src, dst, proto: v6 ? 58 : 1, icmpId: i * 131 % 65536, icmpType: 8, icmpCode: i % 3 }
        : i % 4 === 1
        ? { src, dst, proto: 47 }
        : { src, dst, proto: i % 2 ? 6 : 17, srcPort: i * 977 % 65536, dstPort: (i * 31) % 65536 },
    );
  }
  for (const [i, orig] of tuples.entries()) {
    const zone = i % 5 === 0 ? i * 13 % 65536 : 0;
    const epoch = 0x9e3779b9 ^ i;
    assertEquals(
      flowIdOf(orig, zone, epoch, i * 2654435761),
      flowId(ctTupleKey(orig, zone), epoch, i * 2654435761),
      ctTupleKey(orig, zone),
    );
  }
});

Deno.test("SyncMirror: a dump copy of a flow whose DESTROY was read during the sweep is not announced", () => {
  const { m, stats } = mirror();
  m.event("new", entry(3, 300, 6));
  m.sweepBegin();
  assertEquals(m.event("destroy", entry(7, 0, 6))?.type, "delete");
  const seen = new Set<string>();
  assertEquals(m.sweepEntry(entry(3, 300, 6), false, seen), undefined); // a stale dump part
  assertEquals(m.sweepEnd(seen), []);
  m.settle();
  assertEquals([stats.repaired, stats.sweepRaced, m.announcedCount], [0, 1, 0]);
  // After the sweep, a dump sighting of an unknown flow announces it again.
  m.sweepBegin();
  assertEquals(m.sweepEntry(entry(3, 300, 6), false, new Set())?.type, "insert");
});
