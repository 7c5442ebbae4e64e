/**
 * Issue 8, faults 1 and 3 (short CI variants; bench/faults/run.ts runs the
 * full ones): packet loss on the sync link while states churn, and the sync
 * link down and up. No state of the master may be missing or stale on the
 * backup once the fault is over and a bulk update has run.
 */
import { assert } from "../helpers/assert.ts";
import { formatDiff } from "./fixtures/faults_common.ts";
import { syncDownScenario, syncLossScenario } from "./fixtures/faults_sync.ts";
import { labTest } from "./lab.ts";

const log = (line: string) => console.log(`  ${line}`);

labTest(
  "faults: 1%, 10%, 30% loss on the sync link under churn; a bulk update restores every state",
  async (lab) => {
    const { bulkMs, levels } = await syncLossScenario(lab, {
      initial: 2_000,
      levels: [1, 10, 30],
      perLevelMs: 3_000,
      churn: { inserts: 40, updates: 40, deletes: 8, periodMs: 100 },
      selfHealMs: 1_500,
    }, log);
    for (const r of levels) {
      assert(r.rounds > 5, `${r.level}%: the churn ran (${r.rounds} rounds)`);
      if (r.level >= 10) {
        assert(r.largestDiff.total > 0, `${r.level}% loss made a difference`);
      }
      assert(
        r.resyncHealMs >= 0,
        `${r.level}%: every state of A on B after resync: ${formatDiff(r.leftAfterResync)}`,
      );
      // "Within one bulk-update time": the measured bulk time plus the 100 ms polling step,
      // with room for the table having grown and two agents sharing 2 cores.
      assert(
        r.resyncHealMs <= Math.max(3 * bulkMs, 1_000) + 500,
        `${r.level}%: healed in ${r.resyncHealMs} ms; one bulk update takes ${bulkMs} ms`,
      );
      assert(
        r.leftAfterResync.extra <= r.deletes,
        `${r.level}%: ${r.leftAfterResync.extra} states left on B, more than ${r.deletes} deletes`,
      );
    }
  },
  { timeoutMs: 60_000 },
);

labTest(
  "faults: sync link down 5 s and up; the backup asks for a bulk update and gets every state",
  async (lab) => {
    const r = await syncDownScenario(lab, {
      initial: 2_000,
      downMs: 5_000,
      churn: { inserts: 40, updates: 40, deletes: 8, periodMs: 100 },
    }, log);
    assert(r.diffAtLinkUp.total > 0, "the tables differed while the link was down");
    assert(r.bulkRequested, "B requested a bulk update on link up");
    assert(r.healMs >= 0, `every state of A on B after link up: ${formatDiff(r.left)}`);
    assert(r.healMs <= 5_000, `healed in ${r.healMs} ms`);
    assert(r.left.extra <= r.deletes, `${r.left.extra} states left on B > ${r.deletes} deletes`);
  },
  { timeoutMs: 45_000 },
);
