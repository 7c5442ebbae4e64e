import { fromHex, toHex } from "../../lib/bytes/hex.ts";
import {
  decodeLinkMessage,
  encodeDeleteLinkRequest,
  encodeMacvlanRequest,
  MACVLAN_MODE_BRIDGE,
  MACVLAN_MODE_PRIVATE,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  RTM_DELLINK,
  RTM_NEWLINK,
  splitNlMessages,
} from "../../lib/netlink/mod.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

const CREATE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE;
const VMAC7 = Uint8Array.of(0x00, 0x00, 0x5e, 0x00, 0x01, 0x07);

Deno.test("encodeMacvlanRequest() lays out RTM_NEWLINK for a macvlan, byte for byte", () => {
  const bytes = encodeMacvlanRequest(CREATE, 7, {
    name: "eth0.c7",
    parentIndex: 2,
    mac: VMAC7,
    mode: MACVLAN_MODE_PRIVATE,
    up: true,
  }, true);
  const expected = [
    "5c000000 1000 0506 07000000 00000000", // nlmsghdr: len 92, RTM_NEWLINK, REQ|ACK|EXCL|CREATE, seq 7
    "00 00 0000 00000000 01000000 01000000", // ifinfomsg: AF_UNSPEC, index 0, flags IFF_UP, change IFF_UP
    "0c00 0300 6574 6830 2e63 3700", // IFLA_IFNAME "eth0.c7\0"
    "0a00 0100 0000 5e00 0107 0000", // IFLA_ADDRESS 00:00:5e:00:01:07 + 2 pad
    "0800 0500 02000000", // IFLA_LINK parent ifindex 2
    "1c00 1280", // IFLA_LINKINFO, nested, 28 bytes
    "0c00 0100 6d61 6376 6c61 6e00", //   IFLA_INFO_KIND "macvlan\0"
    "0c00 0280 0800 0100 01000000", //   IFLA_INFO_DATA { IFLA_MACVLAN_MODE private (1) }
  ].join("");
  assertEquals(toHex(bytes), toHex(fromHex(expected.replace(/ /g, ""))));
});

Deno.test("encodeMacvlanRequest() reads back through decodeLinkMessage()", () => {
  const bytes = encodeMacvlanRequest(NLM_F_REQUEST | NLM_F_ACK, 9, {
    name: "enp0s31f6.c200",
    parentIndex: 5,
    mac: VMAC7,
    mode: MACVLAN_MODE_BRIDGE,
    up: false,
  });
  const [message] = splitNlMessages(bytes);
  assertEquals(message.header.type, RTM_NEWLINK);
  const link = decodeLinkMessage(message.payload);
  assertEquals([link.flags, link.change], [0, 0]);
  assertEquals(link.attrs.ifname, "enp0s31f6.c200");
  assertEquals(link.attrs.link, 5);
  assertEquals(toHex(link.attrs.address!), "00005e000107");
  assertEquals(link.attrs.linkinfo?.kind, "macvlan");
});

Deno.test("encodeMacvlanRequest() refuses a bad MAC or an over-long name", () => {
  const req = { name: "eth0.c1", parentIndex: 2, mac: VMAC7, mode: 1, up: true };
  assertThrows(() => encodeMacvlanRequest(CREATE, 1, { ...req, mac: new Uint8Array(5) }));
  assertThrows(() => encodeMacvlanRequest(CREATE, 1, { ...req, name: "a-very-long-name" }));
  assertThrows(() => encodeMacvlanRequest(CREATE, 1, { ...req, name: "" }));
});

Deno.test("encodeDeleteLinkRequest() is RTM_DELLINK naming the link", () => {
  const bytes = encodeDeleteLinkRequest(NLM_F_REQUEST | NLM_F_ACK, 3, "eth0.c7", true);
  const expected = "2c000000 1100 0500 03000000 00000000" + // nlmsghdr: len 44, RTM_DELLINK, REQ|ACK
    "00 00 0000 00000000 00000000 00000000" + // ifinfomsg: by name, index 0
    "0c00 0300 6574 6830 2e63 3700"; // IFLA_IFNAME "eth0.c7\0"
  assertEquals(toHex(bytes), toHex(fromHex(expected.replace(/ /g, ""))));
  assertEquals(splitNlMessages(bytes)[0].header.type, RTM_DELLINK);
});
