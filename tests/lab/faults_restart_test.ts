/**
 * Issue 8, fault 5 (short CI variant: 3 restarts; bench/faults/run.ts runs
 * 20): the backup's agent restarted again and again while the master's states
 * churn. Every restart ends with the full table, and the master never fails over.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { backupRestartScenario } from "./fixtures/faults_carp.ts";
import { labTest } from "./lab.ts";

labTest(
  "faults: backup restarted 3 times under churn; full table each time, no failover",
  async (lab) => {
    const r = await backupRestartScenario(lab, {
      states: 5_000,
      restarts: 3,
      churn: { inserts: 20, updates: 20, deletes: 5, periodMs: 200 },
    }, (line) => console.log(`  ${line}`));
    assertEquals(r.fullTableMs.length, 3);
    assertEquals(r.failoverSamples, 0);
    assert(r.samples > 10, `the roles were sampled (${r.samples})`);
    assert(r.churnRounds > 3, `states churned during the restarts (${r.churnRounds} rounds)`);
  },
  { timeoutMs: 45_000 },
);
