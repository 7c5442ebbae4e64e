/**
 * `pfsyncd demo`: the two-firewall lab in network namespaces, two real
 * agents, a client and a server; the live CARP roles and state counts of both
 * nodes while the client opens connections, then the master fails (SIGKILL
 * and its links down) and the backup takes over with every state.
 *
 *   client 192.0.2.10 ── inside switch ── fw1 .2 / fw2 .3 (VIP .1, vhid 1)
 *   server 198.51.100.10 ── outside switch ── fw1 .2 / fw2 .3 (VIP .1, vhid 2)
 *   fw1 sync0 10.0.0.1 ──────── sync0 10.0.0.2 fw2   (pfsync)
 *
 * With nftables and netfilter conntrack available (the default, "auto"),
 * the agents run the conntrack provider: the client opens real TCP
 * connections through a stateful ruleset and they must keep answering after
 * the failover. Otherwise the memory provider is used: each connection is a
 * state imported into the master over its control socket (what a packet
 * filter would have created), which pfsync copies to the backup.
 */
import { callAgent } from "../control/client.ts";
import type { StatusResult } from "../control/types.ts";
import { CLIENT, FIREWALLS, FLOW_PORT, rcConf, SERVER, SYSCTL_CONF, yaml } from "./configs.ts";
import {
  allIn,
  build,
  enableConntrack,
  lastTick,
  type Node,
  pingCounts,
  pingSummary,
  roles,
  sleep,
  stateKey,
  status,
  waitUntil,
} from "./lab.ts";
import { DemoNetwork, type DemoProcess } from "./netns.ts";

/** Where the demo writes: `event` lines stay, `live` is the panel redrawn in place on a TTY. */
export interface DemoOutput {
  event(text: string): void;
  live(lines: readonly string[]): void;
}

export type DemoProvider = "memory" | "conntrack";

export interface DemoOptions {
  /** "auto" (default): conntrack when nftables and conntrack work here, else memory. */
  readonly provider?: DemoProvider | "auto";
  /** Connections the client opens (default 24). */
  readonly connections?: number;
  /** The argv that starts `pfsyncd` (this program), e.g. [deno, run, flags…, main.ts]. */
  readonly pfsyncd: readonly string[];
  /** Keep the temp dir (configs, agent logs, ping output) and say where it is. */
  readonly keepLogs?: boolean;
  /** Called with the network as soon as it exists, so a signal handler can tear it down. */
  readonly onNetwork?: (net: DemoNetwork) => void;
}

export interface DemoResult {
  readonly provider: DemoProvider;
  readonly takeoverMs: number;
  /** Conntrack mode: connections that answered through the new master (and how many broke). */
  readonly connections?: {
    readonly resumed: number;
    readonly total: number;
    readonly errors: string[];
  };
  readonly states: number;
  readonly statesOnBackup: number;
  readonly pings: { sent: number; received: number };
}

