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

/**
 * What `fd` refers to (e.g. "pipe:[123]", from Linux /proc), or undefined
 * when it is closed. Comparing targets, not just open/closed, keeps a check
 * honest when the runtime reuses the number for something else at once.
 */
export function fdTarget(fd: number): string | undefined {
  try {
    return Deno.readLinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

export function closeQuietly(fd: number): void {
  libc().close(fd);
}

/** Waits until `condition()` holds (checked every 2 ms), or fails after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  timeoutMs = 2000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(2);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
