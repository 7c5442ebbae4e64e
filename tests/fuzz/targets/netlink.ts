/**
 * Netlink: the pure codecs (`splitNlMessages`, `classifyNlMessage`,
 * `decodeCtMessage`, `decodeCtNlMessage`, `decodeLinkMessage`,
 * `decodeAddrMessage`) may throw only DecodeError, and a ctnetlink message
 * that decodes re-encodes to one that decodes the same. The conntrack
 * provider is fed the same datagrams as events and as replies to a dump: a
 * datagram none of whose messages decodes changes nothing but `malformed`.
 */
import { DecodeError } from "../../../lib/bytes/errors.ts";
import { fromHex } from "../../../lib/bytes/hex.ts";
import { IPS } from "../../../lib/netlink/ct_constants.ts";
import type { CtEntry, CtMessage, CtTuple } from "../../../lib/netlink/ct_types.ts";
import {
  classifyNlMessage,
  ctEventKind,
  decodeAddrMessage,
  decodeCtMessage,
  decodeCtNlMessage,
  decodeLinkMessage,
  encodeCtMessage,
  HOST_LITTLE_ENDIAN,
  NLMSG_HDRLEN,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  splitNlMessages,
} from "../../../lib/netlink/mod.ts";
import { parseAddress } from "../../../lib/net/address.ts";
import { ConntrackProvider } from "../../../lib/state/conntrack/provider.ts";
import type { NetlinkPort } from "../../../lib/state/conntrack/channel.ts";
import * as RT from "../../netlink/rtnetlink_vectors.ts";
import * as CT from "../../state/conntrack/ct_vectors.ts";
import { FakeKernel, mirror } from "../../state/conntrack/fake_kernel.ts";
import type { Rng } from "../prng.ts";
import { expectDecodeError, type FuzzInstance, type FuzzTarget, invariant } from "../target.ts";
import { canonicalJson, stableJson } from "./snapshot.ts";

/** nlmsg_len fields made to fit again, message by message (deeper coverage of the payloads). */
function repairLengths(input: Uint8Array, rng: Rng): Uint8Array {
  const out = input.slice();
  const view = new DataView(out.buffer);
  let at = 0;
  while (out.length - at >= NLMSG_HDRLEN) {
    const left = out.length - at;
    let length = view.getUint32(at, HOST_LITTLE_ENDIAN);
    if (length < NLMSG_HDRLEN || length > left) {
      length = rng.chance(0.5) ? left : NLMSG_HDRLEN + rng.int(left - NLMSG_HDRLEN + 1);
      view.setUint32(at, length, HOST_LITTLE_ENDIAN);
    }
    at += (length + 3) & ~3;
  }
  return out;
}

function ctSeeds(): Uint8Array[] {
  return [
    CT.V51_CONNTRACK_I,
    CT.V51_ACK,
    CT.V52_CANONICAL,
    CT.V52_EEXIST_HEAD,
    CT.V53_NEW_EVENT,
    CT.V54_TRAFFIC_NEW,
    CT.V55_DELETE,
    CT.V56_DUMP,
    CT.V56_DONE,
    CT.V57_CONNTRACKD_COMMIT,
    concat(CT.V53_NEW_EVENT, CT.V54_TRAFFIC_NEW),
    concat(CT.V54_TRAFFIC_NEW, CT.V56_DONE),
  ];
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + ((p.length + 3) & ~3), 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += (p.length + 3) & ~3;
  }
  return out;
}

/** The fields the conntrack provider maps to pfsync states: none may be lost in a round trip. */
function essentials(m: CtMessage): unknown {
  const tuple = (t?: CtTuple) =>
    t && { src: t.src, dst: t.dst, proto: t.proto, srcPort: t.srcPort, dstPort: t.dstPort };
  const e = m.entry;
  return {
    type: m.type,
    flags: m.flags,
    family: m.family,
    orig: tuple(e.orig),
    reply: tuple(e.reply),
    status: e.status,
    timeout: e.timeout,
    mark: e.mark,
    zone: e.zone,
    id: e.id,
    tcp: e.tcp?.state,
  };
}

/**
 * Encoding is canonical (it drops what the kernel would never pair, like ICMP
 * fields on a TCP tuple), so a round trip keeps the essentials, and the
 * canonical form is a fixed point: decode(encode(m)) = m.
 */
