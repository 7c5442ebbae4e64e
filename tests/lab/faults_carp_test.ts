/**
 * Issue 8, faults 4 and 6 (short CI variants; bench/faults/run.ts runs the
 * full ones): the master's parent link flapping every second, and a cut
 * between two agents that makes both MASTER. Afterwards exactly one MASTER
 * holds the virtual address and no demotion is left.
 */
import { assert, assertMatch } from "../helpers/assert.ts";
import { parentFlapScenario, twoMastersScenario } from "./fixtures/faults_carp.ts";
import { labTest } from "./lab.ts";

const log = (line: string) => console.log(`  ${line}`);

labTest(
  "faults: parent link flapping every second for 10 s; one MASTER afterwards, demotion 0",
  async (lab) => {
    const r = await parentFlapScenario(lab, { flapMs: 10_000, downMs: 500 }, log);
    assert(r.flaps >= 9, `${r.flaps} flaps`);
    assert(r.demotionLines >= 2, "the link demotion was applied and taken back");
    assert(r.master === "A", "A is MASTER again");
    assert(r.settleMs < 10_000, `settled in ${r.settleMs} ms`);
  },
  { timeoutMs: 45_000 },
);

labTest(
  "faults: two masters after a cut; when it heals one steps down within one advertisement",
  async (lab) => {
    const r = await twoMastersScenario(lab, { cutMs: 4_000 }, log);
    // advbase 1 s: A's next advertisement is at most 1 s away; 250 ms for polling and load.
    assert(r.healMs <= 1_250, `B stepped down ${r.healMs} ms after the cut healed`);
    assert(r.master === "A", "A stays MASTER");
    assertMatch(r.reason, /192\.0\.2\.1/);
    assertMatch(r.logLine, /MASTER -> BACKUP \(.*192\.0\.2\.1.*\)/);
  },
  { timeoutMs: 45_000 },
);
