/**
 * FreeBSD cannot be compiled against here, so its table is compared with
 * values written down from the FreeBSD (13/14, amd64) headers, each with the
 * header it comes from. `undefined` means the header has no such name.
 */
import { freebsd } from "../../lib/sys/platform/freebsd.ts";
import { CONSTANT_NAMES, STRUCT_NAMES } from "../../lib/sys/platform/types.ts";
import { encodeSockaddrIn, encodeSockaddrIn6, sockaddrFamily } from "../../lib/sys/sockaddr.ts";
import { fromHex } from "../../lib/bytes/hex.ts";
import { assertEquals } from "../helpers/assert.ts";

type Row = readonly [name: string, value: number | undefined, header: string];

const CONSTANTS: readonly Row[] = [
  ["AF_UNSPEC", 0, "sys/socket.h"],
  ["AF_INET", 2, "sys/socket.h"],
  ["AF_INET6", 28, "sys/socket.h"],
  ["AF_NETLINK", 38, "sys/socket.h (13.2+)"],
  ["AF_PACKET", undefined, "(none: BPF instead)"],
  ["SOCK_STREAM", 1, "sys/socket.h"],
  ["SOCK_DGRAM", 2, "sys/socket.h"],
  ["SOCK_RAW", 3, "sys/socket.h"],
  ["SOCK_NONBLOCK", 0x20000000, "sys/socket.h"],
  ["SOCK_CLOEXEC", 0x10000000, "sys/socket.h"],
  ["IPPROTO_IP", 0, "netinet/in.h"],
  ["IPPROTO_ICMP", 1, "netinet/in.h"],
  ["IPPROTO_TCP", 6, "netinet/in.h"],
  ["IPPROTO_UDP", 17, "netinet/in.h"],
  ["IPPROTO_IPV6", 41, "netinet/in.h"],
  ["IPPROTO_ICMPV6", 58, "netinet/in.h"],
  ["IPPROTO_RAW", 255, "netinet/in.h"],
  ["IP_TOS", 3, "netinet/in.h"],
  ["IP_TTL", 4, "netinet/in.h"],
  ["IP_HDRINCL", 2, "netinet/in.h"],
  ["IP_PKTINFO", undefined, "(none: IP_RECVIF)"],
  ["IP_RECVTTL", 65, "netinet/in.h"],
  ["IP_RECVIF", 20, "netinet/in.h"],
  ["IP_RECVDSTADDR", 7, "netinet/in.h"],
  ["IP_MULTICAST_IF", 9, "netinet/in.h"],
  ["IP_MULTICAST_TTL", 10, "netinet/in.h"],
  ["IP_MULTICAST_LOOP", 11, "netinet/in.h"],
  ["IP_ADD_MEMBERSHIP", 12, "netinet/in.h"],
  ["IP_DROP_MEMBERSHIP", 13, "netinet/in.h"],
  ["IPV6_CHECKSUM", 26, "netinet6/in6.h"],
  ["IPV6_UNICAST_HOPS", 4, "netinet6/in6.h"],
  ["IPV6_MULTICAST_IF", 9, "netinet6/in6.h"],
  ["IPV6_MULTICAST_HOPS", 10, "netinet6/in6.h"],
  ["IPV6_MULTICAST_LOOP", 11, "netinet6/in6.h"],
  ["IPV6_JOIN_GROUP", 12, "netinet6/in6.h"],
  ["IPV6_LEAVE_GROUP", 13, "netinet6/in6.h"],
  ["IPV6_V6ONLY", 27, "netinet6/in6.h"],
  ["IPV6_RECVPKTINFO", 36, "netinet6/in6.h"],
  ["IPV6_PKTINFO", 46, "netinet6/in6.h"],
  ["IPV6_RECVHOPLIMIT", 37, "netinet6/in6.h"],
  ["IPV6_HOPLIMIT", 47, "netinet6/in6.h"],
  ["ICMP6_FILTER", 18, "netinet6/in6.h"],
  ["SOL_SOCKET", 0xffff, "sys/socket.h"],
  ["SO_REUSEADDR", 0x0004, "sys/socket.h"],
  ["SO_ERROR", 0x1007, "sys/socket.h"],
  ["SO_SNDBUF", 0x1001, "sys/socket.h"],
  ["SO_RCVBUF", 0x1002, "sys/socket.h"],
  ["SO_RCVBUFFORCE", undefined, "(none)"],
  ["SO_BINDTODEVICE", undefined, "(none: check IP_RECVIF)"],
  ["SOL_PACKET", undefined, "(none)"],
  ["SOL_NETLINK", 270, "netlink/netlink.h"],
  ["NETLINK_ROUTE", 0, "netlink/netlink.h"],
  ["NETLINK_NETFILTER", undefined, "(none)"],
  ["NETLINK_ADD_MEMBERSHIP", 1, "netlink/netlink.h"],
  ["NETLINK_DROP_MEMBERSHIP", 2, "netlink/netlink.h"],
  ["ETH_P_ALL", undefined, "(none: net/ethernet.h has ETHERTYPE_*)"],
  ["ETH_P_IP", undefined, "(none)"],
  ["ETH_P_ARP", undefined, "(none)"],
  ["ETH_P_IPV6", undefined, "(none)"],
  ["MSG_PEEK", 0x2, "sys/socket.h"],
  ["MSG_CTRUNC", 0x20, "sys/socket.h"],
  ["MSG_TRUNC", 0x10, "sys/socket.h"],
  ["MSG_DONTWAIT", 0x80, "sys/socket.h"],
  ["POLLIN", 0x1, "sys/poll.h"],
  ["POLLPRI", 0x2, "sys/poll.h"],
  ["POLLOUT", 0x4, "sys/poll.h"],
  ["POLLERR", 0x8, "sys/poll.h"],
  ["POLLHUP", 0x10, "sys/poll.h"],
  ["POLLNVAL", 0x20, "sys/poll.h"],
  ["O_NONBLOCK", 0x4, "sys/fcntl.h"],
  ["O_CLOEXEC", 0x100000, "sys/fcntl.h"],
];

