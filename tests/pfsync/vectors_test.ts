/** Every test vector of spec pfsync.md §13, byte-exact, as encode → decode → encode round trips. */
import { assertEquals } from "../helpers/assert.ts";
import { fromHex, toHex } from "../../lib/bytes/mod.ts";
import { checksumIsValid } from "../../lib/bytes/checksum.ts";
import {
  decodeFrame,
  encodeFrame,
  PFSYNC_ACT_BUS,
  PFSYNC_ACT_CLR,
  PFSYNC_ACT_DEL_C,
  PFSYNC_ACT_INS,
  PFSYNC_ACT_UPD_C,
  PFSYNC_ACT_UREQ,
  type PfsyncMessage,
  unwrapIPv4,
  wrapIPv4,
} from "../../lib/pfsync/mod.ts";
import {
  dump,
  HOST_A,
  ID1,
  ID2,
  V1,
  V2,
  V2B,
  V3,
  V3_DST1,
  V3_SRC1,
  V4,
  V5,
  V5_STATE,
  V6,
  V7,
} from "./fixtures.ts";

const cases: [string, string, PfsyncMessage][] = [
  ["V1 bulk request", V1, { action: PFSYNC_ACT_UREQ, records: [{ id: 0n, creatorId: 0 }] }],
  ["V2 BUS START", V2, {
    action: PFSYNC_ACT_BUS,
    records: [{ creatorId: HOST_A, endtime: 0, status: 1 }],
  }],
  ["V2b BUS END", V2B, {
    action: PFSYNC_ACT_BUS,
    records: [{ creatorId: HOST_A, endtime: 3, status: 2 }],
  }],
  ["V3 UPD_C ×2", dump(V3), {
    action: PFSYNC_ACT_UPD_C,
    records: [
      { id: ID1, src: V3_SRC1, dst: V3_DST1, creatorId: HOST_A, expire: 0, timeout: 2, updates: 0 },
      {
        id: ID2,
        src: {
          seqlo: 0x01020304,
          seqhi: 0x01021304,
          seqdiff: 0x1000,
          maxWin: 32768,
          mss: 0,
          state: 9,
          wscale: 0,
        },
        dst: {
          seqlo: 0x05060708,
          seqhi: 0x05061708,
          seqdiff: 0,
          maxWin: 16384,
          mss: 0,
          state: 10,
          wscale: 0,
        },
        creatorId: HOST_A,
        expire: 0,
        timeout: 4,
        updates: 3,
      },
    ],
  }],
  ["V4 DEL_C", V4, { action: PFSYNC_ACT_DEL_C, records: [{ id: ID2, creatorId: HOST_A }] }],
  ["V5 INS", dump(V5), { action: PFSYNC_ACT_INS, records: [V5_STATE] }],
  ["V6 CLR", V6, { action: PFSYNC_ACT_CLR, records: [{ ifname: "", creatorId: HOST_A }] }],
];

for (const [name, hex, message] of cases) {
  Deno.test(`encodeFrame()/decodeFrame() ${name} byte-exact round trip`, () => {
    const bytes = fromHex(hex);
    assertEquals(toHex(encodeFrame(message)), toHex(bytes), "encode");
    const decoded = decodeFrame(bytes);
    assertEquals(decoded.message, message, "decode");
    assertEquals(decoded.end, bytes.length);
    assertEquals(toHex(encodeFrame(decoded.message)), toHex(bytes), "re-encode");
  });
}

Deno.test("wrapIPv4() V7: V2 as a complete datagram, checksum 0xBDF7", () => {
  const datagram = wrapIPv4(fromHex(V2), "192.168.254.254", "224.0.0.240", 0x1c46);
  assertEquals(toHex(datagram), toHex(fromHex(dump(V7))));
  assert16(datagram);
  const env = unwrapIPv4(datagram);
  assertEquals([env.source, env.destination, env.ttl, env.protocol], [
    "192.168.254.254",
    "224.0.0.240",
    255,
    240,
  ]);
  assertEquals(toHex(env.payload), V2);
});

function assert16(datagram: Uint8Array): void {
  assertEquals(checksumIsValid(datagram.subarray(0, 20)), true);
  assertEquals((datagram[10] << 8) | datagram[11], 0xbdf7);
}

Deno.test("decodeFrame() V5 spot checks at the spec's packet offsets", () => {
  const bytes = fromHex(dump(V5));
  const at = (o: number, n: number) => toHex(bytes.subarray(o, o + n));
  const spots: [number, number, string][] = [
    [0x0c, 4, "66787030"], // ifname "fxp0"
    [0x1c, 4, "c0a8000a"], // lan.addr 192.168.0.10
    [0x2c, 2, "8707"], // lan.port 34567
    [0x34, 4, "0a0000fe"], // gwy.addr
    [0x44, 2, "d6d8"], // gwy.port 55000
    [0x4c, 4, "c6336407"], // ext.addr
    [0x5c, 2, "0050"], // ext.port
    [0x6c, 4, "11223344"], // src.seqlo
    [0xb4, 4, "00000003"], // rule
    [0xb8, 4, "ffffffff"], // anchor
    [0xc0, 4, "00000078"], // creation (age) 120
    [0xd8, 4, "0badcafe"], // creatorid
    [0xdc, 8, "0206020000020000"], // af proto direction log allow_opts timeout sync_flags updates
  ];
  for (const [offset, size, hex] of spots) {
    assertEquals(at(offset, size), hex, `offset 0x${offset.toString(16)}`);
  }
});
