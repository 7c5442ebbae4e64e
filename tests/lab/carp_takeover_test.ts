/**
 * What a new MASTER puts on the wire besides advertisements (issue 4,
 * "Takeover"): one gratuitous ARP per IPv4 address at once and exactly one
 * more two advertisement intervals later (spec carp.md §5.1, §7.7).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { carpYaml, startAgent } from "./agent.ts";
import { carpLan } from "./fixtures/carp_peers.ts";
import { execCommand, labTest, sleep } from "./lab.ts";

interface Arp {
  time: number;
  ethSrc: string;
  opcode: number;
  senderIp: string;
  targetIp: string;
}

async function readArps(pcap: string): Promise<Arp[]> {
  const fields = [
    "frame.time_epoch",
    "eth.src",
    "arp.opcode",
    "arp.src.proto_ipv4",
    "arp.dst.proto_ipv4",
  ];
  const text = await execCommand([
    "tshark",
    "-r",
    pcap,
    "-Y",
    "arp",
    "-T",
    "fields",
    ...fields.flatMap((f) => ["-e", f]),
  ]);
  return text.split("\n").filter((l) => l.trim()).map((line) => {
    const [time, ethSrc, opcode, senderIp, targetIp] = line.split("\t");
    return { time: Number(time), ethSrc, opcode: Number(opcode), senderIp, targetIp };
  });
}

labTest(
  "carp: a takeover sends one gratuitous ARP per address at once and one two intervals later",
  async (lab) => {
    const net = await carpLan(lab, { client: false });
    const capture = await net.lan.tcpdump("br0", "arp or ip proto 112");
    const vips = ["192.0.2.1", "192.0.2.2"];
    const agent = await startAgent(net.fw1, lab, {
      yaml: carpYaml(1, [{
        vhid: 1,
        parent: "eth0",
        advbase: 1,
        advskew: 0,
        pass: "garp",
        addresses: vips.map((v) => `${v}/24`),
      }]),
      sysctl: "net.inet.carp.preempt=1\n",
    });
    await agent.waitForVhid(1, "MASTER", { timeoutMs: 3_000 });
    // Long enough for a third round, were there one (two intervals after the second).
    await sleep(5_000);
    await capture.stop();

    const mac = await net.fw1.mac("eth0");
    const garps = (await readArps(capture.path)).filter((a) =>
      a.opcode === 1 && a.senderIp === a.targetIp && vips.includes(a.senderIp)
    );
    for (const vip of vips) {
      const own = garps.filter((a) => a.senderIp === vip);
      assertEquals(own.length, 2, `gratuitous ARPs for ${vip}: ${JSON.stringify(own)}`);
      for (const garp of own) assertEquals(garp.ethSrc, mac);
      const gap = own[1].time - own[0].time;
      assert(gap > 1.7 && gap < 2.5, `second gratuitous ARP ${gap.toFixed(3)} s after the first`);
    }
  },
  { timeoutMs: 30_000 },
);