const ERRNO: readonly Row[] = [
  ["EPERM", 1, "sys/errno.h"],
  ["EINTR", 4, "sys/errno.h"],
  ["EBADF", 9, "sys/errno.h"],
  ["EDEADLK", 11, "sys/errno.h"],
  ["EACCES", 13, "sys/errno.h"],
  ["ENODEV", 19, "sys/errno.h"],
  ["EINVAL", 22, "sys/errno.h"],
  ["EMFILE", 24, "sys/errno.h"],
  ["EAGAIN", 35, "sys/errno.h"],
  ["EINPROGRESS", 36, "sys/errno.h"],
  ["ENOTSOCK", 38, "sys/errno.h"],
  ["EMSGSIZE", 40, "sys/errno.h"],
  ["ENOPROTOOPT", 42, "sys/errno.h"],
  ["EPROTONOSUPPORT", 43, "sys/errno.h"],
  ["EOPNOTSUPP", 45, "sys/errno.h"],
  ["EAFNOSUPPORT", 47, "sys/errno.h"],
  ["EADDRINUSE", 48, "sys/errno.h"],
  ["EADDRNOTAVAIL", 49, "sys/errno.h"],
  ["ENETDOWN", 50, "sys/errno.h"],
  ["ENETUNREACH", 51, "sys/errno.h"],
  ["ENOBUFS", 55, "sys/errno.h"],
  ["ETIMEDOUT", 60, "sys/errno.h"],
  ["ECONNREFUSED", 61, "sys/errno.h"],
  ["EHOSTUNREACH", 65, "sys/errno.h"],
  ["ENOSYS", 78, "sys/errno.h"],
];

