/**
 * Issue 6, "Done when": the firewall carrying a TCP connection (a line every
 * 100 ms plus a paced bulk stream), a UDP stream and a ping crashes — agent
 * SIGKILLed, its LAN links down — and the backup, whose kernel already holds
 * the states pfsync brought it, takes over without a reset. Then A comes
 * back as after a reboot (empty conntrack table, no virtual addresses),
 * learns the states from B's bulk update and preempts; the flows survive
 * that too. The stalls are printed; the bounds are issue 6's targets.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { labTest, sleep } from "./lab.ts";
import {
  forwardedPackets,
  labEntries,
  startFirewall,
  stopFlows,
  VIP_IN,
  VIP_OUT,
  waitBoth,
} from "./fixtures/ct_topology.ts";
import {
  assertFlowsIntact,
  clientRto,
  explain,
  phaseReport,
  printDrops,
  printReport,
  retransmissionAfter,
  startPair,
  waitRecovered,
} from "./fixtures/ct_failover.ts";

labTest(
  "conntrack failover: A crashes, B carries TCP (lines + bulk), UDP and ICMP; A returns and preempts",
  async (lab) => {
    const pair = await startPair(lab);
    const { net, b, flows } = pair;
    await sleep(500);
    // The connection's own RTO (about 204 ms, not 200): TCP's backoff is built on it.
    const rto = await clientRto(net);

    // --- crash: SIGKILL the agent and take A off both LANs ---
    const crashAt = Date.now();
    const t0 = performance.now();
    pair.a.proc.kill("SIGKILL");
    await Promise.all([net.fwa.down("in0"), net.fwa.down("out0")]);
    await waitBoth(b, "MASTER", 8_000);
    const takeoverMs = performance.now() - t0;
    assert(await waitRecovered(flows, crashAt, 10_000), "flows did not recover after the crash");

    // --- A returns as after a reboot: no VIPs, empty conntrack table, links up ---
    await net.fwa.delAddr("in0", VIP_IN);
    await net.fwa.delAddr("out0", VIP_OUT);
    await net.fwa.exec(["conntrack", "-F"]);
    assertEquals(await labEntries(net.fwa), []);
    await Promise.all([net.fwa.up("in0"), net.fwa.up("out0")]);
    const backAt = Date.now();
    const t1 = performance.now();
    pair.a = await startFirewall(net.fwa, lab, 1, 0, "pfsyncd2");
    await waitBoth(pair.a, "MASTER", 20_000);
    const preemptMs = performance.now() - t1;
    await waitBoth(b, "BACKUP", 5_000);
    await waitRecovered(flows, backAt, 4_000); // a clean switch may not stall at all
    const forwardedBefore = await forwardedPackets(net.fwa);
    await sleep(1_000);
    const forwardedByA = (await forwardedPackets(net.fwa)) - forwardedBefore;

    const result = await stopFlows(flows).catch((e) => explain(e, pair));
    const phases = [
      phaseReport("crash of A → B", result, crashAt, backAt, takeoverMs),
      phaseReport("A back, preempts", result, backAt, Date.now(), preemptMs),
    ];
    printReport(phases, result.flows);
    await printDrops(net);

    // No reset, nothing lost on the byte stream.
    assertFlowsIntact(result.flows);
    // Every flow came through the crash: TCP within the next retransmission after the takeover.
    const [crash, back] = phases;
    const bound = retransmissionAfter(crash.takeoverMs / 1000, rto) * 1000 + 500;
    assert(
      crash.tcpStallMs > 0 && crash.tcpStallMs <= bound,
      `TCP stall ${crash.tcpStallMs} ms > ${bound} ms`,
    );
    assert(
      crash.udpGapMs > 0 && crash.udpGapMs <= crash.takeoverMs + 1_500,
      `UDP gap ${crash.udpGapMs} ms`,
    );
    assert(crash.icmpGapMs <= crash.takeoverMs + 1_500, `ICMP gap ${crash.icmpGapMs} ms`);
    // After the preemption the flows still run through A (states from B's bulk update).
    assert(back.tcpStallMs <= 1_500, `TCP stall after A's return ${back.tcpStallMs} ms`);
    assert(back.udpGapMs <= 1_500, `UDP gap after A's return ${back.udpGapMs} ms`);
    assert(result.flows.udp.received > 0 && result.ping.received > 0);
    assert(forwardedByA > 20, `A forwards the flows again (${forwardedByA} packets in 1 s)`);
    assert((await labEntries(net.fwa)).length >= 3, "A's kernel holds the flows again");
  },
  { timeoutMs: 60_000 },
);
