/**
 * Byte-exact struct vectors. Host-order fields are written for a
 * little-endian host (x86_64, aarch64), the only hosts pfsyncd targets.
 */
import {
  decodeInetSockaddr,
  decodeInt,
  decodeSockaddrNl,
  encodeInt,
  encodeIpMreqn,
  encodeIpv6Mreq,
  encodeSockaddrIn,
  encodeSockaddrIn6,
  encodeSockaddrLl,
  encodeSockaddrNl,
  HOST_LITTLE_ENDIAN,
  sockaddrFamily,
} from "../../lib/sys/sockaddr.ts";
import { freebsd, linux } from "../../lib/sys/platform/mod.ts";
import { fromHex, toHex } from "../../lib/bytes/hex.ts";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";

const GROUP4 = fromHex("e00000f0"); // 224.0.0.240
const CARP6 = fromHex("ff020000000000000000000000000012"); // ff02::12

Deno.test("HOST_LITTLE_ENDIAN is true on the hosts these vectors assume", () => {
  assert(HOST_LITTLE_ENDIAN);
});

const VECTORS: ReadonlyArray<readonly [string, () => Uint8Array, string]> = [
  [
    "encodeSockaddrIn() linux",
    () => encodeSockaddrIn(fromHex("c0000202"), 0x00f0, linux),
    "0200 00f0 c0000202 0000000000000000", // sin_family AF_INET (LE), port BE, addr, zero
  ],
  [
    "encodeSockaddrIn6() linux",
    () => encodeSockaddrIn6(CARP6, 0, 3, linux),
    "0a00 0000 00000000 ff020000000000000000000000000012 03000000", // family 10, scope 3 (LE)
  ],
  [
    "encodeSockaddrIn6() freebsd",
    () => encodeSockaddrIn6(CARP6, 0, 3, freebsd),
    "1c1c 0000 00000000 ff020000000000000000000000000012 03000000", // len 28, family 28
  ],
  [
    "encodeSockaddrNl() linux",
    () => encodeSockaddrNl(0, 7, linux),
    "1000 0000 00000000 07000000", // AF_NETLINK 16, pad, pid 0, groups 0x7
  ],
  [
    "encodeSockaddrLl() linux",
    () =>
      encodeSockaddrLl(
        { protocol: 0x0806, ifindex: 5, address: fromHex("ffffffffffff") },
        linux,
      ),
    "1100 0806 05000000 0000 00 06 ffffffffffff0000", // AF_PACKET 17, ETH_P_ARP BE, ifindex, hatype, pkttype, halen, addr
  ],
  [
    "encodeIpMreqn() linux",
    () => encodeIpMreqn(GROUP4, 4, linux),
    "e00000f0 00000000 04000000", // group, local 0.0.0.0, ifindex 4
  ],
  [
    "encodeIpv6Mreq() linux",
    () => encodeIpv6Mreq(CARP6, 4, linux),
    "ff020000000000000000000000000012 04000000",
  ],
  ["encodeInt()", () => encodeInt(255), "ff000000"],
];

for (const [name, build, hex] of VECTORS) {
  Deno.test(`${name} writes the C struct byte for byte`, () => {
    assertEquals(toHex(build()), toHex(fromHex(hex)));
  });
}

Deno.test("decodeInetSockaddr() reads back sockaddr_in and sockaddr_in6 on both platforms", () => {
  for (const table of [linux, freebsd]) {
    assertEquals(decodeInetSockaddr(encodeSockaddrIn(fromHex("c6336401"), 112, table), table), {
      family: 4,
      address: fromHex("c6336401"),
      port: 112,
      scopeId: 0,
    });
    assertEquals(decodeInetSockaddr(encodeSockaddrIn6(CARP6, 0, 9, table), table), {
      family: 6,
      address: CARP6,
      port: 0,
      scopeId: 9,
    });
  }
});

Deno.test("decodeInetSockaddr() returns undefined for other families and short buffers", () => {
  assertEquals(decodeInetSockaddr(encodeSockaddrNl(1, 2, linux), linux), undefined);
  assertEquals(decodeInetSockaddr(fromHex("0200"), linux), undefined);
  assertEquals(decodeInetSockaddr(new Uint8Array(0), linux), undefined);
  assertEquals(sockaddrFamily(new Uint8Array(1), linux), -1);
});

Deno.test("decodeSockaddrNl() reads the pid and group mask", () => {
  assertEquals(decodeSockaddrNl(fromHex("1000 0000 2a230000 04000000"), linux), {
    pid: 9002,
    groups: 4,
  });
  assertEquals(decodeInt(encodeInt(-1)), -1);
});

Deno.test("encoders refuse wrong address lengths and missing structs", () => {
  assertThrows(() => encodeSockaddrIn(CARP6, 0, linux), RangeError);
  assertThrows(() => encodeSockaddrIn6(GROUP4, 0, 0, linux), RangeError);
  assertThrows(
    () => encodeSockaddrLl({ protocol: 3, ifindex: 1, address: new Uint8Array(9) }, linux),
    RangeError,
  );
  assertThrows(
    () => encodeSockaddrLl({ protocol: 3, ifindex: 1 }, freebsd),
    Error,
    "struct sockaddr_ll does not exist on freebsd",
  );
});
