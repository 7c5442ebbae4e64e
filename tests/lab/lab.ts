/**
 * The namespace lab every integration test uses. See README.md.
 *
 *   labTest("carp: backup takes over", async (lab) => {
 *     const [fw1, fw2] = [await lab.namespace("fw1"), await lab.namespace("fw2")];
 *     await lab.link(fw1, "sync0", fw2, "sync0");
 *     await fw1.addr("sync0", "192.0.2.1/24");
 *     const agent = fw1.spawnDeno("main.ts", ["run", "-c", cfg]);
 *   });
 *
 * Names are unique per run (`pfs<pid36>-<4 random><n>-<label>`), so test files may
 * run in parallel. Teardown always happens: in `finally`, on SIGINT/SIGTERM of
 * the test run, and by a sweep of namespaces left behind by dead runs.
 */
import { killGroupSync, type LabProcess } from "./process.ts";
import { Ns, type NsOwner } from "./ns.ts";
import { labSkipReason, processAlive, runCommand, runCommandSync } from "./util.ts";

export { Capture, type IpLink, Ns } from "./ns.ts";
export { LabProcess, type ProcessOutput, type SpawnOptions } from "./process.ts";
export {
  checkLabCidr,
  execCommand,
  labSkipReason,
  processAlive,
  runCommand,
  type RunResult,
  sleep,
  waitFor,
  type WaitOptions,
} from "./util.ts";

const PID36 = Deno.pid.toString(36);
/**
 * Matches our namespace and temp-dir names (`pfs<pid36>-<4 random><n>-…`);
 * group 1 is the owning pid in base 36. Deliberately narrow: names such as
 * `pfsyncd-platform-x` made by other tests must never be swept.
 */
const OWNED_NS = /^pfs([0-9a-z]{1,5})-[0-9a-z]{4}[0-9]+-/;
const MAX_IFNAME = 15;

const active = new Set<Lab>();
let swept = false;
const signalHandlers: Array<[Deno.Signal, () => void]> = [];

export interface LinkOptions {
  /** Bring both ends up (default true). */
  readonly up?: boolean;
  readonly macA?: string;
  readonly macB?: string;
  readonly mtu?: number;
}

export class Lab implements NsOwner {
  /** `pfs<pid36>-<rand><n>`: prefix of every namespace this lab creates. */
  readonly id: string;
  readonly tmpDir: string;
  readonly #namespaces: Ns[] = [];
  readonly #processes: LabProcess[] = [];
  #cleaned = false;

  private constructor(id: string, tmpDir: string) {
    this.id = id;
    this.tmpDir = tmpDir;
  }

  /** Makes a lab (sweeping leftovers of dead runs first, once per process). */
  static async create(): Promise<Lab> {
    if (!swept) {
      swept = true;
      await sweepDeadRuns();
    }
    const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(36).padStart(4, "0")
      .slice(-4);
    const id = `pfs${PID36}-${random}${active.size}`;
    const tmpDir = await Deno.makeTempDir({ prefix: `${id}-` });
    const lab = new Lab(id, tmpDir);
    active.add(lab);
    installSignalHandlers();
    return lab;
  }

  /** A fresh namespace with `lo` up. */
  async namespace(label: string): Promise<Ns> {
    const name = `${this.id}-${label}`;
    const added = await runCommand(["ip", "netns", "add", name]);
    if (!added.success) throw new Error(`ip netns add ${name}: ${added.stderr.trim()}`);
    const ns = new Ns(this, name, label);
    this.#namespaces.push(ns);
    await ns.up("lo");
    return ns;
  }

  /** A veth pair, one end in each namespace (created there directly: no host-side names). */
  async link(a: Ns, ifA: string, b: Ns, ifB: string, options: LinkOptions = {}): Promise<void> {
    for (const name of [ifA, ifB]) checkIfname(name);
    const mtu = options.mtu === undefined ? [] : ["mtu", String(options.mtu)];
    const macA = options.macA === undefined ? [] : ["address", options.macA];
    const macB = options.macB === undefined ? [] : ["address", options.macB];
    await a.ip([
      "link",
      "add",
      "name",
      ifA,
      ...macA,
      ...mtu,
      "type",
      "veth",
      "peer",
      "name",
      ifB,
      "netns",
      b.name,
      ...macB,
      ...mtu,
    ]);
    if (options.up ?? true) {
      await a.up(ifA);
      await b.up(ifB);
    }
  }

  /** A bridge in `ns` enslaving `ifs` (STP off: ports forward at once); all brought up. */
  async bridge(ns: Ns, name: string, ifs: readonly string[]): Promise<void> {
    checkIfname(name);
    await ns.ip(["link", "add", "name", name, "type", "bridge", "stp_state", "0"]);
    for (const ifname of ifs) {
      await ns.ip(["link", "set", ifname, "master", name]);
      await ns.up(ifname);
    }
    await ns.up(name);
  }

  tempPath(name: string): string {
    return `${this.tmpDir}/${name.replace(/[^A-Za-z0-9._-]/g, "_")}`;
  }

  track(process: LabProcess): LabProcess {
    this.#processes.push(process);
    return process;
  }

  get namespaces(): readonly Ns[] {
    return this.#namespaces;
  }

