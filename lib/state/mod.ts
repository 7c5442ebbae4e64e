export * from "./types.ts";
export { decodeStateRecord, encodeStateRecord, STATE_RECORD_SIZE } from "./record.ts";
export {
  type FlowKey,
  type Origin,
  type StatePatch,
  StateTable,
  type StateTableOptions,
  type TableEvent,
  type TableListener,
} from "./table.ts";
export {
  connectProvider,
  type PeerChange,
  type ProviderChange,
  type ProviderLink,
  type StateProvider,
} from "./provider.ts";
export {
  GENERATE_BATCH,
  type GenerateOptions,
  type GenerateResult,
  type ImportResult,
  MemoryProvider,
  type MemoryProviderOptions,
  type StateLookup,
} from "./memory.ts";
export {
  createIdGenerator,
  formatEndpoint,
  type JsonDefaults,
  parseEndpoint,
  StateFormatError,
  stateFromJson,
  stateToJson,
} from "./json.ts";
export {
  expiresIn,
  formatDuration,
  formatPeerStates,
  formatStateLine,
  formatStates,
  formatStateVerbose,
} from "./format.ts";
export {
  establishedPeer,
  establishedTcpState,
  generatedState,
  type SyntheticTcpState,
} from "./synthetic.ts";
export { digestRecords, DigestSum, digestTable, type TableDigest } from "./digest.ts";
