/** Codec behaviour beyond the vectors: error table, IPv6, lossless records, sizes. */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { DecodeError, fromHex, toHex } from "../../lib/bytes/mod.ts";
import {
  ACTIONS,
  decodeFrame,
  decodeStateRecord,
  encodeFrame,
  encodeStateRecord,
  frameLength,
  maxRecordsForMtu,
  PFSYNC_ACT_BUS,
  PFSYNC_ACT_CLR,
  PFSYNC_ACT_INS_F,
  PFSYNC_ACT_UPD,
  STATE_RECORD_SIZE,
  unwrapIPv4,
} from "../../lib/pfsync/mod.ts";
import { dump, V1, V2, V3, V5, V5_STATE } from "./fixtures.ts";

function mutate(hex: string, offset: number, value: number): Uint8Array {
  const bytes = fromHex(hex);
  bytes[offset] = value;
  return bytes;
}

Deno.test("decodeFrame() rejects malformed packets with the counter the receiver increments", () => {
  const v3 = fromHex(dump(V3));
  const table: [string, Uint8Array, string][] = [
    ["empty", new Uint8Array(0), "hdrops"],
    ["3 bytes", fromHex("020008"), "hdrops"],
    ["V2 with version 3", mutate(V2, 0, 3), "badver"],
    ["version 1", mutate(V1, 0, 1), "badver"],
    ["V1 with action 10", mutate(V1, 2, 10), "badact"],
    ["action 255", mutate(V1, 2, 255), "badact"],
    ["V3 minus one byte", v3.subarray(0, v3.length - 1), "badlen"],
    ["UREQ count 2 with one record", mutate(V1, 3, 2), "badlen"],
    ["BUS with 15-byte record", fromHex(V2).subarray(0, 19), "badlen"],
    ["CLR header only", fromHex("02000000"), "badlen"],
    ["INS count 1, no record", fromHex("02000101"), "badlen"],
  ];
  for (const [name, bytes, reason] of table) {
    const error = assertThrows(() => decodeFrame(bytes), DecodeError, undefined);
    assertEquals(error.reason, reason, name);
  }
});

Deno.test("decodeFrame() ignores trailing bytes and CLR/BUS counts", () => {
  const withTrailer = new Uint8Array([...fromHex(V1), 0xde, 0xad, 0xbe, 0xef]);
  const frame = decodeFrame(withTrailer);
  assertEquals(frame.end, 20);
  assertEquals(frame.message.records.length, 1);
  // A BUS that claims count 5 still carries one record (the count is ignored).
  const bus = mutate(V2, 3, 5);
  assertEquals(decodeFrame(bus).message.records.length, 1);
  // Fragment actions carry nothing, whatever the count.
  assertEquals(decodeFrame(fromHex("02000607")).message, { action: PFSYNC_ACT_INS_F, records: [] });
});

Deno.test("decodeFrame() ignores pad garbage in CLR and BUS", () => {
  const clr = fromHex("0200000061626300ffffffffffffffffffffffff0badcafe99999999");
  assertEquals(decodeFrame(clr).message, {
    action: PFSYNC_ACT_CLR,
    records: [{ ifname: "abc", creatorId: 0x0badcafe }],
  });
  const bus = fromHex("020009000badcafe0000000001ffffffffffffff");
  assertEquals(decodeFrame(bus).message, {
    action: PFSYNC_ACT_BUS,
    records: [{ creatorId: 0x0badcafe, endtime: 0, status: 1 }],
  });
});

Deno.test("encodeStateRecord() IPv6 state round trip (af 28)", () => {
  const v6 = {
    ...V5_STATE,
    af: 28,
    lan: { addr: "2001:db8::10", port: 34567 },
    gwy: { addr: "2001:db8::10", port: 34567 },
    ext: { addr: "2001:db8:1::7", port: 443 },
    rtAddr: "::",
  };
  const bytes = encodeStateRecord(v6);
  assertEquals(toHex(bytes.subarray(24, 40)), "20010db8000000000000000000000010");
  assertEquals(decodeStateRecord(bytes), v6);
});

