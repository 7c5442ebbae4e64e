import {
  ARP_LENGTH,
  ARPOP_REPLY,
  ARPOP_REQUEST,
  decodeArp,
  encodeArp,
  encodeGratuitousArpFrame,
  gratuitousArp,
} from "../../lib/net/arp.ts";
import { decodeEthernetHeader, ETHERTYPE_ARP } from "../../lib/net/ethernet.ts";
import { DecodeError, fromHex, toHex } from "../../lib/bytes/mod.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

const VIP = fromHex("c0000264"); // 192.0.2.100
const MAC = fromHex("00005e000107"); // virtual MAC of vhid 7

/** Gratuitous ARP, kernel style (target MAC zero), as spec/carp.md §7.7 lists the fields. */
const GARP_FRAME = fromHex(`
  ffffffffffff  # Ethernet destination: broadcast
  00005e000107  # Ethernet source: the MAC in use for the VIP
  0806          # EtherType ARP
  0001          # htype Ethernet
  0800          # ptype IPv4
  06 04         # hlen 6, plen 4
  0001          # op 1: request
  00005e000107  # sender MAC
  c0000264      # sender IP = VIP
  000000000000  # target MAC zero
  c0000264      # target IP = VIP
`);

Deno.test("encodeGratuitousArpFrame() builds the 42-byte kernel-style frame", () => {
  assertEquals(toHex(encodeGratuitousArpFrame(VIP, MAC)), toHex(GARP_FRAME));
});

Deno.test("encodeGratuitousArpFrame() ucarp style repeats the sender MAC as target", () => {
  const frame = encodeGratuitousArpFrame(VIP, MAC, { targetMac: "sender" });
  assertEquals(toHex(frame.subarray(32, 38)), "00005e000107");
  assertEquals(frame.subarray(0, 32), GARP_FRAME.subarray(0, 32));
});

Deno.test("decodeArp() reads the gratuitous ARP back", () => {
  assertEquals(decodeEthernetHeader(GARP_FRAME).etherType, ETHERTYPE_ARP);
  assertEquals(decodeArp(GARP_FRAME, 14), gratuitousArp(VIP, MAC));
});

Deno.test("encodeArp()/decodeArp() round-trip a reply", () => {
  const reply = {
    op: ARPOP_REPLY,
    senderMac: fromHex("020000000001"),
    senderIp: fromHex("c6336401"),
    targetMac: fromHex("020000000002"),
    targetIp: fromHex("c6336402"),
  };
  const bytes = encodeArp(reply);
  assertEquals(bytes.length, ARP_LENGTH);
  assertEquals(decodeArp(bytes), reply);
  assertEquals(encodeArp(decodeArp(bytes)), bytes);
  assertEquals(gratuitousArp(VIP, MAC).op, ARPOP_REQUEST);
});

const BAD: ReadonlyArray<readonly [string, Uint8Array, string]> = [
  ["27 bytes", GARP_FRAME.subarray(14, 41), "badlen"],
  [
    "htype 6 (IEEE 802)",
    Uint8Array.from(GARP_FRAME.subarray(14), (b, i) => i === 1 ? 6 : b),
    "badval",
  ],
  ["ptype IPv6", Uint8Array.from(GARP_FRAME.subarray(14), (b, i) => i === 2 ? 0x86 : b), "badval"],
  ["plen 16", Uint8Array.from(GARP_FRAME.subarray(14), (b, i) => i === 5 ? 16 : b), "badval"],
];

for (const [what, bytes, reason] of BAD) {
  Deno.test(`decodeArp() rejects ${what} as ${reason}`, () => {
    assertEquals(assertThrows(() => decodeArp(bytes), DecodeError).reason, reason);
  });
}
