/**
 * CARP (spec carp.md): codec, HMAC, timing, the pure election machine and
 * its driver. Wiring for the agent: one `CarpHost` per process with the
 * sysctls; `host.addVhost(config, ports)` per vhid, where `ports` sends the
 * 36-byte header to 224.0.0.18 / ff02::12 (TTL 255, TOS 0x10), changes
 * addresses, sends GARP/NA, queues hooks (`HookQueue` + `transitionHookJob`)
 * and uses `systemClock`; then `host.start()`. Feed it `receiveIPv4(datagram,
 * iface)` / `receive(packet)`, `linkChanged(parent, up)`,
 * `setBulkUpdatePending()` from pfsync and `adjust("operator", …)` from the
 * control socket; `await host.shutdown()` on SIGTERM.
 */
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
  CARP_GROUP_MAC_V4,
  CARP_GROUP_MAC_V6,
  CARP_GROUP_V4,
  CARP_GROUP_V6,
  CARP_HEADER_LENGTH,
  CARP_PROTOCOL,
  CARP_TOS,
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
export { type CarpClock, carpClockFrom, type DeadlineClock, systemClock } from "./clock.ts";
