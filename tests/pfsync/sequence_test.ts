/** The sequence trailer (byte vectors), its sender side, and loss counting with reordering. */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  AUTH_TRAILER_SIZE,
  decodeFrame,
  decodeSeqTrailer,
  encodeSeqTrailer,
  PfsyncAuth,
  PfsyncSender,
  SEQ_MAGIC,
  SEQ_MAX_SENDERS,
  SEQ_RESET_JUMP,
  SEQ_TRAILER_SIZE,
  SEQ_WINDOW,
  type SeqTrailer,
  SequenceCounter,
  SequenceTracker,
} from "../../lib/pfsync/mod.ts";
import { fromHex, toHex } from "../../lib/bytes/hex.ts";
import { V1, V4 } from "./fixtures.ts";

const hex = fromHex;

Deno.test("encodeSeqTrailer() writes magic, sender id and a 64-bit sequence, big-endian", () => {
  const cases: [string, { senderId: number; sequence: bigint }, string][] = [
    [
      "host 0x0BADCAFE, sequence 1",
      { senderId: 0x0badcafe, sequence: 1n },
      "50535131" + // magic "PSQ1"
      "0badcafe" + // sender id
      "0000000000000001", // sequence
    ],
    [
      "no sender id, seed of 2026-11-28 00:00 UTC × 2^16 + 5",
      { senderId: 0, sequence: (1_795_824_000_000n << 16n) + 5n },
      "50535131" + "00000000" + "01a21f739c000005",
    ],
    [
      "sequence at 2^64 - 1, sender id 0xFFFFFFFF",
      { senderId: 0xffffffff, sequence: 0xffffffffffffffffn },
      "50535131" + "ffffffff" + "ffffffffffffffff",
    ],
  ];
  for (const [name, trailer, expected] of cases) {
    const bytes = encodeSeqTrailer(trailer);
    assertEquals(toHex(bytes), expected, name);
    assertEquals(bytes.length, SEQ_TRAILER_SIZE, name);
    // Round trip: decode → encode gives the same bytes.
    const decoded = decodeSeqTrailer(bytes, 0)!;
    assertEquals(decoded, { magic: SEQ_MAGIC, ...trailer }, name);
    assertEquals(toHex(encodeSeqTrailer(decoded)), expected, name);
  }
});

Deno.test("decodeSeqTrailer() reads PSQ1 and the head of PSA1; anything else is no trailer", () => {
  const psq = "50535131" + "00000002" + "0000000000000007";
  const psa = "50534131" + "00000002" + "0000000000000007" + "00".repeat(32);
  const cases: [string, string, number, SeqTrailer | undefined][] = [
    ["V4 + PSQ1", V4 + psq, 20, { magic: 0x50535131, senderId: 2, sequence: 7n }],
    ["V4 + PSA1 (auth)", V4 + psa, 20, { magic: 0x50534131, senderId: 2, sequence: 7n }],
    ["V4 alone", V4, 20, undefined],
    ["V4 + 15 bytes", V4 + psq.slice(0, 30), 20, undefined],
    ["V4 + other magic", V4 + "50535132" + psq.slice(8), 20, undefined],
    ["V1 + PSQ1", V1 + psq, 20, { magic: 0x50535131, senderId: 2, sequence: 7n }],
    ["trailer not at the end given", V1 + psq, 16, undefined],
  ];
  for (const [name, text, end, expected] of cases) {
    assertEquals(decodeSeqTrailer(hex(text), end), expected, name);
  }
  assertThrows(() => encodeSeqTrailer({ senderId: 1, sequence: 1n }, new Uint8Array(20), 8));
});

