/**
 * Issue 8's fault-injection figures at the issue's sizes and durations (the
 * lab tests tests/lab/faults_*_test.ts run the same scenarios short):
 *
 * 1. 1 %, 10 %, 30 % loss (and 50 ± 50 ms jitter where the kernel has
 *    sch_netem) on the sync link while states churn: largest difference,
 *    whether the tables heal by themselves, time to heal with a bulk update.
 *    1b. 50 ± 50 ms jitter (and 50 ms jitter + 10 % loss) through a user-space
 *    NFQUEUE delay queue, since this kernel has no sch_netem: measured delay,
 *    reordering, largest difference, time to heal.
 * 2. The peer killed in the middle of a 100,000-state bulk update: with a
 *    peer that comes back, and with none (the requester gives up).
 * 3. The sync link down 30 s and up.
 * 4. The master's parent link flapping every second for a minute.
 * 5. The backup's agent restarted 20 times under churn.
 * 6. Two masters after a cut between them, healed: pfsyncd and ucarp 1.5.2
 *    side by side (the same advbase 1 / advskew 0 and 100).
 *
 *   deno run -A bench/faults/run.ts            prints the Markdown section
 *   deno run -A bench/faults/run.ts loss kill  runs only the named cases
 *
 * Every case runs in its own lab; a case that breaks a promise reports
 * "FAILED" with the reason in its row instead of figures.
 */
import { labSkipReason, sleep, withLab } from "../../tests/lab/lab.ts";
import { type Lab } from "../../tests/lab/lab.ts";
import type { TableDiff } from "../../tests/lab/fixtures/faults_common.ts";
import {
  bulkKillScenario,
  syncDownScenario,
  syncLossScenario,
} from "../../tests/lab/fixtures/faults_sync.ts";
import {
  backupRestartScenario,
  parentFlapScenario,
  twoMastersScenario,
} from "../../tests/lab/fixtures/faults_carp.ts";
import { carpLan, startUcarp, VIP } from "../../tests/lab/fixtures/carp_peers.ts";
import { type JitterResult, syncJitterScenario } from "../../tests/lab/fixtures/faults_jitter.ts";

const CASES = ["loss", "jitter", "kill", "down", "flap", "restart", "split"] as const;
type Case = typeof CASES[number];

const log = (line: string) => console.error(`faults: ${line}`);
const ms = (v: number) => (v < 0 ? "never" : `${Math.round(v)} ms`);
const diff = (d: TableDiff) => `${d.total} (−${d.missing} / +${d.extra} / ~${d.stale})`;

async function attempt(name: string, fn: (lab: Lab) => Promise<string[]>): Promise<string[]> {
  try {
    return await withLab(fn);
  } catch (error) {
    log(`${name} failed: ${(error as Error).stack ?? error}`);
    return [`**${name}: FAILED** — ${String((error as Error).message).split("\n")[0]}`, ""];
  }
}

async function lossCase(): Promise<string[]> {
  return await attempt("loss", async (lab) => {
    const { bulkMs, levels } = await syncLossScenario(lab, {
      initial: 10_000,
      levels: [1, 10, 30],
      perLevelMs: 20_000,
      churn: { inserts: 100, updates: 200, deletes: 50, periodMs: 100 },
      selfHealMs: 10_000,
    }, log);
    const method = levels[0]?.method ?? "";
    const rows = [
      "### 1. Loss on the sync link under churn (10,000 states, 20 s per level; each churn " +
      "round imports 100 new states and 200 updates and deletes 50, back to back, at most " +
      "10 rounds a second)",
      "",
      `Fault: ${
        method === "netem"
          ? "`tc netem loss N% delay 50ms 50ms` on both sync interfaces"
          : "nftables `numgen random` drop of protocol 240 on both sync interfaces — this kernel " +
            "has no sch_netem (CONFIG_NET_SCH_NETEM unset), so no jitter here: jitter is case 1b"
      }. The drop works both ways, so NACKs and repairs are lost too. The loss ends once A's send queues ` +
      "have drained under it (updates coalesce for up to 1 s); the time to equal is measured " +
      "from there, by polling both agents' `states.digest` every 10 ms and confirming with a " +
      `full comparison. One bulk update of the table took ${ms(bulkMs)}. Difference = ` +
      "−missing on B / +extra on B (deletes lost) / ~stale on B (updates lost).",
      "",
      "| loss | churn rounds | largest difference | equal by themselves after the loss ends " +
      "(else left after 10 s) | lost packets repaired by NACK / lost for good / " +
      "loss-triggered bulk updates | NACKs sent / states re-sent | `resync`: equal after | " +
      "left after resync |",
      "| ---: | ---: | --- | --- | --- | --- | ---: | --- |",
    ];
    for (const r of levels) {
      rows.push(
        `| ${r.level} % | ${r.rounds} | ${diff(r.largestDiff)} | ${
          r.selfHealMs >= 0 ? ms(r.selfHealMs) : diff(r.leftWithoutResync)
        } | ${r.repaired} / ${r.lostForGood} / ${r.bulkRequests} | ${r.nacks} / ${r.repairs} | ${
          r.selfHealMs >= 0 ? "not needed" : ms(r.resyncHealMs)
        } | ${diff(r.leftAfterResync)} |`,
      );
    }
    const selfHealed = levels.filter((r) => r.selfHealMs >= 0).length;
    rows.push(
      "",
      `Finding: ${selfHealed} of ${levels.length} levels became equal by themselves, ` +
        "without `resync`. pfsync has no acknowledgement; pfsyncd's sequence trailer shows the " +
        "backup which packets never arrived, it NACKs them (10 ms after the gap, longer when " +
        "the link reorders), and the master re-sends the states those packets carried as they " +
        "are now (a full update, or a delete for a state that is gone). Packets the master no " +
        "longer remembers, or that stay missing for 30 s, fall back to a bulk update once the " +
        "link is quiet, whose end purges the learned states the master no longer has.",
      "",
    );
    return rows;
  });
}

