import { hintFor, SysError, throwErrno } from "../../lib/sys/errors.ts";
import { libc } from "../../lib/sys/libc.ts";
import { errnoName, errnoNumber, linux } from "../../lib/sys/platform/mod.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

Deno.test("SysError formats syscall, errno name, strerror text and hint", () => {
  const error = new SysError("socket(AF_INET, SOCK_RAW, 112)", linux.errnoNames.EPERM);
  assertEquals(
    error.message,
    "socket(AF_INET, SOCK_RAW, 112): EPERM (Operation not permitted): run as root or grant CAP_NET_RAW",
  );
  assertEquals(
    [error.name, error.syscall, error.errno, error.code],
    ["SysError", "socket(AF_INET, SOCK_RAW, 112)", 1, "EPERM"],
  );
  assertEquals(error.description, "Operation not permitted");
});

Deno.test("SysError without a hint ends after the strerror text", () => {
  const error = new SysError("close(7)", linux.errnoNames.EBADF);
  assertEquals(error.message, "close(7): EBADF (Bad file descriptor)");
  assertEquals(error.hint, undefined);
});

Deno.test("SysError takes explicit code, description and hint over the tables", () => {
  const error = new SysError("poll()", 9999, { description: "odd", hint: "look closer" });
  assertEquals(error.message, "poll(): E9999 (odd): look closer");
});

const HINTS: ReadonlyArray<readonly [string, string, string | undefined]> = [
  ["socket(AF_INET, SOCK_RAW, 112)", "EPERM", "run as root or grant CAP_NET_RAW"],
  ["socket(AF_PACKET, SOCK_RAW, 0)", "EACCES", "run as root or grant CAP_NET_RAW"],
  ["setsockopt(SO_RCVBUFFORCE, 1024)", "EPERM", "run as root or grant CAP_NET_ADMIN"],
  ['setsockopt(SO_BINDTODEVICE, "eth9")', "ENODEV", "no such interface"],
  [
    "setsockopt(IP_ADD_MEMBERSHIP, 224.0.0.18, ifindex 9)",
    "ENODEV",
    "the interface does not exist or is down",
  ],
  [
    "recvfrom(AF_NETLINK 12)",
    "ENOBUFS",
    "the receive buffer overflowed and messages were lost; resynchronise",
  ],
  [
    "socket(AF_NETLINK, SOCK_RAW, 12)",
    "EPROTONOSUPPORT",
    "the kernel lacks this netlink family (module not loaded?)",
  ],
  [
    "sendto(112, 224.0.0.18)",
    "ENETUNREACH",
    "no route to the destination; is the interface up with an address?",
  ],
  ["open(x)", "EMFILE", "too many open files; raise the limit (ulimit -n)"],
  ["bind(x)", "EINVAL", undefined],
];

for (const [syscall, code, hint] of HINTS) {
  Deno.test(`hintFor() ${code} in ${syscall.split("(")[0]}: ${hint ?? "no hint"}`, () => {
    assertEquals(hintFor(syscall, code), hint);
  });
}

Deno.test("throwErrno() reads errno of the call just made (close(-1) → EBADF)", () => {
  assertEquals(libc().close(-1), -1);
  const error = assertThrows(() => throwErrno("close(-1)"), SysError);
  assertEquals(error.code, "EBADF");
});

Deno.test("errnoName()/errnoNumber() map both ways and render unknown numbers", () => {
  assertEquals(errnoName(105, linux), "ENOBUFS");
  assertEquals(errnoName(11, linux), "EAGAIN");
  assertEquals(errnoName(4242, linux), "E4242");
  assertEquals(errnoNumber("ENOBUFS", linux), 105);
  assertEquals(errnoNumber("ENOPE", linux), undefined);
});
