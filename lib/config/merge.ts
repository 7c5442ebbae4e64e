/**
 * Combines configuration layers, lowest precedence first (rc.conf,
 * sysctl.conf, YAML, command-line flags), into one AgentConfig with defaults.
 * A file layer that contradicts an earlier file layer wins with a warning
 * naming both places; command-line flags win silently, as flags do.
 */
import { formatCidr } from "../net/address.ts";
import { type DiagnosticSink, formatSourceRef, type SourceRef } from "./diagnostics.ts";
import {
  type AgentConfig,
  type CarpField,
  type CarpVhostConfig,
  type ConfigLayer,
  DEFAULT_CONTROL,
  DEFAULT_CT_SWEEP_MS,
  DEFAULT_HOOK_TIMEOUT_MS,
  DEFAULT_MAXUPD,
  DEFAULT_PIDFILE,
  type InterfaceConfig,
  type Located,
  type LocatedSettings,
  type SettingKey,
  type Settings,
} from "./model.ts";

export const COMMAND_LINE = "command line";

/** Stands in for a passphrase in messages. */
const SECRET = Symbol("secret");

function show(value: unknown): string {
  if (value === undefined) return "unset";
  if (value === SECRET) return "(not shown)";
  if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`;
  if (value && typeof value === "object" && "prefix" in value) {
    return formatCidr(value as Parameters<typeof formatCidr>[0]);
  }
  return typeof value === "string" ? `'${value}'` : JSON.stringify(value);
}

function same(a: unknown, b: unknown): boolean {
  return show(a) === show(b);
}

function contradiction(
  sink: DiagnosticSink,
  what: string,
  later: { origin: string; value: unknown; source: SourceRef },
  earlier: { origin: string; value: unknown; source: SourceRef },
): void {
  sink.warning(
    later.source,
    `${what}: ${later.origin} value ${show(later.value)} overrides ${earlier.origin} value ` +
      `${show(earlier.value)} at ${formatSourceRef(earlier.source)}`,
  );
}

export function mergeLayers(
  layers: readonly ConfigLayer[],
  sink: DiagnosticSink,
  derivedHostid?: number,
): { config: AgentConfig; settings: LocatedSettings } {
  const settings: LocatedSettings = {};
  const origins: Partial<Record<SettingKey, string>> = {};
  const vhosts: { vhost: CarpVhostConfig; origin: string }[] = [];
  const interfaces: Record<string, InterfaceConfig & { source: SourceRef; origin: string }> = Object
    .create(null);

  for (const layer of layers) {
    const quiet = layer.origin === COMMAND_LINE;
    for (const [key, next] of Object.entries(layer.settings) as [SettingKey, Located<unknown>][]) {
      const prev = settings[key];
      if (prev && !quiet && origins[key] !== layer.origin && !same(prev.value, next.value)) {
        contradiction(sink, key, { ...next, origin: layer.origin }, {
          ...prev,
          origin: origins[key]!,
        });
      }
      (settings as Record<string, Located<unknown>>)[key] = next;
      origins[key] = layer.origin;
    }
    for (const v of layer.carp) {
      // The same vhid on the same parent from another file is one vhost stated twice;
      // within one file it is a duplicate, which validation reports.
      const index = vhosts.findIndex((p) =>
        p.origin !== layer.origin && p.vhost.parent === v.parent && p.vhost.vhid === v.vhid
      );
      const next = { vhost: v, origin: layer.origin };
      if (index < 0) vhosts.push(next);
      else vhosts[index] = { vhost: mergeVhost(vhosts[index], next, sink), origin: layer.origin };
    }
    for (const [name, i] of Object.entries(layer.interfaces)) {
      const prev = interfaces[name];
      if (prev && prev.origin !== layer.origin) {
        for (const field of ["addresses", "up"] as const) {
          if (!same(prev[field], i[field])) {
            contradiction(sink, `interface ${name} ${field}`, {
              value: i[field],
              source: i.source,
              origin: layer.origin,
            }, {
              value: prev[field],
              source: prev.source,
              origin: prev.origin,
            });
          }
        }
      }
      interfaces[name] = { ...i, origin: layer.origin };
    }
  }
  const config = build(settings, vhosts.map((v) => v.vhost), interfaces, derivedHostid);
  return { config, settings };
}

/** Field by field: what the later source states explicitly wins, the rest is kept. */
function mergeVhost(
  prev: { vhost: CarpVhostConfig; origin: string },
  next: { vhost: CarpVhostConfig; origin: string },
  sink: DiagnosticSink,
): CarpVhostConfig {
  const out: CarpVhostConfig = { ...prev.vhost, sources: { ...prev.vhost.sources } };
  const fields = Object.keys(next.vhost.sources ?? {}) as CarpField[];
  for (const field of fields) {
    const later = next.vhost[field];
    const earlier = prev.vhost[field];
    const at = next.vhost.sources![field]!;
    if (!same(later, earlier)) {
      const what = `carp vhid ${next.vhost.vhid} on ${next.vhost.parent}: ${field}`;
      const earlierAt = prev.vhost.sources?.[field] ?? prev.vhost.source;
      const shown = field === "pass" ? SECRET : later;
      const shownEarlier = field === "pass" ? SECRET : earlier;
      contradiction(sink, what, { value: shown, source: at, origin: next.origin }, {
        value: shownEarlier,
        source: earlierAt,
        origin: prev.origin,
      });
    }
    (out as unknown as Record<string, unknown>)[field] = later;
    out.sources![field] = at;
  }
  return out;
}

function build(
  s: LocatedSettings,
  carp: CarpVhostConfig[],
  interfaces: Record<string, InterfaceConfig & { source: SourceRef; origin: string }>,
  derivedHostid: number | undefined,
): AgentConfig {
  const get = <K extends SettingKey>(key: K, fallback: Settings[K]): Settings[K] =>
    s[key] ? (s[key]!.value as Settings[K]) : fallback;
  const syncif = s["pfsync.syncif"]?.value;
  const config: AgentConfig = {
    provider: get("provider", "memory"),
    control: get("control", DEFAULT_CONTROL),
    pidfile: get("pidfile", DEFAULT_PIDFILE),
    log: {
      target: get("log.target", "stderr"),
      level: get("log.level", "info"),
      format: get("log.format", "text"),
    },
    hooks: {
      scripts: get("hooks.scripts", {}),
      timeoutMs: get("hooks.timeoutMs", DEFAULT_HOOK_TIMEOUT_MS),
    },
    carp,
    pfsync: {
      maxupd: get("pfsync.maxupd", DEFAULT_MAXUPD),
      defer: get("pfsync.defer", false),
      // A sync interface with no explicit switch means the user wants sync.
      enabled: get("pfsync.enabled", syncif !== undefined),
    },
    sysctl: {
      allow: get("sysctl.allow", true),
      preempt: get("sysctl.preempt", false),
      log: get("sysctl.log", 1),
    },
    interfaces: Object.fromEntries(
      Object.entries(interfaces).map(([name, i]) => [name, { addresses: i.addresses, up: i.up }]),
    ),
    rcd: { enable: get("rcd.enable", false), flags: get("rcd.flags", "") },
    conntrack: {
      include: get("conntrack.include", []),
      exclude: get("conntrack.exclude", []),
      syncOwn: get("conntrack.syncOwn", false),
      fixEventsSysctl: get("conntrack.fixEventsSysctl", false),
      sweepIntervalMs: get("conntrack.sweepIntervalMs", DEFAULT_CT_SWEEP_MS),
    },
  };
  if (s["conntrack.protocols"]) config.conntrack.protocols = s["conntrack.protocols"].value;
  if (s["conntrack.tcpStates"]) config.conntrack.tcpStates = s["conntrack.tcpStates"].value;
  const hostid = s.hostid?.value ?? derivedHostid;
  if (hostid !== undefined) config.hostid = hostid;
  if (s["metrics.listen"]) config.metrics = { listen: s["metrics.listen"].value };
  if (syncif !== undefined) config.pfsync.syncif = syncif;
  const syncpeer = s["pfsync.syncpeer"]?.value;
  if (syncpeer !== undefined) config.pfsync.syncpeer = syncpeer;
  if (s["pfsync.auth"]) config.pfsync.auth = s["pfsync.auth"].value;
  if (s["pfsync.bulkPurge"]) config.pfsync.bulkPurge = s["pfsync.bulkPurge"].value;
  if (s["pfsync.sequence"]) config.pfsync.sequence = s["pfsync.sequence"].value;
  if (s["pfsync.repair"]) config.pfsync.repair = s["pfsync.repair"].value;
  const optional = [
    ["sysctl.demotion", "demotion"],
    ["sysctl.senderrDemotionFactor", "senderrDemotionFactor"],
    ["sysctl.ifdownDemotionFactor", "ifdownDemotionFactor"],
  ] as const;
  for (const [key, field] of optional) if (s[key]) config.sysctl[field] = s[key]!.value;
  return config;
}
