/**
 * Starts a real `pfsyncd run` inside a lab namespace and talks to it: the
 * shared way for integration tests to run the agent.
 *
 *   const a = await startAgent(fw1, lab, { yaml: `hostid: 1\ncarp: […]` });
 *   await a.waitForVhid(1, "MASTER");
 *   const status = await a.status();          // the control socket's `status`
 *   const out = await a.cli(["states", "--json"]);  // main.ts <args> --control <sock>
 *
 * The YAML is written to the lab's temp dir; `control:` and `pidfile:` are
 * added when the text has no such top-level key, so tests need not invent
 * paths. The control socket is a path, not an address, so the test process
 * (in the host namespace) can call the agent directly.
 */
import { callAgent } from "../../lib/control/client.ts";
import type { CarpStateName, CarpVhidStatus, StatusResult } from "../../lib/control/types.ts";
import type { Lab } from "./lab.ts";
import type { Ns } from "./ns.ts";
import type { LabProcess } from "./process.ts";
import { type RunResult, waitFor } from "./util.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

export interface StartAgentOptions {
  /** pfsyncd.yaml text (passed with -c). */
  readonly yaml: string;
  /** sysctl.conf text (passed with -s), e.g. "net.inet.carp.preempt=1\n". */
  readonly sysctl?: string;
  /** rc.conf text (passed with -f); without it `-f /dev/null`. */
  readonly rcConf?: string;
  /** More arguments after `run …`. */
  readonly extraArgs?: readonly string[];
  /** Names the files and the process (default "pfsyncd"); unique per namespace. */
  readonly label?: string;
  /** Wait until the control socket answers `status` (default true). */
  readonly waitReady?: boolean;
  /** How long to wait for that (default 20 s: a cold `deno run` on a busy CI box). */
  readonly readyTimeoutMs?: number;
}

