/**
 * The effective configuration the agent consumes (AgentConfig), the limits
 * every source is checked against, and the "layer" each reader produces
 * before merge.ts combines rc.conf, sysctl.conf, YAML and command-line flags.
 */
import type { Cidr } from "../net/address.ts";
import { TCP_STATE_NAMES } from "../netlink/ct_constants.ts";
import type { SourceRef } from "./diagnostics.ts";

export type CarpState = "backup" | "master" | "init";
export type Provider = "memory" | "conntrack";
export type LogTarget = "stderr" | "syslog";
export type LogLevel = "debug" | "info" | "warning" | "error";
export type LogFormat = "text" | "json";

export const PROVIDERS: readonly Provider[] = ["memory", "conntrack"];
export const LOG_TARGETS: readonly LogTarget[] = ["stderr", "syslog"];
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warning", "error"];
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];
export const CARP_STATES: readonly CarpState[] = ["backup", "master", "init"];

/** Kernel limits (carp.md §6, pfsync.md §9); shared by the rc.conf and YAML readers. */
export const LIMITS = {
  vhid: { min: 1, max: 255 },
  advbase: { min: 1, max: 255 },
  advskew: { min: 0, max: 254 },
  maxupd: { min: 0, max: 255 },
  demotion: { min: 0, max: 240 },
  passBytes: 19,
} as const;

export type CarpField =
  | "interface"
  | "vhid"
  | "parent"
  | "advbase"
  | "advskew"
  | "pass"
  | "state"
  | "addresses"
  | "virtualMac";

export interface CarpVhostConfig {
  /** "carp0" (5.x cloned) or the parent itself for FreeBSD 10+ aliases, e.g. "em0". */
  interface: string;
  vhid: number;
  parent: string;
  advbase: number;
  advskew: number;
  /** Raw passphrase; longer than 19 bytes only warns, the carp code truncates. */
  pass: string;
  /** In configured order, IPv4 and IPv6 mixed. */
  addresses: Cidr[];
  /** Forced initial state from the `state` keyword. */
  state?: CarpState;
  /**
   * YAML `virtual_mac`: hold the addresses on a macvlan child with MAC
   * 00:00:5e:00:01:VHID while MASTER (spec §5.1, §7.9). Absent means false.
   */
  virtualMac?: boolean;
  /** Where the vhost is defined (the assignment or the YAML list item). */
  source: SourceRef;
  /** Where each field was last set, for diagnostics that point at one word. */
  sources?: Partial<Record<CarpField, SourceRef>>;
}

export interface PfsyncConfig {
  syncif?: string;
  syncpeer?: string;
  maxupd: number;
  defer: boolean;
  enabled: boolean;
  auth?: { keyfile: string; required: boolean };
  /** Purge peer-learned states a bulk-update responder lacks (unset = on). */
  bulkPurge?: boolean;
  /** Sequence trailer, idle beacons and loss-triggered bulk updates (unset = on). */
  sequence?: boolean;
  /** NACKs for missing packets and answers to peers' NACKs (unset = on; needs sequence). */
  repair?: boolean;
}

export interface SysctlConfig {
  allow: boolean;
  preempt: boolean;
  log: number;
  demotion?: number;
  senderrDemotionFactor?: number;
  ifdownDemotionFactor?: number;
}

export interface InterfaceConfig {
  addresses: Cidr[];
  up: boolean;
}

/** pfsyncd's own rc.conf knobs (`pfsyncd_enable`, `pfsyncd_flags`), for the rc.d script. */
export interface RcdConfig {
  enable: boolean;
  flags: string;
}

/**
 * The `conntrack:` section: which kernel states the conntrack provider syncs
 * (lib/state/conntrack/filters.ts) and how it keeps the peer's timers alive.
 */
export interface ConntrackConfig {
  /** Protocols to sync, as names ("tcp", "udp", "icmp", "ipv6-icmp") or numbers; unset = all. */
  protocols?: string[];
  /** When non-empty, one end of the original tuple must lie in one of these. */
  include: Cidr[];
  /** Either end of the original tuple in one of these leaves the entry out. */
  exclude: Cidr[];
  /** TCP states to sync, lower-case conntrack names ("established", "syn_sent" …); unset = all. */
  tcpStates?: string[];
  /** Also sync flows to and from the firewall's own addresses and the sync link. */
  syncOwn: boolean;
  /** Set net.netfilter.nf_conntrack_events to 1 at start when it is not. */
  fixEventsSysctl: boolean;
  /** Period of the refresh sweep (dump → re-announce refreshed timeouts); 0 = off. */
  sweepIntervalMs: number;
}

