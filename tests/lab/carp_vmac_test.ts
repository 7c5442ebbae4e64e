/**
 * The optional virtual MAC (issue 4 "Takeover", spec carp.md §5.1, §7.9):
 * with `virtual_mac: true` the MASTER holds the VIP on a macvlan `eth0.c<vhid>`
 * with MAC 00:00:5e:00:01:VHID, so after a failover the client's neighbour
 * entry for the VIP is still right and needs no update.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { startAgent } from "./agent.ts";
import { carpLan, neighbourMac, pings, VIP } from "./fixtures/carp_peers.ts";
import type { Ns } from "./ns.ts";
import { labTest, waitFor } from "./lab.ts";

const VHID = 7;
const VMAC = "00:00:5e:00:01:07";
const MACVLAN = "eth0.c7";

function vmacYaml(hostid: number, advskew: number): string {
  return [
    `hostid: ${hostid}`,
    "log: {level: debug}",
    "carp:",
    `  - {vhid: ${VHID}, parent: eth0, advbase: 1, advskew: ${advskew}, pass: "vmac",`,
    `     virtual_mac: true, addresses: [${VIP}/24]}`,
  ].join("\n") + "\n";
}

/** The operator's tuning from the README: only the interface holding an address answers for it. */
async function tuneArp(ns: Ns): Promise<void> {
  await ns.sysctl("net.ipv4.conf.all.arp_ignore", 1);
  await ns.sysctl("net.ipv4.conf.all.arp_announce", 2);
}

async function hasLink(ns: Ns, name: string): Promise<boolean> {
  return (await ns.links()).some((l) => l.ifname === name);
}

labTest(
  "carp virtual_mac: the VIP keeps the MAC 00:00:5e:00:01:VHID across a failover",
  async (lab) => {
    const net = await carpLan(lab);
    await Promise.all([tuneArp(net.fw1), tuneArp(net.fw2)]);
    const capture = await net.lan.tcpdump("br0", "arp");
    const sysctl = "net.inet.carp.preempt=1\n";
    const fw1 = await startAgent(net.fw1, lab, { yaml: vmacYaml(1, 0), sysctl });
    await fw1.waitForVhid(VHID, "MASTER", { timeoutMs: 6_000 });
    const fw2 = await startAgent(net.fw2, lab, { yaml: vmacYaml(2, 100), sysctl });
    await fw2.waitForVhid(VHID, "BACKUP", { timeoutMs: 6_000 });

    // The master: macvlan with the virtual MAC holds the VIP, the parent does not.
    await waitFor(async () => (await net.fw1.addresses(MACVLAN)).includes(`${VIP}/24`), {
      timeoutMs: 3_000,
      message: `${VIP} on fw1 ${MACVLAN}`,
    });
    assertEquals(await net.fw1.mac(MACVLAN), VMAC);
    assert(!(await net.fw1.addresses("eth0")).includes(`${VIP}/24`), "VIP on fw1's parent");
    assert(!(await hasLink(net.fw2, MACVLAN)), `the backup has no ${MACVLAN}`);

    // The client resolves the VIP to the virtual MAC.
    await waitFor(() => pings(net.client, VIP), { timeoutMs: 3_000, message: "VIP answers" });
    assertEquals(await neighbourMac(net.client, "eth0", VIP), VMAC);

    // The master dies hard (its macvlan stays behind), its link goes down.
    fw1.proc.kill("SIGKILL");
    await net.fw1.down("eth0");
    await fw2.waitForVhid(VHID, "MASTER", { timeoutMs: 6_000 });
    await waitFor(async () => (await net.fw2.addresses(MACVLAN)).includes(`${VIP}/24`), {
      timeoutMs: 3_000,
      message: `${VIP} on fw2 ${MACVLAN}`,
    });
    assertEquals(await net.fw2.mac(MACVLAN), VMAC);

    // No neighbour update was needed: the client's entry is still the virtual MAC, and works.
    assertEquals(await neighbourMac(net.client, "eth0", VIP), VMAC);
    await waitFor(() => pings(net.client, VIP), {
      timeoutMs: 3_000,
      message: "VIP answers from fw2",
    });
    assertEquals(await neighbourMac(net.client, "eth0", VIP), VMAC);

    // Both takeovers announced the VIP from the virtual MAC, never from a parent's MAC.
    await capture.stop();
    const garps = (await capture.text()).split("\n")
      .filter((line) => line.includes(`who-has ${VIP} tell ${VIP},`))
      .map((line) => line.split(/\s+/)[1]);
    assert(garps.length >= 2, `gratuitous ARPs for ${VIP}: ${garps.length}`);
    assertEquals(new Set(garps), new Set([VMAC]));

    // A clean exit deletes the macvlan with its address.
    assertEquals(await fw2.stop(), 0);
    assert(!(await hasLink(net.fw2, MACVLAN)), `${MACVLAN} deleted on exit`);
  },
  { timeoutMs: 30_000 },
);

labTest(
  "carp virtual_mac: switched on and off by reload, the VIP moves between parent and macvlan",
  async (lab) => {
    const net = await carpLan(lab);
    const fw1 = await startAgent(net.fw1, lab, {
      yaml: vmacYaml(1, 0).replace("virtual_mac: true", "virtual_mac: false"),
    });
    await fw1.waitForVhid(VHID, "MASTER", { timeoutMs: 6_000 });
    const vipOn = async (link: string) =>
      (await hasLink(net.fw1, link)) && (await net.fw1.addresses(link)).includes(`${VIP}/24`);
    await waitFor(() => vipOn("eth0"), { timeoutMs: 3_000, message: `${VIP} on eth0` });

    for (const on of [true, false]) {
      const text = await Deno.readTextFile(fw1.yamlPath);
      await Deno.writeTextFile(
        fw1.yamlPath,
        text.replace(`virtual_mac: ${!on}`, `virtual_mac: ${on}`),
      );
      const run = await fw1.cli(["reload"]);
      assertEquals(run.code, 0, run.stderr);
      assert(
        run.stdout.includes(`vhid ${VHID}@eth0 restarted: virtual_mac ${on ? "on" : "off"}`),
        run.stdout,
      );
      await fw1.waitForVhid(VHID, "MASTER", { timeoutMs: 6_000 });
      const [holder, other] = on ? [MACVLAN, "eth0"] : ["eth0", MACVLAN];
      await waitFor(() => vipOn(holder), { timeoutMs: 3_000, message: `${VIP} on ${holder}` });
      assert(!(await vipOn(other)), `${VIP} left on ${other}`);
      assertEquals(await hasLink(net.fw1, MACVLAN), on, `${MACVLAN} exists: ${on}`);
      if (on) assertEquals(await net.fw1.mac(MACVLAN), VMAC);
    }
    assertEquals(await fw1.stop(), 0);
  },
  { timeoutMs: 30_000 },
);
