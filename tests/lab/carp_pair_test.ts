/**
 * Two pfsyncd nodes (issue 4, "Done when" 4): election by advskew,
 * preemption off and on, the bow-out on SIGTERM, and a parent link going
 * down making the peer take over every vhid of the host (demotion, §4.6).
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { carpYaml, type LabAgent, startAgent, type VhidSpec } from "./agent.ts";
import { carpLan, LAN_PREFIX, readCarpAdverts, VIP, wallNow } from "./fixtures/carp_peers.ts";
import { type Lab, labTest, type Ns, sleep, waitFor } from "./lab.ts";

const VIP_CIDR = `${VIP}/${LAN_PREFIX}`;
const PASS = "pair-secret";

function lanVhid(advskew: number, advbase = 1): VhidSpec[] {
  return [{ vhid: 1, parent: "eth0", advbase, advskew, pass: PASS, addresses: [VIP_CIDR] }];
}

async function states(agent: LabAgent): Promise<string[]> {
  return (await agent.status()).carp.map((v) => `${v.vhid}:${v.state}`);
}

labTest(
  "carp pair: the lower advskew wins; without preemption a returning node stays BACKUP",
  async (lab) => {
    const net = await carpLan(lab, { client: false });
    const [fw1, fw2] = await Promise.all([
      startAgent(net.fw1, lab, { yaml: carpYaml(1, lanVhid(100), { preempt: false }) }),
      startAgent(net.fw2, lab, { yaml: carpYaml(2, lanVhid(50), { preempt: false }) }),
    ]);
    // Both start BACKUP; fw2's master-down interval (3 + 50/256 s) ends first.
    await fw2.waitForVhid(1, "MASTER", { timeoutMs: 8_000 });
    assertEquals((await fw2.vhid(1)).reason, "master timed out");
    await sleep(1_000);
    assertEquals(await states(fw1), ["1:BACKUP"]);
    assert((await net.fw2.addresses("eth0")).includes(VIP_CIDR), "VIP on fw2");
    assert(!(await net.fw1.addresses("eth0")).includes(VIP_CIDR), "no VIP on fw1");

    // fw2 leaves (bow-out) and comes back: without preemption fw1 keeps the role.
    assertEquals(await fw2.stop(), 0);
    await fw1.waitForVhid(1, "MASTER", { timeoutMs: 1_000 });
    const again = await startAgent(net.fw2, lab, {
      yaml: carpYaml(2, lanVhid(50), { preempt: false }),
      label: "pfsyncd-again",
    });
    await again.waitForVhid(1, "BACKUP", { timeoutMs: 3_000 });
    // Longer than fw2's master-down interval: it hears the worse master and stays.
    await sleep(3_700);
    assertEquals(await states(again), ["1:BACKUP"]);
    assertEquals(await states(fw1), ["1:MASTER"]);
    // fw1 (advskew 100) advertises every 1 + 100/256 s.
    assert((await again.status()).carpStats.ipackets >= 2, "fw2 hears fw1's advertisements");
    assert(!(await net.fw2.addresses("eth0")).includes(VIP_CIDR), "no VIP on fw2");
  },
  { timeoutMs: 45_000 },
);

labTest("carp pair: with preemption the better node takes the role back", async (lab) => {
  const net = await carpLan(lab, { client: false });
  const fw1 = await startAgent(net.fw1, lab, {
    yaml: carpYaml(1, lanVhid(100), { preempt: true }),
  });
  await fw1.waitForVhid(1, "MASTER", { timeoutMs: 3_000 });
  const fw2 = await startAgent(net.fw2, lab, { yaml: carpYaml(2, lanVhid(50), { preempt: true }) });
  await fw2.waitForVhid(1, "MASTER", { timeoutMs: 3_000 });
  await fw1.waitForVhid(1, "BACKUP", { timeoutMs: 3_000 });
  assertEquals((await fw1.vhid(1)).reason, `preempted by ${net.addr.fw2}`);

  // The better node goes away and returns: it takes the role back at once.
  assertEquals(await fw2.stop(), 0);
  await fw1.waitForVhid(1, "MASTER", { timeoutMs: 1_000 });
  assert((await net.fw1.addresses("eth0")).includes(VIP_CIDR), "VIP on fw1 while fw2 is away");
  const back = await startAgent(net.fw2, lab, {
    yaml: carpYaml(2, lanVhid(50), { preempt: true }),
    label: "pfsyncd-back",
  });
  await back.waitForVhid(1, "MASTER", { timeoutMs: 3_000 });
  await fw1.waitForVhid(1, "BACKUP", { timeoutMs: 3_000 });
  await waitFor(async () => !(await net.fw1.addresses("eth0")).includes(VIP_CIDR), {
    message: "fw1 removed the VIP",
  });
  assert((await net.fw2.addresses("eth0")).includes(VIP_CIDR), "VIP on fw2");
}, { timeoutMs: 30_000 });

labTest(
  "carp pair: SIGTERM on the master hands over at once through the bow-out (advbase 3)",
  async (lab) => {
    const net = await carpLan(lab, { client: false });
    const capture = await net.lan.tcpdump("br0", "ip proto 112");
    const fw1 = await startAgent(net.fw1, lab, {
      yaml: carpYaml(1, lanVhid(0, 3), { preempt: true }),
    });
    await fw1.waitForVhid(1, "MASTER", { timeoutMs: 3_000 });
    const fw2 = await startAgent(net.fw2, lab, { yaml: carpYaml(2, lanVhid(100, 3)) });
    await fw2.waitForVhid(1, "BACKUP", { timeoutMs: 3_000 });
    await waitFor(async () => (await fw2.status()).carpStats.ipackets >= 1, {
      timeoutMs: 5_000,
      message: "fw2 heard fw1",
    });

    const masterDownMs = 3 * 3 * 1000 + (100 / 256) * 1000;
    const termAt = performance.now();
    const termWall = wallNow();
    fw1.proc.kill("SIGTERM");
    const tookOver = await fw2.waitForVhid(1, "MASTER", { timeoutMs: 3_000, intervalMs: 5 });
    const elapsed = tookOver - termAt;
    assert(
      elapsed < 1_000,
      `fw2 MASTER ${elapsed.toFixed(0)} ms after SIGTERM (master-down ${masterDownMs} ms)`,
    );
    assertMatch((await fw2.vhid(1)).reason ?? "", /^bow-out from 192\.0\.2\.11$/);
    assertEquals((await fw1.proc.waitExit(5_000))?.code, 0, "fw1 exits 0");
    assert(!(await net.fw1.addresses("eth0")).includes(VIP_CIDR), "fw1 removed the VIP");
    await waitFor(async () => (await net.fw2.addresses("eth0")).includes(VIP_CIDR), {
      message: "VIP on fw2",
    });
    await capture.stop();

    const adverts = await readCarpAdverts(capture.path);
    const fromFw1 = adverts.filter((a) => a.src === net.addr.fw1);
    const bowOut = fromFw1.at(-1);
    assert(bowOut !== undefined && bowOut.time >= termWall - 0.05, "fw1's bow-out on the wire");
    assertEquals([bowOut.advbase, bowOut.advskew, bowOut.checksum], [255, 255, "good"]);
    assertEquals(fromFw1.filter((a) => a.advbase === 255).length, 1, "exactly one bow-out");
    const first = adverts.find((a) => a.src === net.addr.fw2)!;
    assert(first !== undefined && first.time >= bowOut.time, "fw2 advertises after the bow-out");
    assert(
      first.time - bowOut.time < 0.1,
      `fw2's first advertisement ${((first.time - bowOut.time) * 1000).toFixed(1)} ms after it`,
    );
  },
  { timeoutMs: 30_000 },
);

/** fw1 and fw2 on two LANs: eth0 on 192.0.2.0/24 (bridge in lanA), eth1 on 198.51.100.0/24. */
async function twoLans(lab: Lab): Promise<{ fw1: Ns; fw2: Ns }> {
  const [fw1, fw2, lanA, lanB] = await Promise.all(
    ["fw1", "fw2", "lanA", "lanB"].map((label) => lab.namespace(label)),
  );
  for (
    const [lan, ifname, net] of [[lanA, "eth0", "192.0.2"], [lanB, "eth1", "198.51.100"]] as const
  ) {
    await lab.link(fw1, ifname, lan, "p1");
    await lab.link(fw2, ifname, lan, "p2");
    await lab.bridge(lan, "br0", ["p1", "p2"]);
    await fw1.addr(ifname, `${net}.11/24`);
    await fw2.addr(ifname, `${net}.12/24`);
  }
  return { fw1, fw2 };
}

