import { parseAddress } from "../../../lib/net/address.ts";
import { CT_ERRNO, CT_MSG_NEW, IPS } from "../../../lib/netlink/ct_constants.ts";
import type { CtEntry, CtTuple } from "../../../lib/netlink/ct_types.ts";
import { buildFilter } from "../../../lib/state/conntrack/filters.ts";
import { ctToState } from "../../../lib/state/conntrack/mapping.ts";
import {
  ConntrackProvider,
  type ConntrackProviderOptions,
} from "../../../lib/state/conntrack/provider.ts";
import type { ProviderChange } from "../../../lib/state/provider.ts";
import type { State } from "../../../lib/state/types.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../helpers/assert.ts";
import { FakeKernel, mirror } from "./fake_kernel.ts";

const ip = (text: string): Uint8Array => parseAddress(text)!.address;
const PEER = { creatorId: 0x22222222, epoch: 5 };

function tcp(src: string, sport: number, dst: string, dport: number): CtTuple {
  return { src: ip(src), dst: ip(dst), proto: 6, srcPort: sport, dstPort: dport };
}

function flow(orig: CtTuple, extra: Partial<CtEntry> = {}): CtEntry {
  return {
    orig,
    reply: mirror(orig),
    status: IPS.CONFIRMED | IPS.SEEN_REPLY | IPS.ASSURED,
    timeout: 300,
    tcp: { state: 3, flagsOriginal: { flags: 3, mask: 0 }, flagsReply: { flags: 3, mask: 0 } },
    ...extra,
  };
}

function peerState(entry: CtEntry): State {
  return ctToState(entry, PEER);
}

interface Rig {
  kernel: FakeKernel;
  provider: ConntrackProvider;
  changes: ProviderChange[];
  logs: string[];
  reactor: Map<number, () => void>;
}

function rig(
  options: Partial<ConntrackProviderOptions> = {},
  setup?: (k: FakeKernel) => void,
): Rig {
  const kernel = new FakeKernel();
  setup?.(kernel);
  const reactor = new Map<number, () => void>();
  const logs: string[] = [];
  const provider = new ConntrackProvider({
    creatorId: 0x11111111,
    epoch: 1,
    reactor: { add: (fd, cb) => void reactor.set(fd, cb), remove: (fd) => reactor.delete(fd) },
    openPort: kernel.open,
    sweepIntervalMs: 0,
    sysctl: { read: () => "1" },
    log: (level, message) => logs.push(`${level}: ${message}`),
    ...options,
  });
  const changes: ProviderChange[] = [];
  provider.onChange((c) => changes.push(c));
  return { kernel, provider, changes, logs, reactor };
}

const A = tcp("10.0.0.5", 40000, "198.51.100.20", 443);
const B = tcp("10.0.0.6", 40001, "198.51.100.20", 443);
const OWN = tcp("198.51.100.9", 50000, "192.0.2.1", 22);

Deno.test("ConntrackProvider opens events first, on groups NEW|UPDATE|DESTROY, with a big buffer", async () => {
  const { kernel, provider } = rig();
  assertEquals(kernel.ports.map((p) => p.groups), [7, 0, 0]);
  assertEquals(kernel.ports[0].receiveBuffer, 128 * 1024 * 1024);
  await provider.close();
  assert(kernel.ports.every((p) => p.closed));
});

Deno.test("ConntrackProvider.load() dumps the table, filters own flows, then subscribes", async () => {
  const filter = buildFilter({ ownAddresses: ["192.0.2.1"] });
  const { provider, reactor } = rig({ filter }, (k) => {
    k.traffic(flow(A));
    k.traffic(flow(B));
    k.traffic(flow(OWN));
  });
  assertEquals(reactor.size, 0);
  const states = await provider.load();
  assertEquals(states.map((s) => s.lan.addr).sort(), ["10.0.0.5", "10.0.0.6"]);
  assert(states.every((s) => s.creatorId === 0x11111111));
  assertEquals(provider.stats.filteredBy["own-address"], 1);
  assertEquals(reactor.size, 1);
  await provider.close();
  assertEquals(reactor.size, 0);
});

Deno.test("ConntrackProvider turns traffic events into insert/update/delete", async () => {
  const { kernel, provider, changes, reactor } = rig();
  await provider.load();
  kernel.traffic(flow(A, { status: IPS.CONFIRMED, timeout: 120, tcp: { state: 1 } }));
  kernel.traffic(flow(A));
  kernel.expire(A);
  [...reactor.values()][0]();
  assertEquals(changes.map((c) => c.type), ["insert", "update", "delete"]);
  assertEquals(changes.map((c) => c.state.src.pad?.[0]), [1, 3, 3]);
  assertEquals(provider.stats.events, 3);
  await provider.close();
});

