/**
 * ownPortFilter(): the BPF program the event socket gets so that events our
 * own requests caused are dropped in the kernel (spec rule 12). The program
 * bytes are checked against a hand-assembled vector; its verdicts are run
 * through a small interpreter of the instructions it uses. The lab test
 * (tests/state/conntrack/provider_lab_test.ts) checks the real kernel.
 */
import { ownPortFilter, runPortFilter } from "../../lib/netlink/ctnetlink_filter.ts";
import { fromHex } from "../../lib/bytes/mod.ts";
import { eventDatagrams } from "../../bench/conntrack/pipeline.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

Deno.test("ownPortFilter() assembles ld [12]; jeq per port; ret -1; ret 0 (little-endian host)", () => {
  assertEquals(
    ownPortFilter([0x3bd4, 0x89ab_cdef]),
    fromHex(
      "2000 00 00 0c000000" + // ld [12]
        "1500 02 00 00003bd4" + // jeq #0xd43b0000 (port 0x3bd4 as a big-endian load), jt → drop
        "1500 01 00 89abcdef" + // jeq #0xefcdab89 (port 0x89abcdef), k stored host order
        "0600 00 00 ffffffff" + // ret #-1: keep
        "0600 00 00 00000000", //  ret #0: drop
    ),
  );
});

Deno.test("ownPortFilter() drops events from our ports only, never port 0", () => {
  const program = ownPortFilter([9001, 9002, 0]);
  const cases: [number, boolean][] = [[9001, false], [9002, false], [0, true], [9003, true], [
    0x0100_2329, // 9001 in the other byte order
    true,
  ]];
  for (const [pid, kept] of cases) {
    const [event] = eventDatagrams(1, pid);
    assertEquals(runPortFilter(program, event) > 0, kept, `pid ${pid}`);
  }
  assertEquals(runPortFilter(program, new Uint8Array(12)), 0, "too short to hold nlmsg_pid");
});

Deno.test("ownPortFilter() refuses more ports than one program should hold", () => {
  assertThrows(() => ownPortFilter(Array.from({ length: 65 }, (_, i) => i + 1)), RangeError);
});
