/**
 * The `conntrack:` section of pfsyncd.yaml reaches the provider: two agents
 * on a sync link, entries made on A with `conntrack -I`; B's kernel gets the
 * ones the filters let through, and A's status counts the others by reason.
 */
import { assertEquals } from "../helpers/assert.ts";
import { startAgent } from "./agent.ts";
import { labTest, waitFor } from "./lab.ts";
import type { Ns } from "./ns.ts";

const YAML = (hostid: number) =>
  [
    `hostid: ${hostid}`,
    "provider: conntrack",
    "log: {level: info}",
    "pfsync: {syncif: sync0}",
    "carp: []",
    "conntrack: {protocols: [tcp, icmp], exclude: [10.3.0.0/16], tcp_states: [established]}",
  ].join("\n") + "\n";

/** `conntrack -I` arguments for one entry from `src`. */
const ENTRIES: Record<string, string[]> = {
  synced: ["-p", "tcp", "-s", "10.1.0.1", "--sport", "40000", "--state", "ESTABLISHED"],
  udp: ["-p", "udp", "-s", "10.1.0.2", "--sport", "40000"],
  excluded: ["-p", "tcp", "-s", "10.3.0.1", "--sport", "40000", "--state", "ESTABLISHED"],
  synSent: ["-p", "tcp", "-s", "10.1.0.3", "--sport", "40000", "--state", "SYN_SENT"],
};

async function sources(ns: Ns): Promise<string[]> {
  const out = await ns.run(["conntrack", "-L", "-d", "10.2.0.1"]);
  return [...out.stdout.matchAll(/^\w+\s+\d+\s+\d+.*?src=(\S+)/gm)].map((m) => m[1]).sort();
}

labTest("conntrack filters from pfsyncd.yaml: protocols, exclude and TCP states", async (lab) => {
  const a = await lab.namespace("cfa");
  const b = await lab.namespace("cfb");
  await lab.link(a, "sync0", b, "sync0");
  await a.addr("sync0", "10.99.0.1/30");
  await b.addr("sync0", "10.99.0.2/30");
  for (const ns of [a, b]) await ns.sysctl("net.netfilter.nf_conntrack_events", 1);
  const [agentA] = await Promise.all([
    startAgent(a, lab, { yaml: YAML(1) }),
    startAgent(b, lab, { yaml: YAML(2) }),
  ]);

  for (const args of Object.values(ENTRIES)) {
    await a.exec([
      "conntrack",
      "-I",
      ...args,
      "-d",
      "10.2.0.1",
      "--dport",
      "80",
      "-t",
      "300",
      "-u",
      "SEEN_REPLY",
    ]);
  }
  await waitFor(async () => (await sources(b)).includes("10.1.0.1"), {
    timeoutMs: 5_000,
    message: "B's kernel holds the synced TCP entry",
  });
  assertEquals(
    (await sources(a)).length,
    4,
    "A holds all four entries",
  );
  const counters = (await agentA.status()).conntrack ?? {};
  assertEquals(
    [counters["filtered.protocol"], counters["filtered.address"], counters["filtered.tcp-state"]],
    [1, 1, 1],
  );
  assertEquals(await sources(b), ["10.1.0.1"]);
}, { timeoutMs: 45_000 });
