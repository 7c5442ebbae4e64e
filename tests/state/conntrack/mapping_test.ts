import { formatAddress, parseAddress } from "../../../lib/net/address.ts";
import { IPS } from "../../../lib/netlink/ct_constants.ts";
import type { CtEntry, CtNat, CtTuple } from "../../../lib/netlink/ct_types.ts";
import { decodeCtMessage } from "../../../lib/netlink/ctnetlink.ts";
import {
  ctToState,
  LX_FLAG_DOUBLE_NAT,
  mirrorTuple,
  stateCtKey,
  stateTimeout,
  stateToCt,
  stateTuples,
} from "../../../lib/state/conntrack/mapping.ts";
import { decodeStateRecord, encodeStateRecord } from "../../../lib/state/record.ts";
import type { State } from "../../../lib/state/types.ts";
import { assertEquals } from "../../helpers/assert.ts";
import { V53_NEW_EVENT } from "./ct_vectors.ts";

const ip = (text: string): Uint8Array => parseAddress(text)!.address;
const CTX = { creatorId: 0x0badcafe, epoch: 7, ageSeconds: 42 };

function tcp(src: string, sport: number, dst: string, dport: number): CtTuple {
  return { src: ip(src), dst: ip(dst), proto: 6, srcPort: sport, dstPort: dport };
}
function udp(src: string, sport: number, dst: string, dport: number): CtTuple {
  return { src: ip(src), dst: ip(dst), proto: 17, srcPort: sport, dstPort: dport };
}

interface Case {
  readonly name: string;
  readonly entry: CtEntry;
  /** [direction, lan, gwy, ext] as "addr:port". */
  readonly hosts: [number, string, string, string];
  readonly natSrc?: string;
  readonly natDst?: string;
}

const TCP_EST = {
  state: 3,
  wscaleOriginal: 7,
  wscaleReply: 9,
  flagsOriginal: { flags: 0x03, mask: 0 },
  flagsReply: { flags: 0x23, mask: 0 },
};

