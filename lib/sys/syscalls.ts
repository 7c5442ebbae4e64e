/**
 * Thin, checked wrappers over the libc socket calls. Each one reads errno on
 * the JS thread right after a failure and throws a SysError whose text
 * names the call with symbolic arguments, e.g. `socket(AF_INET, SOCK_RAW, 112)`.
 */
import { SysError, throwErrno } from "./errors.ts";
import { errno, libc } from "./libc.ts";
import { platform, requireConstant } from "./platform/mod.ts";
import type { ConstantName } from "./platform/mod.ts";
import { decodeInt, encodeInt } from "./sockaddr.ts";

/** Reverse lookup for messages: 2 → "AF_INET" (first name with that prefix and value). */
export function constantLabel(prefix: string, value: number): string {
  for (const [name, v] of Object.entries(platform().constants)) {
    if (v === value && name.startsWith(prefix)) return name;
  }
  return String(value);
}

export function socketLabel(domain: number, type: number, protocol: number): string {
  const { SOCK_NONBLOCK = 0, SOCK_CLOEXEC = 0 } = platform().constants;
  const base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  return `socket(${constantLabel("AF_", domain)}, ${constantLabel("SOCK_", base)}, ${protocol})`;
}

/** socket(); the returned fd is owned by the caller. */
export function openSocket(domain: number, type: number, protocol: number): number {
  const fd = libc().socket(domain, type, protocol);
  if (fd < 0) throwErrno(socketLabel(domain, type, protocol));
  return fd;
}

/** setsockopt with raw option bytes; `label` is the option as the message shows it. */
export function setOption(
  fd: number,
  level: number,
  name: number,
  value: Uint8Array<ArrayBuffer>,
  label: string,
): void {
  if (libc().setsockopt(fd, level, name, value, value.length) !== 0) {
    throwErrno(`setsockopt(${label})`);
  }
}

export function setIntOption(
  fd: number,
  level: ConstantName,
  name: ConstantName,
  value: number,
): void {
  setOption(
    fd,
    requireConstant(level),
    requireConstant(name),
    encodeInt(value),
    `${name}, ${value}`,
  );
}

export function getIntOption(fd: number, level: ConstantName, name: ConstantName): number {
  const value = new Uint8Array(4);
  const length = encodeInt(4);
  if (libc().getsockopt(fd, requireConstant(level), requireConstant(name), value, length) !== 0) {
    throwErrno(`getsockopt(${name})`);
  }
  return decodeInt(value);
}

export function bindSocket(fd: number, address: Uint8Array<ArrayBuffer>, label: string): void {
  if (libc().bind(fd, address, address.length) !== 0) throwErrno(`bind(${label})`);
}

/** getsockname into a buffer of `size` bytes; returns the filled part. */
export function socketName(fd: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const length = encodeInt(size);
  if (libc().getsockname(fd, out, length) !== 0) throwErrno(`getsockname(${fd})`);
  return out.subarray(0, Math.min(size, decodeInt(length)));
}

/**
 * sendto with MSG_DONTWAIT; returns the byte count. `label` may be a
 * function so hot paths build the message text only on failure. A full send buffer
 * (EAGAIN) is an error here: the callers send small datagrams at a low rate,
 * so a full buffer means something is wrong and is worth reporting.
 */
export function sendTo(
  fd: number,
  data: Uint8Array<ArrayBuffer>,
  address: Uint8Array<ArrayBuffer> | null,
  label: string | (() => string),
): number {
  const flags = requireConstant("MSG_DONTWAIT");
  const sent = Number(
    libc().sendto(fd, data, BigInt(data.length), flags, address, address?.length ?? 0),
  );
  if (sent < 0) throwErrno(`sendto(${typeof label === "string" ? label : label()})`);
  return sent;
}

/**
 * recvfrom with MSG_DONTWAIT into `buffer`. Returns the length (the full
 * datagram length when `extraFlags` has MSG_TRUNC), or -1 when nothing is
 * queued (EAGAIN); EINTR is retried; other errors throw.
 */
export function receiveInto(
  fd: number,
  buffer: Uint8Array<ArrayBuffer>,
  label: string,
  from: Uint8Array<ArrayBuffer> | null = null,
  extraFlags = 0,
): number {
  const flags = requireConstant("MSG_DONTWAIT") | extraFlags;
  const fromLength = from ? encodeInt(from.length) : null;
  for (;;) {
    const got = Number(libc().recvfrom(fd, buffer, BigInt(buffer.length), flags, from, fromLength));
    if (got >= 0) return got;
    const code = errno();
    if (isErrno(code, "EINTR")) continue;
    if (isErrno(code, "EAGAIN")) return -1;
    throw new SysError(`recvfrom(${label})`, code);
  }
}

export function closeFd(fd: number): void {
  // close() is never retried: on Linux the fd is released even when it fails.
  libc().close(fd);
}

export function isErrno(code: number, name: string): boolean {
  return platform().errnoNames[name] === code;
}

/** if_nametoindex(); throws a SysError naming the interface when unknown. */
export function interfaceIndex(name: string): number {
  const encoded = new TextEncoder().encode(name);
  const cName = new Uint8Array(encoded.length + 1);
  cName.set(encoded);
  const index = libc().if_nametoindex(cName);
  if (index === 0) throwErrno(`if_nametoindex("${name}")`);
  return index;
}

/**
 * Sets the socket's receive buffer to `bytes` and returns what the kernel
 * granted. SO_RCVBUFFORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN;
 * without it (EPERM) or on a platform without it, SO_RCVBUF gives what the
 * cap allows.
 */
export function setReceiveBuffer(fd: number, bytes: number): number {
  if (platform().constants.SO_RCVBUFFORCE !== undefined) {
    try {
      setIntOption(fd, "SOL_SOCKET", "SO_RCVBUFFORCE", bytes);
      return getIntOption(fd, "SOL_SOCKET", "SO_RCVBUF");
    } catch (error) {
      if (!(error instanceof SysError) || error.code !== "EPERM") throw error;
    }
  }
  setIntOption(fd, "SOL_SOCKET", "SO_RCVBUF", bytes);
  return getIntOption(fd, "SOL_SOCKET", "SO_RCVBUF");
}
