/**
 * rc.conf variables → a configuration layer: interface addresses, CARP vhosts
 * (5.x cloned `carpN` and FreeBSD 10+ `vhid` aliases), pfsync settings and
 * pfsyncd's own rc.d knobs. The parent of a cloned carpN without `carpdev` is
 * found the way the 5.x kernel did: the interface whose own configured subnet
 * contains the virtual address (carp.md §6.1).
 */
import { addressesEqual, cidrContains, formatAddress, formatCidr } from "../net/address.ts";
import type { DiagnosticSink, SourceRef } from "./diagnostics.ts";
import { type CarpClause, type IfAddress, type IfconfigKind, parseIfconfig } from "./ifconfig.ts";
import {
  type CarpVhostConfig,
  type ConfigLayer,
  emptyLayer,
  type LocatedInterface,
  setSetting,
} from "./model.ts";
import { type RcAssignment, type RcVariables, splitWords } from "./rc_conf.ts";

const IFCONFIG_RE = /^ifconfig_(.+?)(?:_(alias(\d+)|aliases|ipv6|name|descr))?$/;
const CARP_RE = /^carp\d+$/;
const PFSYNC_RE = /^pfsync\d+$/;

/** rc.subr's checkyesno: anything but YES/TRUE/ON/1 or NO/FALSE/OFF/0 warns and means NO. */
export function yesNo(a: RcAssignment, sink: DiagnosticSink): boolean {
  const v = a.value.toLowerCase();
  if (["yes", "true", "on", "1"].includes(v)) return true;
  if (!["no", "false", "off", "0"].includes(v)) {
    sink.warning(a.source, `${a.name} is not set properly ('${a.value}'); treated as NO`);
  }
  return false;
}

interface IfVariables {
  base?: RcAssignment;
  ipv6?: RcAssignment;
  aliases: Map<number, RcAssignment>;
  aliasList?: RcAssignment;
}

/** The ifconfig values rc(8) applies to `ifname`, in the order it applies them. */
function orderedValues(name: string, v: IfVariables, sink: DiagnosticSink): RcAssignment[] {
  const out = [v.base, v.ipv6].filter((a): a is RcAssignment => a !== undefined);
  const numbers = [...v.aliases.keys()].sort((a, b) => a - b);
  // rc stops at the first missing _aliasN, so later ones are dead configuration.
  numbers.forEach((n, index) => {
    const a = v.aliases.get(n)!;
    if (n !== index) {
      sink.warning(
        a.source,
        `${a.name} is never applied: rc stops at the missing ` +
          `ifconfig_${name}_alias${index}`,
      );
    } else {
      out.push(a);
      const first = a.value.trim().split(/\s+/)[0]?.toLowerCase();
      if (first && first !== "inet" && first !== "inet6" && first !== "vhid") {
        sink.warning(a.source, `${a.name} should start with 'inet' or 'inet6'`);
      }
    }
  });
  if (v.aliasList) out.push(v.aliasList);
  return out;
}

export function rcToLayer(vars: RcVariables, sink: DiagnosticSink): ConfigLayer {
  const layer = emptyLayer("rc.conf");
  const perInterface = new Map<string, IfVariables>();
  for (const [name, a] of vars) {
    const m = IFCONFIG_RE.exec(name);
    if (!m || m[1] === "DEFAULT" || m[2] === "name" || m[2] === "descr") continue;
    const entry: IfVariables = perInterface.get(m[1]) ?? { aliases: new Map() };
    perInterface.set(m[1], entry);
    if (m[3] !== undefined) entry.aliases.set(Number(m[3]), a);
    else if (m[2] === "aliases") entry.aliasList = a;
    else if (m[2] === "ipv6") entry.ipv6 = a;
    else entry.base = a;
    layer.declaredInterfaces.add(m[1]);
  }
  const cloned = new Set(listOf(vars.get("cloned_interfaces")));
  for (const name of [...cloned, ...listOf(vars.get("network_interfaces"))]) {
    if (name.toLowerCase() !== "auto") layer.declaredInterfaces.add(name);
  }

  const carpClauses: { ifname: string; clause: CarpClause; at: SourceRef }[] = [];
  const dhcp: string[] = [];
  const vhosts = new Map<string, CarpVhostConfig>();
  for (const [ifname, v] of perInterface) {
    const kind: IfconfigKind = CARP_RE.test(ifname)
      ? "carp"
      : PFSYNC_RE.test(ifname)
      ? "pfsync"
      : "plain";
    const values = orderedValues(ifname, v, sink);
    if (kind === "pfsync") continue; // read by pfsyncSettings, with pfsync_* variables
    // Only dead _aliasN values (warned above): rc applies nothing to this interface.
    if (values.length === 0) continue;
    const iface: LocatedInterface = { addresses: [], up: false, source: values[0].source };
    let up: boolean | undefined;
    for (const a of values) {
      const r = parseIfconfig(splitWords(a), kind, sink);
      iface.addresses.push(...r.addresses.map((x) => x.cidr));
      up = r.up ?? up;
      if (r.dhcp) dhcp.push(ifname);
      if (kind === "carp") {
        carpClauses.push({ ifname, clause: r.carp[0], at: a.source });
        if (!cloned.has(ifname)) {
          sink.warning(a.source, `${ifname} is configured but not listed in cloned_interfaces`);
        }
      } else {
        for (const c of r.carp) mergeAlias(vhosts, ifname, c, a.source);
      }
      iface.up = up ?? (iface.addresses.length > 0 || r.dhcp || iface.up);
    }
    if (kind === "plain") layer.interfaces[ifname] = iface;
  }

  for (const { ifname, clause, at } of mergeCarpClauses(carpClauses)) {
    if (!clause.vhid) {
      sink.error(at, `${ifname} has no 'vhid'`);
      continue;
    }
    const resolved = clause.carpdev
      ? { name: clause.carpdev.value, owner: false }
      : resolveParent(ifname, clause.addresses, layer.interfaces, dhcp, sink);
    const vhost = toVhost(ifname, resolved?.name ?? "", clause, at);
    if (resolved?.owner) vhost.advskew = 0;
    vhosts.set(`${ifname}/${clause.vhid.value}`, vhost);
  }
  layer.carp.push(...vhosts.values());
  pfsyncSettings(vars, layer, sink);
  rcdSettings(vars, layer, sink);
  return layer;
}