const CASES: Case[] = [
  {
    name: "TCP without NAT",
    entry: {
      orig: tcp("192.0.2.10", 40000, "198.51.100.20", 443),
      reply: tcp("198.51.100.20", 443, "192.0.2.10", 40000),
      status: 0xe,
      timeout: 300,
      mark: 5,
      id: 0xdf41e5f3,
      tcp: TCP_EST,
    },
    hosts: [2, "192.0.2.10:40000", "192.0.2.10:40000", "198.51.100.20:443"],
  },
  {
    name: "TCP with SNAT (masquerade)",
    entry: {
      orig: tcp("10.0.0.5", 41000, "198.51.100.9", 80),
      reply: tcp("198.51.100.9", 80, "192.0.2.1", 61000),
      status: 0x19e,
      timeout: 432000,
      tcp: TCP_EST,
    },
    hosts: [2, "10.0.0.5:41000", "192.0.2.1:61000", "198.51.100.9:80"],
    natSrc: "192.0.2.1:61000",
  },
  {
    name: "TCP with DNAT (port forward)",
    entry: {
      orig: tcp("198.51.100.9", 50000, "192.0.2.1", 80),
      reply: tcp("10.0.0.80", 8080, "198.51.100.9", 50000),
      status: 0x1ae,
      timeout: 120,
      tcp: { state: 1, flagsOriginal: { flags: 3, mask: 0 }, flagsReply: { flags: 0, mask: 0 } },
    },
    hosts: [1, "10.0.0.80:8080", "192.0.2.1:80", "198.51.100.9:50000"],
    natDst: "10.0.0.80:8080",
  },
  {
    name: "TCP with double NAT",
    entry: {
      orig: tcp("10.0.0.5", 41000, "192.0.2.1", 80),
      reply: tcp("10.0.1.80", 8080, "10.0.1.1", 62000),
      status: 0x1be,
      timeout: 60,
      zone: 3,
      tcp: { state: 4, flagsOriginal: { flags: 0x07, mask: 0 }, flagsReply: { flags: 3, mask: 0 } },
    },
    hosts: [2, "10.0.0.5:41000", "10.0.1.1:62000", "192.0.2.1:80"],
    natSrc: "10.0.1.1:62000",
    natDst: "10.0.1.80:8080",
  },
  {
    name: "UDP with reply seen, mark and helper",
    entry: {
      orig: udp("192.0.2.10", 5060, "198.51.100.5", 5060),
      reply: udp("198.51.100.5", 5060, "192.0.2.10", 5060),
      status: 0xa,
      timeout: 28,
      mark: 0x10001,
      help: { name: "sip" },
    },
    hosts: [2, "192.0.2.10:5060", "192.0.2.10:5060", "198.51.100.5:5060"],
  },
  {
    name: "ICMP echo",
    entry: {
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
    },
    hosts: [2, "192.0.2.1:77", "192.0.2.1:77", "192.0.2.2:77"],
  },
  {
    name: "ICMPv6 echo in zone 9",
    entry: {
      orig: {
        src: ip("2001:db8::1"),
        dst: ip("2001:db8::2"),
        proto: 58,
        icmpId: 5,
        icmpType: 128,
        icmpCode: 0,
      },
      reply: {
        src: ip("2001:db8::2"),
        dst: ip("2001:db8::1"),
        proto: 58,
        icmpId: 5,
        icmpType: 129,
        icmpCode: 0,
      },
      status: 0xa,
      timeout: 29,
      zone: 9,
    },
    hosts: [2, "2001:db8::1:5", "2001:db8::1:5", "2001:db8::2:5"],
  },
  {
    name: "IPv6 TCP closing from the reply side",
    entry: {
      orig: tcp("2001:db8::10", 1234, "2001:db8:1::20", 22),
      reply: tcp("2001:db8:1::20", 22, "2001:db8::10", 1234),
      status: 0xe,
      timeout: 120,
      tcp: {
        state: 4,
        flagsOriginal: { flags: 0x03, mask: 0 },
        flagsReply: { flags: 0x37, mask: 0 },
      },
    },
    hosts: [2, "2001:db8::10:1234", "2001:db8::10:1234", "2001:db8:1::20:22"],
  },
];

const hostText = (h: State["lan"]): string => `${h.addr}:${h.port}`;
/** "addr:port" of a NAT range minimum, "-" when there is no NAT attribute. */
const natText = (nat?: CtNat): string =>
  nat ? `${formatAddress(nat.minIp!)}:${nat.minPort ?? "-"}` : "-";

/** What the kernel does with a create: rewrite the mirrored reply tuple by the NAT attributes. */
function kernelCreate(request: CtEntry): CtEntry {
  let reply = request.reply!;
  const icmp = reply.proto === 1 || reply.proto === 58;
  if (request.natSrc) {
    reply = {
      ...reply,
      dst: request.natSrc.minIp!,
      ...(icmp ? {} : { dstPort: request.natSrc.minPort }),
    };
  }
  if (request.natDst) {
    reply = {
      ...reply,
      src: request.natDst.minIp!,
      ...(icmp ? {} : { srcPort: request.natDst.minPort }),
    };
  }
  return { ...request, reply, natSrc: undefined, natDst: undefined };
}

