/**
 * pfsyncd.yaml → a configuration layer. The `yaml` package parses with a
 * LineCounter so syntax errors and every node keep line and column; the zod
 * schema (yaml_schema.ts) checks the shape, and each zod issue is placed at
 * the node its path names (or at the map that lacks a required key).
 */
import { type Document, isMap, isScalar, LineCounter, type Node, parseDocument, visit } from "yaml";
import type { z } from "zod";
import { parseCidr } from "../net/address.ts";
import { protoName, protoNumber } from "../state/types.ts";
import type { DiagnosticSink, SourceRef } from "./diagnostics.ts";
import {
  type CarpField,
  type CarpVhostConfig,
  type ConfigLayer,
  emptyLayer,
  setSetting,
  type SettingKey,
  type Settings,
} from "./model.ts";
import { type YamlConfig, yamlSchema } from "./yaml_schema.ts";

/** What `check --print` writes instead of a passphrase. */
export const MASKED_SECRET = "<hidden>";

type Path = (string | number)[];

/** YAML path → setting, for every scalar setting the file can hold. */
const SETTING_PATHS: [Path, SettingKey][] = [
  [["hostid"], "hostid"],
  [["provider"], "provider"],
  [["control"], "control"],
  [["pidfile"], "pidfile"],
  [["log", "target"], "log.target"],
  [["log", "level"], "log.level"],
  [["log", "format"], "log.format"],
  [["hooks", "timeout_ms"], "hooks.timeoutMs"],
  [["metrics", "listen"], "metrics.listen"],
  [["pfsync", "enabled"], "pfsync.enabled"],
  [["pfsync", "syncif"], "pfsync.syncif"],
  [["pfsync", "syncpeer"], "pfsync.syncpeer"],
  [["pfsync", "maxupd"], "pfsync.maxupd"],
  [["pfsync", "defer"], "pfsync.defer"],
  [["pfsync", "bulk_purge"], "pfsync.bulkPurge"],
  [["pfsync", "sequence"], "pfsync.sequence"],
  [["pfsync", "repair"], "pfsync.repair"],
  [["sysctl", "allow"], "sysctl.allow"],
  [["sysctl", "preempt"], "sysctl.preempt"],
  [["sysctl", "log"], "sysctl.log"],
  [["sysctl", "demotion"], "sysctl.demotion"],
  [["sysctl", "senderr_demotion_factor"], "sysctl.senderrDemotionFactor"],
  [["sysctl", "ifdown_demotion_factor"], "sysctl.ifdownDemotionFactor"],
  [["rcd", "enable"], "rcd.enable"],
  [["rcd", "flags"], "rcd.flags"],
  [["conntrack", "sync_own"], "conntrack.syncOwn"],
  [["conntrack", "fix_events_sysctl"], "conntrack.fixEventsSysctl"],
  [["conntrack", "sweep_interval_ms"], "conntrack.sweepIntervalMs"],
];

export function parseYamlConfig(
  text: string,
  file: string,
  sink: DiagnosticSink,
): ConfigLayer | undefined {
  const lines = new LineCounter();
  // logLevel "error": the package's own warnings would go to stderr without file:line.
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    logLevel: "error",
  });
  const at = (offset: number): SourceRef => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col };
  };
  for (const e of doc.errors) sink.error(at(e.pos[0]), e.message.split("\n")[0]);
  for (const w of doc.warnings) sink.warning(at(w.pos[0]), w.message.split("\n")[0]);
  if (doc.errors.length > 0) return undefined;

  const nodeAt = (path: Path): SourceRef => {
    for (let n = path.length; n >= 0; n--) {
      const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)) as Node | null;
      if (node?.range) return at(node.range[0]);
    }
    return { file, line: 1, column: 1 };
  };
  const keyAt = (path: Path, key: string): SourceRef => {
    const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
    if (isMap(map)) {
      const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (isScalar(pair?.key) && pair.key.range) return at(pair.key.range[0]);
    }
    return nodeAt(path);
  };

  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (error) {
    // An alias to an anchor not yet defined (or to its own node) parses but cannot resolve.
    if (!(error instanceof Error)) throw error;
    sink.error(aliasAt(doc, error.message, at) ?? at(0), error.message.split("\n")[0]);
    return undefined;
  }
  const parsed = yamlSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) reportIssue(issue, data, nodeAt, keyAt, sink);
    return undefined;
  }
  return toLayer(parsed.data, nodeAt, sink);
}

/** Where the alias an error message names is (else the first alias), for one that cannot resolve. */
function aliasAt(
  doc: Document,
  message: string,
  at: (offset: number) => SourceRef,
): SourceRef | undefined {
  let first: SourceRef | undefined;
  let named: SourceRef | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (!node.range) return undefined;
      first ??= at(node.range[0]);
      if (!message.endsWith(`: ${node.source}`)) return undefined;
      named = at(node.range[0]);
      return visit.BREAK;
    },
  });
  return named ?? first;
}

