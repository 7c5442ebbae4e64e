/**
 * The soak run's pure parts (bench/soak/flows.ts, common.ts): the synthetic
 * flow model the churn process and the table comparison share, the
 * `conntrack -L` parser, the table diff, and the "flat" and error-counter
 * judgements the report's summary reads.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import type { StatusResult } from "../../lib/control/types.ts";
import { decodeCtMessage } from "../../lib/netlink/ctnetlink.ts";
import { IPS, TCP_CONNTRACK } from "../../lib/netlink/ct_constants.ts";
import {
  createMessage,
  deleteMessage,
  diffTables,
  diffTotal,
  flowEntry,
  flowKey,
  flowKind,
  flowTuple,
  parseListLine,
  updateMessage,
} from "../../bench/soak/flows.ts";
import {
  errorCounters,
  grownCounters,
  rssSvg,
  type Sample,
  thirdsGrowth,
} from "../../bench/soak/common.ts";

Deno.test("flowKind() mixes 75 % tcp4, 10 % udp4, 10 % tcp6, 5 % udp6", () => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < 20_000; i++) counts[flowKind(i)] = (counts[flowKind(i)] ?? 0) + 1;
  assertEquals(counts, { udp4: 2_000, tcp4: 15_000, tcp6: 2_000, udp6: 1_000 });
});

Deno.test("flowTuple() gives every flow number its own original tuple", () => {
  const keys = new Set<string>();
  // Across the 2^16 boundary (the IPv4 source port changes there) and far beyond the fill.
  for (let i = 0; i < 70_000; i++) keys.add(flowKey(flowTuple(i)));
  for (let i = 1_000_000; i < 1_010_000; i++) keys.add(flowKey(flowTuple(i)));
  assertEquals(keys.size, 80_000);
});

Deno.test("flowEntry() is ESTABLISHED TCP or UDP, assured, with a long timeout", () => {
  const tcp = flowEntry(1);
  assertEquals(tcp.tcp?.state, TCP_CONNTRACK.ESTABLISHED);
  assertEquals(tcp.status! & (IPS.SEEN_REPLY | IPS.ASSURED), IPS.SEEN_REPLY | IPS.ASSURED);
  assert(tcp.timeout! >= 86_400);
  const udp = flowEntry(0);
  assertEquals(udp.tcp, undefined);
  assert(udp.timeout! >= 3_600);
  // The reply tuple is the original one reversed (no NAT).
  assertEquals(tcp.reply!.srcPort, tcp.orig!.dstPort);
  assertEquals(Array.from(tcp.reply!.dst), Array.from(tcp.orig!.src));
});

Deno.test("createMessage()/updateMessage()/deleteMessage() encode the flow; only the last asks for an ACK", () => {
  const create = decodeCtMessage(createMessage(5, 77, false));
  assertEquals(create.seq, 77);
  assertEquals(create.flags & 0x4, 0);
  assertEquals(create.family, 10); // flow 5 is tcp6
  assertEquals(flowKey(create.entry.orig!), flowKey(flowTuple(5)));
  const update = decodeCtMessage(updateMessage(3, 42, 78, true));
  assertEquals(update.flags & 0x4, 0x4);
  assertEquals(update.entry.mark, 42);
  assertEquals(update.entry.timeout, flowEntry(3).timeout);
  const del = decodeCtMessage(deleteMessage(0, 79, true));
  assertEquals(del.family, 2);
  assertEquals(flowKey(del.entry.orig!), flowKey(flowTuple(0)));
});

// Lines as conntrack 1.4.7 prints them (from the soak's own namespaces).
const LINES = [
  "tcp      6 431995 ESTABLISHED src=10.1.54.110 dst=10.2.0.1 sport=1024 dport=443 " +
  "src=10.2.0.1 dst=10.1.54.110 sport=443 dport=1024 [ASSURED] mark=0 use=1",
  "tcp      6 431995 ESTABLISHED src=2001:db8:1::1b17 dst=2001:db8:2::1 sport=40000 " +
  "dport=443 src=2001:db8:2::1 dst=2001:db8:1::1b17 sport=443 dport=40000 [ASSURED] mark=0 use=1",
  "udp      17 7197 src=10.1.66.24 dst=10.2.0.1 sport=1024 dport=53 src=10.2.0.1 " +
  "dst=10.1.66.24 sport=53 dport=1024 [ASSURED] mark=3 use=1",
  "unknown  112 596 src=192.0.2.2 dst=224.0.0.18 src=224.0.0.18 dst=192.0.2.2 mark=0 use=1",
  "conntrack v1.4.7 (conntrack-tools): 4 flow entries have been shown.",
];

Deno.test("parseListLine() reads TCP and UDP flows of both families and skips the rest", () => {
  const rows = LINES.map(parseListLine);
  assertEquals(rows[0], {
    key: "tcp 10.1.54.110 1024 10.2.0.1 443",
    value: "ESTABLISHED mark=0",
  });
  assertEquals(rows[1]?.key, "tcp 2001:db8:1::1b17 40000 2001:db8:2::1 443");
  assertEquals(rows[2], { key: "udp 10.1.66.24 1024 10.2.0.1 53", value: "- mark=3" });
  assertEquals(rows[3], undefined);
  assertEquals(rows[4], undefined);
});

Deno.test("parseListLine() keys match flowKey() of the flow that was created", () => {
  // 0x1b17 = 6935: 6935 mod 20 = 15 → tcp6; 54·256 + 110 = 13934 → tcp4; 66·256 + 24 = 16920 → udp4.
  assertEquals(parseListLine(LINES[1])?.key, flowKey(flowTuple(0x1b17)));
  assertEquals(parseListLine(LINES[0])?.key, flowKey(flowTuple(54 * 256 + 110)));
  assertEquals(parseListLine(LINES[2])?.key, flowKey(flowTuple(66 * 256 + 24)));
});

Deno.test("diffTables() counts missing, extra, other-state and mark-only differences", () => {
  const a = new Map([
    ["f1", "ESTABLISHED mark=0"],
    ["f2", "ESTABLISHED mark=5"],
    ["f3", "ESTABLISHED mark=0"],
    ["f4", "- mark=0"],
  ]);
  const b = new Map([
    ["f1", "ESTABLISHED mark=0"],
    ["f2", "ESTABLISHED mark=0"],
    ["f3", "FIN_WAIT mark=0"],
    ["f5", "- mark=0"],
  ]);
  const d = diffTables(a, b);
  assertEquals([d.missing, d.extra, d.differing, d.markOnly], [1, 1, 1, 1]);
  assertEquals(diffTotal(d), 3);
  assertEquals(diffTotal(diffTables(a, new Map(a))), 0);
});

const sample = (t: number, rssA: number, rssB: number): Sample => ({
  t,
  rssA,
  rssB,
  statesA: 0,
  statesB: 0,
});

Deno.test("thirdsGrowth() compares the last third's mean with the middle third's", () => {
  const flat = [100, 200, 200, 200, 200, 200].map((v, i) => sample(i * 10, v, v));
  assertEquals(thirdsGrowth(flat, (s) => s.rssA), 0);
  const growing = [100, 100, 100, 100, 120, 120].map((v, i) => sample(i * 10, v, v));
  assertEquals(thirdsGrowth(growing, (s) => s.rssA), 0.2);
  assert(Number.isNaN(thirdsGrowth(flat.slice(0, 2), (s) => s.rssA)));
});

Deno.test("errorCounters() picks loss counters of pfsync and the conntrack provider only", () => {
  const status = {
    pfsync: { stats: { ipackets: 9, badauth: 1, oerrors: 2, opackets: 5 } },
    carpStats: { ipackets: 3, badttl: 0 },
    conntrack: { events: 100, overruns: 1, repaired: 4, "apply.failed": 0, "apply.created": 7 },
  } as unknown as StatusResult;
  assertEquals(errorCounters(status), {
    "pfsync.badauth": 1,
    "pfsync.oerrors": 2,
    "carp.badttl": 0,
    "conntrack.overruns": 1,
    "conntrack.repaired": 4,
    "conntrack.apply.failed": 0,
  });
  assertEquals(grownCounters({ x: 1, y: 2 }, { x: 1, y: 5, z: 1 }), [
    { name: "y", by: 3 },
    { name: "z", by: 1 },
  ]);
});

Deno.test("rssSvg() draws one path per agent over the samples", () => {
  const svg = rssSvg([sample(0, 1024, 2048), sample(60, 2048, 2048)], "conntrack provider");
  assertEquals(svg.match(/<path /g)?.length, 2);
  assert(svg.includes("conntrack provider"));
  assert(svg.startsWith("<svg"));
});