for (const c of CASES) {
  Deno.test(`ctToState() LX1: ${c.name} maps hosts and survives the 224-byte record`, () => {
    const state = ctToState(c.entry, CTX);
    assertEquals(
      [state.direction, hostText(state.lan), hostText(state.gwy), hostText(state.ext)],
      c.hosts,
    );
    assertEquals(decodeStateRecord(encodeStateRecord(state)), state);
    assertEquals(state.creatorId, CTX.creatorId);
    assertEquals(state.id, (7n << 32n) | BigInt(c.entry.id ?? 0));
    assertEquals(state.rule, c.entry.mark ?? 0);
    assertEquals(state.anchor, c.entry.status);
    assertEquals(state.natRule >>> 16, c.entry.zone ?? 0);
    assertEquals(state.expire, c.entry.timeout);
    assertEquals(state.creation, 42);
  });

  Deno.test(`stateTuples() LX1: ${c.name} gives back both tuples`, () => {
    const state = decodeStateRecord(encodeStateRecord(ctToState(c.entry, CTX)));
    const { orig, reply } = stateTuples(state);
    assertEquals(orig, c.entry.orig);
    assertEquals(reply, c.entry.reply);
    assertEquals(stateCtKey(state), { orig: c.entry.orig!, zone: c.entry.zone ?? 0 });
  });

  Deno.test(`stateToCt() LX1: ${c.name} builds a create the kernel turns back into the entry`, () => {
    const state = decodeStateRecord(encodeStateRecord(ctToState(c.entry, CTX)));
    const request = stateToCt(state);
    assertEquals(request.orig, c.entry.orig);
    assertEquals(natText(request.natSrc), c.natSrc ?? "-");
    assertEquals(natText(request.natDst), c.natDst ?? "-");
    assertEquals(request.status, ((c.entry.status ?? 0) & 0x6) | IPS.CONFIRMED);
    assertEquals(request.timeout, c.entry.timeout);
    assertEquals(request.mark, c.entry.mark ?? 0);
    assertEquals(request.zone, c.entry.zone);
    assertEquals(request.help?.name, c.entry.help?.name);
    // Full circle: what the backup's kernel holds maps to the same record (but its own CTA_ID).
    const created = kernelCreate(request);
    assertEquals(created.reply, c.entry.reply);
    const again = ctToState({ ...created, id: c.entry.id, status: c.entry.status }, CTX);
    const expected = ctToState(c.entry, CTX);
    if (c.entry.tcp) {
      // The receiver adds BE_LIBERAL (and WINDOW_SCALE where negotiated): flags differ by design.
      assertEquals(again.src.state, expected.src.state);
      assertEquals(again.dst.state, expected.dst.state);
      assertEquals(again.src.pad?.[0], expected.src.pad?.[0]);
      assertEquals([again.src.wscale, again.dst.wscale], [
        expected.src.wscale,
        expected.dst.wscale,
      ]);
    } else {
      assertEquals(again, expected);
    }
  });
}

Deno.test("ctToState() puts the LX1 TCP fields at their record offsets (vector 5.3)", () => {
  const entry = decodeCtMessage(V53_NEW_EVENT).entry;
  const record = encodeStateRecord(ctToState(entry, { creatorId: 0x0badcafe, epoch: 1 }));
  const view = new DataView(record.buffer);
  const fields: [string, number, number][] = [
    ["id[0] = epoch", view.getUint32(0), 1],
    ["id[1] = CTA_ID", view.getUint32(4), 0xdf41e5f3],
    ["src.state ESTABLISHED", record[96 + 24], 4],
    ["dst.state ESTABLISHED", record[128 + 24], 4],
    ["src.pad[0] = ct state (off 123)", record[123], 3],
    ["src.pad[1] = orig flags (off 124)", record[124], 0x0a],
    ["dst.pad[1] = reply flags (off 156)", record[156], 0x0a],
    ["rule = mark", view.getUint32(176), 0],
    ["anchor = status", view.getUint32(180), 0xe],
    ["nat_rule = zone<<16|flags", view.getUint32(184), 0],
    ["expire = timeout", view.getUint32(192), 300],
    ["creatorid", view.getUint32(212), 0x0badcafe],
    ["af", record[216], 2],
    ["proto", record[217], 6],
    ["direction OUT", record[218], 2],
    ["timeout = TCP_ESTABLISHED", record[221], 2],
    ["lan.port 40000", view.getUint16(24 + 16), 40000],
    ["ext.port 443", view.getUint16(72 + 16), 443],
  ];
  for (const [name, actual, expected] of fields) assertEquals(actual, expected, name);
});

