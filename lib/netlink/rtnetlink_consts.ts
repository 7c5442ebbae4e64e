/**
 * rtnetlink numbers (Linux uapi `rtnetlink.h`, `if_link.h`, `if_addr.h`, `if.h`).
 * rtnetlink exists only on Linux, so Linux numbering is used here directly
 * (AF_INET6 = 10) instead of going through lib/sys/platform.
 */

/** socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) */
export const NETLINK_ROUTE = 0;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;

/** Legacy bind() bitmasks (nl_groups); only groups 1..32 fit. */
export const RTMGRP_LINK = 0x1;
export const RTMGRP_NOTIFY = 0x2;
export const RTMGRP_NEIGH = 0x4;
export const RTMGRP_IPV4_IFADDR = 0x10;
export const RTMGRP_IPV4_ROUTE = 0x40;
export const RTMGRP_IPV6_IFADDR = 0x100;

/** Group numbers for NETLINK_ADD_MEMBERSHIP (`enum rtnetlink_groups`). */
export const RTNLGRP_LINK = 1;
export const RTNLGRP_NEIGH = 3;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV4_ROUTE = 7;
export const RTNLGRP_IPV6_IFADDR = 9;

/** Interface flags (ifi_flags, `net/if.h` + `linux/if.h`). */
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_PROMISC = 0x100;
export const IFF_ALLMULTI = 0x200;
export const IFF_MASTER = 0x400;
export const IFF_SLAVE = 0x800;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;
export const IFF_DORMANT = 0x20000;

/** IFLA_OPERSTATE values (RFC 2863 operational status). */
export const IF_OPER_UNKNOWN = 0;
export const IF_OPER_NOTPRESENT = 1;
export const IF_OPER_DOWN = 2;
export const IF_OPER_LOWERLAYERDOWN = 3;
export const IF_OPER_TESTING = 4;
export const IF_OPER_DORMANT = 5;
export const IF_OPER_UP = 6;

export const OPERSTATE_NAMES: Readonly<Record<number, string>> = {
  [IF_OPER_UNKNOWN]: "unknown",
  [IF_OPER_NOTPRESENT]: "notpresent",
  [IF_OPER_DOWN]: "down",
  [IF_OPER_LOWERLAYERDOWN]: "lowerlayerdown",
  [IF_OPER_TESTING]: "testing",
  [IF_OPER_DORMANT]: "dormant",
  [IF_OPER_UP]: "up",
};

/** `enum ifla` (subset we read). */
export const IFLA_ADDRESS = 1;
export const IFLA_BROADCAST = 2;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_QDISC = 6;
export const IFLA_MASTER = 10;
export const IFLA_TXQLEN = 13;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKMODE = 17;
export const IFLA_LINKINFO = 18;
export const IFLA_IFALIAS = 20;
export const IFLA_GROUP = 27;
export const IFLA_EXT_MASK = 29;
export const IFLA_CARRIER = 33;
export const IFLA_CARRIER_CHANGES = 35;
export const IFLA_PERM_ADDRESS = 54;

/** Nested in IFLA_LINKINFO. */
export const IFLA_INFO_KIND = 1;

/** IFLA_EXT_MASK bit: leave the ~1 KB of counters out of link dumps. */
export const RTEXT_FILTER_SKIP_STATS = 0x8;

/** `enum ifa` */
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_ANYCAST = 5;
export const IFA_CACHEINFO = 6;
export const IFA_MULTICAST = 7;
export const IFA_FLAGS = 8;
export const IFA_RT_PRIORITY = 9;
export const IFA_PROTO = 11;

/** Address flags: ifa_flags holds the low 8 bits, IFA_FLAGS all 32. */
export const IFA_F_SECONDARY = 0x01;
export const IFA_F_NODAD = 0x02;
export const IFA_F_OPTIMISTIC = 0x04;
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_HOMEADDRESS = 0x10;
export const IFA_F_DEPRECATED = 0x20;
export const IFA_F_TENTATIVE = 0x40;
export const IFA_F_PERMANENT = 0x80;
export const IFA_F_MANAGETEMPADDR = 0x100;
export const IFA_F_NOPREFIXROUTE = 0x200;

export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_SITE = 200;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