Deno.test("PfsyncSender with a sequence: every multicast packet ends in PSQ1, +1 each; legacy decoding unchanged", () => {
  const counter = new SequenceCounter(1000);
  const sender = new PfsyncSender({ mtu: 1500, sequence: { counter, senderId: 0x0badcafe } });
  sender.bulkRequest();
  sender.beacon();
  sender.requestState({ id: 5n, creatorId: 9 }, "192.0.2.9");
  sender.flushReplies();
  const [ureq, beacon, unicast] = sender.take();
  assertEquals(
    toHex(ureq.bytes),
    V1 + "50535131" + "0badcafe" + (1000n * 65536n + 1n).toString(16).padStart(16, "0"),
  );
  assertEquals(
    toHex(beacon.bytes),
    "02000400" + // UPD_C, count 0: the beacon
      "50535131" + "0badcafe" + (1000n * 65536n + 2n).toString(16).padStart(16, "0"),
  );
  // A version-2 decoder reads the records and ignores the trailer.
  assertEquals(decodeFrame(beacon.bytes).message.records.length, 0);
  assertEquals(decodeFrame(ureq.bytes).end, 20);
  // Unicast carries none: other peers would count its sequence as lost.
  assertEquals(unicast.to, "192.0.2.9");
  assertEquals(unicast.bytes.length, 20);
});

Deno.test("PfsyncSender with auth and a sequence sends only the auth trailer", () => {
  const auth = new PfsyncAuth({
    key: new TextEncoder().encode("sixteen byte key!"),
    mode: "optional",
    senderId: 3,
    now: () => 1000,
  });
  const sender = new PfsyncSender({
    auth,
    sequence: { counter: new SequenceCounter(5), senderId: 3 },
  });
  sender.bulkRequest();
  const [out] = sender.take();
  assertEquals(out.bytes.length, 20 + AUTH_TRAILER_SIZE);
  assertEquals(decodeSeqTrailer(out.bytes, 20), {
    magic: 0x50534131,
    senderId: 3,
    sequence: 1000n * 65536n + 1n,
  });
});

const t = (sequence: bigint, senderId = 2): SeqTrailer => ({
  magic: SEQ_MAGIC,
  senderId,
  sequence,
});

Deno.test("SequenceTracker: in order nothing is lost; a reordered packet fills its hole and is not counted", () => {
  const tr = new SequenceTracker({ reorderMs: 100, ownId: 1 });
  const base = 1_795_824_000_000n << 16n;
  const kinds: string[] = [];
  let lost = 0;
  const see = (n: bigint, now: number) => {
    const o = tr.observe(t(base + n), "10.0.0.2", now);
    kinds.push(o.kind);
    if ("lost" in o) lost += o.lost;
  };
  see(0n, 0);
  see(1n, 1);
  see(3n, 2); // 2 is late
  assertEquals(tr.openHoles, 1);
  assertEquals(tr.nextDeadline(), 2 + 100);
  see(2n, 50); // arrives within the reorder time
  see(2n, 51); // and again
  see(4n, 60);
  assertEquals(kinds, ["first", "next", "ahead", "filled", "duplicate", "next"]);
  assertEquals(lost + tr.expire(1_000), 0);
  assertEquals(tr.nextDeadline(), undefined);
  // Our own packets reflected back are not a sender of theirs.
  assertEquals(tr.observe(t(base + 99n, 1), "10.0.0.1", 70).kind, "own");
});

Deno.test("SequenceTracker: a hole counts as lost after reorderMs, or at once when it leaves the window", () => {
  const tr = new SequenceTracker({ reorderMs: 100 });
  assertEquals(tr.observe(t(10n), "a", 0).kind, "first");
  assertEquals(tr.observe(t(14n), "a", 10), { kind: "ahead", lost: 0 }); // 11, 12, 13 open
  assertEquals(tr.expire(109), 0);
  assertEquals(tr.expire(110), 3);
  assertEquals(tr.observe(t(12n), "a", 120).kind, "late"); // already counted: not un-counted
  // A jump past the window: all but the last SEQ_WINDOW - 1 positions are lost at once.
  const far = 14n + BigInt(SEQ_WINDOW) + 10n;
  assertEquals(tr.observe(t(far), "a", 200), { kind: "ahead", lost: 10 });
  assertEquals(tr.openHoles, SEQ_WINDOW - 1);
  assertEquals(tr.expire(300), SEQ_WINDOW - 1);
  // Holes pushed out of the window by later packets count then.
  const tr2 = new SequenceTracker({ reorderMs: 10_000 });
  tr2.observe(t(0n), "b", 0);
  tr2.observe(t(2n), "b", 0); // hole at 1
  assertEquals(tr2.observe(t(BigInt(SEQ_WINDOW) + 1n), "b", 1), {
    kind: "ahead",
    lost: 1, // position 1; 3 … SEQ_WINDOW open as holes
  });
});