export interface LabAgent {
  readonly ns: Ns;
  readonly proc: LabProcess;
  /** Control socket path. */
  readonly control: string;
  readonly pidfile: string;
  readonly yamlPath: string;
  /** `status` over the control socket. */
  status(): Promise<StatusResult>;
  /** One vhid's entry in status (throws when it is not configured). */
  vhid(vhid: number, parent?: string): Promise<CarpVhidStatus>;
  /** Polls status until `vhid` is in `state`; resolves with performance.now() when seen. */
  waitForVhid(
    vhid: number,
    state: CarpStateName,
    options?: { timeoutMs?: number; parent?: string; intervalMs?: number },
  ): Promise<number>;
  /** `main.ts <args> --control <sock>` inside the namespace (a real CLI run); never throws. */
  cli(args: readonly string[]): Promise<RunResult>;
  /** Everything logged so far (stderr then stdout). */
  log(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; returns the exit code. */
  stop(graceMs?: number): Promise<number>;
}

/** Starts `pfsyncd run` in `ns` with the given files; see the module comment. */
export async function startAgent(
  ns: Ns,
  lab: Lab,
  options: StartAgentOptions,
): Promise<LabAgent> {
  const label = options.label ?? "pfsyncd";
  const base = `${ns.label}-${label}`;
  const control = lab.tempPath(`${base}.sock`);
  const pidfile = lab.tempPath(`${base}.pid`);
  const stateDir = lab.tempPath(`${base}.state`);
  await Deno.mkdir(stateDir, { recursive: true });

  let yaml = options.yaml.endsWith("\n") ? options.yaml : `${options.yaml}\n`;
  if (!/^control\s*:/m.test(yaml)) yaml += `control: ${control}\n`;
  if (!/^pidfile\s*:/m.test(yaml)) yaml += `pidfile: ${pidfile}\n`;
  const controlPath = yaml.match(/^control\s*:\s*(\S+)/m)![1];
  const pidPath = yaml.match(/^pidfile\s*:\s*(\S+)/m)![1];

  const yamlPath = lab.tempPath(`${base}.yaml`);
  await Deno.writeTextFile(yamlPath, yaml);
  const args = ["run", "-c", yamlPath, "--state-dir", stateDir];
  if (options.rcConf !== undefined) {
    const rcPath = lab.tempPath(`${base}.rc.conf`);
    await Deno.writeTextFile(rcPath, options.rcConf);
    args.push("-f", rcPath);
  } else {
    args.push("-f", "/dev/null");
  }
  if (options.sysctl !== undefined) {
    const sysctlPath = lab.tempPath(`${base}.sysctl.conf`);
    await Deno.writeTextFile(sysctlPath, options.sysctl);
    args.push("-s", sysctlPath);
  }
  args.push(...(options.extraArgs ?? []));

  const proc = ns.spawnDeno(MAIN, args, { label });
  const status = () => callAgent(controlPath, "status", {});
  const vhid = async (id: number, parent?: string) => {
    const found = (await status()).carp.find((v) =>
      v.vhid === id && (parent === undefined || v.interface === parent ||
        (v as { parent?: string }).parent === parent)
    );
    if (!found) {
      throw new Error(`${ns.label}: vhid ${id}${parent ? `@${parent}` : ""} not in status`);
    }
    return found;
  };
  const log = () => {
    const { stdout, stderr } = proc.output();
    return stderr + stdout;
  };
  const agent: LabAgent = {
    ns,
    proc,
    control: controlPath,
    pidfile: pidPath,
    yamlPath,
    status,
    vhid,
    async waitForVhid(id, state, opts = {}) {
      let last: string = "?";
      await waitFor(async () => {
        if (proc.exited) throw new Error(`${proc.label} exited:\n${log()}`);
        try {
          last = (await vhid(id, opts.parent)).state;
        } catch (error) {
          if (error instanceof Error && /not in status/.test(error.message)) throw error;
          return false; // control socket not up yet
        }
        return last === state;
      }, {
        timeoutMs: opts.timeoutMs ?? 10_000,
        intervalMs: opts.intervalMs ?? 20,
        message: `${ns.label}: vhid ${id} ${state} (last seen ${last})`,
      });
      return performance.now();
    },
    cli: (cliArgs) => ns.runDeno(MAIN, [...cliArgs, "--control", controlPath]),
    log,
    async stop(graceMs = 5_000) {
      return (await proc.stop(graceMs)).code;
    },
  };

  if (options.waitReady ?? true) {
    const timeoutMs = options.readyTimeoutMs ?? 20_000;
    try {
      await waitFor(async () => {
        if (proc.exited) return true;
        try {
          await status();
          return true;
        } catch {
          return false;
        }
      }, { timeoutMs, intervalMs: 25, message: `${ns.label}: ${label} control socket` });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${log()}`);
    }
    if (proc.exited) {
      throw new Error(`${proc.label} exited (code ${proc.status?.code}) at start:\n${log()}`);
    }
  }
  return agent;
}

/** One CARP vhid for `carpYaml`. */
export interface VhidSpec {
  readonly vhid: number;
  readonly parent: string;
  readonly addresses: readonly string[];
  readonly advbase?: number;
  readonly advskew?: number;
  readonly pass?: string;
}

/**
 * A minimal pfsyncd.yaml with CARP only (pfsync off, so no bulk-update
 * demotion), debug logging and, when `preempt` is given, the sysctl.
 */
export function carpYaml(
  hostid: number,
  vhids: readonly VhidSpec[],
  options: { preempt?: boolean; logLevel?: string } = {},
): string {
  const lines = [`hostid: ${hostid}`, `log: {level: ${options.logLevel ?? "debug"}}`];
  if (options.preempt !== undefined) lines.push(`sysctl: {preempt: ${options.preempt}}`);
  lines.push("carp:");
  for (const v of vhids) {
    const fields = [
      `vhid: ${v.vhid}`,
      `parent: ${v.parent}`,
      `advbase: ${v.advbase ?? 1}`,
      `advskew: ${v.advskew ?? 0}`,
      ...(v.pass !== undefined ? [`pass: ${JSON.stringify(v.pass)}`] : []),
      `addresses: [${v.addresses.join(", ")}]`,
    ];
    lines.push(`  - {${fields.join(", ")}}`);
  }
  return lines.join("\n") + "\n";
}
