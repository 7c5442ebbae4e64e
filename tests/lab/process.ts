/**
 * A process started by the lab. It runs as the leader of its own process
 * group (`setsid`), so kill() reaches everything it forked; its output goes
 * straight to files in the lab's temp dir, so a chatty agent never blocks on
 * a full pipe and the output is still there after it died.
 */
import { sleep } from "./util.ts";

export interface ProcessOutput {
  readonly stdout: string;
  readonly stderr: string;
}

export interface SpawnOptions {
  /** Where stdout goes; default `<lab tmp>/<label>.out`. */
  readonly stdout?: string;
  readonly stderr?: string;
  readonly env?: Record<string, string>;
  /** Name used in file names and messages; default the program's base name. */
  readonly label?: string;
}

export class LabProcess {
  readonly pid: number;
  readonly label: string;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  readonly #child: Deno.ChildProcess;
  #status: Deno.CommandStatus | undefined;
  readonly #exited: Promise<Deno.CommandStatus>;

  constructor(
    argv: readonly string[],
    label: string,
    stdoutPath: string,
    stderrPath: string,
    env?: Record<string, string>,
  ) {
    this.label = label;
    this.stdoutPath = stdoutPath;
    this.stderrPath = stderrPath;
    // setsid makes the child a group leader (pgid = pid) without forking, and
    // sh redirects then execs in place, so Deno's pid is the group to signal and
    // the output lands in the files even if this test process dies first.
    const redirect = 'out=$1; err=$2; shift 2; exec "$@" >"$out" 2>"$err"';
    this.#child = new Deno.Command("setsid", {
      args: ["sh", "-c", redirect, "sh", stdoutPath, stderrPath, ...argv],
      env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    this.pid = this.#child.pid;
    this.#exited = this.#child.status.then((status) => {
      this.#status = status;
      return status;
    });
  }

  get exited(): boolean {
    return this.#status !== undefined;
  }

  get status(): Deno.CommandStatus | undefined {
    return this.#status;
  }

  /** Signals the whole process group; quietly does nothing once it has exited. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#status !== undefined) return;
    try {
      Deno.kill(-this.pid, signal);
    } catch {
      try {
        this.#child.kill(signal);
      } catch { /* raced with exit */ }
    }
  }

  /** The exit status, or undefined if it is still running after `ms`. */
  async waitExit(ms = 10_000): Promise<Deno.CommandStatus | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
      return await Promise.race([this.#exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 2_000): Promise<Deno.CommandStatus> {
    this.kill("SIGTERM");
    const status = await this.waitExit(graceMs);
    if (status) return status;
    this.kill("SIGKILL");
    return await this.#exited;
  }

  /** What it has written so far (complete once it has exited). */
  output(): ProcessOutput {
    const read = (path: string) => {
      try {
        return Deno.readTextFileSync(path);
      } catch {
        return "";
      }
    };
    return { stdout: read(this.stdoutPath), stderr: read(this.stderrPath) };
  }

  /** Waits for stdout (or stderr) to match `pattern`; fails at once if the process exits first. */
  async waitForOutput(
    pattern: RegExp,
    timeoutMs = 10_000,
    stream: "stdout" | "stderr" = "stdout",
  ): Promise<RegExpMatchArray> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const exitedBefore = this.exited;
      const { stdout, stderr } = this.output();
      const match = (stream === "stdout" ? stdout : stderr).match(pattern);
      if (match) return match;
      if (exitedBefore) {
        throw new Error(
          `${this.label} exited (code ${this.#status?.code}) before printing ${pattern}:\n` +
            `${stderr}${stdout}`,
        );
      }
      if (performance.now() > deadline) {
        throw new Error(
          `${this.label} did not print ${pattern} within ${timeoutMs} ms:\n${stderr}${stdout}`,
        );
      }
      await sleep(10);
    }
  }

  /** stdout parsed as one JSON value per line (fixtures report that way). */
  jsonLines<T = unknown>(): T[] {
    return this.output().stdout.split("\n").filter((l) => l.trim().startsWith("{")).map((l) =>
      JSON.parse(l) as T
    );
  }
}

/** Synchronous group kill for signal-time teardown. */
export function killGroupSync(pid: number): void {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    try {
      Deno.kill(-pid, signal);
    } catch {
      return;
    }
  }
}
