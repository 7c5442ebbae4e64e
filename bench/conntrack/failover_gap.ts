/**
 * Issue 6's failover figure: how long a TCP stream (a line every 100 ms plus
 * a paced bulk stream), a UDP stream and a ping stall when firewall A fails,
 * for pfsyncd (CARP + pfsync with the conntrack provider) and for keepalived
 * (VRRPv2) + conntrackd (FTFW, external cache, the commit sequence of its
 * primary-backup.sh on becoming master) in the same topology
 * (tests/lab/fixtures/ct_topology.ts) with equivalent settings (peers.md:
 * advbase 1 / advert_int 1, advskew 0/100 ⇔ priority 250/156).
 *
 *   SIGKILL  A's daemons killed and A's LAN links set down (a crash)
 *   SIGTERM  A's CARP/VRRP daemon stopped gracefully (links stay up)
 *
 * Takeover = from the signal until B holds both virtual addresses.
 */
import { startAgent } from "../../tests/lab/agent.ts";
import { conntrackdConf } from "./sync_rate.ts";
import {
  buildCtLab,
  type CtLab,
  firewallYaml,
  labEntries,
  stallsBetween,
  startFlows,
  stopFlows,
  VIP_IN,
  VIP_OUT,
} from "../../tests/lab/fixtures/ct_topology.ts";
import { type Lab, type Ns, sleep, waitFor, withLab } from "../../tests/lab/lab.ts";
import type { LabProcess } from "../../tests/lab/process.ts";

export type GapSystem = "pfsyncd" | "keepalived+conntrackd";
export type GapSignal = "SIGKILL" | "SIGTERM";

export interface GapRun {
  readonly system: GapSystem;
  readonly signal: GapSignal;
  readonly takeoverMs: number;
  readonly tcpStallMs: number;
  readonly tcpLinesDelayed: number;
  readonly udpGapMs: number;
  readonly icmpGapMs: number;
  /** Connection errors (a reset) or a bulk stream that did not arrive whole. */
  readonly broken: string[];
}

async function holdsVips(ns: Ns): Promise<boolean> {
  const [inside, outside] = await Promise.all([ns.addresses("in0"), ns.addresses("out0")]);
  return inside.includes(VIP_IN) && outside.includes(VIP_OUT);
}

/** Both VIPs on `ns`; the elapsed ms since `t0` (performance.now()). */
async function takeover(ns: Ns, t0: number): Promise<number> {
  await waitFor(() => holdsVips(ns), {
    timeoutMs: 15_000,
    intervalMs: 10,
    message: `${ns.label} holds both VIPs`,
  });
  return performance.now() - t0;
}

async function flowsSynced(net: CtLab): Promise<void> {
  await waitFor(async () => (await labEntries(net.fwb)).length >= 4, {
    timeoutMs: 10_000,
    message: "B's kernel or cache holds the flows",
  });
}

async function measureGap(
  lab: Lab,
  net: CtLab,
  system: GapSystem,
  signal: GapSignal,
  fail: () => Promise<void>,
  waitSynced: () => Promise<void>,
): Promise<GapRun> {
  const flows = await startFlows(lab, net);
  await waitSynced();
  await sleep(300 + Math.random() * 1000); // the failure falls anywhere in the advert cycle
  const failAt = Date.now();
  const t0 = performance.now();
  await fail();
  const takeoverMs = await takeover(net.fwb, t0);
  // Let the TCP backoff run out and the flows settle on B.
  await waitFor(() => {
    const stalls = flows.client.jsonLines<{ event: string; flow: string; from: number }>()
      .filter((l) => l.event === "stall" && l.from >= failAt - 500);
    return stalls.some((s) => s.flow === "tcp") && stalls.some((s) => s.flow === "udp");
  }, { timeoutMs: 15_000, intervalMs: 50, message: "flows recovered" }).catch(() => {});
  await sleep(500);
  const result = await stopFlows(flows);
  const s = stallsBetween(result, failAt, Date.now());
  const broken = [...result.flows.errors];
  const bulk = result.flows.bulk;
  if (!bulk.confirmed?.ok || bulk.confirmed.bytes !== bulk.sent) {
    broken.push(`bulk: sent ${bulk.sent}, confirmed ${JSON.stringify(bulk.confirmed)}`);
  }
  return {
    system,
    signal,
    takeoverMs: Math.round(takeoverMs),
    tcpStallMs: s.tcp,
    tcpLinesDelayed: s.tcpLines,
    udpGapMs: s.udp,
    icmpGapMs: s.icmp,
    broken,
  };
}

async function pfsyncdGap(signal: GapSignal): Promise<GapRun> {
  return await withLab(async (lab) => {
    const net = await buildCtLab(lab);
    const [a, b] = await Promise.all([
      startAgent(net.fwa, lab, { yaml: firewallYaml(1, 0) }),
      startAgent(net.fwb, lab, { yaml: firewallYaml(2, 100) }),
    ]);
    await a.waitForVhid(1, "MASTER");
    await a.waitForVhid(2, "MASTER");
    await b.waitForVhid(1, "BACKUP");
    await b.waitForVhid(2, "BACKUP");
    return await measureGap(lab, net, "pfsyncd", signal, async () => {
      a.proc.kill(signal);
      if (signal === "SIGKILL") await Promise.all([net.fwa.down("in0"), net.fwa.down("out0")]);
    }, () => flowsSynced(net));
  });
}

// ---- keepalived + conntrackd ----

