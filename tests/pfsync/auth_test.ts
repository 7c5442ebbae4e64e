/** Authenticated sync: sealing, forged/replayed/missing trailers, legacy receivers. */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { fromHex, toHex } from "../../lib/bytes/mod.ts";
import {
  AUTH_TRAILER_SIZE,
  encodeFrame,
  parseAuthKey,
  PFSYNC_ACT_INS,
  PfsyncAuth,
  PfsyncSender,
} from "../../lib/pfsync/mod.ts";
import { dump, V5, V5_STATE } from "./fixtures.ts";
import { receiverHarness } from "./harness.ts";

const KEY = new TextEncoder().encode("correct horse battery staple");

function sealedInsert(key = KEY, now = 1_000) {
  const sender = new PfsyncSender({
    auth: new PfsyncAuth({ key, mode: "required", now: () => now }),
  });
  sender.insert(V5_STATE, 0);
  sender.flush();
  return sender.take()[0].bytes;
}

Deno.test("PfsyncAuth.seal() appends magic, sender id (0 when not given), sequence and HMAC after the records", () => {
  const bytes = sealedInsert();
  assertEquals(bytes.length, 228 + AUTH_TRAILER_SIZE);
  assertEquals(toHex(bytes.subarray(0, 228)), toHex(fromHex(dump(V5))), "records unchanged");
  assertEquals(toHex(bytes.subarray(228, 236)), "5053413100000000");
  const sequence = new DataView(bytes.buffer).getBigUint64(236);
  assertEquals(sequence, (1_000n << 16n) + 1n);
});

Deno.test("PfsyncReceiver with auth required: forged, replayed and unsigned packets are badauth", () => {
  const h = receiverHarness({ auth: new PfsyncAuth({ key: KEY, mode: "required" }) });
  const good = sealedInsert();
  const forged = good.slice();
  forged[40] ^= 1; // change an address byte inside the signed records
  const wrongKey = sealedInsert(new TextEncoder().encode("another key of sixteen+ bytes"));
  const table: [string, Uint8Array, boolean][] = [
    ["forged", forged, false],
    ["wrong key", wrongKey, false],
    ["unsigned", fromHex(dump(V5)), false],
    ["good", good, true],
    ["replayed", good, false],
  ];
  for (const [name, bytes, accepted] of table) {
    assertEquals(h.receive(bytes).verdict.accepted, accepted, name);
  }
  assertEquals(h.stats.badauth, 4);
  assertEquals(h.table.size, 1);
});

Deno.test("PfsyncReceiver with auth optional accepts unsigned packets but not bad trailers", () => {
  const h = receiverHarness({ auth: new PfsyncAuth({ key: KEY, mode: "optional" }) });
  assertEquals(h.receive(fromHex(dump(V5))).verdict.accepted, true);
  const bad = sealedInsert();
  bad[bad.length - 1] ^= 0xff;
  assertEquals(h.receive(bad).verdict.accepted, false);
  assertEquals(h.stats.badauth, 1);
});

Deno.test("A legacy receiver (no auth) ignores the trailer and processes the records", () => {
  const h = receiverHarness();
  assertEquals(h.receive(sealedInsert()).verdict, {
    accepted: true,
    action: PFSYNC_ACT_INS,
    records: 1,
  });
  assertEquals(h.table.get(V5_STATE)?.lan, V5_STATE.lan);
});

Deno.test("PfsyncAuth sequences increase per packet and per peer independently", () => {
  const auth = new PfsyncAuth({ key: KEY, mode: "required", now: () => 5 });
  const a = auth.seal(
    encodeFrame({ action: PFSYNC_ACT_INS, records: [V5_STATE] }, AUTH_TRAILER_SIZE),
    228,
  );
  const b = auth.seal(
    encodeFrame({ action: PFSYNC_ACT_INS, records: [V5_STATE] }, AUTH_TRAILER_SIZE),
    228,
  );
  const verifier = new PfsyncAuth({ key: KEY, mode: "required" });
  assertEquals(verifier.verify(b, 228, "192.0.2.1"), "ok");
  assertEquals(verifier.verify(a, 228, "192.0.2.1"), "replay", "older sequence from the same peer");
  assertEquals(verifier.verify(a, 228, "192.0.2.3"), "ok", "another peer has its own window");
});

Deno.test("PfsyncAuth with sender ids: replays from any address and reflections of our own packets are refused", () => {
  const seal = (auth: PfsyncAuth) =>
    auth.seal(
      encodeFrame({ action: PFSYNC_ACT_INS, records: [V5_STATE] }, AUTH_TRAILER_SIZE),
      228,
    );
  const a = new PfsyncAuth({ key: KEY, mode: "required", now: () => 5, senderId: 0x0a000001 });
  const first = seal(a);
  assertEquals(toHex(first.subarray(228, 236)), "505341310a000001", "magic, sender id");
  const second = seal(a);
  const b = new PfsyncAuth({ key: KEY, mode: "required", senderId: 0x0a000002 });
  assertEquals(b.verify(second, 228, "192.0.2.1"), "ok");
  assertEquals(b.verify(first, 228, "192.0.2.99"), "replay", "older sequence, another source");
  assertEquals(b.verify(second, 228, "192.0.2.99"), "replay", "same packet, another source");
  assertEquals(a.verify(seal(a), 228, "192.0.2.99"), "replay", "our own packet reflected back");
  assertEquals(a.verify(seal(b), 228, "192.0.2.2"), "ok");
});

Deno.test("parseAuthKey() takes hex files as hex, other files as bytes, and refuses short keys", () => {
  const hex = "00112233445566778899aabbccddeeff";
  assertEquals(toHex(parseAuthKey(new TextEncoder().encode(`${hex}\n`))), hex);
  assertEquals(parseAuthKey(new TextEncoder().encode("a passphrase of some length\n")).length, 27);
  assertThrows(() => parseAuthKey(new TextEncoder().encode("short\n")), RangeError);
  assertThrows(() => new PfsyncAuth({ key: new Uint8Array(8), mode: "required" }), RangeError);
});
