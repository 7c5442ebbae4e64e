/**
 * Checks that need the merged model: things no single file can know
 * (duplicate vhids across aliases, an unknown sync interface, a vhost left
 * without addresses) plus the kernel ranges again, for models built in code.
 */
import { parseIPv4 } from "../net/address.ts";
import type { DiagnosticSink, SourceRef } from "./diagnostics.ts";
import { type AgentConfig, type CarpVhostConfig, LIMITS, type LocatedSettings } from "./model.ts";

export interface ValidationContext {
  settings: LocatedSettings;
  /** Interface names the configuration declares; empty for a YAML-only appliance. */
  declaredInterfaces: ReadonlySet<string>;
  /** Where to point when nothing more precise is known. */
  fallback: SourceRef;
}

const encoder = new TextEncoder();

export function validateConfig(
  config: AgentConfig,
  context: ValidationContext,
  sink: DiagnosticSink,
): void {
  const seen = new Map<string, CarpVhostConfig>();
  for (const v of config.carp) {
    const at = (field: keyof NonNullable<CarpVhostConfig["sources"]>) =>
      v.sources?.[field] ?? v.source;
    const name = `carp vhid ${v.vhid} on ${v.parent || v.interface}`;
    for (const field of ["vhid", "advbase", "advskew"] as const) {
      const { min, max } = LIMITS[field];
      if (!Number.isInteger(v[field]) || v[field] < min || v[field] > max) {
        sink.error(at(field), `${field} must be from ${min} to ${max}, not ${v[field]}`);
      }
    }
    if (v.addresses.length === 0) {
      sink.error(v.source, `${name} has no addresses (a CARP host needs at least one)`);
    }
    const bytes = encoder.encode(v.pass).length;
    if (bytes > LIMITS.passBytes) {
      sink.warning(
        at("pass"),
        `passphrase is ${bytes} bytes; only the first ${LIMITS.passBytes} are used, ` +
          "as the kernel truncates it",
      );
    }
    if (v.parent === "") continue; // resolving it already failed with its own error
    const key = `${v.parent}/${v.vhid}`;
    const first = seen.get(key);
    if (first) {
      const where = `${first.source.file}:${first.source.line}:${first.source.column}`;
      sink.error(at("vhid"), `duplicate vhid ${v.vhid} on ${v.parent} (first defined at ${where})`);
    } else {
      seen.set(key, v);
    }
    const declared = context.declaredInterfaces;
    if (declared.size > 0 && !declared.has(v.parent)) {
      sink.error(at("parent"), `parent '${v.parent}' of ${name} is not a configured interface`);
    }
  }
  validatePfsync(config, context, sink);
  validateConntrack(config, context, sink);
  if (config.hostid === 0) {
    sink.error(context.settings.hostid?.source ?? context.fallback, "hostid 0 is reserved");
  }
}

function validatePfsync(
  config: AgentConfig,
  { settings, declaredInterfaces, fallback }: ValidationContext,
  sink: DiagnosticSink,
): void {
  const { syncif, syncpeer, enabled, maxupd } = config.pfsync;
  if (syncif !== undefined && declaredInterfaces.size > 0 && !declaredInterfaces.has(syncif)) {
    const known = [...declaredInterfaces].sort().join(", ");
    sink.error(
      settings["pfsync.syncif"]?.source ?? fallback,
      `unknown syncif '${syncif}': not an interface named in the configuration (${known})`,
    );
  }
  if (syncpeer !== undefined && !parseIPv4(syncpeer)) {
    sink.error(
      settings["pfsync.syncpeer"]?.source ?? fallback,
      `syncpeer must be an IPv4 address, not '${syncpeer}'`,
    );
  }
  if (!(maxupd >= LIMITS.maxupd.min && maxupd <= LIMITS.maxupd.max)) {
    sink.error(settings["pfsync.maxupd"]?.source ?? fallback, `maxupd must be from 0 to 255`);
  }
  if (enabled && syncif === undefined && settings["pfsync.enabled"]) {
    sink.warning(
      settings["pfsync.enabled"].source,
      "pfsync is enabled without a sync interface (syncdev): no states are sent or received",
    );
  }
}

function validateConntrack(
  config: AgentConfig,
  { settings }: ValidationContext,
  sink: DiagnosticSink,
): void {
  const given = (Object.keys(settings) as (keyof LocatedSettings)[])
    .filter((key) => key.startsWith("conntrack."));
  if (given.length > 0 && config.provider !== "conntrack") {
    sink.warning(
      settings[given[0]]!.source,
      `the conntrack settings apply only with provider: conntrack (the provider is ` +
        `${config.provider})`,
    );
  }
  const { protocols, tcpStates } = config.conntrack;
  if (tcpStates && protocols && !protocols.includes("tcp")) {
    sink.warning(
      settings["conntrack.tcpStates"]!.source,
      "conntrack.tcp_states has no effect: tcp is not among conntrack.protocols",
    );
  }
}
