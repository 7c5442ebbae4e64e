/**
 * Issue 8's soak run with the CONNTRACK provider: two firewalls in the
 * conntrack lab's topology (tests/lab/fixtures/ct_topology.ts: CARP on the
 * inside and outside LANs, A MASTER, B BACKUP, a sync link), each agent with
 * `provider: conntrack` over its own namespace's kernel table.
 *
 *   1. churn.ts (inside A) fills A's kernel with N flows (flows.ts: TCP
 *      ESTABLISHED mostly, some UDP, IPv4 and some IPv6, long timeouts);
 *      we wait until B's kernel holds them too.
 *   2. For the duration, every second: U flows updated (mark, timeout),
 *      R oldest deleted, R new created — A's kernel keeps N entries.
 *   3. Every 10 s: RSS and CPU of both agents (/proc), both kernels' counts
 *      (nf_conntrack_count inside each namespace), both agents' table sizes
 *      and error counters (`status`).
 *   4. At the end: both kernel tables compared by flow (`conntrack -L`),
 *      RSS growth last third vs middle third, error counters that grew and
 *      the agents' warnings that explain them.
 */
import type { StatusResult } from "../../lib/control/types.ts";
import { type LabAgent, startAgent } from "../../tests/lab/agent.ts";
import { buildCtLab, VIP_IN, VIP_OUT, waitBoth } from "../../tests/lab/fixtures/ct_topology.ts";
import { type Lab, type Ns, withLab } from "../../tests/lab/lab.ts";
import type { LabProcess } from "../../tests/lab/process.ts";
import { recordFigures } from "../report/record.ts";
import {
  cpuSeconds,
  errorCounters,
  errorSum,
  grownCounters,
  pct,
  rssKiB,
  rssSvg,
  type Sample,
  sleep,
  thirdsGrowth,
  writeRssSvg,
} from "./common.ts";
import { diffTables, diffTotal, formatTableDiff, parseListLine, type TableDiff } from "./flows.ts";

const CHURN = new URL("./churn.ts", import.meta.url);
const COUNT = "/proc/sys/net/netfilter/nf_conntrack_count";
const CT_MAX = "/proc/sys/net/netfilter/nf_conntrack_max";

export interface ConntrackSoakOptions {
  readonly minutes: number;
  readonly states: number;
  readonly sampleMs: number;
  /** Flows updated per second (default 1 % of the table). */
  readonly updates?: number;
  /** Flows deleted and as many created per second (default 0.5 % of the table). */
  readonly replace?: number;
}

/** pfsyncd.yaml of one firewall: the conntrack lab's two vhids, default sweep (30 s). */
export function soakYaml(hostid: number, advskew: number): string {
  const vhid = (id: number, parent: string, address: string) =>
    `  - {vhid: ${id}, parent: ${parent}, pass: soak, advbase: 1, advskew: ${advskew}, ` +
    `addresses: [${address}]}`;
  return [
    `hostid: ${hostid}`,
    "provider: conntrack",
    "log: {level: warning}",
    "sysctl: {preempt: true}",
    "pfsync: {syncif: sync0}",
    "carp:",
    vhid(1, "in0", VIP_IN),
    vhid(2, "out0", VIP_OUT),
  ].join("\n") + "\n";
}

async function kernelCount(ns: Ns): Promise<number> {
  return Number((await ns.exec(["cat", COUNT])).trim());
}

/** The lab's flows in `ns`'s kernel table: flow key → "STATE mark=N". */
async function flowTable(ns: Ns): Promise<Map<string, string>> {
  const out = await ns.run(["conntrack", "-L"], { timeoutMs: 60_000 });
  if (!out.success) throw new Error(`conntrack -L in ${ns.label}: ${out.stderr}`);
  const table = new Map<string, string>();
  for (const line of out.stdout.split("\n")) {
    const row = parseListLine(line);
    if (row) table.set(row.key, row.value);
  }
  return table;
}

