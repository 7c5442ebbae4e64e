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
export {
  configToJson,
  configToYaml,
  formatDiagnostic,
  hasErrors,
  loadConfig,
} from "./lib/config/mod.ts";
export type {
  AgentConfig,
  CarpVhostConfig as ConfigCarpVhost,
  ConfigOverrides,
  Diagnostic,
  LoadOptions,
  PfsyncConfig,
  SourceRef,
  SysctlConfig,
} from "./lib/config/mod.ts";
export {
  ctCreateRequest,
  ctDeleteRequest,
  ctDumpRequest,
  ctEventKind,
  ctFlushRequest,
  ctGetRequest,
  ctTupleKey,
  ctUpdateRequest,
  decodeCtMessage,
  decodeCtNlMessage,
  encodeCtMessage,
} from "./lib/netlink/ctnetlink.ts";
export type { CtEntry, CtEventKind, CtMessage, CtTuple } from "./lib/netlink/ct_types.ts";
export {
  buildFilter as buildConntrackFilter,
  checkEventsSysctl,
  ConntrackProvider,
  ctToState,
  filterEntry as filterConntrackEntry,
  stateToCt,
} from "./lib/state/conntrack/mod.ts";
export type {
  ConntrackFilter,
  ConntrackFilterConfig,
  ConntrackProviderOptions,
  ConntrackStats,
} from "./lib/state/conntrack/mod.ts";
export {
  classifyNlMessage,
  decodeAddrMessage,
  decodeAttributes,
  decodeLinkMessage,
  decodeNlMsgHeader,
  encodeAddressRequest,
  encodeAttributes,
  encodeNlMsg,
  splitNlMessages,
} from "./lib/netlink/mod.ts";
export type {
  AttrTable,
  DecodedAttrs,
  NlMessage,
  NlMsgHeader,
  NlReply,
} from "./lib/netlink/mod.ts";
export {
  addAddress,
  findInterfaceForAddress,
  interfaceByName,
  listInterfaces,
  removeAddress,
  watchLinks,
} from "./lib/sys/mod.ts";
export type { Interface, InterfaceAddress, LinkEvent, LinkWatcher } from "./lib/sys/mod.ts";
export {
  BulkRequester,
  BulkResponder,
  decodeFrame,
  encodeFrame,
  formatPfsyncStats,
  maxRecordsForMtu,
  newPfsyncStats,
  PfsyncAuth,
  PfsyncEngine,
  PfsyncReceiver,
  PfsyncSender,
  readAuthKeyFile,
  unwrapIPv4,
  wrapIPv4,
} from "./lib/pfsync/mod.ts";
export type {
  AuthMode,
  Outgoing,
  PfsyncEngineConfig,
  PfsyncMessage,
  PfsyncPorts,
  PfsyncStats,
  PfsyncStatus,
  ReceiveMeta,
  ReceiveVerdict,
} from "./lib/pfsync/mod.ts";
export {
  connectProvider,
  decodeStateRecord,
  encodeStateRecord,
  formatStateLine,
  formatStates,
  formatStateVerbose,
  MemoryProvider,
  StateFormatError,
  stateFromJson,
  StateTable,
  stateToJson,
} from "./lib/state/mod.ts";
export type {
  Origin,
  PeerChange,
  ProviderChange,
  State,
  StateKey,
  StateProvider,
  TableEvent,
} from "./lib/state/mod.ts";
export {
  decodeArp,
  decodeEthernetHeader,
  decodeIPv4Header,
  decodeNeighborAdvertisement,
  encodeArp,
  encodeEthernetHeader,
  encodeGratuitousArpFrame,
  encodeIPv4Header,
  encodeNeighborAdvertisement,
  unsolicitedNeighborAdvertisement,
} from "./lib/net/mod.ts";
export type {
  ArpPacket,
  EthernetHeader,
  IPv4Header,
  NeighborAdvertisement,
} from "./lib/net/mod.ts";
export {
  NeighborAdvertiser,
  NetlinkSocket,
  PacketSocket,
  RawIPv4Socket,
  RawIPv6Socket,
  Reactor,
  SysError,
} from "./lib/sys/mod.ts";
export type {
  NetlinkSocketOptions,
  RawSocketOptions,
  ReactorOptions,
  ReceivedIPv4Packet,
  ReceivedPacket,
} from "./lib/sys/mod.ts";