/** The transitions of conntrackd's primary-backup.sh, as a notify script. */
function notifyScript(conf: string): string {
  const ctd = `conntrackd -C ${conf}`;
  return `#!/bin/sh
case "$1" in
primary) ${ctd} -c; ${ctd} -f; ${ctd} -R; ${ctd} -B ;;
backup) ${ctd} -n ;;
fault) ${ctd} -t; ${ctd} -n ;;
esac
exit 0
`;
}

function keepalivedConf(ns: Ns, priority: number, notify: string): string {
  const instance = (name: string, iface: string, vrid: number, vip: string) => [
    `vrrp_instance ${name} {`,
    "  state BACKUP",
    `  interface ${iface}`,
    `  virtual_router_id ${vrid}`,
    `  priority ${priority}`,
    "  advert_int 1",
    "  authentication {\n    auth_type PASS\n    auth_pass ct-lab\n  }",
    `  virtual_ipaddress {\n    ${vip} dev ${iface}\n  }`,
    "}",
  ];
  return [
    "global_defs {",
    `  router_id ${ns.label}`,
    "  vrrp_version 2",
    "  vrrp_garp_master_repeat 1",
    "  vrrp_garp_master_delay 2",
    "  script_user root",
    "}",
    "vrrp_sync_group G {",
    "  group {\n    VI_IN\n    VI_OUT\n  }",
    `  notify_master "${notify} primary"`,
    `  notify_backup "${notify} backup"`,
    `  notify_fault "${notify} fault"`,
    "}",
    ...instance("VI_IN", "in0", 1, VIP_IN),
    ...instance("VI_OUT", "out0", 2, VIP_OUT),
    "",
  ].join("\n");
}

interface PeerFirewall {
  readonly keepalived: LabProcess;
  readonly conntrackd: LabProcess;
  readonly conf: string;
}

async function startPeerFirewall(
  ns: Ns,
  lab: Lab,
  self: string,
  peer: string,
  priority: number,
): Promise<PeerFirewall> {
  const conf = lab.tempPath(`${ns.label}-conntrackd.conf`);
  await Deno.writeTextFile(
    conf,
    conntrackdConf(lab, ns.label, self, peer, {
      externalCache: true,
      ignore: ["192.0.2.2", "192.0.2.3", "198.51.100.2", "198.51.100.3"],
    }),
  );
  const conntrackd = ns.spawn(["conntrackd", "-C", conf], { label: "conntrackd" });
  await waitFor(async () => {
    if (conntrackd.exited) throw new Error(`conntrackd exited: ${conntrackd.output().stderr}`);
    return (await ns.run(["conntrackd", "-C", conf, "-s"])).success;
  }, { timeoutMs: 10_000, message: `conntrackd in ${ns.label}` });
  const notify = lab.tempPath(`${ns.label}-notify.sh`);
  await Deno.writeTextFile(notify, notifyScript(conf));
  await Deno.chmod(notify, 0o755);
  const kconf = lab.tempPath(`${ns.label}-keepalived.conf`);
  await Deno.writeTextFile(kconf, keepalivedConf(ns, priority, notify));
  const base = `${ns.label}-keepalived`;
  const keepalived = ns.spawn([
    "keepalived",
    "--dont-fork",
    "--log-console",
    "--no-syslog",
    "--vrrp",
    "--dont-respawn",
    `--use-file=${kconf}`,
    `--pid=${lab.tempPath(`${base}.pid`)}`,
    `--vrrp_pid=${lab.tempPath(`${base}.vrrp.pid`)}`,
    `--checkers_pid=${lab.tempPath(`${base}.checkers.pid`)}`,
    `--bfd_pid=${lab.tempPath(`${base}.bfd.pid`)}`,
  ], { label: "keepalived" });
  return { keepalived, conntrackd, conf };
}

async function keepalivedGap(signal: GapSignal): Promise<GapRun> {
  return await withLab(async (lab) => {
    const net = await buildCtLab(lab);
    const a = await startPeerFirewall(net.fwa, lab, "10.99.0.1", "10.99.0.2", 250);
    const b = await startPeerFirewall(net.fwb, lab, "10.99.0.2", "10.99.0.1", 156);
    await waitFor(() => holdsVips(net.fwa), { timeoutMs: 15_000, message: "keepalived A MASTER" });
    return await measureGap(lab, net, "keepalived+conntrackd", signal, async () => {
      if (signal === "SIGKILL") {
        a.keepalived.kill("SIGKILL");
        a.conntrackd.kill("SIGKILL");
        await Promise.all([net.fwa.down("in0"), net.fwa.down("out0")]);
      } else {
        a.keepalived.kill("SIGTERM");
      }
    }, async () => {
      // B keeps them in its external cache until the commit: wait until it lists them.
      await waitFor(async () => {
        const cache = await net.fwb.run(["conntrackd", "-C", b.conf, "-e"]);
        return cache.stdout.split("\n").filter((l) => l.includes("198.51.100.10")).length >= 4;
      }, { timeoutMs: 10_000, message: "conntrackd B's external cache holds the flows" });
    });
  });
}

export async function gapRun(system: GapSystem, signal: GapSignal): Promise<GapRun> {
  return system === "pfsyncd" ? await pfsyncdGap(signal) : await keepalivedGap(signal);
}

if (import.meta.main) {
  const system = (Deno.args[0] ?? "pfsyncd") as GapSystem;
  const signal = (Deno.args[1] ?? "SIGKILL") as GapSignal;
  console.log(JSON.stringify(await gapRun(system, signal)));
}
