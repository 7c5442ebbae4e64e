/**
 * Issue 6, "Done when", in IPv6: the failover lab with the CARP vhids holding
 * IPv6 virtual addresses (2001:db8:1::1 inside, 2001:db8:2::1 outside: the
 * client's and server's default routers) and the flows over IPv6 — a TCP
 * line echo plus a paced bulk stream, a UDP stream from the server, an
 * ICMPv6 echo stream. B's kernel must hold the IPv6 entries pfsync brought
 * it before anything fails; then A crashes (agent SIGKILLed, its LAN links
 * down) and B, after its unsolicited NAs, carries every flow with no reset.
 * Then A comes back as after a reboot (empty table, addresses configured
 * again), takes the IPv6 states from B's bulk update and preempts.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { execCommand, labTest, sleep } from "./lab.ts";
import { neighbourMac } from "./fixtures/carp_peers.ts";
import {
  forwardedPackets,
  labEntries,
  SERVER6,
  startFirewall,
  stopFlows,
  VIP_IN6,
  VIP_OUT6,
  waitBoth,
  waitLinkLocal,
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

const addressOf = (cidr: string) => cidr.split("/")[0];

interface NaFlags {
  readonly override: boolean;
  readonly router: boolean;
}

/** NAs from `mac` for `vip` in a capture: their Override and Router flags. */
async function neighbourAdverts(pcap: string, vip: string, mac: string): Promise<NaFlags[]> {
  const text = await execCommand([
    "tshark",
    "-r",
    pcap,
    "-Y",
    `icmpv6.type == 136 && icmpv6.nd.na.target_address == ${addressOf(vip)} && eth.src == ${mac}`,
    "-T",
    "fields",
    "-e",
    "icmpv6.nd.na.flag.o",
    "-e",
    "icmpv6.nd.na.flag.r",
  ]);
  const yes = (flag: string) => flag === "1" || flag === "True";
  return text.split("\n").filter((l) => l.trim()).map((l) => {
    const [o, r] = l.split("\t");
    return { override: yes(o), router: yes(r) };
  });
}

