/**
 * Issue 8, fault 2 (short CI variant: 20,000 states; bench/faults/run.ts runs
 * 100,000 and the give-up path): the peer dies in the middle of the bulk
 * update it serves. The requester keeps what it got, retries, and proceeds
 * once a peer answers; its demotion is released and the log says why.
 */
import { assert, assertMatch } from "../helpers/assert.ts";
import { bulkKillScenario } from "./fixtures/faults_sync.ts";
import { labTest } from "./lab.ts";

labTest(
  "faults: peer killed during a 20,000-state bulk update; the requester retries and proceeds",
  async (lab) => {
    const r = await bulkKillScenario(
      lab,
      { states: 20_000, rate: "10mbit", restartPeer: true },
      (line) => console.log(`  ${line}`),
    );
    assert(r.receivedAtKill > 0 && r.receivedAtKill < 20_000, "killed mid-way");
    assert(r.retries >= 1, "retried");
    assert(r.finalCount === 20_000, `full table (${r.finalCount})`);
    // The retry comes a state-limit wait after BUS START (16.7 s at 6 states a packet).
    assert(r.releaseMs < 30_000, `demotion released in ${r.releaseMs} ms`);
    assertMatch(r.outcome, /bulk update done/);
    assertMatch(r.reasonLogged, /pfsync bulk update: CARP preemption released/);
  },
  { timeoutMs: 50_000 },
);
