import { DecodeError } from "../../lib/bytes/errors.ts";
import { fromHex, hexDump, toHex } from "../../lib/bytes/hex.ts";
import { parseAddress } from "../../lib/net/address.ts";
import {
  AF_INET,
  AF_INET6,
  CT_MSG_DELETE,
  CT_MSG_GET,
  CT_MSG_NEW,
  IPS,
} from "../../lib/netlink/ct_constants.ts";
import type { CtEntry, CtMessage, CtTuple } from "../../lib/netlink/ct_types.ts";
import {
  CT_FLAGS_CREATE,
  ctCreateRequest,
  ctDeleteRequest,
  ctDumpRequest,
  ctEventKind,
  ctFlushRequest,
  ctGetRequest,
  ctTupleKey,
  ctUpdateRequest,
  decodeCtMessage,
  decodeCtNlMessage,
  encodeCtMessage,
  parseCtTupleKey,
} from "../../lib/netlink/ctnetlink.ts";
import { classifyNlMessage, splitNlMessages } from "../../lib/netlink/nlmsg.ts";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  V51_ACK,
  V51_CONNTRACK_I,
  V52_CANONICAL,
  V52_EEXIST_HEAD,
  V53_NEW_EVENT,
  V54_TRAFFIC_NEW,
  V55_DELETE,
  V56_DONE,
  V56_DUMP,
  V57_CONNTRACKD_COMMIT,
} from "../state/conntrack/ct_vectors.ts";

const ip = (text: string): Uint8Array => parseAddress(text)!.address;

function assertBytes(actual: Uint8Array, expected: Uint8Array): void {
  assertEquals(hexDump(actual), hexDump(expected));
}

/** The entry of vectors 5.1/5.2: 192.0.2.10:40000 → 198.51.100.20:443, ESTABLISHED, 300 s. */
const ORIG_52: CtTuple = {
  src: ip("192.0.2.10"),
  dst: ip("198.51.100.20"),
  proto: 6,
  srcPort: 40000,
  dstPort: 443,
};
const REPLY_52: CtTuple = {
  src: ip("198.51.100.20"),
  dst: ip("192.0.2.10"),
  proto: 6,
  srcPort: 443,
  dstPort: 40000,
};
const ENTRY_52: CtEntry = {
  orig: ORIG_52,
  reply: REPLY_52,
  status: IPS.SEEN_REPLY | IPS.ASSURED | IPS.CONFIRMED,
  timeout: 300,
  tcp: {
    state: 3,
    flagsOriginal: { flags: 0x0a, mask: 0x0a },
    flagsReply: { flags: 0x0a, mask: 0x0a },
  },
};

Deno.test("encodeCtMessage() produces vector 5.2 byte for byte", () => {
  const bytes = encodeCtMessage({
    type: CT_MSG_NEW,
    flags: 0x0605,
    seq: 1,
    family: AF_INET,
    entry: ENTRY_52,
  });
  assertBytes(bytes, V52_CANONICAL);
});

Deno.test("ctCreateRequest() adds CONFIRMED and gives vector 5.2", () => {
  const bytes = ctCreateRequest({ ...ENTRY_52, status: IPS.SEEN_REPLY | IPS.ASSURED }, 1);
  assertBytes(bytes, V52_CANONICAL);
});

Deno.test("decodeCtMessage() reads vector 5.2 into the entry it was made from", () => {
  const msg = decodeCtMessage(V52_CANONICAL);
  assertEquals(msg, {
    type: CT_MSG_NEW,
    flags: CT_FLAGS_CREATE,
    seq: 1,
    pid: 0,
    family: AF_INET,
    version: 0,
    resId: 0,
    entry: ENTRY_52,
  });
});

Deno.test("decodeCtMessage() ignores conntrack -I's pad garbage (5.1) and re-encodes with zero pads", () => {
  const msg = decodeCtMessage(V51_CONNTRACK_I);
  assertEquals(msg.seq, 0x6b0ab4f6);
  assertEquals(msg.entry, ENTRY_52);
  const expected = V52_CANONICAL.slice();
  expected.set(V51_CONNTRACK_I.subarray(8, 12), 8); // same seq as the capture
  assertBytes(encodeCtMessage(msg), expected);
});

Deno.test("decodeCtMessage() reads the NEW event 5.3 and re-encodes it exactly", () => {
  const msg = decodeCtMessage(V53_NEW_EVENT);
  assertEquals(ctEventKind(msg), "new");
  assertEquals(msg.pid, 11943);
  assertEquals(msg.seq, 0);
  assertEquals(msg.entry, {
    orig: ORIG_52,
    reply: REPLY_52,
    id: 0xdf41e5f3,
    status: 0xe,
    timeout: 300,
    tcp: {
      state: 3,
      wscaleOriginal: 0,
      wscaleReply: 0,
      flagsOriginal: { flags: 0x0a, mask: 0 },
      flagsReply: { flags: 0x0a, mask: 0 },
    },
    synproxy: { isn: 0, its: 0, tsoff: 0 },
    mark: 0,
  });
  assertBytes(encodeCtMessage(msg), V53_NEW_EVENT);
});

