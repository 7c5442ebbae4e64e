import { assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import {
  CARP_COUNTERS,
  formatCarpStats,
  formatDrop,
  formatTransition,
  isCarpCounter,
  newCarpStats,
} from "../../lib/carp/mod.ts";

Deno.test("formatTransition() prints the operators' form", () => {
  const cases: Array<[Parameters<typeof formatTransition>, string]> = [
    [
      [1, "eth1", "BACKUP", "MASTER", "master timed out"],
      "carp: 1@eth1: BACKUP -> MASTER (master timed out)",
    ],
    [
      [255, "vlan10", "MASTER", "BACKUP", "preempted by 192.0.2.2"],
      "carp: 255@vlan10: MASTER -> BACKUP (preempted by 192.0.2.2)",
    ],
    [[3, "em0", "MASTER", "INIT", "link em0 down"], "carp: 3@em0: MASTER -> INIT (link em0 down)"],
  ];
  for (const [args, line] of cases) assertEquals(formatTransition(...args), line);
  assertEquals(formatDrop("eth1", "badttl", "TTL 254"), "carp: eth1: dropped (badttl): TTL 254");
});

Deno.test("CarpStats has every counter of the issue and the kernel's carpstats", () => {
  for (
    const name of [
      "ipackets",
      "ipackets6",
      "badif",
      "badttl",
      "hdrops",
      "badlen",
      "badsum",
      "badvhid",
      "badver",
      "badauth",
      "opackets",
      "opackets6",
      "oerrors",
      "preempt",
    ]
  ) {
    assertEquals(isCarpCounter(name), true, name);
  }
  assertEquals(isCarpCounter("badact"), false);
  const stats = newCarpStats();
  assertEquals(Object.keys(stats).length, CARP_COUNTERS.length);
  stats.badauth = 12;
  stats.ipackets = 40;
  const text = formatCarpStats(stats);
  assertStringIncludes(text, "\t40 packets received (IPv4)");
  assertStringIncludes(text, "\t\t12 dropped: HMAC mismatch");
});
