import {
  ALL_NODES_MULTICAST,
  decodeNeighborAdvertisement,
  encodeNeighborAdvertisement,
  NA_LENGTH,
  unsolicitedNeighborAdvertisement,
} from "../../lib/net/icmpv6.ts";
import { DecodeError, fromHex, toHex } from "../../lib/bytes/mod.ts";
import { parseIPv6 } from "../../lib/net/address.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

const SOURCE = parseIPv6("fe80::1")!;
const ADDRESSES = { source: SOURCE, destination: ALL_NODES_MULTICAST };
const TARGET = parseIPv6("2001:db8::10")!;
const MAC = fromHex("00005e000107");

/**
 * Unsolicited NA for 2001:db8::10 from fe80::1 to ff02::1. The checksum was
 * computed separately (Python, RFC 8200 pseudo-header), not by this codec.
 */
const UNSOLICITED = fromHex(`
  88                                # type 136
  00                                # code 0
  cb4d                              # checksum over pseudo-header + 32 bytes
  20000000                          # flags: Override only
  20010db8000000000000000000000010  # target 2001:db8::10
  02 01                             # option 2 (target link-layer address), 1 × 8 bytes
  00005e000107                      # the MAC
`);

Deno.test("encodeNeighborAdvertisement() builds the unsolicited NA byte for byte", () => {
  const bytes = encodeNeighborAdvertisement(
    unsolicitedNeighborAdvertisement(TARGET, MAC),
    ADDRESSES,
  );
  assertEquals(toHex(bytes), toHex(UNSOLICITED));
});

Deno.test("encodeNeighborAdvertisement() sets the Router flag and its checksum moves with it", () => {
  const bytes = encodeNeighborAdvertisement(
    unsolicitedNeighborAdvertisement(TARGET, MAC, true),
    ADDRESSES,
  );
  assertEquals(toHex(bytes.subarray(0, 8)), "88004b4da0000000");
});

Deno.test("encodeNeighborAdvertisement() leaves the checksum zero for the kernel without addresses", () => {
  const bytes = encodeNeighborAdvertisement(unsolicitedNeighborAdvertisement(TARGET, MAC));
  assertEquals(toHex(bytes.subarray(2, 4)), "0000");
  assertEquals(bytes.subarray(4), UNSOLICITED.subarray(4));
});

Deno.test("decodeNeighborAdvertisement() reads the vector back and verifies its checksum", () => {
  assertEquals(decodeNeighborAdvertisement(UNSOLICITED, ADDRESSES), {
    router: false,
    solicited: false,
    override: true,
    target: TARGET,
    targetMac: MAC,
  });
});

Deno.test("decodeNeighborAdvertisement() round-trips an NA without options", () => {
  const na = { router: true, solicited: true, override: false, target: TARGET };
  const bytes = encodeNeighborAdvertisement(na, ADDRESSES);
  assertEquals(bytes.length, NA_LENGTH);
  assertEquals(decodeNeighborAdvertisement(bytes, ADDRESSES), na);
});

const BAD: ReadonlyArray<readonly [string, Uint8Array, string]> = [
  ["23 bytes", UNSOLICITED.subarray(0, 23), "badlen"],
  [
    "a neighbour solicitation (135)",
    Uint8Array.from(UNSOLICITED, (b, i) => i === 0 ? 135 : b),
    "badval",
  ],
  ["code 1", Uint8Array.from(UNSOLICITED, (b, i) => i === 1 ? 1 : b), "badval"],
  [
    "a changed target (checksum)",
    Uint8Array.from(UNSOLICITED, (b, i) => i === 23 ? 0x11 : b),
    "badsum",
  ],
  ["an option of length 0", Uint8Array.from(UNSOLICITED, (b, i) => i === 25 ? 0 : b), "badlen"],
];

for (const [what, bytes, reason] of BAD) {
  Deno.test(`decodeNeighborAdvertisement() rejects ${what} as ${reason}`, () => {
    const addresses = reason === "badlen" ? undefined : ADDRESSES;
    const error = assertThrows(() => decodeNeighborAdvertisement(bytes, addresses), DecodeError);
    assertEquals(error.reason, reason);
  });
}
