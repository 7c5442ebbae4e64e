/**
 * The soak run's synthetic flows (pure: no I/O). Flow number i maps to one
 * conntrack entry, so the churn process, the table comparison and the tests
 * agree on what A should hold without passing 100,000 tuples around:
 *
 *   i mod 20      share   kind   original tuple
 *   0, 10         10 %    udp4   10.1.x.y:(1024 + i>>16) → 10.2.0.1:53
 *   5, 15         10 %    tcp6   2001:db8:1::hi:lo port 40000 → [2001:db8:2::1]:443
 *   7              5 %    udp6   2001:db8:1::hi:lo port 40000 → [2001:db8:2::1]:53
 *   the rest      75 %    tcp4   10.1.x.y:(1024 + i>>16) → 10.2.0.1:443
 *
 * (x.y = i's low 16 bits, hi:lo = its two 16-bit halves). TCP entries are
 * ESTABLISHED with window scaling and SACK seen both ways; all are
 * SEEN_REPLY|ASSURED with long timeouts, so nothing expires during a run.
 * `conntrack -L` lines parse back to the same flow key (`flowKey`).
 */
import { formatAddress } from "../../lib/net/address.ts";
import {
  CT_MSG_DELETE,
  CT_MSG_NEW,
  IP_CT_TCP_FLAG,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPS,
  TCP_CONNTRACK,
} from "../../lib/netlink/ct_constants.ts";
import type { CtEntry, CtTuple } from "../../lib/netlink/ct_types.ts";
import {
  CT_FLAGS_CREATE,
  ctCreateRequest,
  ctFamilyOf,
  encodeCtMessage,
} from "../../lib/netlink/ctnetlink.ts";
import { NLM_F_ACK, NLM_F_REQUEST } from "../../lib/netlink/nlmsg.ts";

export type FlowKind = "tcp4" | "udp4" | "tcp6" | "udp6";

/** Seconds: TCP as the kernel's own ESTABLISHED default, UDP two hours. */
export const TCP_TIMEOUT = 432_000;
export const UDP_TIMEOUT = 7_200;

export function flowKind(i: number): FlowKind {
  const r = i % 20;
  if (r === 0 || r === 10) return "udp4";
  if (r === 5 || r === 15) return "tcp6";
  if (r === 7) return "udp6";
  return "tcp4";
}

const V4_DST = new Uint8Array([10, 2, 0, 1]);
const V6_DST = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

/** The original tuple of flow i. */
export function flowTuple(i: number): CtTuple {
  const kind = flowKind(i);
  const proto = kind.startsWith("tcp") ? IPPROTO_TCP : IPPROTO_UDP;
  const dstPort = proto === IPPROTO_TCP ? 443 : 53;
  if (kind.endsWith("4")) {
    const src = new Uint8Array([10, 1, (i >>> 8) & 255, i & 255]);
    return { src, dst: V4_DST, proto, srcPort: 1024 + ((i >>> 16) & 0xffff), dstPort };
  }
  const src = new Uint8Array(16);
  src.set([0x20, 0x01, 0x0d, 0xb8, 0, 1]);
  src[12] = (i >>> 24) & 255;
  src[13] = (i >>> 16) & 255;
  src[14] = (i >>> 8) & 255;
  src[15] = i & 255;
  return { src, dst: V6_DST, proto, srcPort: 40000, dstPort };
}

function reverse(t: CtTuple): CtTuple {
  return { ...t, src: t.dst, dst: t.src, srcPort: t.dstPort, dstPort: t.srcPort };
}

/** The whole entry of flow i as the churn creates it (mark 0 until an update changes it). */
export function flowEntry(i: number, mark = 0): CtEntry {
  const orig = flowTuple(i);
  const tcp = orig.proto === IPPROTO_TCP;
  const seen = IP_CT_TCP_FLAG.WINDOW_SCALE | IP_CT_TCP_FLAG.SACK_PERM;
  return {
    orig,
    reply: reverse(orig),
    status: IPS.CONFIRMED | IPS.SEEN_REPLY | IPS.ASSURED,
    timeout: tcp ? TCP_TIMEOUT : UDP_TIMEOUT,
    mark,
    ...(tcp
      ? {
        tcp: {
          state: TCP_CONNTRACK.ESTABLISHED,
          wscaleOriginal: 7,
          wscaleReply: 7,
          flagsOriginal: { flags: seen, mask: seen },
          flagsReply: { flags: seen, mask: seen },
        },
      }
      : {}),
  };
}

