import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { DecodeError, fromHex, toHex } from "../../lib/bytes/mod.ts";
import {
  align4,
  attributesFromTable,
  type AttrKind,
  bytesOf,
  decodeAttributes,
  encodeAttributes,
  field,
  flag,
  nested,
  nla,
  nlaNest,
  nlaRaw,
  nulString,
  readAttributes,
  s32,
  u16,
  u16be,
  u32,
  u32be,
  u64,
  u64be,
  u8,
} from "../../lib/netlink/mod.ts";

// Spec §5.2: the canonical conntrack create request; attributes start at offset 20.
const CANONICAL_CREATE = fromHex(`
  ac000000 00010506 01000000 00000000 02000000 34000180 14000180 08000100
  c000020a 08000200 c6336414 1c000280 05000100 06000000 06000200 9c400000
  06000300 01bb0000 34000280 14000180 08000100 c6336414 08000200 c000020a
  1c000280 05000100 06000000 06000200 01bb0000 06000300 9c400000 08000300
  0000000e 08000700 0000012c 20000480 1c000180 05000100 03000000 06000400
  0a0a0000 06000500 0a0a0000
`);
// Spec §5.1: the same request as `conntrack -I` sent it, garbage in two pads.
const TOOL_CREATE = fromHex(`
  ac000000 00010506 f6b40a6b 00000000 02000000 34000180 14000180 08000100
  c000020a 08000200 c6336414 1c000280 05000100 06000000 06000200 9c400000
  06000300 01bb0000 34000280 14000180 08000100 c6336414 08000200 c000020a
  1c000280 05000100 06100000 06000200 01bb0000 06000300 9c400000 08000300
  0000000e 08000700 0000012c 20000480 1c000180 05000100 03720000 06000400
  0a0a0000 06000500 0a0a0000
`);

// A ctnetlink-shaped table, written here from spec §2.2–2.4 numbers, to show
// the generic codec carries big-endian payloads and nests.
const TUPLE_IP = { 1: field("v4src", bytesOf(4)), 2: field("v4dst", bytesOf(4)) };
const TUPLE_PROTO = {
  1: field("proto", u8),
  2: field("sport", u16be),
  3: field("dport", u16be),
};
const TUPLE = { 1: field("ip", nested(TUPLE_IP)), 2: field("proto", nested(TUPLE_PROTO)) };
const TCP_INFO = {
  1: field("state", u8),
  4: field("flagsOrig", bytesOf(2)),
  5: field("flagsReply", bytesOf(2)),
};
const CT = {
  1: field("orig", nested(TUPLE)),
  2: field("reply", nested(TUPLE)),
  3: field("status", u32be),
  4: field("protoinfo", nested({ 1: field("tcp", nested(TCP_INFO)) })),
  7: field("timeout", u32be),
};

const EXPECTED_CT = {
  orig: {
    ip: { v4src: fromHex("c000020a"), v4dst: fromHex("c6336414") },
    proto: { proto: 6, sport: 40000, dport: 443 },
  },
  reply: {
    ip: { v4src: fromHex("c6336414"), v4dst: fromHex("c000020a") },
    proto: { proto: 6, sport: 443, dport: 40000 },
  },
  status: 0xe,
  protoinfo: { tcp: { state: 3, flagsOrig: fromHex("0a0a"), flagsReply: fromHex("0a0a") } },
  timeout: 300,
};

Deno.test("readAttributes() splits spec §5.2 top level with nested flags and offsets", () => {
  const attrs = readAttributes(CANONICAL_CREATE, 20, CANONICAL_CREATE.length, true);
  assertEquals(
    attrs.map((a) => [a.type, a.nested, a.offset, a.payload.length]),
    [
      [1, true, 20, 48], // CTA_TUPLE_ORIG len 52
      [2, true, 72, 48], // CTA_TUPLE_REPLY
      [3, false, 124, 4], // CTA_STATUS
      [7, false, 132, 4], // CTA_TIMEOUT
      [4, true, 140, 28], // CTA_PROTOINFO len 32
    ],
  );
});

Deno.test("decodeAttributes() decodes spec §5.1 and §5.2 alike through nested tables", () => {
  for (const vector of [CANONICAL_CREATE, TOOL_CREATE]) {
    assertEquals(decodeAttributes(vector, CT, { start: 20, littleEndian: true }), EXPECTED_CT);
  }
});