/** The jitter rows: 50 ± 50 ms, then the same with 10 % loss, each in its own lab. */
const JITTER_LEVELS = [{ lossPct: 0 }, { lossPct: 10 }] as const;

function jitterRow(lossPct: number, r: JitterResult): string {
  const f = (v: number) => v.toFixed(1);
  const d = r.oneWay;
  const ping = r.ping ? `${f(r.ping.min)} / ${f(r.ping.avg)} / ${f(r.ping.max)} ms` : "—";
  const left = r.selfHealMs >= 0
    ? "none"
    : `${diff(r.leftWithoutResync)}; ${r.overtakenDeletes} deletes overtaken by an older INS/UPD`;
  const resync = r.selfHealMs >= 0
    ? "not needed"
    : r.resyncHealMs! >= 0
    ? ms(r.resyncHealMs!)
    : `never (${diff(r.leftAfterResync!)})`;
  return `| 50 ± 50 ms${
    lossPct ? ` + ${lossPct} % loss` : ""
  } | ${r.rounds} | ${r.queued} (${r.dropped}` +
    ` / ${r.sendErrors}) | ${f(d.mean)} (${f(d.p10)}–${f(d.p90)}, max ${f(d.max)}); ` +
    `timers late ${f(r.queueLateMeanMs)} / ${f(r.queueLateMaxMs)} | ` +
    `${r.reordered}${r.captureDrops ? ` (captures dropped ${r.captureDrops})` : ""} | ` +
    `${r.seqgaps} / ${r.bulkRequests} | ${ping} | ${diff(r.largestDiff)} | ${ms(r.coveredMs)} | ` +
    `${ms(r.selfHealMs)} | ${left} | ${resync} |`;
}

async function jitterCase(): Promise<string[]> {
  const rows = [
    "### 1b. Delay with jitter on the sync link under churn (10,000 states, 20 s per row, " +
    "churn as in 1)",
    "",
    "Fault: this kernel has no sch_netem, so A's pfsync packets to B (and a ping) go through " +
    "an iptables `NFQUEUE` rule on the sync switch's bridge (br_netfilter FORWARD) to a " +
    "user-space delay queue (`tests/lab/fixtures/nfqueue_delay.ts`, `lib/netlink/nfqueue.ts`) " +
    "that holds each packet for its own delay drawn from U[0, 100] ms (50 ± 50 ms) and drops " +
    "the given share; independent delays reorder packets, as netem's jitter does. The delay " +
    "is measured, not assumed: the switch captures each pfsync packet coming in from A and " +
    "going out to B (matched by payload hash, only packets sent while the rule was in place). " +
    "Difference = −missing on B / +extra on B / ~stale on B.",
    "",
    "| fault | churn rounds | pfsync packets (dropped / send errors on A) | one-way delay, ms: " +
    "mean (p10–p90, max); queue timers late, mean / max | arrived out of order | B: packets " +
    "taken for lost / bulk requests for gaps | ping rtt min / avg / max | largest difference | " +
    "every state of A on B after | equal by themselves after | left after 5 s | `resync`: equal " +
    "after |",
    "| --- | ---: | ---: | --- | ---: | ---: | --- | --- | ---: | ---: | --- | ---: |",
  ];
  for (const { lossPct } of JITTER_LEVELS) {
    const name = `jitter${lossPct ? ` + ${lossPct} % loss` : ""}`;
    rows.push(
      ...await attempt(name, async (lab) => {
        const r = await syncJitterScenario(lab, {
          initial: 10_000,
          durationMs: 20_000,
          churn: { inserts: 100, updates: 200, deletes: 50, periodMs: 100 },
          baseMs: 50,
          jitterMs: 50,
          lossPct,
          selfHealMs: 5_000,
          pings: 100,
          resyncHealMs: 15_000,
        }, log);
        return [jitterRow(lossPct, r)];
      }),
    );
  }
  rows.push(
    "",
    "Times are from the end of the fault (the NFQUEUE rule removed once A's send queues " +
      "drained under it; packets the queue still holds then arrive with their delay). " +
      "Reordering loses " +
      "nothing, with one trap: a delete that overtakes its state's insert or update would let " +
      "the late record create a state the master no longer has; the backup remembers deleted " +
      "states for 2 s (lib/pfsync/tombstones.ts) and refuses such records (counted `stale`). " +
      "The queue is on the switch, not on A's OUTPUT hook, because a packet held there " +
      "still counts against A's socket send buffer (netem orphans what it holds): a bulk " +
      "update's burst then fails with ENOBUFS after ~2 × SO_SNDBUF (185 of 3,000 " +
      'back-to-back sends got out), loss the fault would not cause. "Timers late" is how ' +
      "much later than drawn the queue released packets on this loaded 2-core machine.",
    "",
  );
  return rows;
}

