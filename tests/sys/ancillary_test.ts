import { ipv4Ifindex, ipv6Ancillary } from "../../lib/sys/ancillary.ts";
import { encodeControlMessage, parseControlMessages } from "../../lib/sys/msghdr.ts";
import { freebsd, linux } from "../../lib/sys/platform/mod.ts";
import type { Platform } from "../../lib/sys/platform/mod.ts";
import { fromHex } from "../../lib/bytes/hex.ts";
import { assertEquals } from "../helpers/assert.ts";

/** Builds the control buffer the kernel would write and parses it back, as recvmsg does. */
function control(table: Platform, ...messages: [number, number, string][]) {
  const bytes = new Uint8Array(
    messages.flatMap(([level, type, hex]) => [
      ...encodeControlMessage(level, type, fromHex(hex), table),
    ]),
  );
  return parseControlMessages(bytes, bytes.length, table);
}

const PKTINFO6 = "ff020000000000000000000000000012 05000000"; // in6_pktinfo: ff02::12, ifindex 5

Deno.test("ipv4Ifindex() reads in_pktinfo.ipi_ifindex on Linux", () => {
  // IPPROTO_IP 0, IP_TTL 2 first (ignored), then IP_PKTINFO 8: ifindex 7, spec_dst, addr
  const cmsgs = control(linux, [0, 2, "ff000000"], [0, 8, "07000000 c0000202 e00000f0"]);
  assertEquals(ipv4Ifindex(cmsgs, linux), 7);
});

Deno.test("ipv4Ifindex() reads sockaddr_dl.sdl_index under IP_RECVIF on FreeBSD", () => {
  // sockaddr_dl: sdl_len 20, AF_LINK 18, sdl_index 3, type 6 (ether), nlen 4, alen 6, slen 0, "em0"…
  const dl = "14 12 0300 06 04 06 00 656d3000 0000000000000000";
  assertEquals(ipv4Ifindex(control(freebsd, [0, 20, dl]), freebsd), 3);
});

Deno.test("ipv4Ifindex() is 0 without the message, or at another level", () => {
  assertEquals(ipv4Ifindex([], linux), 0);
  assertEquals(ipv4Ifindex(control(linux, [41, 8, "07000000 00000000 00000000"]), linux), 0);
});

const IPV6: ReadonlyArray<readonly [string, Platform, number, number]> = [
  ["Linux", linux, 50, 52], // IPV6_PKTINFO, IPV6_HOPLIMIT
  ["FreeBSD", freebsd, 46, 47],
];

for (const [os, table, pktinfo, hoplimit] of IPV6) {
  Deno.test(`ipv6Ancillary() reads destination, ifindex and hop limit on ${os}`, () => {
    const cmsgs = control(table, [41, pktinfo, PKTINFO6], [41, hoplimit, "ff000000"]);
    assertEquals(ipv6Ancillary(cmsgs, table), {
      ifindex: 5,
      hopLimit: 255,
      destination: fromHex("ff020000000000000000000000000012"),
    });
  });
}

Deno.test("ipv6Ancillary() reports what is missing as 0, -1 and ::", () => {
  assertEquals(ipv6Ancillary([], linux), {
    ifindex: 0,
    hopLimit: -1,
    destination: new Uint8Array(16),
  });
  const onlyHops = control(linux, [41, 52, "40000000"]);
  assertEquals(ipv6Ancillary(onlyHops, linux).hopLimit, 64);
});
