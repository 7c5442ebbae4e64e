/**
 * pfsyncd's advertisements as an independent decoder sees them (issue 4,
 * "Done when" 3): captured with tcpdump, read by Wireshark's CARP dissector
 * (`tshark -d ip.proto==112,carp`), every packet has a correct checksum and
 * the configured vhid, advbase and advskew.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { carpYaml, startAgent } from "./agent.ts";
import { carpLan, readCarpAdverts } from "./fixtures/carp_peers.ts";
import { execCommand, labTest, waitFor } from "./lab.ts";

labTest(
  "carp: tshark decodes every advertisement with a good checksum and the configured fields",
  async (lab) => {
    const net = await carpLan(lab, { client: false });
    const capture = await net.lan.tcpdump("br0", "ip proto 112");
    const configured = [
      { vhid: 7, advbase: 1, advskew: 37, pass: "tshark-one", addresses: ["192.0.2.7/24"] },
      { vhid: 200, advbase: 2, advskew: 254, pass: "tshark-two", addresses: ["192.0.2.200/24"] },
    ];
    const agent = await startAgent(net.fw1, lab, {
      yaml: carpYaml(1, configured.map((v) => ({ ...v, parent: "eth0" }))),
      sysctl: "net.inet.carp.preempt=1\n",
    });
    await agent.waitForVhid(7, "MASTER", { timeoutMs: 3_000 });
    await agent.waitForVhid(200, "MASTER", { timeoutMs: 3_000 });
    await waitFor(async () => (await agent.status()).carpStats.opackets >= 6, {
      timeoutMs: 6_000,
      message: "six advertisements sent",
    });
    // Stop capturing before the agent stops: its bow-out (255/255) is not a configured value.
    await capture.stop();
    const { opackets } = (await agent.status()).carpStats;

    const adverts = await readCarpAdverts(capture.path);
    assert(adverts.length >= 6, `captured ${adverts.length} advertisements`);
    assert(adverts.length <= opackets, "no packet on the wire that the agent did not count");
    for (const advert of adverts) {
      const vhost = configured.find((v) => v.vhid === advert.vhid);
      assert(vhost !== undefined, `unexpected vhid ${advert.vhid}`);
      assertEquals(advert.src, net.addr.fw1);
      assertEquals(advert.ttl, 255);
      assertEquals(advert.checksum, "good", `checksum of vhid ${advert.vhid} at ${advert.time}`);
      assertEquals(advert.advbase, vhost.advbase, `advbase of vhid ${advert.vhid}`);
      assertEquals(advert.advskew, vhost.advskew, `advskew of vhid ${advert.vhid}`);
    }
    for (const vhid of [7, 200]) {
      assert(adverts.some((a) => a.vhid === vhid), `vhid ${vhid} on the wire`);
    }
    // tshark's own words, as an operator would read them.
    const verbose = await execCommand([
      "tshark",
      "-r",
      capture.path,
      "-d",
      "ip.proto==112,carp",
      "-V",
      "-c",
      "1",
    ]);
    assert(/Common Address Redundancy Protocol/.test(verbose), "decoded as CARP");
    assert(/\[Checksum Status: Good\]/.test(verbose), `checksum status in:\n${verbose}`);
  },
  { timeoutMs: 30_000 },
);