/** [struct, size, "member@offset …", header] */
const STRUCTS: ReadonlyArray<readonly [string, number | undefined, string, string]> = [
  ["sockaddr_in", 16, "sin_len@0 sin_family@1 sin_port@2 sin_addr@4 sin_zero@8", "netinet/in.h"],
  [
    "sockaddr_in6",
    28,
    "sin6_len@0 sin6_family@1 sin6_port@2 sin6_flowinfo@4 sin6_addr@8 sin6_scope_id@24",
    "netinet6/in6.h",
  ],
  ["sockaddr_ll", undefined, "", "(none)"],
  ["sockaddr_nl", 12, "nl_len@0 nl_family@1 nl_pad@2 nl_pid@4 nl_groups@8", "netlink/netlink.h"],
  [
    "sockaddr_dl",
    54,
    "sdl_len@0 sdl_family@1 sdl_index@2 sdl_type@4 sdl_nlen@5 sdl_alen@6 sdl_slen@7 sdl_data@8",
    "net/if_dl.h",
  ],
  ["ip_mreq", 8, "imr_multiaddr@0 imr_interface@4", "netinet/in.h"],
  ["ip_mreqn", 12, "imr_multiaddr@0 imr_address@4 imr_ifindex@8", "netinet/in.h"],
  ["ipv6_mreq", 20, "ipv6mr_multiaddr@0 ipv6mr_interface@16", "netinet6/in6.h"],
  ["in_pktinfo", undefined, "", "(none)"],
  ["in6_pktinfo", 20, "ipi6_addr@0 ipi6_ifindex@16", "netinet6/in6.h"],
  [
    "msghdr",
    48,
    "msg_name@0 msg_namelen@8 msg_iov@16 msg_iovlen@24 msg_control@32 msg_controllen@40 msg_flags@44",
    "sys/socket.h",
  ],
  ["iovec", 16, "iov_base@0 iov_len@8", "sys/_iovec.h"],
  ["cmsghdr", 12, "cmsg_len@0 cmsg_level@4 cmsg_type@8", "sys/socket.h"],
  ["pollfd", 8, "fd@0 events@4 revents@6", "sys/poll.h"],
];

Deno.test("freebsd platform table: constants match the FreeBSD headers", () => {
  assertEquals(CONSTANTS.map(([name]) => name), [...CONSTANT_NAMES], "every constant covered");
  for (const [name, value, header] of CONSTANTS) {
    const actual = freebsd.constants[name as keyof typeof freebsd.constants];
    assertEquals(actual, value, `${name} (${header})`);
  }
});

Deno.test("freebsd platform table: errno numbers match <sys/errno.h>", () => {
  for (const [name, value, header] of ERRNO) {
    assertEquals(freebsd.errnoNames[name], value, `${name} (${header})`);
  }
});

Deno.test("freebsd platform table: struct layouts match the headers", () => {
  assertEquals(STRUCTS.map(([name]) => name), [...STRUCT_NAMES], "every struct covered");
  for (const [name, size, members, header] of STRUCTS) {
    const layout = freebsd.structs[name as keyof typeof freebsd.structs];
    if (size === undefined) {
      assertEquals(layout, undefined, `struct ${name} (${header})`);
      continue;
    }
    const fields = Object.fromEntries(
      members.split(" ").map((m) => m.split("@")).map(([f, o]) => [f, Number(o)]),
    );
    assertEquals(layout, { size, fields }, `struct ${name} (${header})`);
  }
});

Deno.test("freebsd platform table: errno accessor, libc name and cmsg answers", () => {
  assertEquals(freebsd.errnoSymbol, "__error"); // sys/errno.h: #define errno (* __error())
  assertEquals(freebsd.libcNames, ["libc.so.7"]);
  assertEquals(freebsd.cmsgLenBytes, 4); // cmsg_len is socklen_t
  assertEquals(freebsd.cmsgAlign, 8); // _ALIGNBYTES on amd64/arm64
  assertEquals(freebsd.icmp6FilterBlockAllByte, 0); // netinet/icmp6.h: SETBLOCKALL zeroes the bits
  // IP_RECVTTL answers with IP_RECVTTL, IP_RECVIF with a sockaddr_dl under IP_RECVIF
  assertEquals(freebsd.cmsgTypes, { ipTtl: 65, ipIfindex: 20, ipv6PktInfo: 46, ipv6HopLimit: 47 });
});

Deno.test("encodeSockaddrIn() with the freebsd table writes sin_len and a one-byte family", () => {
  const bytes = encodeSockaddrIn(new Uint8Array([192, 0, 2, 1]), 0x1234, freebsd);
  assertEquals(bytes, fromHex("10 02 1234 c0000201 0000000000000000"));
  assertEquals(sockaddrFamily(bytes, freebsd), 2);
  const six = encodeSockaddrIn6(fromHex("ff020000000000000000000000000012"), 0, 3, freebsd);
  assertEquals(six.subarray(0, 2), fromHex("1c 1c")); // sin6_len 28, AF_INET6 28
});
