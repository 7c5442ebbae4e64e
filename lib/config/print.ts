/**
 * The effective configuration, as YAML that pfsyncd.yaml accepts (so
 * `check --print` output can be read back unchanged) and as the JSON object
 * `check --json` prints. Passphrases are masked unless asked for.
 */
import { Document, isScalar } from "yaml";
import { formatCidr } from "../net/address.ts";
import { type AgentConfig, DEFAULT_CT_SWEEP_MS } from "./model.ts";
import { MASKED_SECRET } from "./yaml.ts";

export interface PrintOptions {
  showSecrets?: boolean;
}

function secret(pass: string, opts: PrintOptions): string {
  return opts.showSecrets || pass === "" ? pass : MASKED_SECRET;
}

function isDefaultConntrack(config: AgentConfig): boolean {
  const c = config.conntrack;
  return !c.protocols && !c.tcpStates && c.include.length === 0 && c.exclude.length === 0 &&
    !c.syncOwn && !c.fixEventsSysctl && c.sweepIntervalMs === DEFAULT_CT_SWEEP_MS;
}

/** The configuration in pfsyncd.yaml's own key names and order. */
export function configToPlain(config: AgentConfig, opts: PrintOptions = {}) {
  const pfsync: Record<string, unknown> = { enabled: config.pfsync.enabled };
  if (config.pfsync.syncif !== undefined) pfsync.syncif = config.pfsync.syncif;
  if (config.pfsync.syncpeer !== undefined) pfsync.syncpeer = config.pfsync.syncpeer;
  pfsync.maxupd = config.pfsync.maxupd;
  pfsync.defer = config.pfsync.defer;
  if (config.pfsync.bulkPurge !== undefined) pfsync.bulk_purge = config.pfsync.bulkPurge;
  if (config.pfsync.sequence !== undefined) pfsync.sequence = config.pfsync.sequence;
  if (config.pfsync.repair !== undefined) pfsync.repair = config.pfsync.repair;
  if (config.pfsync.auth) pfsync.auth = { ...config.pfsync.auth };
  const s = config.sysctl;
  const sysctl: Record<string, unknown> = { allow: s.allow, preempt: s.preempt, log: s.log };
  if (s.demotion !== undefined) sysctl.demotion = s.demotion;
  if (s.senderrDemotionFactor !== undefined) {
    sysctl.senderr_demotion_factor = s.senderrDemotionFactor;
  }
  if (s.ifdownDemotionFactor !== undefined) sysctl.ifdown_demotion_factor = s.ifdownDemotionFactor;
  const c = config.conntrack;
  const conntrack: Record<string, unknown> = {};
  if (c.protocols) conntrack.protocols = [...c.protocols];
  conntrack.include = c.include.map(formatCidr);
  conntrack.exclude = c.exclude.map(formatCidr);
  if (c.tcpStates) conntrack.tcp_states = [...c.tcpStates];
  conntrack.sync_own = c.syncOwn;
  conntrack.fix_events_sysctl = c.fixEventsSysctl;
  conntrack.sweep_interval_ms = c.sweepIntervalMs;
  return {
    ...(config.hostid !== undefined ? { hostid: config.hostid } : {}),
    provider: config.provider,
    control: config.control,
    pidfile: config.pidfile,
    log: { ...config.log },
    hooks: { timeout_ms: config.hooks.timeoutMs, scripts: { ...config.hooks.scripts } },
    ...(config.metrics ? { metrics: { ...config.metrics } } : {}),
    pfsync,
    sysctl,
    interfaces: Object.fromEntries(
      Object.entries(config.interfaces).map(([name, i]) => [name, {
        addresses: i.addresses.map(formatCidr),
        up: i.up,
      }]),
    ),
    carp: config.carp.map((v) => ({
      interface: v.interface,
      vhid: v.vhid,
      parent: v.parent,
      advbase: v.advbase,
      advskew: v.advskew,
      pass: secret(v.pass, opts),
      ...(v.state ? { state: v.state } : {}),
      ...(v.virtualMac ? { virtual_mac: true } : {}),
      addresses: v.addresses.map(formatCidr),
    })),
    rcd: { ...config.rcd },
    // Only where it matters: with another provider the section would draw a warning on read-back.
    ...(config.provider === "conntrack" || !isDefaultConntrack(config) ? { conntrack } : {}),
  };
}

export function configToYaml(config: AgentConfig, opts: PrintOptions = {}): string {
  const doc = new Document(configToPlain(config, opts));
  // pfsync tools print host ids in hex; keep the habit.
  const hostid = doc.get("hostid", true);
  if (isScalar(hostid)) hostid.format = "HEX";
  return doc.toString({ lineWidth: 0 });
}

/**
 * The `check --json` object. `syncif` and `syncpeer` are null when unset so
 * that every documented key is always present.
 */
export function configToJson(config: AgentConfig, opts: PrintOptions = {}) {
  const plain = configToPlain(config, opts);
  return {
    ...plain,
    pfsync: {
      ...plain.pfsync,
      syncif: config.pfsync.syncif ?? null,
      syncpeer: config.pfsync.syncpeer ?? null,
    },
  };
}