export interface AgentConfig {
  hostid?: number;
  provider: Provider;
  control: string;
  pidfile: string;
  log: { target: LogTarget; level: LogLevel; format: LogFormat };
  /** Hook scripts per vhid (decimal string) or "*" for every vhid. */
  hooks: { scripts: Record<string, string[]>; timeoutMs: number };
  metrics?: { listen: string };
  carp: CarpVhostConfig[];
  pfsync: PfsyncConfig;
  sysctl: SysctlConfig;
  interfaces: Record<string, InterfaceConfig>;
  rcd: RcdConfig;
  conntrack: ConntrackConfig;
}

export const DEFAULT_CONTROL = "/var/run/pfsyncd.sock";
export const DEFAULT_PIDFILE = "/var/run/pfsyncd.pid";
export const DEFAULT_HOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_MAXUPD = 128;
/** The conntrack provider's sweep period (spec conntrack-netlink.md §7 item 4: 30–60 s). */
export const DEFAULT_CT_SWEEP_MS = 30_000;
/** Conntrack TCP state names as the configuration spells them (ct numbering order). */
export const CT_TCP_STATES: readonly string[] = TCP_STATE_NAMES.map((n) => n.toLowerCase());

/** Scalar settings by dotted path; `undefined` values are explicit clears (`-syncif`). */
export interface Settings {
  hostid: number;
  provider: Provider;
  control: string;
  pidfile: string;
  "log.target": LogTarget;
  "log.level": LogLevel;
  "log.format": LogFormat;
  "hooks.scripts": Record<string, string[]>;
  "hooks.timeoutMs": number;
  "metrics.listen": string;
  "pfsync.enabled": boolean;
  "pfsync.syncif": string | undefined;
  "pfsync.syncpeer": string | undefined;
  "pfsync.maxupd": number;
  "pfsync.defer": boolean;
  "pfsync.auth": { keyfile: string; required: boolean };
  "pfsync.bulkPurge": boolean;
  "pfsync.sequence": boolean;
  "pfsync.repair": boolean;
  "sysctl.allow": boolean;
  "sysctl.preempt": boolean;
  "sysctl.log": number;
  "sysctl.demotion": number;
  "sysctl.senderrDemotionFactor": number;
  "sysctl.ifdownDemotionFactor": number;
  "rcd.enable": boolean;
  "rcd.flags": string;
  "rcd.config": string;
  "conntrack.protocols": string[];
  "conntrack.include": Cidr[];
  "conntrack.exclude": Cidr[];
  "conntrack.tcpStates": string[];
  "conntrack.syncOwn": boolean;
  "conntrack.fixEventsSysctl": boolean;
  "conntrack.sweepIntervalMs": number;
}

export type SettingKey = keyof Settings;

export interface Located<T> {
  value: T;
  source: SourceRef;
}

export type LocatedSettings = { [K in SettingKey]?: Located<Settings[K]> };

export interface LocatedInterface extends InterfaceConfig {
  source: SourceRef;
}

/** What one source contributes: settings it names, vhosts and interfaces it defines. */
export interface ConfigLayer {
  /** "rc.conf", "sysctl.conf", "YAML" or "command line", for messages. */
  origin: string;
  settings: LocatedSettings;
  carp: CarpVhostConfig[];
  interfaces: Record<string, LocatedInterface>;
  /** Interface names the source declares (network_interfaces, cloned_interfaces, …). */
  declaredInterfaces: Set<string>;
}

export function emptyLayer(origin: string): ConfigLayer {
  // Interface names come from the files: no prototype, so `ifconfig_constructor` is just a name.
  return {
    origin,
    settings: {},
    carp: [],
    interfaces: Object.create(null),
    declaredInterfaces: new Set(),
  };
}

export function setSetting<K extends SettingKey>(
  layer: ConfigLayer,
  key: K,
  value: Settings[K],
  source: SourceRef,
): void {
  (layer.settings as Record<string, Located<unknown>>)[key] = { value, source };
}
