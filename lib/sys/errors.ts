/**
 * SysError: a failed system call, described the way an operator needs it:
 * `socket(AF_INET, SOCK_RAW, 112): EPERM (Operation not permitted): run as
 * root or grant CAP_NET_RAW`. The hint comes from a table keyed by errno name
 * and the call's name, so the common permission and setup mistakes say what
 * to do instead of just what failed.
 */
import { errno, strerror } from "./libc.ts";
import { errnoName } from "./platform/mod.ts";

export class SysError extends Error {
  /** The call as written in the message, e.g. `setsockopt(SO_BINDTODEVICE, "eth0")`. */
  readonly syscall: string;
  readonly errno: number;
  /** Symbolic errno, e.g. "EPERM"; `E<n>` when the table does not know the number. */
  readonly code: string;
  readonly description: string;
  readonly hint: string | undefined;

  constructor(syscall: string, errnoValue: number, options: SysErrorOptions = {}) {
    const code = options.code ?? errnoName(errnoValue);
    const description = options.description ?? safeStrerror(errnoValue);
    const hint = options.hint ?? hintFor(syscall, code);
    const text = description ? `${code} (${description})` : code;
    super(`${syscall}: ${text}${hint ? `: ${hint}` : ""}`);
    this.name = "SysError";
    this.syscall = syscall;
    this.errno = errnoValue;
    this.code = code;
    this.description = description;
    this.hint = hint;
  }
}

export interface SysErrorOptions {
  code?: string;
  description?: string;
  hint?: string;
}

/** Reads errno now (same thread, right after the failed call) and throws. */
export function throwErrno(syscall: string, hint?: string): never {
  throw new SysError(syscall, errno(), hint === undefined ? {} : { hint });
}

function safeStrerror(code: number): string {
  try {
    return strerror(code);
  } catch {
    return "";
  }
}

const ROOT_RAW = "run as root or grant CAP_NET_RAW";
const ROOT_ADMIN = "run as root or grant CAP_NET_ADMIN";

/**
 * [call name prefix, errno name, hint]. The first row whose prefix starts the
 * syscall text and whose errno matches wins; "" matches any call.
 */
const HINTS: ReadonlyArray<readonly [string, string, string]> = [
  [
    "socket(AF_NETLINK",
    "EPROTONOSUPPORT",
    "the kernel lacks this netlink family (module not loaded?)",
  ],
  ["socket(", "EPERM", ROOT_RAW],
  ["socket(", "EACCES", ROOT_RAW],
  ["socket(", "EAFNOSUPPORT", "this kernel does not support the address family"],
  ["setsockopt(SO_BINDTODEVICE", "EPERM", ROOT_RAW],
  ["setsockopt(SO_BINDTODEVICE", "ENODEV", "no such interface"],
  ["setsockopt(SO_RCVBUFFORCE", "EPERM", ROOT_ADMIN],
  ["setsockopt(IP_ADD_MEMBERSHIP", "ENODEV", "the interface does not exist or is down"],
  ["setsockopt(IP_ADD_MEMBERSHIP", "EADDRINUSE", "the group is already joined on this interface"],
  ["setsockopt(IPV6_JOIN_GROUP", "ENODEV", "the interface does not exist or is down"],
  ["setsockopt(NETLINK_ADD_MEMBERSHIP", "EPERM", ROOT_ADMIN],
  ["if_nametoindex(", "ENODEV", "no such interface (see `ip link`)"],
  ["bind(", "EADDRNOTAVAIL", "the address is not configured on this host"],
  ["bind(AF_NETLINK", "EPERM", ROOT_ADMIN],
  ["sendto(", "ENETUNREACH", "no route to the destination; is the interface up with an address?"],
  ["sendto(", "ENXIO", "the interface is gone or down"],
  ["sendto(", "ENETDOWN", "the interface is down"],
  ["sendto(", "EMSGSIZE", "the packet is larger than the interface MTU"],
  ["recv", "ENOBUFS", "the receive buffer overflowed and messages were lost; resynchronise"],
  ["", "EMFILE", "too many open files; raise the limit (ulimit -n)"],
  ["", "EPERM", "operation not permitted for this user; run as root"],
];

export function hintFor(syscall: string, code: string): string | undefined {
  for (const [prefix, name, hint] of HINTS) {
    if (name === code && syscall.startsWith(prefix)) return hint;
  }
  return undefined;
}
