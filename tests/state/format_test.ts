/** pfctl -s state text form. */
import { assertEquals } from "../helpers/assert.ts";
import {
  formatDuration,
  formatStateLine,
  formatStates,
  formatStateVerbose,
} from "../../lib/state/mod.ts";
import type { State } from "../../lib/state/types.ts";
import { V5_STATE } from "../pfsync/fixtures.ts";

Deno.test("formatStateLine() prints pfctl -s state lines", () => {
  const plain: State = { ...V5_STATE, ifname: "self", gwy: V5_STATE.lan };
  const table: [string, State, string][] = [
    [
      "outbound NAT",
      V5_STATE,
      "fxp0 tcp 192.168.0.10:34567 -> 10.0.0.254:55000 -> 198.51.100.7:80       ESTABLISHED:ESTABLISHED",
    ],
    [
      "no translation",
      plain,
      "self tcp 192.168.0.10:34567 -> 198.51.100.7:80       ESTABLISHED:ESTABLISHED",
    ],
    [
      "inbound",
      { ...plain, direction: 1 },
      "self tcp 192.168.0.10:34567 <- 198.51.100.7:80       ESTABLISHED:ESTABLISHED",
    ],
    [
      "udp",
      { ...plain, proto: 17, src: { ...plain.src, state: 2 }, dst: { ...plain.dst, state: 1 } },
      "self udp 192.168.0.10:34567 -> 198.51.100.7:80       MULTIPLE:SINGLE",
    ],
    [
      "ipv6",
      {
        ...plain,
        af: 28,
        lan: { addr: "2001:db8::1", port: 22 },
        gwy: { addr: "2001:db8::1", port: 22 },
        ext: { addr: "2001:db8::2", port: 999 },
      },
      "self tcp 2001:db8::1[22] -> 2001:db8::2[999]       ESTABLISHED:ESTABLISHED",
    ],
  ];
  for (const [name, state, line] of table) assertEquals(formatStateLine(state), line, name);
});

Deno.test("formatStateVerbose() adds age, expiry, counters, id and creator id", () => {
  assertEquals(
    formatStateVerbose(V5_STATE).split("\n")[1],
    "   age 00:02:00, expires in 24:00:00, 10:8 pkts, 1200:5400 bytes, id: 4a5b6c7d00000001 creatorid: 0badcafe",
  );
  assertEquals(
    formatStateVerbose(V5_STATE, 59).split("\n")[1].slice(0, 35),
    "   age 00:02:00, expires in 00:00:5",
  );
  assertEquals(formatStates([V5_STATE, V5_STATE]).split("\n").length, 2);
  assertEquals(formatDuration(90061), "25:01:01");
});