  /** Kills every process (group), deletes the namespaces and the temp dir. Idempotent. */
  async cleanup(): Promise<void> {
    if (this.#cleaned) return;
    this.#cleaned = true;
    active.delete(this);
    const errors: string[] = [];
    await Promise.all(this.#processes.map((p) => p.stop(1_000).catch(() => undefined)));
    for (const ns of this.#namespaces) {
      killNamespacePids(ns.name);
      const result = await runCommand(["ip", "netns", "del", ns.name]);
      if (!result.success) errors.push(`ip netns del ${ns.name}: ${result.stderr.trim()}`);
    }
    await Deno.remove(this.tmpDir, { recursive: true }).catch(() => undefined);
    if (active.size === 0) removeSignalHandlers();
    if (errors.length > 0) throw new Error(`lab cleanup: ${errors.join("; ")}`);
  }

  /** The same, synchronously, for signal handlers. */
  cleanupSync(): void {
    if (this.#cleaned) return;
    this.#cleaned = true;
    active.delete(this);
    for (const p of this.#processes) if (!p.exited) killGroupSync(p.pid);
    for (const ns of this.#namespaces) {
      killNamespacePids(ns.name);
      runCommandSync(["ip", "netns", "del", ns.name]);
    }
    try {
      Deno.removeSync(this.tmpDir, { recursive: true });
    } catch { /* already gone */ }
  }
}

function checkIfname(name: string): void {
  if (name.length === 0 || name.length > MAX_IFNAME || /[\s/:]/.test(name)) {
    throw new Error(
      `lab: bad interface name ${JSON.stringify(name)} (1-15 chars, no / : or spaces)`,
    );
  }
}

/** Processes still inside a namespace keep it alive after `ip netns del`; kill them first. */
function killNamespacePids(ns: string): void {
  const pids = runCommandSync(["ip", "netns", "pids", ns]).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch { /* gone */ }
  }
}

/** Deletes namespaces and temp dirs named by this harness whose owning process is dead. */
export async function sweepDeadRuns(): Promise<string[]> {
  const removed: string[] = [];
  const list = await runCommand(["ip", "netns", "list"]);
  for (const line of list.stdout.split("\n")) {
    const name = line.split(" ")[0];
    const owner = ownerPid(name);
    if (owner === undefined || processAlive(owner)) continue;
    killNamespacePids(name);
    if ((await runCommand(["ip", "netns", "del", name])).success) removed.push(name);
  }
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  try {
    for (const entry of Deno.readDirSync(tmp)) {
      const owner = ownerPid(entry.name);
      if (!entry.isDirectory || owner === undefined || processAlive(owner)) continue;
      await Deno.remove(`${tmp}/${entry.name}`, { recursive: true }).catch(() => undefined);
    }
  } catch { /* unreadable tmp: nothing to sweep */ }
  return removed;
}

/** The owning pid of a harness-made name, if the name is ours and the pid plausible. */
function ownerPid(name: string): number | undefined {
  const match = name.match(OWNED_NS);
  if (!match) return undefined;
  const pid = parseInt(match[1], 36);
  let pidMax = 4_194_304;
  try {
    pidMax = Number(Deno.readTextFileSync("/proc/sys/kernel/pid_max").trim()) || pidMax;
  } catch { /* keep the 64-bit kernel ceiling */ }
  return pid > 0 && pid <= pidMax ? pid : undefined;
}

function installSignalHandlers(): void {
  if (signalHandlers.length > 0) return;
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    const handler = () => {
      for (const lab of [...active]) lab.cleanupSync();
      Deno.exit(code);
    };
    try {
      Deno.addSignalListener(signal, handler);
      signalHandlers.push([signal, handler]);
    } catch { /* no signals here (e.g. a worker): finally and the sweep still clean up */ }
  }
}

function removeSignalHandlers(): void {
  for (const [signal, handler] of signalHandlers.splice(0)) {
    try {
      Deno.removeSignalListener(signal, handler);
    } catch { /* already removed */ }
  }
}

export interface LabTestOptions {
  /** Whole-test deadline including setup; default 60 s. */
  readonly timeoutMs?: number;
  readonly only?: boolean;
  readonly sanitizeOps?: boolean;
  readonly sanitizeResources?: boolean;
}

/**
 * A Deno.test that needs root but builds its own setup (no Lab): skipped with
 * the reason in its name when not root and CI !== "true"; never under CI=true.
 */
export function privilegedTest(
  name: string,
  fn: () => Promise<void>,
  options: Omit<LabTestOptions, "timeoutMs"> = {},
): void {
  const skip = labSkipReason();
  Deno.test({
    name: skip ? `${name} (skipped: ${skip})` : name,
    ignore: skip !== undefined,
    only: options.only,
    sanitizeOps: options.sanitizeOps,
    sanitizeResources: options.sanitizeResources,
    fn,
  });
}

/**
 * Registers a Deno.test that gets a fresh Lab and always tears it down. Not
 * root and CI !== "true": skipped, with the reason in the test name. Under
 * CI=true it never skips, so a missing privilege or tool fails the run.
 */
export function labTest(
  name: string,
  fn: (lab: Lab) => Promise<void>,
  options: LabTestOptions = {},
): void {
  privilegedTest(name, async () => {
    const lab = await Lab.create();
    const timeoutMs = options.timeoutMs ?? 60_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`lab test "${name}" exceeded ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    let failed = false;
    try {
      await Promise.race([fn(lab), timeout]);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      clearTimeout(timer);
      // A cleanup problem must not hide the test's own failure.
      await lab.cleanup().catch((error) => {
        if (!failed) throw error;
        console.error(String(error));
      });
    }
  }, options);
}

/** For scripts and benchmarks outside Deno.test: a lab torn down when `fn` settles. */
export async function withLab<T>(fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.create();
  try {
    return await fn(lab);
  } finally {
    await lab.cleanup();
  }
}
