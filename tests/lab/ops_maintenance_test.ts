/**
 * Maintenance mode (issue 7, "Done when"): `maintenance on` makes the peer
 * MASTER without a lost ping (a client pings the VIP every 0.2 s through the
 * switch), the mode survives a restart of the agent (it comes back demoted and
 * BACKUP), and `maintenance off` hands the role back.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { carpYaml, startAgent } from "./agent.ts";
import { carpLan, LAN_PREFIX, VIP } from "./fixtures/carp_peers.ts";
import { labTest, sleep } from "./lab.ts";

const PREEMPT = "net.inet.carp.preempt=1\n";
const yaml = (hostid: number, advskew: number) =>
  carpYaml(hostid, [{
    vhid: 1,
    parent: "eth0",
    advskew,
    pass: "maint-pass",
    addresses: [`${VIP}/${LAN_PREFIX}`],
  }]);

labTest(
  "ops: maintenance on hands over without a lost ping and survives a restart until off",
  async (lab) => {
    const net = await carpLan(lab);
    const start = () =>
      startAgent(net.fw1, lab, { yaml: yaml(1, 0), sysctl: PREEMPT, label: "fw1agent" });
    let a = await start();
    await a.waitForVhid(1, "MASTER", { timeoutMs: 8_000 });
    const b = await startAgent(net.fw2, lab, { yaml: yaml(2, 100), sysctl: PREEMPT });
    await b.waitForVhid(1, "BACKUP", { timeoutMs: 8_000 });
    await a.waitForVhid(1, "MASTER", { timeoutMs: 3_000 });

    // The switch's view, shown when a ping is lost.
    const cap = await net.lan.tcpdump("br0", "arp or icmp or ip proto 112");
    // 25 pings, 0.2 s apart (5 s); the switch happens about 1.5 s in.
    const ping = net.client.spawn(["ping", "-D", "-n", "-i", "0.2", "-c", "25", "-W", "1", VIP], {
      label: "ping",
    });
    await ping.waitForOutput(/bytes from/, 5_000);
    // Past the client's ARP locktime (1 s), as any real neighbour entry would be.
    await sleep(1_500);
    const on = await a.cli(["maintenance", "on"]);
    assertEquals(on.code, 0, on.stderr);
    const demoted = (await a.status()).demotion.value;
    const again = await a.cli(["maintenance", "on"]); // idempotent: not demoted twice
    assertEquals(again.code, 0, again.stderr);
    assertEquals((await a.status()).demotion.value, demoted);
    await b.waitForVhid(1, "MASTER", { timeoutMs: 5_000 });
    await a.waitForVhid(1, "BACKUP", { timeoutMs: 5_000 });
    const result = await ping.waitExit(15_000);
    const out = ping.output().stdout;
    await cap.stop();
    const why = /, 0% packet loss/.test(out) ? "" : await cap.text(["-tt"]);
    assertEquals(result?.code, 0, out);
    assertMatch(
      out,
      /25 packets transmitted, 25 received, 0% packet loss/,
      `${out}\n${a.log()}\n${b.log()}\n${why}`,
    );
    assertMatch(b.log(), /1@eth0: BACKUP -> MASTER \(preempting/);

    // Restart fw1: it must come back still demoted and leave fw2 MASTER.
    assertEquals(await a.stop(), 0);
    a = await start();
    const status = await a.status();
    assertEquals(status.demotion.maintenance, true);
    assert(status.demotion.value > 0, "demoted after the restart");
    assertStringIncludes(a.log(), "maintenance mode is on (remembered)");
    await sleep(2_500); // a few advertisement intervals: fw1 must not preempt
    assertEquals((await a.vhid(1)).state, "BACKUP");
    assertEquals((await b.vhid(1)).state, "MASTER");
    assert(!/-> MASTER/.test(a.log()), `fw1 never became MASTER after the restart:\n${a.log()}`);
    assert(!(await net.fw1.addresses("eth0")).includes(`${VIP}/${LAN_PREFIX}`));

    // Off: fw1 (advskew 0, preempt) takes its role back.
    const off = await a.cli(["maintenance", "off"]);
    assertEquals(off.code, 0, off.stderr);
    await a.waitForVhid(1, "MASTER", { timeoutMs: 5_000 });
    await b.waitForVhid(1, "BACKUP", { timeoutMs: 5_000 });
    assertEquals((await a.status()).demotion.maintenance, false);
  },
  { timeoutMs: 60_000 },
);
