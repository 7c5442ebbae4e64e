/** pfsyncstats counters and their netstat -s -p pfsync text. */
import { assertEquals } from "../helpers/assert.ts";
import { formatPfsyncStats, newPfsyncStats, PFSYNC_COUNTERS } from "../../lib/pfsync/mod.ts";

Deno.test("newPfsyncStats() has the 16 counters of FreeBSD 6.x in struct order, then ours", () => {
  assertEquals(Object.keys(newPfsyncStats()), [...PFSYNC_COUNTERS]);
  assertEquals(PFSYNC_COUNTERS.length, 23);
  assertEquals(PFSYNC_COUNTERS.slice(16), [
    "seqgaps",
    "bulkpurged",
    "nacksent",
    "nackrcvd",
    "repairsent",
    "seqrepaired",
    "badrepair",
  ]);
});

Deno.test("formatPfsyncStats() renders netstat -s -p pfsync", () => {
  const stats = newPfsyncStats();
  stats.ipackets = 12;
  stats.badttl = 1;
  stats.stale = 2;
  stats.opackets = 5;
  const text = formatPfsyncStats(stats);
  const lines = text.split("\n");
  assertEquals(lines[0], "pfsync:");
  assertEquals(lines.length, 24);
  assertEquals(lines[1], "\t12 packets received (IPv4)");
  assertEquals(lines[4], "\t\t1 packet discarded for bad ttl");
  assertEquals(lines.includes("\t\t2 stale states"), true);
  assertEquals(lines.includes("\t5 packets sent (IPv4)"), true);
  assertEquals(lines.includes("\t\t0 packets discarded for bad HMAC"), true);
  stats.seqgaps = 1;
  stats.bulkpurged = 3;
  stats.nacksent = 1;
  stats.nackrcvd = 2;
  stats.repairsent = 1;
  stats.seqrepaired = 4;
  stats.badrepair = 1;
  const ours = formatPfsyncStats(stats).split("\n").slice(-7);
  assertEquals(ours, [
    "\t1 packet lost (sequence gap)",
    "\t3 stale states purged by bulk update",
    "\t1 repair request sent (NACK)",
    "\t2 repair requests answered",
    "\t1 state re-sent as a repair",
    "\t4 lost packets repaired",
    "\t\t1 malformed repair block ignored",
  ]);
});
