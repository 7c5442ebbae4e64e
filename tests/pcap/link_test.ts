/** lib/pcap/link.ts: Ethernet (with VLAN tags), Linux cooked v1 and v2, raw IP. */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { fromHex, toHex } from "../../lib/bytes/hex.ts";
import { DecodeError } from "../../lib/bytes/errors.ts";
import {
  decodeLinkFrame,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
  linkTypeSupported,
} from "../../lib/pcap/mod.ts";

const IP = "4510003800004000ff70"; // start of an IPv4 header (payload marker)

const summary = (linktype: number, hex: string) => {
  const f = decodeLinkFrame(linktype, fromHex(hex));
  return {
    etherType: f.etherType,
    source: f.source ? toHex(f.source) : undefined,
    destination: f.destination ? toHex(f.destination) : undefined,
    packetType: f.packetType,
    ifindex: f.ifindex,
    offset: f.offset,
    payload: toHex(f.payload),
  };
};

Deno.test("decodeLinkFrame() Ethernet II: MACs, type, payload at 14", () => {
  assertEquals(
    summary(
      LINKTYPE_ETHERNET,
      "01005e000012" + // destination: the CARP group MAC
        "00005e000101" + // source: virtual MAC of vhid 1
        "0800" + // IPv4
        IP,
    ),
    {
      etherType: 0x0800,
      source: "00005e000101",
      destination: "01005e000012",
      packetType: undefined,
      ifindex: undefined,
      offset: 14,
      payload: IP,
    },
  );
});

Deno.test("decodeLinkFrame() Ethernet steps over 802.1ad and 802.1Q tags", () => {
  const f = summary(
    LINKTYPE_ETHERNET,
    "01005e0000f0" + "020000000002" +
      "88a8" + "0064" + // S-tag, VLAN 100
      "8100" + "00c8" + // C-tag, VLAN 200
      "0800" + IP,
  );
  assertEquals([f.etherType, f.offset, f.payload], [0x0800, 22, IP]);
});

Deno.test("decodeLinkFrame() Linux cooked (SLL): packet type, source MAC, protocol", () => {
  assertEquals(
    summary(
      LINKTYPE_LINUX_SLL,
      "0004" + // packet type 4: outgoing
        "0001" + // ARPHRD_ETHER
        "0006" + // address length 6
        "020000000001" + "0000" + // address, padded to 8
        "0800" + // protocol IPv4
        IP,
    ),
    {
      etherType: 0x0800,
      source: "020000000001",
      destination: undefined,
      packetType: 4,
      ifindex: undefined,
      offset: 16,
      payload: IP,
    },
  );
});

Deno.test("decodeLinkFrame() Linux cooked v2 (SLL2): protocol, ifindex, packet type", () => {
  assertEquals(
    summary(
      LINKTYPE_LINUX_SLL2,
      "86dd" + // protocol IPv6
        "0000" + // reserved
        "00000007" + // ifindex 7
        "0001" + // ARPHRD_ETHER
        "02" + // packet type 2: multicast
        "06" + // address length 6
        "020000000002" + "0000" + // address
        "60000000",
    ),
    {
      etherType: 0x86dd,
      source: "020000000002",
      destination: undefined,
      packetType: 2,
      ifindex: 7,
      offset: 20,
      payload: "60000000",
    },
  );
});

Deno.test("decodeLinkFrame() a cooked frame without a link address has no source", () => {
  const f = summary(LINKTYPE_LINUX_SLL, "0000" + "0304" + "0000" + "00".repeat(8) + "0800" + IP);
  assertEquals([f.source, f.etherType], [undefined, 0x0800]);
});

Deno.test("decodeLinkFrame() raw IP: the family from the version nibble", () => {
  assertEquals(summary(LINKTYPE_RAW, IP).etherType, 0x0800);
  assertEquals(summary(LINKTYPE_RAW, "6000").etherType, 0x86dd);
  assertEquals(summary(LINKTYPE_RAW, "1000").etherType, 0);
});

Deno.test("decodeLinkFrame() errors: short frames are badlen, unknown link types badlink", () => {
  const cases: [number, string, string][] = [
    [LINKTYPE_ETHERNET, "01005e000012", "badlen"],
    [LINKTYPE_ETHERNET, "01005e000012020000000001" + "8100" + "00", "badlen"],
    [LINKTYPE_LINUX_SLL, "00".repeat(15), "badlen"],
    [LINKTYPE_LINUX_SLL2, "00".repeat(19), "badlen"],
    [LINKTYPE_RAW, "", "badlen"],
    [147, "00", "badlink"],
  ];
  for (const [linktype, hex, reason] of cases) {
    const error = assertThrows(() => decodeLinkFrame(linktype, fromHex(hex)), DecodeError);
    assertEquals(error.reason, reason, `${linktype} ${hex}`);
  }
  assertEquals(linkTypeSupported(147), false);
  assertEquals(linkTypeSupported(LINKTYPE_LINUX_SLL2), true);
});
