export {
  CONTROL_SOCKET_MODE,
  ControlError,
  DEFAULT_CONTROL_PATH,
  encodeLine,
  MAX_REQUEST_BYTES,
  parseRequest,
  parseResponse,
  STREAM_METHODS,
  UNARY_METHODS,
} from "./protocol.ts";
export type {
  ControlErrorBody,
  ControlHandlers,
  DemoteParams,
  ErrorCode,
  FlowKey,
  MaintenanceParams,
  Method,
  ReloadResult,
  Request,
  RequestContext,
  RequestId,
  Response,
  ResyncResult,
  StatesDeleteParams,
  StatesDeleteResult,
  StatesDigestResult,
  StatesGenerateParams,
  StatesGenerateResult,
  StatesImportParams,
  StatesImportResult,
  StatesParams,
  StatesResult,
  StreamMethod,
  StreamMethods,
  UnaryMethod,
  UnaryMethods,
} from "./protocol.ts";
export type {
  BulkPhase,
  BulkStatus,
  CarpStateName,
  CarpVhidStatus,
  Counters,
  DemotionReason,
  DemotionStatus,
  PfsyncStatus,
  StatePeerView,
  StateView,
  StatusResult,
  WatchEvent,
} from "./types.ts";
export {
  type Endpoint,
  FLOW_PROTOCOLS,
  formatEndpoint,
  formatFlow,
  normalizeFlow,
  normalizeProto,
  parseEndpoint,
  parseFlow,
} from "./flow.ts";
export { isKnownMethod, normalizeHexId, validateParams } from "./validate.ts";
export { LineTooLongError, readLines } from "./lines.ts";
export { ControlSocketInUseError, prepareSocketPath, socketIsLive } from "./socket_path.ts";
export { type ControlServer, type ControlServerOptions, startControlServer } from "./server.ts";
export {
  AgentNotRunningError,
  AgentTimeoutError,
  callAgent,
  ControlClient,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from "./client.ts";
export {
  PFSYNC_DEFAULT_PEER,
  renderBulk,
  renderCarpCounters,
  renderCounters,
  renderDemotion,
  renderPfsyncCounters,
  renderState,
  renderStateLine,
  renderStatus,
  renderWatchEvent,
} from "./render.ts";
export { DEFAULT_WATCH_QUEUE, WatchHub } from "./watch_hub.ts";
