export type {
  CarpStateName,
  CarpSysctls,
  CarpVhostConfig,
  DemotionMode,
  HmacOrder,
} from "./types.ts";
export { DEFAULT_SYSCTLS } from "./types.ts";
export {
  CARP_ADVERTISEMENT,
  CARP_AUTHLEN,
  CARP_DFLTTL,
  CARP_HEADER_LENGTH,
  CARP_PROTOCOL,
  CARP_VERSION,
  type CarpHeader,
  type CarpHeaderInit,
  decodeCarpHeader,
  encodeCarpHeader,
  readCarpHeader,
} from "./header.ts";
export {
  CARP_PASSPHRASE_MAX,
  CarpAuthenticator,
  carpHmac,
  carpHmacMessage,
  carpKey,
  hmacAddresses,
  passphraseTruncated,
} from "./hmac.ts";
export {
  advertisementIntervalMs,
  CARP_BOWOUT,
  CARP_MAXSKEW,
  compareTiming,
  demotionMode,
  effectiveAdvskew,
  isBowOut,
  masterDownIntervalMs,
  skewUs,
  type Timing,
} from "./timing.ts";
export {
  adjustDemotion,
  type Demotion,
  type DemotionEntry,
  type DemotionReason,
  demotionTotal,
  describeDemotion,
  healDemotion,
  NO_DEMOTION,
} from "./demotion.ts";
export {
  CARP_COUNTERS,
  type CarpCounter,
  type CarpStats,
  formatCarpStats,
  isCarpCounter,
  newCarpStats,
} from "./stats.ts";
export {
  type CarpEffect,
  type CarpEvent,
  type CarpMachine,
  type FsmSettings,
  initialMachine,
  nextDeadline,
  type PeerAdvertisement,
  type StepResult,
  type TransitionCause,
} from "./fsm_types.ts";
export { SENDAD_MAX_ERRORS, SENDAD_MIN_SUCCESS, step } from "./fsm.ts";
export {
  countReceived,
  fromIPv4Datagram,
  type ReceiveContext,
  type ReceivedPacket,
  type ReceiveOutcome,
  type ReceiverVhost,
  validateCarpPacket,
} from "./receive.ts";
export { formatDrop, formatTransition, formatVhostMessage } from "./log.ts";
export { demotionAmount, fsmSettings, vhostFamilies, type VhostOptions } from "./settings.ts";
export {
  describeHookResult,
  hookEnvironment,
  type HookJob,
  HookQueue,
  type HookQueueOptions,
  type HookResult,
  hookScriptsFor,
  transitionHookJob,
} from "./hooks.ts";
export { type CarpPorts, type TransitionInfo, VirtualHost } from "./vhost.ts";
export { CarpHost, type CarpHostPorts, type VhostStatus } from "./host.ts";
export { AdvertCounter, buildAdvertisement, cryptoRandom64 } from "./advert.ts";
export { LOG_DEBUG, LOG_ERROR, LOG_STATE, type LogLevel, shouldLog } from "./log.ts";
export { carpVirtualMac, ucarpAdvertisementMac } from "./vmac.ts";
export { type CarpClock, systemClock } from "./clock.ts";
