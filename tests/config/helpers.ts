/** Shared fixtures for the config tests: an in-memory file system and compact diagnostics. */
import {
  type Diagnostic,
  DiagnosticSink,
  loadConfig,
  type LoadOptions,
} from "../../lib/config/mod.ts";
import { parseRcConf, type RcVariables } from "../../lib/config/rc_conf.ts";
import { rcToLayer } from "../../lib/config/rc_model.ts";

/** `file:line:column severity: message`, easy to compare in tables. */
export function brief(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column} ${d.severity}: ${d.message}`;
}

/** A readFile over a record; missing paths throw NotFound like Deno.readTextFile. */
export function memoryFs(files: Record<string, string>): (path: string) => Promise<string> {
  return (path) => {
    if (path in files) return Promise.resolve(files[path]);
    return Promise.reject(new Deno.errors.NotFound(`No such file or directory: ${path}`));
  };
}

/** loadConfig over in-memory files with the hostid derivation switched off. */
export function loadFrom(files: Record<string, string>, opts: LoadOptions = {}) {
  return loadConfig({ readFile: memoryFs(files), machineIdFiles: [], ...opts });
}

/** Parses rc.conf text into variables and a layer, collecting diagnostics. */
export function rcFrom(text: string, file = "rc.conf") {
  const sink = new DiagnosticSink();
  const vars: RcVariables = new Map();
  parseRcConf(text, file, vars, sink);
  const layer = rcToLayer(vars, sink);
  return { vars, layer, diagnostics: sink.items.map(brief) };
}

/** True when some diagnostic starts with `prefix` and contains `fragment`. */
export function hasDiagnostic(list: readonly string[], prefix: string, fragment: string): boolean {
  return list.some((d) => d.startsWith(prefix) && d.includes(fragment));
}