Deno.test("decodeCtMessage() reads the traffic NEW event 5.4 and re-encodes it exactly", () => {
  const msg = decodeCtMessage(V54_TRAFFIC_NEW);
  assertEquals(ctEventKind(msg), "new");
  assertEquals(msg.pid, 0);
  assertEquals(msg.entry.orig, {
    src: ip("192.0.2.1"),
    dst: ip("192.0.2.2"),
    proto: 6,
    srcPort: 57656,
    dstPort: 8080,
  });
  assertEquals(msg.entry.status, IPS.CONFIRMED);
  assertEquals(msg.entry.timeout, 120);
  assertEquals(msg.entry.tcp, {
    state: 1,
    wscaleOriginal: 10,
    wscaleReply: 0,
    flagsOriginal: { flags: 0x03, mask: 0 },
    flagsReply: { flags: 0, mask: 0 },
  });
  assertEquals(msg.entry.mark, undefined);
  assertEquals(msg.entry.timestampEvent, 0x18ec3098e08154d5n);
  assertBytes(encodeCtMessage(msg), V54_TRAFFIC_NEW);
});

Deno.test("ctDeleteRequest() produces vector 5.5 and it decodes as a destroy", () => {
  assertBytes(ctDeleteRequest(ORIG_52, 3), V55_DELETE);
  const msg = decodeCtMessage(V55_DELETE);
  assertEquals(msg.type, CT_MSG_DELETE);
  assertEquals(ctEventKind(msg), "destroy");
  assertEquals(msg.entry, { orig: ORIG_52 });
});

Deno.test("ctDumpRequest() produces vector 5.6; the DONE classifies as done", () => {
  assertBytes(ctDumpRequest(4), V56_DUMP);
  const [done] = splitNlMessages(V56_DONE);
  const reply = classifyNlMessage(done);
  assertEquals(reply.kind, "done");
  assertEquals(done.header.seq, 4);
});

Deno.test("decodeCtMessage() reads conntrackd's commit 5.7 and its re-encoding means the same", () => {
  const msg = decodeCtMessage(V57_CONNTRACKD_COMMIT);
  assertEquals(msg.flags, CT_FLAGS_CREATE);
  assertEquals(msg.entry.orig, {
    src: ip("10.20.0.5"),
    dst: ip("203.0.113.7"),
    proto: 6,
    srcPort: 51000,
    dstPort: 22,
  });
  assertEquals(msg.entry.timeout, 3594);
  assertEquals(msg.entry.mark, 7);
  assertEquals(msg.entry.tcp, {
    state: 3,
    flagsOriginal: { flags: 8, mask: 8 },
    flagsReply: { flags: 8, mask: 8 },
  });
  const again = encodeCtMessage(msg);
  // conntrackd puts MARK before PROTOINFO; we write the kernel's order, same meaning and length.
  assertEquals(again.length, V57_CONNTRACKD_COMMIT.length);
  assertEquals(decodeCtMessage(again), msg);
});

Deno.test("classifyNlMessage() reads the create ACK (5.1) and the EEXIST reply (5.2)", () => {
  const [ack] = splitNlMessages(V51_ACK);
  assertEquals(classifyNlMessage(ack).kind, "ack");
  assertEquals(ack.header.pid, 11943);
  const eexist = new Uint8Array(192);
  eexist.set(V52_EEXIST_HEAD);
  const echoed = V52_CANONICAL.slice();
  echoed[8] = 2; // seq 2
  eexist.set(echoed, 20);
  const [error] = splitNlMessages(eexist);
  const reply = classifyNlMessage(error);
  assertEquals(reply.kind, "error");
  assert(reply.kind === "error");
  assertEquals(reply.errno, 17);
  assertEquals(reply.request?.seq, 2);
});

Deno.test("decodeCtNlMessage() decodes events split out of one datagram", () => {
  const datagram = new Uint8Array(V53_NEW_EVENT.length + V54_TRAFFIC_NEW.length);
  datagram.set(V53_NEW_EVENT);
  datagram.set(V54_TRAFFIC_NEW, V53_NEW_EVENT.length);
  const messages = splitNlMessages(datagram).map(decodeCtNlMessage);
  assertEquals(messages.map((m) => m.pid), [11943, 0]);
  assertEquals(messages[1], decodeCtMessage(V54_TRAFFIC_NEW));
});

const v6 = (text: string) => ip(text);

