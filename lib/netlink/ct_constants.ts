/**
 * ctnetlink numbers (Linux uapi `nfnetlink.h`, `nfnetlink_conntrack.h`,
 * `nf_conntrack_common.h`, `nf_conntrack_tcp.h`), as listed in
 * spec/conntrack-netlink.md §1.4–§2.7. Kept apart from the codec so the
 * provider, the mapping and the tests name the same values.
 */

/** socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER). */
export const NETLINK_NETFILTER = 12;

/**
 * nfgenmsg.nfgen_family uses Linux numbering (AF_INET6 is 10 here, 28 in
 * pfsync); the same bindings as rtnetlink's, so `export *` of both is fine.
 */
export { AF_INET, AF_INET6, AF_UNSPEC } from "./rtnetlink_consts.ts";

/** Subsystem id in the high byte of nlmsg_type. */
export const NFNL_SUBSYS_CTNETLINK = 1;

/** Operations (low byte of nlmsg_type). */
export const IPCTNL_MSG_CT_NEW = 0;
export const IPCTNL_MSG_CT_GET = 1;
export const IPCTNL_MSG_CT_DELETE = 2;
export const IPCTNL_MSG_CT_GET_CTRZERO = 3;
export const IPCTNL_MSG_CT_GET_STATS_CPU = 4;
export const IPCTNL_MSG_CT_GET_STATS = 5;
export const IPCTNL_MSG_CT_GET_DYING = 6;
export const IPCTNL_MSG_CT_GET_UNCONFIRMED = 7;

/** Full nlmsg_type values for the three operations the agent uses. */
export const CT_MSG_NEW = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
export const CT_MSG_GET = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
export const CT_MSG_DELETE = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;

/** Multicast groups (numbers, not bits) of conntrack events. */
export const NFNLGRP_CONNTRACK_NEW = 1;
export const NFNLGRP_CONNTRACK_UPDATE = 2;
export const NFNLGRP_CONNTRACK_DESTROY = 3;

// nlmsghdr flags, control types and NLA_F_* come from nlmsg.ts / nlattr.ts.

/** enum ctattr_type (top level). */
export const CTA = {
  TUPLE_ORIG: 1,
  TUPLE_REPLY: 2,
  STATUS: 3,
  PROTOINFO: 4,
  HELP: 5,
  NAT_SRC: 6,
  TIMEOUT: 7,
  MARK: 8,
  COUNTERS_ORIG: 9,
  COUNTERS_REPLY: 10,
  USE: 11,
  ID: 12,
  NAT_DST: 13,
  TUPLE_MASTER: 14,
  SEQ_ADJ_ORIG: 15,
  SEQ_ADJ_REPLY: 16,
  SECMARK: 17,
  ZONE: 18,
  SECCTX: 19,
  TIMESTAMP: 20,
  MARK_MASK: 21,
  LABELS: 22,
  LABELS_MASK: 23,
  SYNPROXY: 24,
  FILTER: 25,
  STATUS_MASK: 26,
  TIMESTAMP_EVENT: 27,
} as const;

/** enum ctattr_tuple, ctattr_ip, ctattr_l4proto. */
export const CTA_TUPLE = { IP: 1, PROTO: 2, ZONE: 3 } as const;
export const CTA_IP = { V4_SRC: 1, V4_DST: 2, V6_SRC: 3, V6_DST: 4 } as const;
export const CTA_PROTO = {
  NUM: 1,
  SRC_PORT: 2,
  DST_PORT: 3,
  ICMP_ID: 4,
  ICMP_TYPE: 5,
  ICMP_CODE: 6,
  ICMPV6_ID: 7,
  ICMPV6_TYPE: 8,
  ICMPV6_CODE: 9,
} as const;

/** enum ctattr_protoinfo and ctattr_protoinfo_tcp. */
export const CTA_PROTOINFO = { TCP: 1, DCCP: 2, SCTP: 3 } as const;
export const CTA_PROTOINFO_TCP = {
  STATE: 1,
  WSCALE_ORIGINAL: 2,
  WSCALE_REPLY: 3,
  FLAGS_ORIGINAL: 4,
  FLAGS_REPLY: 5,
} as const;

/** enum ctattr_nat and ctattr_protonat. */
export const CTA_NAT = { V4_MINIP: 1, V4_MAXIP: 2, PROTO: 3, V6_MINIP: 4, V6_MAXIP: 5 } as const;
export const CTA_PROTONAT = { PORT_MIN: 1, PORT_MAX: 2 } as const;

/** Smaller nests. */
export const CTA_HELP = { NAME: 1, INFO: 2 } as const;
export const CTA_COUNTERS = { PACKETS: 1, BYTES: 2, PACKETS32: 3, BYTES32: 4, PAD: 5 } as const;
export const CTA_TIMESTAMP = { START: 1, STOP: 2, PAD: 3 } as const;
export const CTA_SEQADJ = { CORRECTION_POS: 1, OFFSET_BEFORE: 2, OFFSET_AFTER: 3 } as const;
export const CTA_SYNPROXY = { ISN: 1, ITS: 2, TSOFF: 3 } as const;
export const CTA_SECCTX = { NAME: 1 } as const;

/** IP protocol numbers the codec knows tuples for. */
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

/** enum ip_conntrack_status bits. */
export const IPS = {
  EXPECTED: 0x0001,
  SEEN_REPLY: 0x0002,
  ASSURED: 0x0004,
  CONFIRMED: 0x0008,
  SRC_NAT: 0x0010,
  DST_NAT: 0x0020,
  SEQ_ADJUST: 0x0040,
  SRC_NAT_DONE: 0x0080,
  DST_NAT_DONE: 0x0100,
  DYING: 0x0200,
  FIXED_TIMEOUT: 0x0400,
  TEMPLATE: 0x0800,
  UNTRACKED: 0x1000,
  HELPER: 0x2000,
  OFFLOAD: 0x4000,
  HW_OFFLOAD: 0x8000,
} as const;

/** enum tcp_conntrack; values above SYN_SENT2 are kernel-internal and rejected with ERANGE. */
export const TCP_CONNTRACK = {
  NONE: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  ESTABLISHED: 3,
  FIN_WAIT: 4,
  CLOSE_WAIT: 5,
  LAST_ACK: 6,
  TIME_WAIT: 7,
  CLOSE: 8,
  SYN_SENT2: 9,
} as const;
export const TCP_CONNTRACK_MAX_SETTABLE = 9;
export const TCP_WSCALE_MAX = 14;

export const TCP_STATE_NAMES: readonly string[] = [
  "NONE",
  "SYN_SENT",
  "SYN_RECV",
  "ESTABLISHED",
  "FIN_WAIT",
  "CLOSE_WAIT",
  "LAST_ACK",
  "TIME_WAIT",
  "CLOSE",
  "SYN_SENT2",
];

/** Per-direction TCP flags (`seen[dir].flags`). */
export const IP_CT_TCP_FLAG = {
  WINDOW_SCALE: 0x01,
  SACK_PERM: 0x02,
  CLOSE_INIT: 0x04,
  BE_LIBERAL: 0x08,
  DATA_UNACKNOWLEDGED: 0x10,
  MAXACK_SET: 0x20,
  CHALLENGE_ACK: 0x40,
  SIMULTANEOUS_OPEN: 0x80,
} as const;

/** errno values ctnetlink answers with (Linux numbering; §2.8). */
export const CT_ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ENOMEM: 12,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ERANGE: 34,
  EOPNOTSUPP: 95,
  ENOBUFS: 105,
} as const;
