/**
 * One network namespace of a lab. Every method runs `ip -n <ns>` or
 * `ip netns exec <ns>`, so the test process itself never changes namespace
 * and tests may run in parallel.
 */
import { LabProcess, type SpawnOptions } from "./process.ts";
import {
  checkLabCidr,
  execCommand,
  runCommand,
  type RunOptions,
  type RunResult,
  sleep,
} from "./util.ts";

/** What an Ns needs from its lab: temp files and process tracking. */
export interface NsOwner {
  tempPath(name: string): string;
  track(process: LabProcess): LabProcess;
}

export interface IpLink {
  readonly ifindex: number;
  readonly ifname: string;
  readonly flags: readonly string[];
  readonly mtu: number;
  readonly operstate: string;
  readonly address?: string;
  readonly addr_info?: ReadonlyArray<
    { family: string; local: string; prefixlen: number; scope: string }
  >;
}

export class Ns {
  /** The kernel's name for it (unique per run), e.g. `pfs2n4f-k3x1-fw1`. */
  readonly name: string;
  /** The short name the test gave it, e.g. `fw1`. */
  readonly label: string;
  readonly #owner: NsOwner;

  constructor(owner: NsOwner, name: string, label: string) {
    this.#owner = owner;
    this.name = name;
    this.label = label;
  }

  /** `ip -n <ns> args…`; throws with stderr on failure, returns stdout. */
  ip(args: readonly string[]): Promise<string> {
    return execCommand(["ip", "-n", this.name, ...args]);
  }

  /** `ip -j -n <ns> args…`, parsed. */
  async ipJson<T = unknown>(args: readonly string[]): Promise<T> {
    const text = await execCommand(["ip", "-j", "-n", this.name, ...args]);
    return JSON.parse(text || "[]") as T;
  }

  /** Adds an address (lab ranges only); IPv6 without DAD so it is usable at once. */
  async addr(ifname: string, cidr: string): Promise<void> {
    const parsed = checkLabCidr(cidr);
    await this.ip(["addr", "add", cidr, "dev", ifname, ...(parsed.family === 6 ? ["nodad"] : [])]);
  }

  async delAddr(ifname: string, cidr: string): Promise<void> {
    await this.ip(["addr", "del", cidr, "dev", ifname]);
  }

  async up(ifname: string): Promise<void> {
    await this.ip(["link", "set", ifname, "up"]);
  }

  async down(ifname: string): Promise<void> {
    await this.ip(["link", "set", ifname, "down"]);
  }

  async link(ifname: string): Promise<IpLink> {
    const [link] = await this.ipJson<IpLink[]>(["addr", "show", "dev", ifname]);
    if (!link) throw new Error(`${this.label}: no interface ${ifname}`);
    return link;
  }

  async links(): Promise<IpLink[]> {
    return await this.ipJson<IpLink[]>(["addr", "show"]);
  }

  async ifindex(ifname: string): Promise<number> {
    return (await this.link(ifname)).ifindex;
  }

  async mac(ifname: string): Promise<string> {
    const address = (await this.link(ifname)).address;
    if (!address) throw new Error(`${this.label}: ${ifname} has no link-layer address`);
    return address;
  }

  /** `["192.0.2.1/24", …]` currently on `ifname`; link-local (fe80::) ones only if asked. */
  async addresses(ifname: string, withLinkLocal = false): Promise<string[]> {
    return ((await this.link(ifname)).addr_info ?? [])
      .filter((a) => withLinkLocal || a.scope !== "link")
      .map((a) => `${a.local}/${a.prefixlen}`);
  }

  /** `sysctl -w key=value` inside the namespace (net.* keys are per namespace). */
  async sysctl(key: string, value: string | number): Promise<void> {
    await this.exec(["sysctl", "-q", "-w", `${key}=${value}`]);
  }

  /** Runs a command inside the namespace to completion. */
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return runCommand(["ip", "netns", "exec", this.name, ...argv], options);
  }

  /** run(), but a non-zero exit throws with stderr; returns stdout. */
  exec(argv: readonly string[], options?: RunOptions): Promise<string> {
    return execCommand(["ip", "netns", "exec", this.name, ...argv], options);
  }

  /** Starts a long-running process inside the namespace; the lab kills it at teardown. */
  spawn(argv: readonly string[], options: SpawnOptions = {}): LabProcess {
    const base = options.label ?? argv[0].split("/").pop()!;
    const label = `${this.label}:${base}`;
    const stdout = options.stdout ?? this.#owner.tempPath(`${this.label}-${base}.out`);
    const stderr = options.stderr ?? this.#owner.tempPath(`${this.label}-${base}.err`);
    const process = new LabProcess(
      ["ip", "netns", "exec", this.name, ...argv],
      label,
      stdout,
      stderr,
      options.env,
    );
    return this.#owner.track(process);
  }

  /** `deno run -A script args…` with the same deno binary as the test run. */
  spawnDeno(
    script: string | URL,
    args: readonly string[] = [],
    options: SpawnOptions = {},
  ): LabProcess {
    const path = script instanceof URL ? script.pathname : script;
    const label = options.label ?? path.split("/").pop()!.replace(/\.ts$/, "");
    return this.spawn(denoArgv(path, args), { ...options, label });
  }

  /** Runs a Deno script inside the namespace to completion. */
  runDeno(
    script: string | URL,
    args: readonly string[] = [],
    options?: RunOptions,
  ): Promise<RunResult> {
    const path = script instanceof URL ? script.pathname : script;
    return this.run(denoArgv(path, args), options);
  }

  /**
   * Starts `tcpdump -i ifname -w file filter` and resolves once it is
   * listening, so no packet sent afterwards is missed.
   */
  async tcpdump(ifname: string, filter = "", options: { label?: string } = {}): Promise<Capture> {
    const label = options.label ?? `tcpdump-${ifname}`;
    const pcap = this.#owner.tempPath(`${this.label}-${label}.pcap`);
    const argv = [
      "tcpdump",
      "-i",
      ifname,
      "--immediate-mode",
      "-U",
      "-n",
      "-w",
      pcap,
      ...(filter ? [filter] : []),
    ];
    const process = this.spawn(argv, { label });
    await process.waitForOutput(/listening on/, 10_000, "stderr");
    return new Capture(process, pcap);
  }
}

function denoArgv(script: string, args: readonly string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--no-prompt", script, ...args];
}

/** A running tcpdump writing a pcap file. */
export class Capture {
  readonly process: LabProcess;
  readonly path: string;

  constructor(process: LabProcess, path: string) {
    this.process = process;
    this.path = path;
  }

  /**
   * Stops the capture (SIGINT flushes the file) and returns the pcap path.
   * Waits `settleMs` first so packets still in flight are written.
   */
  async stop(settleMs = 100): Promise<string> {
    await sleep(settleMs);
    this.process.kill("SIGINT");
    if (!(await this.process.waitExit(5_000))) await this.process.stop(1_000);
    return this.path;
  }

  /** The capture as tcpdump text (`-nn -e -v` plus `args`, e.g. a filter). */
  async text(args: readonly string[] = []): Promise<string> {
    return await execCommand(["tcpdump", "-r", this.path, "-nn", "-e", "-v", ...args]);
  }
}
