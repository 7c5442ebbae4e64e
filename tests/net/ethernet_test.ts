import {
  BROADCAST_MAC,
  carpVirtualMac,
  decodeEthernetHeader,
  encodeEthernetHeader,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ipv4MulticastMac,
  ipv6MulticastMac,
} from "../../lib/net/ethernet.ts";
import { DecodeError, fromHex, toHex } from "../../lib/bytes/mod.ts";
import { parseIPv4, parseIPv6 } from "../../lib/net/address.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

/** spec/carp.md §2.5 vector 1, the Ethernet header of the ucarp capture. */
const CAPTURED = fromHex(`
  01005e000012  # destination: IPv4 multicast MAC of 224.0.0.18
  00005e000007  # source: ucarp's 00:00:5e:00:00:VHID, vhid 7
  0800          # EtherType IPv4
`);

Deno.test("decodeEthernetHeader() reads the captured CARP frame header", () => {
  assertEquals(decodeEthernetHeader(CAPTURED), {
    destination: fromHex("01005e000012"),
    source: fromHex("00005e000007"),
    etherType: ETHERTYPE_IPV4,
  });
});

Deno.test("encodeEthernetHeader() writes the captured header byte for byte, also at an offset", () => {
  const header = decodeEthernetHeader(CAPTURED);
  assertEquals(toHex(encodeEthernetHeader(header)), toHex(CAPTURED));
  const out = new Uint8Array(20);
  encodeEthernetHeader(header, out, 4);
  assertEquals(out.subarray(4, 18), CAPTURED);
});

Deno.test("decodeEthernetHeader() rejects 13 bytes as badlen", () => {
  const error = assertThrows(() => decodeEthernetHeader(CAPTURED.subarray(0, 13)), DecodeError);
  assertEquals(error.reason, "badlen");
});

Deno.test("encodeEthernetHeader() refuses a MAC that is not 6 bytes", () => {
  assertThrows(
    () =>
      encodeEthernetHeader({
        destination: BROADCAST_MAC,
        source: new Uint8Array(5),
        etherType: ETHERTYPE_ARP,
      }),
    RangeError,
  );
});

const MULTICAST: ReadonlyArray<readonly [string, string]> = [
  ["224.0.0.18", "01005e000012"],
  ["239.255.255.250", "01005e7ffffa"], // the top bit of the second byte is dropped
  ["224.128.0.1", "01005e000001"],
];

for (const [group, mac] of MULTICAST) {
  Deno.test(`ipv4MulticastMac() maps ${group} to ${mac}`, () => {
    assertEquals(toHex(ipv4MulticastMac(parseIPv4(group)!)), mac);
  });
}

Deno.test("ipv6MulticastMac() maps ff02::12 and ff02::1:ff00:10", () => {
  assertEquals(toHex(ipv6MulticastMac(parseIPv6("ff02::12")!)), "333300000012");
  assertEquals(toHex(ipv6MulticastMac(parseIPv6("ff02::1:ff00:10")!)), "3333ff000010");
});

Deno.test("carpVirtualMac() is 00:00:5e:00:01:VHID", () => {
  assertEquals(toHex(carpVirtualMac(7)), "00005e000107");
  assertEquals(toHex(carpVirtualMac(255)), "00005e0001ff");
});
