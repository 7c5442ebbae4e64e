/**
 * `states.digest` between two real agents: B's copies of A's states were
 * learned over pfsync (another origin, age, expiry and counters), yet the
 * digests agree exactly when the lab's full comparison does, and differ when
 * updates, inserts and deletes did not get through. Logs what one digest
 * poll and one full comparison cost, the reason timeToEqual polls digests.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { callAgent } from "../../lib/control/client.ts";
import {
  deleteState,
  diffPair,
  digestPair,
  formatDiff,
  importLines,
  lines,
  startPair,
  timeToEqual,
} from "./fixtures/faults_common.ts";
import { labTest } from "./lab.ts";
import type { Ns } from "./ns.ts";

const log = (line: string) => console.log(`  ${line}`);

/** Drops every pfsync packet A sends (an nftables output rule), or stops dropping. */
async function cutSync(ns: Ns, cut: boolean): Promise<void> {
  if (!cut) return void await ns.exec(["nft", "delete table inet pfsdigest"]);
  await ns.exec([
    "nft",
    `add table inet pfsdigest
add chain inet pfsdigest out { type filter hook output priority 0; }
add rule inet pfsdigest out oifname "sync0" meta l4proto 240 drop`,
  ]);
}

async function median(n: number, f: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    times.push(performance.now() - t);
  }
  return times.sort((x, y) => x - y)[Math.floor(n / 2)];
}

labTest(
  "faults: states.digest agrees on synced tables and tells apart what sync missed",
  async (lab) => {
    const pair = await startPair(lab);
    await callAgent(pair.a.control, "states.generate", { count: 10_000, seed: 3 });
    await importLines(pair.a, lines(0, 50));
    const synced = await timeToEqual(pair, 20_000);
    assert(synced.ms >= 0, `initial sync: ${formatDiff(synced.last)}`);
    const [da, db] = await digestPair(pair);
    const full = await diffPair(pair);
    assertEquals(full.total, 0, formatDiff(full));
    assertEquals(db, da, "equal tables, equal digests");
    assertEquals(da.count, 10_050);
    const cli = await pair.b.cli(["states", "--digest"]);
    assertEquals(cli.stdout, `${db.count} ${db.digest}\n`, cli.stderr);
    const digestMs = await median(9, () => digestPair(pair));
    const fullMs = await median(3, () => diffPair(pair));
    log(
      `${da.count} states: one digest poll of both agents ${digestMs.toFixed(1)} ms, ` +
        `one full comparison ${fullMs.toFixed(0)} ms`,
    );

    // Sync cut on A: 10 updates, 5 deletes and 5 inserts that B never hears of.
    await cutSync(pair.fw1, true);
    await importLines(pair.a, [...lines(0, 10, 7000), ...lines(50, 5)]);
    for (let i = 10; i < 15; i++) assertEquals(await deleteState(pair.a, i), 1);
    const apart = await diffPair(pair);
    assertEquals(
      [apart.stale, apart.extra, apart.missing],
      [10, 5, 5],
      formatDiff(apart),
    );
    const [ca, cb] = await digestPair(pair);
    assertEquals([ca.count, cb.count], [apart.sizeA, apart.sizeB]);
    assert(ca.digest !== cb.digest, "the digests tell the tables apart");
    assert(ca.digest !== da.digest, "A's digest moved with its table");
    assertEquals(cb, db, "B's table (and digest) did not change");

    await cutSync(pair.fw1, false);
    const healed = await timeToEqual(pair, 15_000);
    assert(healed.ms >= 0, `healed: ${formatDiff(healed.last)}`);
    const [ha, hb] = await digestPair(pair);
    assertEquals(hb, ha);
    assertEquals(ha, { count: apart.sizeA, digest: ca.digest });
    log(`equal again ${healed.ms.toFixed(0)} ms after the sync link came back`);
  },
  { timeoutMs: 60_000 },
);
