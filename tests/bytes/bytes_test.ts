import { assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  ByteReader,
  ByteWriter,
  checksumIsValid,
  DecodeError,
  fromHex,
  internetChecksum,
  toHex,
} from "../../lib/bytes/mod.ts";

Deno.test("internetChecksum() matches RFC 1071 examples", () => {
  const cases: Array<[string, number]> = [
    ["0001 f203 f4f5 f6f7", 0x220d], // RFC 1071 §3 example: sum ddf2, complement 220d
    ["", 0xffff],
    ["ff", 0x00ff], // odd length pads with zero: ff00 → 00ff
    ["4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7", 0xb861], // classic IPv4 header
  ];
  for (const [hex, expected] of cases) {
    assertEquals(internetChecksum(fromHex(hex)), expected, hex);
  }
  assertEquals(checksumIsValid(fromHex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7")), true);
  assertEquals(
    checksumIsValid(fromHex("4500 0073 0000 4000 4011 b862 c0a8 0001 c0a8 00c7")),
    false,
  );
});

Deno.test("ByteReader reads big-endian and throws DecodeError with the counter name", () => {
  const r = new ByteReader(fromHex("01 0203 04050607 08090a0b0c0d0e0f"), "hdrops");
  assertEquals(r.u8(), 1);
  assertEquals(r.u16(), 0x0203);
  assertEquals(r.u32(), 0x04050607);
  assertEquals(r.u64(), 0x08090a0b0c0d0e0fn);
  const error = assertThrows(() => r.u8(), DecodeError);
  assertEquals(error.reason, "hdrops");
  assertEquals(error.offset, 15);
});

Deno.test("ByteWriter round-trips with ByteReader and refuses overflow", () => {
  const w = new ByteWriter(16);
  w.u8(0xab).u16(0x1234).u32(0xdeadbeef).u64(1n).zeros(1);
  assertEquals(toHex(w.written()), "ab1234deadbeef000000000000000100");
  assertThrows(() => w.u32(1), RangeError);
  assertEquals(toHex(fromHex("AB cd # comment\n ef")), "abcdef");
});
