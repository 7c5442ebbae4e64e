/**
 * The demo's network and the small helpers its scenario uses: building the
 * two-firewall lab, turning conntrack on for it, polling the agents, and
 * reading what the ping and the flow client wrote.
 */
import { callAgent } from "../control/client.ts";
import type { StatusResult } from "../control/types.ts";
import {
  CLIENT,
  type DemoFirewall,
  FIREWALLS,
  INSIDE_VIP,
  NFT_RULESET,
  OUTSIDE_VIP,
  SERVER,
} from "./configs.ts";
import type { DemoNamespace, DemoNetwork, DemoProcess } from "./netns.ts";
import { exec } from "./netns.ts";

export interface Node {
  readonly fw: DemoFirewall;
  readonly ns: DemoNamespace;
  readonly control: string;
  proc?: DemoProcess;
  last?: StatusResult;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function build(net: DemoNetwork) {
  const sw = await net.namespace("switch");
  const client = await net.namespace("client");
  const server = await net.namespace("server");
  const fw = [await net.namespace("fw1"), await net.namespace("fw2")];
  await net.link(client, "eth0", sw, "in0");
  await net.link(server, "eth0", sw, "out0");
  for (const [i, ns] of fw.entries()) {
    await net.link(ns, "eth0", sw, `in${i + 1}`);
    await net.link(ns, "eth1", sw, `out${i + 1}`);
  }
  await net.link(fw[0], "sync0", fw[1], "sync0");
  await net.bridge(sw, "inside", ["in0", "in1", "in2"]);
  await net.bridge(sw, "outside", ["out0", "out1", "out2"]);
  await client.addr("eth0", `${CLIENT}/24`);
  await client.route(["default", "via", INSIDE_VIP]);
  await server.addr("eth0", `${SERVER}/24`);
  await server.route(["default", "via", OUTSIDE_VIP]);
  for (const [i, ns] of fw.entries()) {
    const f = FIREWALLS[i];
    await ns.addr("eth0", `192.0.2.${f.host}/24`);
    await ns.addr("eth1", `198.51.100.${f.host}/24`);
    await ns.addr("sync0", `${f.sync}/30`);
    await ns.sysctl("net.ipv4.ip_forward", 1);
  }
  return { client, server, fw };
}

/**
 * Loads the stateful ruleset into both firewalls and sets the conntrack
 * sysctls it relies on; the error says why conntrack cannot be used here.
 */
export async function enableConntrack(
  net: DemoNetwork,
  fws: readonly DemoNamespace[],
): Promise<void> {
  const rules = net.path("firewall.nft");
  await Deno.writeTextFile(rules, NFT_RULESET);
  for (const ns of fws) {
    await exec(["ip", "netns", "exec", ns.name, "nft", "-f", rules]);
    // The ruleset made netfilter track this namespace: its conntrack sysctls exist now.
    await ns.sysctl("net.netfilter.nf_conntrack_tcp_loose", 0);
    await ns.sysctl("net.netfilter.nf_conntrack_events", 1);
  }
}

export async function status(node: Node): Promise<StatusResult | undefined> {
  try {
    node.last = await callAgent(node.control, "status", {});
    return node.last;
  } catch {
    return undefined;
  }
}

export function roles(s: StatusResult | undefined): string {
  if (!s) return "down";
  const of = (vhid: number) => s.carp.find((v) => v.vhid === vhid)?.state ?? "-";
  return `inside ${of(1).padEnd(6)}  outside ${of(2).padEnd(6)}`;
}

export function allIn(s: StatusResult | undefined, state: string): boolean {
  return s !== undefined && s.carp.length === 2 && s.carp.every((v) => v.state === state);
}

export async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  tick: () => Promise<void>,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick();
    await sleep(100);
  }
}

export function pingCounts(text: string): { sent: number; received: number } {
  const summary = /(\d+) packets transmitted, (\d+) received/.exec(text);
  if (summary) return { sent: Number(summary[1]), received: Number(summary[2]) };
  const replies = text.match(/bytes from/g)?.length ?? 0;
  const sent = [...text.matchAll(/icmp_seq=(\d+)/g)].reduce((m, x) => Math.max(m, Number(x[1])), 0);
  return { sent, received: replies };
}

export function pingSummary(net: DemoNetwork, ping: DemoProcess): string {
  const { sent, received } = pingCounts(net.log(ping));
  return `${sent} sent, ${received} answered`;
}

export const stateKey = (s: { id: string; creatorid: string }) => `${s.id}/${s.creatorid}`;

export interface FlowTick {
  open: number;
  echoes: number[];
  errors: string[];
}

/** The flow client's latest status line. */
export function lastTick(net: DemoNetwork, flows: DemoProcess): FlowTick | undefined {
  const lines = net.log(flows).trimEnd().split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].includes('"tick"')) continue;
    try {
      return JSON.parse(lines[i]) as FlowTick;
    } catch {
      continue; // a line still being written
    }
  }
  return undefined;
}
