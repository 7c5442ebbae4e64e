/**
 * Issue 8, faults 1 and 3 (short CI variants; bench/faults/run.ts runs the
 * full ones): packet loss on the sync link while states churn, and the sync
 * link down and up. Once the fault is over the two tables must become EQUAL
 * by themselves — no state of A missing or stale on B, and none that A
 * deleted left on B — within one bulk-update time plus the time to notice
 * a lost tail (see healBound).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { formatDiff } from "./fixtures/faults_common.ts";
import { syncDownScenario, syncLossScenario } from "./fixtures/faults_sync.ts";
import { labTest } from "./lab.ts";

const log = (line: string) => console.log(`  ${line}`);

/**
 * The heal bound after the loss ends. Lost packets are NACKed and repaired
 * while the loss lasts; what is left when it ends is repaired at the next
 * NACK retry (50 ms) — unless A's last packet and its quick beacons (25 … 400
 * ms) were all lost, and only the beacon 1 s after A's last packet shows it.
 * Plus one bulk update's time and 500 ms of margin for two agents on 2 busy
 * cores.
 */
const healBound = (bulkMs: number) => 1_000 + bulkMs + 500;

labTest(
  "faults: 1%, 10%, 30% loss on the sync link under churn; the tables become equal by themselves",
  async (lab) => {
    const { bulkMs, levels, pair } = await syncLossScenario(lab, {
      initial: 2_000,
      levels: [1, 10, 30],
      perLevelMs: 3_000,
      churn: { inserts: 40, updates: 40, deletes: 8, periodMs: 100 },
      selfHealMs: healBound(2_000),
    }, log);
    const bound = healBound(bulkMs);
    for (const r of levels) {
      assert(r.rounds > 5, `${r.level}%: the churn ran (${r.rounds} rounds)`);
      if (r.level >= 10) {
        assert(r.largestDiff.total > 0, `${r.level}% loss made a difference`);
      }
      assert(
        r.selfHealMs >= 0,
        `${r.level}%: not equal by themselves: ${formatDiff(r.leftWithoutResync)}`,
      );
      assert(
        r.selfHealMs <= bound,
        `${r.level}%: equal ${r.selfHealMs.toFixed(0)} ms after the loss, bound ${
          bound.toFixed(0)
        } ms ` +
          `(one bulk update: ${bulkMs.toFixed(0)} ms)`,
      );
      assertEquals(r.resyncHealMs, 0, `${r.level}%: no resync needed`);
    }
    log(
      `largest difference ${Math.max(...levels.map((r) => r.largestDiff.total))} states; ` +
        `healed in ${levels.map((r) => `${r.level}%: ${r.selfHealMs.toFixed(0)} ms`).join(", ")} ` +
        `(bound ${bound.toFixed(0)} ms)`,
    );
    const b = await pair.b.status();
    const a = await pair.a.status();
    assert(b.pfsync.stats.nacksent > 0, "B asked for the lost packets");
    assert(a.pfsync.stats.repairsent > 0, "A re-sent their states");
    assert(b.pfsync.stats.seqrepaired > 0, "B counted the repaired packets");
    assertEquals(b.carp[0]?.state, "BACKUP", "loss-triggered bulk updates leave the roles alone");
    assertEquals(b.demotion.value, 0);
  },
  { timeoutMs: 60_000 },
);

labTest(
  "faults: sync link down 5 s and up; a bulk update on link up makes the tables equal",
  async (lab) => {
    const r = await syncDownScenario(lab, {
      initial: 2_000,
      downMs: 5_000,
      churn: { inserts: 40, updates: 40, deletes: 8, periodMs: 100 },
    }, log);
    assert(r.diffAtLinkUp.total > 0, "the tables differed while the link was down");
    assert(r.diffAtLinkUp.extra > 0, "deletes were missed while the link was down");
    assert(r.bulkRequested, "B requested a bulk update on link up");
    assert(r.healMs >= 0, `tables equal after link up: ${formatDiff(r.left)}`);
    assert(r.healMs <= 5_000, `equal ${r.healMs.toFixed(0)} ms after link up`);
  },
  { timeoutMs: 45_000 },
);