async function killCase(): Promise<string[]> {
  const rows = [
    "### 2. Peer killed in the middle of a 100,000-state bulk update",
    "",
    "A serves B a bulk update over a 10 Mbit/s sync link (tbf), and is SIGKILLed with its sync " +
    "link taken down (its queue dropped) once B holds a few thousand states.",
    "",
    "| peer after the kill | states at kill | retries | demotion released after the kill | " +
    "outcome (log) | B's table at the end |",
    "| --- | ---: | ---: | ---: | --- | ---: |",
  ];
  for (const restartPeer of [true, false]) {
    const r = await attempt(`kill (${restartPeer ? "peer back" : "no peer"})`, async (lab) => {
      const k = await bulkKillScenario(
        lab,
        { states: 100_000, rate: "10mbit", restartPeer },
        log,
      );
      return [
        `| ${
          restartPeer ? "back at once with the same states" : "none"
        } | ${k.receivedAtKill} | ${k.retries} | ${ms(k.releaseMs)} | ${
          k.outcome.replace(/\s*component=\S+/, "")
        } | ${k.finalCount} |`,
      ];
    });
    rows.push(...r);
  }
  rows.push(
    "",
    "The first retry comes a state-limit wait after BUS START (10,000 states / 6 a packet × " +
      "10 ms ≈ 16.7 s), then every 5 s; after 12 the requester gives up and releases the demotion.",
    "",
  );
  return rows;
}

async function downCase(): Promise<string[]> {
  return await attempt("down", async (lab) => {
    const r = await syncDownScenario(lab, {
      initial: 10_000,
      downMs: 30_000,
      churn: { inserts: 100, updates: 200, deletes: 50, periodMs: 100 },
    }, log);
    return [
      "### 3. Sync link down 30 s, then up (10,000 states, churn as in 1)",
      "",
      "| churn rounds | difference at link up | bulk update requested on link up | " +
      "equal after link up | left |",
      "| ---: | --- | --- | ---: | --- |",
      `| ${r.rounds} | ${diff(r.diffAtLinkUp)} | ${r.bulkRequested ? "yes" : "no"} | ${
        ms(r.healMs)
      } | ${diff(r.left)} |`,
      "",
    ];
  });
}

async function flapCase(): Promise<string[]> {
  return await attempt("flap", async (lab) => {
    const r = await parentFlapScenario(lab, { flapMs: 60_000, downMs: 500 }, log);
    return [
      "### 4. The master's parent link flapping every second for a minute",
      "",
      "| flaps | samples with two MASTERs while flapping | one MASTER with the VIP, demotion 0, " +
      "after the last link up | demotion changes logged |",
      "| ---: | ---: | ---: | ---: |",
      `| ${r.flaps} | ${r.bothMasterSamples} | ${ms(r.settleMs)} | ${r.demotionLines} |`,
      "",
      "A carrier change reaches the agent through the kernel's linkwatch, up to ~1 s late, so a " +
      "500 ms flap is often seen as down and up together.",
      "",
    ];
  });
}

async function restartCase(): Promise<string[]> {
  return await attempt("restart", async (lab) => {
    const r = await backupRestartScenario(lab, {
      states: 10_000,
      restarts: 20,
      churn: { inserts: 50, updates: 100, deletes: 20, periodMs: 200 },
    }, log);
    const sorted = [...r.fullTableMs].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    return [
      "### 5. The backup restarted 20 times under churn (10,000 states)",
      "",
      "| restarts | full table after (min / median / max) | samples with a failover | samples |",
      "| ---: | --- | ---: | ---: |",
      `| ${r.restarts} | ${ms(sorted[0])} / ${ms(pct(0.5))} / ${
        ms(sorted[sorted.length - 1])
      } | ${r.failoverSamples} | ${r.samples} |`,
      "",
    ];
  });
}