/** Runs the whole demo; tears the network down before returning or throwing. */
export async function runDemo(out: DemoOutput, options: DemoOptions): Promise<DemoResult> {
  const net = await DemoNetwork.create();
  options.onNetwork?.(net);
  const t0 = performance.now();
  const at = () => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(4)}s]`;
  const say = (text: string) => out.event(`${at()} ${text}`);
  try {
    say("building the lab: inside and outside switches, two firewalls, a client, a server");
    const lab = await build(net);
    for (
      const line of [
        `inside   192.0.2.0/24     client .10   fw1 .2  fw2 .3  virtual .1 (vhid 1)`,
        `outside  198.51.100.0/24  server .10   fw1 .2  fw2 .3  virtual .1 (vhid 2)`,
        `sync     10.0.0.0/30      fw1 .1 -- fw2 .2 (pfsync to 224.0.0.240)`,
      ]
    ) out.event(`         ${line}`);
    const nodes: Node[] = FIREWALLS.map((fw, i) => ({
      fw,
      ns: lab.fw[i],
      control: net.path(`${fw.label}.sock`),
    }));
    let provider: DemoProvider = options.provider === "memory" ? "memory" : "conntrack";
    if (provider === "conntrack") {
      try {
        await enableConntrack(net, lab.fw);
        say("conntrack provider: the firewalls forward through a stateful nftables ruleset");
      } catch (error) {
        if (options.provider === "conntrack") throw error;
        provider = "memory";
        say(`memory provider (conntrack not usable here: ${(error as Error).message})`);
      }
    } else {
      say("memory provider: the client's connections are states imported into the master");
    }
    for (const node of nodes) {
      await Deno.writeTextFile(net.path(`${node.fw.label}.rc.conf`), rcConf(node.fw));
      await Deno.writeTextFile(
        net.path(`${node.fw.label}.yaml`),
        yaml(node.fw, net.tmpDir, provider),
      );
    }
    await Deno.writeTextFile(net.path("sysctl.conf"), SYSCTL_CONF);

    const live: { ping?: DemoProcess; flows?: DemoProcess } = {};
    const panel = async () => {
      const lines = [];
      for (const node of nodes) {
        const s = node.proc && !node.proc.exited ? await status(node) : undefined;
        lines.push(
          `  ${node.fw.label}  ${roles(s)}  states ${String(s?.states.count ?? "-").padStart(3)}`,
        );
      }
      if (live.flows) {
        const tick = lastTick(net, live.flows);
        const now = Date.now();
        const answering = tick ? tick.echoes.filter((t) => now - t < 1_000).length : 0;
        lines.push(
          `  client: ${
            tick?.open ?? 0
          } TCP connections open, ${answering} answered in the last second` +
            (tick?.errors.length ? `, ${tick.errors.length} broken` : ""),
        );
      }
      if (live.ping) lines.push(`  client -> server ping: ${pingSummary(net, live.ping)}`);
      out.live(lines);
    };

    const start = (node: Node) => {
      node.proc = node.ns.spawn([
        ...options.pfsyncd,
        "run",
        "-f",
        net.path(`${node.fw.label}.rc.conf`),
        "-s",
        net.path("sysctl.conf"),
        "-c",
        net.path(`${node.fw.label}.yaml`),
        "--state-dir",
        net.path(`${node.fw.label}.state`),
      ], "pfsyncd");
    };
    const alive = (node: Node) => {
      if (node.proc?.exited) {
        throw new Error(`${node.fw.label}'s agent exited:\n${net.log(node.proc)}`);
      }
    };

    const [fw1, fw2] = nodes;
    say(
      `starting fw1 (advskew ${fw1.fw.advskew}): ${
        options.pfsyncd.at(-1)
      } run -f rc.conf -s sysctl.conf -c pfsyncd.yaml`,
    );
    start(fw1);
    await waitUntil("fw1 to become MASTER", 20_000, async () => {
      alive(fw1);
      return allIn(await status(fw1), "MASTER");
    }, panel);
    say("fw1 is MASTER of vhid 1 (inside) and vhid 2 (outside)");
    say(`starting fw2 (advskew ${fw2.fw.advskew})`);
    start(fw2);
    const settled = (s?: StatusResult) =>
      s !== undefined && ["done", "failed", "idle"].includes(s.pfsync.bulk.phase);
    await waitUntil("fw2's bulk update", 20_000, async () => {
      alive(fw2);
      return settled(await status(fw2));
    }, panel);
    say(`fw2 is up; its bulk update from fw1 is ${fw2.last?.pfsync.bulk.phase}`);
    if (!settled(await status(fw1))) {
      // fw1 started alone: nobody answered its own bulk request, and like the
      // BSDs it keeps asking (for up to a minute) while advertising advskew
      // 240. With fw2 in sync, ask again now, as an operator would.
      say("fw1 found no peer for its own bulk update at start: `pfsyncd resync` on fw1");
      await callAgent(fw1.control, "resync", {});
    }
    await waitUntil("the pair to settle", 20_000, async () => {
      alive(fw1);
      alive(fw2);
      const [s1, s2] = [await status(fw1), await status(fw2)];
      return settled(s1) && allIn(s1, "MASTER") && allIn(s2, "BACKUP");
    }, panel);
    say("fw1 MASTER, fw2 BACKUP, both in sync over sync0 (pfsync)");

    const count = options.connections ?? 24;
    say(`the client opens ${count} connections to the server through the virtual addresses`);
    // Line-buffered, so the live panel can count replies as they come.
    const ping = lab.client.spawn(["stdbuf", "-oL", "ping", "-n", "-i", "0.2", SERVER], "ping");
    live.ping = ping;
    if (provider === "conntrack") {
      lab.server.spawn(
        [...options.pfsyncd, "demo-flows", "server", "--port", `${FLOW_PORT}`],
        "flows",
      );
      await waitUntil(
        "the server to listen",
        15_000,
        () => Promise.resolve(/"listening"/.test(net.log(net.processes.at(-1)!))),
        panel,
      );
      live.flows = lab.client.spawn([
        ...options.pfsyncd,
        "demo-flows",
        "client",
        "--server",
        SERVER,
        "--port",
        `${FLOW_PORT}`,
        "--connections",
        `${count}`,
      ], "flows");
      const flows = live.flows;
      await waitUntil("every connection to answer", 30_000, () => {
        const tick = lastTick(net, flows);
        if (tick?.errors.length) throw new Error(`connections failed: ${tick.errors.join("; ")}`);
        return Promise.resolve(
          tick !== undefined && tick.open === count && tick.echoes.every((t) => t > 0),
        );
      }, panel);
    } else {
      for (let i = 0; i < count; i++) {
        const line = JSON.stringify({
          proto: "tcp",
          src: `${CLIENT}:${40000 + i}`,
          dst: `${SERVER}:${[443, 80, 22][i % 3]}`,
        });
        await callAgent(fw1.control, "states.import", { lines: [line] });
        if (i % 4 === 3) {
          await panel();
          await sleep(120);
        }
      }
    }
    // Every state of the master on the backup (conntrack: the ping and the connections).
    const masterKeys = async () =>
      new Set((await callAgent(fw1.control, "states", {})).states.map(stateKey));
    await waitUntil("fw2 to hold every state", 15_000, async () => {
      alive(fw2);
      const want = await masterKeys();
      const have = new Set((await callAgent(fw2.control, "states", {})).states.map(stateKey));
      return want.size >= count && [...want].every((k) => have.has(k));
    }, panel);
    const before = await callAgent(fw1.control, "states", {});
    say(`fw2 holds all ${before.states.length} states of fw1 (learned over pfsync)`);
    await panel();
    await sleep(600);

    say("failing fw1: SIGKILL, then its links go down");
    const killedAt = performance.now();
    Deno.kill(fw1.proc!.child.pid, "SIGKILL");
    for (const ifname of ["eth0", "eth1", "sync0"]) {
      await fw1.ns.ip(["link", "set", ifname, "down"]);
    }
    await waitUntil("fw2 to take over", 15_000, async () => {
      alive(fw2);
      return allIn(await status(fw2), "MASTER");
    }, panel);
    const takeoverMs = performance.now() - killedAt;
    const after = await callAgent(fw2.control, "states", {});
    const kept = new Set(after.states.map(stateKey));
    const intact = before.states.filter((s) => kept.has(stateKey(s))).length;
    say(
      `fw2 took over vhid 1 and 2 in ${
        (takeoverMs / 1000).toFixed(1)
      } s and holds ${intact}/${before.states.length} states: ${
        intact === before.states.length ? "intact" : "SOME LOST"
      }`,
    );
    let connections: DemoResult["connections"];
    if (live.flows) {
      // TCP retransmits with backoff: the connections come back within a few seconds.
      const flows = live.flows;
      const killedWall = Date.now() - (performance.now() - killedAt);
      const resumed = () => {
        const tick = lastTick(net, flows);
        return tick ? tick.echoes.filter((t) => t > killedWall).length : 0;
      };
      await waitUntil("the connections to answer through fw2", 20_000, () => {
        const tick = lastTick(net, flows);
        return Promise.resolve(resumed() === count || (tick?.errors.length ?? 0) > 0);
      }, panel).catch(() => {});
      const errors = lastTick(net, flows)?.errors ?? [];
      connections = { resumed: resumed(), total: count, errors };
      say(
        `${connections.resumed}/${count} TCP connections answered through fw2 after the failure, ` +
          `${errors.length} broken${errors.length ? `: ${errors.slice(0, 3).join("; ")}` : ""}`,
      );
    }
    for (let i = 0; i < 6; i++) {
      await panel();
      await sleep(250);
    }
    Deno.kill(ping.child.pid, "SIGINT");
    await ping.status;
    // ping prints its summary on SIGINT; give the file a moment to have it.
    for (let i = 0; i < 20 && !/packets transmitted/.test(net.log(ping)); i++) await sleep(50);
    const pings = pingCounts(net.log(ping));
    await panel();
    say(
      `ping through the firewalls: ${pings.sent} sent, ${pings.received} answered ` +
        `(the gap is the ${(takeoverMs / 1000).toFixed(1)} s without a master)`,
    );
    say("stopping fw2 (SIGTERM: bow-out, addresses removed)");
    Deno.kill(fw2.proc!.child.pid, "SIGTERM");
    await fw2.proc!.status;
    return {
      provider,
      takeoverMs,
      states: before.states.length,
      statesOnBackup: intact,
      pings,
      ...(connections ? { connections } : {}),
    };
  } finally {
    net.teardownSync({ keepTmp: options.keepLogs });
    if (options.keepLogs) out.event(`${at()} configs and logs kept in ${net.tmpDir}`);
    const left = net.leftovers();
    out.event(
      left.length === 0
        ? `${at()} cleaned up: namespaces and temp files removed`
        : `${at()} could not remove namespaces: ${left.join(" ")}`,
    );
  }
}