function reportIssue(
  issue: z.core.$ZodIssue,
  data: unknown,
  nodeAt: (path: Path) => SourceRef,
  keyAt: (path: Path, key: string) => SourceRef,
  sink: DiagnosticSink,
): void {
  const path = issue.path.map((p) => (typeof p === "number" ? p : String(p)));
  const where = path.length > 0 ? `${formatPath(path)}: ` : "";
  if (issue.code === "unrecognized_keys") {
    for (const key of issue.keys) {
      sink.error(keyAt(path, key), `${where}unknown key '${key}'`, key.length);
    }
    return;
  }
  if (issue.code === "invalid_type" && valueAt(data, path) === undefined) {
    const key = path[path.length - 1];
    sink.error(nodeAt(path.slice(0, -1)), `missing required key '${key}'`);
    return;
  }
  if (issue.code === "invalid_key") {
    const message = issue.issues[0]?.message ?? issue.message;
    sink.error(keyAt(path.slice(0, -1), String(path[path.length - 1])), message);
    return;
  }
  if (
    issue.code === "invalid_type" && (issue.expected === "object" || issue.expected === "record")
  ) {
    const what = path.length > 0 ? formatPath(path) : "the top level";
    sink.error(nodeAt(path), `${what} must be a mapping of keys to values`);
    return;
  }
  sink.error(
    nodeAt(path),
    issue.message.startsWith("Invalid") ? where + issue.message : issue.message,
  );
}

function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const p of path) {
    v = v && typeof v === "object" ? (v as Record<string, unknown>)[p] : undefined;
  }
  return v;
}

function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function toLayer(
  data: YamlConfig,
  nodeAt: (path: Path) => SourceRef,
  sink: DiagnosticSink,
): ConfigLayer {
  const layer = emptyLayer("YAML");
  for (const [path, key] of SETTING_PATHS) {
    const value = valueAt(data, path);
    if (value === undefined) continue;
    setSetting(
      layer,
      key,
      (value === null ? undefined : value) as Settings[typeof key],
      nodeAt(path),
    );
  }
  if (data.pfsync?.auth) {
    const { keyfile, required } = data.pfsync.auth;
    setSetting(
      layer,
      "pfsync.auth",
      { keyfile, required: required ?? true },
      nodeAt(["pfsync", "auth"]),
    );
  }
  if (data.hooks?.scripts) {
    const scripts: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(data.hooks.scripts)) {
      scripts[k] = Array.isArray(v) ? v : [v];
    }
    setSetting(layer, "hooks.scripts", scripts, nodeAt(["hooks", "scripts"]));
  }
  const ct = data.conntrack;
  if (ct?.protocols) {
    const names = ct.protocols.map((p) => protoName(protoNumber(p)!));
    setSetting(layer, "conntrack.protocols", names, nodeAt(["conntrack", "protocols"]));
  }
  for (const key of ["include", "exclude"] as const) {
    const list = ct?.[key];
    if (list) {
      const cidrs = list.map((a) => parseCidr(a)!);
      setSetting(layer, `conntrack.${key}`, cidrs, nodeAt(["conntrack", key]));
    }
  }
  if (ct?.tcp_states) {
    const states = ct.tcp_states.map((s) => s.toLowerCase().replace(/-/g, "_"));
    setSetting(layer, "conntrack.tcpStates", states, nodeAt(["conntrack", "tcp_states"]));
  }
  for (const [name, i] of Object.entries(data.interfaces ?? {})) {
    layer.declaredInterfaces.add(name);
    layer.interfaces[name] = {
      addresses: (i.addresses ?? []).map((a) => parseCidr(a)!),
      up: i.up ?? true,
      source: nodeAt(["interfaces", name]),
    };
  }
  (data.carp ?? []).forEach((c, index) => {
    const fieldAt = (field: string) => nodeAt(["carp", index, field]);
    const sources: Partial<Record<CarpField, SourceRef>> = {};
    for (
      const f of ["vhid", "parent", "advbase", "advskew", "pass", "state", "addresses"] as const
    ) {
      if (c[f] !== undefined) sources[f] = fieldAt(f);
    }
    if (c.virtual_mac !== undefined) sources.virtualMac = fieldAt("virtual_mac");
    if (c.pass === MASKED_SECRET) {
      sink.warning(
        fieldAt("pass"),
        `pass is the ${MASKED_SECRET} placeholder of 'check --print'; ` +
          "print with --show-secrets to keep the passphrase",
      );
    }
    const vhost: CarpVhostConfig = {
      interface: c.interface ?? c.parent,
      vhid: c.vhid,
      parent: c.parent,
      advbase: c.advbase ?? 1,
      advskew: c.advskew ?? 0,
      pass: c.pass ?? "",
      addresses: c.addresses.map((a) => parseCidr(a)!),
      source: nodeAt(["carp", index]),
      sources,
    };
    if (c.state) vhost.state = c.state;
    if (c.virtual_mac !== undefined) vhost.virtualMac = c.virtual_mac;
    layer.carp.push(vhost);
  });
  return layer;
}
