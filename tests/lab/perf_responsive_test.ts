/**
 * An agent absorbing a pfsync flood still answers its control socket: a
 * third host on the sync segment sends valid full-state packets faster than
 * the agent can take them for several seconds, and `status`, asked every
 * 50 ms meanwhile, must answer within 1 s every time. Before the reactor
 * yielded under load, a call made during such a flood waited for its end.
 */
import { AgentTimeoutError, callAgent } from "../../lib/control/client.ts";
import type { StatusResult } from "../../lib/control/types.ts";
import { assert } from "../helpers/assert.ts";
import { startAgent } from "./agent.ts";
import { pfsyncYaml, stat, syncTopology } from "./fixtures/pfsync_common.ts";
import { labTest, sleep } from "./lab.ts";

const FLOOD = new URL("./fixtures/perf_flood.ts", import.meta.url).pathname;
const STATES = 100_000;
const SECONDS = 6;
/** 60,000 packets of 9 states a second: more than an agent takes, so it never runs dry. */
const PPS = 60_000;
const LIMIT_MS = 1_000;

labTest(
  "perf: status answers within 1 s while a pfsync flood keeps the agent busy",
  async (lab) => {
    const { fws: [fw1], injector } = await syncTopology(lab, 1, { injector: true, mtu: 9000 });
    const agent = await startAgent(fw1, lab, { yaml: pfsyncYaml({ hostid: 1, logLevel: "info" }) });
    const flood = injector!.spawnDeno(FLOOD, [
      "10.240.0.1",
      String(STATES),
      String(SECONDS),
      String(PPS),
    ]);
    await flood.waitForOutput(/"flooding":true/, 20_000);

    const samples: { ms: number; ipackets: number; count: number }[] = [];
    let worst = 0;
    let slowest = "";
    while (!flood.exited) {
      const asked = performance.now();
      let status: StatusResult | undefined;
      try {
        // The timeout is the client's own (AgentTimeoutError), kept above the limit so a slow
        // answer is measured rather than cut off.
        status = await callAgent(agent.control, "status", {}, { timeoutMs: 5_000 });
      } catch (error) {
        if (!(error instanceof AgentTimeoutError)) throw error;
      }
      const ms = performance.now() - asked;
      if (ms > worst) {
        worst = ms;
        slowest = `${ms.toFixed(0)} ms at sample ${samples.length}`;
      }
      assert(status, `status answered at all during the flood (gave up after ${ms.toFixed(0)} ms)`);
      samples.push({ ms, ipackets: stat(status, "ipackets"), count: status.states.count });
      await sleep(50);
    }
    const result = flood.jsonLines<{ sent?: number }>().find((l) => l.sent !== undefined);
    assert(result?.sent, `the flooder finished: ${flood.output().stderr}`);

    const final = await callAgent(agent.control, "status", {});
    const received = stat(final, "ipackets");
    const busy = samples.filter((s, i) => i > 0 && s.ipackets > samples[i - 1].ipackets).length;
    console.log(
      `  ${samples.length} status calls during a ${SECONDS} s flood: worst ${slowest}, ` +
        `median ${median(samples.map((s) => s.ms)).toFixed(1)} ms; ` +
        `${received} of ${result.sent} packets taken, ${final.states.count} states`,
    );
    // The calls really overlapped the flood: most saw the packet counter move since the last.
    assert(samples.length >= SECONDS * 3, `${samples.length} status calls made`);
    assert(busy >= samples.length / 2, `${busy} of ${samples.length} calls saw packets arriving`);
    assert(received >= result.sent / 4, `the agent took ${received} of ${result.sent} packets`);
    assert(final.states.count === STATES, `${final.states.count} of ${STATES} states learned`);
    assert(worst < LIMIT_MS, `every status within ${LIMIT_MS} ms (worst ${slowest})`);
    assert(!agent.proc.exited, "the agent survived the flood");
  },
  { timeoutMs: 40_000 },
);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