/** Table of entries covering every codec branch: encode → decode → encode must be stable. */
const ROUND_TRIPS: [string, number, number, CtEntry][] = [
  ["IPv6 UDP with zone and mark", CT_MSG_NEW, 0x0605, {
    orig: { src: v6("2001:db8::1"), dst: v6("2001:db8::2"), proto: 17, srcPort: 5353, dstPort: 53 },
    reply: {
      src: v6("2001:db8::2"),
      dst: v6("2001:db8::1"),
      proto: 17,
      srcPort: 53,
      dstPort: 5353,
    },
    zone: 7,
    status: 0xa,
    timeout: 30,
    mark: 0x1234,
  }],
  ["ICMP echo with id/type/code", CT_MSG_NEW, 0x0605, {
    orig: {
      src: ip("192.0.2.1"),
      dst: ip("192.0.2.2"),
      proto: 1,
      icmpId: 77,
      icmpType: 8,
      icmpCode: 0,
    },
    reply: {
      src: ip("192.0.2.2"),
      dst: ip("192.0.2.1"),
      proto: 1,
      icmpId: 77,
      icmpType: 0,
      icmpCode: 0,
    },
    status: 0x8,
    timeout: 30,
  }],
  ["ICMPv6 echo", CT_MSG_NEW, 0x0600, {
    orig: {
      src: v6("2001:db8::1"),
      dst: v6("2001:db8::2"),
      proto: 58,
      icmpId: 9,
      icmpType: 128,
      icmpCode: 0,
    },
    reply: {
      src: v6("2001:db8::2"),
      dst: v6("2001:db8::1"),
      proto: 58,
      icmpId: 9,
      icmpType: 129,
      icmpCode: 0,
    },
    timeout: 30,
  }],
  ["TCP SNAT+DNAT with helper, seqadj, labels", CT_MSG_NEW, 0x0605, {
    orig: { src: ip("10.0.0.5"), dst: ip("198.51.100.9"), proto: 6, srcPort: 41000, dstPort: 80 },
    reply: { src: ip("198.51.100.9"), dst: ip("10.0.0.5"), proto: 6, srcPort: 80, dstPort: 41000 },
    status: 0xe,
    timeout: 3600,
    tcp: { state: 3, wscaleOriginal: 7, wscaleReply: 9, flagsOriginal: { flags: 9, mask: 9 } },
    help: { name: "ftp" },
    natSrc: { minIp: ip("192.0.2.1"), minPort: 61000, maxPort: 61000 },
    natDst: { minIp: ip("192.168.50.5"), maxIp: ip("192.168.50.6") },
    seqAdjOrig: { correctionPos: 1, offsetBefore: 2, offsetAfter: 3 },
    labels: fromHex("01000000 00000000 00000000 00000080"),
  }],
  ["DESTROY with counters and timestamps", CT_MSG_DELETE, 0, {
    orig: { src: ip("192.0.2.10"), dst: ip("198.51.100.20"), proto: 6, srcPort: 1, dstPort: 2 },
    status: 0x20e,
    timeout: 119,
    countersOrig: { packets: 6n, bytes: 324n },
    countersReply: { packets: 5n, bytes: 272n },
    timestamp: { start: 1n << 60n, stop: (1n << 60n) + 5n },
    tcp: { state: 7 },
    mark: 3,
  }],
  ["IPv6 NAT ranges", CT_MSG_NEW, 0x0605, {
    orig: {
      src: v6("2001:db8::1"),
      dst: v6("2001:db8:1::2"),
      proto: 6,
      srcPort: 1000,
      dstPort: 443,
    },
    reply: {
      src: v6("2001:db8:1::2"),
      dst: v6("2001:db8::1"),
      proto: 6,
      srcPort: 443,
      dstPort: 1000,
    },
    timeout: 10,
    natSrc: { minIp: v6("2001:db8:ff::1"), maxIp: v6("2001:db8:ff::9") },
  }],
];

for (const [name, type, flags, entry] of ROUND_TRIPS) {
  Deno.test(`encodeCtMessage()/decodeCtMessage() round-trip: ${name}`, () => {
    const family = entry.orig!.src.length === 16 ? AF_INET6 : AF_INET;
    const msg: CtMessage = { type, flags, seq: 9, pid: 4, family, version: 0, resId: 0, entry };
    const bytes = encodeCtMessage(msg);
    const decoded = decodeCtMessage(bytes);
    assertEquals(decoded, msg);
    assertEquals(toHex(encodeCtMessage(decoded)), toHex(bytes));
  });
}

