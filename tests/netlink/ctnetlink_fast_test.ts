/**
 * decodeCtNlMessageFast() must give exactly what the table decoder gives —
 * the same CtEntry, or the same DecodeError (reason and offset) — for the
 * spec's captured messages, for entries covering every attribute, and for
 * thousands of mutations of them. Only the cost may differ.
 */
import { DecodeError } from "../../lib/bytes/errors.ts";
import { parseAddress } from "../../lib/net/address.ts";
import { CT_MSG_DELETE, CT_MSG_NEW } from "../../lib/netlink/ct_constants.ts";
import type { CtEntry, CtMessage } from "../../lib/netlink/ct_types.ts";
import { decodeCtNlMessage, encodeCtMessage } from "../../lib/netlink/ctnetlink.ts";
import { decodeCtNlMessageFast, decodeCtSingleMessage } from "../../lib/netlink/ctnetlink_fast.ts";
import { splitNlMessages } from "../../lib/netlink/nlmsg.ts";
import { eventDatagrams } from "../../bench/conntrack/pipeline.ts";
import {
  V51_CONNTRACK_I,
  V52_CANONICAL,
  V53_NEW_EVENT,
  V54_TRAFFIC_NEW,
  V55_DELETE,
  V57_CONNTRACKD_COMMIT,
} from "../state/conntrack/ct_vectors.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const ip = (text: string): Uint8Array => parseAddress(text)!.address;

const TCP: CtEntry = {
  orig: { src: ip("192.0.2.10"), dst: ip("198.51.100.20"), proto: 6, srcPort: 40000, dstPort: 443 },
  reply: {
    src: ip("198.51.100.20"),
    dst: ip("192.0.2.10"),
    proto: 6,
    srcPort: 443,
    dstPort: 40000,
  },
  id: 0x1234,
  status: 0x18e,
  timeout: 431999,
  mark: 7,
  zone: 4,
  use: 1,
  tcp: {
    state: 3,
    wscaleOriginal: 7,
    wscaleReply: 9,
    flagsOriginal: { flags: 0x23, mask: 0 },
    flagsReply: { flags: 0x33, mask: 0 },
  },
  countersOrig: { packets: 12n, bytes: 3400n },
  countersReply: { packets: 10n, bytes: 90000n },
  timestamp: { start: 1_700_000_000_000_000_000n, stop: 1_700_000_001_000_000_000n },
  synproxy: { isn: 1, its: 2, tsoff: 3 },
  timestampEvent: 1_700_000_000_500_000_000n,
};

/** Entries the fast path hands over to the table decoder (attributes it does not know). */
const RARE: CtEntry[] = [
  { ...TCP, help: { name: "ftp" } },
  { ...TCP, natSrc: { minIp: ip("203.0.113.1"), minPort: 1024, maxPort: 1024 } },
  { ...TCP, labels: new Uint8Array(16).fill(1) },
  { ...TCP, seqAdjOrig: { correctionPos: 1, offsetBefore: 2, offsetAfter: 3 } },
];

const ECHO6: CtEntry = {
  orig: {
    src: ip("2001:db8:1::10"),
    dst: ip("2001:db8:2::10"),
    proto: 58,
    icmpId: 4660,
    icmpType: 128,
    icmpCode: 0,
    zone: 3,
  },
  reply: {
    src: ip("2001:db8:2::10"),
    dst: ip("2001:db8:1::10"),
    proto: 58,
    icmpId: 4660,
    icmpType: 129,
    icmpCode: 0,
  },
  status: 0xa,
  timeout: 29,
};

function message(type: number, flags: number, entry: CtEntry): Uint8Array {
  return encodeCtMessage({ type, flags, seq: 0, pid: 77, family: 2, entry });
}