Deno.test("encodeAttributes() reproduces spec §5.2 byte for byte from a list", () => {
  const tuple = (src: string, dst: string, sport: number, dport: number) => [
    nlaNest(1, [nla(1, bytesOf(4), fromHex(src)), nla(2, bytesOf(4), fromHex(dst))]),
    nlaNest(2, [nla(1, u8, 6), nla(2, u16be, sport), nla(3, u16be, dport)]),
  ];
  const flags = fromHex("0a0a"); // SACK_PERM|BE_LIBERAL, mask the same
  const encoded = encodeAttributes([
    nlaNest(1, tuple("c000020a", "c6336414", 40000, 443)),
    nlaNest(2, tuple("c6336414", "c000020a", 443, 40000)),
    nla(3, u32be, 0xe),
    nla(7, u32be, 300),
    nlaNest(4, [nlaNest(1, [nla(1, u8, 3), nlaRaw(4, flags), nlaRaw(5, flags)])]),
  ], true);
  assertEquals(toHex(encoded), toHex(CANONICAL_CREATE.subarray(20)));
});

Deno.test("attributesFromTable() round-trips decode -> encode -> decode", () => {
  const decoded = decodeAttributes(TOOL_CREATE, CT, { start: 20, littleEndian: true });
  const again = encodeAttributes(attributesFromTable(CT, decoded), true);
  assertEquals(decodeAttributes(again, CT, { littleEndian: true }), EXPECTED_CT);
  // Same length as the kernel's: only padding and attribute order may differ.
  assertEquals(again.length, CANONICAL_CREATE.length - 20);
});

Deno.test("attribute kinds encode and decode each width and order", () => {
  const cases: Array<[AttrKind<unknown>, unknown, boolean, string]> = [
    [u8 as AttrKind<unknown>, 0xab, true, "ab"],
    [u16 as AttrKind<unknown>, 0x1234, true, "3412"],
    [u16 as AttrKind<unknown>, 0x1234, false, "1234"],
    [u32 as AttrKind<unknown>, 0x01020304, true, "04030201"],
    [u32 as AttrKind<unknown>, 0x01020304, false, "01020304"],
    [s32 as AttrKind<unknown>, -17, true, "efffffff"],
    [u64 as AttrKind<unknown>, 0x0102030405060708n, true, "0807060504030201"],
    [u16be as AttrKind<unknown>, 443, true, "01bb"],
    [u32be as AttrKind<unknown>, 300, true, "0000012c"],
    [u64be as AttrKind<unknown>, 5n, true, "0000000000000005"],
    [nulString as AttrKind<unknown>, "lo", true, "6c6f00"],
    [flag as AttrKind<unknown>, true, true, ""],
  ];
  for (const [kind, value, le, hex] of cases) {
    const encoded = kind.encode(value, le);
    assertEquals(toHex(encoded), hex, `${kind.label} encode`);
    assertEquals(kind.decode(encoded, { littleEndian: le, at: 0 }), value, `${kind.label} decode`);
  }
});

Deno.test("encodeAttributes() pads with zeros and sets NESTED / NET_BYTEORDER bits", () => {
  const out = encodeAttributes([
    nla(3, nulString, "d0"), // len 7 -> 1 pad byte
    nla(5, u16be, 1, true), // NLA_F_NET_BYTEORDER on request
    nlaNest(18, [nla(1, nulString, "veth")]),
  ], true);
  assertEquals(
    toHex(out),
    "0700030064300000" + "0600054000010000" + "10001280" + "0900010076657468" + "00000000",
  );
  assertEquals(align4(13), 16);
  const back = readAttributes(out, 0, out.length, true);
  assertEquals(back.map((a) => [a.type, a.nested, a.netByteOrder]), [
    [3, false, false],
    [5, false, true],
    [18, true, false],
  ]);
});

Deno.test("decodeAttributes() skips unknown types and lets the last duplicate win", () => {
  const table = { 4: field("mtu", u32) };
  const bytes = fromHex("08000400 dc050000 08006300 01000000 08000400 28230000");
  assertEquals(decodeAttributes(bytes, table, { littleEndian: true }), { mtu: 9000 });
});

Deno.test("decodeAttributes() rejects malformed input with reason and offset", () => {
  const table = { 1: field("v", u32), 2: field("n", nested({ 1: field("x", u32) })) };
  const cases: Array<[string, string, string, number]> = [
    ["nla_len below header size", "0300 0100 00000000", "badlen", 0],
    ["nla_len past the end", "0800 0100 0000", "badlen", 0],
    ["second attribute past the end", "08000100 00000000 0c000100 00000000", "badlen", 8],
    ["stray bytes after last attribute", "08000100 00000000 0000", "badlen", 8],
    ["u32 with 3 payload bytes", "0700 0100 000000 00", "badlen", 4],
    ["u32 with 8 payload bytes", "0c00 0100 00000000 00000000", "badlen", 4],
    [
      "inner length error reports the outer offset",
      "08000100 01000000 0c000280 0900 0100 01020304",
      "badlen",
      12,
    ],
  ];
  for (const [name, hex, reason, offset] of cases) {
    const error = assertThrows(
      () => decodeAttributes(fromHex(hex), table, { littleEndian: true }),
      DecodeError,
    );
    assertEquals([error.reason, error.offset], [reason, offset], name);
  }
});
