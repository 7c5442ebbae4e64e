/**
 * `pfsyncd states generate N [--seed S]` on a real agent: the synthetic
 * states are local, so they reach the peer over pfsync like imported ones;
 * the same seed again adds nothing, another seed adds new flows.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { startAgent } from "./agent.ts";
import { pfsyncYaml, stat, syncTopology, waitForCount } from "./fixtures/pfsync_common.ts";
import { labTest, waitFor } from "./lab.ts";

const COUNT = 20_000;

labTest(
  "pfsync generate: states generate N reaches the peer; seeds pick the flows",
  async (lab) => {
    const { fws: [fw1, fw2] } = await syncTopology(lab, 2);
    const [a, b] = await Promise.all([
      startAgent(fw1, lab, { yaml: pfsyncYaml({ hostid: 1 }) }),
      startAgent(fw2, lab, { yaml: pfsyncYaml({ hostid: 2 }) }),
    ]);
    await waitFor(async () =>
      (await a.status()).pfsync.bulk.phase === "done" &&
      (await b.status()).pfsync.bulk.phase === "done", {
      timeoutMs: 20_000,
      message: "start-up bulk exchange",
    });

    const first = await a.cli(["states", "generate", String(COUNT)]);
    assertEquals(first.code, 0, first.stderr);
    assertMatch(first.stdout, new RegExp(`^generated ${COUNT} states in \\d+ ms\\n$`));
    const ms = await waitForCount(b, COUNT);
    console.log(`  ${COUNT} generated states on B ${ms.toFixed(0)} ms after the command returned`);
    const [sa, sb] = [await a.status(), await b.status()];
    assertEquals(sa.states.count, COUNT);
    assertEquals(stat(sb, "badstate"), 0);
    assertEquals(stat(sa, "opackets") > COUNT / 9, true, "sent as INS packets");

    const again = await a.cli(["states", "--json", "generate", String(COUNT)]);
    assertEquals(again.code, 0, again.stderr);
    const result = JSON.parse(again.stdout);
    assertEquals([result.generated, result.duplicates], [0, COUNT]);
    assert(typeof result.startedAt === "number" && typeof result.ms === "number");

    const other = await a.cli(["states", "generate", "1000", "--seed", "9"]);
    assertEquals(other.stdout.startsWith("generated 1000 states"), true, other.stdout);
    await waitForCount(b, COUNT + 1000);

    const states = await b.cli(["states", "--json"]);
    const flows = states.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(flows.filter((s) => s.dst === "198.51.100.10:443").length, 1000, "seed 9's flows");
    assert(flows.every((s) => s.creatorid === "00000001"));

    const bad = await a.cli(["states", "generate", "many"]);
    assertEquals(bad.code, 2);
    assertMatch(bad.stderr, /count must be a whole number/);
  },
);
