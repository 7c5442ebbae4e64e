/**
 * The libc binding. Nothing is opened at import time: codec tests import
 * modules that import this one and must run without --allow-ffi, so the
 * library is dlopen'ed on the first `libc()` call and kept for the process.
 *
 * Every call except `poll` is synchronous on purpose: errno is thread-local
 * and a `nonblocking: true` symbol runs on a worker thread, so only the
 * synchronous calls can read a meaningful errno right after they return.
 */
import { platform } from "./platform/mod.ts";

function symbolTable(errnoSymbol: string) {
  return {
    // int socket(int domain, int type, int protocol);
    socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
    // int bind(int fd, const struct sockaddr *addr, socklen_t addrlen);
    bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
    // int getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen);
    getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
    // int setsockopt(int fd, int level, int name, const void *val, socklen_t len);
    setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
    // int getsockopt(int fd, int level, int name, void *val, socklen_t *len);
    getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
    // ssize_t sendto(int fd, const void *buf, size_t len, int flags,
    //                const struct sockaddr *dest, socklen_t destlen);
    sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
    // ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
    //                  struct sockaddr *src, socklen_t *srclen);
    recvfrom: {
      parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"],
      result: "isize",
    },
    // ssize_t recvmsg(int fd, struct msghdr *msg, int flags);
    recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
    // int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags, struct timespec *t);
    // (Linux; optional: NetlinkSocket falls back to recvfrom without it)
    recvmmsg: {
      parameters: ["i32", "buffer", "u32", "i32", "buffer"],
      result: "i32",
      optional: true,
    },
    // ssize_t read(int fd, void *buf, size_t count);
    read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    // ssize_t write(int fd, const void *buf, size_t count);
    write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    // int pipe2(int fds[2], int flags);
    pipe2: { parameters: ["buffer", "i32"], result: "i32" },
    // int close(int fd);
    close: { parameters: ["i32"], result: "i32" },
    // int poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);  -- on a worker thread
    poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
    // unsigned int if_nametoindex(const char *ifname);
    if_nametoindex: { parameters: ["buffer"], result: "u32" },
    // char *if_indextoname(unsigned int ifindex, char *ifname);
    if_indextoname: { parameters: ["u32", "buffer"], result: "pointer" },
    // char *strerror(int errnum);
    strerror: { parameters: ["i32"], result: "pointer" },
    // uid_t geteuid(void);
    geteuid: { parameters: [], result: "u32" },
    // int *__errno_location(void);  (glibc, musl)   int *__error(void);  (FreeBSD)
    errno_location: { name: errnoSymbol, parameters: [], result: "pointer" },
  } as const;
}

export type LibcSymbols = ReturnType<typeof symbolTable>;
export type Libc = Deno.DynamicLibrary<LibcSymbols>["symbols"];

let opened: Deno.DynamicLibrary<LibcSymbols> | undefined;

/** The libc symbols, opened on first use. Throws a readable error without --allow-ffi. */
export function libc(): Libc {
  if (opened) return opened.symbols;
  const table = platform();
  const symbols = symbolTable(table.errnoSymbol);
  const failures: string[] = [];
  for (const name of table.libcNames) {
    try {
      opened = Deno.dlopen(name, symbols);
      return opened.symbols;
    } catch (error) {
      if (
        error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ) {
        throw new Error(`cannot open libc: FFI is not permitted; run deno with --allow-ffi`);
      }
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`cannot open libc (tried ${failures.join("; ")})`);
}

/** errno of the calling (JS) thread; call it right after the failing call. */
export function errno(): number {
  const location = libc().errno_location();
  if (location === null) return 0;
  return new Deno.UnsafePointerView(location).getInt32();
}

/** strerror() text, or "" when libc cannot tell. */
export function strerror(code: number): string {
  const text = libc().strerror(code);
  return text === null ? "" : Deno.UnsafePointerView.getCString(text);
}

/** A NUL-terminated copy of `text` for `const char *` parameters. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  const encoded = new TextEncoder().encode(text);
  const out = new Uint8Array(encoded.length + 1);
  out.set(encoded);
  return out;
}

/** The address of a buffer, as the integer a C struct member holds. */
export function addressOf(buffer: Uint8Array<ArrayBuffer>): bigint {
  const pointer = Deno.UnsafePointer.of(buffer);
  return pointer === null ? 0n : BigInt(Deno.UnsafePointer.value(pointer));
}
