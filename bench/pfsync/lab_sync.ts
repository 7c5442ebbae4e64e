/**
 * pfsyncd through real sockets: two agents (memory provider) in lab
 * namespaces on a bridged sync segment.
 *
 * - live, generated: `states generate N` makes A insert N synthetic states
 *   itself (no JSON), from A's first insert until B holds all N — A's table
 *   to B's table, as fast as both agents go.
 * - live, imported: N states imported on A (`states import`, JSON lines
 *   through the control socket) until B holds all N. The import feed itself
 *   bounds this figure, as `conntrack -R` bounds conntrackd's; A's import
 *   time and both agents' CPU per state are reported beside it.
 * - bulk: A is filled with N states by `feed.ts` (pfsync INS packets from a
 *   third host, seconds instead of a minute of JSON), then B — empty, idle —
 *   runs `pfsyncd resync`. The time is B's own, from its log: "bulk update
 *   requested" to "bulk update done". Resident memory per state is the RSS
 *   growth of each agent over its empty, settled self.
 */
import { procFigures } from "../conntrack/sync_rate.ts";
import { type LabAgent, startAgent } from "../../tests/lab/agent.ts";
import {
  importText,
  pfsyncYaml,
  stateLines,
  syncTopology,
  waitForCount,
} from "../../tests/lab/fixtures/pfsync_common.ts";
import { sleep, waitFor, withLab } from "../../tests/lab/lab.ts";
import type { Lab } from "../../tests/lab/lab.ts";

const FEED = new URL("./feed.ts", import.meta.url).pathname;

/**
 * Jumbo frames on the sync link, as dedicated sync links often have: pfsync
 * then carries 9 full records a packet (the 2048-byte pfsync MTU), 6 on a
 * 1500-byte link. conntrackd's link in conntrackd.ts gets the same MTU.
 */
export const SYNC_MTU = 9000;

export interface LiveFigures {
  readonly n: number;
  /** Import start → B holds all N. */
  readonly seconds: number;
  readonly perSecond: number;
  /** Import start → the import command returned (A's feed rate). */
  readonly importSeconds: number;
  /** CPU µs per state, whole agent (A includes parsing the import). */
  readonly cpuUsA: number;
  readonly cpuUsB: number;
  readonly lost: number;
}

export interface BulkFigures {
  readonly n: number;
  /** B's log: bulk update requested → done. */
  readonly seconds: number;
  readonly perSecond: number;
  readonly received: number;
  readonly count: number;
  /** RSS growth per state: A (states learned from the feed), B (from the bulk update). */
  readonly rssPerStateA: number;
  readonly rssPerStateB: number;
  readonly rssMbA: number;
  readonly rssMbB: number;
  readonly packets: number;
  /** Packets A sent from the resync on that B did not count (0 = none lost). */
  readonly lost: number;
  /** CPU seconds each agent spent from the resync to the end of the bulk update. */
  readonly cpuA: number;
  readonly cpuB: number;
  /** B's state count over seconds since the resync command (for the report's plot). */
  readonly curve: [number, number][];
}

async function pair(lab: Lab): Promise<{ a: LabAgent; b: LabAgent }> {
  const { fws: [fw1, fw2] } = await syncTopology(lab, 2, { mtu: SYNC_MTU });
  const [a, b] = await Promise.all([
    startAgent(fw1, lab, { yaml: pfsyncYaml({ hostid: 1 }) }),
    startAgent(fw2, lab, { yaml: pfsyncYaml({ hostid: 2 }) }),
  ]);
  await waitFor(async () =>
    (await a.status()).pfsync.bulk.phase === "done" &&
    (await b.status()).pfsync.bulk.phase === "done", {
    timeoutMs: 30_000,
    message: "start-up bulk exchange",
  });
  return { a, b };
}

const mib = 1024 * 1024;