Deno.test("ConntrackProvider.apply() injects a peer state and ignores the echo of its own create", async () => {
  const { kernel, provider, changes } = rig();
  await provider.load();
  await provider.apply({
    type: "insert",
    state: peerState(flow(A, { mark: 7 })),
    peer: "192.0.2.2",
  });
  const entry = kernel.get(A)!;
  assertEquals([entry.timeout, entry.mark, entry.status], [300, 7, 0xe]);
  // BE_LIBERAL both ways so a bulk transfer survives takeover (spec §2.12).
  assertEquals(entry.tcp?.flagsOriginal?.flags, 0x0b);
  assertEquals(entry.tcp?.flagsReply?.flags, 0x0b);
  provider.drainEvents();
  assertEquals(changes, []);
  assertEquals(provider.stats.ownEvents, 1);
  assertEquals(provider.applier.counters.created, 1);
  await provider.close();
});

Deno.test("ConntrackProvider.apply() updates a learned flow directly, without a failed create", async () => {
  const { kernel, provider } = rig();
  await provider.load();
  await provider.apply({ type: "insert", state: peerState(flow(A)), peer: "p" });
  const before = kernel.requests;
  await provider.apply({ type: "update", state: peerState(flow(A, { timeout: 999 })), peer: "p" });
  assertEquals(kernel.requests - before, 1);
  assertEquals(kernel.get(A)!.timeout, 999);
  assertEquals(provider.applier.counters.updated, 1);
  await provider.close();
});

Deno.test("ConntrackProvider.apply() goes create → EEXIST → update for a flow the kernel already has", async () => {
  const { kernel, provider } = rig({}, (k) => k.traffic(flow(A, { timeout: 10 })));
  await provider.load();
  await provider.apply({ type: "insert", state: peerState(flow(A, { timeout: 500 })), peer: "p" });
  assertEquals(kernel.get(A)!.timeout, 500);
  assertEquals(provider.applier.counters, {
    created: 0,
    updated: 1,
    recreated: 0,
    deleted: 0,
    absent: 0,
    failed: 0,
  });
  await provider.close();
});

Deno.test("ConntrackProvider.apply() replaces the entry on EBUSY (update would clear ASSURED)", async () => {
  const { kernel, provider } = rig({}, (k) => k.traffic(flow(A)));
  await provider.load();
  const young = peerState(flow(A, { status: IPS.CONFIRMED, timeout: 60, tcp: { state: 1 } }));
  await provider.apply({ type: "insert", state: young, peer: "p" });
  assertEquals(provider.applier.counters.recreated, 1);
  assertEquals(kernel.get(A)!.status, IPS.CONFIRMED);
  assertEquals(kernel.get(A)!.tcp?.state, 1);
  await provider.close();
});

Deno.test("ConntrackProvider.apply() creates NAT entries with their NAT attributes", async () => {
  const { kernel, provider } = rig();
  await provider.load();
  const orig = tcp("10.0.0.5", 41000, "198.51.100.9", 80);
  const snat = flow(orig, { reply: tcp("198.51.100.9", 80, "192.0.2.1", 61000), status: 0x19e });
  await provider.apply({ type: "insert", state: peerState(snat), peer: "p" });
  const entry = kernel.get(orig)!;
  assertEquals(entry.reply, snat.reply);
  assert((entry.status! & IPS.SRC_NAT) !== 0);
  await provider.close();
});

Deno.test("ConntrackProvider.apply() delete: gone or already missing both succeed", async () => {
  const { kernel, provider } = rig();
  await provider.load();
  const state = peerState(flow(A));
  await provider.apply({ type: "insert", state, peer: "p" });
  await provider.apply({ type: "delete", state, peer: "p" });
  assertEquals(kernel.get(A), undefined);
  await provider.apply({ type: "delete", state, peer: "p" });
  assertEquals([provider.applier.counters.deleted, provider.applier.counters.absent], [1, 1]);
  assertEquals(provider.learnedCount, 0);
  await provider.close();
});

