/**
 * digestTable(): order-independent, sensitive to exactly what the fault lab's
 * tableDigest compares (id@creatorid → proto, src, dst, peers as the `states`
 * method shows them), blind to what legitimately differs between peers.
 * Every case is checked twice: against the expected outcome, and against a
 * reference built the lab's way (stateView → JSON → the compared fields).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { digestRecords, digestTable } from "../../lib/state/digest.ts";
import { encodeStateRecord } from "../../lib/state/record.ts";
import { type Origin, StateTable } from "../../lib/state/table.ts";
import { establishedPeer, establishedTcpState } from "../../lib/state/synthetic.ts";
import type { State, StatePeer } from "../../lib/state/types.ts";
import { stateView } from "../../lib/agent/state_view.ts";
import { buildHandlers } from "../../lib/agent/handlers.ts";
import type { Agent } from "../../lib/agent/agent.ts";

const NOW = 1_800_000_000_000;

/** Nine states of different shapes: IPv4 out and in, UDP, IPv6 (both af numbers), odd peers. */
function baseStates(): State[] {
  const tcp = (n: number, extra: Partial<State> = {}): State => ({
    ...establishedTcpState({
      id: 0x6500000000000000n + BigInt(n),
      creatorId: n % 2 === 0 ? 1 : 2,
      lan: { addr: `192.0.2.${10 + n}`, port: 40000 + n },
      ext: { addr: "198.51.100.7", port: 443 },
      src: establishedPeer(1000 * n, 1000 * n + 65535, 7),
      dst: establishedPeer(5000 * n, 5000 * n + 65535, 7),
      creation: 30,
    }),
    expire: 86400,
    ...extra,
  });
  return [
    tcp(0),
    tcp(1, { direction: 1 }),
    tcp(2, { proto: 17, src: { ...establishedPeer(0), state: 2 } }),
    tcp(3, {
      af: 28,
      lan: { addr: "2001:db8::3", port: 1234 },
      gwy: { addr: "2001:db8::3", port: 1234 },
      ext: { addr: "2001:db8:1::7", port: 80 },
    }),
    tcp(4, {
      af: 24,
      direction: 1,
      lan: { addr: "2001:db8::4", port: 1234 },
      gwy: { addr: "2001:db8::4", port: 1234 },
      ext: { addr: "2001:db8:1::7", port: 80 },
    }),
    tcp(5, {
      src: {
        ...establishedPeer(7, 8, 3),
        scrub: { flags: 1, ttl: 64, scrubFlag: 1, tsMod: 99 },
        scrubFlag: 2,
        pad: [1, 2, 3, 4, 5],
      },
    }),
    tcp(6, { gwy: { addr: "203.0.113.6", port: 50006 } }),
    tcp(7, { direction: 0 }),
    // af AF_INET with addresses that are no IPv4 text: printed as IPv6.
    tcp(8, {
      lan: { addr: "::1:c000:218", port: 1 },
      gwy: { addr: "::1:c000:218", port: 1 },
      ext: { addr: "::1:c633:6407", port: 443 },
    }),
  ];
}

function tableOf(states: readonly State[], origin: Origin = "local"): StateTable {
  const table = new StateTable({ now: () => NOW });
  for (const state of states) assert(table.insert(state, origin), `inserted ${state.id}`);
  return table;
}

/** The lab's tableDigest over a table: what the `states` method shows, through JSON. */
function labView(table: StateTable): Map<string, string> {
  const out = new Map<string, string>();
  for (const state of table.states()) {
    const s = JSON.parse(JSON.stringify(stateView(state, "local")));
    out.set(`${s.id}@${s.creatorid}`, JSON.stringify([s.proto, s.src, s.dst, s.peers]));
  }
  return out;
}

