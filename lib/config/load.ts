/**
 * Reads the configuration files and returns the effective AgentConfig with
 * every diagnostic. Default files that are missing are fine (a Linux box has
 * no rc.conf); a file named explicitly that cannot be read is an error.
 */
import { type Diagnostic, DiagnosticSink, hasErrors, type SourceRef } from "./diagnostics.ts";
import { deriveHostid, MACHINE_ID_FILES } from "./hostid.ts";
import { COMMAND_LINE, mergeLayers } from "./merge.ts";
import {
  type AgentConfig,
  type ConfigLayer,
  emptyLayer,
  type LogFormat,
  type LogLevel,
  type LogTarget,
  type Provider,
  setSetting,
} from "./model.ts";
import { parseRcConf, type RcVariables } from "./rc_conf.ts";
import { rcToLayer } from "./rc_model.ts";
import { parseSysctlConf } from "./sysctl.ts";
import { validateConfig } from "./validate.ts";
import { parseYamlConfig } from "./yaml.ts";

export const DEFAULTS_RC_CONF = "/etc/defaults/rc.conf";
export const DEFAULT_RC_CONF_FILES = ["/etc/rc.conf", "/etc/rc.conf.local"];
export const DEFAULT_SYSCTL_FILES = ["/etc/sysctl.conf", "/etc/sysctl.conf.local"];
export const DEFAULT_YAML_FILE = "/usr/local/etc/pfsyncd.yaml";

/** Command-line flags of `run`; they win over every file. */
export interface ConfigOverrides {
  control?: string;
  pidfile?: string;
  provider?: Provider;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  logTarget?: LogTarget;
  hostid?: number;
}

export interface LoadOptions {
  rcFiles?: string[];
  sysctlFile?: string;
  yamlFile?: string;
  overrides?: ConfigOverrides;
  /** Injected in tests; defaults to Deno.readTextFile. */
  readFile?: (path: string) => Promise<string>;
  /** Files to derive the default hostid from; [] disables the derivation. */
  machineIdFiles?: readonly string[];
}

export interface LoadResult {
  /** Absent when any diagnostic is an error. */
  config?: AgentConfig;
  diagnostics: Diagnostic[];
  /** The text of every file read, for printing source lines under diagnostics. */
  texts: Map<string, string>;
}

const WHOLE_FILE = (file: string): SourceRef => ({ file, line: 0, column: 0 });

export async function loadConfig(opts: LoadOptions = {}): Promise<LoadResult> {
  const read = opts.readFile ?? Deno.readTextFile;
  const sink = new DiagnosticSink();
  const texts = new Map<string, string>();
  const readOne = async (file: string, required: boolean): Promise<string | undefined> => {
    try {
      const text = await read(file);
      texts.set(file, text);
      return text;
    } catch (error) {
      if (!required && error instanceof Deno.errors.NotFound) return undefined;
      const reason = error instanceof Deno.errors.NotFound
        ? "no such file"
        : error instanceof Error
        ? error.message
        : String(error);
      sink.error(WHOLE_FILE(file), `cannot read ${file}: ${reason}`);
      return undefined;
    }
  };

  const vars: RcVariables = new Map();
  const parseRc = (text: string, file: string, quiet: boolean) => {
    const local = new DiagnosticSink(quiet);
    parseRcConf(text, file, vars, local);
    sink.items.push(...local.items);
  };
  if (opts.rcFiles) {
    for (const file of opts.rcFiles) {
      const text = await readOne(file, true);
      if (text !== undefined) parseRc(text, file, false);
    }
  } else {
    // The system defaults hold shell functions users never edit: only errors count there.
    const defaults = await readOne(DEFAULTS_RC_CONF, false);
    if (defaults !== undefined) parseRc(defaults, DEFAULTS_RC_CONF, true);
    const listed = vars.get("rc_conf_files")?.value.split(/\s+/).filter((f) => f !== "");
    for (const file of listed ?? DEFAULT_RC_CONF_FILES) {
      const text = await readOne(file, false);
      if (text !== undefined) parseRc(text, file, false);
    }
  }
  const layers: ConfigLayer[] = [rcToLayer(vars, sink)];

  const sysctl = emptyLayer("sysctl.conf");
  for (const file of opts.sysctlFile ? [opts.sysctlFile] : DEFAULT_SYSCTL_FILES) {
    const text = await readOne(file, opts.sysctlFile !== undefined);
    if (text !== undefined) parseSysctlConf(text, file, sysctl, sink);
  }
  layers.push(sysctl);

  const named = opts.yamlFile ?? layers[0].settings["rcd.config"]?.value;
  const yamlFile = named ?? DEFAULT_YAML_FILE;
  const yamlText = await readOne(yamlFile, named !== undefined);
  if (yamlText !== undefined) {
    const layer = parseYamlConfig(yamlText, yamlFile, sink);
    if (layer) layers.push(layer);
  }
  if (opts.overrides) layers.push(overridesLayer(opts.overrides));

  const hostid = await deriveHostid(opts.machineIdFiles ?? MACHINE_ID_FILES, read);
  const { config, settings } = mergeLayers(layers, sink, hostid);
  const declaredInterfaces = new Set(layers.flatMap((l) => [...l.declaredInterfaces]));
  const fallback = WHOLE_FILE(opts.rcFiles?.[0] ?? yamlFile);
  validateConfig(config, { settings, declaredInterfaces, fallback }, sink);
  const diagnostics = sink.items;
  return hasErrors(diagnostics) ? { diagnostics, texts } : { config, diagnostics, texts };
}

export function overridesLayer(o: ConfigOverrides): ConfigLayer {
  const layer = emptyLayer(COMMAND_LINE);
  const at: SourceRef = { file: "<command line>", line: 0, column: 0 };
  if (o.control !== undefined) setSetting(layer, "control", o.control, at);
  if (o.pidfile !== undefined) setSetting(layer, "pidfile", o.pidfile, at);
  if (o.provider !== undefined) setSetting(layer, "provider", o.provider, at);
  if (o.logLevel !== undefined) setSetting(layer, "log.level", o.logLevel, at);
  if (o.logFormat !== undefined) setSetting(layer, "log.format", o.logFormat, at);
  if (o.logTarget !== undefined) setSetting(layer, "log.target", o.logTarget, at);
  if (o.hostid !== undefined) setSetting(layer, "hostid", o.hostid, at);
  return layer;
}