const SAMPLES: [string, Uint8Array][] = [
  ["vector 5.1 (conntrack -I, pad garbage)", V51_CONNTRACK_I],
  ["vector 5.2", V52_CANONICAL],
  ["vector 5.3 (NEW event)", V53_NEW_EVENT],
  ["vector 5.4 (traffic NEW)", V54_TRAFFIC_NEW],
  ["vector 5.5 (delete)", V55_DELETE],
  ["vector 5.7 (conntrackd commit)", V57_CONNTRACKD_COMMIT],
  ["a kernel event for conntrack -R (bench template)", eventDatagrams(1)[0]],
  ["TCP with counters, timestamps, synproxy, zone", message(CT_MSG_NEW, 0x0600, TCP)],
  ["ICMPv6 with a tuple zone", message(CT_MSG_DELETE, 0, ECHO6)],
  ...RARE.map((e, i): [string, Uint8Array] => [`rare attributes ${i}`, message(CT_MSG_NEW, 0, e)]),
  ["two messages in one datagram", concat(message(CT_MSG_NEW, 0, TCP), message(0x0102, 0, ECHO6))],
];

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(((a.length + 3) & ~3) + b.length);
  out.set(a);
  out.set(b, (a.length + 3) & ~3);
  return out;
}

type Outcome = { entry: CtMessage } | { error: string };

function outcome(decode: () => CtMessage): Outcome {
  try {
    return { entry: decode() };
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return { error: `${error.reason}@${error.offset}` };
  }
}

/** Compares both decoders on every message of a datagram; false when it does not split. */
function compare(datagram: Uint8Array, label: string): boolean {
  let messages;
  try {
    messages = splitNlMessages(datagram);
  } catch (error) {
    if (error instanceof DecodeError) return false;
    throw error;
  }
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  // The unsplit path: only for a datagram of one message, and then the same result.
  const single = decodeCtSingleMessage(datagram, view);
  if (single) {
    assertEquals(messages.length, 1, `${label}: taken whole, so one message`);
    assertEquals({ entry: single }, outcome(() => decodeCtNlMessage(messages[0])), label);
  }
  for (const m of messages) {
    assertEquals(
      outcome(() => decodeCtNlMessageFast(m, datagram, view)),
      outcome(() => decodeCtNlMessage(m)),
      label,
    );
  }
  return true;
}

for (const [name, datagram] of SAMPLES) {
  Deno.test(`decodeCtNlMessageFast() equals the table decoder: ${name}`, () => {
    assert(compare(datagram, name), "the sample splits");
  });
}

/** mulberry32: a small seeded generator so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("decodeCtSingleMessage() takes a lone event whole and leaves datagrams of two to the split", () => {
  const event = eventDatagrams(1)[0];
  const view = (d: Uint8Array) => new DataView(d.buffer, d.byteOffset, d.byteLength);
  assertEquals(decodeCtSingleMessage(event, view(event))?.entry.orig?.dstPort, 80);
  const two = SAMPLES.find(([name]) => name === "two messages in one datagram")![1];
  assertEquals(decodeCtSingleMessage(two, view(two)), undefined);
  const helper = SAMPLES.find(([name]) => name === "rare attributes 0")![1];
  assertEquals(decodeCtSingleMessage(helper, view(helper)), undefined, "declined: helper");
});

Deno.test("decodeCtNlMessageFast() equals the table decoder on 20,000 mutated messages", () => {
  const next = random(0x5eed);
  let compared = 0;
  for (let i = 0; i < 20_000; i++) {
    const [, base] = SAMPLES[i % SAMPLES.length];
    const bytes = base.slice();
    const edits = 1 + Math.floor(next() * 3);
    for (let e = 0; e < edits; e++) {
      // Attribute headers are where decoders differ: bias the edits towards small values there.
      const at = 20 + Math.floor(next() * (bytes.length - 20));
      bytes[at] = next() < 0.5 ? Math.floor(next() * 256) : Math.floor(next() * 40);
    }
    if (compare(bytes, `mutation ${i}`)) compared++;
  }
  assert(compared > 15_000, `most mutations split into messages (${compared})`);
});