Deno.test("SequenceTracker: a restarted sender (huge jump either way) resets without loss; senders are apart", () => {
  const tr = new SequenceTracker();
  const before = 1_795_824_000_000n << 16n;
  tr.observe(t(before), "a", 0);
  tr.observe(t(before + 1n), "a", 1);
  // Restarted 2 s later: its seed moved by 2000 × 2^16.
  assertEquals(tr.observe(t(before + 2000n * 65536n), "a", 2).kind, "reset");
  assertEquals(tr.observe(t(before + 2000n * 65536n + 1n), "a", 3), { kind: "next", lost: 0 });
  assertEquals(tr.observe(t(before - BigInt(SEQ_RESET_JUMP) * 2n), "a", 4).kind, "reset");
  // The boundary: a jump of exactly SEQ_RESET_JUMP is loss, one more is a restart.
  const edge = new SequenceTracker();
  edge.observe(t(0n), "e", 0);
  const lossy = edge.observe(t(BigInt(SEQ_RESET_JUMP)), "e", 1);
  assertEquals([lossy.kind, "lost" in lossy && lossy.lost], ["ahead", SEQ_RESET_JUMP - SEQ_WINDOW]);
  assertEquals(edge.observe(t(BigInt(2 * SEQ_RESET_JUMP + 1)), "e", 2).kind, "reset");
  // Another sender id keeps its own window; sender id 0 is told apart by source address.
  assertEquals(tr.observe(t(5n, 7), "b", 5).kind, "first");
  assertEquals(tr.observe(t(5n, 0), "c", 5).kind, "first");
  assertEquals(tr.observe(t(6n, 0), "c", 6).kind, "next");
  assertEquals(tr.observe(t(6n, 0), "d", 6).kind, "first");
  assertEquals(tr.openHoles, 0);
});

Deno.test("SequenceCounter starts at the wall clock × 2^16 and counts up by one", () => {
  const c = new SequenceCounter(1_000);
  assertEquals([c.next(), c.next()], [65_536_001n, 65_536_002n]);
  assert(new SequenceCounter().next() > (BigInt(Date.now() - 60_000) << 16n));
});

Deno.test("SequenceTracker.rebase(): recentLost counts only packets sent after the next one arrives", () => {
  const tr = new SequenceTracker({ reorderMs: 100 });
  tr.observe(t(0n), "a", 0);
  tr.observe(t(3n), "a", 0); // 1, 2 missing: before the rebase
  tr.rebase();
  tr.observe(t(6n), "a", 10); // the first packet after it: 4, 5 were sent before
  assertEquals(tr.expire(200), 4);
  assertEquals(tr.recentLost, 0);
  tr.observe(t(9n), "a", 300); // 7, 8 sent after: the bulk update itself lost them
  assertEquals([tr.expire(400), tr.recentLost], [2, 2]);
  // A jump past the window counts its immediate losses the same way.
  tr.rebase();
  tr.observe(t(10n), "a", 500);
  tr.observe(t(10n + BigInt(SEQ_WINDOW) + 5n), "a", 501);
  assertEquals(tr.recentLost, 5);
});

Deno.test("SequenceTracker keeps at most SEQ_MAX_SENDERS senders (forged sender ids cannot grow it)", () => {
  const tr = new SequenceTracker();
  for (let id = 1; id <= SEQ_MAX_SENDERS + 10; id++) tr.observe(t(5n, id), "x", 0);
  // The first ten were dropped: seen again, they start over.
  assertEquals(tr.observe(t(9n, 1), "x", 1).kind, "first");
  assertEquals(tr.observe(t(6n, SEQ_MAX_SENDERS + 10), "x", 1).kind, "next");
});
