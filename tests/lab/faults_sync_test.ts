/**
 * Issue 8, faults 1 and 3 (short CI variants; bench/faults/run.ts runs the
 * full ones): packet loss on the sync link while states churn, and the sync
 * link down and up. Once the fault is over the two tables must become EQUAL
 * by themselves — no state of A missing or stale on B, and none that A
 * deleted left on B — within one bulk-update time plus the loss detector's
 * debounce.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { formatDiff } from "./fixtures/faults_common.ts";
import { syncDownScenario, syncLossScenario } from "./fixtures/faults_sync.ts";
import { labTest } from "./lab.ts";

const log = (line: string) => console.log(`  ${line}`);

/**
 * The heal bound after the loss ends: the beacon 1 s after A's last packet
 * reveals a tail loss, 250 ms reorder wait, 1 s quiet debounce, one bulk
 * update, 250 ms before the purge, and 2 s margin for two agents and the
 * 100 ms diff polling on 2 busy cores.
 */
const healBound = (bulkMs: number) => 1_000 + 250 + 1_000 + bulkMs + 250 + 2_000;

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
    assert(b.pfsync.stats.seqgaps > 0, "B counted the lost packets");
    assert(b.pfsync.stats.bulkpurged > 0, "B purged states whose deletes were lost");
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
