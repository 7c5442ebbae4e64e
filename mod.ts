/**
 * pfsyncd's public library API, re-exported by explicit name so that
 * embedding programs get a stable surface.
 */
export {
  ByteReader,
  ByteWriter,
  DecodeError,
  fromHex,
  internetChecksum,
  toHex,
} from "./lib/bytes/mod.ts";
export {
  cidrContains,
  formatAddress,
  formatCidr,
  parseAddress,
  parseCidr,
  parseIPv4,
  parseIPv6,
} from "./lib/net/mod.ts";
export type { Cidr, Family } from "./lib/net/mod.ts";
export { VERSION } from "./lib/version.ts";
export {
  CarpAuthenticator,
  CarpHost,
  decodeCarpHeader,
  encodeCarpHeader,
  formatCarpStats,
  formatTransition,
  HookQueue,
  step as carpStep,
  VirtualHost,
} from "./lib/carp/mod.ts";
export type {
  CarpHostPorts,
  CarpPorts,
  CarpStateName,
  CarpSysctls,
  CarpVhostConfig,
} from "./lib/carp/mod.ts";
export {
  AgentNotRunningError,
  callAgent,
  ControlClient,
  ControlError,
  ControlSocketInUseError,
  DEFAULT_CONTROL_PATH,
  parseFlow,
  renderStatus,
  startControlServer,
} from "./lib/control/mod.ts";
export type {
  ControlHandlers,
  ControlServer,
  FlowKey,
  RequestContext,
  StateView,
  StatusResult,
  WatchEvent,
} from "./lib/control/mod.ts";
export { createLogger, openLog } from "./lib/agent/log.ts";
export type { Logger, LogLevel } from "./lib/agent/log.ts";
export { renderMetrics, serveMetrics } from "./lib/agent/metrics.ts";
