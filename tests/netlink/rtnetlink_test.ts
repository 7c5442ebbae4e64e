import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { DecodeError, fromHex, toHex } from "../../lib/bytes/mod.ts";
import {
  AF_INET6,
  classifyNlMessage,
  decodeAddrMessage,
  decodeLinkMessage,
  encodeAddressRequest,
  encodeAddrMessage,
  encodeGetAddrDump,
  encodeGetLinkDump,
  encodeLinkMessage,
  IF_OPER_DOWN,
  IF_OPER_LOWERLAYERDOWN,
  IFA_F_NODAD,
  IFA_F_PERMANENT,
  IFF_BROADCAST,
  IFF_LOOPBACK,
  IFF_MULTICAST,
  IFF_UP,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  RTM_DELADDR,
  RTM_NEWADDR,
  RTM_NEWLINK,
  splitNlMessages,
} from "../../lib/netlink/mod.ts";
import * as V from "./rtnetlink_vectors.ts";

const hex = (text: string) => toHex(fromHex(text));
const ADD = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE;

Deno.test("encodeAddressRequest() matches what `ip addr add/del` sends, byte for byte", () => {
  const v6 = fromHex("20010db8 00000000 00000000 00000002");
  const cases: Array<[string, Uint8Array, string]> = [
    [
      "add 192.0.2.1/24",
      encodeAddressRequest(RTM_NEWADDR, ADD, 0x6b0acdd5, {
        index: 3,
        address: fromHex("c0000201"),
        prefixLength: 24,
      }, true),
      V.IP_ADDR_ADD_V4,
    ],
    [
      "add 2001:db8::2/64 nodad",
      encodeAddressRequest(RTM_NEWADDR, ADD, 0x6b0ace89, {
        index: 3,
        address: v6,
        prefixLength: 64,
        flags: IFA_F_NODAD,
      }, true),
      V.IP_ADDR_ADD_V6_NODAD,
    ],
    [
      "del 2001:db8::2/64",
      encodeAddressRequest(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, 0x6b0ace89, {
        index: 3,
        address: v6,
        prefixLength: 64,
      }, true),
      V.IP_ADDR_DEL_V6,
    ],
  ];
  for (const [name, actual, expected] of cases) assertEquals(toHex(actual), hex(expected), name);
});

Deno.test("encodeAddressRequest() carries flags above 8 bits in IFA_FLAGS and a label", () => {
  const bytes = encodeAddressRequest(RTM_NEWADDR, ADD, 1, {
    index: 2,
    address: fromHex("c6336401"),
    prefixLength: 32,
    flags: 0x200 | IFA_F_NODAD, // NOPREFIXROUTE does not fit ifa_flags
    label: "eth0:1",
  }, true);
  const message = splitNlMessages(bytes, true)[0];
  const decoded = decodeAddrMessage(message.payload, true);
  assertEquals(decoded.flags, IFA_F_NODAD);
  assertEquals(decoded.attrs.flags, 0x202);
  assertEquals(decoded.attrs.label, "eth0:1");
  assertThrows(
    () =>
      encodeAddressRequest(RTM_NEWADDR, ADD, 1, {
        index: 2,
        address: new Uint8Array(5),
        prefixLength: 8,
      }),
    RangeError,
  );
});

Deno.test("encodeGetLinkDump()/encodeGetAddrDump() produce the probe's requests", () => {
  assertEquals(toHex(encodeGetLinkDump(7, true)), hex(V.GETLINK_DUMP_REQUEST));
  assertEquals(
    toHex(encodeGetAddrDump(1, 2, true)),
    "18000000" + "1600" + "0103" + "01000000" + "00000000" + "02000000" + "00000000",
  );
});

Deno.test("decodeLinkMessage() reads the captured GETLINK dump (lo, d1, d0)", () => {
  const messages = splitNlMessages(fromHex(V.GETLINK_DUMP_REPLY), true);
  assertEquals(messages.map((m) => [m.header.type, m.header.flags, m.header.seq]), [
    [RTM_NEWLINK, NLM_F_MULTI, 7],
    [RTM_NEWLINK, NLM_F_MULTI, 7],
    [RTM_NEWLINK, NLM_F_MULTI, 7],
  ]);
  const links = messages.map((m) => decodeLinkMessage(m.payload, true, m.offset + 16));
  const summary = links.map((l) => ({
    index: l.index,
    type: l.type,
    name: l.attrs.ifname,
    flags: l.flags,
    mtu: l.attrs.mtu,
    mac: toHex(l.attrs.address ?? new Uint8Array(), ":"),
    operstate: l.attrs.operstate,
    carrier: l.attrs.carrier,
    kind: l.attrs.linkinfo?.kind,
    link: l.attrs.link,
  }));
  assertEquals(summary, [
    {
      index: 1,
      type: 772, // ARPHRD_LOOPBACK
      name: "lo",
      flags: IFF_LOOPBACK,
      mtu: 65536,
      mac: "00:00:00:00:00:00",
      operstate: IF_OPER_DOWN,
      carrier: 1,
      kind: undefined,
      link: undefined,
    },
    {
      index: 2,
      type: 1, // ARPHRD_ETHER
      name: "d1",
      flags: IFF_BROADCAST | IFF_MULTICAST,
      mtu: 1500,
      mac: "02:00:00:00:00:02",
      operstate: IF_OPER_DOWN,
      carrier: 0,
      kind: "veth",
      link: 3,
    },
    {
      index: 3,
      type: 1,
      name: "d0",
      flags: IFF_UP | IFF_BROADCAST | IFF_MULTICAST,
      mtu: 1500,
      mac: "02:00:00:00:00:01",
      operstate: IF_OPER_LOWERLAYERDOWN,
      carrier: 0,
      kind: "veth",
      link: 2,
    },
  ]);
  const done = splitNlMessages(fromHex(V.GETLINK_DUMP_DONE), true).map((m) =>
    classifyNlMessage(m, true)
  );
  assertEquals(done.map((r) => r.kind), ["done"]);
});