async function diffKernels(a: Ns, b: Ns): Promise<TableDiff> {
  const [ta, tb] = await Promise.all([flowTable(a), flowTable(b)]);
  return diffTables(ta, tb);
}

/** What may explain a grown counter: the agent's log lines that name the event. */
const CAUSES: readonly [RegExp, RegExp][] = [
  [/^conntrack\.(overruns|resyncs|repaired)$/, /overrun|ENOBUFS|resync/i],
  [/^conntrack\.apply\.failed$/, /create|update|delete|apply|EEXIST|ENOENT|EBUSY|ENOMEM/i],
  [/^conntrack\.(malformed|incomplete)$/, /malformed|decode|incomplete/i],
  [/^pfsync\./, /pfsync|bulk/i],
  [/^carp\./, /carp/i],
];

function warnings(agent: LabAgent): string[] {
  return agent.log().split("\n").filter((l) => /\b(warning|error|critical)\b/i.test(l));
}

/**
 * Without an overrun no event is lost, and the sweep counts in `repaired` only
 * what a lookup by tuple confirmed (mirror.ts): a growth then is a finding.
 */
const SWEEP_RACE = "no event lost (overruns +0), yet the sweep confirmed a repair by lookup — " +
  "unexplained, see the agent's 'sweep repaired' warnings";

function explainGrowth(
  who: string,
  grown: readonly { name: string; by: number }[],
  logLines: readonly string[],
): string[] {
  const overran = grown.some((g) => g.name === "conntrack.overruns");
  return grown.map(({ name, by }) => {
    const re = CAUSES.find(([counter]) => counter.test(name))?.[1];
    const lines = re ? logLines.filter((l) => re.test(l)) : [];
    let cause = lines.length
      ? `cause logged ${lines.length}×: “${lines[0].replace(/^\S+\s+/, "").slice(0, 140)}”`
      : "no cause logged";
    if (!lines.length && name === "conntrack.repaired" && !overran) cause = SWEEP_RACE;
    return `${who} ${name} +${by} (${cause})`;
  });
}

function churnArgs(o: Required<ConntrackSoakOptions>, go: string, stop: string): string[] {
  return [
    "--states",
    `${o.states}`,
    "--updates",
    `${o.updates}`,
    "--replace",
    `${o.replace}`,
    "--period-ms",
    "1000",
    "--go",
    go,
    "--stop",
    stop,
  ];
}

interface ChurnSummary {
  rounds: number;
  seconds: number;
  created: number;
  updated: number;
  deleted: number;
  failures: Record<string, number>;
  late: number;
  maxRoundMs: number;
}

async function churnEvent<T>(proc: LabProcess, event: string, timeoutMs: number): Promise<T> {
  await proc.waitForOutput(new RegExp(`"event":"${event}"`), timeoutMs);
  return proc.jsonLines<T & { event: string }>().find((l) => l.event === event)!;
}

/** Raises nf_conntrack_max (init namespace) when it is below `need`; returns the restore. */
async function ensureCtMax(need: number, log: (s: string) => void): Promise<() => Promise<void>> {
  const before = Number((await Deno.readTextFile(CT_MAX)).trim());
  if (before >= need) return () => Promise.resolve();
  await Deno.writeTextFile(CT_MAX, `${need}\n`);
  log(`nf_conntrack_max ${before} → ${need} for the run`);
  return async () => {
    await Deno.writeTextFile(CT_MAX, `${before}\n`);
    log(`nf_conntrack_max restored to ${before}`);
  };
}

export async function runConntrackSoak(options: ConntrackSoakOptions): Promise<string> {
  const o: Required<ConntrackSoakOptions> = {
    updates: Math.max(1, Math.round(options.states / 100)),
    replace: Math.max(1, Math.round(options.states / 200)),
    ...options,
  };
  const log = (line: string) => console.error(`soak: ${line}`);
  // Each namespace counts against the init namespace's limit: room for N and the churn.
  const restoreMax = await ensureCtMax(Math.ceil(o.states * 1.25) + 10_000, log);
  try {
    return await withLab((lab) => soak(lab, o, log));
  } finally {
    await restoreMax();
  }
}

