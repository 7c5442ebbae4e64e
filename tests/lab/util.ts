/**
 * Small helpers shared by the lab harness: running a command to completion,
 * polling for a condition, and the address-range rule every lab test follows.
 */
import { type Cidr, cidrContains, parseCidr } from "../../lib/net/address.ts";

export interface RunResult {
  readonly code: number;
  readonly success: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Kill the command (SIGKILL) after this long; default 30 s. */
  readonly timeoutMs?: number;
  readonly env?: Record<string, string>;
  readonly stdin?: string;
}

const decoder = new TextDecoder();

/** Runs argv to completion and collects its output; never throws for a non-zero exit. */
export async function runCommand(
  argv: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const [program, ...args] = argv;
  const child = new Deno.Command(program, {
    args,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Fed while the output is read: a child that exits early (BrokenPipe) or
  // writes much before reading all of its input must neither throw nor deadlock.
  const feeding = options.stdin === undefined ? Promise.resolve() : feed(child, options.stdin);
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  try {
    const [output] = await Promise.all([child.output(), feeding]);
    const stderr = decoder.decode(output.stderr);
    return {
      code: output.code,
      success: output.success && !timedOut,
      stdout: decoder.decode(output.stdout),
      stderr: timedOut ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr,
    };
  } finally {
    clearTimeout(timer);
  }
}

async function feed(child: Deno.ChildProcess, text: string): Promise<void> {
  const writer = child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  }
}

/** Like runCommand, but a failure throws with the command line and its stderr. */
export async function execCommand(
  argv: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  const result = await runCommand(argv, options);
  if (!result.success) {
    throw new Error(
      `\`${argv.join(" ")}\` exited with ${result.code}: ${
        result.stderr.trim() || result.stdout.trim()
      }`,
    );
  }
  return result.stdout;
}

/** Synchronous variant for signal-time teardown, where awaiting is not an option. */
export function runCommandSync(argv: readonly string[]): RunResult {
  const [program, ...args] = argv;
  try {
    const output = new Deno.Command(program, { args, stdout: "piped", stderr: "piped" })
      .outputSync();
    return {
      code: output.code,
      success: output.success,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } catch (error) {
    return { code: -1, success: false, stdout: "", stderr: String(error) };
  }
}

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Said in the timeout error, e.g. "address 192.0.2.1 on fw1". */
  readonly message?: string;
}

/**
 * Polls `predicate` until it returns a truthy value (which is returned) or the
 * deadline passes; the last thrown error is included in the timeout message.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const why = lastError === undefined ? "" : ` (last error: ${String(lastError)})`;
      throw new Error(
        `waitFor: ${options.message ?? "condition"} not met within ${timeoutMs} ms${why}`,
      );
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The only networks a lab may use: IPv4 documentation ranges and 10/8; v6 documentation and link-local. */
const ALLOWED: readonly Cidr[] = [
  "192.0.2.0/24",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "10.0.0.0/8",
  "2001:db8::/32",
  "fe80::/10",
].map((text) => parseCidr(text)!);

/** Parses `cidr` and refuses anything outside the lab ranges, so a test cannot leak real addresses. */
export function checkLabCidr(cidr: string): Cidr {
  const parsed = parseCidr(cidr);
  if (!parsed) throw new Error(`lab: ${JSON.stringify(cidr)} is not an address/prefix`);
  const inside = ALLOWED.some((net) =>
    net.family === parsed.family && parsed.prefix >= net.prefix && cidrContains(net, parsed.address)
  );
  if (!inside) {
    throw new Error(
      `lab: ${cidr} is outside 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 10.0.0.0/8, 2001:db8::/32`,
    );
  }
  return parsed;
}

/** Root, or CI=true (where a missing privilege must fail loudly instead of skipping). */
export function labSkipReason(): string | undefined {
  if (Deno.env.get("CI") === "true") return undefined;
  let uid: number | null = null;
  try {
    uid = Deno.uid();
  } catch {
    return "lab tests need --allow-sys to check for root";
  }
  return uid === 0
    ? undefined
    : "lab tests need root (network namespaces); run as root or with CI=true";
}

/** True while `pid` exists and is not a zombie (an exited child nobody reaped yet). */
export function processAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}
