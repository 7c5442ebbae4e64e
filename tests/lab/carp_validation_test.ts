/**
 * Receive validation on a real wire (issue 4, "Done when" 2): a peer with
 * the wrong passphrase is ignored and counted as `badauth`, packet by packet;
 * an otherwise valid advertisement with TTL 254 is dropped as `badttl`.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { carpYaml, startAgent } from "./agent.ts";
import { carpLan, LAN_PREFIX, readCarpAdverts, VIP, wallNow } from "./fixtures/carp_peers.ts";
import { labTest, sleep, waitFor } from "./lab.ts";

const VIP_CIDR = `${VIP}/${LAN_PREFIX}`;
const SENDER = new URL("./fixtures/carp_send.ts", import.meta.url);

labTest(
  "carp: a wrong passphrase leaves both MASTER and counts every packet as badauth",
  async (lab) => {
    const net = await carpLan(lab, { client: false });
    const capture = await net.lan.tcpdump("br0", "ip proto 112");
    const vhid = (pass: string, advskew: number) => [
      { vhid: 1, parent: "eth0", advskew, pass, addresses: [VIP_CIDR] },
    ];
    const [a, b] = await Promise.all([
      startAgent(net.fw1, lab, { yaml: carpYaml(1, vhid("right-secret", 0)) }),
      startAgent(net.fw2, lab, { yaml: carpYaml(2, vhid("wrong-secret", 100)) }),
    ]);
    // Neither hears a valid master, so both time out into MASTER and stay there.
    await a.waitForVhid(1, "MASTER", { timeoutMs: 8_000 });
    await b.waitForVhid(1, "MASTER", { timeoutMs: 8_000 });
    for (const [agent, label] of [[a, "fw1"], [b, "fw2"]] as const) {
      await waitFor(async () => (await agent.status()).carpStats.badauth >= 3, {
        timeoutMs: 6_000,
        message: `${label} counted three of its peer's packets as badauth`,
      });
    }
    await sleep(300);
    const askedAt = wallNow();
    const [statusA, statusB] = await Promise.all([a.status(), b.status()]);
    const answeredAt = wallNow();
    await capture.stop();
    const adverts = await readCarpAdverts(capture.path);

    for (const [status, peer] of [[statusA, net.addr.fw2], [statusB, net.addr.fw1]] as const) {
      assertEquals(status.carp[0].state, "MASTER");
      const stats = status.carpStats;
      // Every packet received was rejected by the HMAC check, and nothing else.
      assert(stats.badauth > 0, "badauth counted");
      assertEquals(stats.ipackets, stats.badauth, "every received packet is a badauth drop");
      for (const counter of ["badttl", "badsum", "badver", "badlen", "badvhid", "badif"]) {
        assertEquals(stats[counter], 0, counter);
      }
      // … and it is exactly the peer's packets on the wire up to the moment it answered
      // (a packet on the wire while we were asking may or may not be counted yet).
      const sent = (before: number) => adverts.filter((x) => x.src === peer && x.time < before);
      const [least, most] = [sent(askedAt - 0.005).length, sent(answeredAt + 0.005).length];
      assert(
        least <= stats.badauth && stats.badauth <= most && least >= 3,
        `badauth ${stats.badauth} vs ${least}..${most} packets from ${peer} on the wire`,
      );
    }
    assert((await net.fw1.addresses("eth0")).includes(VIP_CIDR), "fw1 keeps the VIP");
    assert((await net.fw2.addresses("eth0")).includes(VIP_CIDR), "fw2 keeps the VIP");
  },
  { timeoutMs: 40_000 },
);

labTest(
  "carp: an advertisement with TTL 254 is dropped as badttl; the same with 255 is obeyed",
  async (lab) => {
    const net = await carpLan(lab, { client: false });
    const agent = await startAgent(net.fw1, lab, {
      yaml: carpYaml(1, [{
        vhid: 1,
        parent: "eth0",
        advskew: 100,
        pass: "ttl-secret",
        addresses: [VIP_CIDR],
      }]),
      sysctl: "net.inet.carp.preempt=1\n",
    });
    await agent.waitForVhid(1, "MASTER", { timeoutMs: 3_000 });

    // A better master (advskew 0, right passphrase and address) but one hop away.
    const send = (ttl: number, count: number) =>
      net.fw2.runDeno(SENDER, [
        "eth0",
        "1",
        "ttl-secret",
        VIP,
        "1",
        "0",
        String(ttl),
        String(count),
        "50",
      ]);
    const sent = await send(254, 3);
    assert(sent.success, `carp_send: ${sent.stderr}`);
    await waitFor(async () => (await agent.status()).carpStats.badttl === 3, {
      timeoutMs: 3_000,
      message: "three badttl drops",
    });
    let status = await agent.status();
    assertEquals(status.carp[0].state, "MASTER", "a TTL-254 packet changes nothing");
    assertEquals(status.carpStats.ipackets, 3);
    assertEquals(status.carpStats.badauth, 0);

    // The same packet with TTL 255 is a valid, better master: MASTER steps down (T4).
    const again = await send(255, 1);
    assert(again.success, `carp_send: ${again.stderr}`);
    await agent.waitForVhid(1, "BACKUP", { timeoutMs: 3_000 });
    status = await agent.status();
    assertEquals(status.carp[0].reason, `preempted by ${net.addr.fw2}`);
    assertEquals(status.carpStats.badttl, 3);
    assertEquals(status.carpStats.ipackets, 4);
  },
  { timeoutMs: 30_000 },
);