Deno.test("ConntrackProvider.apply() rejects with the flow and errno when the kernel refuses", async () => {
  const { kernel, provider } = rig();
  await provider.load();
  kernel.failNext.set(CT_MSG_NEW, CT_ERRNO.ENOMEM);
  const error = await assertRejects(
    () => provider.apply({ type: "insert", state: peerState(flow(A)), peer: "p" }),
    Error,
  );
  assertStringIncludes(error.message, "create proto 6 10.0.0.5:40000 → 198.51.100.20:443: ENOMEM");
  assertEquals(provider.applier.counters.failed, 1);
  await provider.close();
});

Deno.test("ConntrackProvider counts ENOBUFS and repairs the mirror with a resync dump", async () => {
  const { kernel, provider, changes } = rig({ resyncDelayMs: 60_000 });
  await provider.load();
  kernel.ports[0].capacity = 2;
  kernel.traffic(flow(A));
  provider.drainEvents();
  assertEquals(changes.length, 1);
  kernel.traffic(flow(B)); // queued
  kernel.expire(A); // queued
  kernel.traffic(flow(tcp("10.0.0.7", 1, "198.51.100.20", 443))); // dropped: overrun
  provider.drainEvents();
  assertEquals(provider.stats.overruns, 1);
  assertEquals(kernel.ports[0].receiveBuffer, 256 * 1024 * 1024); // doubled from 128 MiB
  assertEquals(changes.map((c) => c.type), ["insert", "insert", "delete"]);
  provider.sweep(true);
  assertEquals(provider.stats.resyncs, 1);
  // Only what the overrun lost: the flow whose NEW was dropped; B, unchanged, is not re-sent.
  assertEquals(changes.slice(3).map((c) => `${c.type} ${c.state.lan.addr}`).sort(), [
    "insert 10.0.0.7",
  ]);
  assertEquals(provider.stats.repaired, 1);
  await provider.close();
});

Deno.test("ConntrackProvider.sweep() re-announces timeouts refreshed by traffic, nothing else", async () => {
  let now = 1_000_000;
  const { kernel, provider, changes } = rig({ now: () => now }, (k) => {
    k.traffic(flow(A, { timeout: 300 }));
    k.traffic(flow(B, { timeout: 300 }));
  });
  await provider.load();
  now += 100_000; // 100 s later: A was refreshed by traffic (no event), B just ran down
  kernel.refresh(A, 299);
  kernel.refresh(B, 200);
  provider.sweep(false);
  assertEquals(changes.map((c) => `${c.type} ${c.state.lan.addr} ${c.state.expire}`), [
    "update 10.0.0.5 299",
  ]);
  assertEquals(provider.stats.refreshed, 1);
  await provider.close();
});

Deno.test("ConntrackProvider.sweep() withdraws a flow whose DESTROY was lost, never re-sends learned ones", async () => {
  const { kernel, provider, changes } = rig({}, (k) => k.traffic(flow(A)));
  await provider.load();
  await provider.apply({ type: "insert", state: peerState(flow(B)), peer: "p" });
  kernel.table.clear(); // A vanished without an event reaching us
  kernel.traffic(flow(B)); // B is in the kernel again, learned from the peer
  kernel.ports[0].queue.length = 0;
  provider.sweep(false);
  assertEquals(changes.map((c) => `${c.type} ${c.state.lan.addr}`), ["delete 10.0.0.5"]);
  assertEquals(provider.stats.repaired, 1);
  await provider.close();
});

Deno.test("ConntrackProvider reports a learned flow's local changes under the peer's identity", async () => {
  const { kernel, provider, changes } = rig();
  await provider.load();
  const state = peerState(flow(A));
  await provider.apply({ type: "insert", state, peer: "p" });
  provider.drainEvents();
  kernel.traffic(flow(A, { tcp: { state: 4, flagsOriginal: { flags: 7, mask: 0 } } }));
  provider.drainEvents();
  assertEquals(changes.length, 1);
  assertEquals([changes[0].state.id, changes[0].state.creatorId], [state.id, state.creatorId]);
  await provider.close();
});

Deno.test("ConntrackProvider warns when nf_conntrack_events hides events, and can fix it", async () => {
  const values: [string, boolean, string | undefined][] = [
    ["2", false, "nf_conntrack_events = 2 (auto)"],
    ["0", false, "nf_conntrack_events = 0"],
    ["1", false, undefined],
    ["2", true, "set net.netfilter.nf_conntrack_events = 1"],
  ];
  for (const [value, fix, expected] of values) {
    let current = value;
    const { provider, logs } = rig({
      fixEventsSysctl: fix,
      sysctl: { read: () => current, write: (_n, v) => void (current = v) },
    });
    await provider.load();
    const relevant = logs.filter((l) => l.includes("nf_conntrack_events"));
    if (expected) assertStringIncludes(relevant.join("\n"), expected);
    else assertEquals(relevant, []);
    await provider.close();
  }
});

