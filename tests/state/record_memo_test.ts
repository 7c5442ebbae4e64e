/**
 * The 224-byte record codec remembers the last addresses and interface names
 * it handled (most states of a packet share them). These tests interleave
 * records so every memo is hit, missed and replaced, and check each record
 * against its own fields: a memo must never leak one record's bytes into
 * another.
 */
import { assertEquals } from "../helpers/assert.ts";
import {
  decodeStateRecord,
  encodeStateRecord,
  OFF,
  STATE_RECORD_SIZE,
} from "../../lib/state/record.ts";
import type { State } from "../../lib/state/types.ts";
import { makeState } from "../pfsync/fixtures.ts";

const v4 = (lan: string, ext: string, rtAddr = "0.0.0.0", ifname = "self"): State =>
  makeState({
    af: 2,
    ifname,
    lan: { addr: lan, port: 1000 },
    gwy: { addr: lan, port: 1000 },
    ext: { addr: ext, port: 443 },
    rtAddr,
  });

const v6 = (lan: string, ext: string, rtAddr = "::"): State =>
  makeState({
    af: 28,
    lan: { addr: lan, port: 2000 },
    gwy: { addr: lan, port: 2000 },
    ext: { addr: ext, port: 443 },
    rtAddr,
  });

function addresses(s: State): string[] {
  return [s.ifname, s.lan.addr, s.gwy.addr, s.ext.addr, s.rtAddr];
}

Deno.test("encodeStateRecord()/decodeStateRecord() keep each record's own addresses when interleaved", () => {
  const states = [
    v4("10.0.0.1", "198.51.100.7"),
    v4("10.0.0.2", "198.51.100.7"),
    v4("10.0.0.1", "198.51.100.8", "192.0.2.254"),
    v6("2001:db8::1", "2001:db8:1::7"),
    v4("10.0.0.3", "198.51.100.7", "0.0.0.0", "em0"),
    v6("2001:db8::2", "2001:db8:1::7", "2001:db8::fe"),
    v4("198.51.100.7", "10.0.0.1"),
    v4("10.0.0.1", "198.51.100.7", "192.0.2.254", "self"),
    v6("::ffff:a00:1", "2001:db8:1::8"),
    v4("0.0.0.0", "203.0.113.9"),
  ];
  // One packet's worth in one buffer, as encodeFrame writes them, then each alone.
  const packet = new Uint8Array(states.length * STATE_RECORD_SIZE);
  const view = new DataView(packet.buffer);
  states.forEach((s, i) => encodeStateRecord(s, packet, i * STATE_RECORD_SIZE, view));
  for (let round = 0; round < 2; round++) {
    states.forEach((s, i) => {
      const decoded = decodeStateRecord(packet, i * STATE_RECORD_SIZE, view);
      assertEquals(addresses(decoded), addresses(s), `record ${i}, round ${round}`);
      const alone = encodeStateRecord(s);
      assertEquals(
        alone,
        packet.subarray(i * STATE_RECORD_SIZE, (i + 1) * STATE_RECORD_SIZE),
        `record ${i} encodes the same alone and in the packet`,
      );
    });
  }
});

Deno.test("encodeStateRecord() writes a clean interface name after decoding one with bytes past its NUL", () => {
  const wire = encodeStateRecord(v4("10.0.0.1", "198.51.100.7"));
  // "self\0" followed by garbage, as odd senders leave it.
  wire.set([0x73, 0x65, 0x6c, 0x66, 0, 0x41, 0x42, 0x43], OFF.ifname);
  const decoded = decodeStateRecord(wire);
  assertEquals(decoded.ifname, "self");
  const again = encodeStateRecord(v4("10.0.0.9", "198.51.100.7"));
  assertEquals(
    [...again.subarray(OFF.ifname, OFF.ifname + 16)],
    [0x73, 0x65, 0x6c, 0x66, ...new Array(12).fill(0)],
  );
  // And decoding the clean form again does not return the garbage-bearing memo's bytes.
  assertEquals(decodeStateRecord(again).ifname, "self");
  assertEquals(decodeStateRecord(wire).ifname, "self");
});

Deno.test("decodeStateRecord() formats an AF_INET address with a non-zero tail as IPv6", () => {
  const wire = encodeStateRecord(v4("10.0.0.1", "198.51.100.7"));
  const first = decodeStateRecord(wire).lan.addr;
  wire[OFF.lan + 15] = 1; // same first word, different address
  const odd = decodeStateRecord(wire);
  assertEquals(first, "10.0.0.1");
  assertEquals(odd.lan.addr, "a00:1::1");
  assertEquals(odd.gwy.addr, "10.0.0.1");
});