function checkRoundTrip(bytes: Uint8Array): string {
  let first: CtMessage;
  try {
    first = decodeCtMessage(bytes);
  } catch (error) {
    if (error instanceof DecodeError) return error.reason;
    throw error;
  }
  const second = decodeCtMessage(encodeCtMessage(first));
  const a = canonicalJson(essentials(first));
  const b = canonicalJson(essentials(second));
  invariant(a === b, () => `ctnetlink round trip lost fields:\n  ${a}\n  ${b}`);
  const third = decodeCtMessage(encodeCtMessage(second));
  const c = canonicalJson({ ...second, seq: 0 });
  const d = canonicalJson({ ...third, seq: 0 });
  invariant(c === d, () => `ctnetlink canonical form is not a fixed point:\n  ${c}\n  ${d}`);
  return "ok";
}

export const ctnetlinkTarget: FuzzTarget = {
  name: "ctnetlink",
  covers:
    "splitNlMessages, classifyNlMessage, decodeCtMessage, decodeCtNlMessage, encode round trip",
  kind: "bytes",
  seeds: ctSeeds,
  repair: repairLengths,
  create: () => ({
    run(input) {
      const whole = checkRoundTrip(input);
      let messages;
      try {
        messages = splitNlMessages(input);
      } catch (error) {
        if (error instanceof DecodeError) return `split:${error.reason}`;
        throw error;
      }
      for (const message of messages) {
        const kind = expectDecodeError(() => classifyNlMessage(message));
        if (kind === "ok" && message.header.type >= 0x10) {
          expectDecodeError(() => decodeCtNlMessage(message));
        }
      }
      return `whole:${whole}`;
    },
  }),
};

function rtSeeds(): Uint8Array[] {
  return [
    RT.IP_ADDR_ADD_V4,
    RT.IP_ADDR_ADD_V6_NODAD,
    RT.IP_ADDR_DEL_V6,
    RT.GETLINK_DUMP_REQUEST,
    RT.GETLINK_DUMP_REPLY,
    RT.GETLINK_DUMP_DONE,
    RT.GETADDR_DUMP_REPLY,
    RT.NEWADDR6_EVENT,
    RT.NEWLINK_EVENT_D1_DOWN,
    RT.NEWADDR6_EEXIST,
    RT.DELADDR4_EADDRNOTAVAIL,
    RT.DELADDR4_ACK,
  ].map(fromHex);
}

const RT_DECODERS: Record<number, (payload: Uint8Array, le: boolean, base: number) => unknown> = {
  [RTM_NEWLINK]: decodeLinkMessage,
  [RTM_DELLINK]: decodeLinkMessage,
  [RTM_NEWADDR]: decodeAddrMessage,
  [RTM_DELADDR]: decodeAddrMessage,
};

export const rtnetlinkTarget: FuzzTarget = {
  name: "rtnetlink",
  covers: "splitNlMessages, classifyNlMessage (ACK/error/extended ACK), decodeLinkMessage, " +
    "decodeAddrMessage",
  kind: "bytes",
  seeds: rtSeeds,
  repair: repairLengths,
  create: () => ({
    run(input) {
      let messages;
      try {
        messages = splitNlMessages(input);
      } catch (error) {
        if (error instanceof DecodeError) return `split:${error.reason}`;
        throw error;
      }
      let label = "ok";
      for (const message of messages) {
        let kind: string;
        try {
          kind = classifyNlMessage(message).kind;
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
          label = error.reason;
          continue;
        }
        const decode = RT_DECODERS[message.header.type];
        if (kind === "data" && decode) {
          const r = expectDecodeError(() =>
            decode(message.payload, HOST_LITTLE_ENDIAN, message.offset + NLMSG_HDRLEN)
          );
          if (r !== "ok") label = r;
        }
      }
      return label;
    },
  }),
};

// ---------------------------------------------------------------------------
// The conntrack provider

const ip = (text: string): Uint8Array => parseAddress(text)!.address;

function tcp(src: string, sport: number, dst: string, dport: number): CtTuple {
  return { src: ip(src), dst: ip(dst), proto: 6, srcPort: sport, dstPort: dport };
}

function flow(orig: CtTuple): CtEntry {
  return {
    orig,
    reply: mirror(orig),
    status: IPS.CONFIRMED | IPS.SEEN_REPLY | IPS.ASSURED,
    timeout: 300,
    tcp: { state: 3, flagsOriginal: { flags: 3, mask: 0 }, flagsReply: { flags: 3, mask: 0 } },
  };
}

/**
 * A dump port: while `next` is unset it is the fake kernel's port; then every
 * request is answered with `next` (re-aimed at the request's seq) and a DONE.
 */
class ReplyPort implements NetlinkPort {
  readonly fd: number;
  readonly portId: number;
  queue: Uint8Array[] = [];
  next: Uint8Array | undefined;

  constructor(readonly inner: NetlinkPort) {
    this.fd = inner.fd;
    this.portId = inner.portId;
  }

