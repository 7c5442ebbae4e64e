/**
 * The decoded shape of a conntrack entry and of a ctnetlink message. Every
 * field is optional because the kernel sends different subsets in requests,
 * events (NEW/UPDATE/DESTROY) and dumps (spec §2.9); "absent" and "zero" are
 * different things for the kernel (e.g. CTA_MARK 0 resets a mark).
 *
 * Addresses are network-order bytes (4 for IPv4, 16 for IPv6); 64-bit
 * counters and timestamps are bigint; everything else is a plain number.
 */

/** Ports for TCP/UDP (and other port protocols), id/type/code for ICMP and ICMPv6. */
export interface CtTuple {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly proto: number;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly icmpId?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  /** CTA_TUPLE_ZONE: directional zone, rare; the top-level `zone` is the usual one. */
  readonly zone?: number;
}

/** CTA_PROTOINFO_TCP_FLAGS_*: on write `seen = (seen & ~mask) | (flags & mask)`; mask 0 on read. */
export interface CtTcpFlags {
  readonly flags: number;
  readonly mask: number;
}

export interface CtTcpInfo {
  readonly state?: number;
  readonly wscaleOriginal?: number;
  readonly wscaleReply?: number;
  readonly flagsOriginal?: CtTcpFlags;
  readonly flagsReply?: CtTcpFlags;
}

/** CTA_NAT_SRC / CTA_NAT_DST; only read by the kernel at creation (rule 7). */
export interface CtNat {
  readonly minIp?: Uint8Array;
  readonly maxIp?: Uint8Array;
  readonly minPort?: number;
  readonly maxPort?: number;
}

export interface CtCounters {
  readonly packets?: bigint;
  readonly bytes?: bigint;
}

export interface CtTimestamp {
  readonly start?: bigint;
  readonly stop?: bigint;
}

export interface CtSeqAdj {
  readonly correctionPos: number;
  readonly offsetBefore: number;
  readonly offsetAfter: number;
}

export interface CtSynproxy {
  readonly isn: number;
  readonly its: number;
  readonly tsoff: number;
}

export interface CtHelp {
  readonly name: string;
  readonly info?: Uint8Array;
}

export interface CtEntry {
  readonly orig?: CtTuple;
  readonly reply?: CtTuple;
  readonly master?: CtTuple;
  readonly status?: number;
  readonly statusMask?: number;
  /** Remaining lifetime in seconds. */
  readonly timeout?: number;
  readonly mark?: number;
  readonly markMask?: number;
  readonly zone?: number;
  /** Kernel-chosen, host-local pseudo id; never meaningful on another host (rule 10). */
  readonly id?: number;
  readonly use?: number;
  readonly tcp?: CtTcpInfo;
  readonly help?: CtHelp;
  readonly natSrc?: CtNat;
  readonly natDst?: CtNat;
  readonly countersOrig?: CtCounters;
  readonly countersReply?: CtCounters;
  readonly timestamp?: CtTimestamp;
  /** CTA_TIMESTAMP_EVENT: ns since the epoch (recent kernels, events only). */
  readonly timestampEvent?: bigint;
  readonly seqAdjOrig?: CtSeqAdj;
  readonly seqAdjReply?: CtSeqAdj;
  readonly synproxy?: CtSynproxy;
  /** CTA_LABELS: 128-bit bitmap as host-order words, kept as raw bytes. */
  readonly labels?: Uint8Array;
  readonly labelsMask?: Uint8Array;
  readonly secctx?: string;
}

/** One ctnetlink message: nlmsghdr + nfgenmsg + the entry's attributes. */
export interface CtMessage {
  /** Full nlmsg_type, e.g. 0x0100 (CT_MSG_NEW). */
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  /** 0 in requests; in events the port id of the socket that caused the change (rule 12). */
  readonly pid: number;
  /** nfgen_family in Linux numbering: 0, 2 (AF_INET) or 10 (AF_INET6). */
  readonly family: number;
  readonly version: number;
  readonly resId: number;
  readonly entry: CtEntry;
}

/** How libnetfilter_conntrack (and we) classify a received message (§2.9 fact 5). */
export type CtEventKind = "new" | "update" | "destroy";
