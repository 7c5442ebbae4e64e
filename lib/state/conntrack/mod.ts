/**
 * The Linux conntrack provider: ctnetlink events and dumps in, peer states
 * injected straight into the kernel table, LX1 mapping to pfsync records.
 */
export {
  type ApplyCounters,
  type ApplyOutcome,
  type ApplyResult,
  CtApplier,
  errnoText,
} from "./apply.ts";
export { isEnobufs, type NetlinkPort, RequestChannel } from "./channel.ts";
export {
  buildFilter,
  type ConntrackFilter,
  type ConntrackFilterConfig,
  DEFAULT_FILTER,
  filterEntry,
  type FilterVerdict,
} from "./filters.ts";
export {
  ctToState,
  LX1_TCP_FLAG_MASK,
  LX_FLAG_DOUBLE_NAT,
  LX_FLAG_HAS_LABELS,
  mirrorTuple,
  stateCtKey,
  stateTimeout,
  stateToCt,
  stateTuples,
  type ToCtOptions,
  type ToStateContext,
} from "./mapping.ts";
export {
  bootEpoch,
  ConntrackProvider,
  type ConntrackProviderOptions,
  type PortPurpose,
  type ReactorPort,
} from "./provider.ts";
export { type ConntrackStats, emptyStats } from "./stats.ts";
export {
  checkEventsSysctl,
  EVENTS_SYSCTL,
  type EventsCheck,
  procSysctl,
  type SysctlAccess,
} from "./sysctl.ts";
export { flowId, flowIdOf, type MirrorOptions, SyncMirror } from "./mirror.ts";
export { ctTcpToPf, pfTcpToCt, pfTimeoutFor } from "./tcp_states.ts";
export { encodeStateCreate, FAST_CREATE_MAX_BYTES, stateFlowKey } from "./lx1_fast.ts";
export { FlowStore } from "./flow_store.ts";
export { Sweeper, type SweeperOptions } from "./sweep.ts";
