/**
 * Network namespaces for `pfsyncd demo`, torn down whatever happens. The CLI
 * builds these itself (the test harness is not there), so this is a small
 * standalone helper: unique names per run (`pfdemo<pid36><rand>-<label>`),
 * veth pairs created directly inside their namespaces (nothing touches the
 * host's own interfaces), processes tracked so teardown can kill them, and a
 * synchronous `teardownSync()` that a SIGINT handler can call before exiting.
 */

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const decoder = new TextDecoder();

function runSync(argv: readonly string[]): CommandResult {
  const [program, ...args] = argv;
  try {
    const out = new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).outputSync();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } catch (error) {
    return { code: 127, stdout: "", stderr: `${program}: ${(error as Error).message}` };
  }
}

async function run(argv: readonly string[]): Promise<CommandResult> {
  const [program, ...args] = argv;
  try {
    const out = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" })
      .output();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } catch (error) {
    return { code: 127, stdout: "", stderr: `${program}: ${(error as Error).message}` };
  }
}

/** Runs argv; throws with the command line and its stderr when it fails. */
export async function exec(argv: readonly string[]): Promise<string> {
  const result = await run(argv);
  if (result.code !== 0) {
    throw new Error(`${argv.join(" ")}: ${result.stderr.trim() || `exit ${result.code}`}`);
  }
  return result.stdout;
}

/** A process started inside a namespace, its output going to a file. */
export interface DemoProcess {
  readonly label: string;
  readonly child: Deno.ChildProcess;
  readonly logPath: string;
  exited: boolean;
  readonly status: Promise<Deno.CommandStatus>;
}

export class DemoNamespace {
  readonly name: string;
  readonly label: string;
  readonly #net: DemoNetwork;

  constructor(net: DemoNetwork, name: string, label: string) {
    this.#net = net;
    this.name = name;
    this.label = label;
  }

  ip(args: readonly string[]): Promise<string> {
    return exec(["ip", "-n", this.name, ...args]);
  }

  addr(ifname: string, cidr: string): Promise<string> {
    return this.ip(["addr", "add", cidr, "dev", ifname]);
  }

  route(args: readonly string[]): Promise<string> {
    return this.ip(["route", "add", ...args]);
  }

  /** Through /proc/sys (per namespace for net.*), so procps need not be installed. */
  sysctl(key: string, value: string | number): Promise<string> {
    const path = `/proc/sys/${key.replaceAll(".", "/")}`;
    return exec([
      "ip",
      "netns",
      "exec",
      this.name,
      "sh",
      "-c",
      'echo "$1" > "$2"',
      "sh",
      `${value}`,
      path,
    ]);
  }

  /** Starts argv in this namespace (its own process group), output to `logPath`. */
  spawn(argv: readonly string[], label: string): DemoProcess {
    return this.#net.spawnIn(this, argv, label);
  }
}

export class DemoNetwork {
  readonly prefix: string;
  readonly tmpDir: string;
  readonly namespaces: DemoNamespace[] = [];
  readonly processes: DemoProcess[] = [];
  #torndown = false;

  private constructor(prefix: string, tmpDir: string) {
    this.prefix = prefix;
    this.tmpDir = tmpDir;
  }

  static async create(): Promise<DemoNetwork> {
    const rand = crypto.getRandomValues(new Uint8Array(2));
    const prefix = `pfdemo${Deno.pid.toString(36)}${rand[0].toString(36)}${rand[1].toString(36)}`;
    const tmpDir = await Deno.makeTempDir({ prefix: `${prefix}-` });
    return new DemoNetwork(prefix, tmpDir);
  }

  path(name: string): string {
    return `${this.tmpDir}/${name}`;
  }

  async namespace(label: string): Promise<DemoNamespace> {
    const ns = new DemoNamespace(this, `${this.prefix}-${label}`, label);
    await exec(["ip", "netns", "add", ns.name]);
    this.namespaces.push(ns);
    await ns.ip(["link", "set", "lo", "up"]);
    return ns;
  }

  /** A veth pair from `a:ifA` to `b:ifB`, created in place and set up. */
  async link(a: DemoNamespace, ifA: string, b: DemoNamespace, ifB: string): Promise<void> {
    await exec([
      "ip",
      "-n",
      a.name,
      "link",
      "add",
      ifA,
      "type",
      "veth",
      "peer",
      "name",
      ifB,
      "netns",
      b.name,
    ]);
    await a.ip(["link", "set", ifA, "up"]);
    await b.ip(["link", "set", ifB, "up"]);
  }

  /** A bridge in `ns` over `ports`, forwarding at once (no STP). */
  async bridge(ns: DemoNamespace, name: string, ports: readonly string[]): Promise<void> {
    await ns.ip(["link", "add", name, "type", "bridge", "stp_state", "0", "forward_delay", "0"]);
    for (const port of ports) await ns.ip(["link", "set", port, "master", name]);
    await ns.ip(["link", "set", name, "up"]);
  }

  spawnIn(ns: DemoNamespace, argv: readonly string[], label: string): DemoProcess {
    const logPath = this.path(`${ns.label}-${label}.log`);
    // The shell sends both streams straight to the file and then becomes the
    // program (exec), so the file can be read at any time and the pid is the
    // program's own; setsid gives it its own process group.
    const child = new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        ns.name,
        "setsid",
        "sh",
        "-c",
        'exec "$@" >"$0" 2>&1',
        logPath,
        ...argv,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const proc: DemoProcess = {
      label: `${ns.label}/${label}`,
      child,
      logPath,
      exited: false,
      status: child.status.finally(() => {
        proc.exited = true;
      }),
    };
    this.processes.push(proc);
    return proc;
  }

  /** Everything a process logged so far. */
  log(proc: DemoProcess): string {
    try {
      return Deno.readTextFileSync(proc.logPath);
    } catch {
      return "";
    }
  }

  /**
   * Kills every process (group) started here and every process still inside
   * a namespace, deletes the namespaces (their veths go with them) and the
   * temp dir. Synchronous, so a signal handler can run it; safe to call twice.
   */
  teardownSync(options: { keepTmp?: boolean } = {}): void {
    if (this.#torndown) return;
    this.#torndown = true;
    for (const proc of this.processes) {
      if (proc.exited) continue;
      try {
        // setsid made the child (ip netns exec → setsid → argv) a group leader
        // only after exec; signal both the pid and its group.
        Deno.kill(proc.child.pid, "SIGKILL");
      } catch { /* gone */ }
    }
    for (const ns of this.namespaces) {
      const pids = runSync(["ip", "netns", "pids", ns.name]).stdout.split(/\s+/).filter(Boolean);
      for (const pid of pids) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch { /* gone */ }
      }
    }
    for (const ns of [...this.namespaces].reverse()) runSync(["ip", "netns", "del", ns.name]);
    if (!options.keepTmp) {
      try {
        Deno.removeSync(this.tmpDir, { recursive: true });
      } catch { /* already gone */ }
    }
  }

  /** Namespaces of this run still present (for tests and the final check). */
  leftovers(): string[] {
    const listed = runSync(["ip", "netns", "list"]).stdout;
    return this.namespaces.map((ns) => ns.name).filter((name) =>
      listed.split("\n").some((line) => line.split(" ")[0] === name)
    );
  }
}
