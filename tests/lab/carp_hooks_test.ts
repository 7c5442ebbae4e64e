/**
 * Hook scripts under the real agent (issue 4, "Takeover"): run on every
 * transition, one at a time and in order, with the CARP_* environment; a slow
 * and failing script neither delays the election nor stops the next script,
 * and its exit status and output reach the log.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { carpYaml, startAgent } from "./agent.ts";
import { carpLan } from "./fixtures/carp_peers.ts";
import { labTest, waitFor } from "./lab.ts";

labTest(
  "carp: hooks run in order with the CARP_* environment and never hold the election up",
  async (lab) => {
    const net = await carpLan(lab, { client: false });
    const record = lab.tempPath("hooks.log");
    const slow = lab.tempPath("slow.sh");
    const env = lab.tempPath("env.sh");
    // The catch-all hook is slow and fails; the vhid's own hook records what it was told.
    await Deno.writeTextFile(
      slow,
      `#!/bin/sh\necho "$(date +%s.%N) slow-start $CARP_STATE" >> ${record}\nsleep 1.5\n` +
        `echo "$(date +%s.%N) slow-end $CARP_STATE" >> ${record}\necho "slow says bye"\nexit 3\n`,
      { mode: 0o755 },
    );
    await Deno.writeTextFile(
      env,
      `#!/bin/sh\necho "$(date +%s.%N) env vhid=$CARP_VHID if=$CARP_INTERFACE parent=$CARP_PARENT ` +
        `from=$CARP_PREVIOUS_STATE to=$CARP_STATE reason=[$CARP_REASON] ` +
        `addrs=[$CARP_ADDRESSES]" >> ${record}\n`,
      { mode: 0o755 },
    );
    const yaml = carpYaml(1, [{
      vhid: 3,
      parent: "eth0",
      pass: "hooks",
      addresses: ["192.0.2.3/24", "192.0.2.4/24"],
    }], { preempt: true }) +
      `hooks:\n  timeout_ms: 5000\n  scripts:\n    "*": [${slow}]\n    "3": [${env}]\n`;
    const startedAt = performance.now();
    const agent = await startAgent(net.fw1, lab, { yaml });
    await agent.waitForVhid(3, "MASTER", { timeoutMs: 3_000, intervalMs: 10 });
    // MASTER, its address and its advertisements come while the slow hook still sleeps.
    await waitFor(async () => (await net.fw1.addresses("eth0")).includes("192.0.2.3/24"), {
      timeoutMs: 1_000,
      message: "VIP added without waiting for the hooks",
    });
    const lines = () => Deno.readTextFile(record).catch(() => "");
    assert(!(await lines()).includes("slow-end"), "the slow hook has not finished yet");
    assert(performance.now() - startedAt < 20_000);

    await waitFor(async () => (await lines()).includes("env vhid"), {
      timeoutMs: 5_000,
      message: "the vhid's hook ran after the slow one",
    });
    assertEquals(await agent.stop(10_000), 0);

    const events = (await lines()).trim().split("\n").map((l) => {
      const [time, ...rest] = l.split(" ");
      return { time: Number(time), text: rest.join(" ") };
    });
    const texts = events.map((e) => e.text);
    assertEquals(texts.length, 6, texts.join("\n"));
    assertEquals(texts.slice(0, 2), ["slow-start MASTER", "slow-end MASTER"]);
    assertMatch(
      texts[2],
      /^env vhid=3 if=eth0 parent=eth0 from=INIT to=MASTER reason=\[.+\] addrs=\[192\.0\.2\.3\/24 192\.0\.2\.4\/24\]$/,
    );
    assertEquals(texts.slice(3), [
      "slow-start INIT",
      "slow-end INIT",
      "env vhid=3 if=eth0 parent=eth0 from=MASTER to=INIT reason=[shutdown] " +
      "addrs=[192.0.2.3/24 192.0.2.4/24]",
    ]);
    // Strictly one after the other.
    for (let i = 1; i < events.length; i++) assert(events[i].time >= events[i - 1].time);
    const log = agent.log();
    assertMatch(log, /hook \S*slow\.sh exited 3: slow says bye/);
    assertMatch(log, /carp: 3@eth0: INIT -> MASTER/);
  },
  { timeoutMs: 30_000 },
);
