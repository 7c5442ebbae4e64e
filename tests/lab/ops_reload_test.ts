/**
 * Reload (issue 7, "Done when"): a broken file keeps the running
 * configuration and the MASTER role, by SIGHUP and by `pfsyncd reload`; a
 * changed advskew applies without a failover — the peer never becomes
 * MASTER, checked in its status, its log and on the wire.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { carpYaml, type LabAgent, startAgent } from "./agent.ts";
import { carpLan, LAN_PREFIX, VIP } from "./fixtures/carp_peers.ts";
import { decodeCapture } from "./fixtures/ops_decode.ts";
import { labTest, sleep, waitFor } from "./lab.ts";

const VIP_CIDR = `${VIP}/${LAN_PREFIX}`;
const PREEMPT = "net.inet.carp.preempt=1\n";

const yaml = (hostid: number, advskew: number) =>
  carpYaml(hostid, [{
    vhid: 1,
    parent: "eth0",
    advskew,
    pass: "reload-pass",
    addresses: [VIP_CIDR],
  }]);

/** Rewrites the agent's YAML file, keeping the control/pidfile lines startAgent added. */
async function editYaml(agent: LabAgent, edit: (text: string) => string): Promise<void> {
  const text = await Deno.readTextFile(agent.yamlPath);
  const changed = edit(text);
  assert(changed !== text, "the edit changed the file");
  await Deno.writeTextFile(agent.yamlPath, changed);
}

/** The pair: fw1 (advskew 0) MASTER, fw2 (advskew 100) BACKUP, both with preempt. */
async function pair(lab: Parameters<Parameters<typeof labTest>[1]>[0]) {
  const net = await carpLan(lab, { client: false });
  // fw1 first, so fw2 joins an elected master and must never be MASTER itself.
  const a = await startAgent(net.fw1, lab, { yaml: yaml(1, 0), sysctl: PREEMPT });
  await a.waitForVhid(1, "MASTER", { timeoutMs: 8_000 });
  const b = await startAgent(net.fw2, lab, { yaml: yaml(2, 100), sysctl: PREEMPT });
  await b.waitForVhid(1, "BACKUP", { timeoutMs: 8_000 });
  return { net, a, b };
}

/** Transitions to MASTER in the agent's log so far (with preempt a node starts as MASTER, spec T1). */
const masterCount = (agent: LabAgent) => agent.log().match(/1@eth0: \w+ -> MASTER/g)?.length ?? 0;

labTest(
  "ops: reload with a broken file keeps the old configuration and the MASTER role",
  async (lab) => {
    const { net, a, b } = await pair(lab);
    const masters = masterCount(b);
    await editYaml(a, (t) => t.replace("advskew: 0", "advskew: 300"));

    // SIGHUP: the errors are logged with file:line, the running configuration stays.
    a.proc.kill("SIGHUP");
    await a.proc.waitForOutput(
      /configuration has errors; the running configuration stays/,
      5_000,
      "stderr",
    );
    assertMatch(
      a.log(),
      new RegExp(`reload: ${a.yamlPath.replace(/[.]/g, "\\.")}:\\d+:\\d+: .*advskew`),
    );

    // The same through the control socket: exit 1 and a clear message.
    const run = await a.cli(["reload"]);
    assertEquals(run.code, 1, run.stdout + run.stderr);
    assertStringIncludes(run.stderr, "kept its running configuration");

    await sleep(2_500); // a few advertisement intervals after both reload attempts
    const vhid = await a.vhid(1);
    assertEquals([vhid.state, vhid.advskew], ["MASTER", 0]);
    assertEquals((await b.vhid(1)).state, "BACKUP");
    assertEquals(masterCount(b), masters, `fw2 became MASTER again:\n${b.log()}`);
    assert((await net.fw1.addresses("eth0")).includes(VIP_CIDR), "fw1 keeps the VIP");
    assert(!(await net.fw2.addresses("eth0")).includes(VIP_CIDR), "fw2 never took the VIP");
  },
  { timeoutMs: 45_000 },
);

labTest(
  "ops: reload with a changed advskew applies without a failover (status and capture)",
  async (lab) => {
    const { net, a, b } = await pair(lab);
    const masters = masterCount(b);
    const capture = await net.lan.tcpdump("br0", "ip proto 112");
    await sleep(1_100); // at least one advertisement with the old advskew
    await editYaml(a, (t) => t.replace("advskew: 0", "advskew: 50"));
    const run = await a.cli(["reload"]);
    assertEquals(run.code, 0, run.stderr);
    assertStringIncludes(run.stdout, "vhid 1@eth0 advskew 0 -> 50");
    await waitFor(async () => (await a.vhid(1)).advskew === 50, {
      timeoutMs: 3_000,
      message: "advskew 50 in status",
    });
    await sleep(2_500);
    await capture.stop();

    assertEquals((await a.vhid(1)).state, "MASTER");
    assertEquals((await b.vhid(1)).state, "BACKUP");
    assertEquals(masterCount(b), masters, `fw2 became MASTER again:\n${b.log()}`);

    const packets = await decodeCapture(capture.path, ["--pass", "reload-pass", "--vip", VIP]);
    assert(packets.length >= 3, `${packets.length} advertisements captured`);
    for (const p of packets) assertEquals(p.ok, true, JSON.stringify(p));
    const senders = new Set(packets.map((p) => p.src));
    assertEquals([...senders], [net.addr.fw1], "only fw1 advertised (fw2 stayed BACKUP)");
    const skews = packets.map((p) => p.advskew as number);
    assertEquals(skews[0], 0);
    assertEquals(skews.at(-1), 50);
    // Once changed it stays changed: the switch happens once, no flapping.
    assertEquals(skews.filter((s, i) => i > 0 && s !== skews[i - 1]).length, 1);
  },
  { timeoutMs: 45_000 },
);