function listOf(a: RcAssignment | undefined): string[] {
  return a ? a.value.split(/\s+/).filter((w) => w !== "") : [];
}

/** One carpN may be spread over ifconfig_carpN and its aliases: later keywords win. */
function mergeCarpClauses(
  items: { ifname: string; clause: CarpClause; at: SourceRef }[],
): { ifname: string; clause: CarpClause; at: SourceRef }[] {
  const byName = new Map<string, { ifname: string; clause: CarpClause; at: SourceRef }>();
  for (const item of items) {
    const seen = byName.get(item.ifname);
    if (!seen) byName.set(item.ifname, { ...item, clause: { ...item.clause } });
    else seen.clause = mergeClause(seen.clause, item.clause);
  }
  return [...byName.values()];
}

function mergeClause(a: CarpClause, b: CarpClause): CarpClause {
  const out: CarpClause = { ...a, addresses: [...a.addresses, ...b.addresses] };
  for (const key of ["vhid", "advbase", "advskew", "pass", "state", "carpdev"] as const) {
    if (b[key] !== undefined) (out as unknown as Record<string, unknown>)[key] = b[key];
  }
  return out;
}

function mergeAlias(
  vhosts: Map<string, CarpVhostConfig>,
  ifname: string,
  clause: CarpClause,
  at: SourceRef,
): void {
  if (!clause.vhid) return;
  const key = `${ifname}/${clause.vhid.value}`;
  const seen = vhosts.get(key);
  if (!seen) {
    vhosts.set(key, toVhost(ifname, ifname, clause, at));
    return;
  }
  // Parameters belong to the vhid, not the address: repeating them is normal, last wins.
  const next = toVhost(ifname, ifname, clause, at);
  vhosts.set(key, {
    ...seen,
    advbase: clause.advbase ? next.advbase : seen.advbase,
    advskew: clause.advskew ? next.advskew : seen.advskew,
    pass: clause.pass ? next.pass : seen.pass,
    state: clause.state ? next.state : seen.state,
    addresses: [...seen.addresses, ...next.addresses],
    sources: {
      ...seen.sources,
      ...next.sources,
      vhid: seen.sources?.vhid,
      addresses: seen.sources?.addresses ?? next.sources?.addresses,
    },
  });
}

function toVhost(ifname: string, parent: string, c: CarpClause, at: SourceRef): CarpVhostConfig {
  const sources: CarpVhostConfig["sources"] = {};
  if (c.vhid) sources.vhid = c.vhid.source;
  if (c.advbase) sources.advbase = c.advbase.source;
  if (c.advskew) sources.advskew = c.advskew.source;
  if (c.pass) sources.pass = c.pass.source;
  if (c.state) sources.state = c.state.source;
  if (c.carpdev) sources.parent = c.carpdev.source;
  if (c.addresses[0]) sources.addresses = c.addresses[0].source;
  const vhost: CarpVhostConfig = {
    interface: ifname,
    vhid: c.vhid?.value ?? 0,
    parent,
    advbase: c.advbase?.value ?? 1,
    advskew: c.advskew?.value ?? 0,
    pass: c.pass?.value ?? "",
    addresses: c.addresses.map((a) => a.cidr),
    source: at,
    sources,
  };
  if (c.state) vhost.state = c.state.value;
  return vhost;
}

