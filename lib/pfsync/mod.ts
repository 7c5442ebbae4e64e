export * from "./header.ts";
export * from "./records.ts";
export { actionName, ACTIONS, type ActionSpec, type CountRule, recordCount } from "./actions.ts";
export {
  checkFrame,
  type DecodedFrame,
  decodeFrame,
  encodeFrame,
  frameLength,
  maxRecordsForMtu,
  PFSYNC_IF_MTU,
  type PfsyncMessage,
} from "./frame.ts";
export { type IPv4Envelope, unwrapIPv4, wrapIPv4 } from "./ip.ts";
export {
  formatPfsyncStats,
  isPfsyncCounter,
  newPfsyncStats,
  PFSYNC_COUNTERS,
  type PfsyncCounter,
  type PfsyncStats,
} from "./stats.ts";
export { type Outgoing, PfsyncSender, type SenderOptions } from "./sender.ts";
export { judgeCompressedUpdate, judgeFullUpdate, seqAfter, type StaleVerdict } from "./stale.ts";
export {
  PfsyncReceiver,
  type ReceiveMeta,
  type ReceiverDeps,
  type ReceiveResult,
  type ReceiveVerdict,
} from "./receiver.ts";
export {
  type BulkEffect,
  type BulkOutcome,
  BulkRequester,
  type BulkRequesterOptions,
  type BulkRequesterStatus,
  BulkResponder,
  type BulkResponderOptions,
  HOLD_REASON,
} from "./bulk.ts";
export {
  AUTH_MAGIC,
  AUTH_TRAILER_SIZE,
  type AuthMode,
  type AuthOptions,
  type AuthVerdict,
  parseAuthKey,
  PfsyncAuth,
  readAuthKeyFile,
} from "./auth.ts";
export {
  formatPfsyncLine,
  PfsyncEngine,
  type PfsyncEngineConfig,
  type PfsyncPorts,
  type PfsyncStatus,
} from "./engine.ts";
export { Pacer, type PacerOptions } from "./pacer.ts";
export {
  decodeSeqTrailer,
  type DueNack,
  encodeSeqTrailer,
  type RepairTiming,
  SEQ_MAGIC,
  SEQ_MAX_SENDERS,
  SEQ_RESET_JUMP,
  SEQ_TRAILER_SIZE,
  SEQ_WINDOW,
  type SeqObservation,
  type SeqTrailer,
  SequenceCounter,
  SequenceTracker,
} from "./sequence.ts";
export { type HealOptions, HealScheduler } from "./heal.ts";
export {
  decodeNackPacket,
  decodeRepaired,
  describeTrailing,
  encodeNack,
  encodeRepaired,
  hasMagicAt,
  looksLikeNack,
  MAX_REPAIR_RANGES,
  type Nack,
  NACK_MAGIC,
  REPAIRED_MAGIC,
  type RepairedRange,
  type SeqRange,
} from "./repair_wire.ts";
export { type LookupResult, RepairLog, seqAdd } from "./repair_log.ts";
