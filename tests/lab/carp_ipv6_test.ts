/**
 * CARP over IPv6 between two pfsyncd nodes (issue 4, "Protocol": ff02::12
 * transport; "Takeover": unsolicited NA): the backup hears the master on
 * ff02::12, takes over when it dies, and the client's neighbour entry for the
 * virtual address moves to the new master.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { carpYaml, startAgent, type VhidSpec } from "./agent.ts";
import { carpLan, neighbourMac } from "./fixtures/carp_peers.ts";
import { execCommand, labTest, waitFor } from "./lab.ts";

const VIP6 = "2001:db8:0:1::1";
const VIP6_CIDR = `${VIP6}/64`;

labTest(
  "carp: an IPv6 vhid fails over to the backup, which announces itself with an unsolicited NA",
  async (lab) => {
    const net = await carpLan(lab);
    for (const [ns, host] of [[net.fw1, "11"], [net.fw2, "12"], [net.client, "100"]] as const) {
      await ns.addr("eth0", `2001:db8:0:1::${host}/64`);
    }
    const vhid = (advskew: number): VhidSpec[] => [
      { vhid: 6, parent: "eth0", advskew, pass: "six", addresses: [VIP6_CIDR] },
    ];
    // The link-local source of the advertisements must exist before the agents send.
    for (const ns of [net.fw1, net.fw2]) {
      await waitFor(async () =>
        (await ns.ipJson<unknown[]>(
          ["-6", "addr", "show", "dev", "eth0", "scope", "link", "-tentative"],
        )).some((l) => ((l as { addr_info?: unknown[] }).addr_info ?? []).length > 0), {
        timeoutMs: 5_000,
        message: `${ns.label}: link-local address ready`,
      });
    }
    const capture = await net.lan.tcpdump("br0", "ip6");
    const fw1 = await startAgent(net.fw1, lab, { yaml: carpYaml(1, vhid(0), { preempt: true }) });
    await fw1.waitForVhid(6, "MASTER", { timeoutMs: 3_000 });
    const fw2 = await startAgent(net.fw2, lab, { yaml: carpYaml(2, vhid(100)) });
    await fw2.waitForVhid(6, "BACKUP", { timeoutMs: 3_000 });
    await waitFor(async () => (await fw2.status()).carpStats.ipackets6 >= 2, {
      timeoutMs: 5_000,
      message: "fw2 hears fw1 on ff02::12",
    });
    const heard = (await fw2.status()).carpStats;
    assertEquals(heard.badauth + heard.badttl + heard.badsum + heard.badvhid, 0);
    assertEquals((await fw2.vhid(6)).state, "BACKUP");
    const ping6 = ["ping", "-6", "-n", "-q", "-c", "1", "-W", "1", VIP6];
    assert((await net.client.run(ping6)).success, "the IPv6 VIP answers from fw1");
    assertEquals(await neighbourMac(net.client, "eth0", VIP6), await net.fw1.mac("eth0"));

    fw1.proc.kill("SIGKILL");
    await net.fw1.delAddr("eth0", VIP6_CIDR);
    await fw2.waitForVhid(6, "MASTER", { timeoutMs: 6_000 });
    assertEquals((await fw2.vhid(6)).reason, "master timed out");
    const fw2Mac = await net.fw2.mac("eth0");
    await waitFor(async () => (await neighbourMac(net.client, "eth0", VIP6)) === fw2Mac, {
      timeoutMs: 2_000,
      message: "client's neighbour entry for the VIP points at fw2",
    });
    assert((await net.client.run(ping6)).success, "the IPv6 VIP answers from fw2");
    await capture.stop();

    // fw2's unsolicited NA: to ff02::1, for the VIP, Override set, its own MAC as target LLA.
    const nas = await execCommand([
      "tshark",
      "-r",
      capture.path,
      "-Y",
      `icmpv6.type == 136 && icmpv6.nd.na.target_address == ${VIP6}`,
      "-T",
      "fields",
      "-e",
      "ipv6.dst",
      "-e",
      "icmpv6.nd.na.flag.o",
      "-e",
      "icmpv6.opt.linkaddr",
      "-e",
      "eth.src",
    ]);
    const fromFw2 = nas.split("\n").filter((l) => l.endsWith(`\t${fw2Mac}`));
    assert(fromFw2.length >= 1, `no unsolicited NA from fw2 in:\n${nas}`);
    const [dst, override, lla] = fromFw2[0].split("\t");
    assertEquals([dst, override === "1" || override === "True", lla], ["ff02::1", true, fw2Mac]);
  },
  { timeoutMs: 40_000 },
);