/** A ucarp pair on the same kind of LAN: B's bridge port out, back in, time to one master. */
async function ucarpSplit(lab: Lab): Promise<{ splitMs: number; healMs: number }> {
  const net = await carpLan(lab, { client: false });
  const common = { iface: "eth0", vhid: 1, pass: "benchpw", vip: VIP, preempt: true };
  const a = await startUcarp(net.fw1, lab, { ...common, srcip: net.addr.fw1, advskew: 0 });
  await a.waitForState("MASTER", 15_000);
  const b = await startUcarp(net.fw2, lab, { ...common, srcip: net.addr.fw2, advskew: 100 });
  await b.waitForState("BACKUP", 15_000);
  await sleep(1_000);
  const cut = performance.now();
  await net.lan.ip(["link", "set", "p2", "nomaster"]);
  const splitAt = await b.waitForState("MASTER", 15_000);
  await sleep(Math.max(0, 5_000 - (performance.now() - cut)));
  await net.lan.ip(["link", "set", "p2", "master", "br0"]);
  const heal = performance.now();
  const backAt = await b.waitForState("BACKUP", 15_000);
  if (a.state() !== "MASTER") throw new Error(`ucarp A is ${a.state()} after the heal`);
  return { splitMs: splitAt - cut, healMs: backAt - heal };
}

async function splitCase(): Promise<string[]> {
  const reps = 3;
  const ours: { splitMs: number; healMs: number; reason: string }[] = [];
  const theirs: { splitMs: number; healMs: number }[] = [];
  const rows = [
    `### 6. Two masters after a cut, healed (${reps} runs each; advbase 1 s, advskew 0 / 100)`,
    "",
  ];
  for (let i = 0; i < reps; i++) {
    const r = await attempt("split (pfsyncd)", async (lab) => {
      const s = await twoMastersScenario(lab, { cutMs: 5_000 }, log);
      ours.push({ splitMs: s.splitMs, healMs: s.healMs, reason: s.reason });
      return [];
    });
    rows.push(...r);
    const u = await attempt("split (ucarp)", async (lab) => {
      theirs.push(await ucarpSplit(lab));
      return [];
    });
    rows.push(...u);
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.floor(s.length / 2)] : NaN;
  };
  const oursHeal = median(ours.map((s) => s.healMs));
  const theirHeal = median(theirs.map((s) => s.healMs));
  rows.push(
    "| product | cut → second MASTER (median) | healed → one MASTER (median, all runs) | " +
      "ratio to ucarp | why (pfsyncd's status reason) |",
    "| --- | ---: | --- | ---: | --- |",
    `| pfsyncd | ${ms(median(ours.map((s) => s.splitMs)))} | ${ms(oursHeal)} (${
      ours.map((s) => Math.round(s.healMs)).join(", ")
    }) | ${
      Number.isFinite(theirHeal) && theirHeal > 0 ? (oursHeal / theirHeal).toFixed(2) : "—"
    } | ${ours[0]?.reason ?? ""} |`,
    `| ucarp 1.5.2 | ${ms(median(theirs.map((s) => s.splitMs)))} | ${ms(theirHeal)} (${
      theirs.map((s) => Math.round(s.healMs)).join(", ")
    }) | 1.00 | (VIP removed by its down script) |`,
    "",
    "Target: one MASTER within one advertisement interval (1 s) of the heal.",
    "",
  );
  return rows;
}

export async function runFaultsBench(only: readonly string[] = []): Promise<string> {
  const skip = labSkipReason();
  if (skip) return `## faults\n\nnot run: ${skip}\n`;
  const wanted = new Set(only.filter((c) => (CASES as readonly string[]).includes(c)));
  const run = (c: Case) => wanted.size === 0 || wanted.has(c);
  const started = performance.now();
  const parts = ["## faults", ""];
  if (run("loss")) parts.push(...await lossCase());
  if (run("jitter")) parts.push(...await jitterCase());
  if (run("kill")) parts.push(...await killCase());
  if (run("down")) parts.push(...await downCase());
  if (run("flap")) parts.push(...await flapCase());
  if (run("restart")) parts.push(...await restartCase());
  if (run("split")) parts.push(...await splitCase());
  parts.push(`(${((performance.now() - started) / 60_000).toFixed(1)} min)`, "");
  return parts.join("\n");
}

if (import.meta.main) {
  console.log(await runFaultsBench(Deno.args));
}
