/**
 * Two real agents on a sync segment with the memory provider (issue 5, "Done
 * when" 1): imported states reach the peer, updates coalesce, deletes
 * propagate, and a restarted node gets the whole table by bulk update while
 * its CARP holds preemption back.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { startAgent } from "./agent.ts";
import {
  importText,
  pfsyncYaml,
  PREEMPT,
  stat,
  stateId,
  stateLines,
  statesJson,
  syncTopology,
  waitForCount,
} from "./fixtures/pfsync_common.ts";
import { labTest, waitFor } from "./lab.ts";

const COUNT = 10_000;

labTest(
  "pfsync pair: 10,000 states sync, updates coalesce, deletes propagate, restart bulk-updates under hold",
  async (lab) => {
    const { fws: [fw1, fw2], sw } = await syncTopology(lab, 2);
    // A would rather be backup (advskew 100); B preempts whenever it may.
    const [a, b] = await Promise.all([
      startAgent(fw1, lab, { yaml: pfsyncYaml({ hostid: 1, advskew: 100 }), sysctl: PREEMPT }),
      startAgent(fw2, lab, { yaml: pfsyncYaml({ hostid: 2, advskew: 0 }), sysctl: PREEMPT }),
    ]);
    await waitFor(async () =>
      !(await a.status()).pfsync.bulk.holdingPreemption &&
      !(await b.status()).pfsync.bulk.holdingPreemption, {
      timeoutMs: 15_000,
      message: "both initial bulk updates finished",
    });

    // 1. Live sync of 10,000 imported states.
    const started = performance.now();
    const out = await importText(lab, a, stateLines(0, COUNT));
    assertEquals(out.trim(), `imported ${COUNT} states`);
    await waitForCount(b, COUNT);
    const tookMs = performance.now() - started;
    console.log(`  ${COUNT} states imported on A and present on B after ${tookMs.toFixed(0)} ms`);
    const onB = await statesJson(b);
    const byId = new Map(onB.map((s) => [s.id as string, s]));
    for (const i of [0, 1, 4321, COUNT - 1]) {
      const s = byId.get(stateId(i));
      assert(s, `state ${i} on B`);
      assertEquals(s.creatorid, "00000001");
      assertEquals((s.peers as { src: { seqlo: number } }).src.seqlo, 1000 + i);
    }
    assertEquals((await b.status()).pfsync.stats.badstate ?? 0, 0);

    // 2. Updates coalesce: 2,000 states changed 5 times each in a burst (as a busy
    // connection is), so a state's later updates fold into its queued record.
    const before = stat(await a.status(), "opackets");
    const rounds = [2000, 3000, 4000, 5000, 6000];
    let updates = "";
    for (let i = 0; i < 2000; i++) {
      for (const seq of rounds) updates += stateLines(i, 1, seq);
    }
    await importText(lab, a, updates);
    await waitFor(async () => {
      const s = (await statesJson(b)).find((x) => x.id === stateId(1999));
      return (s?.peers as { src: { seqlo: number } } | undefined)?.src.seqlo === 6000 + 1999;
    }, { timeoutMs: 10_000, message: "last update on B" });
    const packets = stat(await a.status(), "opackets") - before;
    console.log(`  ${rounds.length * 2000} updates sent in ${packets} pfsync packets`);
    assert(packets > 0, "updates were sent");
    // Uncoalesced they would take 10,000 / 6 records per packet = 1,667 packets.
    assert(packets <= 10_000 / 20, `${packets} packets for 10,000 updates: not coalesced`);
    const updated = new Map((await statesJson(b)).map((s) => [s.id as string, s]));
    for (const i of [0, 999, 1999]) {
      const peers = updated.get(stateId(i))!.peers as { src: { seqlo: number } };
      assertEquals(peers.src.seqlo, 6000 + i, `state ${i} has the last update`);
    }
    assertEquals(
      (updated.get(stateId(2000))!.peers as { src: { seqlo: number } }).src.seqlo,
      3000,
      "states not updated keep their values",
    );

    // 3. Deletes propagate (by id and by flow).
    for (const i of [10, 20]) {
      const run = await a.cli(["states", "delete", "--id", stateId(i), "--creator", "00000001"]);
      assert(run.success, run.stderr);
    }
    const flow = await a.cli([
      "states",
      "delete",
      "--flow",
      "tcp 10.0.0.30:1054 -> 198.51.100.7:443",
    ]);
    assert(flow.success, flow.stderr);
    await waitForCount(b, COUNT - 3, 10_000);
    const left = new Set((await statesJson(b)).map((s) => s.id));
    for (const i of [10, 20, 30]) assert(!left.has(stateId(i)), `state ${i} deleted on B`);

    // 4. B restarts: bulk update from A while CARP preemption is held back.
    // A is cut off the sync segment first, so B's first bulk request goes
    // unanswered: B hears A's CARP adverts (advskew 100 against its 0) and
    // would preempt at once, but must stay BACKUP until the bulk update ends.
    assertEquals(await b.stop(), 0);
    await a.waitForVhid(1, "MASTER", { timeoutMs: 5_000 });
    await sw.down("s1");
    const b2 = await startAgent(fw2, lab, {
      yaml: pfsyncYaml({ hostid: 2, advskew: 0 }),
      sysctl: PREEMPT,
      label: "restarted",
    });
    type Sample = { phase: string; holding: boolean; demotion: number; carp: string };
    const samples: Sample[] = [];
    const sample = async () => {
      const s = await b2.status();
      samples.push({
        phase: s.pfsync.bulk.phase,
        holding: s.pfsync.bulk.holdingPreemption,
        demotion: s.demotion.value,
        carp: s.carp[0]?.state ?? "?",
      });
      return s;
    };
    await waitFor(async () => (await sample()).carp[0]?.state === "BACKUP", {
      timeoutMs: 5_000,
      message: "restarted B is BACKUP",
    });
    const heldUntil = performance.now() + 2_500; // > 2 adverts from A
    while (performance.now() < heldUntil) {
      await sample();
      await new Promise((r) => setTimeout(r, 50));
    }
    assert(samples.every((s) => s.holding && s.carp !== "MASTER"), "held back while pending");
    assert(samples.every((s) => s.demotion > 0), "demotion shown while the bulk update is pending");
    await sw.up("s1"); // B's next retry (every 5 s) reaches A
    await waitFor(async () => (await sample()).carp[0]?.state === "MASTER", {
      timeoutMs: 15_000,
      intervalMs: 20,
      message: "restarted B preempts to MASTER after the bulk update",
    });
    const status = await b2.status();
    assertEquals(status.states.count, COUNT - 3, "whole table by bulk update");
    assertEquals(status.pfsync.bulk.phase, "done");
    assertEquals(status.pfsync.bulk.statesReceived, COUNT - 3);
    assertEquals(status.demotion.value, 0);
    for (const s of samples) {
      assert(!(s.carp === "MASTER" && s.holding), "MASTER while the bulk update was pending");
    }
    // The log orders it: hold, release, then MASTER.
    const log = b2.log();
    const hold = log.indexOf("holding CARP preemption back");
    const release = log.indexOf("CARP preemption released");
    assert(hold >= 0 && release > hold, `hold/release in the log:\n${log}`);
    assert(log.lastIndexOf("MASTER") > release, "MASTER only after the release");
    console.log(
      `  restarted B: ${status.pfsync.bulk.statesReceived} states by bulk update; held BACKUP ` +
        `through ${samples.filter((s) => s.holding).length} status samples, then MASTER`,
    );
  },
  { timeoutMs: 60_000 },
);
