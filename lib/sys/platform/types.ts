/**
 * The shape every platform table fills in. Constant names are the C macro
 * names and struct field names are the C member names, so a test can turn the
 * table straight into a C program (`offsetof(struct sockaddr_in, sin_port)`)
 * and compare. A constant a platform lacks is `undefined`; callers that need
 * it go through `requireConstant`, which names the missing feature.
 */

export const CONSTANT_NAMES = [
  "AF_UNSPEC",
  "AF_INET",
  "AF_INET6",
  "AF_NETLINK",
  "AF_PACKET",
  "SOCK_STREAM",
  "SOCK_DGRAM",
  "SOCK_RAW",
  "SOCK_NONBLOCK",
  "SOCK_CLOEXEC",
  "IPPROTO_IP",
  "IPPROTO_ICMP",
  "IPPROTO_TCP",
  "IPPROTO_UDP",
  "IPPROTO_IPV6",
  "IPPROTO_ICMPV6",
  "IPPROTO_RAW",
  "IP_TOS",
  "IP_TTL",
  "IP_HDRINCL",
  "IP_PKTINFO",
  "IP_RECVTTL",
  "IP_RECVIF",
  "IP_RECVDSTADDR",
  "IP_MULTICAST_IF",
  "IP_MULTICAST_TTL",
  "IP_MULTICAST_LOOP",
  "IP_ADD_MEMBERSHIP",
  "IP_DROP_MEMBERSHIP",
  "IPV6_CHECKSUM",
  "IPV6_UNICAST_HOPS",
  "IPV6_MULTICAST_IF",
  "IPV6_MULTICAST_HOPS",
  "IPV6_MULTICAST_LOOP",
  "IPV6_JOIN_GROUP",
  "IPV6_LEAVE_GROUP",
  "IPV6_V6ONLY",
  "IPV6_RECVPKTINFO",
  "IPV6_PKTINFO",
  "IPV6_RECVHOPLIMIT",
  "IPV6_HOPLIMIT",
  "ICMP6_FILTER",
  "SOL_SOCKET",
  "SO_REUSEADDR",
  "SO_ERROR",
  "SO_SNDBUF",
  "SO_RCVBUF",
  "SO_RCVBUFFORCE",
  "SO_BINDTODEVICE",
  "SOL_PACKET",
  "SOL_NETLINK",
  "NETLINK_ROUTE",
  "NETLINK_NETFILTER",
  "NETLINK_ADD_MEMBERSHIP",
  "NETLINK_DROP_MEMBERSHIP",
  "ETH_P_ALL",
  "ETH_P_IP",
  "ETH_P_ARP",
  "ETH_P_IPV6",
  "MSG_PEEK",
  "MSG_CTRUNC",
  "MSG_TRUNC",
  "MSG_DONTWAIT",
  "POLLIN",
  "POLLPRI",
  "POLLOUT",
  "POLLERR",
  "POLLHUP",
  "POLLNVAL",
  "O_NONBLOCK",
  "O_CLOEXEC",
] as const;

export type ConstantName = typeof CONSTANT_NAMES[number];

/** Byte size of a struct and the offset of each member, keyed by C member name. */
export interface StructLayout {
  readonly size: number;
  readonly fields: Readonly<Record<string, number>>;
}

export const STRUCT_NAMES = [
  "sockaddr_in",
  "sockaddr_in6",
  "sockaddr_ll",
  "sockaddr_nl",
  "sockaddr_dl",
  "ip_mreq",
  "ip_mreqn",
  "ipv6_mreq",
  "in_pktinfo",
  "in6_pktinfo",
  "msghdr",
  "iovec",
  "cmsghdr",
  "pollfd",
] as const;

export type StructName = typeof STRUCT_NAMES[number];

export interface Platform {
  readonly os: "linux" | "freebsd";
  /** Tried in order by the lazy dlopen. */
  readonly libcNames: readonly string[];
  /** Function returning `int *` to the calling thread's errno. */
  readonly errnoSymbol: "__errno_location" | "__error";
  /** BSD sockaddrs start with a length byte and a one-byte family. */
  readonly sockaddrHasLen: boolean;
  /** Width of msghdr.msg_controllen and cmsghdr.cmsg_len (size_t vs socklen_t). */
  readonly cmsgLenBytes: 4 | 8;
  /** CMSG_ALIGN boundary. */
  readonly cmsgAlign: number;
  readonly constants: Readonly<Record<ConstantName, number | undefined>>;
  readonly structs: Readonly<Record<StructName, StructLayout | undefined>>;
  /** errno number → name (EAGAIN, ENOBUFS …). */
  readonly errnoNames: Readonly<Record<string, number>>;
  /**
   * Byte every octet of struct icmp6_filter is set to for "block all": the
   * bit sense is reversed between Linux (1 = block) and BSD (1 = pass).
   */
  readonly icmp6FilterBlockAllByte: number;
  /**
   * Which cmsg type carries the received TTL / hop limit / interface. Linux
   * answers IP_RECVTTL with an IP_TTL message, FreeBSD with IP_RECVTTL itself.
   */
  readonly cmsgTypes: {
    readonly ipTtl: number;
    readonly ipIfindex: number;
    readonly ipv6PktInfo: number;
    readonly ipv6HopLimit: number;
  };
}
