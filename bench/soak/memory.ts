/**
 * The soak run with the MEMORY provider (`--provider memory`): two agents
 * (A MASTER, B BACKUP) on a sync link, N states imported into A through the
 * control socket and churned there (inserts, updates, deletes), synced to B
 * over pfsync. Compares the agents' tables (not kernel tables) at the end.
 */
import { withLab } from "../../tests/lab/lab.ts";
import {
  Churn,
  diffPair,
  formatDiff,
  importLines,
  lines,
  startPair,
  timeToEqual,
} from "../../tests/lab/fixtures/faults_common.ts";
import {
  errorCounters,
  grownCounters,
  pct,
  rssKiB,
  rssSvg,
  type Sample,
  thirdsGrowth,
  writeRssSvg,
} from "./common.ts";

export interface MemorySoakOptions {
  readonly minutes: number;
  readonly states: number;
  readonly sampleMs: number;
}

export async function runMemorySoak(options: MemorySoakOptions): Promise<string> {
  const { minutes, states, sampleMs } = options;
  const log = (line: string) => console.error(`soak: ${line}`);
  return await withLab(async (lab) => {
    const pair = await startPair(lab, { logLevel: "warning" });
    const t0 = performance.now();
    for (let i = 0; i < states; i += 30_000) {
      await importLines(pair.a, lines(i, Math.min(30_000, states - i)));
    }
    const first = await timeToEqual(pair, 120_000);
    if (first.ms < 0) throw new Error(`initial sync: ${formatDiff(first.last)}`);
    log(`${states} states on both after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const [a0, b0] = await Promise.all([pair.a.status(), pair.b.status()]);
    const pidA = a0.pid, pidB = b0.pid;
    // Per second ~ 1 % of the table updated, 0.2 % replaced: inserts and deletes balance.
    const per = Math.max(1, Math.round(states / 500));
    const churn = new Churn(() => pair.a, 0, states, {
      inserts: per,
      updates: per * 5,
      deletes: per,
      periodMs: 1000,
    }).start();
    const samples: Sample[] = [];
    const started = performance.now();
    const end = started + minutes * 60_000;
    while (true) {
      const [sa, sb] = await Promise.all([pair.a.status(), pair.b.status()]);
      samples.push({
        t: (performance.now() - started) / 1000,
        rssA: rssKiB(pidA),
        rssB: rssKiB(pidB),
        statesA: sa.states.count,
        statesB: sb.states.count,
      });
      const s = samples[samples.length - 1];
      log(
        `${(s.t / 60).toFixed(1)} min: RSS A ${(s.rssA / 1024).toFixed(1)} MiB, ` +
          `B ${(s.rssB / 1024).toFixed(1)} MiB; states ${s.statesA} / ${s.statesB}`,
      );
      if (performance.now() >= end) break;
      await new Promise((r) => setTimeout(r, Math.min(sampleMs, end - performance.now())));
    }
    await churn.stop();
    const settled = await timeToEqual(pair, 30_000);
    const [a1, b1] = await Promise.all([pair.a.status(), pair.b.status()]);
    const grown = [
      ...grownCounters(errorCounters(a0), errorCounters(a1)).map((g) => `A ${g.name} +${g.by}`),
      ...grownCounters(errorCounters(b0), errorCounters(b1)).map((g) => `B ${g.name} +${g.by}`),
    ];
    const gA = thirdsGrowth(samples, (s) => s.rssA), gB = thirdsGrowth(samples, (s) => s.rssB);
    await writeRssSvg(rssSvg(samples, "memory provider"));
    const rows = [
      "## soak",
      "",
      `Two agents, memory provider (\`--provider memory\`), ${states.toLocaleString("en")} ` +
      `live states on A churning for ` +
      `${minutes} min: each second ${per} inserts, ${per * 5} updates, ${per} deletes through ` +
      `the control socket, synced to B over pfsync. ${samples.length} samples every ` +
      `${sampleMs / 1000} s. Chart: bench/out/soak-rss.svg.`,
      "",
      "![RSS over time](out/soak-rss.svg)",
      "",
      `- RSS growth, last third vs middle third: A ${pct(gA)}, B ${pct(gB)} ` +
      `(${gA < 0.1 && gB < 0.1 ? "no growth" : "GROWING"}; a fall is the collector ` +
      `returning the import's garbage)`,
      `- tables after the churn stopped: ${
        settled.ms >= 0 ? `equal (${a1.states.count} states)` : formatDiff(settled.last)
      }`,
      `- error counters grown during the run: ${grown.length ? grown.join(", ") : "none"}`,
      `- churn rounds: ${churn.rounds}, deletes ${churn.deleted}`,
      "",
      "| min | RSS A (MiB) | RSS B (MiB) | states A | states B |",
      "| ---: | ---: | ---: | ---: | ---: |",
      ...samples.map((s) =>
        `| ${(s.t / 60).toFixed(1)} | ${(s.rssA / 1024).toFixed(1)} | ${
          (s.rssB / 1024).toFixed(1)
        } | ${s.statesA} | ${s.statesB} |`
      ),
      "",
    ];
    if (settled.ms < 0) log(`tables differ at the end: ${formatDiff(await diffPair(pair))}`);
    return rows.join("\n");
  });
}
