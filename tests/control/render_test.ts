import {
  renderBulk,
  renderCounters,
  renderDemotion,
  renderState,
  renderStateLine,
  renderStatus,
  renderWatchEvent,
} from "../../lib/control/render.ts";
import type { BulkStatus, StatusResult, WatchEvent } from "../../lib/control/types.ts";
import { assertEquals } from "../helpers/assert.ts";
import { sampleStates, sampleStatus, WATCH_EVENTS } from "./fixtures.ts";

Deno.test("renderStatus() prints ifconfig, bulk, demotion and netstat -s sections", () => {
  const expected = [
    "eth1: carp: MASTER vhid 1 advbase 1 advskew 0",
    "\tinet 192.0.2.1/24",
    "\treason: master timed out",
    "eth0: carp: BACKUP vhid 2 advbase 1 advskew 100",
    "pfsync: syncif: eth2 syncpeer: 224.0.0.240 maxupd: 128",
    "bulk update: done, 1234 states received (1 request)",
    "demotion: 241 (maintenance mode)",
    "\t+240 maintenance",
    "\t+1 pfsync bulk update",
    "states: 2",
    "pfsync:",
    "\t10 packets received (IPv4)",
    "\t0 packets received (IPv6)",
    "\t\t0 packets discarded for bad interface",
    "\t\t3 packets discarded for bad ttl",
    "\t\t0 packets shorter than header",
    "\t\t0 packets discarded for bad version",
    "\t\t1 packet discarded for bad HMAC",
    "\t\t0 packets discarded for bad action",
    "\t\t0 packets discarded for short packet",
    "\t\t0 states discarded for bad values",
    "\t\t2 stale states",
    "\t\t0 failed state lookup/inserts",
    "\t7 packets sent (IPv4)",
    "\t0 packets sent (IPv6)",
    "\t\t0 send failed due to mbuf memory error",
    "\t\t0 send errors",
    "carp:",
    "\t120 packets received (IPv4)",
    "\t0 packets received (IPv6)",
    "\t\t0 packets discarded for bad interface",
    "\t\t1 packet discarded for wrong TTL",
    "\t\t0 packets shorter than header",
    "\t\t2 discarded for bad checksums",
    "\t\t0 discarded packets with a bad version",
    "\t\t0 discarded because packet too short",
    "\t\t0 discarded for bad authentication",
    "\t\t0 discarded for bad vhid",
    "\t\t0 own advertisements ignored",
    "\t61 packets sent (IPv4)",
    "\t0 packets sent (IPv6)",
    "\t\t0 send errors",
    "\t1 takeover from a worse master (preemption)",
    "",
  ].join("\n");
  assertEquals(renderStatus(sampleStatus()), expected);
});

Deno.test("renderStatus() pfsync line: syncif omitted when unset, syncpeer shown when set, off when neither", () => {
  const table: [Partial<StatusResult["pfsync"]>, string][] = [
    [{}, "pfsync: syncif: eth2 syncpeer: 224.0.0.240 maxupd: 128"],
    [{ syncpeer: "192.0.2.2", maxupd: 64 }, "pfsync: syncif: eth2 syncpeer: 192.0.2.2 maxupd: 64"],
    [{ syncif: null, syncpeer: "192.0.2.2" }, "pfsync: syncpeer: 192.0.2.2 maxupd: 128"],
    [{ syncif: null }, "pfsync: off maxupd: 128"],
  ];
  for (const [change, line] of table) {
    const status = sampleStatus();
    status.pfsync = { ...status.pfsync, ...change };
    const lines = renderStatus(status).split("\n");
    assertEquals(lines.find((l) => l.startsWith("pfsync: ")), line);
  }
});

Deno.test("renderBulk() and renderDemotion() table", () => {
  const bulk: [BulkStatus, string][] = [
    [
      { phase: "requested", statesReceived: 0, tries: 3, holdingPreemption: true },
      "bulk update: requested, 0 states received (3 requests), holding CARP preemption",
    ],
    [
      { phase: "idle", statesReceived: 0, tries: 0, holdingPreemption: false },
      "bulk update: idle, 0 states received (0 requests)",
    ],
  ];
  for (const [input, line] of bulk) assertEquals(renderBulk(input), line);
  assertEquals(renderDemotion({ value: 0, reasons: [], maintenance: false }), ["demotion: 0"]);
  assertEquals(
    renderDemotion({
      value: 230,
      reasons: [{ reason: "link eth1 down", delta: 240 }, { reason: "operator", delta: -10 }],
      maintenance: false,
    }),
    ["demotion: 230", "\t+240 link eth1 down", "\t-10 operator"],
  );
});

Deno.test("renderCounters() prints present counters, plural by count, then unknown ones", () => {
  const lines = [["known", 1, "known thing(s)"], ["absent", 2, "absent thing(s)"]] as const;
  const table: [Record<string, number>, string[]][] = [
    [{ zeta: 4, known: 1, alpha: 2 }, ["x:", "\t1 known thing", "\t\t2 alpha", "\t\t4 zeta"]],
    [{ known: 0, absent: 2 }, ["x:", "\t0 known things", "\t\t2 absent things"]],
    [{}, ["x:"]],
  ];
  for (const [counters, expected] of table) {
    assertEquals(renderCounters("x", counters, lines), expected);
  }
});

Deno.test("renderState() prints pfctl -s state lines, -v adds age/expiry/counters/ids", () => {
  const [out, inbound] = sampleStates();
  assertEquals(
    renderStateLine(out),
    "all tcp 192.0.2.10:1234 -> 198.51.100.7:80       ESTABLISHED:ESTABLISHED",
  );
  assertEquals(
    renderStateLine(inbound),
    "eth1 udp 2001:db8::2[5353] <- 2001:db8::1[53]       MULTIPLE:SINGLE",
  );
  assertEquals(renderState(out, false), [renderStateLine(out)]);
  assertEquals(renderState(out, true), [
    renderStateLine(out),
    "   age 01:02:03, expires in 23:59:59, 10:8 pkts, 1200:900 bytes",
    "   id: 0000000000000001 creatorid: 0badcafe origin: local",
  ]);
  assertEquals(
    renderState({ ...inbound, age: 100 * 3600, expire: -3 }, true)[1],
    "   age 100:00:00, expires in 00:00:00, 1:0 pkts, 80:0 bytes",
  );
});

Deno.test("renderWatchEvent() gives one line an event", () => {
  const more: WatchEvent[] = [
    { type: "demotion", ts: "T", value: 240, reason: "maintenance on" },
    { type: "bulk", ts: "T", phase: "receiving", statesReceived: 500 },
    { type: "state", ts: "T", action: "delete", origin: "local", state: sampleStates()[1] },
    { type: "overflow", ts: "T", dropped: 12 },
  ];
  assertEquals([...WATCH_EVENTS, ...more].map(renderWatchEvent), [
    "2026-11-28T12:00:00.000Z carp: 1@eth1: BACKUP -> MASTER (master timed out)",
    "2026-11-28T12:00:01.000Z insert (from 192.0.2.2): all tcp 192.0.2.10:1234 -> 198.51.100.7:80       ESTABLISHED:ESTABLISHED",
    "T demotion: 240 (maintenance on)",
    "T bulk update: receiving, 500 states received",
    "T delete (local): eth1 udp 2001:db8::2[5353] <- 2001:db8::1[53]       MULTIPLE:SINGLE",
    "T watch fell behind: 12 events dropped",
  ]);
});