/** Netlink flags of one message in a batch: only the last asks for an ACK (errors come anyway). */
export function batchFlags(base: number, last: boolean): number {
  return last ? base | NLM_F_ACK : base & ~NLM_F_ACK;
}

export function createMessage(i: number, seq: number, last: boolean): Uint8Array {
  return ctCreateRequest(flowEntry(i), seq, batchFlags(CT_FLAGS_CREATE, last));
}

/** A live update of flow i: new mark, timeout back to full (what a busy flow's traffic does). */
export function updateMessage(i: number, mark: number, seq: number, last: boolean): Uint8Array {
  const { orig, timeout } = flowEntry(i);
  return encodeCtMessage({
    type: CT_MSG_NEW,
    flags: batchFlags(NLM_F_REQUEST, last),
    seq,
    family: ctFamilyOf(orig!),
    entry: { orig, timeout, mark: mark >>> 0 },
  });
}

export function deleteMessage(i: number, seq: number, last: boolean): Uint8Array {
  const orig = flowTuple(i);
  return encodeCtMessage({
    type: CT_MSG_DELETE,
    flags: batchFlags(NLM_F_REQUEST, last),
    seq,
    family: ctFamilyOf(orig),
    entry: { orig },
  });
}

/** `proto src sport dst dport` — the same text for a tuple and for a `conntrack -L` line. */
export function flowKey(t: CtTuple): string {
  const proto = t.proto === IPPROTO_TCP ? "tcp" : t.proto === IPPROTO_UDP ? "udp" : `${t.proto}`;
  return `${proto} ${formatAddress(t.src)} ${t.srcPort ?? 0} ${formatAddress(t.dst)} ${
    t.dstPort ?? 0
  }`;
}

/** One flow in a kernel table: key and what sync must carry (TCP state and mark). */
export interface TableRow {
  readonly key: string;
  readonly value: string;
}

/**
 * A `conntrack -L` line (default output, either family) → row, or undefined
 * for anything that is not a TCP/UDP flow line (e.g. CARP and pfsync
 * entries of the agents themselves, headers, the summary line on stderr).
 */
export function parseListLine(line: string): TableRow | undefined {
  const m = line.match(
    /^(tcp|udp)\s+\d+\s+\d+\s+(?:([A-Z_0-9]+)\s+)?src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/,
  );
  if (!m) return undefined;
  const [, proto, state, src, dst, sport, dport] = m;
  const mark = line.match(/\bmark=(\d+)/)?.[1] ?? "0";
  // conntrack prints addresses with inet_ntop, as formatAddress does; only the case may differ.
  return {
    key: `${proto} ${src.toLowerCase()} ${sport} ${dst.toLowerCase()} ${dport}`,
    value: `${state ?? "-"} mark=${mark}`,
  };
}

export interface TableDiff {
  /** On A, not on B. */
  readonly missing: number;
  /** On B, not on A. */
  readonly extra: number;
  /** On both, with another TCP state. */
  readonly differing: number;
  /** On both, same state, another mark (reported apart: see conntrack.ts). */
  readonly markOnly: number;
  readonly sizeA: number;
  readonly sizeB: number;
  /** A few examples of each kind, for the log. */
  readonly examples: string[];
}

/** Tables as parseListLine rows: flow key → "STATE mark=N". */
export function diffTables(
  a: ReadonlyMap<string, string>,
  b: ReadonlyMap<string, string>,
): TableDiff {
  let missing = 0, extra = 0, differing = 0, markOnly = 0;
  const examples: string[] = [];
  const note = (text: string) => {
    if (examples.length < 6) examples.push(text);
  };
  const stateOf = (v: string) => v.slice(0, v.indexOf(" mark="));
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined) {
      missing++;
      note(`missing on B: ${k} ${v}`);
    } else if (stateOf(w) !== stateOf(v)) {
      differing++;
      note(`differs: ${k} A ${v}, B ${w}`);
    } else if (w !== v) {
      markOnly++;
    }
  }
  for (const [k, v] of b) {
    if (!a.has(k)) {
      extra++;
      note(`extra on B: ${k} ${v}`);
    }
  }
  return { missing, extra, differing, markOnly, sizeA: a.size, sizeB: b.size, examples };
}

/** Flows missing, extra or in another state (marks apart). */
export function diffTotal(d: TableDiff): number {
  return d.missing + d.extra + d.differing;
}

export function formatTableDiff(d: TableDiff): string {
  return `${diffTotal(d)} differ (missing on B ${d.missing}, extra on B ${d.extra}, ` +
    `other TCP state ${d.differing}; A ${d.sizeA}, B ${d.sizeB} flows)`;
}
