/**
 * Issue 6, "Done when", graceful half: SIGTERM on the master's agent makes
 * it bow out (a last advertisement that lets the backup take over at once),
 * so B carries the TCP connection, the UDP stream and the ping within TCP's
 * first retransmission; then A's agent starts again (its kernel table kept,
 * as after an agent restart), takes B's bulk update and preempts, and the
 * flows move back without a reset.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { labTest, sleep } from "./lab.ts";
import { forwardedPackets, startFirewall, stopFlows, waitBoth } from "./fixtures/ct_topology.ts";
import {
  assertFlowsIntact,
  explain,
  phaseReport,
  printDrops,
  printReport,
  startPair,
  waitRecovered,
} from "./fixtures/ct_failover.ts";

labTest(
  "conntrack failover: SIGTERM on A, B carries TCP (lines + bulk), UDP and ICMP at once; A returns",
  async (lab) => {
    const pair = await startPair(lab);
    const { net, b, flows } = pair;
    await sleep(500);

    // --- graceful switch: SIGTERM, the agent bows out and removes its VIPs ---
    const stopAt = Date.now();
    const t0 = performance.now();
    pair.a.proc.kill("SIGTERM");
    await waitBoth(b, "MASTER", 5_000);
    const takeoverMs = performance.now() - t0;
    assertEquals((await pair.a.proc.waitExit(5_000))?.code, 0);
    await waitRecovered(flows, stopAt, 2_000); // the bow-out may leave nothing to recover from
    const forwardedByB = await forwardedPackets(net.fwb);
    await sleep(1_000);
    const bCarried = (await forwardedPackets(net.fwb)) - forwardedByB;

    // --- A's agent starts again and preempts (preempt on, advskew 0 < 100) ---
    const backAt = Date.now();
    const t1 = performance.now();
    pair.a = await startFirewall(net.fwa, lab, 1, 0, "pfsyncd2");
    await waitBoth(pair.a, "MASTER", 20_000);
    const preemptMs = performance.now() - t1;
    await waitBoth(b, "BACKUP", 5_000);
    await waitRecovered(flows, backAt, 2_000);
    const forwardedByA = await forwardedPackets(net.fwa);
    await sleep(1_000);
    const aCarried = (await forwardedPackets(net.fwa)) - forwardedByA;

    const result = await stopFlows(flows).catch((e) => explain(e, pair));
    const phases = [
      phaseReport("SIGTERM on A → B", result, stopAt, backAt, takeoverMs),
      phaseReport("A back, preempts", result, backAt, Date.now(), preemptMs),
    ];
    printReport(phases, result.flows);
    await printDrops(net);

    assertFlowsIntact(result.flows);
    const [term, back] = phases;
    assert(term.takeoverMs < 1_000, `takeover after SIGTERM took ${term.takeoverMs} ms`);
    assert(bCarried > 20, `B forwards the flows (${bCarried} packets in 1 s)`);
    assert(aCarried > 20, `A forwards the flows again (${aCarried} packets in 1 s)`);
    // Within TCP's first retransmission (≈0.2 s after the loss, plus one line interval).
    assert(term.tcpStallMs <= 400, `TCP stall after SIGTERM ${term.tcpStallMs} ms`);
    assert(term.udpGapMs <= 600, `UDP gap after SIGTERM ${term.udpGapMs} ms`);
    assert(term.icmpGapMs <= 600, `ICMP gap after SIGTERM ${term.icmpGapMs} ms`);
    assert(back.tcpStallMs <= 1_500, `TCP stall after A's return ${back.tcpStallMs} ms`);
    assert(back.udpGapMs <= 1_500, `UDP gap after A's return ${back.udpGapMs} ms`);
  },
  { timeoutMs: 60_000 },
);
