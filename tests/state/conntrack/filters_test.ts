import { parseAddress } from "../../../lib/net/address.ts";
import type { CtEntry } from "../../../lib/netlink/ct_types.ts";
import {
  buildFilter,
  DEFAULT_FILTER,
  filterEntry,
  type FilterVerdict,
} from "../../../lib/state/conntrack/filters.ts";
import { assertEquals, assertThrows } from "../../helpers/assert.ts";

const ip = (text: string): Uint8Array => parseAddress(text)!.address;

function flow(
  proto: number,
  src: string,
  dst: string,
  replySrc = dst,
  replyDst = src,
  tcpState?: number,
): CtEntry {
  return {
    orig: { src: ip(src), dst: ip(dst), proto, srcPort: 1000, dstPort: 80 },
    reply: { src: ip(replySrc), dst: ip(replyDst), proto, srcPort: 80, dstPort: 1000 },
    ...(tcpState !== undefined ? { tcp: { state: tcpState } } : {}),
  };
}

/** Firewall: own 192.0.2.1 (outside) and 10.0.0.1 (inside); sync link 10.99.0.0/30. */
const FIREWALL = buildFilter({
  ownAddresses: ["192.0.2.1", "10.0.0.1/24", "10.99.0.1"],
  syncLinks: ["10.99.0.0/30"],
});

const CASES: [string, ReturnType<typeof buildFilter>, CtEntry, FilterVerdict][] = [
  ["forwarded TCP", FIREWALL, flow(6, "10.0.0.5", "198.51.100.9"), "sync"],
  [
    "masqueraded TCP (reply to the firewall's address)",
    FIREWALL,
    flow(6, "10.0.0.5", "198.51.100.9", "198.51.100.9", "192.0.2.1"),
    "sync",
  ],
  [
    "DNAT to an inside server via the outside address",
    FIREWALL,
    flow(6, "198.51.100.9", "192.0.2.1", "10.0.0.80", "198.51.100.9"),
    "sync",
  ],
  ["ssh to the firewall", FIREWALL, flow(6, "198.51.100.9", "192.0.2.1"), "own-address"],
  ["firewall's own outgoing DNS", FIREWALL, flow(17, "192.0.2.1", "198.51.100.53"), "own-address"],
  [
    "sync-link traffic",
    buildFilter({ syncLinks: ["10.99.0.0/30"] }),
    flow(6, "10.99.0.2", "203.0.113.1"),
    "sync-link",
  ],
  [
    "own flows kept when syncOwn",
    buildFilter({ ownAddresses: ["192.0.2.1"], syncOwn: true }),
    flow(6, "198.51.100.9", "192.0.2.1"),
    "sync",
  ],
  ["loopback", DEFAULT_FILTER, flow(6, "127.0.0.1", "127.0.0.1"), "loopback"],
  ["IPv6 loopback", DEFAULT_FILTER, flow(6, "::1", "::1"), "loopback"],
  ["CARP", DEFAULT_FILTER, flow(112, "10.0.0.2", "224.0.0.18"), "ha-protocol"],
  ["pfsync", DEFAULT_FILTER, flow(240, "10.99.0.2", "224.0.0.240"), "ha-protocol"],
  [
    "protocol not listed",
    buildFilter({ protocols: ["tcp", "udp"] }),
    flow(1, "10.0.0.5", "198.51.100.9"),
    "protocol",
  ],
  [
    "protocol listed by number",
    buildFilter({ protocols: [47] }),
    flow(47, "10.0.0.5", "198.51.100.9"),
    "sync",
  ],
  [
    "excluded network",
    buildFilter({ exclude: ["198.51.100.0/24"] }),
    flow(6, "10.0.0.5", "198.51.100.9"),
    "address",
  ],
  [
    "outside the include list",
    buildFilter({ include: ["203.0.113.0/24"] }),
    flow(6, "10.0.0.5", "198.51.100.9"),
    "address",
  ],
  [
    "inside the include list",
    buildFilter({ include: ["10.0.0.0/8"] }),
    flow(6, "10.0.0.5", "198.51.100.9"),
    "sync",
  ],
  [
    "TCP state not listed",
    buildFilter({ tcpStates: ["established"] }),
    flow(6, "10.0.0.5", "198.51.100.9", undefined, undefined, 1),
    "tcp-state",
  ],
  [
    "TCP state listed",
    buildFilter({ tcpStates: ["ESTABLISHED", "fin-wait"] }),
    flow(6, "10.0.0.5", "198.51.100.9", undefined, undefined, 4),
    "sync",
  ],
  ["no original tuple", DEFAULT_FILTER, {}, "address"],
];

for (const [name, filter, entry, verdict] of CASES) {
  Deno.test(`filterEntry() ${name} → ${verdict}`, () => {
    assertEquals(filterEntry(filter, entry), verdict);
  });
}

Deno.test("buildFilter() names the bad value", () => {
  const bad: [Parameters<typeof buildFilter>[0], string][] = [
    [{ protocols: ["tcpp"] }, "tcpp"],
    [{ include: ["10.0.0.0/33"] }, "10.0.0.0/33"],
    [{ tcpStates: ["OPEN"] }, "OPEN"],
    [{ ownAddresses: ["fw1"] }, "fw1"],
  ];
  for (const [config, text] of bad) assertThrows(() => buildFilter(config), RangeError, text);
});
