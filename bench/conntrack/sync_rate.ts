/**
 * Issue 6's sync benchmark: N real conntrack entries created on firewall A
 * (one `conntrack -R` restore of ESTABLISHED TCP entries, the fastest way
 * peers.md names) → present in B's kernel table. Three runs per N, each in
 * fresh namespaces, in one process so the figures share the machine state:
 *
 *   kernel      the restore alone in an idle namespace: the kernel's own
 *               create rate, the bound the issue sets
 *   kernel-pair the restore in A and B at the same time: both kernels must
 *               create every entry, on the same two CPUs here — the bound a
 *               pair on one machine cannot beat
 *   pfsyncd     two agents (provider conntrack, pfsync on the sync link)
 *   conntrackd  two conntrackd 1.4.7 in FTFW mode over UDP on the same link,
 *               settings per peers.md, `DisableExternalCache On` so B writes
 *               straight into its kernel table like pfsyncd does
 *
 * "Present in B" is B's own nf_conntrack_count reaching N, watched from
 * inside B (count_watch.ts); the clock starts just before the restore on A.
 * CPU seconds (user + system) and resident memory are read from /proc for
 * each daemon.
 */
import { type LabAgent, startAgent } from "../../tests/lab/agent.ts";
import { type Lab, type Ns, sleep, waitFor, withLab } from "../../tests/lab/lab.ts";
import type { LabProcess } from "../../tests/lab/process.ts";
import { recordSeries, thin } from "../report/record.ts";

const WATCH = new URL("./count_watch.ts", import.meta.url);
const RULESET = "add table inet bench; " +
  "add chain inet bench pass { type filter hook forward priority 0; }; " +
  "add rule inet bench pass ct state established accept";

export interface ProcFigures {
  readonly cpuS: number;
  /** The user-space and kernel parts of cpuS. */
  readonly userS?: number;
  readonly sysS?: number;
  readonly rssMb: number;
  readonly peakMb: number;
}

export interface SyncRun {
  readonly system: "kernel" | "kernel-pair" | "pfsyncd" | "conntrackd";
  readonly n: number;
  /** Seconds from the start of the restore on A until B holds all N entries. */
  readonly seconds: number;
  readonly perSecond: number;
  /** The rate over the first 99 % (without the tail: pfsync flushes a partial packet after 1 s). */
  readonly perSecond99: number;
  /** Seconds until A itself held all N entries (the creation side's own rate). */
  readonly createSeconds: number;
  /** B's count at the end (short of N when it timed out). */
  readonly reached: number;
  readonly a?: ProcFigures;
  readonly b?: ProcFigures;
  readonly note?: string;
}

const CLK_TCK = 100;