labTest(
  "conntrack failover (IPv6): A crashes, B carries TCP (lines + bulk), UDP and ICMPv6; A returns",
  async (lab) => {
    const pair = await startPair(lab, { ipv6: true });
    const { net, b, flows, ends } = pair;

    // B's kernel holds the IPv6 flows before the failover: conntrack -L -f ipv6 in its namespace.
    const onB = await labEntries(net.fwb, ends);
    const byProto = (proto: string) => onB.filter((l) => l.startsWith(`${proto} `));
    assertEquals(byProto("tcp").length >= 2, true, `two TCP entries on B:\n${onB.join("\n")}`);
    for (const line of [...byProto("tcp"), ...byProto("udp"), ...byProto("icmpv6")]) {
      assert(line.includes(`dst=${SERVER6}`), `an IPv6 entry to the server: ${line}`);
    }
    assert(byProto("tcp").every((l) => l.includes("ESTABLISHED")), onB.join("\n"));
    assertEquals(byProto("icmpv6").length >= 1 && byProto("udp").length >= 1, true);
    // The ICMPv6 entry is an echo: request 128 one way, reply 129 back (LX1 pads carry both).
    assert(/type=128 code=0 id=\d+ .*type=129 code=0/.test(byProto("icmpv6")[0]), onB.join("\n"));
    // Unsolicited NAs on both LANs: the new master must tell the client and the server that the
    // VIPs moved, as the router it is (IPv6 forwarding on): Override and Router set.
    const naFilter = "icmp6 and ip6[40] == 136";
    const [inCapture, outCapture] = await Promise.all([
      net.inlan.tcpdump("br0", naFilter),
      net.outlan.tcpdump("br0", naFilter),
    ]);
    await sleep(500);
    const rto = await clientRto(net);

    // --- crash: SIGKILL the agent and take A off both LANs ---
    const crashAt = Date.now();
    const t0 = performance.now();
    pair.a.proc.kill("SIGKILL");
    await Promise.all([net.fwa.down("in0"), net.fwa.down("out0")]);
    await waitBoth(b, "MASTER", 8_000);
    const takeoverMs = performance.now() - t0;
    const recovered = await waitRecovered(flows, crashAt, 10_000);
    let forwarded = await forwardedPackets(net.fwb);
    await sleep(1_000);
    const forwardedByB = (await forwardedPackets(net.fwb)) - forwarded;
    // The client's and server's neighbour entries for the VIPs point at B now.
    const bMacs = { in0: await net.fwb.mac("in0"), out0: await net.fwb.mac("out0") };
    const neighboursOnB = [
      await neighbourMac(net.client, "eth0", addressOf(VIP_IN6)),
      await neighbourMac(net.server, "eth0", addressOf(VIP_OUT6)),
    ];

    // --- A returns as after a reboot: empty conntrack table, its own addresses only, links up ---
    await net.fwa.exec(["conntrack", "-F", "-f", "ipv6"]);
    assertEquals(await labEntries(net.fwa, ends), []);
    await Promise.all([net.fwa.up("in0"), net.fwa.up("out0")]);
    for (const [dev, cidr] of [["in0", "2001:db8:1::2/64"], ["out0", "2001:db8:2::2/64"]]) {
      // Admin down flushed the interface's IPv6 addresses (VIPs included); boot configures these.
      if (!(await net.fwa.addresses(dev)).includes(cidr)) await net.fwa.addr(dev, cidr);
      await waitLinkLocal(net.fwa, dev);
    }
    const backAt = Date.now();
    const t1 = performance.now();
    pair.a = await startFirewall(net.fwa, lab, 1, 0, "pfsyncd2", [VIP_IN6, VIP_OUT6]);
    await waitBoth(pair.a, "MASTER", 20_000);
    const preemptMs = performance.now() - t1;
    await waitBoth(b, "BACKUP", 5_000);
    await waitRecovered(flows, backAt, 4_000); // a clean switch may not stall at all
    forwarded = await forwardedPackets(net.fwa);
    await sleep(1_000);
    const forwardedByA = (await forwardedPackets(net.fwa)) - forwarded;
    const onA = await labEntries(net.fwa, ends);

    const result = await stopFlows(flows).catch((e) => explain(e, pair));
    const aMacs = { in0: await net.fwa.mac("in0"), out0: await net.fwa.mac("out0") };
    const sides = [
      { capture: inCapture, vip: VIP_IN6, dev: "in0" },
      { capture: outCapture, vip: VIP_OUT6, dev: "out0" },
    ] as const;
    const nas: { b: NaFlags[]; a: NaFlags[] }[] = [];
    for (const { capture, vip, dev } of sides) {
      await capture.stop();
      nas.push({
        b: await neighbourAdverts(capture.path, vip, bMacs[dev]),
        a: await neighbourAdverts(capture.path, vip, aMacs[dev]),
      });
    }
    const phases = [
      phaseReport("IPv6: crash of A → B", result, crashAt, backAt, takeoverMs),
      phaseReport("IPv6: A back, preempts", result, backAt, Date.now(), preemptMs),
    ];
    printReport(phases, result.flows);
    await printDrops(net);
    console.log(
      `client RTO ${
        Math.round(rto * 1000)
      } ms; ICMPv6 echo: ${result.ping.received}/${result.ping.sent} replies; IPv6 lab entries: ` +
        `${onB.length} on B before the crash, ${onA.length} on A after its return; ` +
        `unsolicited NAs (inside, outside): ${JSON.stringify(nas)}`,
    );

    const [crash, back] = phases;
    assert(recovered, "the IPv6 flows did not recover after the crash");
    // No reset, nothing lost on the byte streams.
    assertFlowsIntact(result.flows);
    // Within TCP's next retransmission after the takeover, on the connection's own RTO schedule.
    const bound = retransmissionAfter(crash.takeoverMs / 1000, rto) * 1000 + 500;
    assert(
      crash.tcpStallMs > 0 && crash.tcpStallMs <= bound,
      `TCP stall ${crash.tcpStallMs} ms > ${bound} ms`,
    );
    assert(
      crash.udpGapMs > 0 && crash.udpGapMs <= crash.takeoverMs + 1_500,
      `UDP gap ${crash.udpGapMs} ms`,
    );
    // A gap that ends (> 0) means echo replies came back through B after the crash.
    assert(
      crash.icmpGapMs > 0 && crash.icmpGapMs <= crash.takeoverMs + 1_500,
      `ICMPv6 gap ${crash.icmpGapMs} ms`,
    );
    assert(forwardedByB > 20, `B forwards the IPv6 flows (${forwardedByB} packets in 1 s)`);
    assertEquals(neighboursOnB, [bMacs.in0, bMacs.out0]);
    for (const [i, side] of [[0, "inside"], [1, "outside"]] as const) {
      for (const node of ["b", "a"] as const) {
        const seen = nas[i][node];
        assert(
          seen.length >= 1 && seen.every((na) => na.override && na.router),
          `${node.toUpperCase()}'s NAs ${side}: ${JSON.stringify(seen)}`,
        );
      }
    }
    // After the preemption the flows run through A again, on states from B's bulk update.
    assert(back.tcpStallMs <= 1_500, `TCP stall after A's return ${back.tcpStallMs} ms`);
    assert(back.udpGapMs <= 1_500, `UDP gap after A's return ${back.udpGapMs} ms`);
    assert(forwardedByA > 20, `A forwards the IPv6 flows again (${forwardedByA} packets in 1 s)`);
    assert(onA.length >= 3, `A's kernel holds the IPv6 flows again:\n${onA.join("\n")}`);
  },
  { timeoutMs: 60_000 },
);
