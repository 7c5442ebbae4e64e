/**
 * Authenticated sync between two real agents (issue 5, "Done when" 2): forged
 * packets and replays of captured ones, injected from a third namespace on the
 * sync segment, change nothing and are counted as `badauth`.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { startAgent } from "./agent.ts";
import {
  importText,
  pfsyncYaml,
  stat,
  stateId,
  stateLines,
  statesJson,
  syncTopology,
  waitForCount,
} from "./fixtures/pfsync_common.ts";
import { labTest, waitFor } from "./lab.ts";
import { dump, V5 } from "../pfsync/fixtures.ts";

const INJECT = new URL("./fixtures/pfsync_inject.ts", import.meta.url).pathname;
labTest(
  "pfsync auth: forged and replayed packets from a third host change nothing and count as badauth",
  async (lab) => {
    const { fws: [fw1, fw2], injector } = await syncTopology(lab, 2, { injector: true });
    const inj = injector!;
    const keyfile = lab.tempPath("pfsync.key");
    await Deno.writeTextFile(keyfile, "5f".repeat(16) + "a1b2c3d4".repeat(4) + "\n");
    const [a, b] = await Promise.all([
      startAgent(fw1, lab, { yaml: pfsyncYaml({ hostid: 1, keyfile }) }),
      startAgent(fw2, lab, { yaml: pfsyncYaml({ hostid: 2, keyfile }) }),
    ]);
    await waitFor(async () =>
      (await a.status()).pfsync.bulk.phase === "done" &&
      (await b.status()).pfsync.bulk.phase === "done", {
      timeoutMs: 15_000,
      message: "both bulk updates done over authenticated sync",
    });

    // Authentic traffic, captured by the third host.
    const capture = await inj.tcpdump("sync0", "ip proto 240");
    await importText(lab, a, stateLines(0, 5));
    await waitForCount(b, 5);
    const pcap = await capture.stop();
    const run = await a.cli(["states", "delete", "--id", stateId(0), "--creator", "00000001"]);
    assert(run.success, run.stderr);
    await waitForCount(b, 4);
    assertEquals(stat(await b.status(), "badauth"), 0, "authentic packets pass");

    const snapshot = async () => ({
      a: (await statesJson(a)).map((s) => s.id).sort(),
      b: (await statesJson(b)).map((s) => s.id).sort(),
    });
    const tables = await snapshot();
    const badauth =
      async () => [stat(await a.status(), "badauth"), stat(await b.status(), "badauth")];
    const [a0, b0] = await badauth();

    // Forged: spec vector V5 (a valid INS of one state) without a trailer, and
    // with a trailer whose HMAC is wrong.
    const ins = dump(V5).replace(/\s/g, "");
    const trailer = "50534131" + "00000000" + "7fffffffffffffff" + "ab".repeat(32);
    const forged = await inj.runDeno(INJECT, ["send", ins, ins + trailer]);
    assert(forged.success, forged.stderr);
    await waitFor(async () => (await badauth())[1] >= b0 + 2, {
      timeoutMs: 5_000,
      message: "forged packets counted on B",
    });

    // Replayed from the injector's own address: B has seen these sequence
    // numbers from A's sender id; A sees its own packets reflected back.
    const replay1 = await inj.runDeno(INJECT, ["replay", pcap, "10.240.0.1"]);
    assert(replay1.success, replay1.stderr);
    const replayed = JSON.parse(replay1.stdout).sent as number;
    assert(replayed >= 1, "the capture holds A's packets");
    await waitFor(async () => {
      const [a, b] = await badauth();
      return a >= a0 + 2 + replayed && b >= b0 + 2 + replayed;
    }, { timeoutMs: 5_000, message: "replays from another address counted on A and B" });

    // Replayed with A's own source address (the injector takes 10.240.0.1).
    // A's kernel drops packets claiming its own address; B counts them.
    await inj.delAddr("sync0", "10.240.0.99/24");
    await inj.addr("sync0", "10.240.0.1/24");
    const replay2 = await inj.runDeno(INJECT, ["replay", pcap, "10.240.0.1"]);
    assert(replay2.success, replay2.stderr);
    await waitFor(async () => (await badauth())[1] >= b0 + 2 + 2 * replayed, {
      timeoutMs: 5_000,
      message: "spoofed replays counted on B",
    });
    await new Promise((r) => setTimeout(r, 200));
    const [a1, b1] = await badauth();
    console.log(
      `  forged 2, replayed ${replayed} × 2: badauth on B +${b1 - b0}, on A +${a1 - a0}`,
    );
    assertEquals(b1 - b0, 2 + 2 * replayed);
    assertEquals(a1 - a0, 2 + replayed);
    assertEquals(await snapshot(), tables, "neither table changed");
    assert(!tables.b.includes(stateId(0)), "the deleted state stays deleted");
  },
  { timeoutMs: 60_000 },
);