Deno.test("decodeLinkMessage() reads the link-down event and re-encodes what it knows", () => {
  const [message] = splitNlMessages(fromHex(V.NEWLINK_EVENT_D1_DOWN), true);
  assertEquals([message.header.type, message.header.seq, message.header.pid], [RTM_NEWLINK, 0, 0]);
  const link = decodeLinkMessage(message.payload, true);
  assertEquals([link.index, link.flags, link.change, link.attrs.ifname], [
    2,
    IFF_BROADCAST | IFF_MULTICAST,
    IFF_UP, // ifi_change: the UP bit is what changed
    "d1",
  ]);
  const again = encodeLinkMessage({ type: RTM_NEWLINK, flags: 0, seq: 0 }, link, true);
  const [reparsed] = splitNlMessages(again, true);
  assertEquals(decodeLinkMessage(reparsed.payload, true), link);
});

Deno.test("decodeAddrMessage() reads the GETADDR dump and the IPv6 NEWADDR event", () => {
  const [v4msg] = splitNlMessages(fromHex(V.GETADDR_DUMP_REPLY), true);
  const v4 = decodeAddrMessage(v4msg.payload, true);
  assertEquals(
    [v4.family, v4.prefixLength, v4.flags, v4.scope, v4.index, v4.attrs.label, v4.attrs.flags],
    [2, 24, IFA_F_PERMANENT, 0, 3, "d0", IFA_F_PERMANENT],
  );
  assertEquals([toHex(v4.attrs.local!), toHex(v4.attrs.address!)], ["c0000201", "c0000201"]);

  const [v6msg] = splitNlMessages(fromHex(V.NEWADDR6_EVENT), true);
  const v6 = decodeAddrMessage(v6msg.payload, true);
  assertEquals([v6.family, v6.prefixLength, v6.index, v6.attrs.local], [
    AF_INET6,
    64,
    3,
    undefined,
  ]);
  assertEquals(toHex(v6.attrs.address!), "20010db8000000000000000000000001");
  assertEquals(v6.attrs.flags, IFA_F_PERMANENT | IFA_F_NODAD);

  const again = encodeAddrMessage({ type: RTM_NEWADDR, flags: 0, seq: 0 }, v6, true);
  assertEquals(toHex(again), hex(V.NEWADDR6_EVENT)); // kernel order is ascending here
});

Deno.test("classifyNlMessage() reads the captured address ACK / EEXIST / EADDRNOTAVAIL", () => {
  const cases: Array<[string, string, number, number]> = [
    [V.DELADDR4_ACK, "ack", 0, 5],
    [V.NEWADDR6_EEXIST, "error", 17, 4],
    [V.DELADDR4_EADDRNOTAVAIL, "error", 99, 6],
  ];
  for (const [vector, kind, errno, seq] of cases) {
    const [reply] = splitNlMessages(fromHex(vector), true).map((m) => classifyNlMessage(m, true));
    assertEquals(reply.kind, kind);
    assertEquals(reply.message.header.seq, seq);
    if (reply.kind === "error") {
      assertEquals(reply.errno, errno);
      assert(reply.request !== undefined);
      assertEquals(reply.request.seq, seq);
    }
  }
});

Deno.test("decodeLinkMessage()/decodeAddrMessage() reject short headers and bad attributes", () => {
  const cases: Array<[string, () => unknown, string, number]> = [
    ["ifinfomsg cut", () => decodeLinkMessage(new Uint8Array(15), true, 16), "badlen", 16],
    ["ifaddrmsg cut", () => decodeAddrMessage(new Uint8Array(7), true), "badlen", 0],
    [
      "IFA_ADDRESS of 5 bytes",
      () => decodeAddrMessage(fromHex("02180000 03000000 09000100 c000020101 000000"), true),
      "badlen",
      12,
    ],
    [
      "IFLA_MTU of 2 bytes",
      () =>
        decodeLinkMessage(fromHex("00000100 02000000 00000000 00000000 06000400 dc05 0000"), true),
      "badlen",
      20,
    ],
  ];
  for (const [name, fn, reason, offset] of cases) {
    const error = assertThrows(fn, DecodeError);
    assertEquals([error.reason, error.offset], [reason, offset], name);
  }
});
