import { TCP_CONNTRACK as CT } from "../../../lib/netlink/ct_constants.ts";
import { ctTcpToPf, pfTcpToCt, pfTimeoutFor } from "../../../lib/state/conntrack/tcp_states.ts";
import { assertEquals } from "../../helpers/assert.ts";

const CLOSE_INIT = 0x04;

/** spec §4.3, Linux → pf: [ct state, orig flags, reply flags, src, dst, timeout index]. */
const CT_TO_PF: [string, number, number, number, number, number, number][] = [
  ["NONE", CT.NONE, 0, 0, 0, 0, 0],
  ["SYN_SENT", CT.SYN_SENT, 0, 0, 2, 0, 0],
  ["SYN_SENT2", CT.SYN_SENT2, 0, 0, 2, 2, 1],
  ["SYN_RECV", CT.SYN_RECV, 0, 0, 4, 2, 1],
  ["ESTABLISHED", CT.ESTABLISHED, 0, 0, 4, 4, 2],
  ["FIN_WAIT, client closed", CT.FIN_WAIT, CLOSE_INIT, 0, 7, 4, 3],
  ["FIN_WAIT, server closed", CT.FIN_WAIT, 0, CLOSE_INIT, 4, 7, 3],
  ["CLOSE_WAIT, client closed", CT.CLOSE_WAIT, CLOSE_INIT, 0, 9, 4, 4],
  ["CLOSE_WAIT, server closed", CT.CLOSE_WAIT, 0, CLOSE_INIT | 0x03, 4, 9, 4],
  ["LAST_ACK", CT.LAST_ACK, CLOSE_INIT, 0, 9, 7, 4],
  ["TIME_WAIT", CT.TIME_WAIT, 0, 0, 9, 9, 5],
  ["CLOSE", CT.CLOSE, 0, 0, 10, 10, 5],
  ["unknown 12 as NONE", 12, 0, 0, 0, 0, 0],
];

for (const [name, state, fo, fr, src, dst, timeout] of CT_TO_PF) {
  Deno.test(`ctTcpToPf() ${name}`, () => {
    assertEquals(ctTcpToPf(state, fo, fr), { src, dst, timeout });
  });
}

/** spec §4.3, pf → Linux, one row per line of the table plus the fall-through. */
const PF_TO_CT: [number, number, number][] = [
  [10, 10, CT.CLOSE],
  [9, 10, CT.TIME_WAIT],
  [9, 7, CT.LAST_ACK],
  [4, 9, CT.CLOSE_WAIT],
  [7, 4, CT.FIN_WAIT],
  [4, 4, CT.ESTABLISHED],
  [2, 2, CT.SYN_SENT2],
  [4, 2, CT.SYN_RECV],
  [2, 0, CT.SYN_SENT],
  [0, 0, CT.NONE],
  [1, 0, CT.NONE],
];

Deno.test("pfTcpToCt() follows the §4.3 rows in order", () => {
  for (const [a, b, expected] of PF_TO_CT) assertEquals(pfTcpToCt(a, b), expected, `${a}/${b}`);
});

Deno.test("pfTcpToCt(ctTcpToPf(s)) gives s back for every settable state", () => {
  for (let s = 0; s <= 9; s++) {
    for (const [fo, fr] of [[0, 0], [CLOSE_INIT, 0], [0, CLOSE_INIT]]) {
      const pf = ctTcpToPf(s, fo, fr);
      assertEquals(pfTcpToCt(pf.src, pf.dst), s, `state ${s} flags ${fo}/${fr}`);
    }
  }
});

Deno.test("pfTimeoutFor() picks the pf class by protocol and reply", () => {
  const cases: [number, boolean, number][] = [
    [17, false, 7],
    [17, true, 8],
    [1, true, 9],
    [58, false, 9],
    [47, false, 12],
    [47, true, 13],
  ];
  for (const [proto, seen, index] of cases) assertEquals(pfTimeoutFor(proto, seen), index);
});