export async function measureLive(n: number): Promise<LiveFigures> {
  return await withLab(async (lab) => {
    const { a, b } = await pair(lab);
    const text = stateLines(0, n);
    await sleep(500);
    const a0 = procFigures(a.proc.pid);
    const b0 = procFigures(b.proc.pid);
    const sent0 = (await a.status()).pfsync.stats.opackets ?? 0;
    const got0 = (await b.status()).pfsync.stats.ipackets ?? 0;
    const start = performance.now();
    let imported = 0;
    const importing = importText(lab, a, text).then(() => imported = performance.now());
    await waitForCount(b, n, 120_000);
    const done = performance.now();
    await importing;
    const a1 = procFigures(a.proc.pid);
    const b1 = procFigures(b.proc.pid);
    const sa = await a.status();
    const sb = await b.status();
    return {
      n,
      seconds: (done - start) / 1000,
      perSecond: n / ((done - start) / 1000),
      importSeconds: (imported - start) / 1000,
      cpuUsA: (a1.cpuS - a0.cpuS) * 1e6 / n,
      cpuUsB: (b1.cpuS - b0.cpuS) * 1e6 / n,
      lost: ((sa.pfsync.stats.opackets ?? 0) - sent0) - ((sb.pfsync.stats.ipackets ?? 0) - got0),
    };
  });
}

export interface GeneratedLiveFigures {
  readonly n: number;
  /** A's first generated insert → B holds all N. */
  readonly seconds: number;
  readonly perSecond: number;
  /** A's first → last insert (the generator's own pace). */
  readonly generateSeconds: number;
  /** CPU µs per state, whole agent (A includes building the states). */
  readonly cpuUsA: number;
  readonly cpuUsB: number;
  /** Packets A sent and B received during the run. */
  readonly sent: number;
  readonly lost: number;
}

/**
 * Live A→B without the JSON feed: `pfsyncd states generate N` inserts
 * synthetic states inside A in batches; the clock runs from A's first insert
 * (reported by A) to B's `status` showing N.
 */
export async function measureLiveGenerated(n: number): Promise<GeneratedLiveFigures> {
  return await withLab(async (lab) => {
    const { a, b } = await pair(lab);
    await sleep(500);
    const a0 = procFigures(a.proc.pid);
    const b0 = procFigures(b.proc.pid);
    const sent0 = (await a.status()).pfsync.stats.opackets ?? 0;
    const got0 = (await b.status()).pfsync.stats.ipackets ?? 0;
    const generating = a.cli(["states", "generate", String(n), "--seed", "1", "--json"]);
    // Polled gently (every 50 ms, not 10: each poll is a status request B must serve); the end
    // is B's own clock at the drain that received the last packet, not when the poll noticed.
    let doneAt = 0;
    await waitFor(async () => (await b.status()).states.count === n, {
      timeoutMs: 120_000,
      intervalMs: 50,
      message: `B holds ${n} states`,
    });
    doneAt = (await b.status()).pfsync.lastReceiveAt ?? Date.now();
    const run = await generating;
    if (!run.success) throw new Error(`states generate failed: ${run.stderr}${run.stdout}`);
    const a1 = procFigures(a.proc.pid);
    const b1 = procFigures(b.proc.pid);
    const { startedAt, ms } = JSON.parse(run.stdout) as { startedAt: number; ms: number };
    const sa = await a.status();
    const sb = await b.status();
    const sent = (sa.pfsync.stats.opackets ?? 0) - sent0;
    return {
      n,
      seconds: (doneAt - startedAt) / 1000,
      perSecond: n / ((doneAt - startedAt) / 1000),
      generateSeconds: ms / 1000,
      cpuUsA: (a1.cpuS - a0.cpuS) * 1e6 / n,
      cpuUsB: (b1.cpuS - b0.cpuS) * 1e6 / n,
      sent,
      lost: sent - ((sb.pfsync.stats.ipackets ?? 0) - got0),
    };
  });
}

/** Timestamp (ms) of the first log line matching `re` at or after character `from`. */
function logTime(log: string, re: RegExp, from = 0): number {
  const line = log.slice(from).split("\n").find((l) => re.test(l));
  if (!line) throw new Error(`no log line ${re}`);
  return Date.parse(line.split(" ")[0]);
}