Deno.test("ConntrackProvider injects with a grace of 1.5 sweep periods by default", async () => {
  const { kernel, provider } = rig({ sweepIntervalMs: 20_000 });
  await provider.load();
  await provider.apply({ type: "insert", state: peerState(flow(A, { timeout: 300 })), peer: "p" });
  assertEquals(kernel.get(A)!.timeout, 330);
  await provider.close();
});

Deno.test("ConntrackProvider.apply() retries a create without the helper the kernel lacks", async () => {
  const { kernel, provider } = rig();
  await provider.load();
  kernel.failNext.set(CT_MSG_NEW, CT_ERRNO.EOPNOTSUPP);
  const udp: CtTuple = { ...A, proto: 17 };
  await provider.apply({
    type: "insert",
    state: peerState(flow(udp, { tcp: undefined, help: { name: "sip" } })),
    peer: "p",
  });
  assertEquals(kernel.get(udp)?.help, undefined);
  assertEquals(provider.applier.counters.created, 1);
  await provider.close();
});

Deno.test("ConntrackProvider.apply() sends a burst of new flows in one datagram, in order with a delete", async () => {
  const { kernel, provider } = rig();
  await provider.load();
  kernel.traffic(flow(B)); // B exists here already: its create fails inside the batch
  provider.drainEvents();
  const requests = kernel.ports[1];
  const before = requests.datagrams;
  const C = tcp("10.0.0.7", 40002, "198.51.100.20", 443);
  // As pfsync hands them over: one after another, nobody waiting in between.
  const applied = [A, B, C].map((t) =>
    provider.apply({ type: "insert", state: peerState(flow(t)), peer: "p" })
  );
  applied.push(provider.apply({ type: "delete", state: peerState(flow(A)), peer: "p" }));
  await Promise.all(applied);
  // One datagram for the three creates, one update for B (EEXIST), one delete for A after it.
  assertEquals(requests.datagrams - before, 3);
  assertEquals([kernel.get(A), kernel.get(B)?.timeout, kernel.get(C)?.timeout], [
    undefined,
    300,
    300,
  ]);
  const { created, updated, deleted, failed } = provider.applier.counters;
  assertEquals({ created, updated, deleted, failed }, {
    created: 2,
    updated: 1,
    deleted: 1,
    failed: 0,
  });
  assertEquals(provider.learnedCount, 2);
  await provider.close();
});

Deno.test("ConntrackProvider.apply() rejects just the state the kernel refused in a batch", async () => {
  const { kernel, provider } = rig();
  await provider.load();
  kernel.failNext.set(CT_MSG_NEW, CT_ERRNO.ENOMEM); // the first create of the datagram
  const results = await Promise.allSettled(
    [A, B].map((t) => provider.apply({ type: "insert", state: peerState(flow(t)), peer: "p" })),
  );
  assertEquals(results.map((r) => r.status), ["rejected", "fulfilled"]);
  assertEquals([kernel.get(A), kernel.get(B)?.timeout], [undefined, 300]);
  await provider.close();
});

function manyFlows(n: number, base = 0): CtTuple[] {
  return Array.from(
    { length: n },
    (_, i) =>
      tcp(
        `10.${(base + i) >> 16}.${((base + i) >> 8) & 255}.${(base + i) & 255}`,
        1000,
        "198.51.100.20",
        443,
      ),
  );
}

/** A kernel table after load(): some flows refreshed by traffic, some gone, some new — no events. */
async function drifted(options: Partial<ConntrackProviderOptions>) {
  let now = 1_000_000;
  const flows = manyFlows(600);
  const r = rig({ now: () => now, ...options }, (k) => {
    for (const f of flows) k.traffic(flow(f, { timeout: 300 }));
  });
  await r.provider.load();
  now += 100_000;
  flows.forEach((f, i) => r.kernel.refresh(f, i % 10 === 0 ? 299 : 200));
  for (const f of flows.slice(0, 30)) r.kernel.table.delete(ctFlowKeyOf(r.kernel, f));
  for (const f of manyFlows(20, 5000)) r.kernel.traffic(flow(f));
  r.kernel.ports[0].queue.length = 0; // the events of the drift were lost
  return r;
}

