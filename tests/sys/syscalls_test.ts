import {
  bindSocket,
  closeFd,
  constantLabel,
  getIntOption,
  interfaceIndex,
  openSocket,
  receiveInto,
  sendTo,
  setIntOption,
  socketLabel,
  socketName,
} from "../../lib/sys/syscalls.ts";
import { SysError } from "../../lib/sys/errors.ts";
import { decodeInetSockaddr, encodeSockaddrIn } from "../../lib/sys/sockaddr.ts";
import { requireConstant } from "../../lib/sys/platform/mod.ts";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";

const AF_INET = () => requireConstant("AF_INET");
const UDP = () =>
  requireConstant("SOCK_DGRAM") | requireConstant("SOCK_NONBLOCK") |
  requireConstant("SOCK_CLOEXEC");
const LOOPBACK = new Uint8Array([127, 0, 0, 1]);

Deno.test("socketLabel() names the family and type and drops the flag bits", () => {
  const raw = requireConstant("SOCK_RAW") | requireConstant("SOCK_NONBLOCK");
  assertEquals(socketLabel(AF_INET(), raw, 112), "socket(AF_INET, SOCK_RAW, 112)");
  assertEquals(
    socketLabel(requireConstant("AF_NETLINK"), raw, 12),
    "socket(AF_NETLINK, SOCK_RAW, 12)",
  );
  assertEquals(constantLabel("AF_", 9999), "9999");
});

Deno.test("openSocket() with a bogus family throws EAFNOSUPPORT with the symbolic call", () => {
  const error = assertThrows(() => openSocket(250, UDP(), 0), SysError);
  assertEquals(error.code, "EAFNOSUPPORT");
  assert(error.message.startsWith("socket(250, SOCK_DGRAM, 0): EAFNOSUPPORT ("), error.message);
});

Deno.test("sendTo()/receiveInto() move a datagram over loopback UDP; empty queue gives -1", () => {
  const a = openSocket(AF_INET(), UDP(), 0);
  const b = openSocket(AF_INET(), UDP(), 0);
  try {
    bindSocket(b, encodeSockaddrIn(LOOPBACK, 0), "127.0.0.1:0");
    const bound = decodeInetSockaddr(socketName(b, 16))!;
    assert(bound.port > 0, "kernel chose a port");
    const buffer = new Uint8Array(64);
    assertEquals(receiveInto(b, buffer, "udp"), -1);
    assertEquals(
      sendTo(a, new Uint8Array([1, 2, 3]), encodeSockaddrIn(LOOPBACK, bound.port), "udp"),
      3,
    );
    const from = new Uint8Array(16);
    assertEquals(receiveInto(b, buffer, "udp", from), 3);
    assertEquals(buffer.subarray(0, 3), new Uint8Array([1, 2, 3]));
    assertEquals(decodeInetSockaddr(from)?.address, LOOPBACK);
  } finally {
    closeFd(a);
    closeFd(b);
  }
});

Deno.test("setIntOption()/getIntOption() round-trip SO_RCVBUF (the kernel doubles it)", () => {
  const fd = openSocket(AF_INET(), UDP(), 0);
  try {
    setIntOption(fd, "SOL_SOCKET", "SO_RCVBUF", 4096);
    assertEquals(getIntOption(fd, "SOL_SOCKET", "SO_RCVBUF"), 8192);
  } finally {
    closeFd(fd);
  }
});

Deno.test("setIntOption() failure names the option and value", () => {
  const fd = openSocket(AF_INET(), UDP(), 0);
  try {
    // IP_MULTICAST_TTL above 255 is EINVAL
    const error = assertThrows(
      () => setIntOption(fd, "IPPROTO_IP", "IP_MULTICAST_TTL", 256),
      SysError,
    );
    assertEquals(error.message, "setsockopt(IP_MULTICAST_TTL, 256): EINVAL (Invalid argument)");
  } finally {
    closeFd(fd);
  }
});

Deno.test("interfaceIndex() finds lo and names an unknown interface", () => {
  assertEquals(interfaceIndex("lo"), 1);
  const error = assertThrows(() => interfaceIndex("nosuch0"), SysError);
  assertEquals(
    error.message,
    'if_nametoindex("nosuch0"): ENODEV (No such device): no such interface (see `ip link`)',
  );
});
