/** Test helper: non-blocking pipes through libc, to feed the reactor without root. */
import { libc } from "../../lib/sys/libc.ts";
import { requireConstant } from "../../lib/sys/platform/mod.ts";

export interface Pipe {
  readonly read: number;
  readonly write: number;
}

export function openPipe(): Pipe {
  const fds = new Int32Array(2);
  const flags = requireConstant("O_NONBLOCK") | requireConstant("O_CLOEXEC");
  if (libc().pipe2(new Uint8Array(fds.buffer), flags) !== 0) throw new Error("pipe2 failed");
  return { read: fds[0], write: fds[1] };
}

export function writeByte(fd: number, value = 0x2a): number {
  return Number(libc().write(fd, new Uint8Array([value]), 1n));
}

export function writeBytes(fd: number, values: number[]): number {
  return Number(libc().write(fd, new Uint8Array(values), BigInt(values.length)));
}

/** Reads until EAGAIN; returns the bytes read. */
export function drain(fd: number): number[] {
  const out: number[] = [];
  const buffer = new Uint8Array(256);
  for (;;) {
    const got = Number(libc().read(fd, buffer, 256n));
    if (got <= 0) return out;
    out.push(...buffer.subarray(0, got));
  }
}

/** True when `fd` is open in this process (Linux /proc). */
export function isOpen(fd: number): boolean {
  try {
    Deno.readLinkSync(`/proc/self/fd/${fd}`);
    return true;
  } catch {
    return false;
  }
}

export function closeQuietly(fd: number): void {
  libc().close(fd);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