function ctFlowKeyOf(kernel: FakeKernel, orig: CtTuple): string {
  return [...kernel.table.keys()].find((k) => kernel.table.get(k)!.orig === orig) ?? "";
}

const summary = (changes: ProviderChange[]) =>
  changes.map((c) => `${c.type} ${c.state.lan.addr} ${c.state.expire}`).sort();

Deno.test("ConntrackProvider.sweepInSlices() hands the loop back between slices and finds what sweep() finds", async () => {
  const whole = await drifted({});
  whole.provider.sweep(false);
  const sliced = await drifted({ sweepSliceMs: 0 });
  let turns = 0;
  const ticker = setInterval(() => turns++, 0);
  await new Promise<void>((resolve) => sliced.provider.sweepInSlices(false, resolve));
  clearInterval(ticker);
  assert(turns >= 10, `timers ran between the slices (${turns} turns)`);
  assertEquals(summary(sliced.changes), summary(whole.changes));
  // 60 refreshed (every 10th), 30 gone, 20 new.
  assertEquals(whole.changes.length, 60 - 3 + 30 + 20);
  assertEquals(sliced.provider.stats.repaired, whole.provider.stats.repaired);
  await whole.provider.close();
  await sliced.provider.close();
});

Deno.test("ConntrackProvider.sweepInSlices() does not withdraw a flow first announced while it ran", async () => {
  const { kernel, provider, changes } = rig({ sweepSliceMs: 0 }, (k) => {
    for (const f of manyFlows(300)) k.traffic(flow(f));
  });
  await provider.load();
  let finished = false;
  provider.sweepInSlices(false, () => finished = true);
  assert(!finished, "the sweep is still running after its first slice");
  const late = tcp("10.9.9.9", 7, "198.51.100.20", 443);
  kernel.traffic(flow(late));
  provider.drainEvents();
  kernel.table.clear(); // the late flow is missing from the dump already under way
  await new Promise<void>((resolve) => {
    const poll = () => finished ? resolve() : setTimeout(poll, 1);
    poll();
  });
  assertEquals(changes.filter((c) => c.state.lan.addr === "10.9.9.9").map((c) => c.type), [
    "insert",
  ]);
  await provider.close();
});

Deno.test("ConntrackProvider.sweep() finishes a sliced sweep under way before its own", async () => {
  const { provider } = rig({ sweepSliceMs: 0 }, (k) => {
    for (const f of manyFlows(300)) k.traffic(flow(f));
  });
  await provider.load();
  let finished = false;
  provider.sweepInSlices(false, () => finished = true);
  provider.sweep(true); // would be EBUSY on a real socket if the dumps overlapped
  assert(finished);
  assertEquals(provider.stats.resyncs, 1);
  await provider.close();
});

/**
 * Sweeps racing the table, through the fake kernel's dump and GET:
 * [case, what changes while the dump is taken, expected changes after load,
 *  repaired, sweepRaced, sweepMissed, GETs].
 */
const RACES: [string, (k: FakeKernel) => void, string[], number, number, number, number][] = [
  ["nothing moves", () => {}, [], 0, 0, 0, 0],
  ["A left out of the dump, still live", (k) => k.dumpSkips.add(ctFlowKeyOf(k, A)), [], 0, 0, 1, 1],
  ["C created while the dump runs", (k) => k.traffic(flow(C)), ["insert 10.0.0.7"], 0, 1, 0, 0],
  ["A expires while the dump runs", (k) => k.expire(A), ["delete 10.0.0.5"], 0, 0, 0, 1],
  [
    "A deleted and re-created",
    (k) => {
      k.expire(A);
      k.traffic(flow(A, { timeout: 280 }));
    },
    ["delete 10.0.0.5", "insert 10.0.0.5"],
    0,
    0,
    0,
    0,
  ],
  [
    "A deleted, re-created, left out",
    (k) => {
      k.expire(A);
      k.traffic(flow(A, { timeout: 280 }));
      k.dumpSkips.add(ctFlowKeyOf(k, A));
    },
    ["delete 10.0.0.5", "insert 10.0.0.5"],
    0,
    0,
    0,
    1,
  ],
  [
    "A's DESTROY lost",
    (k) => {
      k.table.delete(ctFlowKeyOf(k, A));
    },
    ["delete 10.0.0.5"],
    1,
    0,
    0,
    1,
  ],
  [
    "C's NEW lost",
    (k) => {
      k.traffic(flow(C));
      k.ports[0].queue.length = 0;
    },
    ["insert 10.0.0.7"],
    1,
    0,
    0,
    0,
  ],
];
const C = tcp("10.0.0.7", 40002, "198.51.100.20", 443);