/** carp.md §6.1: the parent is the interface whose own subnet holds the virtual address. */
function resolveParent(
  ifname: string,
  addresses: readonly IfAddress[],
  interfaces: Record<string, LocatedInterface>,
  dhcp: readonly string[],
  sink: DiagnosticSink,
): { name: string; owner: boolean } | undefined {
  let parent: { name: string; via: IfAddress } | undefined;
  let owner = false;
  for (const vip of addresses) {
    const candidates = Object.entries(interfaces)
      .filter(([, i]) => i.addresses.some((net) => cidrContains(net, vip.cidr.address)))
      .map(([name]) => name);
    const text = formatCidr(vip.cidr);
    if (candidates.length === 0) {
      const unknown = dhcp.length > 0
        ? ` (${dhcp.join(", ")} ${dhcp.length > 1 ? "use" : "uses"} DHCP: subnet unknown)`
        : "";
      sink.error(
        vip.source,
        `no interface has a configured subnet containing ${text}${unknown}; ` +
          `add 'carpdev IF' to ifconfig_${ifname}`,
        vip.length,
      );
      return undefined;
    }
    if (candidates.length > 1) {
      sink.error(
        vip.source,
        `${text} lies in the subnets of several interfaces: ${candidates.join(", ")}; ` +
          `choose one with 'carpdev IF'`,
        vip.length,
      );
      return undefined;
    }
    if (parent && parent.name !== candidates[0]) {
      sink.error(
        vip.source,
        `addresses of ${ifname} resolve to different parents: ${parent.name} ` +
          `(${formatCidr(parent.via.cidr)}) and ${candidates[0]} (${text})`,
        vip.length,
      );
      return undefined;
    }
    const owned = interfaces[candidates[0]].addresses.some((a) =>
      addressesEqual(a.address, vip.cidr.address)
    );
    if (owned) {
      owner = true;
      sink.warning(
        vip.source,
        `${formatAddress(vip.cidr.address)} is also ${candidates[0]}'s own address: the ` +
          "kernel treats this host as the address owner and forces advskew 0",
        vip.length,
      );
    }
    parent = { name: candidates[0], via: vip };
  }
  return parent && { name: parent.name, owner };
}

/** ifconfig_pfsync0 first (netif), then rc.d/pfsync's variables, which win. */
function pfsyncSettings(vars: RcVariables, layer: ConfigLayer, sink: DiagnosticSink): void {
  const apply = (a: RcAssignment | undefined) => {
    if (!a) return;
    const p = parseIfconfig(splitWords(a), "pfsync", sink).pfsync;
    if (p.syncif) setSetting(layer, "pfsync.syncif", p.syncif.value, p.syncif.source);
    if (p.syncpeer) setSetting(layer, "pfsync.syncpeer", p.syncpeer.value, p.syncpeer.source);
    if (p.maxupd) setSetting(layer, "pfsync.maxupd", p.maxupd.value, p.maxupd.source);
    if (p.defer) setSetting(layer, "pfsync.defer", p.defer.value, p.defer.source);
    if (p.up?.value) setSetting(layer, "pfsync.enabled", true, p.up.source);
  };
  apply(vars.get("ifconfig_pfsync0"));
  const enable = vars.get("pfsync_enable");
  if (enable) {
    const on = yesNo(enable, sink);
    if (on || layer.settings["pfsync.enabled"] === undefined) {
      setSetting(layer, "pfsync.enabled", on, enable.source);
    }
    if (on) {
      for (const name of ["pfsync_syncdev", "pfsync_syncpeer"] as const) {
        const a = vars.get(name);
        if (!a || a.value === "") continue;
        const key = name === "pfsync_syncdev" ? "pfsync.syncif" : "pfsync.syncpeer";
        setSetting(layer, key, a.value.trim(), a.positions[0] ?? a.source);
      }
      apply(vars.get("pfsync_ifconfig"));
    }
  }
}

function rcdSettings(vars: RcVariables, layer: ConfigLayer, sink: DiagnosticSink): void {
  const enable = vars.get("pfsyncd_enable");
  if (enable) setSetting(layer, "rcd.enable", yesNo(enable, sink), enable.source);
  const flags = vars.get("pfsyncd_flags");
  if (flags) setSetting(layer, "rcd.flags", flags.value, flags.source);
  const config = vars.get("pfsyncd_config");
  if (config && config.value !== "") {
    setSetting(layer, "rcd.config", config.value, config.positions[0] ?? config.source);
  }
}
