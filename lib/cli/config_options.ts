/**
 * The configuration flags every command that loads the configuration shares
 * (`-f`, `-s`, `-c`), the overrides `run` adds, and the printing of
 * diagnostics with their source lines. Commands call these instead of
 * re-declaring the flags, so they read the same everywhere.
 */
import { type Command, Option } from "commander";
import {
  type AgentConfig,
  type ConfigOverrides,
  type Diagnostic,
  formatDiagnostic,
  type LoadOptions,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
  type Provider,
  PROVIDERS,
} from "../config/mod.ts";

/** The option values commander produces for addConfigOptions/addOverrideOptions. */
export interface ConfigFlags {
  rcConf?: string[];
  sysctlConf?: string;
  config?: string;
  control?: string;
  pidfile?: string;
  provider?: string;
  logLevel?: string;
  logFormat?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addConfigOptions(command: Command): Command {
  return command
    .option(
      "-f, --rc-conf <file>",
      "rc.conf file to read (repeatable; replaces /etc/defaults/rc.conf, /etc/rc.conf, " +
        "/etc/rc.conf.local)",
      collect,
    )
    .option("-s, --sysctl-conf <file>", "sysctl.conf file (default /etc/sysctl.conf)")
    .option("-c, --config <file>", "pfsyncd YAML file (default /usr/local/etc/pfsyncd.yaml)");
}

/** The flags `run` adds on top of the files; they win over the YAML file and rc.conf. */
export function addOverrideOptions(command: Command): Command {
  return command
    .option("--control <path>", "control socket path")
    .option("--pidfile <path>", "pid file path")
    .addOption(new Option("--provider <name>", "state provider").choices(PROVIDERS))
    .addOption(new Option("--log-level <level>", "log level").choices(LOG_LEVELS))
    .addOption(new Option("--log-format <format>", "log format").choices(LOG_FORMATS));
}

export function overridesFromFlags(flags: ConfigFlags): ConfigOverrides {
  const o: ConfigOverrides = {};
  if (flags.control !== undefined) o.control = flags.control;
  if (flags.pidfile !== undefined) o.pidfile = flags.pidfile;
  if (flags.provider !== undefined) o.provider = flags.provider as Provider;
  if (flags.logLevel !== undefined) o.logLevel = flags.logLevel as LogLevel;
  if (flags.logFormat !== undefined) o.logFormat = flags.logFormat as LogFormat;
  return o;
}

/** loadConfig arguments for the parsed flags (overrides included when present). */
export function loadOptionsFromFlags(flags: ConfigFlags): LoadOptions {
  const opts: LoadOptions = {};
  if (flags.rcConf && flags.rcConf.length > 0) opts.rcFiles = flags.rcConf;
  if (flags.sysctlConf !== undefined) opts.sysctlFile = flags.sysctlConf;
  if (flags.config !== undefined) opts.yamlFile = flags.config;
  const overrides = overridesFromFlags(flags);
  if (Object.keys(overrides).length > 0) opts.overrides = overrides;
  return opts;
}

/** A copy of `config` with the command-line overrides applied (for reloads). */
export function applyOverrides(config: AgentConfig, flags: ConfigFlags): AgentConfig {
  const o = overridesFromFlags(flags);
  return {
    ...config,
    control: o.control ?? config.control,
    pidfile: o.pidfile ?? config.pidfile,
    provider: o.provider ?? config.provider,
    log: {
      ...config.log,
      level: o.logLevel ?? config.log.level,
      format: o.logFormat ?? config.log.format,
    },
  };
}

/** Every diagnostic with its source line and caret, one blank line apart. */
export function formatDiagnostics(
  diagnostics: readonly Diagnostic[],
  texts: ReadonlyMap<string, string>,
): string {
  return diagnostics.map((d) => formatDiagnostic(d, texts.get(d.file))).join("\n");
}

export function summary(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${plural(errors, "error")}, ${plural(warnings, "warning")}`;
}