/** utime + stime and VmRSS/VmHWM of one process. */
export function procFigures(pid: number): ProcFigures {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (key: string) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+)`, "m"))?.[1]);
  return {
    cpuS: ticks / CLK_TCK,
    userS: Number(fields[11]) / CLK_TCK,
    sysS: Number(fields[12]) / CLK_TCK,
    rssMb: kb("VmRSS") / 1024,
    peakMb: kb("VmHWM") / 1024,
  };
}

function delta(after: ProcFigures, before: ProcFigures): ProcFigures {
  return {
    ...after,
    cpuS: after.cpuS - before.cpuS,
    userS: (after.userS ?? 0) - (before.userS ?? 0),
    sysS: (after.sysS ?? 0) - (before.sysS ?? 0),
  };
}

/** `-I`-style restore lines for N distinct ESTABLISHED TCP flows 10.1/16 → 10.2.0.1:80. */
export function restoreFile(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const src = `10.1.${(i >> 8) & 255}.${i & 255}`;
    const sport = 1024 + (i >> 16);
    lines.push(
      `-I -s ${src} -d 10.2.0.1 -p tcp --sport ${sport} --dport 80 --state ESTABLISHED ` +
        `-t 600 -u SEEN_REPLY,ASSURED`,
    );
  }
  return lines.join("\n") + "\n";
}

async function firewall(ns: Ns, syncAddr: string): Promise<void> {
  await ns.addr("sync0", syncAddr);
  await ns.exec(["nft", RULESET]);
  await ns.sysctl("net.netfilter.nf_conntrack_events", 1);
}

async function pair(lab: Lab): Promise<{ a: Ns; b: Ns }> {
  const a = await lab.namespace("cta");
  const b = await lab.namespace("ctb");
  await lab.link(a, "sync0", b, "sync0");
  await firewall(a, "10.99.0.1/30");
  await firewall(b, "10.99.0.2/30");
  return { a, b };
}

async function tableCount(ns: Ns): Promise<number> {
  return Number((await ns.exec(["cat", "/proc/sys/net/netfilter/nf_conntrack_count"])).trim());
}

/** Starts a watcher in `ns` for `target` entries; resolves once it polls. */
async function watch(
  ns: Ns,
  target: number,
  label: string,
  timeoutMs: number,
): Promise<LabProcess> {
  const proc = ns.spawnDeno(WATCH, [String(target), String(timeoutMs)], { label });
  await proc.waitForOutput(/"ready"/, 20_000);
  return proc;
}

async function watched(
  proc: LabProcess,
  timeoutMs: number,
): Promise<{ at: number; almostAt: number; n: number; samples: [number, number][] }> {
  await proc.waitForOutput(/"reached"|"timeout"/, timeoutMs);
  const lines = proc.jsonLines<
    { reached?: number; almost?: number; t?: number; count: number }
  >();
  const last = lines.at(-1)!;
  const almost = lines.find((l) => l.almost !== undefined)?.almost;
  const samples = lines.filter((l) => l.t !== undefined).map((l): [number, number] => [
    l.t!,
    l.count,
  ]);
  if (last.reached !== undefined) samples.push([last.reached, last.count]);
  return { at: last.reached ?? NaN, almostAt: almost ?? NaN, n: last.count, samples };
}

/** Restores `file` into A and waits until A and B hold N more entries than now. */
async function measure(
  a: Ns,
  b: Ns,
  file: string,
  n: number,
  timeoutMs: number,
): Promise<
  {
    seconds: number;
    seconds99: number;
    createSeconds: number;
    reached: number;
    /** B's count above its base over seconds since the start (for the report's plot). */
    curve: [number, number][];
  }
> {
  const baseA = await tableCount(a);
  const baseB = await tableCount(b);
  const onA = await watch(a, baseA + n, "watch-a", timeoutMs);
  const onB = a === b ? onA : await watch(b, baseB + n, "watch-b", timeoutMs);
  const start = Date.now();
  const restore = await a.run(["conntrack", "-R", file], { timeoutMs: 120_000 });
  if (!restore.success) throw new Error(`conntrack -R: ${restore.stderr}`);
  // The watchers give up after `timeoutMs` themselves and report how far they got.
  const createdAt = await watched(onA, timeoutMs + 20_000);
  const reached = await watched(onB, timeoutMs + 20_000);
  if (Deno.env.get("PFSYNCD_BENCH_CURVE")) {
    // The fill curves (seconds since the start, count above the base), for looking into a run.
    const curve = (w: typeof reached, base: number) =>
      w.samples.map(([t, c]) => `${((t - start) / 1000).toFixed(3)}:${c - base}`).join(" ");
    console.error(`A: ${curve(createdAt, baseA)}\nB: ${curve(reached, baseB)}`);
  }
  return {
    seconds: (reached.at - start) / 1000,
    seconds99: (reached.almostAt - start) / 1000,
    createSeconds: (createdAt.at - start) / 1000,
    reached: reached.n - baseB,
    curve: thin(
      reached.samples.filter(([t]) => t >= start).map(([t, c]) => [(t - start) / 1000, c - baseB]),
    ),
  };
}

async function kernelRun(n: number, file: string): Promise<SyncRun> {
  return await withLab(async (lab) => {
    const k = await lab.namespace("ctk");
    await k.exec(["nft", RULESET]);
    const m = await measure(k, k, file, n, 60_000);
    recordSeries({ kind: "live", system: "kernel", n, points: m.curve });
    return {
      system: "kernel",
      n,
      seconds: m.createSeconds,
      perSecond: n / m.createSeconds,
      perSecond99: (0.99 * n) / m.seconds99,
      createSeconds: m.createSeconds,
      reached: m.reached,
    };
  });
}

/**
 * The same restore in two namespaces at once, no daemon: what a synced pair
 * needs at the least — every entry created by both kernels — on the CPUs the
 * two firewalls share here. The clock stops when both tables hold N.
 */
async function kernelPairRun(n: number, file: string): Promise<SyncRun> {
  return await withLab(async (lab) => {
    const { a, b } = await pair(lab);
    const [baseA, baseB] = await Promise.all([tableCount(a), tableCount(b)]);
    const onA = await watch(a, baseA + n, "watch-a", 60_000);
    const onB = await watch(b, baseB + n, "watch-b", 60_000);
    const start = Date.now();
    const restores = await Promise.all(
      [a, b].map((ns) => ns.run(["conntrack", "-R", file], { timeoutMs: 120_000 })),
    );
    for (const r of restores) if (!r.success) throw new Error(`conntrack -R: ${r.stderr}`);
    const [ra, rb] = [await watched(onA, 80_000), await watched(onB, 80_000)];
    const seconds = (Math.max(ra.at, rb.at) - start) / 1000;
    const seconds99 = (Math.max(ra.almostAt, rb.almostAt) - start) / 1000;
    return {
      system: "kernel-pair",
      n,
      seconds,
      perSecond: n / seconds,
      perSecond99: (0.99 * n) / seconds99,
      createSeconds: (ra.at - start) / 1000,
      reached: Math.min(ra.n - baseA, rb.n - baseB),
    };
  });
}

/** What explains a shortfall: losses on each side, as the agents count them. */
async function pfsyncdNote(a: LabAgent, b: LabAgent): Promise<string> {
  const [sa, sb] = await Promise.all([a.status(), b.status()]);
  const ca = sa.conntrack ?? {};
  const cb = sb.conntrack ?? {};
  return `A: event overruns ${ca.overruns ?? "?"}, resyncs ${ca.resyncs ?? "?"}, pfsync sent ` +
    `${sa.pfsync.stats.opackets} packets; B: received ${sb.pfsync.stats.ipackets}, created ` +
    `${cb["apply.created"] ?? "?"}, failed ${cb["apply.failed"] ?? "?"}, event overruns ` +
    `${cb.overruns ?? "?"}`;
}

function agentYaml(hostid: number): string {
  return [
    `hostid: ${hostid}`,
    "provider: conntrack",
    "log: {level: warning}",
    "pfsync: {syncif: sync0}",
    "carp: []",
  ].join("\n") + "\n";
}

async function pfsyncdRun(n: number, file: string): Promise<SyncRun> {
  return await withLab(async (lab) => {
    const { a, b } = await pair(lab);
    const [agentA, agentB]: LabAgent[] = await Promise.all([
      startAgent(a, lab, { yaml: agentYaml(1) }),
      startAgent(b, lab, { yaml: agentYaml(2) }),
    ]);
    // Let both finish their start-up bulk exchange so it does not overlap the measurement.
    await waitFor(async () => {
      const [sa, sb] = await Promise.all([agentA.status(), agentB.status()]);
      return !sa.pfsync.bulk.holdingPreemption && !sb.pfsync.bulk.holdingPreemption;
    }, { timeoutMs: 30_000, message: "pfsyncd bulk exchange at start" });
    const beforeA = procFigures(agentA.proc.pid);
    const beforeB = procFigures(agentB.proc.pid);
    const m = await measure(a, b, file, n, 60_000).catch((error) => {
      throw new Error(`${error.message}\n--- A ---\n${agentA.log()}\n--- B ---\n${agentB.log()}`);
    });
    recordSeries({ kind: "live", system: "pfsyncd", n, points: m.curve });
    await sleep(200);
    return {
      system: "pfsyncd",
      n,
      seconds: m.seconds,
      perSecond: m.reached >= n ? n / m.seconds : NaN,
      perSecond99: (0.99 * n) / m.seconds99,
      createSeconds: m.createSeconds,
      reached: m.reached,
      a: delta(procFigures(agentA.proc.pid), beforeA),
      b: delta(procFigures(agentB.proc.pid), beforeB),
      note: await pfsyncdNote(agentA, agentB),
    };
  });
}

/**
 * conntrackd's FTFW configuration as peers.md ran it. `externalCache` off writes received
 * states straight into the kernel (the rate comparison); on, the backup needs the commit
 * sequence at takeover (the failover comparison). `ignore` lists the hosts' own addresses.
 */
export function conntrackdConf(
  lab: Lab,
  name: string,
  self: string,
  peer: string,
  options: { externalCache?: boolean; ignore?: readonly string[] } = {},
): string {
  const path = (file: string) => lab.tempPath(`${name}-${file}`);
  const ignore = ["127.0.0.1", "10.99.0.1", "10.99.0.2", ...(options.ignore ?? [])]
    .map((address) => `\t\t\tIPv4_address ${address}`).join("\n");
  return `Sync {
	Mode FTFW {
		DisableExternalCache ${options.externalCache ? "Off" : "On"}
	}
	UDP {
		IPv4_address ${self}
		IPv4_Destination_Address ${peer}
		Port 3780
		Interface sync0
		SndSocketBuffer 1249280
		RcvSocketBuffer 1249280
		Checksum on
	}
}
General {
	HashSize 262144
	HashLimit 4194304
	LogFile ${path("conntrackd.log")}
	Syslog off
	LockFile ${path("conntrackd.lock")}
	UNIX {
		Path ${path("conntrackd.sock")}
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
	Filter From Userspace {
		Address Ignore {
${ignore}
		}
	}
}
`;
}

/** Starts conntrackd in `ns` with the FTFW settings of peers.md; resolves when it answers. */
export async function startConntrackd(
  ns: Ns,
  lab: Lab,
  self: string,
  peer: string,
): Promise<{ proc: LabProcess; conf: string }> {
  const conf = lab.tempPath(`${ns.label}-conntrackd.conf`);
  await Deno.writeTextFile(conf, conntrackdConf(lab, ns.label, self, peer));
  const proc = ns.spawn(["conntrackd", "-C", conf], { label: "conntrackd" });
  await waitFor(async () => {
    if (proc.exited) throw new Error(`conntrackd exited: ${proc.output().stderr}`);
    return (await ns.run(["conntrackd", "-C", conf, "-s"])).success;
  }, { timeoutMs: 10_000, message: `conntrackd in ${ns.label}` });
  return { proc, conf };
}

async function conntrackdRun(n: number, file: string): Promise<SyncRun> {
  return await withLab(async (lab) => {
    const { a, b } = await pair(lab);
    const ctdA = await startConntrackd(a, lab, "10.99.0.1", "10.99.0.2");
    const ctdB = await startConntrackd(b, lab, "10.99.0.2", "10.99.0.1");
    await sleep(500);
    const beforeA = procFigures(ctdA.proc.pid);
    const beforeB = procFigures(ctdB.proc.pid);
    const m = await measure(a, b, file, n, 60_000);
    recordSeries({ kind: "live", system: "conntrackd", n, points: m.curve });
    await sleep(200);
    const runtime = await a.run(["conntrackd", "-C", ctdA.conf, "-s", "runtime"]);
    const overrun = runtime.stdout.match(/netlink overrun:\s*(\d+)/)?.[1] ?? "?";
    return {
      system: "conntrackd",
      n,
      seconds: m.seconds,
      perSecond: m.reached >= n ? n / m.seconds : NaN,
      perSecond99: (0.99 * n) / m.seconds99,
      createSeconds: m.createSeconds,
      reached: m.reached,
      a: delta(procFigures(ctdA.proc.pid), beforeA),
      b: delta(procFigures(ctdB.proc.pid), beforeB),
      note: `A: netlink overruns ${overrun}`,
    };
  });
}

/** The three runs for one N, kernel first. */
export async function syncRuns(
  n: number,
  systems: readonly SyncRun["system"][] = ["kernel", "kernel-pair", "pfsyncd", "conntrackd"],
): Promise<SyncRun[]> {
  const file = await Deno.makeTempFile({ prefix: "pfsyncd-ct-", suffix: ".restore" });
  try {
    await Deno.writeTextFile(file, restoreFile(n));
    const runs: SyncRun[] = [];
    const run = {
      kernel: kernelRun,
      "kernel-pair": kernelPairRun,
      pfsyncd: pfsyncdRun,
      conntrackd: conntrackdRun,
    };
    for (const system of systems) {
      try {
        runs.push(await run[system](n, file));
      } catch (error) {
        console.error(`conntrack bench: ${system}, N = ${n} failed: ${error}`);
      }
    }
    return runs;
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 10_000);
  const systems = Deno.args.slice(1) as SyncRun["system"][];
  for (const run of await syncRuns(n, systems.length ? systems : undefined)) {
    console.log(JSON.stringify(run));
  }
}