async function soak(
  lab: Lab,
  o: Required<ConntrackSoakOptions>,
  log: (s: string) => void,
): Promise<string> {
  const net = await buildCtLab(lab);
  const { fwa, fwb } = net;
  const a = await startAgent(fwa, lab, { yaml: soakYaml(1, 0), label: "pfsyncd-a" });
  await waitBoth(a, "MASTER");
  const b = await startAgent(fwb, lab, { yaml: soakYaml(2, 100), label: "pfsyncd-b" });
  await waitBoth(b, "BACKUP");
  const fail = (what: string): never => {
    throw new Error(
      `${what}\n--- A log ---\n${a.log().slice(-4000)}\n--- B log ---\n${b.log().slice(-4000)}`,
    );
  };
  const [a0, b0] = await Promise.all([a.status(), b.status()]);
  const pidA = a0.pid, pidB = b0.pid;
  const baseB = await kernelCount(fwb);

  // 1. Fill A's kernel; wait for B's.
  const go = lab.tempPath("soak.go"), stop = lab.tempPath("soak.stop");
  const fillStart = Date.now();
  const churn = fwa.spawnDeno(CHURN, churnArgs(o, go, stop), { label: "soak-churn" });
  const filled = await churnEvent<{ count: number; failed: number; ms: number; at: number }>(
    churn,
    "filled",
    120_000,
  ).catch((e) => fail(`fill: ${e.message}\n${churn.output().stderr}`));
  if (filled.failed > 0) fail(`fill: ${filled.failed} creates failed on A`);
  let onB = 0;
  const deadline = Date.now() + 180_000;
  while ((onB = (await kernelCount(fwb)) - baseB) < o.states) {
    if (Date.now() > deadline) fail(`B's kernel holds ${onB} of ${o.states} after 180 s`);
    await sleep(200);
  }
  const syncedAt = Date.now();
  log(
    `${o.states} entries in A's kernel in ${filled.ms} ms, in B's after ` +
      `${((syncedAt - fillStart) / 1000).toFixed(1)} s`,
  );
  const [a1, b1] = await Promise.all([a.status(), b.status()]);

  // 2./3. Churn and sample.
  const samples: Sample[] = [];
  /** A sample that fails (agent too busy to answer, or gone) is recorded as missing. */
  const missed: string[] = [];
  const attempt = async <T>(what: string, f: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await f();
    } catch (error) {
      missed.push(`${what}: ${(error as Error).message.split("\n")[0]}`);
      return undefined;
    }
  };
  const cpu0 = { a: cpuSeconds(pidA), b: cpuSeconds(pidB) };
  await Deno.writeTextFile(go, "go\n");
  const started = performance.now();
  const end = started + o.minutes * 60_000;
  let last: [StatusResult, StatusResult] = [a1, b1];
  while (true) {
    const t = (performance.now() - started) / 1000;
    const [sa, sb, ka, kb] = await Promise.all([
      attempt("status A", () => a.status()),
      attempt("status B", () => b.status()),
      attempt("count A", () => kernelCount(fwa)),
      attempt("count B", () => kernelCount(fwb)),
    ]);
    last = [sa ?? last[0], sb ?? last[1]];
    const s: Sample = {
      t,
      rssA: rssKiB(pidA),
      rssB: rssKiB(pidB),
      statesA: sa?.states.count ?? NaN,
      statesB: sb?.states.count ?? NaN,
      cpuA: cpuSeconds(pidA),
      cpuB: cpuSeconds(pidB),
      kernelA: ka ?? NaN,
      kernelB: kb ?? NaN,
      errorsA: sa ? errorSum(sa) : NaN,
      errorsB: sb ? errorSum(sb) : NaN,
    };
    samples.push(s);
    log(
      `${(t / 60).toFixed(1)} min: RSS A ${(s.rssA / 1024).toFixed(1)} MiB, B ${
        (s.rssB / 1024).toFixed(1)
      } MiB; kernel ${ka} / ${kb}; agents ${s.statesA} / ${s.statesB}; errors ${s.errorsA} / ${s.errorsB}`,
    );
    if (churn.exited) fail(`the churn process exited: ${churn.output().stderr}`);
    if (performance.now() >= end) break;
    await sleep(Math.min(o.sampleMs, end - performance.now()));
  }
  await Deno.writeTextFile(stop, "stop\n");
  const summary = await churnEvent<ChurnSummary>(churn, "summary", 30_000);
  const churnSeconds = summary.seconds;
  const cpu1 = { a: cpuSeconds(pidA), b: cpuSeconds(pidB) };
  const [a2, b2] = last;

  // 4. Settle and compare the kernel tables by flow.
  const settleStart = performance.now();
  let diff = await diffKernels(fwa, fwb);
  let settledMs = -1;
  while (true) {
    // Marks too: a mark changed in the last second of churn waits in A's update queue (updates
    // coalesce for the 1 s send interval) — give it that second before calling it lost.
    if (diffTotal(diff) === 0 && settledMs < 0) settledMs = performance.now() - settleStart;
    if (settledMs >= 0 && (diff.markOnly === 0 || performance.now() - settleStart > 5_000)) break;
    if (performance.now() - settleStart > 60_000) break;
    await sleep(1000);
    diff = await diffKernels(fwa, fwb);
  }
  if (diffTotal(diff) > 0) log(`tables differ: ${diff.examples.join("; ")}`);
  const [a3, b3] = [
    (await attempt("status A", () => a.status())) ?? last[0],
    (await attempt("status B", () => b.status())) ?? last[1],
  ];

  const fillGrowth = [
    ...explainGrowth("A", grownCounters(errorCounters(a0), errorCounters(a1)), warnings(a)),
    ...explainGrowth("B", grownCounters(errorCounters(b0), errorCounters(b1)), warnings(b)),
  ];
  const runGrowth = [
    ...explainGrowth("A", grownCounters(errorCounters(a1), errorCounters(a3)), warnings(a)),
    ...explainGrowth("B", grownCounters(errorCounters(b1), errorCounters(b3)), warnings(b)),
  ];
  const gA = thirdsGrowth(samples, (s) => s.rssA), gB = thirdsGrowth(samples, (s) => s.rssB);
  await writeRssSvg(rssSvg(samples, "conntrack provider"));

  const changesPerRound = o.updates + 2 * o.replace;
  // The churn's own count of creates includes the fill.
  const changes = summary.updated + summary.deleted + summary.created - filled.count;
  const lags = samples.map((s) => Math.abs((s.kernelA ?? NaN) - (s.kernelB ?? NaN)))
    .filter(Number.isFinite);
  const cpuA = cpu1.a - cpu0.a, cpuB = cpu1.b - cpu0.b;
  const usPer = (cpu: number) => changes > 0 ? (cpu * 1e6) / changes : NaN;
  const range = (pick: (s: Sample) => number) => {
    const v = samples.map(pick).filter(Number.isFinite);
    return `${(Math.min(...v) / 1024).toFixed(1)}–${(Math.max(...v) / 1024).toFixed(1)} MiB`;
  };
  const cc = (s: StatusResult) => s.conntrack ?? {};
  const appliedOf = (key: string) => (cc(b3)[key] ?? NaN) - (cc(b1)[key] ?? NaN);
  // A delete of a flow B no longer has counts as "absent"; both are deletes A sent.
  const appliedDeletes = appliedOf("apply.deleted") + appliedOf("apply.absent");
  const appliedCreates = appliedOf("apply.created") + appliedOf("apply.recreated");
  const warnA = warnings(a), warnB = warnings(b);
  const failures = Object.entries(summary.failures).map(([k, v]) => `${k} ${v}`).join(", ");
  recordFigures("soak", {
    provider: "conntrack",
    minutes: o.minutes,
    states: o.states,
    changesPerSecond: changes / churnSeconds,
    rssGrowthA: gA,
    rssGrowthB: gB,
    cpuUsPerChangeA: usPer(cpuA),
    cpuUsPerChangeB: usPer(cpuB),
    tableDiff: diffTotal(diff),
    markDiff: diff.markOnly,
    settledMs,
    errorsGrown: runGrowth,
    samples: samples.map((s) => [Math.round(s.t), s.rssA, s.rssB]),
  });

  const num = (v: number) => v.toLocaleString("en");
  const rows = [
    "## soak",
    "",
    `Two agents with the conntrack provider (firewalls A and B of the conntrack lab: CARP on ` +
    `two LANs, A MASTER, pfsync on the sync link), ${num(o.states)} live kernel conntrack ` +
    `entries on A churning for ${o.minutes} min: each second ${num(o.updates)} updates ` +
    `(mark, timeout), ${num(o.replace)} deletes and ${num(o.replace)} creates through ` +
    `ctnetlink (bench/soak/churn.ts) — ${num(changesPerRound)} changes/s, ` +
    `${((100 * changesPerRound) / o.states).toFixed(1)} % of the table per second; ` +
    `flows: TCP ESTABLISHED 85 %, UDP 15 %; IPv4 80 %, IPv6 20 %. ` +
    `${samples.length} samples every ${o.sampleMs / 1000} s. Chart: bench/out/soak-rss.svg.`,
    "",
    "![RSS over time](out/soak-rss.svg)",
    "",
    `- RSS growth, last third vs middle third: A ${pct(gA)}, B ${pct(gB)} ` +
    `(${gA < 0.1 && gB < 0.1 ? "no growth" : "GROWING"}); range A ${range((s) => s.rssA)}, B ${
      range((s) => s.rssB)
    }`,
    `- fill: ${num(o.states)} entries created in A's kernel in ${
      (filled.ms / 1000).toFixed(1)
    } s, all in B's kernel ${((syncedAt - fillStart) / 1000).toFixed(1)} s after the start`,
    `- churn done: ${num(summary.rounds)} rounds in ${churnSeconds.toFixed(0)} s, ` +
    `${num(summary.updated)} updates, ${num(summary.deleted)} deletes, ${
      num(summary.created - filled.count)
    } creates (${(changes / churnSeconds).toFixed(0)} changes/s); ` +
    `${summary.late} rounds over 1 s (longest ${summary.maxRoundMs} ms); ` +
    `churn failures: ${failures || "none"}`,
    `- CPU during the churn: A ${(100 * cpuA / churnSeconds).toFixed(1)} % of a core ` +
    `(${usPer(cpuA).toFixed(1)} µs per changed entry), B ${
      (100 * cpuB / churnSeconds).toFixed(1)
    } % (${usPer(cpuB).toFixed(1)} µs per changed entry)`,
    `- kernel tables after the churn stopped (conntrack -L on both, by flow and TCP ` +
    `state): ${
      settledMs >= 0
        ? `equal after ${(settledMs / 1000).toFixed(1)} s (${num(diff.sizeA)} flows)`
        : formatTableDiff(diff)
    }; marks differ on ${num(diff.markOnly)} flows${
      diff.markOnly > 0
        ? " (a mark changed after creation that did not reach B; such updates go as full UPDs)"
        : ""
    }`,
    `- kernel counts A − B at the samples: largest difference ${Math.max(...lags)}, ` +
    `median ${lags.toSorted((x, y) => x - y)[lags.length >> 1]} (a round replaces ` +
    `${num(o.replace)} flows: B lags by what is still on the wire or in the sender's queue)`,
    `- B's kernel, applied during the run: ${num(appliedDeletes)} deletes for ` +
    `${num(summary.deleted)} made on A, ${num(appliedCreates)} creates for ${
      num(summary.created - filled.count)
    }${
      appliedDeletes === summary.deleted && appliedCreates === summary.created - filled.count
        ? " (exactly what A did)"
        : `: ${
          num(appliedDeletes - summary.deleted)
        } deletes more than A made (flows removed from B's kernel that A did not delete)`
    }; sweeps on A: ${num(cc(a3).sweepRaced ?? 0)} entries raced by their own event, ${
      num(cc(a3).sweepMissed ?? 0)
    } missed by a dump but found alive by lookup (informational)`,
    `- agent tables at the end: A ${num(a3.states.count)} states, B ${num(b3.states.count)}; ` +
    `A announced ${num(cc(a3).announced ?? NaN)}, B learned ${num(cc(b3).learned ?? NaN)}; ` +
    `B applied: created ${num(cc(b3)["apply.created"] ?? NaN)}, updated ${
      num(cc(b3)["apply.updated"] ?? NaN)
    }, deleted ${num(cc(b3)["apply.deleted"] ?? NaN)}, failed ${
      num(cc(b3)["apply.failed"] ?? NaN)
    }`,
    `- error counters grown during the run: ${runGrowth.length ? runGrowth.join("; ") : "none"}`,
    `- error counters grown during the fill (the ${num(o.states)}-entry burst, before the ` +
    `run): ${fillGrowth.length ? fillGrowth.join("; ") : "none"}`,
    `- agents running at the end: A ${a.proc.exited ? "NO (exited)" : "yes"}, B ${
      b.proc.exited ? "NO (exited)" : "yes"
    }; samples that failed: ${missed.length}${missed.length ? ` (first: ${missed[0]})` : ""}`,
    `- warnings logged: A ${warnA.length}, B ${warnB.length}${
      [
        ...warnA.slice(0, 2).map((l) => `; A: “${l.slice(0, 160)}”`),
        ...warnB.slice(0, 2).map((l) => `; B: “${l.slice(0, 160)}”`),
      ].join("")
    }`,
    `- at the last sample: A conntrack events ${num(cc(a2).events ?? NaN)} (overruns ${
      cc(a2).overruns ?? "?"
    }, resyncs ${cc(a2).resyncs ?? "?"}, refreshed ${cc(a2).refreshed ?? "?"}, repaired ${
      cc(a2).repaired ?? "?"
    }); pfsync A sent ${num(a2.pfsync.stats.opackets)} packets, B received ${
      num(b2.pfsync.stats.ipackets)
    }`,
    "",
    "| min | RSS A (MiB) | RSS B (MiB) | CPU A (%) | CPU B (%) | kernel A | kernel B | " +
    "states A | states B | errors A | errors B |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...samples.map((s, i) => {
      const prev = i > 0 ? samples[i - 1] : undefined;
      const cpu = (now?: number, before?: number) =>
        prev && now !== undefined && before !== undefined && s.t > prev.t
          ? ((100 * (now - before)) / (s.t - prev.t)).toFixed(1)
          : "—";
      return `| ${(s.t / 60).toFixed(1)} | ${(s.rssA / 1024).toFixed(1)} | ${
        (s.rssB / 1024).toFixed(1)
      } | ${cpu(s.cpuA, prev?.cpuA)} | ${
        cpu(s.cpuB, prev?.cpuB)
      } | ${s.kernelA} | ${s.kernelB} | ${s.statesA} | ${s.statesB} | ${s.errorsA} | ${s.errorsB} |`;
    }),
    "",
    `Kernel counts include the agents' own CARP and pfsync entries (a handful, never synced); ` +
    `B's agent table holds what it learned, A's what it announced.`,
    "",
  ];
  return rows.join("\n");
}