  send(bytes: Uint8Array): void {
    if (!this.next) return this.inner.send(bytes);
    const seq = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, HOST_LITTLE_ENDIAN);
    const reply = this.next.slice();
    if (reply.length >= NLMSG_HDRLEN) {
      new DataView(reply.buffer).setUint32(8, seq, HOST_LITTLE_ENDIAN);
    }
    const done = new Uint8Array(20);
    const view = new DataView(done.buffer);
    view.setUint32(0, 20, HOST_LITTLE_ENDIAN);
    view.setUint16(4, 3, HOST_LITTLE_ENDIAN);
    view.setUint16(6, 2, HOST_LITTLE_ENDIAN);
    view.setUint32(8, seq, HOST_LITTLE_ENDIAN);
    this.queue = [reply, done];
  }

  receive(): Uint8Array | undefined {
    return this.next ? this.queue.shift() : this.inner.receive();
  }

  close(): void {}
}

/** How many messages of a datagram the provider can decode (-1: the datagram does not split). */
function decodable(input: Uint8Array): { messages: number; decoded: number } {
  let messages;
  try {
    messages = splitNlMessages(input);
  } catch (error) {
    if (error instanceof DecodeError) return { messages: -1, decoded: 0 };
    throw error;
  }
  let decoded = 0;
  for (const m of messages) {
    try {
      decodeCtNlMessage(m);
      decoded++;
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
    }
  }
  return { messages: messages.length, decoded };
}

async function createProvider(block: number): Promise<FuzzInstance> {
  const kernel = new FakeKernel();
  kernel.traffic(flow(tcp("10.0.0.5", 40000, "198.51.100.20", 443)));
  kernel.traffic(flow(tcp("10.0.0.6", 40001, "198.51.100.20", 443)));
  kernel.traffic(flow(tcp("192.0.2.10", 40000, "198.51.100.20", 443)));
  let replies: ReplyPort | undefined;
  const provider = new ConntrackProvider({
    creatorId: 0x11111111,
    epoch: 1,
    reactor: { add: () => {}, remove: () => true },
    // events and requests from the fake kernel; dumps from the fuzzed reply port.
    openPort: (purpose, groups, rcvbuf) => {
      const port = kernel.open(purpose, groups, rcvbuf);
      if (purpose !== "dumps") return port;
      replies = new ReplyPort(port);
      return replies;
    },
    sweepIntervalMs: 0,
    sysctl: { read: () => "1" },
    now: () => 1_000_000 + block,
    log: () => {},
  });
  // The initial load dumps the fake kernel's table, so the mirror has flows to lose.
  await provider.load();
  const dumpPort = replies!;
  const events = kernel.ports[0];
  let changes = 0;
  provider.onChange(() => void changes++);

  return {
    run(input) {
      const expect = decodable(input);
      // 1. As an event datagram.
      const before = { changes, stats: stableJson({ ...provider.stats, malformed: 0 }) };
      const malformed = provider.stats.malformed;
      events.queue.push(input);
      provider.drainEvents();
      const bad = expect.messages < 0 ? 1 : expect.messages - expect.decoded;
      invariant(
        provider.stats.malformed - malformed === bad,
        () => `malformed grew by ${provider.stats.malformed - malformed}, expected ${bad}`,
      );
      if (expect.decoded === 0) {
        invariant(changes === before.changes, "an undecodable event datagram changed the table");
        invariant(
          stableJson({ ...provider.stats, malformed: 0 }) === before.stats,
          "an undecodable event datagram changed counters other than malformed",
        );
      }
      // 2. As the reply to a dump request (RequestChannel.dump).
      dumpPort.next = input;
      const channelMalformed = provider.dumps.malformed;
      let entries = 0;
      const errno = provider.dumps.dump(() => void entries++);
      invariant(Number.isInteger(errno) && errno >= 0, `dump returned errno ${errno}`);
      invariant(
        entries <= expect.decoded,
        `dump delivered ${entries} entries from ${expect.decoded} decodable messages`,
      );
      invariant(provider.dumps.malformed >= channelMalformed, "malformed went down");
      const kinds = expect.decoded > 0 ? "decoded" : expect.messages < 0 ? "unsplit" : "undecoded";
      return `${kinds}${ctEventKindOf(input)}`;
    },
  };
}

function ctEventKindOf(input: Uint8Array): string {
  try {
    return `:${ctEventKind(decodeCtMessage(input)) ?? "none"}`;
  } catch (error) {
    if (error instanceof DecodeError) return "";
    throw error;
  }
}

export const ctProviderTarget: FuzzTarget = {
  name: "ct-provider",
  covers: "ConntrackProvider.drainEvents (event datagrams), RequestChannel.dump (replies)",
  kind: "bytes",
  seeds: ctSeeds,
  repair: repairLengths,
  create: createProvider,
};
