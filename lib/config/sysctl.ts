/**
 * sysctl.conf: `name=value` lines with `#` comments (Linux files also use
 * `name = value` and `;` comments, which are accepted). Only `net.inet.carp.*`
 * matters to pfsyncd (carp.md §4.8); every other sysctl is left to the system.
 */
import type { DiagnosticSink, SourceRef } from "./diagnostics.ts";
import { type ConfigLayer, LIMITS, setSetting } from "./model.ts";

const PREFIX = "net.inet.carp.";

type Handler = (value: number, at: SourceRef, sink: DiagnosticSink, layer: ConfigLayer) => void;

const flag =
  (key: "sysctl.allow" | "sysctl.preempt", name: string): Handler => (value, at, sink, layer) => {
    if (value !== 0 && value !== 1) sink.error(at, `${PREFIX}${name} must be 0 or 1, not ${value}`);
    else setSetting(layer, key, value === 1, at);
  };

const factor =
  (key: "sysctl.senderrDemotionFactor" | "sysctl.ifdownDemotionFactor"): Handler =>
  (value, at, sink, layer) => {
    if (value < 0) sink.error(at, `a demotion factor cannot be negative (${value})`);
    else setSetting(layer, key, value, at);
  };

/** The writable carp sysctls of the 5.x and 10+ kernels, by leaf name. */
const HANDLERS: Record<string, Handler> = {
  allow: flag("sysctl.allow", "allow"),
  preempt: flag("sysctl.preempt", "preempt"),
  log: (value, at, sink, layer) => {
    if (value < 0) sink.error(at, `${PREFIX}log cannot be negative (${value})`);
    else setSetting(layer, "sysctl.log", value, at);
  },
  demotion: (value, at, sink, layer) => {
    const { min, max } = LIMITS.demotion;
    const clamped = Math.min(max, Math.max(min, value));
    if (clamped !== value) {
      sink.warning(at, `${PREFIX}demotion ${value} is clamped to ${clamped} by the kernel`);
    }
    setSetting(layer, "sysctl.demotion", clamped, at);
  },
  senderr_demotion_factor: factor("sysctl.senderrDemotionFactor"),
  ifdown_demotion_factor: factor("sysctl.ifdownDemotionFactor"),
};

const WARNINGS: Record<string, string> = {
  arpbalance: "ARP load balancing (arpbalance) is not supported; ignored",
  suppress_preempt: "suppress_preempt is read-only; ignored",
  stats: "stats is read-only; ignored",
  dscp: "dscp is not supported; advertisements use the default DSCP",
};

export function parseSysctlConf(
  text: string,
  file: string,
  layer: ConfigLayer,
  sink: DiagnosticSink,
): void {
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/\r$/, "");
    const at = (column: number): SourceRef => ({ file, line: index + 1, column });
    const content = line.replace(/#.*$/, "");
    const start = content.search(/\S/);
    if (start < 0 || content[start] === ";") return;
    const eq = content.indexOf("=");
    if (eq < 0) {
      sink.error(at(start + 1), "expected 'name=value'", content.trim().length);
      return;
    }
    const name = content.slice(start, eq).trim();
    if (!name.startsWith(PREFIX)) return;
    const leaf = name.slice(PREFIX.length);
    const valueText = content.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
    const valueAt = at(content.indexOf(valueText, eq + 1) + 1);
    // Own keys only: `net.inet.carp.constructor` must not find Object.prototype's.
    if (Object.hasOwn(WARNINGS, leaf)) {
      sink.warning(at(start + 1), `${name}: ${WARNINGS[leaf]}`, name.length);
      return;
    }
    const handler = Object.hasOwn(HANDLERS, leaf) ? HANDLERS[leaf] : undefined;
    if (!handler) {
      sink.warning(at(start + 1), `unknown sysctl '${name}' ignored`, name.length);
      return;
    }
    if (!/^-?\d{1,9}$/.test(valueText)) {
      sink.error(valueAt, `${name} needs an integer, not '${valueText}'`, valueText.length || 1);
      return;
    }
    handler(Number(valueText), valueAt, sink, layer);
  });
}