labTest(
  "carp pair: the master's parent link going down hands every vhid of the host over",
  async (lab) => {
    const { fw1: ns1, fw2: ns2 } = await twoLans(lab);
    const vhids = (advskew: number): VhidSpec[] => [
      { vhid: 1, parent: "eth0", advskew, pass: PASS, addresses: ["192.0.2.1/24"] },
      { vhid: 2, parent: "eth1", advskew, pass: PASS, addresses: ["198.51.100.1/24"] },
    ];
    const fw1 = await startAgent(ns1, lab, { yaml: carpYaml(1, vhids(0), { preempt: true }) });
    await fw1.waitForVhid(1, "MASTER", { timeoutMs: 3_000 });
    await fw1.waitForVhid(2, "MASTER", { timeoutMs: 3_000 });
    const fw2 = await startAgent(ns2, lab, { yaml: carpYaml(2, vhids(100), { preempt: true }) });
    await fw2.waitForVhid(1, "BACKUP", { timeoutMs: 3_000 });
    await fw2.waitForVhid(2, "BACKUP", { timeoutMs: 3_000 });

    // Only eth0 fails, but the host is demoted, so fw2 preempts vhid 2 on the healthy LAN at
    // once and takes vhid 1 when fw1's advertisements on eth0 stop (3 + 100/256 s).
    const downAt = performance.now();
    await ns1.down("eth0");
    const vhid2At = await fw2.waitForVhid(2, "MASTER", { timeoutMs: 2_000, intervalMs: 10 });
    assert(vhid2At - downAt < 1_500, `vhid 2 moved ${(vhid2At - downAt).toFixed(0)} ms after`);
    await fw2.waitForVhid(1, "MASTER", { timeoutMs: 5_000 });
    const status = await fw1.status();
    assertEquals(status.carp.map((v) => `${v.vhid}:${v.state}`), ["1:INIT", "2:BACKUP"]);
    assert(status.demotion.value > 0, "fw1 is demoted");
    assert(
      status.demotion.reasons.some((r) => /link/.test(r.reason) && /eth0/.test(r.reason)),
      `demotion reasons: ${JSON.stringify(status.demotion.reasons)}`,
    );
    assertEquals((await fw2.vhid(2)).reason, `preempting slower master 198.51.100.11`);
    assert((await ns2.addresses("eth0")).includes("192.0.2.1/24"), "fw2 holds VIP 1");
    assert((await ns2.addresses("eth1")).includes("198.51.100.1/24"), "fw2 holds VIP 2");
    assert(!(await ns1.addresses("eth1")).includes("198.51.100.1/24"), "fw1 gave VIP 2 up");

    // The link returns: the demotion heals by itself and fw1 (better, preempt) takes both back.
    await ns1.up("eth0");
    await fw1.waitForVhid(1, "MASTER", { timeoutMs: 5_000 });
    await fw1.waitForVhid(2, "MASTER", { timeoutMs: 5_000 });
    await fw2.waitForVhid(1, "BACKUP", { timeoutMs: 3_000 });
    await fw2.waitForVhid(2, "BACKUP", { timeoutMs: 3_000 });
    assertEquals((await fw1.status()).demotion.value, 0);
  },
  { timeoutMs: 40_000 },
);