Deno.test("decodeStateRecord() then encodeStateRecord() is lossless for any 224 bytes", () => {
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  for (let i = 0; i < 500; i++) {
    const bytes = Uint8Array.from({ length: STATE_RECORD_SIZE }, random);
    if (i % 3 === 0) bytes[216] = 2; // exercise the IPv4 text path
    if (i % 5 === 0) bytes.fill(0, 28, 40); // IPv4 with zero tail
    // The name ends at its first NUL; senders zero-fill the rest (documented in types.ts).
    const nul = bytes.subarray(8, 24).indexOf(0);
    if (nul >= 0) bytes.fill(0, 8 + nul, 24);
    const again = encodeStateRecord(decodeStateRecord(bytes));
    assertEquals(toHex(again), toHex(bytes), `sample ${i}`);
  }
});

Deno.test("encodeStateRecord() keeps scrub blocks and pads (used by LX1)", () => {
  const state = {
    ...V5_STATE,
    ext: { addr: "198.51.100.7", port: 80, pad: [1234, 0, 7] as [number, number, number] },
    src: {
      ...V5_STATE.src,
      pad: [3, 0x12, 8, 0, 0],
      scrub: { flags: 1, ttl: 64, scrubFlag: 1, tsMod: 9 },
    },
  };
  const bytes = encodeStateRecord(state);
  assertEquals(bytes[123], 3); // src.pad[0]: exact conntrack state in LX1
  assertEquals((bytes[90] << 8) | bytes[91], 1234); // ext.pad[0]
  assertEquals(decodeStateRecord(bytes), state);
});

Deno.test("maxRecordsForMtu() follows §3.3", () => {
  const table: [number, number][] = [[1500, 6], [2048, 9], [9000, 9], [1348, 6], [228, 1], [
    576,
    2,
  ]];
  for (const [mtu, count] of table) assertEquals(maxRecordsForMtu(mtu), count, `mtu ${mtu}`);
  assertThrows(() => maxRecordsForMtu(200), RangeError);
  assertEquals(frameLength(PFSYNC_ACT_UPD, 6), 1348);
});

Deno.test("ACTIONS table: sizes and count rules per action code", () => {
  const expected = [
    [24, "one"],
    [224, "count"],
    [224, "count"],
    [224, "count"],
    [88, "count"],
    [16, "count"],
    [
      0,
      "count",
    ],
    [0, "count"],
    [16, "count"],
    [16, "one"],
  ];
  assertEquals(ACTIONS.map((a) => [a.recordSize, a.countRule]), expected);
  assertEquals(ACTIONS.map((a) => a.code), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("encodeFrame() refuses what the wire cannot say", () => {
  assertThrows(() => encodeFrame({ action: PFSYNC_ACT_BUS, records: [] }), RangeError);
  assertThrows(
    () => encodeFrame({ action: PFSYNC_ACT_UPD, records: new Array(256).fill(V5_STATE) }),
    RangeError,
  );
  assertThrows(
    () => encodeStateRecord({ ...V5_STATE, lan: { addr: "not-an-ip", port: 1 } }),
    RangeError,
  );
});

Deno.test("unwrapIPv4() locates the payload by IHL; only a truncated IP header is hdrops", () => {
  const payload = fromHex(dump(V5));
  const withOptions = new Uint8Array(24 + payload.length);
  withOptions.set([
    0x46,
    0x10,
    (withOptions.length >> 8) & 255,
    withOptions.length & 255,
    0,
    0,
    0x40,
    0,
    255,
    240,
  ]);
  withOptions.set([192, 0, 2, 1], 12);
  withOptions.set([224, 0, 0, 240], 16);
  withOptions.set(payload, 24);
  assertEquals(toHex(unwrapIPv4(withOptions).payload), toHex(payload));
  assertEquals(unwrapIPv4(withOptions.subarray(0, 26)).payload.length, 2);
  for (const bytes of [new Uint8Array(10), withOptions.subarray(0, 22)]) {
    assertEquals(assertThrows(() => unwrapIPv4(bytes), DecodeError).reason, "hdrops");
  }
});