for (const sliced of [false, true]) {
  Deno.test(`ConntrackProvider.${sliced ? "sweepInSlices" : "sweep"}() never withdraws a live flow and counts only real repairs`, async () => {
    for (const [name, race, expected, repaired, raced, missed, gets] of RACES) {
      let now = 1_000_000;
      const { kernel, provider, changes } = rig({ sweepSliceMs: 0, now: () => now }, (k) => {
        k.traffic(flow(A));
        k.traffic(flow(B));
      });
      await provider.load();
      now += 1000;
      kernel.ports[0].queue.length = 0;
      kernel.onDump = () => race(kernel);
      if (sliced) await new Promise<void>((resolve) => provider.sweepInSlices(false, resolve));
      else provider.sweep(false);
      assertEquals(changes.map((c) => `${c.type} ${c.state.lan.addr}`), expected, name);
      const { stats } = provider;
      assertEquals(
        [stats.repaired, stats.sweepRaced, stats.sweepMissed],
        [repaired, raced, missed],
        name,
      );
      assertEquals(kernel.gets, gets, name);
      assertEquals(provider.announcedCount, kernel.table.size, name);
      await provider.close();
    }
  });
}

Deno.test("ConntrackProvider.sweep() keeps a suspect the kernel cannot look up until a second sweep misses it", async () => {
  const { kernel, provider, changes, logs } = rig({}, (k) => {
    k.traffic(flow(A));
    k.traffic(flow(B));
  });
  await provider.load();
  kernel.ports[0].queue.length = 0;
  kernel.table.delete(ctFlowKeyOf(kernel, A)); // gone without an event…
  kernel.failGets = CT_ERRNO.EINVAL; // …and the GET does not answer
  provider.sweep(false);
  assertEquals([changes.length, provider.stats.repaired, kernel.gets], [0, 0, 1]);
  provider.sweep(false);
  assertEquals(changes.map((c) => `${c.type} ${c.state.lan.addr}`), ["delete 10.0.0.5"]);
  assertEquals([provider.stats.repaired, kernel.gets], [1, 2]);
  assertEquals(logs.filter((l) => l.startsWith("error")), []);
  await provider.close();
});

Deno.test("ConntrackProvider.sweepInSlices() does not bring back a flow from a dump part older than its DESTROY", async () => {
  let now = 1_000_000;
  const { kernel, provider, changes } = rig({ sweepSliceMs: 0, now: () => now }, (k) => {
    k.traffic(flow(A));
    k.traffic(flow(B));
  });
  await provider.load();
  now += 1000;
  kernel.ports[0].queue.length = 0;
  // The dump's parts are queued with A in them; then A goes and its DESTROY is read (the
  // reactor between two slices) before those parts are.
  kernel.afterDump = () => {
    kernel.expire(A);
    provider.drainEvents();
  };
  await new Promise<void>((resolve) => provider.sweepInSlices(false, resolve));
  assertEquals(changes.map((c) => `${c.type} ${c.state.lan.addr}`), ["delete 10.0.0.5"]);
  assertEquals([provider.stats.repaired, provider.stats.sweepRaced], [0, 1]);
  assertEquals(provider.announcedCount, 1);
  // A comes back for real: its NEW announces it.
  kernel.traffic(flow(A));
  provider.drainEvents();
  assertEquals(changes.at(-1)?.type, "insert");
  await provider.close();
});

Deno.test("ConntrackProvider.sweepInSlices() does not bring back a peer's flow it deleted while the dump ran", async () => {
  let now = 1_000_000;
  const { kernel, provider, changes } = rig({ sweepSliceMs: 0, now: () => now });
  await provider.load();
  await provider.apply({ type: "insert", state: peerState(flow(A)), peer: "p" });
  now += 1000;
  // The dump's parts are queued with A in them; then the peer's delete of A is applied
  // (its event is our own: filtered) before those parts are read.
  kernel.afterDump = () => {
    void provider.apply({ type: "delete", state: peerState(flow(A)), peer: "p" });
  };
  await new Promise<void>((resolve) => provider.sweepInSlices(false, resolve));
  assertEquals(kernel.table.size, 0);
  assertEquals(changes, []); // no ghost announced back to the peer
  assertEquals([provider.stats.repaired, provider.stats.sweepRaced], [0, 1]);
  assertEquals([provider.announcedCount, provider.learnedCount], [0, 0]);
  await provider.close();
});