export async function measureBulk(n: number, feedPps = 10_000): Promise<BulkFigures> {
  return await withLab(async (lab) => {
    const { fws: [fw1, fw2], injector, sw } = await syncTopology(lab, 2, {
      injector: true,
      mtu: SYNC_MTU,
    });
    const [a, b] = await Promise.all([
      startAgent(fw1, lab, { yaml: pfsyncYaml({ hostid: 1, logLevel: "info" }) }),
      startAgent(fw2, lab, { yaml: pfsyncYaml({ hostid: 2, logLevel: "info" }) }),
    ]);
    await waitFor(async () =>
      (await a.status()).pfsync.bulk.phase === "done" &&
      (await b.status()).pfsync.bulk.phase === "done", {
      timeoutMs: 30_000,
      message: "start-up bulk exchange",
    });
    await sleep(500);
    const a0 = procFigures(a.proc.pid);
    const b0 = procFigures(b.proc.pid);
    // On a busy machine A may fall behind the feed and its socket drop some:
    // feed again (known states are dropped as duplicates) until A holds N.
    for (let round = 0; round < 3; round++) {
      const feed = await injector!.runDeno(FEED, ["10.240.0.1", String(n), String(feedPps)], {
        timeoutMs: 300_000,
      });
      if (!feed.success) throw new Error(`feed: ${feed.stderr}`);
      try {
        await waitForCount(a, n, 20_000);
        break;
      } catch (error) {
        if (round === 2) throw error;
      }
    }
    // The feeder leaves the segment, so A's multicast reaches B alone.
    await sw.down("sx");
    const before = (await b.status()).pfsync.stats.ipackets ?? 0;
    const sentBefore = (await a.status()).pfsync.stats.opackets ?? 0;
    const logFrom = b.log().length;
    const aBefore = procFigures(a.proc.pid);
    const bBefore = procFigures(b.proc.pid);
    const base = (await b.status()).states.count;
    const curve: [number, number][] = [];
    const t0 = performance.now();
    const resync = await b.cli(["resync"]);
    if (!resync.success) throw new Error(`resync: ${resync.stderr}`);
    await waitFor(async () => {
      const s = await b.status();
      curve.push([(performance.now() - t0) / 1000, s.states.count - base]);
      return s.pfsync.bulk.phase === "done" || s.pfsync.bulk.phase === "failed";
    }, { timeoutMs: 120_000, intervalMs: 20, message: "B's bulk update" });
    const aAfter = procFigures(a.proc.pid);
    const bAfter = procFigures(b.proc.pid);
    await sleep(1000);
    const a1 = procFigures(a.proc.pid);
    const b1 = procFigures(b.proc.pid);
    const sb = await b.status();
    // This resync's request and the first end after it (a lossy run may ask again later).
    const log = b.log();
    const requested = logTime(log, /bulk update requested/, logFrom);
    const ms = logTime(log, /bulk update (done|failed)/, logFrom) - requested;
    const sa = await a.status();
    return {
      n,
      seconds: ms / 1000,
      perSecond: n / (ms / 1000),
      received: sb.pfsync.bulk.statesReceived,
      count: sb.states.count,
      rssPerStateA: (a1.rssMb - a0.rssMb) * mib / n,
      rssPerStateB: (b1.rssMb - b0.rssMb) * mib / n,
      rssMbA: a1.rssMb,
      rssMbB: b1.rssMb,
      packets: (sb.pfsync.stats.ipackets ?? 0) - before,
      lost: ((sa.pfsync.stats.opackets ?? 0) - sentBefore) -
        ((sb.pfsync.stats.ipackets ?? 0) - before),
      cpuA: aAfter.cpuS - aBefore.cpuS,
      cpuB: bAfter.cpuS - bBefore.cpuS,
      curve,
    };
  });
}

if (import.meta.main) {
  const n = Number(Deno.args[1] ?? 100_000);
  // deno run -A bench/pfsync/lab_sync.ts live|generate|bulk [N]
  if (Deno.args[0] === "live") console.log(await measureLive(n));
  else if (Deno.args[0] === "generate") console.log(await measureLiveGenerated(n));
  else console.log(await measureBulk(n));
}
