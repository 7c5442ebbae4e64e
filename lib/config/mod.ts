/**
 * Configuration: rc.conf, sysctl.conf and pfsyncd.yaml → AgentConfig, with
 * diagnostics that name file, line and column.
 */
export type { Diagnostic, Severity, SourceRef } from "./diagnostics.ts";
export { DiagnosticSink, formatDiagnostic, formatSourceRef, hasErrors } from "./diagnostics.ts";
export type {
  AgentConfig,
  CarpState,
  CarpVhostConfig,
  ConntrackConfig,
  InterfaceConfig,
  LogFormat,
  LogLevel,
  LogTarget,
  PfsyncConfig,
  Provider,
  RcdConfig,
  SysctlConfig,
} from "./model.ts";
export {
  DEFAULT_CONTROL,
  DEFAULT_MAXUPD,
  DEFAULT_PIDFILE,
  LIMITS,
  LOG_FORMATS,
  LOG_LEVELS,
  LOG_TARGETS,
  PROVIDERS,
} from "./model.ts";
export type { ConfigOverrides, LoadOptions, LoadResult } from "./load.ts";
export {
  DEFAULT_RC_CONF_FILES,
  DEFAULT_SYSCTL_FILES,
  DEFAULT_YAML_FILE,
  DEFAULTS_RC_CONF,
  loadConfig,
} from "./load.ts";
export { configToJson, configToPlain, configToYaml } from "./print.ts";
export type { PrintOptions } from "./print.ts";
export { deriveHostid, hostidFromMachineId } from "./hostid.ts";
export { parseRcConf, splitWords } from "./rc_conf.ts";
export type { RcAssignment, RcVariables, RcWord } from "./rc_conf.ts";
export { parseIfconfig } from "./ifconfig.ts";
export { MASKED_SECRET, parseYamlConfig } from "./yaml.ts";
