/** 20,000 random and mutated packets: nothing throws, nothing invalid changes the table, all are counted. */
import { assertEquals } from "../helpers/assert.ts";
import { fromHex } from "../../lib/bytes/mod.ts";
import {
  AUTH_TRAILER_SIZE,
  decodeFrame,
  encodeFrame,
  PFSYNC_ACT_DEL_C,
  PFSYNC_ACT_UPD,
  PFSYNC_ACT_UPD_C,
  PfsyncAuth,
} from "../../lib/pfsync/mod.ts";
import { isPfsyncCounter } from "../../lib/pfsync/stats.ts";
import { dump, makeState, V1, V2, V2B, V3, V4, V5, V6 } from "./fixtures.ts";
import { receiverHarness } from "./harness.ts";
import { tableSummary } from "./sim.ts";

const N = 20_000;

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

function seeds(): Uint8Array[] {
  const states = Array.from({ length: 3 }, () => makeState());
  return [
    ...[V1, V2, V2B, V4, V6].map(fromHex),
    ...[V3, V5].map((v) => fromHex(dump(v))),
    encodeFrame({ action: PFSYNC_ACT_UPD, records: states }),
    encodeFrame({
      action: PFSYNC_ACT_UPD_C,
      records: states.map((s) => ({ ...s, expire: 0, updates: 1 })),
    }),
    encodeFrame({ action: PFSYNC_ACT_DEL_C, records: states }),
  ];
}

function mutate(seed: Uint8Array, random: (n: number) => number): Uint8Array {
  switch (random(6)) {
    case 0: { // flip a few bytes
      const out = seed.slice();
      for (let i = random(4) + 1; i > 0; i--) out[random(out.length)] ^= 1 << random(8);
      return out;
    }
    case 1: // truncate
      return seed.slice(0, random(seed.length));
    case 2: { // append garbage
      const out = new Uint8Array(seed.length + random(64) + 1);
      out.set(seed);
      for (let i = seed.length; i < out.length; i++) out[i] = random(256);
      return out;
    }
    case 3: { // random header on a valid body
      const out = seed.slice();
      out[random(4)] = random(256);
      return out;
    }
    case 4: // pure noise
      return Uint8Array.from({ length: random(600) }, () => random(256));
    default: { // plausible header, random body
      const out = Uint8Array.from({ length: 4 + random(700) }, () => random(256));
      out.set([2, 0, random(12), random(8)]);
      return out;
    }
  }
}

function populated(auth?: PfsyncAuth) {
  const h = receiverHarness({ auth });
  for (let i = 0; i < 40; i++) h.table.insert(makeState(), i % 2 ? "local" : { peer: "192.0.2.9" });
  return h;
}

Deno.test("PfsyncReceiver with auth required: 20,000 mutated sealed packets change nothing and are all counted", () => {
  const key = new TextEncoder().encode("fuzzing key of some length");
  const signer = new PfsyncAuth({ key, mode: "required" });
  const sealed = seeds().map((bytes) => {
    const end = decodeFrame(bytes).end;
    const out = new Uint8Array(end + AUTH_TRAILER_SIZE);
    out.set(bytes.subarray(0, end));
    return signer.seal(out, end);
  });
  const h = populated(new PfsyncAuth({ key, mode: "required" }));
  h.requester.start(h.clock.ms); // so BUS packets are judged, not ignored
  // The authentic packets arrive once; afterwards an unchanged copy is a replay.
  for (const bytes of sealed) assertEquals(h.receive(bytes).verdict.accepted, true);
  h.requester.start(h.clock.ms);
  h.sender.take();
  for (const name of Object.keys(h.stats)) h.stats[name as "badauth"] = 0;
  const before = tableSummary(h.table);
  const random = rng(0xc0ffee);
  const reasons = new Map<string, number>();
  for (let i = 0; i < N; i++) {
    const verdict = h.receive(mutate(sealed[random(sealed.length)], random)).verdict;
    assertEquals(verdict.accepted, false, `packet ${i} was accepted`);
    if (!verdict.accepted) reasons.set(verdict.reason, (reasons.get(verdict.reason) ?? 0) + 1);
  }
  assertEquals(tableSummary(h.table), before);
  assertEquals(h.stats.ipackets, N);
  let counted = 0;
  for (const [reason, n] of reasons) {
    assertEquals(isPfsyncCounter(reason), true, `reason ${reason}`);
    assertEquals(h.stats[reason as "badauth"], n, reason);
    counted += n;
  }
  assertEquals(counted, N);
  assertEquals(h.sender.take(), [], "nothing provoked a reply");
});

Deno.test("PfsyncReceiver: 20,000 random and mutated packets never throw and every one is accounted for", () => {
  const h = populated();
  h.requester.start(h.clock.ms);
  const all = seeds();
  const random = rng(42);
  let accepted = 0;
  const dropped = new Map<string, number>();
  for (let i = 0; i < N; i++) {
    const bytes = mutate(all[random(all.length)], random);
    const verdict = h.receive(bytes).verdict;
    if (verdict.accepted) accepted++;
    else dropped.set(verdict.reason, (dropped.get(verdict.reason) ?? 0) + 1);
    if (i % 100 === 0) {
      h.clock.ms += 50;
      h.responder.tick(h.clock.ms, true);
      h.sender.take();
    }
  }
  assertEquals(h.stats.ipackets, N);
  let silent = 0;
  for (const [reason, n] of dropped) {
    if (isPfsyncCounter(reason)) assertEquals(h.stats[reason as "badlen"], n, reason);
    else silent += n;
  }
  assertEquals(accepted + [...dropped.values()].reduce((a, b) => a + b, 0), N);
  assertEquals(
    silent,
    dropped.get("bus-ignored") ?? 0,
    "the only uncounted drop is BUS while not waiting",
  );
  // Whatever was accepted left a consistent table.
  assertEquals([...h.table.states()].length, h.table.size);
});
