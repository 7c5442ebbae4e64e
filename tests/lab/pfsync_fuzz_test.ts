/**
 * 100,000 random and mutated pfsync packets from a third host on the sync
 * segment at a running agent (issue 5, "Done when" 3): it keeps running, the
 * states it holds are untouched, and its counters account for every packet.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { startAgent } from "./agent.ts";
import {
  importText,
  pfsyncYaml,
  stat,
  stateLines,
  statesJson,
  syncTopology,
} from "./fixtures/pfsync_common.ts";
import { labTest, waitFor } from "./lab.ts";

const INJECT = new URL("./fixtures/pfsync_inject.ts", import.meta.url).pathname;
const COUNT = 100_000;
const COUNTERS = ["ipackets", "hdrops", "badver", "badact", "badlen", "badttl", "badif"] as const;

/** The fields of a state a packet could change, as `states --json` shows them. */
function essence(s: Record<string, unknown>): string {
  const { id, creatorid, src, dst, lan, gwy, ext, peers, timeout, proto, direction } = s;
  return JSON.stringify({
    id,
    creatorid,
    src,
    dst,
    lan,
    gwy,
    ext,
    peers,
    timeout,
    proto,
    direction,
  });
}

labTest(
  "pfsync fuzz: 100,000 random and mutated packets leave the agent running, its states intact, all counted",
  async (lab) => {
    const { fws: [fw1], injector } = await syncTopology(lab, 1, { injector: true });
    const agent = await startAgent(fw1, lab, { yaml: pfsyncYaml({ hostid: 1 }) });
    // Nobody else runs pfsync here: the injector ends the agent's bulk request
    // with BUS START and BUS END (spec vectors V2, and V2b with endtime 0).
    await injector!.runDeno(INJECT, [
      "send",
      "020009000badcafe000000000100000000000000",
      "020009000badcafe000000000200000000000000",
    ]);
    await waitFor(async () => (await agent.status()).pfsync.bulk.phase === "done", {
      timeoutMs: 5_000,
      message: "bulk update ended by the injected BUS END",
    });
    await importText(lab, agent, stateLines(0, 1000));
    const before = new Map((await statesJson(agent)).map((s) => [s.id as string, essence(s)]));
    assertEquals(before.size, 1000);
    const start = await agent.status();

    const run = await injector!.runDeno(INJECT, ["fuzz", String(COUNT), "20260528", "25000"]);
    assert(run.success, run.stderr);
    const report = JSON.parse(run.stdout) as {
      sent: number;
      ms: number;
      predicted: Record<string, number>;
    };
    assertEquals(report.sent, COUNT);

    let now = start;
    await waitFor(async () => {
      now = await agent.status();
      return stat(now, "ipackets") - stat(start, "ipackets") >= COUNT;
    }, { timeoutMs: 15_000, message: "every injected packet counted in ipackets" });
    await new Promise((r) => setTimeout(r, 200));
    now = await agent.status();
    const delta = Object.fromEntries(COUNTERS.map((c) => [c, stat(now, c) - stat(start, c)]));
    const p = report.predicted;
    console.log(
      `  sent ${COUNT} in ${report.ms.toFixed(0)} ms; counters ${JSON.stringify(delta)}; ` +
        `header-valid ${p.records}, BUS ignored ${p.ignored}; badstate +${
          stat(now, "badstate") - stat(start, "badstate")
        }, badval +${stat(now, "badval") - stat(start, "badval")}, stale +${
          stat(now, "stale") - stat(start, "stale")
        }`,
    );
    assertEquals(delta.ipackets, COUNT, "every packet arrived and was counted");
    for (const c of ["hdrops", "badver", "badact", "badlen", "badttl"] as const) {
      assertEquals(delta[c], p[c], `${c}: the header-level verdicts the spec predicts`);
    }
    assertEquals(delta.badif, 0);
    assertEquals(
      COUNT - p.hdrops - p.badver - p.badact - p.badlen - p.badttl - p.ignored,
      p.records,
      "every packet is accounted to exactly one header verdict",
    );

    // Still running and answering; the imported states are exactly as before.
    assert(!agent.proc.exited, "agent still running");
    const after = await statesJson(agent);
    const byId = new Map(after.map((s) => [s.id as string, s]));
    for (const [id, was] of before) {
      const s = byId.get(id);
      assert(s, `state ${id} still there`);
      assertEquals(essence(s), was, `state ${id} unchanged`);
    }
    // Whatever the accepted mutants inserted names a foreign creator, never ours.
    for (const s of after) if (!before.has(s.id as string)) assert(s.creatorid !== "00000001");
    assertEquals((await agent.status()).states.count, after.length);
  },
  { timeoutMs: 60_000 },
);