Deno.test("ctUpdateRequest() keeps only attributes a live entry may change", () => {
  const full: CtEntry = { ...ROUND_TRIPS[3][3], zone: 5, id: 99, mark: 1 };
  const msg = decodeCtMessage(ctUpdateRequest(full, 7));
  assertEquals(msg.flags, 0x0005);
  assertEquals(msg.entry, {
    orig: full.orig,
    zone: 5,
    status: 0xe,
    timeout: 3600,
    tcp: full.tcp,
    mark: 1,
    labels: full.labels,
  });
});

Deno.test("ctCreateRequest() refuses entries the kernel would answer with EINVAL", () => {
  assertThrows(() => ctCreateRequest({ orig: ORIG_52, timeout: 1 }, 1), RangeError);
  assertThrows(() => ctCreateRequest({ orig: ORIG_52, reply: REPLY_52 }, 1), RangeError);
  // EXPECTED without a master would be EBUSY: it is cleared.
  const msg = decodeCtMessage(
    ctCreateRequest({ ...ENTRY_52, status: IPS.EXPECTED | IPS.ASSURED }, 1),
  );
  assertEquals(msg.entry.status, IPS.ASSURED | IPS.CONFIRMED);
});

Deno.test("ctGetRequest() and ctFlushRequest() header fields", () => {
  const get = decodeCtMessage(ctGetRequest(ORIG_52, 5, 3));
  assertEquals([get.type, get.flags, get.entry.zone], [CT_MSG_GET, 0x0005, 3]);
  const flush4 = decodeCtMessage(ctFlushRequest(6, AF_INET));
  assertEquals([flush4.type, flush4.family, flush4.version], [CT_MSG_DELETE, AF_INET, 1]);
  const flushAll = decodeCtMessage(ctFlushRequest(6));
  assertEquals([flushAll.family, flushAll.version], [0, 0]);
});

Deno.test("ctEventKind() classifies by type and CREATE/EXCL", () => {
  const cases: [number, number, string | undefined][] = [
    [CT_MSG_NEW, 0x0600, "new"],
    [CT_MSG_NEW, 0x0400, "new"],
    [CT_MSG_NEW, 0, "update"],
    [CT_MSG_NEW, 0x0002, "update"], // dump entry (MULTI)
    [CT_MSG_DELETE, 0, "destroy"],
    [CT_MSG_GET, 0, undefined],
  ];
  for (const [type, flags, kind] of cases) assertEquals(ctEventKind({ type, flags }), kind);
});

Deno.test("ctTupleKey() separates zones and directions", () => {
  const keys = new Set([
    ctTupleKey(ORIG_52),
    ctTupleKey(ORIG_52, 1),
    ctTupleKey(REPLY_52),
    ctTupleKey({ ...ORIG_52, srcPort: 40001 }),
  ]);
  assertEquals(keys.size, 4);
  assertEquals(ctTupleKey({ ...ORIG_52 }), ctTupleKey(ORIG_52));
});

/** Malformed input: bytes → DecodeError reason. */
const BAD: [string, Uint8Array, string][] = [
  ["shorter than a header", V52_CANONICAL.subarray(0, 10), "badlen"],
  ["nlmsg_len beyond the buffer", V52_CANONICAL.subarray(0, 100), "badlen"],
  ["not ctnetlink (subsystem 2)", patch(V52_CANONICAL, 5, 0x02), "badtype"],
  ["attribute longer than its nest", patch(V52_CANONICAL, 24, 0x40), "badlen"],
  ["IPv4 address of 3 bytes", patch(V52_CANONICAL, 28, 0x07), "badlen"],
  ["tuple without protocol number", patch(V52_CANONICAL, 50, 0x0f), "badval"],
  ["STATUS of 2 bytes", shrinkStatus(), "badlen"],
];

function patch(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const out = bytes.slice();
  out[offset] = value;
  return out;
}

/** CTA_STATUS (offset 124) claims 6 bytes: a 2-byte payload, then 2 pad bytes. */
function shrinkStatus(): Uint8Array {
  return patch(V52_CANONICAL, 124, 0x06);
}

for (const [name, bytes, reason] of BAD) {
  Deno.test(`decodeCtMessage() rejects ${name} as ${reason}`, () => {
    const error = assertThrows(() => decodeCtMessage(bytes), DecodeError);
    assertEquals(error.reason, reason);
  });
}

Deno.test("parseCtTupleKey() inverts ctTupleKey() for ports, ICMP and zones", () => {
  const tuples: [CtTuple, number][] = [
    [ORIG_52, 0],
    [REPLY_52, 9],
    [ROUND_TRIPS[1][3].orig!, 0],
    [ROUND_TRIPS[2][3].orig!, 65535],
  ];
  for (const [orig, zone] of tuples) {
    assertEquals(parseCtTupleKey(ctTupleKey(orig, zone)), { orig, zone });
  }
  assertThrows(() => parseCtTupleKey("1/2/3"), RangeError);
});
