/**
 * Three real agents on one sync segment (a bridge) converge (issue 5):
 * states created on each reach the other two, a delete on one reaches all,
 * and a restarted node is filled by bulk update while two peers can answer.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { startAgent } from "./agent.ts";
import {
  importText,
  pfsyncYaml,
  stateId,
  stateLines,
  statesJson,
  syncTopology,
  waitForCount,
} from "./fixtures/pfsync_common.ts";
import { labTest, waitFor } from "./lab.ts";

const PER_NODE = 1000;

labTest(
  "pfsync three nodes: every node's states reach the others; deletes and bulk converge",
  async (lab) => {
    const { fws } = await syncTopology(lab, 3);
    const agents = await Promise.all(
      fws.map((fw, i) => startAgent(fw, lab, { yaml: pfsyncYaml({ hostid: i + 1 }) })),
    );
    await waitFor(async () => {
      for (const a of agents) if ((await a.status()).pfsync.bulk.holdingPreemption) return false;
      return true;
    }, { timeoutMs: 15_000, message: "initial bulk updates finished" });

    // Each node creates its own states, concurrently.
    await Promise.all(
      agents.map((a, i) => importText(lab, a, stateLines(i * PER_NODE, PER_NODE))),
    );
    await Promise.all(agents.map((a) => waitForCount(a, 3 * PER_NODE)));
    const tables = await Promise.all(agents.map(async (a) => {
      const rows = await statesJson(a);
      return rows.map((s) => `${s.creatorid}/${s.id}`).sort();
    }));
    assertEquals(tables[1], tables[0]);
    assertEquals(tables[2], tables[0]);
    for (let i = 0; i < 3; i++) {
      const creator = (i + 1).toString(16).padStart(8, "0");
      assert(
        tables[0].includes(`${creator}/${stateId(i * PER_NODE + 7)}`),
        `node ${i + 1}'s state`,
      );
    }

    // A delete on node 2 reaches nodes 1 and 3.
    const run = await agents[1].cli([
      "states",
      "delete",
      "--id",
      stateId(PER_NODE + 7),
      "--creator",
      "00000002",
    ]);
    assert(run.success, run.stderr);
    await Promise.all(agents.map((a) => waitForCount(a, 3 * PER_NODE - 1, 10_000)));

    // Node 3 restarts empty and is filled again by bulk update (both peers may answer).
    assertEquals(await agents[2].stop(), 0);
    const again = await startAgent(fws[2], lab, {
      yaml: pfsyncYaml({ hostid: 3 }),
      label: "restarted",
    });
    await waitForCount(again, 3 * PER_NODE - 1, 15_000);
    await waitFor(async () => (await again.status()).pfsync.bulk.phase === "done", {
      timeoutMs: 10_000,
      message: "restarted node's bulk update done",
    });
    const refilled = (await statesJson(again)).map((s) => `${s.creatorid}/${s.id}`).sort();
    assertEquals(refilled, tables[0].filter((k) => k !== `00000002/${stateId(PER_NODE + 7)}`));
    console.log(
      `  3 × ${PER_NODE} states converged; restarted node got ${
        (await again.status()).pfsync.bulk.statesReceived
      } by bulk update`,
    );
  },
  { timeoutMs: 60_000 },
);