Deno.test("ctToState() marks double NAT and keeps the reply source in rt_addr/ext.pad[0]", () => {
  const state = ctToState(CASES[3].entry, CTX);
  assertEquals(state.natRule, (3 << 16) | LX_FLAG_DOUBLE_NAT);
  assertEquals(state.rtAddr, "10.0.1.80");
  assertEquals(state.ext.pad, [8080, 0, 0]);
});

Deno.test("stateToCt() TCP flags: liberal by default, window tracking on request", () => {
  const state = ctToState(CASES[0].entry, CTX);
  const liberal = stateToCt(state).tcp!;
  assertEquals(liberal, {
    state: 3,
    wscaleOriginal: 7,
    wscaleReply: 9,
    flagsOriginal: { flags: 0x0b, mask: 0x0f },
    flagsReply: { flags: 0x0b, mask: 0x0f }, // 0x20 MAXACK_SET is the kernel's own, not replayed
  });
  const tracking = stateToCt(state, { liberal: false }).tcp!;
  assertEquals(tracking.flagsOriginal, { flags: 0x03, mask: 0x0f });
  assertEquals(tracking.flagsReply, { flags: 0x03, mask: 0x0f });
});

Deno.test("stateToCt() reads a plain pf record (no LX1 pads) through the §4.3 map", () => {
  const base = ctToState(CASES[0].entry, CTX);
  const pfLike: State = {
    ...base,
    src: { ...base.src, state: 9, pad: undefined, wscale: 0 },
    dst: { ...base.dst, state: 7, pad: undefined, wscale: 0 },
    expire: 0,
    timeout: 4,
    anchor: 0xffffffff,
  };
  const request = stateToCt(pfLike);
  assertEquals(request.tcp?.state, 6); // LAST_ACK
  assertEquals(request.tcp?.flagsOriginal, { flags: 0x08, mask: 0x0f });
  assertEquals(request.timeout, 60); // tcp.finwait 45 s, raised to the 60 s floor
  assertEquals(request.status, 0xe);
  assertEquals(stateTimeout({ ...pfLike, timeout: 2 }), 86400);
});

Deno.test("ctToState() treats an offloaded TCP entry without protoinfo as ESTABLISHED", () => {
  const state = ctToState({
    orig: tcp("192.0.2.10", 1, "198.51.100.20", 2),
    reply: tcp("198.51.100.20", 2, "192.0.2.10", 1),
    status: 0x400e,
  }, CTX);
  assertEquals([state.src.state, state.dst.state, state.src.pad?.[0], state.timeout], [4, 4, 3, 2]);
  assertEquals(state.expire, 86400);
});

Deno.test("stateToCt() adds the timeout grace that bridges the sender's sweep period", () => {
  const state = ctToState(CASES[0].entry, CTX);
  assertEquals(stateToCt(state).timeout, 300);
  assertEquals(stateToCt(state, { timeoutGraceSeconds: 45 }).timeout, 345);
});

Deno.test("mirrorTuple() swaps ends and answers ICMP queries", () => {
  const cases: [CtTuple, CtTuple][] = [
    [tcp("192.0.2.1", 1, "192.0.2.2", 2), tcp("192.0.2.2", 2, "192.0.2.1", 1)],
    [
      { src: ip("192.0.2.1"), dst: ip("192.0.2.2"), proto: 1, icmpId: 5, icmpType: 8, icmpCode: 0 },
      { src: ip("192.0.2.2"), dst: ip("192.0.2.1"), proto: 1, icmpId: 5, icmpType: 0, icmpCode: 0 },
    ],
    [
      {
        src: ip("2001:db8::1"),
        dst: ip("2001:db8::2"),
        proto: 58,
        icmpId: 5,
        icmpType: 128,
        icmpCode: 0,
      },
      {
        src: ip("2001:db8::2"),
        dst: ip("2001:db8::1"),
        proto: 58,
        icmpId: 5,
        icmpType: 129,
        icmpCode: 0,
      },
    ],
  ];
  for (const [tuple, expected] of cases) assertEquals(mirrorTuple(tuple), expected);
});