function sameMap(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

const peer = (p: StatePeer, patch: Partial<StatePeer>): StatePeer => ({ ...p, ...patch });

/** (name, change to state `index`, whether the lab's comparison sees it). */
const CASES: [string, number, (s: State) => State, boolean][] = [
  // Compared: the key, proto, src/dst text, peers.
  ["id", 0, (s) => ({ ...s, id: s.id + 1000n }), true],
  ["creator id", 0, (s) => ({ ...s, creatorId: 77 }), true],
  ["proto", 0, (s) => ({ ...s, proto: 17 }), true],
  ["lan address (out)", 0, (s) => ({ ...s, lan: { addr: "192.0.2.99", port: s.lan.port } }), true],
  ["lan port (out)", 0, (s) => ({ ...s, lan: { ...s.lan, port: 1 } }), true],
  ["ext address (out)", 0, (s) => ({ ...s, ext: { ...s.ext, addr: "198.51.100.8" } }), true],
  ["ext port (out)", 0, (s) => ({ ...s, ext: { ...s.ext, port: 444 } }), true],
  ["lan port (in)", 1, (s) => ({ ...s, lan: { ...s.lan, port: 2 } }), true],
  ["ext address (in)", 1, (s) => ({ ...s, ext: { ...s.ext, addr: "203.0.113.1" } }), true],
  ["direction out → in (src/dst swap)", 0, (s) => ({ ...s, direction: 1 }), true],
  ["IPv6 ext address", 3, (s) => ({ ...s, ext: { ...s.ext, addr: "2001:db8:1::8" } }), true],
  ["af AF_INET → inet6 (IPv4 bytes print as IPv6)", 0, (s) => ({ ...s, af: 28 }), true],
  ["src seqlo", 0, (s) => ({ ...s, src: peer(s.src, { seqlo: 1 }) }), true],
  ["src seqhi", 0, (s) => ({ ...s, src: peer(s.src, { seqhi: 1 }) }), true],
  ["src seqdiff", 0, (s) => ({ ...s, src: peer(s.src, { seqdiff: 1 }) }), true],
  ["src maxWin", 0, (s) => ({ ...s, src: peer(s.src, { maxWin: 1 }) }), true],
  ["src mss", 0, (s) => ({ ...s, src: peer(s.src, { mss: 1 }) }), true],
  ["src state", 0, (s) => ({ ...s, src: peer(s.src, { state: 10 }) }), true],
  ["src wscale", 0, (s) => ({ ...s, src: peer(s.src, { wscale: 1 }) }), true],
  ["dst seqlo", 0, (s) => ({ ...s, dst: peer(s.dst, { seqlo: 1 }) }), true],
  ["dst state", 0, (s) => ({ ...s, dst: peer(s.dst, { state: 1 }) }), true],
  ["dst wscale", 0, (s) => ({ ...s, dst: peer(s.dst, { wscale: 0 }) }), true],
  [
    "dst scrub tsMod",
    0,
    (s) => ({ ...s, dst: peer(s.dst, { scrub: { flags: 0, ttl: 0, scrubFlag: 0, tsMod: 1 } }) }),
    true,
  ],
  ["src scrubFlag", 5, (s) => ({ ...s, src: peer(s.src, { scrubFlag: 3 }) }), true],
  ["src pad", 5, (s) => ({ ...s, src: peer(s.src, { pad: [1, 2, 3, 4, 6] }) }), true],
  ["UDP src state", 2, (s) => ({ ...s, src: peer(s.src, { state: 1 }) }), true],
  // Not compared: they differ between peers without sync being wrong.
  ["expire", 0, (s) => ({ ...s, expire: 5 }), false],
  ["creation", 0, (s) => ({ ...s, creation: 9999 }), false],
  ["packets", 0, (s) => ({ ...s, packets: [1, 2] }), false],
  ["bytes", 0, (s) => ({ ...s, bytes: [300, 400] }), false],
  ["updates counter", 0, (s) => ({ ...s, updates: 5 }), false],
  ["timeout", 0, (s) => ({ ...s, timeout: 4 }), false],
  ["syncFlags", 0, (s) => ({ ...s, syncFlags: 1 }), false],
  ["ifname", 0, (s) => ({ ...s, ifname: "eth9" }), false],
  ["gwy", 6, (s) => ({ ...s, gwy: { addr: "203.0.113.60", port: 1 } }), false],
  ["rtAddr", 0, (s) => ({ ...s, rtAddr: "192.0.2.254" }), false],
  ["rule, anchor, natRule", 0, (s) => ({ ...s, rule: 1, anchor: 2, natRule: 3 }), false],
  ["log, allowOpts", 0, (s) => ({ ...s, log: 1, allowOpts: 1 }), false],
  ["direction out → inout (same src/dst)", 0, (s) => ({ ...s, direction: 0 }), false],
  ["IPv6 af 24 ↔ 28 (same text)", 3, (s) => ({ ...s, af: 24 }), false],
  ["af AF_INET → inet6 on an address printed as IPv6 anyway", 8, (s) => ({ ...s, af: 28 }), false],
];

Deno.test("digestTable() is the same for the same states in any insertion order and slots", () => {
  const states = baseStates();
  const a = digestTable(tableOf(states));
  assertEquals(a.count, states.length);
  assertEquals(a.digest.length, 16);
  assert(/^[0-9a-f]{16}$/.test(a.digest), a.digest);
  assertEquals(digestTable(tableOf([...states].reverse(), { peer: "192.0.2.2" })), a);
  // Other slots: insert extra states first, delete them, then the same states.
  const moved = new StateTable({ now: () => NOW + 5_000 });
  const filler = baseStates().map((s) => ({ ...s, id: s.id + 0x100n, creatorId: 9 }));
  for (const s of filler) moved.insert({ ...s, lan: { ...s.lan, port: s.lan.port + 1 } }, "local");
  for (const s of [...states].sort((x, y) => Number(y.creatorId - x.creatorId))) {
    moved.insert(s, "local");
  }
  for (const s of filler) moved.delete(s, "local");
  assertEquals(digestTable(moved), a);
  // Records straight from the codec give the digest of the table holding them.
  assertEquals(digestRecords(states.map((s) => encodeStateRecord(s))), a);
});

Deno.test("digestTable() of an empty table and of one state", () => {
  assertEquals(digestTable(new StateTable()), { count: 0, digest: "0000000000000000" });
  const one = digestTable(tableOf(baseStates().slice(0, 1)));
  assertEquals(one.count, 1);
  assert(one.digest !== "0000000000000000");
});

Deno.test("digestTable() changes with every field the lab compares and only with those", async (t) => {
  const base = baseStates();
  const before = tableOf(base);
  const digest = digestTable(before);
  const view = labView(before);
  for (const [name, index, change, compared] of CASES) {
    await t.step(`${name} → ${compared ? "different" : "same"} digest`, () => {
      const states = base.map((s, i) => i === index ? change(s) : s);
      // Another insertion order as well: only the content may matter.
      const after = tableOf(states.reverse(), { peer: "192.0.2.2" });
      assertEquals(after.size, base.length);
      assertEquals(!sameMap(view, labView(after)), compared, "the lab's comparison agrees");
      const got = digestTable(after);
      assertEquals(got.count, base.length);
      assertEquals(got.digest !== digest.digest, compared, `${got.digest} vs ${digest.digest}`);
    });
  }
});

Deno.test("digestTable() tells apart tables that differ by one state among many", () => {
  const states = Array.from({ length: 2_000 }, (_, n) =>
    establishedTcpState({
      id: BigInt(n + 1),
      creatorId: 1,
      lan: { addr: `192.0.2.${n % 250 + 1}`, port: 1024 + n },
      ext: { addr: "198.51.100.7", port: 443 },
      src: establishedPeer(n * 7919),
      dst: establishedPeer(n * 104729),
    }));
  const whole = digestTable(tableOf(states));
  const seen = new Set([whole.digest]);
  for (let n = 0; n < states.length; n += 97) {
    const without = digestTable(tableOf(states.filter((_, i) => i !== n)));
    assertEquals(without.count, states.length - 1);
    const bumped = digestTable(
      tableOf(
        states.map((s, i) => i === n ? { ...s, src: { ...s.src, seqlo: s.src.seqlo + 1 } } : s),
      ),
    );
    assertEquals(bumped.count, states.length);
    for (const d of [without.digest, bumped.digest]) {
      assert(!seen.has(d), `digest ${d} seen before (state ${n})`);
      seen.add(d);
    }
  }
});

Deno.test("states.digest handler answers the agent table's count and digest", async () => {
  const table = tableOf(baseStates());
  const handlers = buildHandlers({ table } as unknown as Agent);
  const ctx = { signal: new AbortController().signal, connection: 1 };
  const result = await handlers["states.digest"]!({}, ctx);
  assertEquals(result, digestTable(table));
  assertEquals(result.count, baseStates().length);
  table.delete(baseStates()[0], "local");
  const after = await handlers["states.digest"]!({}, ctx);
  assertEquals(after.count, baseStates().length - 1);
  assert(after.digest !== result.digest);
});
