export { type CodecResult, measureCodec, runPfsyncCodecBench } from "./codec.ts";
export { measureSync, type SyncBenchResult } from "./in_process.ts";
export { type PfsyncSyncBenchOptions, runPfsyncSyncBench } from "./sync.ts";
export {
  type BulkFigures,
  type GeneratedLiveFigures,
  type LiveFigures,
  measureBulk,
  measureLive,
  measureLiveGenerated,
} from "./lab_sync.ts";
export {
  type ConntrackdResync,
  measureConntrackdLive,
  measureConntrackdResync,
} from "./conntrackd.ts";
export { measureStateTable, runStateTableBench, type TableBenchResult } from "./table.ts";
