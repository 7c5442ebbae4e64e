/**
 * The daemon contract (issue 7): a second instance refuses to start and
 * names the first one's pid; SIGUSR1 dumps the status to the log (and leaves
 * no debugger port behind); the Prometheus endpoint is scraped inside the
 * namespace, parsed, and is not reachable from the LAN.
 */
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { callAgent } from "../../lib/control/client.ts";
import { carpYaml, type LabAgent, startAgent } from "./agent.ts";
import { carpLan, LAN_PREFIX, VIP } from "./fixtures/carp_peers.ts";
import { labTest, type Ns, waitFor } from "./lab.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const PROBE = new URL("./fixtures/ops_probe.ts", import.meta.url);
const METRICS_PORT = 9734;

async function probe(ns: Ns, args: string[]) {
  const run = await ns.runDeno(PROBE, args);
  assertEquals(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
}

async function master(lab: Parameters<Parameters<typeof labTest>[1]>[0], extraYaml = "") {
  const net = await carpLan(lab, { client: false });
  const yaml = carpYaml(1, [{
    vhid: 1,
    parent: "eth0",
    pass: "daemon-pass",
    addresses: [`${VIP}/${LAN_PREFIX}`],
  }]) + extraYaml;
  const agent = await startAgent(net.fw1, lab, { yaml });
  await agent.waitForVhid(1, "MASTER", { timeoutMs: 8_000 });
  return { net, agent };
}

labTest("ops: a second instance refuses to start, naming the first one's pid", async (lab) => {
  const { net, agent } = await master(lab);
  const { pid } = await agent.status();
  const second = await net.fw1.runDeno(MAIN, [
    "run",
    "-c",
    agent.yamlPath,
    "-f",
    "/dev/null",
    "--state-dir",
    lab.tempPath("second.state"),
  ]);
  assertEquals(second.code, 1, second.stdout + second.stderr);
  assertStringIncludes(second.stderr, `is locked by pfsyncd pid ${pid}`);
  assert(!second.stderr.includes("    at "), `no stack trace:\n${second.stderr}`);
  // The first one is untouched: same pid file, control socket and role.
  assertEquals((await Deno.readTextFile(agent.pidfile)).trim(), String(pid));
  assertEquals((await agent.vhid(1)).state, "MASTER");
  assertEquals((await agent.status()).pid, pid);
});

labTest("ops: SIGUSR1 dumps the status to the log and leaves no inspector open", async (lab) => {
  const { net, agent } = await master(lab);
  agent.proc.kill("SIGUSR1");
  const line = await waitFor(
    () => agent.log().split("\n").find((l) => / info status: \{/.test(l)),
    { timeoutMs: 5_000, message: "status line in the log" },
  );
  const dumped = JSON.parse(line.slice(line.indexOf("status: ") + 8));
  assertEquals(dumped.pid, (await agent.status()).pid);
  assertEquals(dumped.carp[0].state, "MASTER");
  assertEquals(dumped.carp[0].vhid, 1);
  // Deno >= 2.9.2 opens a V8 inspector on SIGUSR1; the agent must close it.
  const inspectorLines = () =>
    agent.log().split("\n").filter((l) => /inspector|Debugger/i.test(l)).join("\n");
  await waitFor(async () => !(await probe(net.fw1, ["connect", "127.0.0.1", "9229"])).open, {
    // The agent looks for it for 15 s after the signal, however late the runtime opens it.
    timeoutMs: 17_000,
    message: "no inspector listening on 127.0.0.1:9229 in the namespace",
  }).catch((error) => {
    throw new Error(`${error.message}; the agent's log about it:\n${inspectorLines()}`);
  });
  assertEquals((await agent.vhid(1)).state, "MASTER", "SIGUSR1 changed nothing else");
});

function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert(match, `a sample line: ${line}`);
    samples.set(match[1], Number(match[2]));
  }
  return samples;
}

async function scrape(agent: LabAgent) {
  const reply = await probe(agent.ns, ["fetch", `http://127.0.0.1:${METRICS_PORT}/metrics`]);
  assertEquals(reply.status, 200, JSON.stringify(reply));
  assertStringIncludes(reply.contentType, "text/plain; version=0.0.4");
  return parseMetrics(reply.body);
}

labTest("ops: the metrics endpoint is scraped in the namespace and parsed", async (lab) => {
  const { net, agent } = await master(
    lab,
    `metrics: {listen: "127.0.0.1:${METRICS_PORT}"}\n` +
      `hooks: {scripts: {"1": [/bin/true, /bin/false]}}\n`,
  );
  const imported = await callAgent(agent.control, "states.import", {
    lines: [
      '{"proto":"tcp","src":"192.0.2.50:40001","dst":"198.51.100.7:443"}',
      '{"proto":"udp","src":"192.0.2.50:5353","dst":"198.51.100.8:53"}',
    ],
  });
  assertEquals(imported.imported, 2);
  await agent.cli(["demote", "+7"]);

  const m = await scrape(agent);
  assertEquals(m.get('pfsyncd_carp_state{vhid="1",interface="eth0"}'), 2); // MASTER
  assertEquals(m.get("pfsyncd_states"), 2);
  assertEquals(m.get("pfsyncd_demotion"), 7);
  const status = await agent.status();
  const sent = m.get('pfsyncd_carp_packets_total{counter="opackets"}')!;
  assert(sent >= 1 && sent <= status.carpStats.opackets, `opackets ${sent}`);
  for (const name of Object.keys(status.pfsync.stats)) {
    assert(m.has(`pfsyncd_pfsync_packets_total{counter="${name}"}`), `pfsync ${name}`);
  }
  assert(m.has("pfsyncd_bulk_states_received"));
  // Each transition ran both hooks: one exits 0, the other 1.
  await waitFor(async () => (await scrape(agent)).has('pfsyncd_hook_runs_total{result="failed"}'), {
    timeoutMs: 3_000,
    message: "hook runs counted",
  });
  const hooks = await scrape(agent);
  const ok = hooks.get('pfsyncd_hook_runs_total{result="ok"}')!;
  assert(ok >= 1, `hook runs ok: ${ok}`);
  assertEquals(hooks.get('pfsyncd_hook_runs_total{result="failed"}'), ok);

  // Counters move between scrapes; the state gauge follows the table.
  await waitFor(async () => {
    const again = await scrape(agent);
    return again.get('pfsyncd_carp_packets_total{counter="opackets"}')! > sent;
  }, { timeoutMs: 3_000, message: "opackets grows" });

  // Loopback only: the LAN cannot reach it.
  const fromLan = await probe(net.fw2, ["connect", "192.0.2.11", String(METRICS_PORT)]);
  assertEquals(fromLan.open, false);
});
